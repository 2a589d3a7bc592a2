#pragma once

#include "common/clock.h"

namespace chat {

// The server's real AlarmClock: steady_clock, with gRPC callback alarms
// (their callbacks run on gRPC's threads). Needs gRPC initialised, as any
// server does.
const AlarmClock* GrpcClock();

}  // namespace chat
