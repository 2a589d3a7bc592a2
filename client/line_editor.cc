#include "client/line_editor.h"

#include <editline/readline.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace chat {
namespace {
LineEditor* g_editor = nullptr;  // libedit's callback carries no context pointer
}  // namespace

LineEditor::LineEditor(std::string prompt, LineHandler handler)
    : prompt_(std::move(prompt)), handler_(std::move(handler)) {
  if (g_editor) throw std::logic_error("only one LineEditor at a time");
  g_editor = this;
  rl_inhibit_completion = 1;  // Tab inserts nothing odd: there is nothing to complete
  rl_callback_handler_install(prompt_.c_str(), &LineEditor::HandleLine);
  active_ = true;
}

LineEditor::~LineEditor() {
  Stop();
  g_editor = nullptr;
}

void LineEditor::Stop() {
  if (!active_) return;
  active_ = false;
  rl_callback_handler_remove();
}

void LineEditor::OnReadable() {
  if (active_) rl_callback_read_char();
}

void LineEditor::HandleLine(char* raw) {
  if (!g_editor) return;
  std::optional<std::string> line;
  if (raw) {
    line = raw;
    if (!line->empty()) add_history(raw);
    std::free(raw);
    // The typed line stays on screen after Enter; wipe it: the server's
    // echo shows it properly once acknowledged.
    std::fputs("\033[1A\r\033[2K", rl_outstream ? rl_outstream : stdout);
    std::fflush(rl_outstream ? rl_outstream : stdout);
  }
  g_editor->handler_(std::move(line));
}

void LineEditor::PrintAbove(std::string_view text) {
  FILE* out = rl_outstream ? rl_outstream : stdout;
  if (!active_) {
    std::fwrite(text.data(), 1, text.size(), out);
    std::fputs("\n", out);
    std::fflush(out);
    return;
  }
  // Erase the prompt line, print, and let libedit redraw prompt and buffer.
  std::fputs("\r\033[2K", out);
  std::fwrite(text.data(), 1, text.size(), out);
  std::fputs("\r\n", out);
  std::fflush(out);
  rl_forced_update_display();
}

void LineEditor::SetPrompt(std::string prompt) {
  prompt_ = std::move(prompt);
  if (!active_) return;
  rl_set_prompt(prompt_.c_str());
  std::fputs("\r\033[2K", rl_outstream ? rl_outstream : stdout);
  rl_forced_update_display();
}

void LineEditor::OnResize() {
  if (active_) rl_resize_terminal();
}

}  // namespace chat
