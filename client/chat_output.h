#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "chat.pb.h"

namespace chat {

// What the prompt says about the connection.
struct LinkState {
  enum class Phase { kConnecting, kConnected, kReconnecting };
  Phase phase = Phase::kConnecting;
  // kReconnecting: how long until the next attempt (none: an attempt is under way).
  std::optional<std::chrono::milliseconds> retry_in;
  std::size_t pending = 0;  // lines typed that the server has not confirmed yet
};

// Where the session's output goes: the one object that writes to the
// terminal (or to stdout in a pipe). Only called from the event-loop thread.
class ChatOutput {
 public:
  virtual ~ChatOutput() = default;
  // A message or event from the server, already de-duplicated.
  virtual void ShowMessage(const ChatMessage& message) = 0;
  // The client's own notices ("connection lost; retrying in 2s").
  virtual void ShowStatus(std::string_view text) = 0;
  // A line the user typed that the server refused, with the server's ERROR.
  virtual void ShowRefused(std::string_view line, const ChatMessage& error) = 0;
  // The name and room changed (for the prompt and for highlighting).
  virtual void SetIdentity(std::string_view name, std::string_view room) = 0;
  // The connection's state or the number of pending lines changed.
  virtual void SetLink(const LinkState& link) = 0;
};

}  // namespace chat
