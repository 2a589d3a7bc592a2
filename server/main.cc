// chat-server: parses options, sets up logging, runs the server until SIGINT or SIGTERM.
// `chat-server token ...` mints a signed token instead (server/token_minter.h).
#include <absl/synchronization/mutex.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <string_view>

#include "common/logging.h"
#include "common/options.h"
#include "server/chat_server.h"
#include "server/grpc_log.h"
#include "server/memory_trimmer.h"
#include "server/token_minter.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "token") {
    return chat::RunTokenCommand(argc - 1, argv + 1);
  }
  const chat::ServerOptions server_options = chat::ParseServerOptions(argc, argv);
  std::string error;
  if (!chat::ConfigureLogging(server_options.log_level, &error)) {
    chat::ExitWithUsageError("chat-server", error);  // ParseServerOptions checked it: never
  }

  chat::RouteGrpcLogsToSpdlog();

  // Debian's abseil keeps mutex deadlock detection on, and gRPC locks absl
  // mutexes on every operation: the bookkeeping is pure overhead in
  // production (our own locks are std::mutex). See docs/benchmarks.md.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block the signals in every thread (gRPC's included, which inherit the
  // mask) and take them synchronously here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  chat::ChatServer server(server_options);
  if (!server.Start(&error)) {
    spdlog::critical("{}", error);
    return 1;
  }
  const std::string host = server_options.listen.substr(0, server_options.listen.rfind(':'));
  // At any level: with port 0 this is the only way to learn the port.
  chat::LogAlways("chat-server listening on " + host + ":" + std::to_string(server.port()) + " (" +
                  chat::DescribeServerOptions(server_options) + ")");

  if (server.metrics_port() != 0) {
    const std::string& metrics = server_options.metrics_listen;
    chat::LogAlways("chat-server metrics on http://" + metrics.substr(0, metrics.rfind(':')) + ":" +
                    std::to_string(server.metrics_port()) + "/metrics");
  }

  chat::MemoryTrimmer trimmer;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server.Shutdown();
  spdlog::info("stopped");
  return 0;
}
