#include "client/client_options.h"

#include <unistd.h>

#include <cstdlib>
#include <cxxopts.hpp>

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

}  // namespace

ClientOptions ParseClientOptions(int argc, char** argv) {
  cxxopts::Options options("chat-client",
                           "grpc-chat terminal client. Interactive in a terminal; with a pipe on "
                           "stdin it sends each line and prints one plain line per message.");
  // clang-format off
  options.add_options()
    ("server", "server address (env CHAT_SERVER)",
     cxxopts::value<std::string>()->default_value(Env("CHAT_SERVER", "127.0.0.1:50051")), "ADDR")
    ("name", "your name: 1-32 of A-Z a-z 0-9 _ - . (env CHAT_NAME, else $USER)",
     cxxopts::value<std::string>()->default_value(Env("CHAT_NAME", Env("USER"))), "NAME")
    ("room", "room to join first (env CHAT_ROOM)",
     cxxopts::value<std::string>()->default_value(Env("CHAT_ROOM", "lobby")), "ROOM")
    ("connect-timeout", "give up if the server cannot be reached for this long",
     cxxopts::value<double>()->default_value("10"), "SECONDS")
    ("retry-for", "after losing the connection, keep reconnecting this long "
     "(default: 300 in a terminal, 30 in a pipe)",
     cxxopts::value<double>(), "SECONDS")
    ("drain-timeout", "after end of input, wait this long for the server to finish",
     cxxopts::value<double>()->default_value("10"), "SECONDS")
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
  out.session.name = parsed["name"].as<std::string>();
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
  return out;
}

}  // namespace chat
