// chat-server: parses options, sets up logging, runs the server until SIGINT
// or SIGTERM; SIGHUP re-reads the --config file.
// `chat-server token ...` mints a signed token instead (server/token_minter.h).
#include <absl/synchronization/mutex.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <string_view>
#include <variant>

#include "common/logging.h"
#include "common/options.h"
#include "server/chat_server.h"
#include "server/grpc_log.h"
#include "server/memory_trimmer.h"
#include "server/ops/service_notify.h"
#include "server/token_minter.h"

namespace {

// SIGHUP: reads the config file again and applies what can change live;
// logs every change, and those that need a restart. On a bad file nothing
// changes.
void Reload(const chat::ServerCommandLine& command_line, chat::ServerOptions& current,
            chat::ChatServer& server) {
  if (command_line.config_file.empty()) {
    spdlog::info("SIGHUP: no --config file to read again; nothing changed");
    return;
  }
  auto reloaded = chat::ReloadServerOptions(command_line);
  if (const auto* problem = std::get_if<std::string>(&reloaded)) {
    spdlog::error("SIGHUP: {}; the options in use stay", *problem);
    return;
  }
  const auto changes = chat::ChangedServerOptions(current, std::get<chat::ServerOptions>(reloaded));
  chat::ServerOptions applied = current;
  for (const chat::OptionChange& change : changes) {
    if (change.live) {
      (void)chat::SetServerOption(applied, change.name, change.after);  // checked by Reload
      spdlog::info("SIGHUP: --{} {} -> {}", change.name, change.before, change.after);
    } else {
      spdlog::warn("SIGHUP: --{} {} -> {} needs a restart; {} stays until then", change.name,
                   change.before, change.after, change.before);
    }
  }
  if (changes.empty())
    spdlog::info("SIGHUP: {} read again; nothing changed", command_line.config_file);
  server.ApplyLiveOptions(applied);
  current = applied;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "token") {
    return chat::RunTokenCommand(argc - 1, argv + 1);
  }
  if (argc > 1 && std::string_view(argv[1]) == "example-config") {
    std::fputs(chat::ExampleConfigFile().c_str(), stdout);
    return 0;
  }
  // Block the signals before any thread starts (spdlog's flusher with
  // --log-file, gRPC's), so that every thread inherits the mask, and take
  // them synchronously below. A thread started earlier would take SIGTERM
  // or SIGHUP with the default action: the process would die at once.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const chat::ServerCommandLine command_line = chat::ParseServerCommandLine(argc, argv);
  chat::ServerOptions options = command_line.options;
  std::string error;
  const chat::LogOutput log_output{options.log_file, options.log_file_bytes, options.log_file_count,
                                   options.log_format == "json"};
  if (!chat::ConfigureLogging(options.log_level, log_output, &error)) {
    chat::ExitWithUsageError("chat-server", error);
  }

  chat::RouteGrpcLogsToSpdlog();

  // Debian's abseil keeps mutex deadlock detection on, and gRPC locks absl
  // mutexes on every operation: the bookkeeping is pure overhead in
  // production (our own locks, chat::Mutex, are std::mutex inside). See docs/benchmarks.md.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  chat::ChatServer server(options);
  if (!server.Start(&error)) {
    spdlog::critical("{}", error);
    return 1;
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  const std::string address = host + ":" + std::to_string(server.port());
  // At any level: with port 0 this is the only way to learn the port.
  chat::LogAlways("chat-server listening on " + address + " (" +
                  chat::DescribeServerOptions(options) + ")");
  chat::ServiceNotifier notifier;
  notifier.Ready("listening on " + address);
  notifier.StartWatchdog([&server] { return server.Alive(); });

  if (server.metrics_port() != 0) {
    const std::string& metrics = options.metrics_listen;
    chat::LogAlways("chat-server metrics on http://" + metrics.substr(0, metrics.rfind(':')) + ":" +
                    std::to_string(server.metrics_port()) + "/metrics");
  }

  chat::MemoryTrimmer trimmer;

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    notifier.Reloading();
    Reload(command_line, options, server);
    notifier.Ready("listening on " + address);
  }
  notifier.Stopping();
  spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server.Shutdown();
  spdlog::info("stopped");
  return 0;
}
