#include "common/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace chat {
namespace {

bool IsUnixTarget(std::string_view address) {
  return address.substr(0, 5) == "unix:" || address.substr(0, 14) == "unix-abstract:";
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == y;
         });
}

// a.b.c.d, each 0-255 without leading zeros, a = 127.
bool IsDottedLoopback(std::string_view host) {
  int parts = 0;
  while (true) {
    const std::size_t dot = std::min(host.find('.'), host.size());
    const std::string_view part = host.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0') ||
        part.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    const int value = std::stoi(std::string(part));
    if (value > 255 || (parts == 0 && value != 127)) return false;
    ++parts;
    if (dot == host.size()) break;
    host.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool IsIpv6Loopback(std::string_view host) {
  in6_addr address{};
  const std::string text(host);
  return inet_pton(AF_INET6, text.c_str(), &address) == 1 &&
         std::memcmp(&address, &in6addr_loopback, sizeof address) == 0;
}

}  // namespace

std::string AddressHost(std::string_view address) {
  if (IsUnixTarget(address)) return std::string(address);
  for (std::string_view scheme : {"dns:", "ipv4:", "ipv6:", "passthrough:"}) {
    if (address.substr(0, scheme.size()) == scheme) {
      address.remove_prefix(scheme.size());
      break;
    }
  }
  if (address.substr(0, 2) == "//") {
    const std::size_t slash = address.find('/', 2);
    address = slash == std::string_view::npos ? std::string_view() : address.substr(slash + 1);
  }
  if (address.substr(0, 1) == "[") {
    const std::size_t close = address.find(']');
    return std::string(close == std::string_view::npos ? address.substr(1)
                                                       : address.substr(1, close - 1));
  }
  if (std::count(address.begin(), address.end(), ':') > 1) return std::string(address);
  return std::string(address.substr(0, address.find(':')));
}

bool IsLoopbackAddress(std::string_view address) {
  if (IsUnixTarget(address)) return true;
  const std::string host = AddressHost(address);
  return EqualsIgnoringCase(host, "localhost") || IsDottedLoopback(host) || IsIpv6Loopback(host);
}

}  // namespace chat
