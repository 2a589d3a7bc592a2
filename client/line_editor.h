#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat {

// Line editing for the interactive client, on libedit's readline-compatible
// callback interface (BSD licence; see docs/client.md for why not GNU
// readline). The event loop calls OnReadable() when stdin has input; whole
// lines come back through the handler. Knows nothing of gRPC.
//
// Text is UTF-8 throughout (UseUtf8Locale must have run): libedit edits per
// code point, and the editor computes where the prompt and a wrapped input
// sit (input_layout.h) so that output printed above it never leaves a stale
// copy of the input behind.
//
// One instance at a time (libedit's callback interface is global state).
// Only used from the event-loop thread.
class LineEditor {
 public:
  // nullopt: end of input (Ctrl-D on an empty line).
  using LineHandler = std::function<void(std::optional<std::string> line)>;
  // Candidates for the word being completed: `line` is the input before the
  // word. Each candidate replaces the word whole; a space follows a single
  // match.
  using Completer =
      std::function<std::vector<std::string>(std::string_view line, std::string_view word)>;

  LineEditor(std::string prompt, LineHandler handler, Completer completer);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  void OnReadable();
  // Prints `text` as whole lines above the input, then redraws the prompt
  // with the half-typed line and the cursor where they were.
  void PrintAbove(std::string_view text);
  void SetPrompt(std::string prompt);
  void OnResize();
  // True when a half-typed line is on screen.
  bool HasText() const;
  // Empties the half-typed line (Ctrl-C on a non-empty line).
  void ClearLine();
  // Stops reading (after end of input): the input is erased, so that what
  // comes next (the shell's prompt) starts on a fresh line, and the terminal
  // is restored.
  void Stop();

 private:
  static void HandleLine(char* line);
  static char** Complete(const char* word, int start, int end);
  // Left, Right, Backspace, Delete: pushes libedit's per-code-point key once
  // for each code point of the character at the cursor.
  static int ClusterKey(int count, int key);
  // Moves to the first row of the prompt and erases from there down.
  void EraseInput(int cursor_row);
  int CursorRow(int columns) const;
  // Draws the prompt and the half-typed line below what was printed.
  void Redraw();

  std::string prompt_;
  LineHandler handler_;
  Completer completer_;
  bool active_ = false;
  bool line_accepted_ = false;   // a line was accepted and no key pressed since
  bool in_handler_ = false;      // the line handler is running
  std::size_t pushed_keys_ = 0;  // keys ClusterKey pushed, not yet read
  int columns_ = 80;             // the terminal's width, as last read
};

}  // namespace chat
