#pragma once

#include <string_view>

namespace chat {

// Whether a gRPC address (HOST:PORT, [::1]:PORT, ipv4:/ipv6:/dns: forms,
// unix:PATH) is on loopback (127.0.0.0/8, ::1, localhost, a unix socket):
// reachable from this machine only. Plain text is safe there and nowhere else.
bool IsLoopbackAddress(std::string_view address);

}  // namespace chat
