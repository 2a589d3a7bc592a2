#include "server/token_key.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>

#include "common/small_file.h"

namespace chat {
namespace {

// Longer keys or key files than this are not keys.
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
constexpr std::size_t kMinSecretBytes = 32;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey ReadPem(const std::string& pem, TokenKey::Use use) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  EVP_PKEY* key = use == TokenKey::Use::kVerify
                      ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr)
                      : PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return Pkey(key);
}

}  // namespace

std::unique_ptr<TokenKey> TokenKey::FromFile(const std::string& path, Use use, std::string* error) {
  auto bytes = ReadSmallFile(path, "the key file", kMaxKeyFileBytes, error);
  if (!bytes) return nullptr;
  return FromBytes(std::move(*bytes), use, path, error);
}

std::unique_ptr<TokenKey> TokenKey::FromBytes(std::string bytes, Use use, const std::string& source,
                                              std::string* error) {
  if (bytes.size() > kMaxKeyFileBytes) {
    *error = source + " is too big for a key (over 64 KiB)";
    return nullptr;
  }
  if (bytes.find("-----BEGIN ") == std::string::npos) {
    while (!bytes.empty() && std::strchr(" \t\r\n", bytes.back()) != nullptr) bytes.pop_back();
    if (bytes.size() < kMinSecretBytes) {
      *error = source + " holds a secret of " + std::to_string(bytes.size()) +
               " bytes; an HMAC secret needs at least 32 (e.g. openssl rand -base64 48 > FILE)";
      return nullptr;
    }
    return std::unique_ptr<TokenKey>(new TokenKey(
        std::move(bytes), {JWT_ALG_HS256, JWT_ALG_HS384, JWT_ALG_HS512}, "an HMAC secret"));
  }
  const bool is_private = bytes.find("PRIVATE KEY-----") != std::string::npos;
  if (use == Use::kVerify && is_private) {
    *error = source + " is a private key; the server needs only the public key (openssl pkey -in " +
             source + " -pubout)";
    return nullptr;
  }
  const Pkey key = ReadPem(bytes, use);
  if (!key) {
    *error = source + " is not a PEM " + (use == Use::kVerify ? "public key" : "private key") +
             " OpenSSL can read";
    return nullptr;
  }
  const char* kind = use == Use::kVerify ? " public key" : " private key";
  switch (EVP_PKEY_base_id(key.get())) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key.get()) < 2048) {
        *error = source + " is an RSA key of fewer than 2048 bits";
        return nullptr;
      }
      return std::unique_ptr<TokenKey>(new TokenKey(std::move(bytes),
                                                    {JWT_ALG_RS256, JWT_ALG_RS384, JWT_ALG_RS512},
                                                    std::string("an RSA") + kind));
    case EVP_PKEY_EC: {
      // Each ES algorithm names its curve: P-256, P-384 or P-521.
      const int bits = EVP_PKEY_get_bits(key.get());
      const jwt_alg_t alg = bits == 256   ? JWT_ALG_ES256
                            : bits == 384 ? JWT_ALG_ES384
                            : bits == 521 ? JWT_ALG_ES512
                                          : JWT_ALG_INVAL;
      if (alg == JWT_ALG_INVAL) {
        *error = source +
                 " is an EC key on a curve JWT has no algorithm for (P-256, P-384 or "
                 "P-521 are)";
        return nullptr;
      }
      return std::unique_ptr<TokenKey>(
          new TokenKey(std::move(bytes), {alg}, std::string("an EC") + kind));
    }
    default:
      *error = source + " is neither an RSA nor an EC key";
      return nullptr;
  }
}

bool TokenKey::Allows(jwt_alg_t alg) const {
  return std::find(algorithms_.begin(), algorithms_.end(), alg) != algorithms_.end();
}

}  // namespace chat
