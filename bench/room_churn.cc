// room_churn: makes a running chat-server create many rooms, to measure what
// they cost and whether it comes back (issue 12, docs/benchmarks.md "Rooms").
//
// One stream (chat-user --name) sends --joins "/join rNNNN" lines into rooms
// with random names, each optionally followed by --fill lines of --bytes
// bytes (a room with full history), then "/leave" (back to the lobby, so the
// last room is empty too), and waits for the server to have done each step:
// its own JOIN in the last room, then its /who answer from the lobby. It
// prints what it did and how long it took; the server's memory is read from
// outside (scripts/bench/room_churn.sh reads /proc/PID/status). The server
// needs --rate-limit 0 and --new-rooms-per-minute 0 for a fast churn.
//
// Not a test: built with the project, never run by ctest.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cxxopts.hpp>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "chat.grpc.pb.h"
#include "common/protocol_keys.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Progress {
  std::mutex mu;
  std::condition_variable changed;
  std::string awaited;  // text the writer waits for (in a message); guarded by mu
  bool seen = false;    // guarded by mu
  bool ended = false;   // guarded by mu
  long errors = 0;      // guarded by mu
  std::string last_error;
};

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options("room_churn", "make a chat-server create many rooms");
  // clang-format off
  options.add_options()
    ("address", "server address", cxxopts::value<std::string>()->default_value("127.0.0.1:50051"))
    ("name", "the user name to join as", cxxopts::value<std::string>()->default_value("churn"))
    ("joins", "rooms to /join, with random names", cxxopts::value<long>()->default_value("50000"))
    ("fill", "lines to say in each room", cxxopts::value<long>()->default_value("0"))
    ("bytes", "bytes per line said", cxxopts::value<long>()->default_value("1000"))
    ("seed", "random seed for the room names", cxxopts::value<unsigned>()->default_value("1"))
    ("h,help", "show this help");
  // clang-format on
  const auto parsed = options.parse(argc, argv);
  if (parsed.count("help")) {
    std::puts(options.help().c_str());
    return 0;
  }
  const std::string name = parsed["name"].as<std::string>();
  const long joins = parsed["joins"].as<long>();
  const long fill = parsed["fill"].as<long>();
  const std::string line(static_cast<std::size_t>(parsed["bytes"].as<long>()), 'x');

  auto channel =
      grpc::CreateChannel(parsed["address"].as<std::string>(), grpc::InsecureChannelCredentials());
  auto stub = chat::ChatService::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata(std::string(chat::kUserHeader), name);
  auto stream = stub->Chat(&context);

  Progress progress;
  std::thread reader([&] {
    chat::ChatMessage message;
    while (stream->Read(&message)) {
      std::lock_guard lock(progress.mu);
      if (message.kind() == chat::ERROR) {
        ++progress.errors;
        progress.last_error = message.message();
      }
      if (!progress.awaited.empty() && !message.replay() &&
          message.message().find(progress.awaited) != std::string::npos) {
        progress.seen = true;
        progress.changed.notify_all();
      }
    }
    std::lock_guard lock(progress.mu);
    progress.ended = true;
    progress.changed.notify_all();
  });
  // Sends `lines`, then waits (at most 10 minutes) for a message containing `awaited`.
  const auto step = [&](const std::vector<std::string>& lines, const std::string& awaited) {
    {
      std::lock_guard lock(progress.mu);
      progress.awaited = awaited;
      progress.seen = false;
    }
    for (const std::string& text : lines) {
      chat::ChatMessage out;
      out.set_message(text);
      if (!stream->Write(out)) return false;
    }
    std::unique_lock lock(progress.mu);
    return progress.changed.wait_for(lock, std::chrono::minutes(10), [&] {
      return progress.seen || progress.ended;
    }) && progress.seen;
  };

  std::mt19937_64 random(parsed["seed"].as<unsigned>());
  const auto start = Clock::now();
  std::string room;
  for (long i = 0; i < joins; ++i) {
    room = "r" + std::to_string(random() % 1000000000000);
    std::vector<std::string> lines{"/join " + room};
    // Numbered, so that the last line's echo is told from the others.
    for (long f = 0; f < fill; ++f) lines.push_back(std::to_string(f) + " " + line);
    // Each room is waited for, so no queue fills up; a join costs one round trip.
    const std::string awaited = fill > 0 ? lines.back() : name + " joined #" + room;
    if (fill > 0) {
      // Wait for the last fill line's echo: the room's history is full then.
      if (!step(lines, awaited)) break;
    } else if ((i + 1) % 100 == 0 || i + 1 == joins) {
      if (!step(lines, awaited)) break;
    } else {
      chat::ChatMessage out;
      out.set_message(lines[0]);
      if (!stream->Write(out)) break;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Back to the lobby, so that the last room is empty too.
  const bool left = step({"/leave", "/who"}, " in #lobby: ");
  stream->WritesDone();
  context.TryCancel();
  reader.join();
  std::lock_guard lock(progress.mu);
  std::printf("%ld joins (%ld lines each) in %.1f s; %ld errors%s%s\n", joins, fill, seconds,
              progress.errors, progress.errors ? ", last: " : "", progress.last_error.c_str());
  return left ? 0 : 1;
}
