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
  // Keys as weechat/irssi users expect them, whichever form (CSI or SS3) the
  // terminal sends; libedit's emacs map leaves some of them out.
  for (const char* binding : {
           "bind ^[[A ed-prev-history",
           "bind ^[OA ed-prev-history",
           "bind ^[[B ed-next-history",
           "bind ^[OB ed-next-history",
           "bind ^[[C ed-next-char",
           "bind ^[OC ed-next-char",
           "bind ^[[D ed-prev-char",
           "bind ^[OD ed-prev-char",
           "bind ^[[H ed-move-to-beg",
           "bind ^[OH ed-move-to-beg",
           "bind ^[[1~ ed-move-to-beg",
           "bind ^[[F ed-move-to-end",
           "bind ^[OF ed-move-to-end",
           "bind ^[[4~ ed-move-to-end",
           "bind ^[[3~ ed-delete-next-char",
           "bind ^W ed-delete-prev-word",
           "bind ^U em-kill-line",
       }) {
    rl_parse_and_bind(binding);
  }
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
  if (!active_) return;
  line_accepted_ = false;
  rl_callback_read_char();
  if (line_accepted_ && active_) {
    // After a line, libedit's callback mode stops recognising escape
    // sequences (arrow keys arrive as text); installing the handler afresh
    // resets its key-reading state.
    rl_callback_handler_remove();
    rl_callback_handler_install(prompt_.c_str(), &LineEditor::HandleLine);
  }
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
  // Until the next key, libedit's buffer still holds the accepted text and a
  // redraw would show it again (see PrintAbove).
  g_editor->line_accepted_ = true;
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
  if (line_accepted_) {
    // Nothing typed since the last Enter: draw the bare prompt ourselves,
    // where libedit expects it, instead of a redraw of the stale buffer.
    std::fputs(prompt_.c_str(), out);
    std::fflush(out);
    return;
  }
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
