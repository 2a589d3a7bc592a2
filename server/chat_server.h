#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "server/access/accept_guard.h"
#include "server/chat_service.h"
#include "server/hub.h"
#include "server/ops/metrics.h"
#include "server/ops/metrics_exposer.h"
#include "server/peer_stream_limit.h"
#include "server/periodic_task.h"
#include "server/server_options.h"
#include "server/token_verifier.h"
#include "server/write_linger.h"

namespace chat {

// A running chat server: the hub, the service, health checking and reflection.
class ChatServer {
 public:
  explicit ChatServer(const ServerOptions& options);
  ~ChatServer();

  // Binds and starts serving. Returns false with `error` filled (one line)
  // when the options are invalid, a TLS or key file cannot be used, or the
  // address cannot be used.
  bool Start(std::string* error);

  // Streams refused for their address having too many open.
  std::uint64_t streams_refused_per_ip() const { return stream_limit_.refusals().count(); }

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  // The port /metrics is served on (0: --metrics-listen is off, or not started).
  int metrics_port() const { return exposer_ ? exposer_->port() : 0; }
  const ServerMetrics& metrics() const { return metrics_; }
  Hub& hub() { return hub_; }
  // Connections open and refused at the connection limits (zeros before Start
  // and after Shutdown).
  ConnectionCounts connection_counts() const;

  // Applies what of `next` can change while the server runs (the options
  // ChangedServerOptions calls live: the log level and the stream and
  // connection limits, for streams and connections from now on).
  void ApplyLiveOptions(const ServerOptions& next);

  // The hub answers (its mutex can be taken): what the service manager's
  // watchdog pings stand for.
  bool Alive() const;

  // Tells every client, finishes their streams with UNAVAILABLE once their
  // queues drain, and cancels whatever is still open after `grace`.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(2));

 private:
  ServerOptions options_;
  ServerMetrics
      metrics_;  // this server's counters (not a global: servers in a process count apart)
  Hub hub_;
  std::unique_ptr<WriteLinger> linger_;  // null when batch_linger is 0; stopped after the server
  std::unique_ptr<TokenVerifier> verifier_;   // null without --auth-jwt-key; outlives the server
  PeerStreamLimit stream_limit_;              // outlives the server (reactors hold slots)
  std::unique_ptr<ChatServiceImpl> service_;  // made by Start, with the verifier
  std::unique_ptr<AcceptGuard> connection_guard_;  // outlives server_'s listener
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<PeriodicTask> room_sweeper_;  // reclaims idle rooms on a quiet server
  // Last: destroyed (and reset by Shutdown) first, as a scrape reads the hub and the guard.
  std::unique_ptr<MetricsExposer> exposer_;
};

}  // namespace chat
