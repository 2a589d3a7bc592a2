#include "common/small_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace chat {

std::optional<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                         std::size_t max_bytes, std::string* error) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    *error = "cannot read " + std::string(what) + " " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string bytes(max_bytes + 1, '\0');
  const std::size_t got = std::fread(bytes.data(), 1, bytes.size(), file.get());
  if (std::ferror(file.get())) {
    *error = "cannot read " + std::string(what) + " " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (got > max_bytes) {
    *error = std::string(what) + " " + path + " is too big (over " + std::to_string(max_bytes) +
             " bytes)";
    return std::nullopt;
  }
  bytes.resize(got);
  return bytes;
}

}  // namespace chat
