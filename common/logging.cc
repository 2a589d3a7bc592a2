#include "common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

namespace chat {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";
// %* is the message, escaped for a JSON string (JsonEscapedMessage).
constexpr char kJsonPattern[] = R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","message":"%*"})";

// The message as the inside of a JSON string: quotes, backslashes and
// control characters escaped; other bytes as they are (the server's text is
// UTF-8 already, and names quoted in log lines are sanitised before).
class JsonEscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    for (const char c : msg.payload) {
      switch (c) {
        case '"':
          Append(dest, "\\\"");
          break;
        case '\\':
          Append(dest, "\\\\");
          break;
        case '\n':
          Append(dest, "\\n");
          break;
        case '\r':
          Append(dest, "\\r");
          break;
        case '\t':
          Append(dest, "\\t");
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
            Append(dest, escaped);
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }

 private:
  static void Append(spdlog::memory_buf_t& dest, std::string_view text) {
    dest.append(text.data(), text.data() + text.size());
  }
};

std::unique_ptr<spdlog::formatter> MakeFormatter(bool json) {
  if (!json) return std::make_unique<spdlog::pattern_formatter>(kTextPattern);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonEscapedMessage>('*').set_pattern(kJsonPattern);
  return formatter;
}

}  // namespace

std::optional<std::string> CheckLogLevel(std::string_view level) {
  // from_str maps anything unknown to "off"; only accept "off" when asked for.
  if (spdlog::level::from_str(std::string(level)) == spdlog::level::off && level != "off") {
    return "must be trace, debug, info, warn, error, critical or off, not '" + std::string(level) +
           "'";
  }
  return std::nullopt;
}

bool ConfigureLogging(std::string_view level, const LogOutput& output, std::string* error) {
  if (auto problem = CheckLogLevel(level)) {
    *error = "the log level " + *problem;
    return false;
  }
  spdlog::sink_ptr sink;
  if (output.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(output.file, output.file_bytes,
                                                                    output.file_count);
    } catch (const spdlog::spdlog_ex& e) {
      *error = "--log-file " + output.file + ": " + e.what();
      return false;
    }
  }
  auto logger = std::make_shared<spdlog::logger>("chat", std::move(sink));
  logger->set_formatter(MakeFormatter(output.json));
  logger->set_level(spdlog::level::from_str(std::string(level)));
  // Warnings and worse reach the file at once; the rest within a second.
  logger->flush_on(spdlog::level::warn);
  spdlog::drop("chat");
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
  if (!output.file.empty()) spdlog::flush_every(std::chrono::seconds(1));
  return true;
}

void SetLogLevel(std::string_view level) {
  spdlog::default_logger()->set_level(spdlog::level::from_str(std::string(level)));
}

void LogAlways(const std::string& line) {
  const auto logger = spdlog::default_logger();
  const auto level = logger->level();
  logger->set_level(spdlog::level::info);
  logger->info("{}", line);
  logger->set_level(level);
  logger->flush();
}

}  // namespace chat
