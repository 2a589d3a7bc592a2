#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat {

// The value of a resume header (kResumeAfterHeader, kResumeEpochHeader):
// a decimal uint64 and nothing else (no sign, spaces or "0x"). Untrusted
// bytes from the client's metadata: pure, so that fuzz/ can feed it anything.
std::optional<std::uint64_t> ParseResumeNumber(std::string_view value);

// The status message for a value ParseResumeNumber refused; the value is
// quoted through QuoteSent (cut to a short prefix).
std::string ResumeNumberError(std::string_view header, std::string_view value);

}  // namespace chat
