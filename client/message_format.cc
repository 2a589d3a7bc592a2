#include "client/message_format.h"

#include <cctype>
#include <chrono>
#include <ctime>

#include "common/terminal_text.h"

namespace chat {
namespace {

constexpr std::string_view kReset = "\033[0m";
constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kDim = "\033[2m";
constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kMagenta = "\033[35m";
constexpr std::string_view kReverse = "\033[7m";
// Marks a mention when there is no colour to show it.
constexpr std::string_view kMentionMarker = ">> ";
// Sender colours: readable on dark and light backgrounds.
constexpr std::string_view kNameColors[] = {"\033[32m", "\033[33m", "\033[34m", "\033[36m",
                                            "\033[92m", "\033[93m", "\033[94m", "\033[96m"};
// Sender colours for 256-colour terminals: every colour of the 6x6x6 cube
// that is not grey, has a chroma of at least two cube steps, and has a
// contrast ratio (WCAG relative luminance, xterm's cube levels) of at least
// 4.5:1 on black and 2.5:1 on white. No near-black, near-white or grey.
constexpr int kNameColors256[] = {29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  63,  64,  67,
                                  68,  69,  70,  71,  72,  73,  98,  99,  100, 104, 105, 106, 107,
                                  131, 132, 133, 134, 135, 136, 137, 140, 141, 163, 164, 165, 166,
                                  167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 196, 197, 198,
                                  199, 200, 201, 202, 203, 204, 205, 206, 207};

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

// FNV-1a: the same colour for a name in every run and on every build.
std::uint32_t StableHash(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return hash;
}

std::string NameColor(std::string_view name, int colors) {
  const std::uint32_t hash = StableHash(Lowered(name));
  if (colors < 256) return std::string(kNameColors[hash % std::size(kNameColors)]);
  return "\033[38;5;" + std::to_string(kNameColors256[hash % std::size(kNameColors256)]) + "m";
}

bool SameName(std::string_view a, std::string_view b) { return Lowered(a) == Lowered(b); }

bool Contains(const char* haystack, std::string_view needle) {
  return haystack != nullptr && std::string_view(haystack).find(needle) != std::string_view::npos;
}

std::int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
    case PRESENCE:
      return "presence";
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

int TerminalColors(const char* term, const char* colorterm) {
  const std::string truecolor = colorterm == nullptr ? "" : Lowered(colorterm);
  if (Contains(term, "256color") || truecolor == "truecolor" || truecolor == "24bit") return 256;
  return 8;
}

bool IsMention(const ChatMessage& message, const DisplayStyle& style) {
  if (style.my_name.empty() || SameName(message.user(), style.my_name)) return false;
  switch (message.kind()) {
    case KIND_UNSPECIFIED:  // shown as chat
    case CHAT:
      return MentionsName(message.message(), style.my_name);
    case ACTION: {
      std::string_view text = message.message();
      const std::string actor = "* " + message.user();
      if (Lowered(text.substr(0, actor.size())) == Lowered(actor)) text.remove_prefix(actor.size());
      return MentionsName(text, style.my_name);
    }
    case PRIVATE:
      return SameName(message.subject(), style.my_name);
    default:
      return false;
  }
}

std::string FormatDisplayLine(const ChatMessage& message, const DisplayStyle& style,
                              std::int64_t arrival_unix_ms) {
  const Painter paint(style.color);
  const std::string user = SanitizeForDisplay(message.user());
  const std::string text = SanitizeForDisplay(message.message());
  const std::string room = message.room().empty() ? "" : "#" + SanitizeForDisplay(message.room());
  const std::int64_t time = message.time_unix_ms() != 0 ? message.time_unix_ms()
                            : arrival_unix_ms != 0      ? arrival_unix_ms
                                                        : NowUnixMs();
  std::string line = paint(kDim, LocalClock(time)) + " ";
  const bool mine = !style.my_name.empty() && SameName(message.user(), style.my_name);
  const bool mention = IsMention(message, style);
  const std::string name_color = NameColor(message.user(), style.colors);

  switch (message.kind()) {
    case JOIN:
    case LEAVE:
    case RENAME:
    case PRESENCE:
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
      line += paint(kDim, room) + " " +
              paint(mention ? std::string(kReverse) + name_color : name_color, text);
      break;
    case PRIVATE: {
      const std::string other =
          mine ? "-> *" + SanitizeForDisplay(message.subject()) + "*" : "*" + user + "*";
      line += paint(kMagenta, other) + " " + (mine ? text : paint(kBold, text));
      break;
    }
    default: {
      line += paint(kDim, room) + " " + paint(name_color, "<" + user + ">") + " ";
      line += mention ? paint(kReverse, text) : text;
      break;
    }
  }
  if (message.replay()) line = paint(kDim, "[history] ") + line;
  if (mention && !style.color) line = std::string(kMentionMarker) + line;
  return line;
}

}  // namespace chat
