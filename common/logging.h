#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chat {

// Sets spdlog's default logger to stderr at `level` (trace, debug, info, warn,
// error, critical, off). Returns false and fills `error` for an unknown level.
bool ConfigureLogging(std::string_view level, std::string* error);

// Logs `line` at info whatever the level: for the few lines an operator
// needs at any level (the address and port the server listens on).
void LogAlways(const std::string& line);

// Why `level` is not one ConfigureLogging takes, or nullopt if it is.
std::optional<std::string> CheckLogLevel(std::string_view level);

}  // namespace chat
