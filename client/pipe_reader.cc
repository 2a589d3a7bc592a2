#include "client/pipe_reader.h"

#include <unistd.h>

#include <cerrno>

namespace chat {

long PipeReader::ReadSome(char* buffer, std::size_t size) {
  const ssize_t n = read(fd_, buffer, size);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? -1 : 0;  // a real error ends input
  return n;
}

}  // namespace chat
