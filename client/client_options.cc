#include "client/client_options.h"

#include <unistd.h>

#include <cstdlib>
#include <cxxopts.hpp>

#include "client/credentials.h"
#include "common/address.h"
#include "common/options.h"
#include "common/text_rules.h"

namespace chat {
namespace {

std::string Env(const char* name, std::string fallback = "") {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

std::chrono::milliseconds SecondsOption(const cxxopts::ParseResult& parsed, const char* name) {
  const double seconds = parsed[name].as<double>();
  if (!(seconds > 0) || seconds > 86400) {
    ExitWithUsageError("chat-client",
                       std::string("--") + name + " must be between 0 and 86400 seconds");
  }
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

std::string OptionalString(const cxxopts::ParseResult& parsed, const char* name) {
  return parsed.count(name) ? parsed[name].as<std::string>() : "";
}

// The TLS options and the token; exits 2 on a bad combination or an
// unreadable token file.
SecurityOptions ParseSecurity(const cxxopts::ParseResult& parsed, const std::string& server) {
  SecurityOptions security;
  for (const char* option : {"tls-ca", "tls-server-name", "tls-cert", "tls-key", "token-file"}) {
    if (parsed.count(option) && parsed[option].as<std::string>().empty()) {
      ExitWithUsageError("chat-client", std::string("--") + option + " needs a value");
    }
  }
  security.ca_file = OptionalString(parsed, "tls-ca");
  security.server_name = OptionalString(parsed, "tls-server-name");
  security.cert_file = OptionalString(parsed, "tls-cert");
  security.key_file = OptionalString(parsed, "tls-key");
  if (security.cert_file.empty() != security.key_file.empty()) {
    ExitWithUsageError("chat-client", "--tls-cert and --tls-key go together: give both or neither");
  }
  security.tls = parsed.count("tls") || !security.ca_file.empty() ||
                 !security.server_name.empty() || !security.cert_file.empty();
  if (parsed.count("token-file")) {
    std::string error;
    auto token = ReadTokenFile(parsed["token-file"].as<std::string>(), &error);
    if (!token) ExitWithUsageError("chat-client", error);
    security.token = std::move(*token);
  } else {
    security.token = Env("CHAT_TOKEN");
  }
  if (!IsPrintableToken(security.token)) {
    ExitWithUsageError(
        "chat-client",
        "the token in " +
            (parsed.count("token-file") ? "--token-file " + parsed["token-file"].as<std::string>()
                                        : std::string("CHAT_TOKEN")) +
            " must be printable ASCII without spaces");
  }
  if (!security.token.empty() && !security.tls && !IsLoopbackAddress(server)) {
    std::string host = AddressHost(server);
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    ExitWithUsageError("chat-client", "refusing to send a token without TLS to " + host +
                                          ": use --tls (or --tls-ca)");
  }
  return security;
}

}  // namespace

ClientOptions ParseClientOptions(int argc, char** argv) {
  cxxopts::Options options("chat-client",
                           "grpc-chat terminal client. Interactive in a terminal; with a pipe on "
                           "stdin it sends each line and prints one plain line per message.");
  // clang-format off
  options.add_options()
    ("server", "server address (env CHAT_SERVER)",
     cxxopts::value<std::string>()->default_value(Env("CHAT_SERVER", "127.0.0.1:50051")), "ADDR")
    ("name", "your name: 1-32 of A-Z a-z 0-9 _ - . (env CHAT_NAME; else your token's name, "
     "else $USER)",
     cxxopts::value<std::string>()->default_value(Env("CHAT_NAME")), "NAME")
    ("room", "room to join first (env CHAT_ROOM)",
     cxxopts::value<std::string>()->default_value(Env("CHAT_ROOM", "lobby")), "ROOM")
    ("connect-timeout", "give up if the server cannot be reached for this long",
     cxxopts::value<double>()->default_value("10"), "SECONDS")
    ("retry-for", "after losing the connection, keep reconnecting this long "
     "(default: 300 in a terminal, 30 in a pipe)",
     cxxopts::value<double>(), "SECONDS")
    ("drain-timeout", "after end of input, wait this long for the server to finish",
     cxxopts::value<double>()->default_value("10"), "SECONDS")
    ("tls", "connect with TLS, trusting the system's certificate authorities")
    ("tls-ca", "connect with TLS, trusting this CA certificate (PEM) instead",
     cxxopts::value<std::string>(), "FILE")
    ("tls-server-name", "with TLS: the name to check in the server's certificate (default: the "
     "host in --server)", cxxopts::value<std::string>(), "NAME")
    ("tls-cert", "with TLS: present this client certificate (PEM; with --tls-key), for servers "
     "that require one", cxxopts::value<std::string>(), "FILE")
    ("tls-key", "the private key of --tls-cert (PEM)", cxxopts::value<std::string>(), "FILE")
    ("token-file", "a signed token (from the server's operator) to prove your name (env "
     "CHAT_TOKEN holds the token itself)", cxxopts::value<std::string>(), "FILE")
    ("no-history", "do not show the room's history when joining (a reconnect still shows what "
     "was missed)")
    ("fail-on-refused", "exit 3 at the end if the server refused any line (for scripts)")
    ("no-color", "no colours (also when NO_COLOR is set)")
    ("no-bell", "no terminal bell when someone mentions you")
    ("h,help", "show this help");
  // clang-format on
  const auto parsed = ParseOptionsOrExit(options, argc, argv);

  ClientOptions out;
  out.session.server = parsed["server"].as<std::string>();
  SecurityOptions security = ParseSecurity(parsed, out.session.server);
  out.session.name = parsed["name"].as<std::string>();
  if (out.session.name.empty() && !security.token.empty()) {
    // The server names a token's holder after its subject.
    auto subject = TokenSubject(security.token);
    if (!subject) ExitWithUsageError("chat-client", "the token names no user (no 'sub' claim)");
    out.session.name = std::move(*subject);
  }
  if (out.session.name.empty()) out.session.name = Env("USER");
  if (out.session.name.empty()) ExitWithUsageError("chat-client", "no name: use --name NAME");
  if (auto problem = CheckName(out.session.name)) {
    ExitWithUsageError("chat-client", "invalid --name '" + out.session.name + "': " + *problem);
  }
  std::string room_error;
  out.session.room = NormalizeRoom(parsed["room"].as<std::string>(), &room_error);
  if (out.session.room.empty()) ExitWithUsageError("chat-client", "invalid --room: " + room_error);
  out.session.connect_timeout = SecondsOption(parsed, "connect-timeout");
  // Scripts should not hang for long on a server that is gone; a person at a
  // terminal would rather the client kept trying.
  out.session.retry_for = parsed.count("retry-for") ? SecondsOption(parsed, "retry-for")
                          : isatty(STDIN_FILENO)    ? std::chrono::seconds(300)
                                                    : std::chrono::seconds(30);
  out.session.drain_timeout = SecondsOption(parsed, "drain-timeout");
  out.session.show_history = !parsed.count("no-history");
  out.session.fail_on_refused = parsed.count("fail-on-refused") > 0;
  out.color = !parsed.count("no-color") && Env("NO_COLOR").empty();
  out.bell = !parsed.count("no-bell");
  std::string error;
  // Only data here: gRPC (and its threads) must not start before the client
  // has blocked its signals.
  auto tls = LoadTlsSettings(security, &error);
  if (!tls) ExitWithUsageError("chat-client", error);
  out.session.tls = std::move(*tls);
  out.session.token = std::move(security.token);
  return out;
}

}  // namespace chat
