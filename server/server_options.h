#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "server/grpc_clock.h"

namespace chat {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // port 0 picks a free port
  std::size_t history = 200;               // messages kept per room
  std::size_t max_message_bytes = 2048;    // longest chat text accepted
  // What may wait for one client before it is cut off as too slow: live
  // messages (replayed history apart) by count and by bytes. Also where room
  // back-pressure starts: a member is backlogged at 1/8 of either (see
  // server/backlog.h and docs/architecture.md, "Overload").
  std::size_t queue_limit = 1024;
  std::size_t queue_bytes = 1 << 20;
  // Lines per second per client, with a burst of FloodBurst(rate_limit):
  // twice that, and at least 10 lines. 0 = off.
  double rate_limit = 20;
  // How long a stream that takes batch frames waits after a write before the
  // next one, so that what arrives meanwhile leaves in one frame; 0 = off.
  // 1 ms: busy streams leave in far fewer writes (4.7x the throughput flat
  // out, docs/benchmarks.md) for at most 2 ms more latency; quiet ones never wait.
  std::chrono::microseconds batch_linger{1000};
  // Presence in big rooms: in a room of more members than this (counting the
  // one who comes or goes), joins and leaves are announced together, in one
  // PRESENCE event per room per presence_interval; 0 = never. 50: a room
  // where a join reaches 50 people costs about 50 deliveries either way,
  // and joins into a room of 1000 cost 1000 per interval, not 1000 each.
  std::size_t presence_coalesce_above = 50;
  std::chrono::milliseconds presence_interval{1000};
  // The time flood control and the linger run on; tests pass a manual clock.
  // Outlives the server.
  const AlarmClock* clock = GrpcClock();
};

}  // namespace chat
