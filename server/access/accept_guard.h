#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace chat {

// What an AcceptGuard has seen, read without a lock (each number on its own:
// they may be a moment apart).
struct ConnectionCounts {
  std::uint64_t open = 0;                    // admitted and not closed yet
  std::uint64_t refused_over_total = 0;      // refused at the total limit
  std::uint64_t refused_over_address = 0;    // refused at the limit per address
  std::uint64_t refused_no_descriptors = 0;  // accepted on the reserve descriptor and closed
  std::uint64_t refused() const {
    return refused_over_total + refused_over_address + refused_no_descriptors;
  }
};

// Connection limits where gRPC 1.51 accepts connections, for the listening
// sockets of one server (docs/architecture.md, "Connection limits").
//
// gRPC 1.51 has no connection limit, and its listener stops for good after
// one accept4() error other than EAGAIN, EINTR or ECONNABORTED (EMFILE
// included). libgrpc calls accept4() and close() through the PLT, so this
// library defines both (the program's definitions come first in symbol
// lookup) and passes every call on to the next definition (libc's, or a
// sanitizer's interceptor). On a watched listening socket, accept4():
//   - closes a connection over a limit at once and accepts the next, so
//     gRPC only ever sees admitted connections or EAGAIN, and only when the
//     kernel's queue is empty (gRPC's listener is edge-triggered: stopping
//     early would strand queued connections until the next one arrives);
//   - never lets gRPC see EMFILE or ENFILE: it closes a reserve descriptor
//     kept for this, accepts and closes the waiting connection, reopens the
//     reserve and goes on until the queue is empty;
//   - retries the network errors Linux reports from accept (ECONNABORTED,
//     EPROTO, ENETDOWN, EHOSTUNREACH...), which are the connection's and not
//     the listener's; ENOBUFS and ENOMEM become EAGAIN.
// close() of an admitted connection's descriptor gives its place back
// (before the descriptor is freed, so its number cannot be reused before).
// A descriptor number that accept4() returns while still counted was closed
// some other way (dup2): its old connection is given back then.
// Every other accept4() and close() in the process passes straight through.
//
// Thread-safe. The guard must outlive the server's listener (destroy it
// after grpc::Server::Wait()).
class AcceptGuard {
 public:
  // At most `max_total` connections at once on the watched port(s), at most
  // `max_per_address` from one address (AddressKey; 0: no such limit).
  AcceptGuard(std::size_t max_total, std::size_t max_per_address);
  ~AcceptGuard();
  AcceptGuard(const AcceptGuard&) = delete;
  AcceptGuard& operator=(const AcceptGuard&) = delete;

  // Applies the limits to connections accepted from now on by listening
  // sockets bound to TCP `port` (all of them: IPv4 and IPv6). A port another
  // guard watches stays with that one; watching a port twice is harmless.
  void Watch(int port);

  ConnectionCounts counts() const;
  // New limits (SIGHUP) for connections accepted from now on; `max_total` 0
  // is automatic, as for MakeAcceptGuard. Connections open stay.
  void SetLimits(std::size_t max_total, std::size_t max_per_address);
  std::size_t max_total() const;
  std::size_t max_per_address() const;

  struct State;  // in accept_guard.cc

 private:
  std::unique_ptr<State> state_;
};

// Raises the soft descriptor limit to the hard one, works out the total
// limit (`max_connections`, or AutomaticMaxConnections of the raised limit
// when it is 0), logs both, and makes a guard with these limits.
std::unique_ptr<AcceptGuard> MakeAcceptGuard(std::size_t max_connections,
                                             std::size_t max_per_address);

}  // namespace chat
