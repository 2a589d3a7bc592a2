// The C++ client against the plain-format test vectors shared with the Go
// and Python clients (interop/testdata/plain_format.json): all three must
// print exactly the same lines.
#include <gtest/gtest.h>

#include <string>

#include "client/message_format.h"
#include "common/terminal_text.h"
#include "test/support/json_vectors.h"

namespace chat {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

Struct LoadVectors() { return testing::LoadJsonVectors(CHAT_PLAIN_FORMAT_VECTORS); }

std::string FromHex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

TEST(PlainFormatVectors, SanitizeMatchesTheOtherClients) {
  const Struct vectors = LoadVectors();
  const auto& cases = vectors.fields().at("sanitize").list_value().values();
  ASSERT_GT(cases.size(), 10);
  for (const Value& entry : cases) {
    const auto& fields = entry.struct_value().fields();
    const std::string in = fields.contains("in_hex") ? FromHex(fields.at("in_hex").string_value())
                                                     : fields.at("in").string_value();
    EXPECT_EQ(SanitizeForTerminal(in), fields.at("out").string_value()) << "input: " << in;
  }
}

TEST(PlainFormatVectors, LinesMatchTheOtherClients) {
  const Struct vectors = LoadVectors();
  const auto& cases = vectors.fields().at("format").list_value().values();
  ASSERT_GT(cases.size(), 5);
  int checked = 0;
  for (const Value& entry : cases) {
    const auto& fields = entry.struct_value().fields();
    // google.protobuf.Value holds numbers as doubles: a case with a number
    // beyond 2^53 (a seq of 2^64-1) cannot pass through it intact; the Go and
    // Python tests cover those.
    bool exact = true;
    for (const auto& [name, value] : fields.at("message").struct_value().fields()) {
      if (value.has_number_value() && value.number_value() > 9007199254740992.0) exact = false;
    }
    if (!exact) continue;
    ++checked;
    const ChatMessage message = testing::ChatMessageOf(fields.at("message"));
    EXPECT_EQ(FormatPlainLine(message), fields.at("line").string_value())
        << message.ShortDebugString();
  }
  EXPECT_GT(checked, 5);
}

}  // namespace
}  // namespace chat
