// Connection limits and the handshake timeout in a real server on 127.0.0.1:
// --max-connections, --max-connections-per-ip, --handshake-timeout-seconds.
// Refused connections are plain TCP connections that the server closes; the
// admitted ones are real gRPC clients that go on chatting. Every wait is
// bounded; no test measures time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <string_view>
#include <thread>

#include "test/support/test_client.h"
#include "test/support/test_server.h"

namespace chat::testing {
namespace {

// A TCP connection to the server made by hand, to see what the server does
// with a connection: take it (answer the HTTP/2 preface with its SETTINGS)
// or close it.
class RawConnection {
 public:
  enum class Seen { kAnswered, kClosed, kNothing };

  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawConnection() { close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // The client's connection preface and an empty SETTINGS frame.
  void SendPreface() {
    static const char kPreface[] =
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    Send(std::string_view(kPreface, sizeof kPreface - 1));
  }
  void Send(std::string_view bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Not closed by the server (yet): reads what it sent, without waiting.
  bool StillOpen() {
    char buffer[4096];
    for (;;) {
      const ssize_t got = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (got > 0) continue;
      return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }

  // What the server does first, waiting at most `timeout`.
  Seen Wait(std::chrono::milliseconds timeout = 15s) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return Seen::kNothing;
    char byte;
    return recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0 ? Seen::kAnswered : Seen::kClosed;
  }

  // Waits (at most `timeout`) until the server has closed the connection,
  // reading whatever it sent before.
  bool WaitClosed(std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
      char buffer[4096];
      if (recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT) <= 0) return true;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Polls `condition` every 10 ms for at most `timeout`.
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class ConnectionLimitTest : public ::testing::Test {
 protected:
  static ServerOptions Limits(std::size_t total, std::size_t per_ip) {
    ServerOptions options;
    options.rate_limit = 0;
    options.max_connections = total;
    options.max_connections_per_ip = per_ip;
    return options;
  }

  void Start(const ServerOptions& options) {
    server_ = std::make_unique<TestServer>(options);
    ASSERT_TRUE(server_->started());
  }
  int port() { return server_->server().port(); }
  ConnectionCounts counts() { return server_->server().connection_counts(); }

  // `count` clients in #limits, each on a connection of its own, each having
  // seen all of them join.
  std::vector<std::unique_ptr<TestClient>> JoinClients(int count) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < count; ++i) {
      clients.push_back(TestClient::Joined(server_->address(), "c" + std::to_string(i), "limits"));
      EXPECT_NE(clients.back(), nullptr) << "client " << i;
    }
    return clients;
  }

  // Every client receives a line from the first.
  static void ExpectTheyChat(std::vector<std::unique_ptr<TestClient>>& clients,
                             const std::string& text) {
    ASSERT_TRUE(clients.front()->Send(text));
    for (auto& client : clients) EXPECT_TRUE(client->WaitForText(text)) << text;
  }

  std::unique_ptr<TestServer> server_;
};

// --max-connections-per-ip: connection N+1 from one address is closed at
// once; the first N go on chatting; when one of them goes, a new one is
// taken.
TEST_F(ConnectionLimitTest, ConnectionsPastThePerAddressLimitAreClosedAndTheOthersChatOn) {
  Start(Limits(100, 3));
  auto clients = JoinClients(3);
  ASSERT_EQ(counts().open, 3u);

  RawConnection fourth(port());
  ASSERT_TRUE(fourth.connected());  // the kernel completes it; the server closes it
  fourth.SendPreface();
  EXPECT_EQ(fourth.Wait(), RawConnection::Seen::kClosed);
  EXPECT_EQ(counts().refused_over_address, 1u);
  EXPECT_EQ(counts().refused_over_total, 0u);
  EXPECT_EQ(counts().open, 3u);
  ExpectTheyChat(clients, "still here");

  // One goes: its place is given back when gRPC closes its connection.
  clients.pop_back();
  ASSERT_TRUE(Eventually([&] { return counts().open == 2; }));
  RawConnection next(port());
  next.SendPreface();
  EXPECT_EQ(next.Wait(), RawConnection::Seen::kAnswered);
  EXPECT_EQ(counts().open, 3u);
  // And a fourth is refused again.
  RawConnection over(port());
  over.SendPreface();
  EXPECT_EQ(over.Wait(), RawConnection::Seen::kClosed);
  EXPECT_EQ(counts().refused_over_address, 2u);
  ExpectTheyChat(clients, "two of us");
}

// --max-connections: the same for all addresses together.
TEST_F(ConnectionLimitTest, ConnectionsPastTheTotalLimitAreClosedUntilOneGoes) {
  Start(Limits(3, 0));
  auto clients = JoinClients(3);
  std::vector<std::unique_ptr<RawConnection>> refused;
  for (int i = 0; i < 5; ++i) {
    refused.push_back(std::make_unique<RawConnection>(port()));
    refused.back()->SendPreface();
  }
  for (auto& connection : refused) EXPECT_EQ(connection->Wait(), RawConnection::Seen::kClosed);
  EXPECT_EQ(counts().refused_over_total, 5u);
  EXPECT_EQ(counts().refused_over_address, 0u);
  ExpectTheyChat(clients, "three is the limit");

  clients.erase(clients.begin());
  ASSERT_TRUE(Eventually([&] { return counts().open == 2; }));
  clients.push_back(TestClient::Joined(server_->address(), "late", "limits"));
  ASSERT_NE(clients.back(), nullptr);
  EXPECT_EQ(counts().open, 3u);
  ExpectTheyChat(clients, "welcome, late");
}

// A gRPC client over the limit fails to connect (UNAVAILABLE) rather than
// hanging; the server is unharmed.
TEST_F(ConnectionLimitTest, AGrpcClientOverTheLimitGetsUnavailable) {
  Start(Limits(100, 1));
  auto clients = JoinClients(1);
  TestClient refused(server_->address(), {{"chat-user", "refused"}});
  const auto status = refused.WaitForStatus(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE) << status->error_message();
  EXPECT_GE(counts().refused_over_address, 1u);
  ExpectTheyChat(clients, "alone");
}

// --handshake-timeout-seconds: a connection that never sends its preface is
// closed, and its place given back; one that did stays.
TEST_F(ConnectionLimitTest, AConnectionThatSendsNothingIsClosedAtTheHandshakeTimeout) {
  ServerOptions options = Limits(100, 0);
  options.handshake_timeout = 1s;
  Start(options);
  RawConnection spoke(port());
  spoke.SendPreface();
  ASSERT_EQ(spoke.Wait(), RawConnection::Seen::kAnswered);
  auto clients = JoinClients(2);

  RawConnection silent(port());
  ASSERT_TRUE(Eventually([&] { return counts().open == 4; }));
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_TRUE(Eventually([&] { return counts().open == 3; }));
  // The others were accepted before it, so they have outlived the timeout.
  ExpectTheyChat(clients, "we spoke in time");
  EXPECT_TRUE(spoke.StillOpen());
}

// So does a connection that sent only part of the preface.
TEST_F(ConnectionLimitTest, AConnectionThatStopsInThePrefaceIsClosedAtTheHandshakeTimeout) {
  ServerOptions options = Limits(100, 0);
  options.handshake_timeout = 1s;
  Start(options);
  RawConnection halting(port());
  halting.Send("PRI * HTTP");
  EXPECT_TRUE(halting.WaitClosed());
  EXPECT_TRUE(Eventually([&] { return counts().open == 0; }));
}

}  // namespace
}  // namespace chat::testing
