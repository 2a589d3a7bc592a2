#include "server/token_verifier.h"

#include <jansson.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>

#include "common/text_rules.h"

namespace chat {
namespace {

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
struct JsonFree {
  void operator()(json_t* json) const { json_decref(json); }
};
using Json = std::unique_ptr<json_t, JsonFree>;

// The claim `name` parsed as JSON, or null when the token has none.
Json Claim(jwt_t* jwt, const char* name) {
  char* text = jwt_get_grants_json(jwt, name);
  if (text == nullptr) return nullptr;
  json_error_t error;
  Json value(json_loads(text, JSON_DECODE_ANY, &error));
  free(text);  // NOLINT: libjwt's allocation
  return value;
}

std::string FormatUtc(std::int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  // Beyond the years a struct tm holds (a claim near the int64 ends).
  if (gmtime_r(&time, &utc) == nullptr) return std::to_string(unix_seconds) + " (Unix time)";
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

bool IsBase64Url(std::string_view part) {
  return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// header.payload.signature, each base64url: what libjwt is given at all.
bool LooksLikeJwt(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return false;
  }
  return IsBase64Url(token.substr(0, first)) &&
         IsBase64Url(token.substr(first + 1, second - first - 1)) &&
         IsBase64Url(token.substr(second + 1));
}

std::optional<std::int64_t> WholeSeconds(const json_t* value) {
  if (json_is_integer(value)) return json_integer_value(value);
  // RFC 7519 NumericDate may have a fraction. A double beyond int64's range
  // (1e300) cannot be converted (undefined behaviour): clamp it first; either
  // end is as good as never (or always).
  if (json_is_real(value)) {
    const double seconds = json_real_value(value);
    if (std::isnan(seconds)) return std::nullopt;
    constexpr double kLimit = 9.2e18;  // just inside int64's ±9.22e18
    return static_cast<std::int64_t>(std::clamp(seconds, -kLimit, kLimit));
  }
  return std::nullopt;
}

// a + b, clamped to int64's range: the leeway added to a claim at the int64
// ends must not overflow (undefined behaviour, and a wrapped `exp` would
// read as long expired, a wrapped `nbf` as valid since forever).
std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

}  // namespace

std::variant<TokenIdentity, TokenRefusal> TokenVerifier::Verify(
    std::optional<std::string_view> authorization, std::int64_t now_unix) const {
  if (!authorization) {
    return TokenRefusal{
        "this server needs a signed token: send metadata 'authorization: Bearer <token>' "
        "(chat-client --token-file FILE, or CHAT_TOKEN)",
        "no token"};
  }
  constexpr std::string_view kScheme = "bearer ";
  std::string_view value = *authorization;
  if (value.size() > kMaxTokenBytes) {
    return TokenRefusal{"the authorization metadata is too long (over 8 KiB)", "token too long"};
  }
  if (value.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), value.begin(),
                  [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); })) {
    return TokenRefusal{"the authorization metadata must be 'Bearer <token>'",
                        "not a bearer token"};
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (!LooksLikeJwt(value)) {
    return TokenRefusal{"the token is malformed: a JWT is three base64url parts joined by dots",
                        "malformed token"};
  }

  const std::string token(value);
  jwt_t* raw = nullptr;
  const std::string& key = key_->bytes();
  const int failed =
      jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                 static_cast<int>(key.size()));
  std::unique_ptr<jwt_t, JwtFree> jwt(raw);
  if (failed != 0 || !jwt) {
    return TokenRefusal{"the token is malformed or not signed with this server's key",
                        "bad signature or malformed token"};
  }
  // libjwt verifies with whatever algorithm the token names: only the key's
  // own may pass (an "HS256" token made with a public key as the secret, or
  // "none", must not).
  const jwt_alg_t alg = jwt_get_alg(jwt.get());
  if (!key_->Allows(alg)) {
    return TokenRefusal{std::string("the token is signed with ") + jwt_alg_str(alg) +
                            ", which this server's key (" + key_->description() + ") is not for",
                        "wrong algorithm"};
  }

  TokenIdentity identity;
  const Json exp = Claim(jwt.get(), "exp");
  const std::optional<std::int64_t> expires = WholeSeconds(exp.get());
  if (!expires) {
    return TokenRefusal{
        "the token has no expiry time (exp); this server takes only tokens that "
        "expire",
        "no exp"};
  }
  if (SaturatingAdd(*expires, kLeewaySeconds) <= now_unix) {
    return TokenRefusal{"the token expired at " + FormatUtc(*expires) + "; get a new one",
                        "expired"};
  }
  identity.expires_unix = *expires;
  if (const Json nbf = Claim(jwt.get(), "nbf")) {
    const std::optional<std::int64_t> not_before = WholeSeconds(nbf.get());
    if (!not_before) return TokenRefusal{"the token's nbf is not a time", "bad nbf"};
    if (SaturatingAdd(*not_before, -kLeewaySeconds) > now_unix) {
      return TokenRefusal{"the token is not valid before " + FormatUtc(*not_before),
                          "not yet valid"};
    }
  }

  const Json sub = Claim(jwt.get(), "sub");
  if (!json_is_string(sub.get())) {
    return TokenRefusal{"the token names no user (sub)", "no sub"};
  }
  identity.subject.assign(json_string_value(sub.get()), json_string_length(sub.get()));
  if (auto problem = CheckName(identity.subject)) {
    return TokenRefusal{"the token's user name (sub) is not valid: " + *problem, "bad sub"};
  }

  if (const Json rooms = Claim(jwt.get(), "rooms")) {
    if (!json_is_array(rooms.get()) || json_array_size(rooms.get()) > kMaxRooms) {
      return TokenRefusal{"the token's rooms claim must be a list of at most 1000 room names",
                          "bad rooms"};
    }
    identity.rooms.emplace();
    std::size_t index = 0;
    json_t* room = nullptr;
    json_array_foreach(rooms.get(), index, room) {
      if (!json_is_string(room)) {
        return TokenRefusal{"the token's rooms claim must hold only room names", "bad rooms"};
      }
      std::string error;
      std::string name = NormalizeRoom(
          std::string_view(json_string_value(room), json_string_length(room)), &error);
      if (name.empty()) {
        return TokenRefusal{"the token's rooms claim has an invalid room: " + error, "bad rooms"};
      }
      identity.rooms->push_back(std::move(name));
    }
  }
  return identity;
}

}  // namespace chat
