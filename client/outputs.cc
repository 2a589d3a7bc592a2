#include "client/outputs.h"

#include <cstdio>

#include "common/terminal_text.h"

namespace chat {

void PlainOutput::ShowMessage(const ChatMessage& message) {
  const std::string line = FormatPlainLine(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void PlainOutput::ShowStatus(std::string_view text) {
  std::fprintf(stderr, "chat-client: %s\n", SanitizeForTerminal(text).c_str());
}

// A script reads the refusal in the documented format, as any ERROR.
void PlainOutput::ShowRefused(std::string_view, const ChatMessage& error) { ShowMessage(error); }

void PlainOutput::SetLink(const LinkState& link) {
  if (link.phase != LinkState::Phase::kReconnecting || !link.retry_in) {
    retry_reported_ = false;
    return;
  }
  if (retry_reported_) return;  // the countdown ticks; one line per attempt
  retry_reported_ = true;
  std::fprintf(stderr, "chat-client: retrying in %.1fs\n",
               static_cast<double>(link.retry_in->count()) / 1000.0);
}

void InteractiveOutput::ShowMessage(const ChatMessage& message) {
  editor_.PrintAbove(FormatDisplayLine(message, style_));
  if (bell_ && !message.replay() && IsMention(message, style_)) {  // history never rings
    std::fputs("\a", stdout);
    std::fflush(stdout);
  }
}

void InteractiveOutput::ShowStatus(std::string_view text) {
  const std::string line = "-*- " + SanitizeForDisplay(text);
  editor_.PrintAbove(style_.color ? "\033[2m" + line + "\033[0m" : line);
}

void InteractiveOutput::ShowRefused(std::string_view line, const ChatMessage& error) {
  const std::string text = "!!! not sent: " + SanitizeForDisplay(line) + " (" +
                           SanitizeForDisplay(error.message()) + ")";
  editor_.PrintAbove(style_.color ? "\033[31m" + text + "\033[0m" : text);
}

void InteractiveOutput::SetIdentity(std::string_view name, std::string_view room) {
  style_.my_name = std::string(name);
  room_ = std::string(room);
  UpdatePrompt();
}

void InteractiveOutput::SetLink(const LinkState& link) {
  link_ = link;
  UpdatePrompt();
}

void InteractiveOutput::UpdatePrompt() {
  std::string state;
  switch (link_.phase) {
    case LinkState::Phase::kConnecting:
      state = "connecting";
      break;
    case LinkState::Phase::kReconnecting:
      state = "reconnecting";
      if (link_.retry_in) {
        const long long seconds = (link_.retry_in->count() + 999) / 1000;
        state += " in " + std::to_string(seconds) + "s";
      }
      break;
    case LinkState::Phase::kConnected:
      state = "#" + SanitizeForDisplay(room_);
      break;
  }
  std::string prompt = "[" + state + "] " + SanitizeForDisplay(style_.my_name);
  if (link_.pending > 0) prompt += " (" + std::to_string(link_.pending) + " pending)";
  editor_.SetPrompt(prompt + "> ");
}

}  // namespace chat
