#include "server/ops/metrics_exposer.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <exception>
#include <limits>
#include <utility>
#include <vector>

namespace chat {

class MetricsCollectable final : public prometheus::Collectable {
 public:
  MetricsCollectable(const ServerMetrics& metrics, std::function<ScrapedGauges()> scrape)
      : metrics_(metrics), scrape_(std::move(scrape)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    const ScrapedGauges gauges = scrape_();
    std::vector<prometheus::MetricFamily> out;
    auto one = [&](std::string name, std::string help, MetricType type, double value) {
      prometheus::ClientMetric metric;
      (type == MetricType::Counter ? metric.counter.value : metric.gauge.value) = value;
      out.push_back({std::move(name), std::move(help), type, {metric}});
    };
    one("chat_connections_open", "TCP connections admitted and not closed yet", MetricType::Gauge,
        gauges.connections_open);
    prometheus::MetricFamily refused{"chat_connections_refused_total",
                                     "connections closed as they were accepted, by limit",
                                     MetricType::Counter,
                                     {}};
    for (const auto& [limit, value] :
         {std::pair{"max_connections", gauges.connections_refused_total},
          std::pair{"per_ip", gauges.connections_refused_per_ip},
          std::pair{"no_descriptors", gauges.connections_refused_no_fd}}) {
      prometheus::ClientMetric metric;
      metric.label = {{"limit", limit}};
      metric.counter.value = static_cast<double>(value);
      refused.metric.push_back(metric);
    }
    out.push_back(std::move(refused));
    one("chat_streams_open", "Chat streams from their start to OnDone", MetricType::Gauge,
        metrics_.streams_open());
    one("chat_streams_refused_per_ip_total", "streams refused at --max-streams-per-ip",
        MetricType::Counter, gauges.streams_refused_per_ip);
    one("chat_members", "hub members (readers included)", MetricType::Gauge, gauges.members);
    one("chat_rooms", "rooms that exist (the lobby and empty rooms not yet reclaimed included)",
        MetricType::Gauge, gauges.rooms);
    one("chat_messages_accepted_total", "lines the hub accepted (chat, /me, private)",
        MetricType::Counter, metrics_.accepted());
    prometheus::MetricFamily messages_refused{
        "chat_messages_refused_total", "lines the hub refused, by reason", MetricType::Counter, {}};
    static constexpr const char* kReasons[] = {"rate_limit", "too_long",     "invalid",
                                               "permission", "no_recipient", "recipient_busy"};
    static_assert(std::size(kReasons) == static_cast<std::size_t>(Refusal::kCount));
    for (std::size_t i = 0; i < std::size(kReasons); ++i) {
      prometheus::ClientMetric metric;
      metric.label = {{"reason", kReasons[i]}};
      metric.counter.value = static_cast<double>(metrics_.refused(static_cast<Refusal>(i)));
      messages_refused.metric.push_back(metric);
    }
    out.push_back(std::move(messages_refused));
    one("chat_deliveries_total", "messages queued for a member", MetricType::Counter,
        metrics_.deliveries());
    one("chat_slow_consumers_cut_total", "streams cut off for reading too slowly",
        MetricType::Counter, metrics_.slow_consumers_cut());
    Histogram(out, "chat_queue_depth_messages", "a member's queue, in messages, at each enqueue",
              metrics_.queue_depth, 1);
    Histogram(out, "chat_queue_bytes", "a member's queue, in bytes, at each enqueue",
              metrics_.queued_bytes, 1);
    Histogram(out, "chat_send_to_write_seconds",
              "from the hub accepting a message to its bytes going to StartWrite",
              metrics_.send_to_write_ns, 1e-9);
    prometheus::ClientMetric build;
    build.label = {{"version", CHAT_VERSION}, {"git", CHAT_GIT}};
    build.gauge.value = 1;
    out.push_back({"chat_build_info",
                   "always 1; the labels say which build runs",
                   MetricType::Gauge,
                   {build}});
    return out;
  }

 private:
  static void Histogram(std::vector<prometheus::MetricFamily>& out, std::string name,
                        std::string help, const AtomicHistogram& histogram, double scale) {
    prometheus::ClientMetric metric;
    std::uint64_t cumulative = 0;
    const auto bounds = histogram.bounds();
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cumulative += histogram.count(i);
      metric.histogram.bucket.push_back({cumulative, static_cast<double>(bounds[i]) * scale});
    }
    cumulative += histogram.count(bounds.size());
    metric.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    metric.histogram.sample_count = cumulative;
    metric.histogram.sample_sum = static_cast<double>(histogram.sum()) * scale;
    out.push_back({std::move(name), std::move(help), prometheus::MetricType::Histogram, {metric}});
  }

  const ServerMetrics& metrics_;
  const std::function<ScrapedGauges()> scrape_;
};

std::unique_ptr<MetricsExposer> MetricsExposer::Start(const std::string& address,
                                                      const ServerMetrics& metrics,
                                                      std::function<ScrapedGauges()> scrape,
                                                      std::string* error) {
  std::unique_ptr<MetricsExposer> exposer(new MetricsExposer);
  try {
    exposer->exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    *error = "--metrics-listen " + address + ": cannot listen (" + e.what() + ")";
    return nullptr;
  }
  exposer->collectable_ = std::make_shared<MetricsCollectable>(metrics, std::move(scrape));
  exposer->exposer_->RegisterCollectable(exposer->collectable_);
  return exposer;
}

MetricsExposer::~MetricsExposer() = default;

int MetricsExposer::port() const {
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace chat
