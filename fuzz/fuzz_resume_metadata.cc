// The resume headers' values (chat-resume-after, chat-resume-epoch): any
// bytes a client puts in its metadata.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/protocol_keys.h"
#include "server/resume_metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const auto number = chat::ParseResumeNumber(value);
  if (!number) {
    // The refusal quotes the value cut short, however long it was.
    if (chat::ResumeNumberError(chat::kResumeAfterHeader, value).size() > 600) std::abort();
    return 0;
  }
  // Accepted only as plain digits that round-trip (leading zeros aside).
  std::string_view digits = value;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (std::to_string(*number) != digits) std::abort();
  return 0;
}
