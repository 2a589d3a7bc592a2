#pragma once

#include <cstdint>

namespace chat {

// Sends gRPC's own log lines (gpr_log) to spdlog, with the server's format
// and level, instead of raw to stderr. A failed TLS handshake is something
// any stranger can cause at will, so those lines are counted and logged at
// warn at most once every 10 s. Call once, before the server starts.
void RouteGrpcLogsToSpdlog();

// TLS handshakes that failed since the start (a client with the wrong CA,
// no client certificate, plain text to a TLS port, a scanner).
std::uint64_t FailedTlsHandshakes();

}  // namespace chat
