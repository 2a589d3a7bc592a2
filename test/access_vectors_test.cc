// The C++ client's TLS and token rules against the vectors shared with the Go
// and Python clients (interop/testdata/access.json): which servers are on
// this machine, the name a token gives, and which errors get a TLS hint.
#include <gtest/gtest.h>

#include "client/credentials.h"
#include "common/address.h"
#include "test/support/json_vectors.h"

namespace chat {
namespace {

using google::protobuf::Struct;

Struct Vectors() { return testing::LoadJsonVectors(CHAT_ACCESS_VECTORS); }

TEST(AccessVectors, ServerHostsAndWhetherTheyAreLocal) {
  const Struct vectors = Vectors();
  for (const auto& entry : vectors.fields().at("server").list_value().values()) {
    const auto& fields = entry.struct_value().fields();
    const std::string server = fields.at("server").string_value();
    EXPECT_EQ(AddressHost(server), fields.at("host").string_value()) << server;
    EXPECT_EQ(IsLoopbackAddress(server), fields.at("local").bool_value()) << server;
  }
}

TEST(AccessVectors, TheNameATokenGives) {
  const Struct vectors = Vectors();
  for (const auto& entry : vectors.fields().at("token").list_value().values()) {
    const auto& fields = entry.struct_value().fields();
    const auto& sub = fields.at("sub");
    const auto subject = TokenSubject(fields.at("token").string_value());
    if (sub.has_null_value()) {
      EXPECT_EQ(subject, std::nullopt) << fields.at("about").string_value();
    } else {
      EXPECT_EQ(subject, sub.string_value()) << fields.at("about").string_value();
    }
  }
}

TEST(AccessVectors, WhichErrorsGetATlsHint) {
  const Struct vectors = Vectors();
  const auto& hints = vectors.fields().at("tls_hint").struct_value().fields();
  for (const auto& entry : vectors.fields().at("tls_problem").list_value().values()) {
    const auto& fields = entry.struct_value().fields();
    const std::string text = fields.at("text").string_value();
    const bool tls_problem = fields.at("tls").bool_value();
    EXPECT_EQ(TlsHint(text, true), tls_problem ? " " + hints.at("with_tls").string_value() : "")
        << text;
    EXPECT_EQ(TlsHint(text, false), tls_problem ? " " + hints.at("without_tls").string_value() : "")
        << text;
  }
}

}  // namespace
}  // namespace chat
