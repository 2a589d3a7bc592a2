#pragma once

#include <string>

#include "client/chat_output.h"
#include "client/line_editor.h"
#include "client/message_format.h"

namespace chat {

// Pipe mode: one documented plain line per message on stdout, flushed at
// once for scripts; the client's own notices go to stderr.
class PlainOutput final : public ChatOutput {
 public:
  void ShowMessage(const ChatMessage& message) override;
  void ShowStatus(std::string_view text) override;
  void SetIdentity(std::string_view, std::string_view) override {}
};

// Terminal mode: coloured lines printed above the line being typed.
class InteractiveOutput final : public ChatOutput {
 public:
  InteractiveOutput(LineEditor& editor, bool color) : editor_(editor), style_{color, {}} {}
  void ShowMessage(const ChatMessage& message) override;
  void ShowStatus(std::string_view text) override;
  void SetIdentity(std::string_view name, std::string_view room) override;

 private:
  LineEditor& editor_;
  DisplayStyle style_;
};

}  // namespace chat
