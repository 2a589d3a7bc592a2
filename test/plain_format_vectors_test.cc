// The C++ client against the plain-format test vectors shared with the Go
// and Python clients (interop/testdata/plain_format.json): all three must
// print exactly the same lines. Every vector runs, the one with a seq of
// 2^64-1 and a time of 0 included (the loader keeps 64-bit numbers exact).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
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

TEST(JsonVectors, IntegersBeyondTwoToThe53AreReadExactly) {
  const Struct parsed = testing::ParseJsonVectors(
      R"({"max": 18446744073709551615, "above": 9007199254740993, "limit": 9007199254740992,)"
      R"( "small": [0, 12, -3, 2.5, 1e3], "text": "18446744073709551615 \" 9007199254740993",)"
      R"( "message": {"seq": 18446744073709551615, "time_unix_ms": -9007199254740993}})");
  const auto& fields = parsed.fields();
  EXPECT_EQ(testing::Uint64Of(fields.at("max")), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(testing::Uint64Of(fields.at("above")), 9007199254740993u);
  EXPECT_EQ(testing::Uint64Of(fields.at("limit")), 9007199254740992u);
  const auto& small = fields.at("small").list_value().values();
  ASSERT_EQ(small.size(), 5);
  EXPECT_EQ(small[1].number_value(), 12);
  EXPECT_EQ(small[2].number_value(), -3);
  EXPECT_EQ(small[3].number_value(), 2.5);
  EXPECT_EQ(small[4].number_value(), 1000);
  EXPECT_EQ(fields.at("text").string_value(), "18446744073709551615 \" 9007199254740993");
  const ChatMessage message = testing::ChatMessageOf(fields.at("message"));
  EXPECT_EQ(message.seq(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(message.time_unix_ms(), -9007199254740993);
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
  int extremes = 0;  // the vector with seq 2^64-1 and time 0 (CJK, bidi controls, ESC)
  for (const Value& entry : cases) {
    const auto& fields = entry.struct_value().fields();
    const ChatMessage message = testing::ChatMessageOf(fields.at("message"));
    if (message.seq() == std::numeric_limits<std::uint64_t>::max()) ++extremes;
    EXPECT_EQ(FormatPlainLine(message), fields.at("line").string_value())
        << message.ShortDebugString();
  }
  EXPECT_EQ(extremes, 1) << "the vector with seq 2^64-1 did not arrive intact";
}

// The C++ client unpacks a batch frame in Session::OnMessage and shows each
// inner message, in order, as a message of its own; nothing for the outer one.
TEST(PlainFormatVectors, BatchLinesMatchTheOtherClients) {
  const Struct vectors = LoadVectors();
  const auto& batch = vectors.fields().at("batch").struct_value().fields();
  const ChatMessage frame = testing::ChatMessageOf(batch.at("message"));
  const auto& lines = batch.at("lines").list_value().values();
  ASSERT_GT(frame.batch_size(), 1);
  ASSERT_EQ(frame.batch_size(), lines.size());
  for (int i = 0; i < frame.batch_size(); ++i) {
    EXPECT_EQ(FormatPlainLine(frame.batch(i)), lines[i].string_value()) << i;
  }
}

}  // namespace
}  // namespace chat
