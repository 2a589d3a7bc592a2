#pragma once

#include <map>
#include <string>
#include <vector>

namespace chat::testing {

// Sends one raw frame on `method` (a plain-text call) and returns the first
// `replies` frames the server sends back (fewer if the call ends first);
// bounded by a deadline of 10 s.
std::vector<std::string> RawBidiCall(const std::string& address, const std::string& method,
                                     const std::map<std::string, std::string>& metadata,
                                     const std::string& frame, std::size_t replies);

}  // namespace chat::testing
