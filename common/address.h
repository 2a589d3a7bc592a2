#pragma once

#include <string>
#include <string_view>

namespace chat {

// The host a gRPC target names, the rules shared with the Go and Python
// clients (interop/testdata/access.json): a unix: or unix-abstract: target
// whole; else, after a dns:, ipv4:, ipv6: or passthrough: scheme and a
// //authority/, the host without brackets or port (a value with more than one
// ':' and no brackets is all host).
std::string AddressHost(std::string_view address);

// Whether a gRPC target (a --server or --listen value) is on this machine
// only: a unix socket, localhost in any case, 127.0.0.0/8 in dotted form, or
// ::1 in any IPv6 spelling without a zone. Nothing else: not IPv4-mapped
// addresses, not names starting with "127.". Plain text is safe there and
// nowhere else.
bool IsLoopbackAddress(std::string_view address);

}  // namespace chat
