#include "server/chat_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "common/logging.h"
#include "grpc/health/v1/health.pb.h"
#include "server/memory_room_log.h"
#include "server/tls_files.h"

namespace chat {
namespace {

// The largest frame accepted. Text over the chat limit but under this one
// gets a friendly ERROR event and the stream goes on; a bigger frame is not
// a mistake but abuse, and gRPC ends that stream with RESOURCE_EXHAUSTED.
std::size_t MaxFrameBytes(std::size_t max_message_bytes) {
  return std::max<std::size_t>(64 * 1024, 4 * max_message_bytes + 1024);
}

Backlog::Limits QueueLimits(const ServerOptions& options) {
  // History replayed on a join does not count against the newcomer's limits;
  // twice the history lets a client switch rooms and back before reading.
  return {options.queue_limit, options.queue_bytes, 2 * options.history};
}

HubOptions MakeHubOptions(const ServerOptions& options, ServerMetrics* metrics) {
  HubOptions hub;
  hub.metrics = metrics;
  hub.max_message_bytes = options.max_message_bytes;
  hub.rate_limit = options.rate_limit;
  hub.clock = options.clock;
  hub.presence.coalesce_above = options.presence_coalesce_above;
  hub.presence.interval = options.presence_interval;
  hub.presence.clock = options.clock;
  hub.room_idle = options.room_idle;
  hub.max_rooms = options.max_rooms;
  hub.new_rooms_per_minute = options.new_rooms_per_minute;
  const std::size_t history = options.history;
  // Epochs: random per room and server run, so a restarted server's numbers
  // are never mistaken for the old ones.
  auto random = std::make_shared<std::mt19937_64>(std::random_device{}());
  hub.make_room_log = [history, random](const std::string&) {
    return std::make_unique<MemoryRoomLog>(history, (*random)() >> 1);
  };
  return hub;
}

// How often a server looks for idle rooms without waiting for the next
// client operation: a tenth of the idle time, between 1 s and 1 min. So a
// room on a quiet server goes at most that much after its idle time.
std::chrono::milliseconds RoomSweepInterval(std::chrono::seconds idle) {
  return std::clamp<std::chrono::milliseconds>(std::chrono::milliseconds(idle) / 10,
                                               std::chrono::seconds(1), std::chrono::minutes(1));
}

// Removes the reflection plugin from a builder (--reflection=false).
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    std::erase_if(*plugins, [](const auto& plugin) {
      return plugin->name() == grpc::reflection::ProtoServerReflectionPlugin().name();
    });
  }
};

}  // namespace

ChatServer::ChatServer(const ServerOptions& options)
    : options_(options),
      hub_(MakeHubOptions(options, &metrics_)),
      linger_(options.batch_linger.count() > 0
                  ? std::make_unique<WriteLinger>(options.batch_linger, options.clock)
                  : nullptr),
      stream_limit_(options.max_streams_per_ip) {}

ChatServer::~ChatServer() {
  if (server_) Shutdown(std::chrono::milliseconds(0));
}

bool ChatServer::Start(std::string* error) {
  if (auto problem = CheckServerOptions(options_)) {
    *error = "invalid options: " + *problem;
    return false;
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!options_.tls_cert.empty()) {
    if (auto problem = CheckTlsFiles(options_.tls_cert, options_.tls_key, options_.tls_client_ca)) {
      *error = *problem;
      return false;
    }
    credentials = MakeTlsServerCredentials(options_.tls_cert, options_.tls_key,
                                           options_.tls_client_ca, options_.tls_refresh);
  }
  if (!options_.auth_jwt_key.empty()) {
    auto key = TokenKey::FromFile(options_.auth_jwt_key, TokenKey::Use::kVerify, error);
    if (!key) {
      *error = "--auth-jwt-key: " + *error;
      return false;
    }
    verifier_ = std::make_unique<TokenVerifier>(std::move(key));
  }
  service_ = std::make_unique<ChatServiceImpl>(
      hub_, ChatReactor::Options{QueueLimits(options_), linger_.get(), verifier_.get(),
                                 &stream_limit_, &metrics_});

  grpc::EnableDefaultHealthCheckService(true);
  // Linked in for its descriptor (the static library's object would be left
  // out otherwise): reflection then describes grpc.health.v1.Health.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  // Registered for every server of the process; WithoutReflection takes it
  // out of one server's builder.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  // Connection limits, applied where gRPC accepts (server/access/accept_guard.h);
  // a fixed port is watched before it opens, port 0 as soon as it is known.
  connection_guard_ = MakeAcceptGuard(options_.max_connections, options_.max_connections_per_ip);
  connection_guard_->Watch(
      std::atoi(options_.listen.substr(options_.listen.rfind(':') + 1).c_str()));

  grpc::ServerBuilder builder;
  if (!options_.reflection) builder.SetOption(std::make_unique<WithoutReflection>());
  builder.AddListeningPort(options_.listen, credentials, &port_);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(MaxFrameBytes(options_.max_message_bytes)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(options_.max_streams_per_connection));
  // Long-lived streams: ping idle connections, and accept clients' keepalive
  // pings (every 20 s or more) without calling them abusive.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 5 * 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                             static_cast<int>(options_.max_metadata_bytes));
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(std::chrono::milliseconds(options_.handshake_timeout).count()));
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    *error = "cannot listen on " + options_.listen + " (address in use or invalid)";
    server_.reset();
    connection_guard_.reset();
    return false;
  }
  server_->GetHealthCheckService()->SetServingStatus(ChatService::service_full_name(), true);
  connection_guard_->Watch(port_);
  if (!options_.metrics_listen.empty()) {
    exposer_ = MetricsExposer::Start(
        options_.metrics_listen, metrics_,
        [this] {
          const ConnectionCounts connections = connection_counts();
          return ScrapedGauges{connections.open,
                               connections.refused_over_total,
                               connections.refused_over_address,
                               connections.refused_no_descriptors,
                               streams_refused_per_ip(),
                               hub_.member_count(),
                               hub_.room_count()};
        },
        error);
    if (!exposer_) {
      Shutdown(std::chrono::milliseconds(0));
      return false;
    }
  }
  // With an idle time of 0 every room goes as its last member leaves.
  if (options_.room_idle.count() > 0) {
    room_sweeper_ = std::make_unique<PeriodicTask>(RoomSweepInterval(options_.room_idle),
                                                   [this] { hub_.ReclaimIdleRooms(); });
  }
  return true;
}

void ChatServer::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  exposer_.reset();  // no scrape reads the hub or the guard from here on
  // Load balancers stop sending clients here before the drain begins.
  server_->GetHealthCheckService()->SetServingStatus(false);
  room_sweeper_.reset();
  hub_.Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  // Every stream is done; the linger may still hold references to some
  // (their writes were due after the end): let go of them.
  if (linger_) linger_->Stop();
  server_.reset();
  const ConnectionCounts connections = connection_guard_->counts();
  spdlog::info(
      "connections refused: {} at --max-connections, {} at --max-connections-per-ip, {} for "
      "lack of descriptors",
      connections.refused_over_total, connections.refused_over_address,
      connections.refused_no_descriptors);
  connection_guard_.reset();
}

void ChatServer::ApplyLiveOptions(const ServerOptions& next) {
  SetLogLevel(next.log_level);
  stream_limit_.set_per_address(next.max_streams_per_ip);
  if (connection_guard_) {
    connection_guard_->SetLimits(next.max_connections, next.max_connections_per_ip);
  }
  options_.log_level = next.log_level;
  options_.max_streams_per_ip = next.max_streams_per_ip;
  options_.max_connections = next.max_connections;
  options_.max_connections_per_ip = next.max_connections_per_ip;
}

bool ChatServer::Alive() const {
  (void)hub_.member_count();  // takes the hub's mutex, and so waits for it
  return true;
}

ConnectionCounts ChatServer::connection_counts() const {
  return connection_guard_ ? connection_guard_->counts() : ConnectionCounts{};
}

}  // namespace chat
