#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

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
  // Streams one HTTP/2 connection may have open at once (HTTP/2's
  // SETTINGS_MAX_CONCURRENT_STREAMS: a client's further streams wait for one
  // to end). 100: far more than any real client opens (each chat client
  // opens one), and it bounds what one connection can make the server hold.
  std::size_t max_streams_per_connection = 100;
  // Chat streams open at once from one client address (readers included);
  // 0 = no limit. 1000: a big office behind one NAT address, while one
  // address cannot hold more than about 40 MB of members (docs/security.md).
  std::size_t max_streams_per_ip = 1000;
  // TLS: the server's certificate chain and private key (PEM files); both or
  // neither. With a client CA as well, clients must present a certificate
  // it signed (mTLS). The files are re-read every tls_refresh (gRPC 1.51's
  // file-watcher provider), so renewed certificates apply without a restart
  // and without dropping streams.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::chrono::seconds tls_refresh{60};
  // Plain text on an address other than loopback has to be asked for.
  bool allow_insecure = false;
  // Signed tokens: with a key file (an HMAC secret, or an RSA or EC public
  // key), every Chat stream needs `authorization: Bearer <JWT>` and its name
  // is the token's subject (docs/security.md).
  std::string auth_jwt_key;
  // gRPC server reflection (what grpcurl uses to find the service).
  bool reflection = true;
  std::string log_level = "info";  // trace, debug, info, warn, error, critical or off
  // Where the log goes: "" = stderr (what systemd's journal takes), or a
  // file that is rotated when it reaches log_file_bytes, keeping
  // log_file_count old files (chat.log rotates to chat.1.log, the newest, chat.2.log...).
  std::string log_file;
  std::size_t log_file_bytes = 10 << 20;  // 10 MiB x (5 + 1) bounds the disk the log takes
  std::size_t log_file_count = 5;
  std::string log_format = "text";  // or "json": one object a line, for log shippers
  // The time flood control, the linger, presence and room reclaiming run on;
  // tests pass a manual clock. Outlives the server.
  const AlarmClock* clock = GrpcClock();
  // Presence in big rooms: in a room of more members than this (counting the
  // one who comes or goes), joins and leaves are announced together, in one
  // PRESENCE event per room per presence_interval; 0 = never. 50: a room
  // where a join reaches 50 people costs about 50 deliveries either way,
  // and joins into a room of 1000 cost 1000 per interval, not 1000 each.
  std::size_t presence_coalesce_above = 50;
  std::chrono::milliseconds presence_interval{1000};
  // Rooms. A room is made when first entered; once its last member has left
  // it is kept, history and all, for room_idle (so that people coming back
  // soon find the conversation and resume exactly), then reclaimed; 0 =
  // reclaimed at once. The lobby is never reclaimed. 10 minutes: longer than
  // a reconnect or a lunch-time lull, short enough that a burst of rooms
  // gives its memory back soon.
  std::chrono::seconds room_idle{600};
  // Rooms besides the lobby that may exist at once, empty ones not yet
  // reclaimed included: what bounds the rooms' memory (each holds up to
  // `history` messages). At the limit the room empty longest is reclaimed
  // early; with none empty, a new room is refused. 0 = no limit.
  std::size_t max_rooms = 10000;
  // New rooms one connection may create a minute (a burst of as many, then
  // one every 60/N s); entering a room that exists is free. 0 = no limit.
  std::size_t new_rooms_per_minute = 10;
  // Connections (each holds a descriptor) open at once; one more is closed
  // as it is accepted. 0 = automatic: half the descriptor limit (which the
  // server first raises to its hard limit), at most 10000, so that a flood
  // of connections never leaves the server without descriptors (gRPC 1.51's
  // listener stops for good at the first accept that fails for lack of one).
  std::size_t max_connections = 0;
  // Of those, from one address (IPv6: one /64); 0 = no limit. 200: a big
  // office behind one NAT address still fits, and one address holds at most
  // 2% of the default total, so filling it takes 50 addresses.
  std::size_t max_connections_per_ip = 200;
  // Bytes of metadata (HTTP/2 headers) a client may send with one stream;
  // more ends the stream with RESOURCE_EXHAUSTED. 8 KiB, gRPC's own default
  // made explicit: a bearer token of 1-2 KB fits four times over.
  std::size_t max_metadata_bytes = 8192;
  // A connection that has not finished its handshake by then (TLS, then the
  // client's HTTP/2 preface and SETTINGS) is closed, so connections that send
  // nothing cannot pile up (gRPC's default waits 120 s).
  std::chrono::seconds handshake_timeout{10};
  // Where Prometheus scrapes /metrics (HOST:PORT; port 0 picks one); "" =
  // off: an open port is for operators who ask for it, like --listen.
  std::string metrics_listen;
};

// Every option of chat-server (its name, help, default, range) has one home:
// the table in server_options.cc, which the functions below read: the
// command line, the config file (server/ops/config_file.h), the checks of
// options built in code, the log line and the example config.

// What chat-server's command line says: the options (from the defaults, then
// the --config file, then the command line's own options over both), and
// how to work them out again when the file changes (SIGHUP).
struct ServerCommandLine {
  ServerOptions options;
  std::string config_file;  // "" without --config
  // The options given on the command line, as (name, text): they win over
  // the file's, at start and on every reload.
  std::vector<std::pair<std::string, std::string>> overrides;
};

// Parses chat-server's command line. --help prints the options and exits 0;
// a bad option or value, in the file or on the line, prints one line naming
// it (and the file's line) and exits 2.
ServerCommandLine ParseServerCommandLine(int argc, char** argv);
inline ServerOptions ParseServerOptions(int argc, char** argv) {
  return ParseServerCommandLine(argc, argv).options;
}

// Reads the config file again and applies the command line's overrides:
// the new options, or the one-line reason they are not valid.
std::variant<ServerOptions, std::string> ReloadServerOptions(const ServerCommandLine& command_line);

// Whether `name` (as on the command line, without "--") is an option, and a
// switch (true or false) rather than one with a value.
enum class OptionKind { kNone, kSwitch, kValue };
OptionKind ServerOptionKind(std::string_view name);

// Sets option `name` from `text` as the command line would; the reason
// (without the option's name) if the value is out of its range.
std::optional<std::string> SetServerOption(ServerOptions& options, std::string_view name,
                                           const std::string& text);

// The options whose values differ between `before` and `after`, as
// "--name old -> new", and whether each can change while the server runs.
struct OptionChange {
  std::string name;
  std::string before;
  std::string after;
  bool live;  // applied by ChatServer::ApplyLiveOptions; otherwise after a restart
};
std::vector<OptionChange> ChangedServerOptions(const ServerOptions& before,
                                               const ServerOptions& after);

// A TOML config file with every option commented out at its default, with
// its help: packaging/chat-server.toml is this (a test checks it).
std::string ExampleConfigFile();

// Why `options` are not valid (a value out of its range, or a rule between
// options broken), naming the option as on the command line; nullopt if they
// are. ChatServer::Start refuses options that fail it, so options built in
// code (tests) obey the command line's rules.
std::optional<std::string> CheckServerOptions(const ServerOptions& options);

// Every option but --listen with its value, as on a command line: for the
// server's start-up log line.
std::string DescribeServerOptions(const ServerOptions& options);

}  // namespace chat
