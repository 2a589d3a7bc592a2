#pragma once

#include <optional>
#include <string>

#include "server/server_options.h"

namespace chat {

// Sets in `options` what the TOML file at `path` sets: `name = value` at the
// top level, with the command line's option names (without "--"), a boolean
// for a switch, a number or a string for the rest. Returns the one-line
// reason the file cannot be used, naming the file, the line and the key (an
// unknown key, a bad value, a table where a value belongs, a TOML syntax
// error), or nullopt.
std::optional<std::string> ApplyConfigFile(const std::string& path, ServerOptions& options);

}  // namespace chat
