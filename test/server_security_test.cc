// Integration tests of access: TLS, mutual TLS and signed tokens, against a
// real server on 127.0.0.1 with real gRPC clients. Certificates are made
// fresh by test/support/make_test_certs.sh; tokens by MintToken.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "server/token_minter.h"
#include "test/support/raw_call.h"
#include "test/support/test_client.h"
#include "test/support/test_server.h"

namespace chat::testing {
namespace {

namespace fs = std::filesystem;

const std::string kSecret = "a-test-secret-of-more-than-32-bytes-0123456789";

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// The certificates and the key file, made once for the whole suite.
class Credentials {
 public:
  static const Credentials& Get() {
    static const Credentials credentials;
    return credentials;
  }
  fs::path Path(const std::string& name) const { return dir_ / name; }
  std::string Pem(const std::string& name) const { return ReadFile(Path(name)); }

 private:
  Credentials() {
    dir_ = fs::temp_directory_path() / ("chat-security-test-" + std::to_string(getpid()));
    const std::string command =
        std::string(CHAT_SOURCE_DIR) + "/test/support/make_test_certs.sh " + dir_.string();
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::ofstream(dir_ / "secret.key") << kSecret << "\n";
  }
  fs::path dir_;
};

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Token(const std::string& subject, std::int64_t expires,
                  std::optional<std::vector<std::string>> rooms = std::nullopt,
                  const std::string& secret = kSecret) {
  std::string error;
  auto key = TokenKey::FromBytes(secret, TokenKey::Use::kSign, "test", &error);
  auto token = MintToken(*key, {subject, Now(), expires, std::move(rooms)}, &error);
  EXPECT_TRUE(token) << error;
  return "Bearer " + token.value_or("");
}

TestClient::Tls ClientTls(const std::string& ca, const std::string& cert = "",
                          const std::string& key = "") {
  const Credentials& files = Credentials::Get();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = files.Pem(ca);
  if (!cert.empty()) {
    ssl.pem_cert_chain = files.Pem(cert);
    ssl.pem_private_key = files.Pem(key);
  }
  return {grpc::SslCredentials(ssl), "localhost"};
}

ServerOptions TlsOptions(bool require_client_cert) {
  const Credentials& files = Credentials::Get();
  ServerOptions options;
  options.tls_cert = files.Path("server.pem");
  options.tls_key = files.Path("server.key");
  if (require_client_cert) options.tls_client_ca = files.Path("ca.pem");
  return options;
}

// The stream's final status, for a client the server refuses.
grpc::StatusCode RefusedWith(const std::string& address,
                             std::map<std::string, std::string> metadata,
                             const TestClient::Tls& tls = {}, std::string* message = nullptr) {
  TestClient client(address, std::move(metadata), true, 0, tls);
  const auto status = client.WaitForStatus();
  if (!status) return grpc::StatusCode::OK;
  if (message) *message = status->error_message();
  return status->error_code();
}

// Whether `name` can join within a bounded wait (slots are given back when a
// stream's reactor goes, shortly after the client has gone).
bool wait_until_joined(const std::string& address, const std::string& name) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (auto client = TestClient::Joined(address, name)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(TlsTest, AClientTrustingTheServersCaChats) {
  TestServer server(TlsOptions(false));
  ASSERT_TRUE(server.started());
  TestClient alice(server.address(), {{"chat-user", "alice"}}, true, 0, ClientTls("ca.pem"));
  ASSERT_TRUE(alice.WaitForKind(JOIN));
  ASSERT_TRUE(alice.Send("über TLS: こんにちは 🔒"));
  EXPECT_TRUE(alice.WaitForText("über TLS: こんにちは 🔒"));
}

TEST(TlsTest, AServerCertificateFromAnotherCaIsRefusedByTheClient) {
  TestServer server(TlsOptions(false));
  ASSERT_TRUE(server.started());
  EXPECT_EQ(RefusedWith(server.address(), {{"chat-user", "alice"}}, ClientTls("other-ca.pem")),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(server.server().hub().member_count(), 0u);
}

TEST(TlsTest, APlainTextClientCannotTalkToATlsServer) {
  TestServer server(TlsOptions(false));
  ASSERT_TRUE(server.started());
  EXPECT_EQ(RefusedWith(server.address(), {{"chat-user", "alice"}}), grpc::StatusCode::UNAVAILABLE);
}

TEST(MutualTlsTest, OnlyClientsWithACertificateFromTheClientCaGetIn) {
  TestServer server(TlsOptions(true));
  ASSERT_TRUE(server.started());
  // No client certificate, and one from a CA the server does not trust.
  EXPECT_EQ(RefusedWith(server.address(), {{"chat-user", "mallory"}}, ClientTls("ca.pem")),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(RefusedWith(server.address(), {{"chat-user", "mallory"}},
                        ClientTls("ca.pem", "other-client.pem", "other-client.key")),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(server.server().hub().member_count(), 0u);

  TestClient alice(server.address(), {{"chat-user", "alice"}}, true, 0,
                   ClientTls("ca.pem", "client.pem", "client.key"));
  ASSERT_TRUE(alice.WaitForKind(JOIN));
}

TEST(TlsFilesTest, UnusableFilesStopTheStartWithTheReason) {
  const Credentials& files = Credentials::Get();
  ServerOptions options = TlsOptions(false);
  options.tls_key = files.Path("client.key");  // not the server certificate's key
  options.listen = "127.0.0.1:0";
  ChatServer mismatched(options);
  std::string error;
  EXPECT_FALSE(mismatched.Start(&error));
  EXPECT_NE(error.find("private key of the certificate"), std::string::npos) << error;

  options = TlsOptions(false);
  options.listen = "127.0.0.1:0";
  options.tls_cert = files.Path("missing.pem");
  ChatServer missing(options);
  EXPECT_FALSE(missing.Start(&error));
  EXPECT_NE(error.find("cannot read --tls-cert"), std::string::npos) << error;
}

class TokenTest : public ::testing::Test {
 protected:
  static ServerOptions WithTokens() {
    ServerOptions options;
    options.auth_jwt_key = Credentials::Get().Path("secret.key");
    return options;
  }
  TokenTest() : server_(WithTokens()) {}
  void SetUp() override { ASSERT_TRUE(server_.started()); }

  grpc::StatusCode Refused(std::map<std::string, std::string> metadata,
                           std::string* message = nullptr) {
    return RefusedWith(server_.address(), std::move(metadata), {}, message);
  }

  TestServer server_;
};

TEST_F(TokenTest, MissingBadAndExpiredTokensAreRefusedBeforeTheHub) {
  std::string message;
  EXPECT_EQ(Refused({{"chat-user", "alice"}}, &message), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(message.find("needs a signed token"), std::string::npos) << message;
  EXPECT_EQ(Refused({{"authorization", Token("alice", Now() - 3600)}}, &message),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(message.find("expired"), std::string::npos) << message;
  EXPECT_EQ(Refused({{"authorization",
                      Token("alice", Now() + 3600, {}, "someone-elses-secret-0123456789abcdef")}},
                    &message),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(message.find("not signed with this server's key"), std::string::npos) << message;
  EXPECT_EQ(Refused({{"authorization", "Bearer eyJhbGciOi.garbage"}}, &message),
            grpc::StatusCode::UNAUTHENTICATED);
  // No stream is a reader either: with tokens nobody listens anonymously.
  EXPECT_EQ(Refused({}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(server_.server().hub().member_count(), 0u);
}

TEST_F(TokenTest, TheNameIsTheTokensAndNobodyElseCanTakeIt) {
  // Named after the token's subject, without chat-user.
  TestClient alice(server_.address(), {{"authorization", Token("alice", Now() + 3600)}});
  auto joined = alice.WaitForKind(JOIN);
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->subject(), "alice");

  std::string message;
  // A token for bob asking for alice's name.
  EXPECT_EQ(
      Refused({{"chat-user", "Alice"}, {"authorization", Token("bob", Now() + 3600)}}, &message),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(message.find("your token is for 'bob'"), std::string::npos) << message;
  // Without a token, nobody is alice (not even while she reconnects).
  EXPECT_EQ(Refused({{"chat-user", "alice"}}), grpc::StatusCode::UNAUTHENTICATED);
  // Her own token a second time: the name is in use, as without tokens.
  EXPECT_EQ(Refused({{"authorization", Token("alice", Now() + 3600)}}),
            grpc::StatusCode::ALREADY_EXISTS);

  // /nick would give up the name the token proves.
  ASSERT_TRUE(alice.Send("/nick mallory"));
  auto refused = alice.WaitForKind(ERROR);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message().find("/nick is not available"), std::string::npos);
  EXPECT_EQ(server_.server().hub().member_count(), 1u);
}

TEST_F(TokenTest, TheRoomsClaimLimitsWhereItsHolderGoes) {
  std::string message;
  EXPECT_EQ(Refused({{"chat-room", "secret"},
                     {"authorization", Token("carol", Now() + 3600, {{"ops", "dev"}})}},
                    &message),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(message.find("#ops, #dev"), std::string::npos) << message;

  // No room asked for and the lobby not allowed: the token's first room.
  TestClient carol(server_.address(),
                   {{"authorization", Token("carol", Now() + 3600, {{"ops", "dev"}})}});
  auto joined = carol.WaitForKind(JOIN);
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->room(), "ops");
  ASSERT_TRUE(carol.Send("/join secret"));
  auto refused = carol.WaitForKind(ERROR);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message().find("does not let you into #secret"), std::string::npos);
  ASSERT_TRUE(carol.Send("/leave"));  // to the lobby, which is not allowed either
  EXPECT_TRUE(carol.WaitForCount(ERROR, 2));
  ASSERT_TRUE(carol.Send("/join dev"));
  EXPECT_TRUE(carol.WaitFor([](const ChatMessage& m) {
    return m.kind() == JOIN && m.subject() == "carol" && m.room() == "dev";
  }));
}

TEST_F(TokenTest, HealthCheckingNeedsNoToken) {
  auto health = RawBidiCall(server_.address(), "/grpc.health.v1.Health/Check", {}, "", 1);
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0], "\x08\x01");  // SERVING
}

TEST(StreamLimitPerAddressTest, TheAddressIsThePeerWithoutItsPort) {
  EXPECT_EQ(PeerStreamLimit::Address("ipv4:10.1.2.3:5678"), "10.1.2.3");
  EXPECT_EQ(PeerStreamLimit::Address("ipv6:[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(PeerStreamLimit::Address("unix:/tmp/socket"), "unix:/tmp/socket");
}

TEST(StreamLimitPerAddressTest, AnAddressOverItsLimitIsRefusedAndTheOthersGoOn) {
  ServerOptions options;
  options.max_streams_per_ip = 3;
  TestServer server(options);
  ASSERT_TRUE(server.started());
  // Readers count: three streams that never send a name.
  std::vector<std::unique_ptr<TestClient>> readers;
  for (int i = 0; i < 2; ++i) {
    readers.push_back(
        std::make_unique<TestClient>(server.address(), std::map<std::string, std::string>{}));
  }
  auto alice = TestClient::Joined(server.address(), "alice");
  ASSERT_TRUE(alice);
  std::string message;
  EXPECT_EQ(RefusedWith(server.address(), {{"chat-user", "bob"}}, {}, &message),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(message.find("too many streams from your address (3 are open)"), std::string::npos)
      << message;
  EXPECT_EQ(server.server().streams_refused_per_ip(), 1u);
  // Those in are unaffected; one leaving makes room.
  ASSERT_TRUE(alice->Send("still here"));
  EXPECT_TRUE(readers[0]->WaitForText("still here"));
  readers.pop_back();
  EXPECT_TRUE(wait_until_joined(server.address(), "bob"));
}

}  // namespace
}  // namespace chat::testing
