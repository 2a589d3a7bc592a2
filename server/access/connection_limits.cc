#include "server/access/connection_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <fstream>

namespace chat {

ConnectionLimits::Verdict ConnectionLimits::Admit(const std::string& address) {
  if (open_ >= max_total_) return Verdict::kOverTotal;
  std::size_t& from_address = per_address_[address];
  if (max_per_address_ > 0 && from_address >= max_per_address_) return Verdict::kOverAddress;
  ++from_address;
  ++open_;
  return Verdict::kAdmitted;
}

void ConnectionLimits::Release(const std::string& address) {
  auto it = per_address_.find(address);
  if (it == per_address_.end() || it->second == 0) return;  // never counted: nothing to give back
  if (--it->second == 0) per_address_.erase(it);
  --open_;
}

std::size_t ConnectionLimits::open_from(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

std::string AddressKey(const sockaddr* address, socklen_t length) {
  char text[INET6_ADDRSTRLEN + 4] = {};
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    return text;
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    in6_addr bytes = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&bytes)) {
      inet_ntop(AF_INET, &bytes.s6_addr[12], text, sizeof text);
      return text;
    }
    std::memset(&bytes.s6_addr[8], 0, 8);  // the /64 prefix
    inet_ntop(AF_INET6, &bytes, text, sizeof text);
    return std::string(text) + "/64";
  }
  if (address->sa_family == AF_UNIX) return "unix";
  return "?";
}

DescriptorLimit RaiseDescriptorLimit() {
  DescriptorLimit limit;
  rlimit now{};
  if (getrlimit(RLIMIT_NOFILE, &now) != 0) return limit;
  limit.soft_before = limit.soft = now.rlim_cur;
  limit.hard = now.rlim_max;
  rlim_t target = now.rlim_max;
  if (target == RLIM_INFINITY) {
    // Linux never lets the limit pass fs.nr_open.
    rlim_t nr_open = 1 << 20;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    target = nr_open;
  }
  if (target > now.rlim_cur) {
    rlimit raised = now;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit.soft = target;
  }
  return limit;
}

std::size_t AutomaticMaxConnections(rlim_t descriptors) {
  return std::clamp<std::size_t>(descriptors / 2, 1, kDefaultMaxConnections);
}

}  // namespace chat
