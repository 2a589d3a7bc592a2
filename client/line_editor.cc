#include "client/line_editor.h"

#include <editline/readline.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "client/grapheme.h"
#include "client/input_layout.h"

namespace chat {
namespace {

LineEditor* g_editor = nullptr;  // libedit's callbacks carry no context pointer

FILE* Out() { return rl_outstream ? rl_outstream : stdout; }

int TerminalColumns(int fallback) {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return fallback;
}

constexpr char kKillLine = '\x15';  // ^U, bound to em-kill-line below
// libedit's own per-code-point keys, pushed once per code point of a
// character (see ClusterKey).
constexpr char kPrevCodePoint = '\x02';   // ^B: ed-prev-char
constexpr char kNextCodePoint = '\x06';   // ^F: ed-next-char
constexpr char kDeletePrevious = '\x1d';  // ^]: bound to ed-delete-prev-char below
constexpr char kDeleteNext = '\x1e';      // ^^: bound to ed-delete-next-char below
// libedit keeps at most 10 pushed strings (EL_MAXMACRO in read.c).
constexpr std::size_t kMaxPushedKeys = 9;

}  // namespace

LineEditor::LineEditor(std::string prompt, LineHandler handler, Completer completer)
    : prompt_(std::move(prompt)), handler_(std::move(handler)), completer_(std::move(completer)) {
  if (g_editor) throw std::logic_error("only one LineEditor at a time");
  g_editor = this;
  columns_ = TerminalColumns(columns_);
  // Tab completes names and commands; with completion inhibited libedit
  // would insert a literal tab, which the server refuses.
  rl_inhibit_completion = 0;
  rl_attempted_completion_function = &LineEditor::Complete;
  rl_completion_append_character = ' ';
  rl_callback_handler_install(prompt_.c_str(), &LineEditor::HandleLine);
  // Keys as weechat/irssi users expect them, whichever form (CSI or SS3) the
  // terminal sends; libedit's emacs map leaves some of them out.
  for (const char* binding : {
           "bind ^[[A ed-prev-history",      "bind ^[OA ed-prev-history",
           "bind ^[[B ed-next-history",      "bind ^[OB ed-next-history",
           "bind ^[[C ed-next-char",         "bind ^[OC ed-next-char",
           "bind ^[[D ed-prev-char",         "bind ^[OD ed-prev-char",
           "bind ^[[H ed-move-to-beg",       "bind ^[OH ed-move-to-beg",
           "bind ^[[1~ ed-move-to-beg",      "bind ^[[F ed-move-to-end",
           "bind ^[OF ed-move-to-end",       "bind ^[[4~ ed-move-to-end",
           "bind ^[[3~ ed-delete-next-char", "bind ^W ed-delete-prev-word",
           "bind ^U em-kill-line",           "bind ^] ed-delete-prev-char",
           "bind ^^ ed-delete-next-char",
       }) {
    rl_parse_and_bind(binding);
  }
  // Left, Right, Backspace and Delete act on whole characters (grapheme.h).
  // libedit calls a function added with rl_add_defun with the last byte of
  // its key sequence, and binds that byte alone too: letters are rebound to
  // themselves afterwards.
  rl_add_defun("chat-backward-char", &LineEditor::ClusterKey, 'D');
  rl_add_defun("chat-forward-char", &LineEditor::ClusterKey, 'C');
  rl_add_defun("chat-delete-next-char", &LineEditor::ClusterKey, '~');
  rl_add_defun("chat-delete-prev-char", &LineEditor::ClusterKey, '\x08');
  rl_add_defun("chat-delete-prev-char", &LineEditor::ClusterKey, '\x7f');
  for (const char* binding : {
           "bind D ed-insert",
           "bind C ed-insert",
           "bind ~ ed-insert",
           "bind ^[[D chat-backward-char",
           "bind ^[OD chat-backward-char",
           "bind ^[[C chat-forward-char",
           "bind ^[OC chat-forward-char",
           "bind ^[[3~ chat-delete-next-char",
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
  EraseInput(CursorRow(columns_));
  std::fflush(Out());
  active_ = false;
  rl_callback_handler_remove();
}

int LineEditor::CursorRow(int columns) const {
  if (line_accepted_ || !rl_line_buffer) return PositionAfter(prompt_, "", columns).row;
  const std::string_view buffer(rl_line_buffer, std::strlen(rl_line_buffer));
  const std::size_t point = std::min<std::size_t>(std::max(rl_point, 0), buffer.size());
  return PositionAfter(prompt_, buffer.substr(0, point), columns).row;
}

void LineEditor::EraseInput(int cursor_row) {
  FILE* out = Out();
  if (cursor_row > 0) std::fprintf(out, "\033[%dA", cursor_row);
  std::fputs("\r\033[J", out);
}

void LineEditor::OnReadable() {
  if (!active_) return;
  line_accepted_ = false;
  rl_callback_read_char();
  // Keys a ClusterKey pushed: libedit reads one per call.
  while (pushed_keys_ > 0 && active_ && !line_accepted_) {
    --pushed_keys_;
    rl_callback_read_char();
  }
  pushed_keys_ = 0;
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
    // libedit leaves the accepted input on screen and the cursor on the row
    // below it; wipe it all: the server's echo shows the line properly.
    const int rows = PositionAfter(g_editor->prompt_, *line, g_editor->columns_).row + 1;
    g_editor->EraseInput(rows);
    std::fflush(Out());
  }
  // Until the next key, libedit's buffer still holds the accepted text and a
  // redraw would show it again (see PrintAbove).
  g_editor->line_accepted_ = true;
  g_editor->in_handler_ = true;
  g_editor->handler_(std::move(line));
  g_editor->in_handler_ = false;
}

int LineEditor::ClusterKey(int /*count*/, int key) {
  if (!g_editor || !rl_line_buffer) return 0;
  const std::string_view buffer(rl_line_buffer, std::strlen(rl_line_buffer));
  const std::size_t point = std::min<std::size_t>(std::max(rl_point, 0), buffer.size());
  char primitive = kDeletePrevious;
  std::size_t code_points = 0;
  switch (key) {
    case 'D':
      primitive = kPrevCodePoint;
      code_points = CodePointsInClusterBefore(buffer, point);
      break;
    case 'C':
      primitive = kNextCodePoint;
      code_points = CodePointsInClusterAfter(buffer, point);
      break;
    case '~':
      primitive = kDeleteNext;
      code_points = CodePointsInClusterAfter(buffer, point);
      break;
    default:  // Backspace
      code_points = CodePointsInClusterBefore(buffer, point);
      break;
  }
  code_points = std::min(code_points, kMaxPushedKeys);
  for (std::size_t i = 0; i < code_points; ++i) rl_insert(1, primitive);  // pushes the key
  g_editor->pushed_keys_ += code_points;
  return 0;
}

char** LineEditor::Complete(const char* word, int start, int /*end*/) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  if (!g_editor || !g_editor->completer_ || !rl_line_buffer) return nullptr;
  const std::string_view before(rl_line_buffer,
                                std::min<std::size_t>(start, std::strlen(rl_line_buffer)));
  const std::vector<std::string> found = g_editor->completer_(before, word);
  if (found.empty()) return nullptr;
  // libedit's format: [0] replaces the word (the candidates' common prefix),
  // then the candidates; malloc'd, NULL-terminated, freed by libedit.
  std::string common = found.front();
  for (const std::string& candidate : found) {
    std::size_t same = 0;
    while (same < common.size() && same < candidate.size() && common[same] == candidate[same]) {
      ++same;
    }
    common.resize(same);
  }
  auto** matches = static_cast<char**>(std::calloc(found.size() + 2, sizeof(char*)));
  if (!matches) return nullptr;
  matches[0] = strdup(common.c_str());
  if (found.size() > 1) {
    for (std::size_t i = 0; i < found.size(); ++i) matches[i + 1] = strdup(found[i].c_str());
  }
  return matches;
}

void LineEditor::PrintAbove(std::string_view text) {
  FILE* out = Out();
  if (!active_) {
    std::fwrite(text.data(), 1, text.size(), out);
    std::fputs("\n", out);
    std::fflush(out);
    return;
  }
  // Erase the whole (possibly wrapped) input, print, and draw it again.
  EraseInput(CursorRow(columns_));
  std::fwrite(text.data(), 1, text.size(), out);
  std::fputs("\r\n", out);
  std::fflush(out);
  Redraw();
}

void LineEditor::SetPrompt(std::string prompt) {
  if (prompt == prompt_) return;
  const int row = active_ ? CursorRow(columns_) : 0;
  prompt_ = std::move(prompt);
  if (!active_) return;
  rl_set_prompt(prompt_.c_str());
  EraseInput(row);
  Redraw();
}

void LineEditor::OnResize() {
  const int columns = TerminalColumns(columns_);
  if (!active_) {
    columns_ = columns;
    return;
  }
  // Where the input now starts depends on the terminal: tmux re-wraps rows
  // that wrapped by themselves to the new width, but keeps rows libedit ended
  // by moving the cursor (as it does while redrawing) as they were. Erasing
  // from the higher of the two leaves no stale copy of the input; on a
  // terminal that re-wrapped it all, a few rows of output above the input
  // are blanked too.
  EraseInput(std::max(CursorRow(columns_), CursorRow(columns)));
  columns_ = columns;
  rl_resize_terminal();
  Redraw();
}

void LineEditor::Redraw() {
  // Inside the line handler, the handler's re-installation (OnReadable)
  // draws the prompt; drawing it here too would show it twice.
  if (in_handler_) return;
  if (line_accepted_) {
    // Nothing typed since the last Enter: draw the bare prompt ourselves,
    // where libedit expects it, instead of a redraw of the stale buffer.
    std::fputs(prompt_.c_str(), Out());
    std::fflush(Out());
    return;
  }
  rl_forced_update_display();
}

bool LineEditor::HasText() const { return active_ && !line_accepted_ && rl_end > 0; }

void LineEditor::ClearLine() {
  if (!HasText()) return;
  rl_insert(1, kKillLine);  // pushes the key into libedit's input
  rl_callback_read_char();
}

}  // namespace chat
