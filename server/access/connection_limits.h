#pragma once

#include <sys/resource.h>
#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <unordered_map>

namespace chat {

// The books of a server's open connections: how many in all and how many
// from each address, and whether one more may come. Pure bookkeeping, no
// sockets; not thread-safe (AcceptGuard's lock guards it).
class ConnectionLimits {
 public:
  enum class Verdict { kAdmitted, kOverTotal, kOverAddress };

  // At most `max_total` connections at once, at most `max_per_address` of
  // them from one address (0: no limit per address).
  ConnectionLimits(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // Counts a new connection from `address` if both limits allow it.
  Verdict Admit(const std::string& address);
  // A connection that Admit counted has closed.
  void Release(const std::string& address);

  std::size_t open() const { return open_; }
  std::size_t open_from(const std::string& address) const;
  std::size_t max_total() const { return max_total_; }
  std::size_t max_per_address() const { return max_per_address_; }
  // New limits for connections admitted from now on (those open stay).
  void SetLimits(std::size_t max_total, std::size_t max_per_address) {
    max_total_ = max_total;
    max_per_address_ = max_per_address;
  }

 private:
  std::size_t max_total_;
  std::size_t max_per_address_;
  std::size_t open_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;  // only addresses with some open
};

// What connections from one place have in common, as text: the IPv4
// address (also for IPv4-mapped IPv6 addresses, as a dual-stack listener
// sees IPv4 clients), the /64 prefix of an IPv6 address ("2001:db8:1:2::/64":
// one host or one home network usually has a whole /64), "unix" for Unix
// sockets, "?" for anything else.
std::string AddressKey(const sockaddr* address, socklen_t length);

// The process's descriptor limit (RLIMIT_NOFILE) before and after
// RaiseDescriptorLimit.
struct DescriptorLimit {
  rlim_t soft_before = 0;
  rlim_t soft = 0;
  rlim_t hard = 0;
};

// Raises the soft descriptor limit to the hard one (and no further than
// /proc/sys/fs/nr_open allows); says what it was and what it is now.
DescriptorLimit RaiseDescriptorLimit();

// The connection limit when none is given: half the descriptors, leaving the
// other half to everything else a server opens (its own few dozen, files,
// a store's connections later, and the one a refused connection holds for
// an instant), and no more than kDefaultMaxConnections.
inline constexpr std::size_t kDefaultMaxConnections = 10000;
std::size_t AutomaticMaxConnections(rlim_t descriptors);

}  // namespace chat
