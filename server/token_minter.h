#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/token_key.h"

namespace chat {

struct TokenClaims {
  std::string subject;  // sub
  std::int64_t issued_unix = 0;
  std::int64_t expires_unix = 0;
  std::optional<std::vector<std::string>> rooms;  // nullopt: no rooms claim (any room)
};

// A signed JWT carrying `claims`, signed with `key` (a secret or a private
// key) by its first algorithm; nullopt with `error` on failure.
std::optional<std::string> MintToken(const TokenKey& key, const TokenClaims& claims,
                                     std::string* error);

// `chat-server token ...`: prints a token for operators and tests. Returns
// the exit code (2 for a bad command line).
int RunTokenCommand(int argc, char** argv);

}  // namespace chat
