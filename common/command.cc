#include "common/command.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/terminal_text.h"
#include "common/text_rules.h"

namespace chat {
namespace {

struct CommandSpec {
  std::string_view name;
  CommandKind kind;
  int args;  // 0: none, 1: one word, 2: word + rest of line, 3: rest of line, 4: one word or none
  std::string_view usage;
};

constexpr std::array kCommands = {
    CommandSpec{"join", CommandKind::kJoin, 1, "/join ROOM"},
    CommandSpec{"leave", CommandKind::kLeave, 0, "/leave"},
    CommandSpec{"nick", CommandKind::kNick, 1, "/nick NAME"},
    CommandSpec{"me", CommandKind::kMe, 3, "/me ACTION"},
    CommandSpec{"msg", CommandKind::kMsg, 2, "/msg NAME TEXT"},
    CommandSpec{"who", CommandKind::kWho, 0, "/who"},
    CommandSpec{"rooms", CommandKind::kRooms, 4, "/rooms [FROM]"},
    CommandSpec{"help", CommandKind::kHelp, 0, "/help"},
};

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string Lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Command Invalid(std::string error) {
  return Command{CommandKind::kInvalid, {}, {}, std::move(error)};
}

}  // namespace

Command ParseCommand(std::string_view line) {
  if (line.empty() || line.front() != '/') return Command{CommandKind::kSay, std::string(line)};
  if (line.starts_with("//")) return Command{CommandKind::kSay, std::string(line.substr(1))};

  const std::string_view body = line.substr(1);
  const std::size_t space = body.find(' ');
  const std::string name = Lowered(body.substr(0, space));
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view{} : TrimSpaces(body.substr(space + 1));

  const auto spec = std::find_if(kCommands.begin(), kCommands.end(),
                                 [&](const CommandSpec& c) { return c.name == name; });
  if (spec == kCommands.end()) {
    return Invalid("unknown command /" + QuoteSent(name) +
                   "; type /help for the list (// sends a literal /)");
  }
  const auto usage = [&] { return Invalid("usage: " + std::string(spec->usage)); };
  const std::size_t rest_space = rest.find(' ');
  switch (spec->args) {
    case 0:
      if (!rest.empty()) return usage();
      return Command{spec->kind};
    case 4:
      if (rest.empty()) return Command{spec->kind};
      [[fallthrough]];
    case 1:
      if (rest.empty()) return usage();
      if (rest_space != std::string_view::npos) {
        // "/join bad room!": say what is wrong with the name, not just the usage.
        std::string problem;
        if (spec->kind == CommandKind::kJoin || spec->kind == CommandKind::kRooms) {
          NormalizeRoom(rest, &problem);
        } else {
          problem = CheckName(rest).value_or("");
        }
        return Invalid("usage: " + std::string(spec->usage) + " ('" + QuoteSent(rest) +
                       "' is not one: " + (problem.empty() ? "it has spaces" : problem) + ")");
      }
      return Command{spec->kind, std::string(rest)};
    case 2: {
      if (rest_space == std::string_view::npos) return usage();
      const std::string_view text = TrimSpaces(rest.substr(rest_space + 1));
      if (text.empty()) return usage();
      return Command{spec->kind, std::string(rest.substr(0, rest_space)), std::string(text)};
    }
    default:
      if (rest.empty()) return usage();
      return Command{spec->kind, std::string(rest)};
  }
}

std::vector<std::string> CommandNames() {
  std::vector<std::string> names;
  for (const CommandSpec& spec : kCommands) names.push_back("/" + std::string(spec.name));
  return names;
}

std::string_view ServerCommandHelp() {
  return "/join ROOM      switch to ROOM (created when first joined)\n"
         "/leave          go back to the lobby\n"
         "/nick NAME      change your name\n"
         "/me ACTION      say what you are doing (* you waves)\n"
         "/msg NAME TEXT  send TEXT to NAME only\n"
         "/who            list the members of your room\n"
         "/rooms [FROM]   list the rooms with members, 50 at a time by name (from FROM on)\n"
         "/help           this list\n"
         "//TEXT          say TEXT starting with a single /";
}

}  // namespace chat
