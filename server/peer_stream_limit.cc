#include "server/peer_stream_limit.h"

namespace chat {

std::string PeerStreamLimit::Address(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.substr(0, scheme.size()) != scheme) continue;
    std::string_view host = peer.substr(scheme.size());
    host = host.substr(0, host.rfind(':'));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    return std::string(host);
  }
  return std::string(peer);
}

PeerStreamLimit::Slot PeerStreamLimit::Acquire(std::string_view peer) {
  std::string address = Address(peer);
  const std::size_t per_address = this->per_address();
  {
    MutexLock lock(&mu_);
    std::size_t& open = open_[address];
    if (per_address == 0 || open < per_address) {
      ++open;
      return Slot(this, std::move(address));
    }
  }
  refusals_.Refused("refused a stream from " + address + ": it has " + std::to_string(per_address) +
                    " streams open (--max-streams-per-ip)");
  return Slot();
}

void PeerStreamLimit::Release(const std::string& address) {
  MutexLock lock(&mu_);
  const auto it = open_.find(address);
  if (it != open_.end() && --it->second == 0) open_.erase(it);
}

}  // namespace chat
