#include "server/access/accept_guard.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/log_throttle.h"
#include "common/mutex.h"
#include "server/access/connection_limits.h"

// A sanitizer runtime linked into the program (clang's static ASan or TSan)
// defines accept4 and close as weak aliases of these, which our strong
// definitions replace: calling these keeps its bookkeeping. With a shared
// runtime (gcc's libasan.so) they resolve there, or dlsym(RTLD_NEXT) finds
// its interceptor; without a sanitizer they are null.
extern "C" int __interceptor_accept4(int, sockaddr*, socklen_t*, int) __attribute__((weak));
extern "C" int __interceptor_close(int) __attribute__((weak));

namespace chat {
namespace {

using Accept4 = int (*)(int, sockaddr*, socklen_t*, int);
using Close = int (*)(int);

int SyscallAccept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  return static_cast<int>(syscall(SYS_accept4, fd, address, length, flags));
}
int SyscallClose(int fd) { return static_cast<int>(syscall(SYS_close, fd)); }

// The accept4 and close our definitions stand in front of.
Accept4 NextAccept4() {
  static const Accept4 next = [] {
    if (&__interceptor_accept4 != nullptr) return &__interceptor_accept4;
    auto found = reinterpret_cast<Accept4>(dlsym(RTLD_NEXT, "accept4"));
    return found != nullptr ? found : &SyscallAccept4;
  }();
  return next;
}
Close NextClose() {
  static const Close next = [] {
    if (&__interceptor_close != nullptr) return &__interceptor_close;
    auto found = reinterpret_cast<Close>(dlsym(RTLD_NEXT, "close"));
    return found != nullptr ? found : &SyscallClose;
  }();
  return next;
}

// Which descriptors are admitted connections, one bit each, so that close()
// of any other descriptor costs one atomic load. Descriptors past it (only
// with fs.nr_open raised past its default) are admitted uncounted.
constexpr int kTrackedDescriptors = 1 << 20;
constinit std::atomic<std::uint64_t> g_tracked_bits[kTrackedDescriptors / 64];
// How many ports are watched: 0 lets accept4 pass through at once.
constinit std::atomic<int> g_watched_ports{0};

bool TrackedBit(int fd) {
  return fd >= 0 && fd < kTrackedDescriptors &&
         (g_tracked_bits[fd / 64].load(std::memory_order_acquire) >> (fd % 64) & 1) != 0;
}
void SetTrackedBit(int fd, bool on) {
  const std::uint64_t bit = std::uint64_t{1} << (fd % 64);
  if (on) {
    g_tracked_bits[fd / 64].fetch_or(bit, std::memory_order_release);
  } else {
    g_tracked_bits[fd / 64].fetch_and(~bit, std::memory_order_release);
  }
}

// Guards the books below and every guard's limits and log throttles.
// Constant-initialised (constinit, as the two above), so close() may use it
// at any time of the process's life, before main and after exit included;
// chat::Mutex's constructor is constexpr and its destructor (std::mutex's) does nothing.
constinit Mutex g_mu;

constexpr auto kLogInterval = std::chrono::seconds(10);

}  // namespace

struct AcceptGuard::State {
  State(std::size_t max_total, std::size_t max_per_address) : limits(max_total, max_per_address) {}

  ConnectionLimits limits ABSL_GUARDED_BY(g_mu);
  LogThrottle total_log ABSL_GUARDED_BY(g_mu){kLogInterval};
  LogThrottle address_log ABSL_GUARDED_BY(g_mu){kLogInterval};
  LogThrottle descriptor_log ABSL_GUARDED_BY(g_mu){kLogInterval};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> refused_over_total{0};
  std::atomic<std::uint64_t> refused_over_address{0};
  std::atomic<std::uint64_t> refused_no_descriptors{0};
};

namespace {

struct Tracked {
  AcceptGuard::State* guard;
  std::string address;  // AddressKey
};

// The process-wide books, under g_mu. Never destroyed: close() runs until
// the process's very end.
struct Books {
  std::vector<std::pair<int, AcceptGuard::State*>> watched;  // port, guard
  std::unordered_map<int, Tracked> tracked;                  // descriptor -> its connection
  int reserve = -1;  // a descriptor to free when there is none left
};

Books& TheBooks() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  static Books* books = new Books;
  return *books;
}

AcceptGuard::State* WatcherLocked(int port) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  for (const auto& [watched_port, guard] : TheBooks().watched) {
    if (watched_port == port) return guard;
  }
  return nullptr;
}

void OpenReserveLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  Books& books = TheBooks();
  if (books.reserve < 0) books.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

// Gives the place of the connection on `fd` back, if it holds one.
void ForgetLocked(int fd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  Books& books = TheBooks();
  auto it = books.tracked.find(fd);
  if (it != books.tracked.end()) {
    AcceptGuard::State* guard = it->second.guard;
    guard->limits.Release(it->second.address);
    guard->open.store(guard->limits.open(), std::memory_order_relaxed);
    books.tracked.erase(it);
  }
  SetTrackedBit(fd, false);
}

// The TCP port `fd` is bound to, or 0.
int LocalPort(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return 0;
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  return 0;
}

bool IsWatched(int port) {
  MutexLock lock(&g_mu);
  return WatcherLocked(port) != nullptr;
}

std::string Held(std::uint64_t held_back) {
  return held_back == 0
             ? std::string()
             : "; " + std::to_string(held_back) + " more refused since the last such line";
}

// Counts the connection on `fd` (from `peer`) if its server's limits allow
// it. When they do not, returns false, with `*warning` the line to log, if
// one is due.
bool Admit(int port, int fd, const sockaddr* peer, socklen_t peer_length, std::string* warning) {
  const std::string address = AddressKey(peer, peer_length);
  MutexLock lock(&g_mu);
  AcceptGuard::State* guard = WatcherLocked(port);
  if (guard == nullptr || fd >= kTrackedDescriptors) return true;  // unwatched meanwhile
  // Still counted: the kernel only reuses a closed number, so the connection
  // it was was closed without our close() (dup2 over it, close_range).
  if (TrackedBit(fd)) ForgetLocked(fd);
  const auto now = std::chrono::steady_clock::now();
  std::uint64_t held_back = 0;
  switch (guard->limits.Admit(address)) {
    case ConnectionLimits::Verdict::kAdmitted:
      TheBooks().tracked[fd] = Tracked{guard, address};
      SetTrackedBit(fd, true);
      guard->open.store(guard->limits.open(), std::memory_order_relaxed);
      return true;
    case ConnectionLimits::Verdict::kOverTotal:
      guard->refused_over_total.fetch_add(1, std::memory_order_relaxed);
      if (guard->total_log.Allow(now, &held_back)) {
        *warning = "connection from " + address + " refused: --max-connections " +
                   std::to_string(guard->limits.max_total()) + " reached" + Held(held_back) +
                   "; raise it if this is not an attack";
      }
      return false;
    case ConnectionLimits::Verdict::kOverAddress:
      guard->refused_over_address.fetch_add(1, std::memory_order_relaxed);
      if (guard->address_log.Allow(now, &held_back)) {
        *warning = "connection from " + address + " refused: --max-connections-per-ip " +
                   std::to_string(guard->limits.max_per_address()) + " reached from that address" +
                   Held(held_back) + "; raise it if this is not an attack";
      }
      return false;
  }
  return true;
}

// The descriptor error `error` (EMFILE, ENFILE, ENOBUFS, ENOMEM) came from
// accept4 on `listener`: for EMFILE and ENFILE, frees the reserve
// descriptor, accepts the waiting connection on it, closes that and takes
// the reserve again. True when a connection was shed this way (look for
// more); false when the queue is empty or nothing could be done (then the
// connections left wait in the kernel's queue until the next one arrives
// and wakes the listener).
bool ShedWithReserve(int port, int listener, int flags, int error) {
  std::string problem;
  bool shed = false;
  {
    MutexLock lock(&g_mu);
    AcceptGuard::State* guard = WatcherLocked(port);
    Books& books = TheBooks();
    int accepted = -1;
    int accept_error = error;
    if (guard != nullptr && (error == EMFILE || error == ENFILE)) {
      OpenReserveLocked();  // lost to a race last time? try again
      if (books.reserve >= 0) {
        NextClose()(books.reserve);
        books.reserve = -1;
        accepted = NextAccept4()(listener, nullptr, nullptr, flags);
        accept_error = errno;
        if (accepted >= 0) NextClose()(accepted);
        OpenReserveLocked();
      }
    }
    if (accepted >= 0) {
      shed = true;
      guard->refused_no_descriptors.fetch_add(1, std::memory_order_relaxed);
    } else if (accept_error == EAGAIN || accept_error == EWOULDBLOCK) {
      return false;  // the queue is empty after all
    }
    std::uint64_t held_back = 0;
    if (guard != nullptr &&
        guard->descriptor_log.Allow(std::chrono::steady_clock::now(), &held_back)) {
      rlimit limit{};
      getrlimit(RLIMIT_NOFILE, &limit);
      problem = std::string(shed ? "connection refused: " : "cannot accept connections: ") +
                std::strerror(error) + " (descriptor limit " + std::to_string(limit.rlim_cur) +
                ", " + std::to_string(guard->limits.open()) + " connections open)" +
                (shed ? "" : "; waiting connections stay queued until the next one arrives") +
                Held(held_back) + "; lower --max-connections or raise the descriptor limit";
    }
  }
  if (!problem.empty()) spdlog::error("{}", problem);
  return shed;
}

// Errors accept4 reports for the connection it was about to return, not for
// the listener (Linux passes a new connection's pending network error on;
// accept(2), "Error handling"): try the next connection.
bool IsConnectionError(int error) {
  switch (error) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:  // firewall rules
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case ETIMEDOUT:
      return true;
    default:
      return false;
  }
}

// accept4 on a watched listener: see AcceptGuard.
int GuardedAccept4(int listener, sockaddr* address, socklen_t* length, int flags) {
  const int port = LocalPort(listener);
  if (port == 0 || !IsWatched(port)) return NextAccept4()(listener, address, length, flags);
  // A bound on errors in a row, so that an error that is the listener's
  // after all cannot keep gRPC's thread here.
  int connection_errors = 0;
  for (;;) {
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    const int fd = NextAccept4()(listener, reinterpret_cast<sockaddr*>(&peer), &peer_length, flags);
    if (fd >= 0) {
      std::string warning;
      if (Admit(port, fd, reinterpret_cast<sockaddr*>(&peer), peer_length, &warning)) {
        if (address != nullptr && length != nullptr) {
          std::memcpy(address, &peer, std::min(*length, peer_length));
          *length = peer_length;
        }
        return fd;
      }
      NextClose()(fd);
      if (!warning.empty()) spdlog::warn("{}", warning);
      continue;
    }
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK) return -1;
    if (IsConnectionError(error)) {
      if (++connection_errors < 1000) continue;
      errno = EAGAIN;
      return -1;
    }
    if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
      if (ShedWithReserve(port, listener, flags, error)) continue;
      errno = EAGAIN;
      return -1;
    }
    errno = error;  // EBADF, EINVAL...: the listener's own (it is being shut down)
    return -1;
  }
}

}  // namespace

AcceptGuard::AcceptGuard(std::size_t max_total, std::size_t max_per_address)
    : state_(std::make_unique<State>(max_total, max_per_address)) {}

AcceptGuard::~AcceptGuard() {
  MutexLock lock(&g_mu);
  Books& books = TheBooks();
  const auto before = books.watched.size();
  std::erase_if(books.watched, [this](const auto& entry) { return entry.second == state_.get(); });
  g_watched_ports.fetch_sub(static_cast<int>(before - books.watched.size()));
  for (auto it = books.tracked.begin(); it != books.tracked.end();) {
    if (it->second.guard == state_.get()) {
      SetTrackedBit(it->first, false);
      it = books.tracked.erase(it);
    } else {
      ++it;
    }
  }
  if (books.watched.empty() && books.reserve >= 0) {
    NextClose()(books.reserve);
    books.reserve = -1;
  }
}

void AcceptGuard::Watch(int port) {
  MutexLock lock(&g_mu);
  if (port <= 0 || WatcherLocked(port) != nullptr) return;
  TheBooks().watched.emplace_back(port, state_.get());
  g_watched_ports.fetch_add(1);
  OpenReserveLocked();
}

ConnectionCounts AcceptGuard::counts() const {
  ConnectionCounts counts;
  counts.open = state_->open.load(std::memory_order_relaxed);
  counts.refused_over_total = state_->refused_over_total.load(std::memory_order_relaxed);
  counts.refused_over_address = state_->refused_over_address.load(std::memory_order_relaxed);
  counts.refused_no_descriptors = state_->refused_no_descriptors.load(std::memory_order_relaxed);
  return counts;
}

std::size_t AcceptGuard::max_total() const {
  MutexLock lock(&g_mu);
  return state_->limits.max_total();
}

std::size_t AcceptGuard::max_per_address() const {
  MutexLock lock(&g_mu);
  return state_->limits.max_per_address();
}

void AcceptGuard::SetLimits(std::size_t max_total, std::size_t max_per_address) {
  if (max_total == 0) {
    struct rlimit limit {};
    getrlimit(RLIMIT_NOFILE, &limit);  // raised by MakeAcceptGuard already
    max_total = AutomaticMaxConnections(limit.rlim_cur);
  }
  MutexLock lock(&g_mu);
  state_->limits.SetLimits(max_total, max_per_address);
}

std::unique_ptr<AcceptGuard> MakeAcceptGuard(std::size_t max_connections,
                                             std::size_t max_per_address) {
  const DescriptorLimit descriptors = RaiseDescriptorLimit();
  const std::size_t automatic = AutomaticMaxConnections(descriptors.soft);
  const std::size_t total = max_connections > 0 ? max_connections : automatic;
  spdlog::info(
      "descriptor limit {} (was {}, hard limit {}); at most {} connections{}, {} per address",
      descriptors.soft, descriptors.soft_before, descriptors.hard, total,
      max_connections > 0 ? "" : " (automatic: half the descriptor limit, at most 10000)",
      max_per_address > 0 ? std::to_string(max_per_address) : "no limit");
  if (total > descriptors.soft / 2) {
    spdlog::warn(
        "--max-connections {} is more than half the descriptor limit ({}): connections past "
        "what the descriptors allow are refused for lack of them",
        total, descriptors.soft);
  }
  return std::make_unique<AcceptGuard>(total, max_per_address);
}

}  // namespace chat

// The definitions libgrpc's calls find first (see AcceptGuard).
extern "C" int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  if (chat::g_watched_ports.load(std::memory_order_acquire) == 0) {
    return chat::NextAccept4()(fd, address, length, flags);
  }
  return chat::GuardedAccept4(fd, address, length, flags);
}

extern "C" int close(int fd) {
  if (chat::TrackedBit(fd)) {
    chat::MutexLock lock(&chat::g_mu);
    chat::ForgetLocked(fd);
  }
  return chat::NextClose()(fd);
}
