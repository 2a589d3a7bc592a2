#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace chat {

bool ConfigureLogging(std::string_view level, std::string* error) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps anything unknown to "off"; only accept "off" when asked for.
  if (parsed == spdlog::level::off && level != "off") {
    *error = "unknown log level '" + std::string(level) +
             "' (use trace, debug, info, warn, error, critical or off)";
    return false;
  }
  auto logger = spdlog::stderr_color_mt("chat");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return true;
}

}  // namespace chat
