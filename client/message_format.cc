#include "client/message_format.h"

#include <cctype>
#include <ctime>
#include <functional>

#include "common/terminal_text.h"

namespace chat {
namespace {

constexpr std::string_view kReset = "\033[0m";
constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kDim = "\033[2m";
constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kMagenta = "\033[35m";
constexpr std::string_view kReverse = "\033[7m";
// Sender colours: readable on dark and light backgrounds.
constexpr std::string_view kNameColors[] = {"\033[32m", "\033[33m", "\033[34m", "\033[36m",
                                            "\033[92m", "\033[93m", "\033[94m", "\033[96m"};

std::tm UtcTime(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

std::string LocalClock(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char out[16];
  std::strftime(out, sizeof out, "%H:%M:%S", &tm);
  return out;
}

std::string Lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Painter {
 public:
  explicit Painter(bool color) : color_(color) {}
  std::string operator()(std::string_view code, std::string_view text) const {
    if (!color_) return std::string(text);
    return std::string(code) + std::string(text) + std::string(kReset);
  }

 private:
  bool color_;
};

std::string_view NameColor(std::string_view name) {
  const std::size_t hash = std::hash<std::string>{}(Lowered(name));
  return kNameColors[hash % std::size(kNameColors)];
}

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case ACTION:
      return "action";
    case PRIVATE:
      return "private";
    case JOIN:
      return "join";
    case LEAVE:
      return "leave";
    case RENAME:
      return "rename";
    case NOTICE:
      return "notice";
    case ERROR:
      return "error";
    case GAP:
      return "gap";
    default:
      return "chat";
  }
}

std::string FormatPlainLine(const ChatMessage& message) {
  const std::tm tm = UtcTime(message.time_unix_ms());
  char time[80];
  std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((message.time_unix_ms() % 1000 + 1000) % 1000));
  std::string sender = message.user().empty() ? "-" : SanitizeForTerminal(message.user());
  if (message.kind() == PRIVATE) sender += ">" + SanitizeForTerminal(message.subject());
  std::string line = time;
  line += message.room().empty() ? " -" : " #" + SanitizeForTerminal(message.room());
  line += " " + std::to_string(message.seq()) + " ";
  line += KindName(message.kind());
  line += " " + sender + " " + SanitizeForTerminal(message.message());
  return line;
}

bool MentionsName(std::string_view text, std::string_view name) {
  if (name.empty()) return false;
  const std::string haystack = Lowered(text);
  const std::string needle = Lowered(name);
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    const bool starts = at == 0 || !is_word(haystack[at - 1]);
    const std::size_t end = at + needle.size();
    // A trailing '.' ends a sentence ("thanks alice.") rather than the name.
    const bool ends =
        end == haystack.size() || !is_word(haystack[end]) ||
        (haystack[end] == '.' && (end + 1 == haystack.size() || !is_word(haystack[end + 1])));
    if (starts && ends) return true;
  }
  return false;
}

std::string FormatDisplayLine(const ChatMessage& message, const DisplayStyle& style) {
  const Painter paint(style.color);
  const std::string user = SanitizeForTerminal(message.user());
  const std::string text = SanitizeForTerminal(message.message());
  const std::string room = message.room().empty() ? "" : "#" + SanitizeForTerminal(message.room());
  std::string line = paint(kDim, LocalClock(message.time_unix_ms())) + " ";
  const bool mine = !style.my_name.empty() && Lowered(message.user()) == Lowered(style.my_name);

  switch (message.kind()) {
    case JOIN:
    case LEAVE:
    case RENAME:
    case GAP:
      line += paint(kDim, "-!- " + (room.empty() ? "" : room + " ") + text);
      break;
    case NOTICE:
      line += paint(kDim, "-*- " + text);
      break;
    case ERROR:
      line += paint(kRed, "!!! " + text);
      break;
    case ACTION:
      line += paint(kDim, room) + " " + paint(NameColor(message.user()), text);
      break;
    case PRIVATE: {
      const std::string other =
          mine ? "-> *" + SanitizeForTerminal(message.subject()) + "*" : "*" + user + "*";
      line += paint(kMagenta, other) + " " + (mine ? text : paint(kBold, text));
      break;
    }
    default: {
      line += paint(kDim, room) + " " + paint(NameColor(message.user()), "<" + user + ">") + " ";
      line +=
          !mine && MentionsName(message.message(), style.my_name) ? paint(kReverse, text) : text;
      break;
    }
  }
  if (message.replay()) line = paint(kDim, "[history] ") + line;
  return line;
}

}  // namespace chat
