// The C++ client's reconnection rules against the vectors shared with the Go
// and Python clients (interop/testdata/resume.json): all three must resume,
// de-duplicate and re-send alike.
#include <gtest/gtest.h>

#include <string>

#include "client/resume_rules.h"
#include "test/support/json_vectors.h"

namespace chat {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

using testing::ChatMessageOf;

Struct LoadVectors() { return testing::LoadJsonVectors(CHAT_RESUME_VECTORS); }

RoomPositions PositionsOf(const Value& value) {
  RoomPositions positions;
  for (const auto& [room, position] : value.struct_value().fields()) {
    const auto& fields = position.struct_value().fields();
    positions[room] = {testing::Uint64Of(fields.at("epoch")), testing::Uint64Of(fields.at("seq"))};
  }
  return positions;
}

std::string Describe(const RoomPositions& positions) {
  std::string out;
  for (const auto& [room, position] : positions) {
    out += room + "=" + std::to_string(position.epoch) + "/" + std::to_string(position.seq) + " ";
  }
  return out;
}

TEST(ResumeVectors, PositionsMatchTheOtherClients) {
  const Struct vectors = LoadVectors();
  const auto& cases = vectors.fields().at("position").list_value().values();
  ASSERT_GT(cases.size(), 10);
  for (const Value& entry : cases) {
    const auto& fields = entry.struct_value().fields();
    const std::string about = fields.at("about").string_value();
    RoomPositions positions = PositionsOf(fields.at("before"));
    EXPECT_EQ(AdvancePosition(positions, ChatMessageOf(fields.at("message"))),
              fields.at("show").bool_value())
        << about;
    EXPECT_EQ(Describe(positions), Describe(PositionsOf(fields.at("after")))) << about;
  }
}

TEST(ResumeVectors, LinesAreClassifiedAsByTheOtherClients) {
  const Struct vectors = LoadVectors();
  const auto& cases = vectors.fields().at("line").list_value().values();
  ASSERT_GT(cases.size(), 10);
  for (const Value& entry : cases) {
    const auto& fields = entry.struct_value().fields();
    const std::string kind = fields.at("kind").string_value();
    const LineKind expected = kind == "blank"     ? LineKind::kBlank
                              : kind == "command" ? LineKind::kCommand
                              : kind == "room"    ? LineKind::kRoom
                                                  : LineKind::kPrivate;
    ASSERT_TRUE(kind == "blank" || kind == "command" || kind == "room" || kind == "private")
        << kind;
    EXPECT_EQ(ClassifyLine(fields.at("line").string_value()), expected)
        << "'" << fields.at("line").string_value() << "'";
  }
}

TEST(ResumeVectors, SettlingMatchesTheOtherClients) {
  const Struct vectors = LoadVectors();
  const auto& cases = vectors.fields().at("settle").list_value().values();
  ASSERT_GT(cases.size(), 3);
  for (const Value& entry : cases) {
    const auto& fields = entry.struct_value().fields();
    const auto settled =
        SettledId(fields.at("name").string_value(), ChatMessageOf(fields.at("message")));
    const Value& expected = fields.at("settles");
    if (expected.has_null_value()) {
      EXPECT_FALSE(settled) << fields.at("about").string_value();
    } else {
      EXPECT_EQ(settled.value_or("<none>"), expected.string_value())
          << fields.at("about").string_value();
    }
  }
}

}  // namespace
}  // namespace chat
