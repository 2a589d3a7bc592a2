#include "server/server_options.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cxxopts.hpp>
#include <limits>

#include "common/address.h"
#include "common/logging.h"
#include "common/options.h"
#include "server/ops/config_file.h"

namespace chat {
namespace {

using Problem = std::optional<std::string>;

// One option of chat-server: its name and help, its value in ServerOptions
// as text (the default --help shows, and what the log line reports), and how
// to set it from text, with its own range. The command line, the checks of
// options built in code (CheckServerOptions) and the log line all read this
// table; a config file will too.
struct OptionSpec {
  const char* name;
  const char* value_name;  // "" for a switch: --name alone means true, --name=false turns it off
  const char* help;
  std::string (*show)(const ServerOptions&);
  Problem (*set)(ServerOptions&, const std::string& text);
};

std::string Show(std::size_t value) { return std::to_string(value); }
std::string Show(bool value) { return value ? "true" : "false"; }
std::string Show(long value) { return std::to_string(value); }
std::string Show(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// A whole number in [min, max], or the reason it is not.
template <typename T>
Problem ParseWhole(const std::string& text, T min, T max, T* out) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
           ", not '" + text + "'";
  }
  *out = value;
  return std::nullopt;
}

Problem ParseNumber(const std::string& text, double min, double max, double* out) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value >= min) ||
      !(value <= max)) {
    return "must be a number from " + Show(min) + " to " + Show(max) + ", not '" + text + "'";
  }
  *out = value;
  return std::nullopt;
}

// A whole number of `Duration` units in [min, max].
template <typename Duration>
Problem ParseDuration(const std::string& text, long min, long max, Duration* out) {
  long count = 0;
  Problem problem = ParseWhole<long>(text, min, max, &count);
  if (!problem) *out = Duration(count);
  return problem;
}

Problem ParseSwitch(const std::string& text, bool* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return "must be true or false, not '" + text + "'";
  }
  return std::nullopt;
}

// A file option: any path, "" for none. Whether it can be read is found when
// the server starts, which says so naming the option.
Problem SetPath(const std::string& text, std::string* out) {
  *out = text;
  return std::nullopt;
}

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kMaxDescriptors = 1 << 20;  // Linux's fs.nr_open by default

// clang-format off
const OptionSpec kOptions[] = {
  {"listen", "ADDR", "address to listen on (port 0 picks a free port)",
   [](const ServerOptions& o) { return o.listen; },
   [](ServerOptions& o, const std::string& t) -> Problem {
     if (t.empty() || t.find(':') == std::string::npos) return "must be HOST:PORT, not '" + t + "'";
     o.listen = t;
     return std::nullopt;
   }},
  {"history", "N", "messages kept per room and sent to members who join",
   [](const ServerOptions& o) { return Show(o.history); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 0, 100000, &o.history);
   }},
  {"max-message-bytes", "N", "longest chat text accepted, in bytes",
   [](const ServerOptions& o) { return Show(o.max_message_bytes); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 1, 1 << 20, &o.max_message_bytes);
   }},
  // Watermarks at 1/8 and 1/16 of the limits need room to be apart.
  {"queue-limit", "N", "messages waiting for one client before it is cut off as too slow "
   "(history sent on a join apart); rooms hold their senders back while most members have "
   "1/8 of this waiting",
   [](const ServerOptions& o) { return Show(o.queue_limit); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 16, 10000000, &o.queue_limit);
   }},
  {"queue-bytes", "N", "bytes of messages waiting for one client before it is cut off as too "
   "slow (history sent on a join apart); 1/8 of it also counts as backlogged; at least 16 x "
   "--max-message-bytes + 4096",
   [](const ServerOptions& o) { return Show(o.queue_bytes); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 4096, std::size_t{1} << 34, &o.queue_bytes);
   }},
  {"rate-limit", "N", "lines one client may send per second (bursts of twice that, at least "
   "10), and private messages one user may receive per second; 0 = no limit",
   [](const ServerOptions& o) { return Show(o.rate_limit); },
   [](ServerOptions& o, const std::string& t) { return ParseNumber(t, 0, 1e6, &o.rate_limit); }},
  {"batch-linger-us", "N", "for clients that take batch frames: microseconds a stream waits "
   "after a write before the next one, so messages arriving meanwhile leave together (less CPU "
   "per message at high rates, up to this much more latency); 0 = off",
   [](const ServerOptions& o) { return Show(static_cast<long>(o.batch_linger.count())); },
   [](ServerOptions& o, const std::string& t) {
     return ParseDuration(t, 0, 1000000, &o.batch_linger);
   }},
  {"presence-coalesce-above", "N", "in rooms of more members than this, joins and leaves are "
   "announced together, one event per room per --presence-interval-ms; 0 = never",
   [](const ServerOptions& o) { return Show(o.presence_coalesce_above); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 0, kNoLimit, &o.presence_coalesce_above);
   }},
  {"presence-interval-ms", "N", "how long a big room's joins and leaves are gathered before "
   "they are announced, in milliseconds",
   [](const ServerOptions& o) { return Show(static_cast<long>(o.presence_interval.count())); },
   [](ServerOptions& o, const std::string& t) {
     return ParseDuration(t, 1, 60000, &o.presence_interval);
   }},
  {"room-idle-seconds", "N", "seconds a room is kept, history and all, after its last member "
   "left; 0 = reclaimed at once (the lobby never is)",
   [](const ServerOptions& o) { return Show(static_cast<long>(o.room_idle.count())); },
   [](ServerOptions& o, const std::string& t) {
     return ParseDuration(t, 0, 7 * 24 * 3600, &o.room_idle);
   }},
  {"max-rooms", "N", "rooms besides the lobby that may exist at once, empty ones not yet "
   "reclaimed included; 0 = no limit",
   [](const ServerOptions& o) { return Show(o.max_rooms); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 0, kNoLimit, &o.max_rooms);
   }},
  {"new-rooms-per-minute", "N", "new rooms one connection may create a minute (a burst of as "
   "many); joining a room that exists is free; 0 = no limit",
   [](const ServerOptions& o) { return Show(o.new_rooms_per_minute); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 0, 1000000, &o.new_rooms_per_minute);
   }},
  {"max-streams-per-connection", "N", "streams one client connection may have open at once; "
   "its further streams wait (HTTP/2 flow control) until one ends",
   [](const ServerOptions& o) { return Show(o.max_streams_per_connection); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 1, 100000, &o.max_streams_per_connection);
   }},
  {"max-streams-per-ip", "N", "Chat streams one client address may have open at once, readers "
   "included; further streams get RESOURCE_EXHAUSTED; 0 = no limit",
   [](const ServerOptions& o) { return Show(o.max_streams_per_ip); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 0, kNoLimit, &o.max_streams_per_ip);
   }},
  {"max-connections", "N", "connections open at once; more are closed as they are accepted; "
   "auto = half the descriptor limit (the server raises its soft limit to the hard one), at "
   "most 10000",
   [](const ServerOptions& o) { return o.max_connections == 0 ? "auto" : Show(o.max_connections); },
   [](ServerOptions& o, const std::string& t) -> Problem {
     if (t == "auto") {
       o.max_connections = 0;
       return std::nullopt;
     }
     std::size_t value = 0;
     if (ParseWhole<std::size_t>(t, 1, kMaxDescriptors, &value)) {
       return "must be auto or a whole number from 1 to " + Show(kMaxDescriptors) + ", not '" + t +
              "'";
     }
     o.max_connections = value;
     return std::nullopt;
   }},
  {"max-connections-per-ip", "N", "connections open at once from one address (IPv6: one /64); "
   "more are closed as they are accepted; 0 = no limit (behind a proxy, where every client "
   "has its address)",
   [](const ServerOptions& o) { return Show(o.max_connections_per_ip); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 0, kMaxDescriptors, &o.max_connections_per_ip);
   }},
  {"max-metadata-bytes", "N", "bytes of metadata (HTTP/2 headers) a client may send with one "
   "stream; more ends the stream with RESOURCE_EXHAUSTED",
   [](const ServerOptions& o) { return Show(o.max_metadata_bytes); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 1024, 1 << 20, &o.max_metadata_bytes);
   }},
  {"handshake-timeout-seconds", "N", "seconds a new connection has to finish its handshake "
   "(TLS, then HTTP/2's preface and SETTINGS) before it is closed",
   [](const ServerOptions& o) { return Show(static_cast<long>(o.handshake_timeout.count())); },
   [](ServerOptions& o, const std::string& t) {
     return ParseDuration(t, 1, 3600, &o.handshake_timeout);
   }},
  {"tls-cert", "FILE", "the server's TLS certificate chain (PEM); with --tls-key, clients "
   "connect with TLS",
   [](const ServerOptions& o) { return o.tls_cert; },
   [](ServerOptions& o, const std::string& t) { return SetPath(t, &o.tls_cert); }},
  {"tls-key", "FILE", "the private key of --tls-cert (PEM)",
   [](const ServerOptions& o) { return o.tls_key; },
   [](ServerOptions& o, const std::string& t) { return SetPath(t, &o.tls_key); }},
  {"tls-client-ca", "FILE", "with TLS: clients must present a certificate signed by this CA "
   "(PEM; mutual TLS)",
   [](const ServerOptions& o) { return o.tls_client_ca; },
   [](ServerOptions& o, const std::string& t) { return SetPath(t, &o.tls_client_ca); }},
  {"tls-refresh-seconds", "N", "how often the TLS files are read again, so that renewed "
   "certificates apply without a restart",
   [](const ServerOptions& o) { return Show(static_cast<long>(o.tls_refresh.count())); },
   [](ServerOptions& o, const std::string& t) {
     return ParseDuration(t, 1, 86400, &o.tls_refresh);
   }},
  {"allow-insecure", "", "allow plain text (no TLS) on an address other than loopback",
   [](const ServerOptions& o) { return Show(o.allow_insecure); },
   [](ServerOptions& o, const std::string& t) { return ParseSwitch(t, &o.allow_insecure); }},
  {"auth-jwt-key", "FILE", "require signed tokens (authorization: Bearer JWT) checked with this "
   "key: an HMAC secret (HS256) or an RSA/EC public key in PEM (RS256, ES256); a stream's name "
   "is its token's subject",
   [](const ServerOptions& o) { return o.auth_jwt_key; },
   [](ServerOptions& o, const std::string& t) { return SetPath(t, &o.auth_jwt_key); }},
  {"reflection", "", "serve gRPC reflection (--reflection=false turns it off)",
   [](const ServerOptions& o) { return Show(o.reflection); },
   [](ServerOptions& o, const std::string& t) { return ParseSwitch(t, &o.reflection); }},
  {"metrics-listen", "ADDR", "serve Prometheus metrics on http://ADDR/metrics (HOST:PORT, port 0 "
   "picks one); empty = off",
   [](const ServerOptions& o) { return o.metrics_listen; },
   [](ServerOptions& o, const std::string& t) -> Problem {
     if (!t.empty() && t.find(':') == std::string::npos) return "must be HOST:PORT, not '" + t + "'";
     o.metrics_listen = t;
     return std::nullopt;
   }},
  {"log-level", "LEVEL", "trace, debug, info, warn, error, critical or off",
   [](const ServerOptions& o) { return o.log_level; },
   [](ServerOptions& o, const std::string& t) -> Problem {
     if (auto problem = CheckLogLevel(t)) return problem;
     o.log_level = t;
     return std::nullopt;
   }},
  {"log-file", "FILE", "write the log to this file instead of stderr, rotated by size "
   "(--log-file-bytes, --log-file-count)",
   [](const ServerOptions& o) { return o.log_file; },
   [](ServerOptions& o, const std::string& t) { return SetPath(t, &o.log_file); }},
  {"log-file-bytes", "N", "with --log-file: the size at which the file is rotated",
   [](const ServerOptions& o) { return Show(o.log_file_bytes); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 4096, std::size_t{1} << 40, &o.log_file_bytes);
   }},
  {"log-file-count", "N", "with --log-file: rotated files kept (chat.log rotates to chat.1.log, the newest, then chat.2.log...)",
   [](const ServerOptions& o) { return Show(o.log_file_count); },
   [](ServerOptions& o, const std::string& t) {
     return ParseWhole<std::size_t>(t, 1, 1000, &o.log_file_count);
   }},
  {"log-format", "FORMAT", "text, or json: one JSON object a line (time, level, message)",
   [](const ServerOptions& o) { return o.log_format; },
   [](ServerOptions& o, const std::string& t) -> Problem {
     if (t != "text" && t != "json") return "must be text or json, not '" + t + "'";
     o.log_format = t;
     return std::nullopt;
   }},
};
// clang-format on

// The rules between options.
Problem CheckCombinations(const ServerOptions& o) {
  // At least one message of the largest size, with its fields, must fit,
  // with room for the watermarks below it.
  const std::size_t min_queue_bytes = 16 * o.max_message_bytes + 4096;
  if (o.queue_bytes < min_queue_bytes) {
    return "--queue-bytes must be at least 16 x --max-message-bytes + 4096 (" +
           std::to_string(min_queue_bytes) + "), not " + std::to_string(o.queue_bytes);
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return std::string("--tls-cert and --tls-key go together: give both or neither");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    return std::string("--tls-client-ca needs TLS: give --tls-cert and --tls-key too");
  }
  if (o.log_file.empty() && (o.log_file_bytes != ServerOptions{}.log_file_bytes ||
                             o.log_file_count != ServerOptions{}.log_file_count)) {
    return std::string("--log-file-bytes and --log-file-count need --log-file");
  }
  if (o.tls_cert.empty() && !o.allow_insecure && !IsLoopbackAddress(o.listen)) {
    return "listening on " + o.listen +
           " without TLS would send chat (and tokens) in clear text: give --tls-cert and "
           "--tls-key, or --allow-insecure";
  }
  return std::nullopt;
}

const OptionSpec* FindOption(std::string_view name) {
  for (const OptionSpec& spec : kOptions) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

// What SIGHUP can change while the server runs (ChatServer::ApplyLiveOptions
// applies them); any other change waits for a restart. The TLS files are
// re-read on their own (--tls-refresh-seconds).
constexpr std::string_view kLiveOptions[] = {"log-level", "max-streams-per-ip", "max-connections",
                                             "max-connections-per-ip"};

// `help` as comment lines of at most about 80 columns.
std::string CommentLines(std::string_view help) {
  std::string text;
  std::string line = "#";
  std::size_t start = 0;
  while (start < help.size()) {
    std::size_t end = help.find(' ', start);
    if (end == std::string_view::npos) end = help.size();
    const std::string_view word = help.substr(start, end - start);
    if (line.size() > 1 && line.size() + 1 + word.size() > 80) {
      text += line + "\n";
      line = "#";
    }
    line += " ";
    line += word;
    start = end + 1;
  }
  return text + line + "\n";
}

// A value TOML reads as a number (so the example leaves it unquoted).
bool IsTomlNumber(const std::string& value) {
  double number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return !value.empty() && error == std::errc() && end == value.data() + value.size();
}

}  // namespace

Problem CheckServerOptions(const ServerOptions& options) {
  // Each value through its own setter: options built in code obey the same
  // ranges as the command line.
  ServerOptions copy = options;
  for (const OptionSpec& spec : kOptions) {
    if (Problem problem = spec.set(copy, spec.show(options))) {
      return "--" + std::string(spec.name) + " " + *problem;
    }
  }
  return CheckCombinations(options);
}

ServerCommandLine ParseServerCommandLine(int argc, char** argv) {
  const ServerOptions defaults;
  cxxopts::Options command_line("chat-server", "grpc-chat server: rooms, history, fan-out");
  command_line.add_options()("config",
                             "read options from this TOML file (name = value, names as "
                             "here without --); options given here win over the file's",
                             cxxopts::value<std::string>(), "FILE");
  for (const OptionSpec& spec : kOptions) {
    auto value = cxxopts::value<std::string>()->default_value(spec.show(defaults));
    if (*spec.value_name == '\0') value->implicit_value("true");
    command_line.add_options()(spec.name, spec.help, value, spec.value_name);
  }
  command_line.add_options()("h,help", "show this help");
  const auto parsed = ParseOptionsOrExit(command_line, argc, argv);

  ServerCommandLine result;
  if (parsed.count("config") > 0) result.config_file = parsed["config"].as<std::string>();
  for (const OptionSpec& spec : kOptions) {
    if (parsed.count(spec.name) == 0) continue;  // its default, or the file's
    const std::string text = parsed[spec.name].as<std::string>();
    // Checked here, before the file, so that the line names the flag.
    ServerOptions scratch;
    if (Problem problem = spec.set(scratch, text)) {
      ExitWithUsageError("chat-server", "--" + std::string(spec.name) + " " + *problem);
    }
    result.overrides.emplace_back(spec.name, text);
  }
  auto options = ReloadServerOptions(result);
  if (auto* problem = std::get_if<std::string>(&options)) {
    ExitWithUsageError("chat-server", *problem);
  }
  result.options = std::get<ServerOptions>(options);
  return result;
}

std::variant<ServerOptions, std::string> ReloadServerOptions(
    const ServerCommandLine& command_line) {
  ServerOptions options;
  if (!command_line.config_file.empty()) {
    if (Problem problem = ApplyConfigFile(command_line.config_file, options)) return *problem;
  }
  for (const auto& [name, text] : command_line.overrides) {
    if (Problem problem = SetServerOption(options, name, text)) {
      return "--" + name + " " + *problem;
    }
  }
  if (Problem problem = CheckCombinations(options)) return *problem;
  return options;
}

OptionKind ServerOptionKind(std::string_view name) {
  const OptionSpec* spec = FindOption(name);
  if (spec == nullptr) return OptionKind::kNone;
  return *spec->value_name == '\0' ? OptionKind::kSwitch : OptionKind::kValue;
}

Problem SetServerOption(ServerOptions& options, std::string_view name, const std::string& text) {
  const OptionSpec* spec = FindOption(name);
  if (spec == nullptr) return "is not an option of chat-server";
  return spec->set(options, text);
}

std::vector<OptionChange> ChangedServerOptions(const ServerOptions& before,
                                               const ServerOptions& after) {
  std::vector<OptionChange> changes;
  for (const OptionSpec& spec : kOptions) {
    std::string was = spec.show(before);
    std::string now = spec.show(after);
    if (was == now) continue;
    const bool live = std::find(std::begin(kLiveOptions), std::end(kLiveOptions),
                                std::string_view(spec.name)) != std::end(kLiveOptions);
    changes.push_back({spec.name, std::move(was), std::move(now), live});
  }
  return changes;
}

std::string ExampleConfigFile() {
  const ServerOptions defaults;
  std::string text =
      "# chat-server's configuration (TOML): every option, commented out at its default.\n"
      "# Names are the command line's without \"--\"; an option given on the command line\n"
      "# wins over this file. SIGHUP reads the file again and applies what can change\n"
      "# while the server runs, and logs the rest as needing a restart. Live:\n#";
  for (std::size_t i = 0; i < std::size(kLiveOptions); ++i) {
    text += (i == 0 ? " " : ", ") + std::string(kLiveOptions[i]);
  }
  text += ". See docs/operations.md and docs/deploy.md.\n";
  for (const OptionSpec& spec : kOptions) {
    text += "\n" + CommentLines(spec.help);
    const std::string value = spec.show(defaults);
    const bool quoted = *spec.value_name != '\0' && !IsTomlNumber(value);
    text += "#" + std::string(spec.name) + " = " + (quoted ? "\"" + value + "\"" : value) + "\n";
  }
  return text;
}

std::string DescribeServerOptions(const ServerOptions& options) {
  std::string text;
  for (const OptionSpec& spec : kOptions) {
    if (std::string_view(spec.name) == "listen") continue;  // said before, with the real port
    const std::string value = spec.show(options);
    if (value.empty()) continue;  // a file not given
    text += (text.empty() ? "--" : " --") + std::string(spec.name) + " " + value;
  }
  return text;
}

}  // namespace chat
