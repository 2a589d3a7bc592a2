#pragma once

#include <string>
#include <utility>

namespace chat {

// Splits what arrives on a non-terminal stdin into lines ("\n" or "\r\n"
// endings; a last line without an ending counts too). Knows nothing of gRPC.
class PipeReader {
 public:
  explicit PipeReader(int fd) : fd_(fd) {}

  // Reads what is available (call when poll() says the fd is readable) and
  // hands each complete line to `on_line`. Returns false at end of input.
  template <typename OnLine>
  bool OnReadable(OnLine&& on_line) {
    char chunk[4096];
    const long n = ReadSome(chunk, sizeof chunk);
    if (n < 0) return true;  // interrupted or nothing yet: try again later
    if (n == 0) {
      if (!pending_.empty()) on_line(std::exchange(pending_, {}));
      return false;
    }
    pending_.append(chunk, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      pending_.erase(0, newline + 1);
      on_line(std::move(line));
    }
    return true;
  }

 private:
  long ReadSome(char* buffer, std::size_t size);  // -1 on EINTR/EAGAIN, 0 at end

  int fd_;
  std::string pending_;
};

}  // namespace chat
