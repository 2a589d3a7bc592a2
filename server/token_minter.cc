#include "server/token_minter.h"

#include <jansson.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cxxopts.hpp>
#include <memory>

#include "common/options.h"
#include "common/text_rules.h"

namespace chat {
namespace {

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};

// "90", "90s", "30m", "24h", "7d": a positive duration in seconds, or nullopt.
std::optional<std::int64_t> ParseTtl(const std::string& text) {
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (error != std::errc() || count <= 0) return std::nullopt;
  const std::string unit(end, text.data() + text.size());
  const std::int64_t scale = unit == "" || unit == "s" ? 1
                             : unit == "m"             ? 60
                             : unit == "h"             ? 3600
                             : unit == "d"             ? 86400
                                                       : 0;
  if (scale == 0 || count > 10 * 365 * 86400 / scale) return std::nullopt;
  return count * scale;
}

}  // namespace

std::optional<std::string> MintToken(const TokenKey& key, const TokenClaims& claims,
                                     std::string* error) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) {
    *error = "out of memory";
    return std::nullopt;
  }
  std::unique_ptr<jwt_t, JwtFree> jwt(raw);
  json_t* payload = json_object();
  json_object_set_new(payload, "sub", json_stringn(claims.subject.data(), claims.subject.size()));
  json_object_set_new(payload, "iat", json_integer(claims.issued_unix));
  json_object_set_new(payload, "exp", json_integer(claims.expires_unix));
  if (claims.rooms) {
    json_t* rooms = json_array();
    for (const std::string& room : *claims.rooms) {
      json_array_append_new(rooms, json_stringn(room.data(), room.size()));
    }
    json_object_set_new(payload, "rooms", rooms);
  }
  char* text = json_dumps(payload, JSON_COMPACT);
  json_decref(payload);
  const int added = text == nullptr ? ENOMEM : jwt_add_grants_json(jwt.get(), text);
  free(text);  // NOLINT: jansson's allocation
  const std::string& bytes = key.bytes();
  if (added != 0 || jwt_set_alg(jwt.get(), key.algorithms().front(),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size())) != 0) {
    *error = "cannot sign with " + key.description();
    return std::nullopt;
  }
  char* token = jwt_encode_str(jwt.get());
  if (token == nullptr) {
    *error = "cannot sign with " + key.description();
    return std::nullopt;
  }
  std::string out(token);
  free(token);  // NOLINT: libjwt's allocation
  return out;
}

int RunTokenCommand(int argc, char** argv) {
  cxxopts::Options command_line("chat-server token",
                                "prints a signed token (JWT) for a user of a server started with "
                                "--auth-jwt-key");
  // clang-format off
  command_line.add_options()
    ("sub", "the user's name: the token's holder chats under it and no one else can",
     cxxopts::value<std::string>(), "NAME")
    ("key", "an HMAC secret (HS256; the same file as the server's --auth-jwt-key), or an RSA or "
     "EC private key in PEM (RS256, ES256; the server then takes its public key)",
     cxxopts::value<std::string>(), "FILE")
    ("ttl", "how long the token is valid: 90s, 30m, 24h, 7d", 
     cxxopts::value<std::string>()->default_value("24h"), "DURATION")
    ("exp", "expiry as seconds since 1970 instead of --ttl (for scripts and tests; may be past)",
     cxxopts::value<std::int64_t>(), "UNIX")
    ("rooms", "the only rooms the holder may enter, comma-separated (default: any room)",
     cxxopts::value<std::string>(), "ROOM,...")
    ("h,help", "show this help");
  // clang-format on
  const auto parsed = ParseOptionsOrExit(command_line, argc, argv);
  const char* program = "chat-server token";
  if (!parsed.count("sub")) ExitWithUsageError(program, "--sub NAME is required");
  if (!parsed.count("key")) ExitWithUsageError(program, "--key FILE is required");

  TokenClaims claims;
  claims.subject = parsed["sub"].as<std::string>();
  if (auto problem = CheckName(claims.subject)) {
    ExitWithUsageError(program, "invalid --sub: " + *problem);
  }
  claims.issued_unix = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  if (parsed.count("exp")) {
    claims.expires_unix = parsed["exp"].as<std::int64_t>();
  } else {
    const auto ttl = ParseTtl(parsed["ttl"].as<std::string>());
    if (!ttl) {
      ExitWithUsageError(program,
                         "--ttl must be a positive duration such as 90s, 30m, 24h or "
                         "7d (at most 10 years)");
    }
    claims.expires_unix = claims.issued_unix + *ttl;
  }
  if (parsed.count("rooms")) {
    claims.rooms.emplace();
    const std::string list = parsed["rooms"].as<std::string>();
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t comma = std::min(list.find(',', start), list.size());
      std::string error;
      std::string room = NormalizeRoom(std::string_view(list).substr(start, comma - start), &error);
      if (room.empty()) ExitWithUsageError(program, "invalid room in --rooms: " + error);
      claims.rooms->push_back(std::move(room));
      start = comma + 1;
    }
  }

  std::string error;
  const auto key =
      TokenKey::FromFile(parsed["key"].as<std::string>(), TokenKey::Use::kSign, &error);
  if (!key) ExitWithUsageError(program, error);
  const auto token = MintToken(*key, claims, &error);
  if (!token) {
    std::fprintf(stderr, "%s: %s\n", program, error.c_str());
    return 1;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace chat
