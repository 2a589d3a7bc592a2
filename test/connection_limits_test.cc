// Connection limits: the books (server/access/connection_limits.h) and the
// guard in front of accept4 and close (server/access/accept_guard.h), here on
// plain sockets without gRPC; test/server_connection_limits_test.cc has them
// in a real server.
#include "server/access/connection_limits.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "server/access/accept_guard.h"

namespace chat {
namespace {

TEST(ConnectionLimitsTest, CountsPerAddressAndInAll) {
  ConnectionLimits limits(3, 2);
  EXPECT_EQ(limits.Admit("10.0.0.1"), ConnectionLimits::Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("10.0.0.1"), ConnectionLimits::Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("10.0.0.1"), ConnectionLimits::Verdict::kOverAddress);
  EXPECT_EQ(limits.Admit("10.0.0.2"), ConnectionLimits::Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("10.0.0.3"), ConnectionLimits::Verdict::kOverTotal);
  EXPECT_EQ(limits.open(), 3u);
  EXPECT_EQ(limits.open_from("10.0.0.1"), 2u);
  limits.Release("10.0.0.1");
  EXPECT_EQ(limits.open_from("10.0.0.1"), 1u);
  EXPECT_EQ(limits.Admit("10.0.0.3"), ConnectionLimits::Verdict::kAdmitted);
  // Giving back what was never counted changes nothing.
  limits.Release("10.9.9.9");
  EXPECT_EQ(limits.open(), 3u);
}

TEST(ConnectionLimitsTest, NoLimitPerAddressWhenZero) {
  ConnectionLimits limits(1000, 0);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(limits.Admit("127.0.0.1"), ConnectionLimits::Verdict::kAdmitted);
  }
  EXPECT_EQ(limits.Admit("127.0.0.1"), ConnectionLimits::Verdict::kOverTotal);
}

sockaddr_in V4(const char* text) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, text, &address.sin_addr);
  return address;
}

sockaddr_in6 V6(const char* text) {
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  inet_pton(AF_INET6, text, &address.sin6_addr);
  return address;
}

std::string Key(const sockaddr_in& a) {
  return AddressKey(reinterpret_cast<const sockaddr*>(&a), sizeof a);
}
std::string Key(const sockaddr_in6& a) {
  return AddressKey(reinterpret_cast<const sockaddr*>(&a), sizeof a);
}

TEST(ConnectionLimitsTest, AddressKeys) {
  EXPECT_EQ(Key(V4("192.0.2.7")), "192.0.2.7");
  // A dual-stack listener sees IPv4 clients as IPv4-mapped IPv6 addresses.
  EXPECT_EQ(Key(V6("::ffff:192.0.2.7")), "192.0.2.7");
  // One host (or home) has a /64: its addresses count together.
  EXPECT_EQ(Key(V6("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
  EXPECT_EQ(Key(V6("2001:db8:1:2:bbbb::9")), "2001:db8:1:2::/64");
  EXPECT_EQ(Key(V6("2001:db8:1:3::1")), "2001:db8:1:3::/64");
  sockaddr_in truncated = V4("192.0.2.7");
  EXPECT_EQ(AddressKey(reinterpret_cast<const sockaddr*>(&truncated), 2), "?");
}

TEST(ConnectionLimitsTest, AutomaticLimitIsHalfTheDescriptorsAtMostTenThousand) {
  EXPECT_EQ(AutomaticMaxConnections(256), 128u);
  EXPECT_EQ(AutomaticMaxConnections(1024), 512u);
  EXPECT_EQ(AutomaticMaxConnections(20000), 10000u);
  EXPECT_EQ(AutomaticMaxConnections(1 << 20), 10000u);
  EXPECT_EQ(AutomaticMaxConnections(1), 1u);
}

TEST(ConnectionLimitsTest, RaisesTheSoftDescriptorLimitToTheHardOne) {
  const DescriptorLimit limit = RaiseDescriptorLimit();
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(limit.soft, now.rlim_cur);
  EXPECT_EQ(limit.hard, now.rlim_max);
  EXPECT_EQ(now.rlim_cur, now.rlim_max);
  EXPECT_LE(limit.soft_before, limit.soft);
}

// A non-blocking listening socket on 127.0.0.1 (as gRPC's are), and clients.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address = V4("127.0.0.1");
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd_, 64);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() {
    for (int fd : accepted_) close(fd);
    close(fd_);
  }
  int port() const { return port_; }
  int fd() const { return fd_; }

  // A connected client socket (the kernel completes the connection before
  // anyone accepts it).
  int Connect() const {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = V4("127.0.0.1");
    address.sin_port = htons(static_cast<uint16_t>(port_));
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  // Accepts as gRPC does; -1 with errno when accept4 fails.
  int Accept() {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd =
        accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      EXPECT_EQ(peer.ss_family, AF_INET);
      accepted_.push_back(fd);
    }
    return fd;
  }
  void CloseAccepted(int fd) {
    std::erase(accepted_, fd);
    close(fd);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> accepted_;
};

// True once the server side has closed `client` (EOF or reset), within 10 s.
bool ClosedByPeer(int client) {
  pollfd p{client, POLLIN, 0};
  if (poll(&p, 1, 10000) != 1) return false;
  char byte;
  return recv(client, &byte, 1, MSG_DONTWAIT) <= 0;
}

TEST(AcceptGuardTest, RefusesOverTheLimitsAndReturnsOnlyAdmittedConnections) {
  Listener listener;
  AcceptGuard guard(/*max_total=*/2, /*max_per_address=*/0);
  guard.Watch(listener.port());
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(listener.Connect());

  const int first = listener.Accept();
  const int second = listener.Accept();
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  // The other two were closed inside this call, which then found the queue
  // empty: what gRPC's listener must see to re-arm and go on.
  EXPECT_EQ(listener.Accept(), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_TRUE(ClosedByPeer(clients[2]));
  EXPECT_TRUE(ClosedByPeer(clients[3]));
  ConnectionCounts counts = guard.counts();
  EXPECT_EQ(counts.open, 2u);
  EXPECT_EQ(counts.refused_over_total, 2u);

  // Closing one gives its place back.
  listener.CloseAccepted(first);
  EXPECT_EQ(guard.counts().open, 1u);
  clients.push_back(listener.Connect());
  EXPECT_GE(listener.Accept(), 0);
  EXPECT_EQ(guard.counts().open, 2u);
  for (int fd : clients) close(fd);
}

TEST(AcceptGuardTest, OtherListenersPassStraightThrough) {
  Listener watched;
  Listener other;
  AcceptGuard guard(1, 1);
  guard.Watch(watched.port());
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(other.Connect());
  for (int i = 0; i < 3; ++i) EXPECT_GE(other.Accept(), 0);
  EXPECT_EQ(guard.counts().open, 0u);
  EXPECT_EQ(guard.counts().refused(), 0u);
  for (int fd : clients) close(fd);
}

TEST(AcceptGuardTest, ADescriptorNumberReusedBehindItsBackIsGivenBack) {
  Listener listener;
  AcceptGuard guard(1, 0);
  guard.Watch(listener.port());
  const int client = listener.Connect();
  const int again = listener.Connect();
  const int accepted = listener.Accept();
  ASSERT_GE(accepted, 0);
  // Closed without close() (as close_range would): the guard still counts
  // it, until the kernel hands the number out again.
  ASSERT_EQ(syscall(SYS_close, accepted), 0);
  EXPECT_EQ(guard.counts().open, 1u);
  const int next = listener.Accept();
  ASSERT_EQ(next, accepted) << "the lowest free number: each test runs in a process of its own";
  EXPECT_EQ(guard.counts().open, 1u);
  EXPECT_EQ(guard.counts().refused(), 0u);
  listener.CloseAccepted(next);
  EXPECT_EQ(guard.counts().open, 0u);
  close(client);
  close(again);
}

// Out of descriptors, accept4 on a watched listener sheds the waiting
// connection on its reserve descriptor and reports EAGAIN, never EMFILE.
// In a child process: it lowers its own descriptor limit.
TEST(AcceptGuardDeathTest, OutOfDescriptorsTheWaitingConnectionIsShedNotReported) {
  EXPECT_EXIT(
      {
        Listener listener;
        AcceptGuard guard(100, 0);
        guard.Watch(listener.port());  // takes the reserve descriptor
        const int client = listener.Connect();
        // The guard logs the refusal; log the same way once while descriptors
        // remain: UBSan's vptr check of a type it has not seen yet needs one
        // (a pipe), and reports a false "invalid vptr" without.
        const std::string note = "filling the descriptor table";
        spdlog::info("{}", note);
        rlimit limit{};
        getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = 64;
        setrlimit(RLIMIT_NOFILE, &limit);
        std::vector<int> filler;
        for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);
        const int accepted = listener.Accept();
        const int error = errno;
        for (int fd : filler) close(fd);
        const bool shed = accepted == -1 && error == EAGAIN &&
                          guard.counts().refused_no_descriptors == 1 && ClosedByPeer(client);
        std::fprintf(stderr, "accept4: %d (%s)\n", accepted, std::strerror(error));
        std::exit(shed ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "accept4: -1 \\(Resource temporarily unavailable\\)");
}

}  // namespace
}  // namespace chat
