// sendmsg_floor: what one small write to a TCP socket costs on this machine,
// with no gRPC at all. It is the floor under "server CPU per delivery": a
// chat server with one connection per member makes at least one such write
// per delivery (or per batch of deliveries).
//
// C connections on 127.0.0.1; a receiver thread (pinned to --receiver-cpu)
// drains them with epoll; the sender (pinned to --sender-cpu) writes
// --bytes-per-write bytes to each connection in turn, --writes times. Reports
// the sender thread's CPU time per write (CLOCK_THREAD_CPUTIME_ID, which on
// loopback includes the receiving side's TCP work that the kernel does in the
// sender's system call) and per message for --messages-per-write > 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxopts.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

void PinTo(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// Returns {client fd, server fd} of one loopback TCP connection.
std::pair<int, int> Connect(int listener, const sockaddr_in& address) {
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0) Die("socket");
  if (connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    Die("connect");
  }
  const int accepted = accept(listener, nullptr, nullptr);
  if (accepted < 0) Die("accept");
  const int one = 1;
  // Like gRPC: no Nagle, every write leaves at once.
  setsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return {client, accepted};
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options("sendmsg_floor", "CPU cost of one small TCP write on loopback");
  // clang-format off
  options.add_options()
    ("connections", "connections written in turn", cxxopts::value<int>()->default_value("100"), "N")
    ("writes", "writes in all", cxxopts::value<long>()->default_value("1000000"), "N")
    ("bytes-per-message", "bytes of one message (a delivery)", cxxopts::value<int>()->default_value("130"), "N")
    ("messages-per-write", "messages packed into one write", cxxopts::value<int>()->default_value("1"), "N")
    ("sender-cpu", "CPU for the sender (-1: any)", cxxopts::value<int>()->default_value("0"), "N")
    ("receiver-cpu", "CPU for the receiver (-1: any)", cxxopts::value<int>()->default_value("1"), "N")
    ("h,help", "show this help");
  // clang-format on
  const auto parsed = options.parse(argc, argv);
  if (parsed.count("help")) {
    std::printf("%s\n", options.help().c_str());
    return 0;
  }
  const int connections = parsed["connections"].as<int>();
  const long writes = parsed["writes"].as<long>();
  const int per_write = parsed["messages-per-write"].as<int>();
  const std::size_t bytes = static_cast<std::size_t>(parsed["bytes-per-message"].as<int>()) *
                            static_cast<std::size_t>(per_write);
  if (connections < 1 || writes < 1 || per_write < 1 || bytes < 1) {
    std::fprintf(stderr, "sendmsg_floor: every number must be at least 1\n");
    return 2;
  }

  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener, 1024) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    Die("listen");
  }
  std::vector<int> senders;
  std::vector<int> receivers;
  for (int i = 0; i < connections; ++i) {
    const auto [client, server] = Connect(listener, address);
    receivers.push_back(client);  // the "chat client" end
    senders.push_back(server);    // the "chat server" end
  }

  const long expected_bytes = writes * static_cast<long>(bytes);
  std::atomic<long> received{0};
  std::thread receiver([&] {
    PinTo(parsed["receiver-cpu"].as<int>());
    const int epoll = epoll_create1(0);
    for (int fd : receivers) {
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = fd;
      epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
    std::vector<epoll_event> events(256);
    std::vector<char> buffer(1 << 16);
    while (received.load(std::memory_order_relaxed) < expected_bytes) {
      const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 1000);
      for (int i = 0; i < n; ++i) {
        const ssize_t got = read(events[i].data.fd, buffer.data(), buffer.size());
        if (got > 0) received.fetch_add(got, std::memory_order_relaxed);
      }
    }
    close(epoll);
  });

  PinTo(parsed["sender-cpu"].as<int>());
  std::vector<char> payload(bytes, 'x');
  const double start = ThreadCpuSeconds();
  for (long i = 0; i < writes; ++i) {
    iovec iov{payload.data(), payload.size()};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    const int fd = senders[static_cast<std::size_t>(i % connections)];
    while (sendmsg(fd, &message, MSG_NOSIGNAL) < 0) {
      if (errno != EAGAIN && errno != EINTR) Die("sendmsg");
    }
  }
  const double sender_cpu = ThreadCpuSeconds() - start;
  receiver.join();
  std::printf(
      "sendmsg_floor: %ld writes of %zu bytes (%d message(s) of %zu) over %d connections\n"
      "  sender CPU: %.2f us per write, %.2f us per message\n",
      writes, bytes, per_write, bytes / static_cast<std::size_t>(per_write), connections,
      sender_cpu / static_cast<double>(writes) * 1e6,
      sender_cpu / static_cast<double>(writes) / per_write * 1e6);
  for (int fd : senders) close(fd);
  for (int fd : receivers) close(fd);
  close(listener);
  return 0;
}
