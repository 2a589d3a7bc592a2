#include "client/client_app.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "client/outputs.h"
#include "client/pipe_reader.h"
#include "common/terminal_text.h"

namespace chat {
namespace {

int SignalFd() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGWINCH);
  // Blocked before gRPC starts its threads, which inherit the mask.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
}

}  // namespace

int RunClient(const ClientOptions& options) {
  const int signal_fd = SignalFd();
  const bool interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  auto inbox = std::make_shared<Inbox>();
  std::unique_ptr<Session> session;
  std::unique_ptr<LineEditor> editor;
  std::unique_ptr<ChatOutput> output;
  bool input_open = true;

  if (interactive) {
    editor = std::make_unique<LineEditor>(
        "[connecting] " + SanitizeForTerminal(options.session.name) + "> ",
        [&](std::optional<std::string> line) {
          if (line) {
            session->SendLine(*line);
          } else {
            input_open = false;
            session->EndInput();
          }
        },
        [&](std::string_view line, std::string_view word) {
          return session->Complete(line, word);
        });
    DisplayStyle style;
    style.color = options.color;
    style.colors = TerminalColors(std::getenv("TERM"), std::getenv("COLORTERM"));
    output = std::make_unique<InteractiveOutput>(*editor, style, options.bell);
    output->ShowStatus("connecting to " + options.session.server + " as " + options.session.name +
                       "; /help lists commands, /quit or Ctrl-D leaves");
  } else {
    output = std::make_unique<PlainOutput>();
  }
  session = std::make_unique<Session>(options.session, *output, inbox);
  session->Start();
  PipeReader pipe_reader(STDIN_FILENO);
  int interrupts = 0;

  while (!session->finished()) {
    pollfd fds[3] = {{inbox->wake_fd(), POLLIN, 0},
                     {signal_fd, POLLIN, 0},
                     {input_open ? STDIN_FILENO : -1, POLLIN, 0}};
    int timeout_ms = -1;
    if (const auto deadline = session->NextDeadline()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Session::Clock::now());
      timeout_ms = static_cast<int>(std::max<long long>(0, left.count()) + 1);
    }
    if (poll(fds, 3, timeout_ms) < 0 && errno != EINTR) break;

    if (fds[0].revents) session->HandleEvents();
    if (fds[1].revents) {
      signalfd_siginfo info;
      while (read(signal_fd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGWINCH) {
          if (editor) editor->OnResize();
        } else if (info.ssi_signo == SIGINT && interrupts == 0 && editor && editor->HasText()) {
          editor->ClearLine();  // Ctrl-C on a half-typed line: start it afresh
        } else if (++interrupts == 1) {
          input_open = false;  // first Ctrl-C: leave cleanly, like /quit
          if (editor) editor->Stop();
          session->EndInput();
        } else {
          session->Abort();  // impatient: leave now
        }
      }
    }
    if (fds[2].revents && input_open) {
      if (editor) {
        editor->OnReadable();
        if (!input_open) editor->Stop();
      } else if (!pipe_reader.OnReadable([&](std::string line) { session->SendLine(line); })) {
        input_open = false;
        session->EndInput();
      }
    }
    session->OnTimer();
  }

  const int code = session->exit_code();
  const std::string reason = session->exit_reason();
  session.reset();  // waits (bounded) for the stream to report its end
  editor.reset();   // restores the terminal
  if (code != 0) {
    // In a terminal, as the display: characters that hide text are named too.
    const std::string shown =
        interactive ? SanitizeForDisplay(reason) : SanitizeForTerminal(reason);
    std::fprintf(stderr, "chat-client: %s\n", shown.c_str());
  }
  close(signal_fd);
  return code;
}

}  // namespace chat
