#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/refusal_log.h"
#include "server/token_key.h"

namespace chat {

// Who a valid token says its holder is.
struct TokenIdentity {
  std::string subject;                            // `sub`: the user's name
  std::optional<std::vector<std::string>> rooms;  // `rooms`, normalised; nullopt: any room
  std::int64_t expires_unix = 0;                  // `exp`
};

// Why a token was refused: `message` for the person holding it (it may
// quote the token's own claims back to them), `reason` for the log, which
// names the kind of problem only (tokens and their claims stay out of logs).
struct TokenRefusal {
  std::string message;
  std::string_view reason;
};

// Checks the `authorization: Bearer <JWT>` metadata of a stream against one
// key. A token passes when it is well formed, signed with the key by one of
// the key's algorithms, has not expired (`exp` is required), is already valid
// (`nbf`, if present), names a valid user in `sub`, and its optional `rooms`
// claim is a list of valid room names. Thread-safe: Verify has no state.
class TokenVerifier {
 public:
  // Clocks of the minting machine and this one may differ this much.
  static constexpr std::int64_t kLeewaySeconds = 30;
  // A longer `authorization` value is refused unread.
  static constexpr std::size_t kMaxTokenBytes = 8192;
  // A longer `rooms` claim is refused.
  static constexpr std::size_t kMaxRooms = 1000;

  explicit TokenVerifier(std::unique_ptr<TokenKey> key) : key_(std::move(key)) {}

  // `authorization` is the metadata's value, nullopt when it was not sent.
  std::variant<TokenIdentity, TokenRefusal> Verify(std::optional<std::string_view> authorization,
                                                   std::int64_t now_unix) const;

  const TokenKey& key() const { return *key_; }
  // Where the streams refused for their tokens are counted and logged.
  RefusalLog& refusals() const { return refusals_; }

 private:
  std::unique_ptr<TokenKey> key_;
  mutable RefusalLog refusals_;
};

}  // namespace chat
