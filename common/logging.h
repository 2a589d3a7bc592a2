#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chat {

// Where and how the log is written.
struct LogOutput {
  std::string file;            // "" = stderr; else a file rotated by size
  std::size_t file_bytes = 0;  // with a file: rotated when it reaches this
  std::size_t file_count = 0;  // with a file: rotated files kept (a.log: a.1.log newest)
  bool json = false;           // one JSON object a line: time (UTC), level, message
};

// Sets spdlog's default logger to `output` at `level` (trace, debug, info,
// warn, error, critical, off). Returns false and fills `error` for an unknown
// level or a log file that cannot be opened.
bool ConfigureLogging(std::string_view level, const LogOutput& output, std::string* error);
inline bool ConfigureLogging(std::string_view level, std::string* error) {
  return ConfigureLogging(level, LogOutput{}, error);
}

// Changes the default logger's level (a level CheckLogLevel accepts).
void SetLogLevel(std::string_view level);

// Logs `line` at info whatever the level: for the few lines an operator
// needs at any level (the address and port the server listens on).
void LogAlways(const std::string& line);

// Why `level` is not one ConfigureLogging takes, or nullopt if it is.
std::optional<std::string> CheckLogLevel(std::string_view level);

}  // namespace chat
