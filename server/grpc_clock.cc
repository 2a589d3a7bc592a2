#include "server/grpc_clock.h"

#include <grpcpp/alarm.h>

namespace chat {
namespace {

class GrpcAlarm final : public AlarmClock::Alarm {
 public:
  GrpcAlarm(Clock::time_point deadline, std::function<void(bool)> callback) {
    // grpc::Alarm takes system_clock deadlines; the wait is what matters.
    const auto wait = std::chrono::duration_cast<std::chrono::system_clock::duration>(
        deadline - std::chrono::steady_clock::now());
    alarm_.Set(std::chrono::system_clock::now() + wait, std::move(callback));
  }
  // gRPC runs a cancelled alarm's callback (with false) on its own threads,
  // and keeps the alarm alive until then, even past this object.
  void Cancel() override { alarm_.Cancel(); }

 private:
  grpc::Alarm alarm_;
};

class SteadyGrpcClock final : public AlarmClock {
 public:
  time_point Now() const override { return std::chrono::steady_clock::now(); }
  std::unique_ptr<Alarm> SetAlarm(time_point deadline,
                                  std::function<void(bool)> callback) const override {
    return std::make_unique<GrpcAlarm>(deadline, std::move(callback));
  }
};

}  // namespace

const AlarmClock* GrpcClock() {
  static const SteadyGrpcClock* const clock = new SteadyGrpcClock;  // never destroyed
  return clock;
}

}  // namespace chat
