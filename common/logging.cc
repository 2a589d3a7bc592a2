#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace chat {

std::optional<std::string> CheckLogLevel(std::string_view level) {
  // from_str maps anything unknown to "off"; only accept "off" when asked for.
  if (spdlog::level::from_str(std::string(level)) == spdlog::level::off && level != "off") {
    return "must be trace, debug, info, warn, error, critical or off, not '" + std::string(level) +
           "'";
  }
  return std::nullopt;
}

bool ConfigureLogging(std::string_view level, std::string* error) {
  if (auto problem = CheckLogLevel(level)) {
    *error = "the log level " + *problem;
    return false;
  }
  const auto parsed = spdlog::level::from_str(std::string(level));
  auto logger = spdlog::stderr_color_mt("chat");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return true;
}

void LogAlways(const std::string& line) {
  const auto logger = spdlog::default_logger();
  const auto level = logger->level();
  logger->set_level(spdlog::level::info);
  logger->info("{}", line);
  logger->set_level(level);
}

}  // namespace chat
