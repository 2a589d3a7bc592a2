#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

namespace chat {

class PeriodicTask;

// Tells the service manager what the server is doing (systemd's Type=notify
// protocol, through libsystemd's sd_notify). Without one (no $NOTIFY_SOCKET
// in the environment) every call does nothing, so a server started by hand
// or by a test behaves the same.
class ServiceNotifier {
 public:
  ServiceNotifier();
  ~ServiceNotifier();  // stops the watchdog pings
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // Listening and serving: READY=1 with a status line systemctl shows.
  void Ready(std::string_view status);
  // Re-reading the config (SIGHUP): RELOADING=1, then Ready() again.
  void Reloading();
  // Draining before exit: STOPPING=1.
  void Stopping();

  // When the service manager asked for watchdog pings (WatchdogSec=, seen as
  // $WATCHDOG_USEC), sends WATCHDOG=1 at half that interval, each time only
  // after `alive` returns true: a server whose hub is stuck stops pinging
  // and is restarted. Does nothing otherwise. Call once, after Ready().
  void StartWatchdog(std::function<bool()> alive);

  // The watchdog interval the service manager asked for, or zero.
  static std::chrono::microseconds WatchdogInterval();

 private:
  std::unique_ptr<PeriodicTask> watchdog_;
};

}  // namespace chat
