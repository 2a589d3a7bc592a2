#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chat {

// The whole of a small file named on a command line (a certificate, a key, a
// token): its bytes, or nullopt with `error` set to a line naming `what` (the
// option, e.g. "--tls-cert") and `path`: "cannot read --tls-cert PATH: No such
// file or directory", or "--tls-cert PATH is too big (over 1048576 bytes)".
// Reads at most max_bytes + 1 bytes, so a wrong path (/dev/zero, a log)
// fails at once rather than filling memory.
std::optional<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                         std::size_t max_bytes, std::string* error);

}  // namespace chat
