// Integration tests: a real chat server on 127.0.0.1, real gRPC clients.
#include <gtest/gtest.h>

#include <set>

#include "chat_lenient.pb.h"
#include "test/support/raw_call.h"
#include "test/support/test_client.h"
#include "test/support/test_server.h"

namespace chat::testing {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  explicit ServerTest(ServerOptions options = Unlimited()) : server_(options) {}
  static ServerOptions Unlimited() {
    ServerOptions options;
    options.rate_limit = 0;
    return options;
  }
  void SetUp() override { ASSERT_TRUE(server_.started()); }
  // Unlimited, plus a batch linger (and a queue bound).
  static ServerOptions WithLinger(std::chrono::microseconds linger,
                                  std::size_t queue_limit = ServerOptions{}.queue_limit) {
    ServerOptions options = Unlimited();
    options.batch_linger = linger;
    options.queue_limit = queue_limit;
    return options;
  }
  // A client that takes batch frames (chat-batch: 1), joined with metadata.
  std::unique_ptr<TestClient> BatchingClient(const std::string& name, const std::string& room) {
    return std::make_unique<TestClient>(
        server_.address(), std::map<std::string, std::string>{
                               {"chat-user", name}, {"chat-room", room}, {"chat-batch", "1"}});
  }
  std::unique_ptr<TestClient> Join(const std::string& name, const std::string& room = "") {
    auto client = TestClient::Joined(server_.address(), name, room);
    EXPECT_TRUE(client) << name << " could not join";
    return client;
  }
  TestServer server_;
};

TEST_F(ServerTest, ManyClientsInOneRoomSeeEveryMessageOnceInOneOrder) {
  constexpr int kClients = 8;
  constexpr int kPerClient = 25;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Join("user" + std::to_string(i), "busy"));
  std::vector<std::thread> senders;
  for (int i = 0; i < kClients; ++i) {
    senders.emplace_back([&, i] {
      for (int j = 0; j < kPerClient; ++j) {
        clients[i]->Send("u" + std::to_string(i) + "-" + std::to_string(j));
      }
    });
  }
  for (auto& t : senders) t.join();
  std::vector<std::vector<std::string>> orders;
  for (auto& client : clients) {
    // Wait until this client has every chat message.
    ASSERT_TRUE(client->WaitForCount(CHAT, kClients * kPerClient)) << "timed out";
    std::vector<std::string> order;
    std::set<std::string> unique;
    std::uint64_t previous_seq = 0;
    for (const auto& m : client->ReceivedOfKind(CHAT)) {
      order.push_back(m.message());
      unique.insert(m.message());
      if (previous_seq) {
        EXPECT_EQ(m.seq(), previous_seq + 1);
      }
      previous_seq = m.seq();
    }
    EXPECT_EQ(order.size(), static_cast<std::size_t>(kClients * kPerClient));
    EXPECT_EQ(unique.size(), order.size()) << "a message arrived twice";
    orders.push_back(order);
  }
  for (const auto& order : orders) EXPECT_EQ(order, orders.front());
}

// A client generated from the two-field message: no metadata, name from `user`.
TEST_F(ServerTest, TwoFieldClientChatsAndSeesEventsAsText) {
  auto alice = Join("alice");
  TestClient legacy(server_.address(), {});
  ChatMessage first;
  first.set_user("oldtimer");
  first.set_message("hello from the past");
  ASSERT_TRUE(legacy.SendMessage(first));
  auto heard = alice->WaitForText("hello from the past");
  ASSERT_TRUE(heard);
  EXPECT_EQ(heard->user(), "oldtimer");
  EXPECT_EQ(heard->room(), "lobby");
  ASSERT_TRUE(legacy.WaitForText("oldtimer joined #lobby"));
  alice->Send("hi oldtimer");
  auto reply = legacy.WaitForText("hi oldtimer");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->user(), "alice");
  alice->Send("/nick alicia");
  EXPECT_TRUE(legacy.WaitForText("alice is now known as alicia"));
  legacy.Send("/msg alicia secret");
  auto secret = alice->WaitForText("secret");
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->kind(), PRIVATE);
  legacy.Send("/frob");
  auto error = legacy.WaitForKind(ERROR);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->user(), "*");
  EXPECT_NE(error->message().find("unknown command /frob"), std::string::npos);
  alice.reset();
  EXPECT_TRUE(legacy.WaitForText("alicia left #lobby (connection lost)"));
}

TEST_F(ServerTest, ImpersonationIsStampedWithTheRealName) {
  auto alice = Join("alice");
  auto mallory = Join("mallory");
  ChatMessage forged;
  forged.set_user("alice");
  forged.set_message("send me your password");
  ASSERT_TRUE(mallory->SendMessage(forged));
  auto heard = alice->WaitForText("send me your password");
  ASSERT_TRUE(heard);
  EXPECT_EQ(heard->user(), "mallory");
}

TEST_F(ServerTest, NameClashAndBadNameEndTheStreamWithClearStatus) {
  auto alice = Join("alice");
  TestClient clash(server_.address(), {{"chat-user", "ALICE"}});
  auto status = clash.WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(status->error_message().find("already in use"), std::string::npos);

  TestClient bad(server_.address(), {{"chat-user", "no spaces"}});
  status = bad.WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  TestClient nameless(server_.address(), {});
  nameless.Send("who am I");
  status = nameless.WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  TestClient bad_resume(server_.address(), {{"chat-user", "x"}, {"chat-resume-after", "soon"}});
  status = bad_resume.WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  alice->Send("still here");
  EXPECT_TRUE(alice->WaitForText("still here"));
}

TEST_F(ServerTest, BadInputGetsErrorEventsAndTheStreamGoesOn) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  alice->Send(std::string(4000, 'x'));  // over the 2048-byte default
  alice->Send("\x1b[2Jcleared!");
  alice->Send("/nick");
  // Invalid UTF-8 cannot be put in a string field by most stubs: send it raw
  // through the lenient view, which is wire-identical.
  internal::LenientChatMessage raw;
  raw.set_message("bad \xff\xfe bytes");
  const auto replies =
      RawBidiCall(server_.address(), "/chat.ChatService/Chat",
                  {{"chat-user", "rawclient"}, {"chat-room", "raw"}}, raw.SerializeAsString(), 3);
  ASSERT_EQ(replies.size(), 3u);  // welcome, own join, the error
  ChatMessage error;
  ASSERT_TRUE(error.ParseFromString(replies[2]));
  EXPECT_EQ(error.kind(), ERROR);
  EXPECT_EQ(error.message(), "not sent: message is not valid UTF-8 (at byte 4)");

  auto errors =
      alice->WaitFor([](const ChatMessage& m) { return m.message() == "usage: /nick NAME"; });
  ASSERT_TRUE(errors);
  const auto alice_errors = alice->ReceivedOfKind(ERROR);
  ASSERT_EQ(alice_errors.size(), 3u);
  EXPECT_EQ(alice_errors[0].message(), "not sent: message is 4000 bytes; the limit is 2048");
  EXPECT_NE(alice_errors[1].message().find("control character U+001B"), std::string::npos);
  alice->Send("after the errors");
  EXPECT_TRUE(bob->WaitForText("after the errors"));
  EXPECT_TRUE(bob->ReceivedOfKind(ERROR).empty());
  for (const auto& m : bob->ReceivedOfKind(CHAT)) EXPECT_EQ(m.message(), "after the errors");
}

TEST_F(ServerTest, AbsurdlyLargeFrameEndsOnlyThatStream) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  alice->Send(std::string(200 * 1024, 'x'));
  auto status = alice->WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status->error_message().find("larger than max"), std::string::npos);
  auto carol = Join("carol");
  carol->Send("unaffected");
  EXPECT_TRUE(bob->WaitForText("unaffected"));
}

TEST_F(ServerTest, HalfCloseFlushesAndEndsWithOk) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  for (int i = 0; i < 50; ++i) bob->Send("b" + std::to_string(i));
  const grpc::Status status = bob->CloseAndFinish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  // Bob's own 50 messages all came back before the stream ended.
  EXPECT_EQ(bob->ReceivedOfKind(CHAT).size(), 50u);
  EXPECT_TRUE(alice->WaitForText("bob left #lobby"));
}

TEST_F(ServerTest, ResumeAfterSequenceGivesExactlyTheMissedMessages) {
  auto alice = Join("alice", "ops");
  std::uint64_t seen;
  {
    auto bob = Join("bob", "ops");
    alice->Send("before");
    auto before = bob->WaitForText("before");
    ASSERT_TRUE(before);
    seen = before->seq();
    ASSERT_TRUE(bob->CloseAndFinish().ok());
  }
  alice->Send("missed 1");
  alice->Send("missed 2");
  ASSERT_TRUE(alice->WaitForText("missed 2"));
  TestClient bob(
      server_.address(),
      {{"chat-user", "bob"}, {"chat-room", "ops"}, {"chat-resume-after", std::to_string(seen)}});
  ASSERT_TRUE(bob.WaitFor([](const ChatMessage& m) { return m.kind() == JOIN && !m.replay(); }));
  std::vector<std::string> replayed;
  std::uint64_t expected_seq = seen + 1;
  for (const auto& m : bob.Received()) {
    if (!m.replay()) continue;
    replayed.push_back(m.message());
    EXPECT_EQ(m.seq(), expected_seq++);
  }
  EXPECT_EQ(replayed, (std::vector<std::string>{"bob left #ops", "missed 1", "missed 2"}));
}

TEST_F(ServerTest, HealthCheckingAndReflectionAreServed) {
  // grpc.health.v1.Health/Check with an empty request answers SERVING (field 1 = 1).
  auto health = RawBidiCall(server_.address(), "/grpc.health.v1.Health/Check", {}, "", 1);
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0], "\x08\x01");
  // ServerReflectionRequest{list_services: ""} (field 7) lists chat.ChatService.
  auto reflection = RawBidiCall(server_.address(),
                                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                {}, std::string("\x3a\x00", 2), 1);
  ASSERT_EQ(reflection.size(), 1u);
  EXPECT_NE(reflection[0].find("chat.ChatService"), std::string::npos);
}

TEST(ReflectionTest, ReflectionCanBeTurnedOffAndHealthStaysOn) {
  ServerOptions options;
  options.reflection = false;
  TestServer server(options);
  ASSERT_TRUE(server.started());
  EXPECT_TRUE(RawBidiCall(server.address(),
                          "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {},
                          std::string("\x3a\x00", 2), 1)
                  .empty());
  EXPECT_EQ(RawBidiCall(server.address(), "/grpc.health.v1.Health/Check", {}, "", 1),
            std::vector<std::string>{"\x08\x01"});
}

// The manual clock a fixture's server runs on (flood control and linger):
// time moves only when the test advances it. A base listed before
// ServerTest, so the clock is made before the server and outlives it.
struct ManualTime {
  ManualClock clock_;
};

class LingerTest : protected ManualTime, public ServerTest {
 protected:
  // The linger is on the manual clock: a held stream stays held, however
  // slow the machine, until the test advances the clock.
  static constexpr std::chrono::microseconds kLinger = std::chrono::seconds(1);
  explicit LingerTest(std::size_t queue_limit = ServerOptions{}.queue_limit)
      : ServerTest(OnClock(WithLinger(kLinger, queue_limit), &clock_)) {}
  static ServerOptions OnClock(ServerOptions options, const AlarmClock* clock) {
    options.clock = clock;
    return options;
  }
};

TEST_F(LingerTest, LinesThatArriveWhileHeldLeaveInOneFrameWhenTheLingerEndsForBatchClientsOnly) {
  auto alice = Join("alice", "linger");
  auto bulk = BatchingClient("bulk", "linger");
  ASSERT_TRUE(alice->WaitForText("bulk joined #linger"));
  ASSERT_TRUE(bulk->WaitForText("bulk joined #linger"));  // bulk just wrote: held from here
  const int frames_before = bulk->frames();
  const int batches_before = bulk->batch_frames();
  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) alice->Send("l" + std::to_string(i));
  // Alice takes no batches: each line reaches her at once, one frame each.
  // Once she has the last, every line is queued for bulk too.
  ASSERT_TRUE(alice->WaitForCount(CHAT, kMessages));
  EXPECT_EQ(alice->batch_frames(), 0);
  ASSERT_TRUE(clock_.WaitForArmedAlarms(1)) << "bulk is not held";
  EXPECT_EQ(bulk->ReceivedOfKind(CHAT).size(), 0u) << "written before the linger was over";

  clock_.Advance(kLinger);
  // Every line, in order, in one frame.
  ASSERT_TRUE(bulk->WaitForCount(CHAT, kMessages));
  const auto chats = bulk->ReceivedOfKind(CHAT);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(chats[i].message(), "l" + std::to_string(i));
  EXPECT_EQ(bulk->frames() - frames_before, 1) << "the held lines did not leave together";
  EXPECT_EQ(bulk->batch_frames() - batches_before, 1);
}

TEST_F(LingerTest, ABatchingStreamQuietForALingerGetsItsNextMessageAtOnce) {
  auto alice = Join("alice", "linger");
  auto bulk = BatchingClient("bulk", "linger");
  ASSERT_TRUE(alice->WaitForText("bulk joined #linger"));
  ASSERT_TRUE(bulk->WaitForText("bulk joined #linger"));  // bulk's last write
  clock_.Advance(kLinger);                                // quiet for a whole linger
  alice->Send("at once");
  // The clock does not move again: only a stream that is not held gets it.
  EXPECT_TRUE(bulk->WaitForText("at once")) << "held although quiet for a whole linger";
}

TEST_F(LingerTest, HeldStreamsStillGetTheShutdownNoticeAndStatus) {
  auto alice = Join("alice", "linger");
  auto bulk = BatchingClient("bulk", "linger");
  ASSERT_TRUE(bulk->WaitForText("bulk joined #linger"));
  const int frames_before = bulk->frames();
  alice->Send("last words");
  ASSERT_TRUE(alice->WaitForText("last words"));  // ordered, and queued for bulk
  // Held for bulk by the linger (which arms its alarm then). Not before: if
  // bulk's last write only completes after the shutdown began, bulk is
  // closing by then, and a closing stream is never held.
  ASSERT_TRUE(clock_.WaitForArmedAlarms(1));
  // Shutdown waits (up to its grace) for every stream to finish, and bulk's
  // can only finish once the linger lets its messages go.
  std::jthread shutdown([this] { server_.server().Shutdown(std::chrono::seconds(20)); });
  // Alice is not held: once she has the notice, the hub has told and closed bulk too.
  ASSERT_TRUE(alice->WaitForText("the server is shutting down"));

  clock_.Advance(kLinger);
  EXPECT_TRUE(bulk->WaitForText("last words"));
  EXPECT_TRUE(bulk->WaitForText("the server is shutting down"));
  const auto status = bulk->WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE) << status->error_message();
  // Both left together when the linger ended: had the line been written
  // before, it would have gone in a frame of its own.
  EXPECT_EQ(bulk->frames() - frames_before, 1) << "written before the linger was over";
}

class LingerBacklogTest : public LingerTest {
 protected:
  // No queue bound worth the name: this is about waiting, not dropping.
  LingerBacklogTest() : LingerTest(100000) {}
};

TEST_F(LingerBacklogTest, FullBatchesLeaveAtOnceAndOnlyTheRestWaitsForTheLinger) {
  auto alice = Join("alice", "backlog");
  auto bulk = BatchingClient("bulk", "backlog");
  ASSERT_TRUE(alice->WaitForText("bulk joined #backlog"));
  ASSERT_TRUE(bulk->WaitForText("bulk joined #backlog"));  // bulk just wrote: held from here
  const int frames_before = bulk->frames();
  constexpr int kBatch = 128;                 // ChatReactor::kMaxBatchMessages
  constexpr int kMessages = 4 * kBatch + 88;  // four full batches and some
  for (int i = 0; i < kMessages; ++i) alice->Send("m" + std::to_string(i));
  ASSERT_TRUE(alice->WaitForCount(CHAT, kMessages));  // every line is queued for bulk too
  // The clock has not moved: the full batches left without the linger, the rest waits.
  ASSERT_TRUE(bulk->WaitForCount(CHAT, 4 * kBatch)) << "full batches waited for the linger";
  EXPECT_EQ(bulk->ReceivedOfKind(CHAT).size(), 4u * kBatch) << "a part batch left early";
  EXPECT_EQ(bulk->frames() - frames_before, 4);
  // More lines while the rest waits: if the rest had not been held (a frame
  // of its own, a moment later), these would make a sixth frame.
  constexpr int kMore = 10;
  for (int i = 0; i < kMore; ++i) alice->Send("m" + std::to_string(kMessages + i));
  ASSERT_TRUE(alice->WaitForCount(CHAT, kMessages + kMore));

  clock_.Advance(kLinger);
  ASSERT_TRUE(bulk->WaitForCount(CHAT, kMessages + kMore));
  EXPECT_EQ(bulk->frames() - frames_before, 5) << "the rest did not wait for the linger";
  const auto chats = bulk->ReceivedOfKind(CHAT);
  ASSERT_EQ(chats.size(), static_cast<std::size_t>(kMessages + kMore));
  for (int i = 0; i < kMessages + kMore; ++i) {
    EXPECT_EQ(chats[i].message(), "m" + std::to_string(i));
  }
}

TEST_F(LingerTest, StreamCancelledWhileHeldGoesAwayAndOthersCarryOn) {
  auto alice = Join("alice", "linger");
  {
    auto bulk = BatchingClient("bulk", "linger");
    ASSERT_TRUE(bulk->WaitForText("bulk joined #linger"));
    alice->Send("held for bulk");
    ASSERT_TRUE(alice->WaitForText("held for bulk"));
    ASSERT_TRUE(clock_.WaitForArmedAlarms(1)) << "bulk is not held";
  }  // bulk cancels its stream while the linger still holds it
  ASSERT_TRUE(alice->WaitFor(
      [](const ChatMessage& m) { return m.kind() == LEAVE && m.subject() == "bulk"; }));
  // The linger's time comes when the stream is gone: it flushes nothing and
  // lets go of it (ASan and TSan builds would catch a use after free).
  clock_.Advance(kLinger);
  alice->Send("still here");
  EXPECT_TRUE(alice->WaitForText("still here"));
  server_.server().Shutdown(std::chrono::seconds(5));
  EXPECT_TRUE(alice->WaitForStatus());
}

class SlowConsumerTest : public ServerTest {
 protected:
  SlowConsumerTest()
      : ServerTest(ServerOptions{.history = 10, .queue_limit = 256, .rate_limit = 0}) {}
};

class FloodTest : protected ManualTime, public ServerTest {
 protected:
  static constexpr double kRate = 5;  // its burst: FloodBurst(5) = 10 lines
  FloodTest() : ServerTest(FloodOptions(kRate, &clock_)) {}
  static ServerOptions FloodOptions(double rate, const AlarmClock* clock) {
    ServerOptions options = Unlimited();
    options.rate_limit = rate;
    options.clock = clock;
    return options;
  }

  // What the server answered to a run of lines: each line gets its echo
  // (accepted) or an ERROR (refused), both with the line's client_msg_id.
  struct Answers {
    int accepted = 0;
    int refused = 0;
    bool operator==(const Answers&) const = default;
    friend std::ostream& operator<<(std::ostream& out, const Answers& a) {
      return out << a.accepted << " accepted, " << a.refused << " refused";
    }
  };
  // Sends `count` lines tagged `tag` while the manual clock stands still
  // (however long they take to arrive, they come at one instant for flood
  // control) and counts the answers once the last line's is in: a stream's
  // answers come in the order of its lines, so every earlier one is in too.
  static Answers SendAtOnce(TestClient& client, const std::string& tag, int count) {
    std::set<std::string> ids;
    for (int i = 0; i < count; ++i) {
      const std::string id = tag + std::to_string(i);
      ids.insert(id);
      client.Send("line " + id, id);
    }
    const std::string last = tag + std::to_string(count - 1);
    if (!client.WaitFor([&](const ChatMessage& m) { return m.client_msg_id() == last; })) {
      ADD_FAILURE() << "no answer to " << last;
      return {-1, -1};
    }
    Answers answers;
    for (const ChatMessage& m : client.Received()) {
      if (!ids.contains(m.client_msg_id())) continue;
      if (m.kind() == CHAT) ++answers.accepted;
      if (m.kind() == ERROR) ++answers.refused;
    }
    return answers;
  }
};

TEST_F(FloodTest, TheLimitIsAdvertisedInInitialMetadata) {
  auto alice = Join("alice");
  const auto metadata = alice->ServerInitialMetadata();
  ASSERT_EQ(metadata.count("chat-rate-limit"), 1u);
  EXPECT_EQ(metadata.find("chat-rate-limit")->second, "5");
  EXPECT_EQ(metadata.find("chat-rate-burst")->second, "10");  // FloodBurst: at least 10
}

TEST_F(FloodTest, FlooderGetsExactlyTheBurstThenOneLinePerOneOverTheRateAndOthersAreSpared) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  EXPECT_EQ(SendAtOnce(*alice, "a", 11), (Answers{10, 1})) << "the burst is 10 lines";
  const auto refused =
      alice->WaitFor([](const ChatMessage& m) { return m.client_msg_id() == "a10"; });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind(), ERROR);
  EXPECT_EQ(refused->message(), "not sent: slow down, at most 5 lines per second");

  clock_.Advance(100ms);  // half of 1/rate: half a line
  EXPECT_EQ(SendAtOnce(*alice, "b", 1), (Answers{0, 1})) << "a line came back before 1/rate";
  clock_.Advance(100ms);  // 1/rate since the burst
  EXPECT_EQ(SendAtOnce(*alice, "c", 2), (Answers{1, 1})) << "1/rate gives one line, no more";
  clock_.Advance(400ms);
  EXPECT_EQ(SendAtOnce(*alice, "d", 3), (Answers{2, 1})) << "2/rate gives two lines";

  // Bob is spared: his own line goes through, and once its echo is in he
  // has had every line of alice's that the room got (they came first).
  EXPECT_EQ(SendAtOnce(*bob, "z", 1), (Answers{1, 0}));
  int from_alice = 0;
  for (const ChatMessage& m : bob->ReceivedOfKind(CHAT)) from_alice += m.user() == "alice";
  EXPECT_EQ(from_alice, 10 + 1 + 2) << "the room got other lines than the accepted ones";
}

TEST_F(FloodTest, TheBurstIsTwiceTheRateAndAtLeastTenLines) {
  // The advertised burst is the one enforced: max(10, 2 x rate) lines at
  // one instant, and after a quiet spell as long as you like, no more.
  for (const auto& [rate, burst] : {std::pair{2.0, 10}, std::pair{8.0, 16}}) {
    SCOPED_TRACE("rate " + std::to_string(rate));
    ManualClock clock;
    TestServer server(FloodOptions(rate, &clock));
    ASSERT_TRUE(server.started());
    auto carol = TestClient::Joined(server.address(), "carol");
    ASSERT_TRUE(carol);
    const auto metadata = carol->ServerInitialMetadata();
    ASSERT_EQ(metadata.count("chat-rate-burst"), 1u);
    EXPECT_EQ(metadata.find("chat-rate-burst")->second, std::to_string(burst));
    EXPECT_EQ(SendAtOnce(*carol, "a", burst + 1), (Answers{burst, 1}));
    clock.Advance(std::chrono::hours(1));
    EXPECT_EQ(SendAtOnce(*carol, "b", burst + 1), (Answers{burst, 1}));
  }
}

TEST_F(SlowConsumerTest, ClientThatStopsReadingIsCutWithResourceExhausted) {
  auto alice = Join("alice", "flood");
  auto bob = Join("bob", "flood");
  TestClient slow(server_.address(), {{"chat-user", "slow"}, {"chat-room", "flood"}},
                  /*start_reading=*/false);
  ASSERT_TRUE(alice->WaitForText("slow joined #flood"));
  const std::string filler(1900, 'z');
  bool dropped = false;
  int sent = 0;
  // Flow control lets the transport buffer a few MB before the server's
  // queue for `slow` grows; keep talking until the server gives up on it.
  // Alice waits for her own echo every 50 lines, so she and bob (who read)
  // never have more than that waiting, far below the bound.
  for (; sent < 20000 && !dropped; ++sent) {
    const std::string text = std::to_string(sent) + filler;
    alice->Send(text);
    if (sent % 50 == 49) {
      ASSERT_TRUE(alice->WaitForText(text, 30s)) << "alice was cut instead";
      dropped = alice->WaitForText("slow left #flood (disconnected)", 0ms).has_value();
    }
  }
  // Everybody else got everything, in order.
  alice->Send("done");
  ASSERT_TRUE(bob->WaitForText("done", 30s));
  EXPECT_EQ(bob->ReceivedOfKind(CHAT).size(), static_cast<std::size_t>(sent + 1));
  slow.StartReading();
  auto status = slow.WaitForStatus(30s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status->error_message().find("not reading fast enough"), std::string::npos);
}

class OverloadTest : public ServerTest {
 protected:
  // Backlogged at 1/8 of the limits: 2500 messages waiting; cut at 20000.
  // Clients that stop reading together still take in different amounts
  // (their transports buffer some MB, more or less) before the server's
  // writes to them stop; the gap between the two marks is far wider.
  static ServerOptions Options() {
    ServerOptions options;
    options.history = 10;
    options.queue_limit = 20000;
    options.queue_bytes = 64 << 20;
    options.rate_limit = 0;
    return options;
  }
  OverloadTest() : ServerTest(Options()) {}
};

// docs/architecture.md, "Overload": while most members of a room have fallen
// behind, the server holds its senders back; no reader is cut, nothing is lost.
TEST_F(OverloadTest, ARoomWhoseMembersFallBehindHoldsItsSenderBackAndCutsNoReader) {
  auto alice = Join("alice", "busy");
  std::vector<std::unique_ptr<TestClient>> readers;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "r" + std::to_string(i);
    readers.push_back(std::make_unique<TestClient>(
        server_.address(),
        std::map<std::string, std::string>{{"chat-user", name}, {"chat-room", "busy"}},
        /*start_reading=*/false));
    ASSERT_TRUE(alice->WaitForText(name + " joined #busy"));
  }
  // The readers have stopped reading together, as members do when the server
  // cannot write to them fast enough. Alice talks until told to stop. Once
  // her lines are held, her stream is
  // not read and her writes block in flow control, until the readers catch up.
  const std::string filler(1900, 'z');
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread talker([&] {
    while (!stop && sent < 100000) {
      if (!alice->Send(std::to_string(sent) + filler)) return;
      ++sent;
    }
  });
  const auto busy = alice->WaitFor(
      [](const ChatMessage& m) {
        return m.kind() == NOTICE && m.message().starts_with("#busy is busy:");
      },
      60s);
  stop = true;
  for (auto& reader : readers) reader->StartReading();
  talker.join();
  ASSERT_TRUE(busy) << "never held back; " << sent << " lines sent";
  alice->Send("done");
  for (auto& reader : readers) {
    ASSERT_TRUE(reader->WaitForText("done", 60s)) << "a reader was cut";
    const auto lines = reader->ReceivedOfKind(CHAT);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(sent + 1));
    for (int i = 0; i < sent; ++i) {
      ASSERT_EQ(lines[i].message(), std::to_string(i) + filler) << "line " << i;
    }
    EXPECT_FALSE(reader->WaitForStatus(0ms));
  }
  EXPECT_TRUE(alice->ReceivedOfKind(LEAVE).empty());
}

class StreamLimitTest : public ServerTest {
 protected:
  static ServerOptions Options() {
    ServerOptions options = Unlimited();
    options.max_streams_per_connection = 4;
    return options;
  }
  StreamLimitTest() : ServerTest(Options()) {}

  // How many the watcher's room has now, by /who.
  static std::string Who(TestClient& watcher, int asked) {
    watcher.Send("/who");
    int answers = 0;
    const auto answer = watcher.WaitFor([&](const ChatMessage& m) {
      return m.kind() == NOTICE && m.message().find(" in #lobby: ") != std::string::npos &&
             ++answers == asked;
    });
    return answer ? answer->message().substr(0, answer->message().find(':')) : "no answer";
  }
};

// --max-streams-per-connection: one connection's streams past the limit wait
// for one of its streams to end; the server never holds more.
TEST_F(StreamLimitTest, AConnectionsStreamsPastTheLimitWaitUntilOneEnds) {
  auto watcher = Join("watcher");
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own
  auto channel =
      grpc::CreateCustomChannel(server_.address(), grpc::InsecureChannelCredentials(), arguments);
  auto stub = ChatService::NewStub(channel);
  // Each stream on a thread of its own: starting a stream blocks until the
  // connection has room for it.
  struct Stream {
    grpc::ClientContext context;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 6; ++i) {
    auto& s = *streams.emplace_back(std::make_unique<Stream>());
    s.context.AddMetadata("chat-user", "s" + std::to_string(i));
    s.context.set_deadline(std::chrono::system_clock::now() + 60s);
    s.thread = std::thread([&stub, &s] {
      auto stream = stub->Chat(&s.context);
      ChatMessage message;
      while (stream->Read(&message)) {
      }
      stream->Finish();
    });
  }
  ASSERT_TRUE(watcher->WaitForCount(JOIN, 1 + 4)) << "four of the six streams get in";
  EXPECT_EQ(Who(*watcher, 1), "5 in #lobby") << "the watcher and four streams, not six";
  // One ends: one waiting stream takes its place, and no more.
  const std::size_t joins = watcher->ReceivedOfKind(JOIN).size();
  const std::size_t leaves = watcher->ReceivedOfKind(LEAVE).size();
  const std::string first_in = watcher->ReceivedOfKind(JOIN)[1].subject();  // after the watcher's
  streams[std::stoi(first_in.substr(1))]->context.TryCancel();
  ASSERT_TRUE(watcher->WaitForCount(LEAVE, leaves + 1));
  ASSERT_TRUE(watcher->WaitForCount(JOIN, joins + 1));
  EXPECT_EQ(Who(*watcher, 2), "5 in #lobby");
  for (auto& s : streams) s->context.TryCancel();
  for (auto& s : streams) s->thread.join();
}

TEST_F(ServerTest, ShutdownTellsClientsAndFinishesEveryStreamWithUnavailable) {
  auto alice = Join("alice");
  auto bob = Join("bob", "dev");
  TestClient unnamed(server_.address(), {});
  server_.server().Shutdown(std::chrono::milliseconds(2000));
  for (TestClient* client : {alice.get(), bob.get()}) {
    auto status = client->WaitForStatus();
    ASSERT_TRUE(status);
    EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_TRUE(client->WaitForText("the server is shutting down", 0ms));
  }
  EXPECT_TRUE(unnamed.WaitForStatus());
}

}  // namespace
}  // namespace chat::testing
