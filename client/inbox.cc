#include "client/inbox.h"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace chat {

Inbox::Inbox() {
  if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
}

Inbox::~Inbox() {
  close(pipe_[0]);
  close(pipe_[1]);
}

void Inbox::Push(StreamEvent event) {
  MutexLock lock(&mu_);
  events_.push_back(std::move(event));
  if (!wake_pending_) {
    wake_pending_ = true;
    const char byte = 1;
    [[maybe_unused]] auto written = write(pipe_[1], &byte, 1);
  }
}

std::vector<StreamEvent> Inbox::Drain() {
  MutexLock lock(&mu_);
  char buffer[64];
  while (read(pipe_[0], buffer, sizeof buffer) > 0) {
  }
  wake_pending_ = false;
  return std::exchange(events_, {});
}

}  // namespace chat
