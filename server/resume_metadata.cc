#include "server/resume_metadata.h"

#include <charconv>

#include "common/terminal_text.h"

namespace chat {

std::optional<std::uint64_t> ParseResumeNumber(std::string_view value) {
  std::uint64_t number = 0;
  const char* end = value.data() + value.size();
  const auto [stop, error] = std::from_chars(value.data(), end, number);
  // from_chars takes a leading '-' for unsigned types as an error already; an
  // empty value is one too.
  if (error != std::errc() || stop != end) return std::nullopt;
  return number;
}

std::string ResumeNumberError(std::string_view header, std::string_view value) {
  return std::string(header) + " must be a decimal number, got '" + QuoteSent(value) + "'";
}

}  // namespace chat
