#include "common/address.h"

namespace chat {

bool IsLoopbackAddress(std::string_view address) {
  if (address.substr(0, 5) == "unix:") return true;
  std::string_view host = address;
  for (std::string_view scheme : {"ipv4:", "ipv6:", "dns:"}) {
    if (host.substr(0, scheme.size()) == scheme) host.remove_prefix(scheme.size());
  }
  while (host.substr(0, 1) == "/") host.remove_prefix(1);  // dns:///host:port
  if (const std::size_t colon = host.rfind(':');
      colon != std::string_view::npos && (host.front() != '[' || host[colon - 1] == ']')) {
    host = host.substr(0, colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

}  // namespace chat
