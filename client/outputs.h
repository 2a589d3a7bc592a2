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
  void ShowRefused(std::string_view line, const ChatMessage& error) override;
  void SetIdentity(std::string_view, std::string_view) override {}
  // Says on stderr when the next attempt is (once per attempt).
  void SetLink(const LinkState& link) override;

 private:
  bool retry_reported_ = false;
};

// Terminal mode: coloured lines printed above the line being typed.
class InteractiveOutput final : public ChatOutput {
 public:
  InteractiveOutput(LineEditor& editor, DisplayStyle style, bool bell)
      : editor_(editor), style_(std::move(style)), bell_(bell) {}
  void ShowMessage(const ChatMessage& message) override;
  void ShowStatus(std::string_view text) override;
  void ShowRefused(std::string_view line, const ChatMessage& error) override;
  void SetIdentity(std::string_view name, std::string_view room) override;
  // The prompt shows the connection's state and the pending lines:
  // "[#lobby] tina> ", "[#lobby] tina (3 pending)> ", "[reconnecting in 4s] tina> ".
  void SetLink(const LinkState& link) override;

 private:
  void UpdatePrompt();

  LineEditor& editor_;
  DisplayStyle style_;
  const bool bell_;  // ring the terminal bell on a mention
  std::string room_;
  LinkState link_;
};

}  // namespace chat
