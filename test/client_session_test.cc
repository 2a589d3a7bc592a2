// The terminal client's Session against a real server: what it makes of the
// server's events. Here, its member list (what Tab completes) in a big room,
// where joins and leaves come in PRESENCE events (issue 12). A real server
// on 127.0.0.1:0 with its presence interval on a manual clock; every wait is
// bounded.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "client/session.h"
#include "test/support/manual_clock.h"
#include "test/support/test_client.h"
#include "test/support/test_server.h"

namespace chat::testing {
namespace {

// Keeps what the session shows. Only the test's thread calls it (the
// session runs on it).
class RecordingOutput : public ChatOutput {
 public:
  void ShowMessage(const ChatMessage& message) override { shown.push_back(message); }
  void ShowStatus(std::string_view) override {}
  void ShowRefused(std::string_view, const ChatMessage&) override {}
  void SetIdentity(std::string_view, std::string_view) override {}
  void SetLink(const LinkState&) override {}

  std::size_t Count(Kind kind) const {
    std::size_t n = 0;
    for (const ChatMessage& m : shown) n += m.kind() == kind;
    return n;
  }
  std::vector<ChatMessage> shown;
};

struct SessionClock {
  ManualClock clock_;
};

class SessionPresenceTest : protected SessionClock, public ::testing::Test {
 protected:
  static ServerOptions Options(const AlarmClock* clock) {
    ServerOptions options;
    options.rate_limit = 0;
    options.batch_linger = std::chrono::microseconds(0);  // the session takes batches
    options.presence_coalesce_above = 2;
    options.presence_interval = std::chrono::milliseconds(1000);
    options.clock = clock;
    return options;
  }
  SessionPresenceTest() : server_(Options(&clock_)) {}

  // Runs the session's event loop until `done`, for at most 10 s.
  bool Pump(Session& session, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd fd{inbox_->wake_fd(), POLLIN, 0};
      poll(&fd, 1, 100);
      session.HandleEvents();
    }
    return true;
  }

  TestServer server_;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  RecordingOutput output_;
};

TEST_F(SessionPresenceTest, TheMemberListFollowsPresenceEventsInABigRoom) {
  ASSERT_TRUE(server_.started());
  SessionOptions options;
  options.server = server_.address();
  options.name = "me";
  options.room = "big";
  Session session(options, output_, inbox_);
  session.Start();
  ASSERT_TRUE(Pump(session, [&] { return output_.Count(JOIN) == 1; })) << "never joined";

  auto pa = TestClient::Joined(server_.address(), "pa", "big");  // a room of 2: its own JOIN
  ASSERT_TRUE(pa);
  ASSERT_TRUE(Pump(session, [&] { return output_.Count(JOIN) == 2; }));
  auto pb = TestClient::Joined(server_.address(), "pb", "big");  // of 3, and more: held
  auto pc = TestClient::Joined(server_.address(), "pc", "big");
  ASSERT_TRUE(pb && pc);
  EXPECT_EQ(session.Complete("", "p"), (std::vector<std::string>{"pa:"}));

  clock_.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(Pump(session, [&] { return output_.Count(PRESENCE) == 1; }));
  EXPECT_EQ(output_.shown.back().message(), "2 joined #big: pb and pc");
  EXPECT_EQ(session.Complete("", "p"), (std::vector<std::string>{"pa:", "pb:", "pc:"}));

  ASSERT_TRUE(pb->CloseAndFinish().ok());
  ASSERT_TRUE(pc->CloseAndFinish().ok());
  clock_.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(Pump(session, [&] { return output_.Count(PRESENCE) == 2; }));
  EXPECT_EQ(output_.shown.back().message(), "2 left #big: pb and pc");
  EXPECT_EQ(session.Complete("", "p"), (std::vector<std::string>{"pa:"}));
  EXPECT_EQ(output_.Count(LEAVE), 0u);
}

}  // namespace
}  // namespace chat::testing
