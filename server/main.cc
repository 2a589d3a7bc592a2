// chat-server: parses options, sets up logging, runs the server until SIGINT or SIGTERM.
#include <absl/synchronization/mutex.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cxxopts.hpp>

#include "common/logging.h"
#include "common/options.h"
#include "server/chat_server.h"
#include "server/memory_trimmer.h"

int main(int argc, char** argv) {
  chat::ServerOptions defaults;
  cxxopts::Options options("chat-server", "grpc-chat server: rooms, history, fan-out");
  // clang-format off
  options.add_options()
    ("listen", "address to listen on (port 0 picks a free port)",
     cxxopts::value<std::string>()->default_value(defaults.listen), "ADDR")
    ("history", "messages kept per room and sent to members who join",
     cxxopts::value<std::size_t>()->default_value(std::to_string(defaults.history)), "N")
    ("max-message-bytes", "longest chat text accepted, in bytes",
     cxxopts::value<std::size_t>()->default_value(std::to_string(defaults.max_message_bytes)), "N")
    ("queue-limit", "messages waiting for one client before it is cut off as too slow "
     "(history sent on a join apart); rooms hold their senders back while most members have "
     "1/8 of this waiting",
     cxxopts::value<std::size_t>()->default_value(std::to_string(defaults.queue_limit)), "N")
    ("queue-bytes", "bytes of messages waiting for one client before it is cut off as too slow "
     "(history sent on a join apart); 1/8 of it also counts as backlogged",
     cxxopts::value<std::size_t>()->default_value(std::to_string(defaults.queue_bytes)), "N")
    ("rate-limit", "lines one client may send per second (bursts of twice that, at least 10), "
     "and private messages one user may receive per second; 0 = no limit",
     cxxopts::value<double>()->default_value("20"), "N")
    ("batch-linger-us", "for clients that take batch frames: microseconds a stream waits after a "
     "write before the next one, so messages arriving meanwhile leave together (less CPU per "
     "message at high rates, up to this much more latency); 0 = off",
     cxxopts::value<long>()->default_value(std::to_string(defaults.batch_linger.count())), "N")
    ("presence-coalesce-above", "in rooms of more members than this, joins and leaves are "
     "announced together, one event per room per --presence-interval-ms; 0 = never",
     cxxopts::value<std::size_t>()->default_value(std::to_string(defaults.presence_coalesce_above)),
     "N")
    ("presence-interval-ms", "how long a big room's joins and leaves are gathered before they are "
     "announced, in milliseconds",
     cxxopts::value<long>()->default_value(std::to_string(defaults.presence_interval.count())), "N")
    ("log-level", "trace, debug, info, warn, error, critical or off",
     cxxopts::value<std::string>()->default_value("info"), "LEVEL")
    ("h,help", "show this help");
  // clang-format on
  const auto parsed = chat::ParseOptionsOrExit(options, argc, argv);

  chat::ServerOptions server_options;
  server_options.listen = parsed["listen"].as<std::string>();
  server_options.history = parsed["history"].as<std::size_t>();
  server_options.max_message_bytes = parsed["max-message-bytes"].as<std::size_t>();
  server_options.queue_limit = parsed["queue-limit"].as<std::size_t>();
  server_options.queue_bytes = parsed["queue-bytes"].as<std::size_t>();
  server_options.rate_limit = parsed["rate-limit"].as<double>();
  const long linger_us = parsed["batch-linger-us"].as<long>();
  if (linger_us < 0 || linger_us > 1000000) {
    chat::ExitWithUsageError("chat-server", "--batch-linger-us must be between 0 and 1000000");
  }
  server_options.batch_linger = std::chrono::microseconds(linger_us);
  server_options.presence_coalesce_above = parsed["presence-coalesce-above"].as<std::size_t>();
  const long presence_ms = parsed["presence-interval-ms"].as<long>();
  if (presence_ms < 1 || presence_ms > 60000) {
    chat::ExitWithUsageError("chat-server", "--presence-interval-ms must be between 1 and 60000");
  }
  server_options.presence_interval = std::chrono::milliseconds(presence_ms);
  if (server_options.rate_limit < 0) {
    chat::ExitWithUsageError("chat-server", "--rate-limit must be 0 (off) or more");
  }
  if (server_options.max_message_bytes == 0 || server_options.max_message_bytes > (1u << 20)) {
    chat::ExitWithUsageError("chat-server", "--max-message-bytes must be between 1 and 1048576");
  }
  // Watermarks at 1/8 and 1/16 of the limits need room to be apart.
  if (server_options.queue_limit < 16) {
    chat::ExitWithUsageError("chat-server", "--queue-limit must be at least 16");
  }
  // At least one message of the largest size, with its fields, must fit.
  const std::size_t min_queue_bytes = 16 * server_options.max_message_bytes + 4096;
  if (server_options.queue_bytes < min_queue_bytes) {
    chat::ExitWithUsageError("chat-server",
                             "--queue-bytes must be at least 16 x "
                             "--max-message-bytes + 4096 (" +
                                 std::to_string(min_queue_bytes) + ")");
  }
  std::string error;
  if (!chat::ConfigureLogging(parsed["log-level"].as<std::string>(), &error)) {
    chat::ExitWithUsageError("chat-server", error);
  }

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
  spdlog::info(
      "chat-server listening on {}:{} (history {}, max message {} bytes, queue limit {} messages "
      "or {} bytes, rate limit {}/s, batch linger {} us, {})",
      host, server.port(), server_options.history, server_options.max_message_bytes,
      server_options.queue_limit, server_options.queue_bytes, server_options.rate_limit,
      server_options.batch_linger.count(),
      server_options.presence_coalesce_above == 0
          ? std::string("presence never coalesced")
          : "presence coalesced above " + std::to_string(server_options.presence_coalesce_above) +
                " members every " + std::to_string(server_options.presence_interval.count()) +
                " ms");

  chat::MemoryTrimmer trimmer;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}, shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server.Shutdown();
  spdlog::info("stopped");
  return 0;
}
