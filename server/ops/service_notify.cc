#include "server/ops/service_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <string>

#include "server/periodic_task.h"

namespace chat {
namespace {

void Notify(const std::string& state) {
  // 0 without a service manager, negative on a failure to send: neither
  // stops the server (systemd then restarts or times it out itself).
  if (const int result = sd_notify(0, state.c_str()); result < 0) {
    spdlog::warn("could not notify the service manager ({}): error {}", state.substr(0, 20),
                 -result);
  }
}

}  // namespace

ServiceNotifier::ServiceNotifier() = default;
ServiceNotifier::~ServiceNotifier() = default;

void ServiceNotifier::Ready(std::string_view status) {
  Notify("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::Reloading() { Notify("RELOADING=1\nSTATUS=reloading the configuration"); }

void ServiceNotifier::Stopping() { Notify("STOPPING=1\nSTATUS=draining"); }

std::chrono::microseconds ServiceNotifier::WatchdogInterval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(usec);
}

void ServiceNotifier::StartWatchdog(std::function<bool()> alive) {
  const std::chrono::microseconds interval = WatchdogInterval();
  if (interval.count() == 0) return;
  // Half the interval, as sd_watchdog_enabled(3) advises: one late ping is
  // not yet a missed one.
  const auto period = std::max(std::chrono::milliseconds(1),
                               std::chrono::duration_cast<std::chrono::milliseconds>(interval / 2));
  spdlog::info("answering the service manager's watchdog every {} ms", period.count());
  watchdog_ = std::make_unique<PeriodicTask>(period, [alive = std::move(alive)] {
    if (alive()) Notify("WATCHDOG=1");
  });
}

}  // namespace chat
