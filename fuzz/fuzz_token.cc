// Our code around libjwt (server/token_verifier.cc, server/token_key.cc):
//  - the first byte picks a mode;
//  - 0: the rest is the authorization metadata, checked against a fixed
//    HS256 key;
//  - 1: the rest is a claims JSON object, signed with that key by libjwt, so
//    that the claim checks (exp, nbf, sub, rooms) are reached;
//  - 2: the rest is a key file (secret or PEM) for verifying and for signing.
#include <jwt.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "server/token_key.h"
#include "server/token_verifier.h"

namespace {

constexpr std::string_view kSecret = "fuzzing-secret-of-at-least-32-bytes!";
constexpr std::int64_t kNow = 1'800'000'000;

const chat::TokenVerifier& Verifier() {
  static const chat::TokenVerifier* verifier = [] {
    std::string error;
    auto key = chat::TokenKey::FromBytes(std::string(kSecret), chat::TokenKey::Use::kVerify,
                                         "the fuzzing key", &error);
    if (!key) std::abort();
    return new chat::TokenVerifier(std::move(key));  // never freed: used until exit
  }();
  return *verifier;
}

void Verify(std::string_view authorization) {
  const auto verdict = Verifier().Verify(authorization, kNow);
  if (const auto* identity = std::get_if<chat::TokenIdentity>(&verdict)) {
    // Only a valid name passes as the subject.
    if (identity->subject.empty() || identity->subject.size() > 32) std::abort();
  }
}

void SignAndVerify(const std::string& claims) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return;
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
  if (jwt_add_grants_json(jwt.get(), claims.c_str()) != 0) return;
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(kSecret.data()),
                  static_cast<int>(kSecret.size())) != 0) {
    return;
  }
  char* token = jwt_encode_str(jwt.get());
  if (token == nullptr) return;
  const std::string authorization = std::string("Bearer ") + token;
  free(token);  // NOLINT: libjwt's allocation
  Verify(authorization);
}

void ReadKey(const std::string& bytes) {
  for (const auto use : {chat::TokenKey::Use::kVerify, chat::TokenKey::Use::kSign}) {
    std::string error;
    const auto key = chat::TokenKey::FromBytes(bytes, use, "the fuzzed key", &error);
    if (key == nullptr ? error.empty() : key->algorithms().empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      Verify(rest);
      break;
    case 1:
      // Strings with NUL bytes cannot be claims: libjwt takes C strings.
      if (rest.find('\0') == std::string::npos) SignAndVerify(rest);
      break;
    default:
      ReadKey(rest);
      break;
  }
  return 0;
}
