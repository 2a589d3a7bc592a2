#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/ops/metrics.h"

namespace prometheus {
class Exposer;
}

namespace chat {

// What is read at scrape time rather than counted as it happens: the
// connection guard's books and the hub's census (taken under the hub's
// mutex; a scrape is not the delivery path).
struct ScrapedGauges {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_refused_total = 0;   // at --max-connections
  std::uint64_t connections_refused_per_ip = 0;  // at --max-connections-per-ip
  std::uint64_t connections_refused_no_fd = 0;   // for lack of descriptors
  std::uint64_t streams_refused_per_ip = 0;      // at --max-streams-per-ip
  std::uint64_t members = 0;
  std::uint64_t rooms = 0;
};

// Serves ServerMetrics (and the gauges `scrape` returns) as Prometheus text
// on http://ADDR/metrics, through prometheus-cpp's Exposer (civetweb). The
// families are built at scrape time by a custom Collectable, so nothing on
// the delivery path touches prometheus-cpp. Destroy it before what `scrape`
// reads: a scrape may be under way on the exposer's threads until then.
class MetricsExposer {
 public:
  // Null, with `error` filled, if `address` cannot be listened on.
  static std::unique_ptr<MetricsExposer> Start(const std::string& address,
                                               const ServerMetrics& metrics,
                                               std::function<ScrapedGauges()> scrape,
                                               std::string* error);
  ~MetricsExposer();
  int port() const;  // the port bound (useful with port 0)

 private:
  MetricsExposer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<class MetricsCollectable> collectable_;
};

}  // namespace chat
