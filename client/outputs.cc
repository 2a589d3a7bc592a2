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

void InteractiveOutput::ShowMessage(const ChatMessage& message) {
  editor_.PrintAbove(FormatDisplayLine(message, style_));
}

void InteractiveOutput::ShowStatus(std::string_view text) {
  const std::string line = "-*- " + SanitizeForTerminal(text);
  editor_.PrintAbove(style_.color ? "\033[2m" + line + "\033[0m" : line);
}

void InteractiveOutput::SetIdentity(std::string_view name, std::string_view room) {
  style_.my_name = std::string(name);
  editor_.SetPrompt("[#" + SanitizeForTerminal(room) + "] " + SanitizeForTerminal(name) + "> ");
}

}  // namespace chat
