#pragma once

#include <string_view>

#include "chat.pb.h"

namespace chat {

// Where the session's output goes: the one object that writes to the
// terminal (or to stdout in a pipe). Only called from the event-loop thread.
class ChatOutput {
 public:
  virtual ~ChatOutput() = default;
  // A message or event from the server, already de-duplicated.
  virtual void ShowMessage(const ChatMessage& message) = 0;
  // The client's own notices ("connection lost; retrying in 2s").
  virtual void ShowStatus(std::string_view text) = 0;
  // The name and room changed (for the prompt and for highlighting).
  virtual void SetIdentity(std::string_view name, std::string_view room) = 0;
};

}  // namespace chat
