#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace chat {

// Line editing for the interactive client, on libedit's readline-compatible
// callback interface (BSD licence; see docs/client.md for why not GNU
// readline). The event loop calls OnReadable() when stdin has input; whole
// lines come back through the handler. Knows nothing of gRPC.
//
// One instance at a time (libedit's callback interface is global state).
// Only used from the event-loop thread.
class LineEditor {
 public:
  // nullopt: end of input (Ctrl-D on an empty line).
  using LineHandler = std::function<void(std::optional<std::string> line)>;

  LineEditor(std::string prompt, LineHandler handler);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  void OnReadable();
  // Prints `text` as whole lines above the input line, then redraws the
  // prompt with the half-typed line and the cursor where they were.
  void PrintAbove(std::string_view text);
  void SetPrompt(std::string prompt);
  void OnResize();
  // Stops reading (after end of input); the terminal is restored.
  void Stop();

 private:
  static void HandleLine(char* line);

  std::string prompt_;
  LineHandler handler_;
  bool active_ = false;
  bool line_accepted_ = false;  // a line was accepted and no key pressed since
};

}  // namespace chat
