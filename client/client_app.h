#pragma once

#include "client/client_options.h"

namespace chat {

// Runs the client until the session ends; returns the process exit code.
// The event loop: poll() over stdin, the stream inbox and a signalfd, with
// the session's next deadline as the timeout.
int RunClient(const ClientOptions& options);

}  // namespace chat
