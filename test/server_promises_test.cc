// Integration tests of promises docs/protocol.md makes that no other test
// checks: the order of what a join sends, how batch frames are packed, the
// id on a refused line, the 64-byte client_msg_id limit. A real server on
// 127.0.0.1:0, real gRPC clients; every wait is bounded. (The shutdown
// promise needs the real binary and a signal: test/e2e/server_process_test.py.)
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "test/support/manual_clock.h"
#include "test/support/test_client.h"
#include "test/support/test_server.h"

namespace chat::testing {
namespace {

using google::protobuf::util::MessageDifferencer;

// The limits docs/protocol.md gives for batch frames ("Batch frames"), as
// numbers: the test pins the documented values, not the code's constants.
constexpr std::size_t kBatchMessages = 128;
constexpr std::size_t kBatchBytes = 1024 * 1024;

ServerOptions Unlimited() {
  ServerOptions options;
  options.rate_limit = 0;
  return options;
}

// A real client of the Chat stream that keeps every frame as it arrived (a
// batch frame with its inner messages), to see how the server packed them.
// TestClient unpacks batches as it reads.
class FrameClient {
 public:
  FrameClient(const std::string& address, const std::map<std::string, std::string>& metadata)
      : channel_(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        stub_(ChatService::NewStub(channel_)) {
    for (const auto& [key, value] : metadata) context_.AddMetadata(key, value);
    context_.set_deadline(std::chrono::system_clock::now() + 60s);
    stream_ = stub_->Chat(&context_);
    reader_ = std::thread([this] { ReadLoop(); });
  }
  ~FrameClient() {
    context_.TryCancel();
    reader_.join();
  }

  // Waits until an (unpacked) message satisfies `predicate`.
  bool WaitFor(const std::function<bool(const ChatMessage&)>& predicate,
               std::chrono::milliseconds timeout = 30s) {
    std::unique_lock lock(mu_);
    std::size_t checked = 0;
    bool found = false;
    changed_.wait_for(lock, timeout, [&] {
      for (; checked < messages_.size() && !found; ++checked) found = predicate(messages_[checked]);
      return found || done_;
    });
    return found;
  }
  std::vector<ChatMessage> Frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }

  // Every message in `frames`, batches unpacked, in order.
  static std::vector<ChatMessage> Unpack(const std::vector<ChatMessage>& frames) {
    std::vector<ChatMessage> out;
    for (const ChatMessage& frame : frames) {
      if (frame.batch_size() == 0) out.push_back(frame);
      for (const ChatMessage& inner : frame.batch()) out.push_back(inner);
    }
    return out;
  }

 private:
  void ReadLoop() {
    ChatMessage frame;
    while (stream_->Read(&frame)) {
      std::lock_guard lock(mu_);
      frames_.push_back(frame);
      for (ChatMessage& m : Unpack({frame})) messages_.push_back(std::move(m));
      changed_.notify_all();
    }
    stream_->Finish();
    std::lock_guard lock(mu_);
    done_ = true;
    changed_.notify_all();
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ChatService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<ChatMessage, ChatMessage>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<ChatMessage> frames_;    // guarded by mu_
  std::vector<ChatMessage> messages_;  // guarded by mu_: frames_ unpacked
  bool done_ = false;                  // guarded by mu_
};

std::function<bool(const ChatMessage&)> OwnJoin(const std::string& name) {
  return [name](const ChatMessage& m) {
    return m.kind() == JOIN && m.subject() == name && !m.replay();
  };
}

std::function<bool(const ChatMessage&)> WithText(const std::string& text) {
  return [text](const ChatMessage& m) { return m.message() == text; };
}

// The messages of a room's log (seq > 0), in the order received.
std::vector<ChatMessage> RoomMessages(const std::vector<ChatMessage>& messages) {
  std::vector<ChatMessage> out;
  std::ranges::copy_if(messages, std::back_inserter(out),
                       [](const ChatMessage& m) { return m.seq() > 0; });
  return out;
}

class PromisesTest : public ::testing::Test {
 protected:
  explicit PromisesTest(ServerOptions options = Unlimited()) : server_(options) {}
  void SetUp() override { ASSERT_TRUE(server_.started()); }
  std::unique_ptr<TestClient> Join(const std::string& name, const std::string& room = "") {
    auto client = TestClient::Joined(server_.address(), name, room);
    EXPECT_TRUE(client) << name << " could not join";
    return client;
  }
  TestServer server_;
};

// "What the server sends on a successful join, in this order: a NOTICE
// welcome, the room's history (replay = true ...), then the JOIN event of the
// joiner itself (the same event every member of the room gets). After that,
// everything said in the room."
TEST_F(PromisesTest, AJoinerGetsTheWelcomeThenTheHistoryThenItsOwnJoinThenTheRoom) {
  auto alice = Join("alice", "ops");
  ASSERT_TRUE(alice);
  for (const char* text : {"one", "two", "three"}) alice->Send(text);
  ASSERT_TRUE(alice->WaitForText("three"));
  // The room's log as its member got it: alice's JOIN and her three lines.
  const std::vector<ChatMessage> history = RoomMessages(alice->Received());
  ASSERT_EQ(history.size(), 4u);

  auto bob = Join("bob", "ops");
  ASSERT_TRUE(bob);
  const auto alice_saw = alice->WaitFor(OwnJoin("bob"));
  ASSERT_TRUE(alice_saw);
  alice->Send("four");
  ASSERT_TRUE(bob->WaitForText("four"));

  const std::vector<ChatMessage> got = bob->Received();
  ASSERT_EQ(got.size(), 1 + history.size() + 2) << "welcome, history, own JOIN, four";
  EXPECT_EQ(got[0].kind(), NOTICE);
  EXPECT_EQ(got[0].user(), "*");
  EXPECT_EQ(got[0].message(), "welcome, bob; type /help for the list of commands");
  for (std::size_t i = 0; i < history.size(); ++i) {
    ChatMessage expected = history[i];
    expected.set_replay(true);
    EXPECT_TRUE(MessageDifferencer::Equals(got[1 + i], expected))
        << "history item " << i << ": " << got[1 + i].ShortDebugString() << " instead of "
        << expected.ShortDebugString();
  }
  const ChatMessage& own = got[1 + history.size()];
  EXPECT_EQ(own.kind(), JOIN) << own.ShortDebugString();
  EXPECT_FALSE(own.replay());
  EXPECT_EQ(own.seq(), history.back().seq() + 1);
  EXPECT_TRUE(MessageDifferencer::Equals(own, *alice_saw))
      << "bob's JOIN differs from the one the room got: " << own.ShortDebugString() << " vs "
      << alice_saw->ShortDebugString();
  EXPECT_EQ(got.back().message(), "four");
  EXPECT_EQ(got.back().seq(), own.seq() + 1);
}

class SmallHistoryPromisesTest : public PromisesTest {
 protected:
  static ServerOptions Options() {
    ServerOptions options = Unlimited();
    options.history = 3;
    return options;
  }
  SmallHistoryPromisesTest() : PromisesTest(Options()) {}
};

// The same order when resuming: "... the room's history (... or what was
// missed, see Resume) ...": the welcome, a GAP for what history no longer
// holds and what it still holds, then the joiner's own JOIN.
TEST_F(SmallHistoryPromisesTest, AResumingJoinerGetsTheWelcomeThenWhatItMissedThenItsOwnJoin) {
  auto alice = Join("alice", "ops");
  ASSERT_TRUE(alice);
  alice->Send("seen");
  const auto seen = alice->WaitForText("seen");
  ASSERT_TRUE(seen);
  for (int i = 0; i < 5; ++i) alice->Send("missed " + std::to_string(i));
  ASSERT_TRUE(alice->WaitForText("missed 4"));  // history (3) holds missed 2, 3, 4

  TestClient bob(server_.address(), {{"chat-user", "bob"},
                                     {"chat-room", "ops"},
                                     {"chat-resume-after", std::to_string(seen->seq())},
                                     {"chat-resume-epoch", std::to_string(seen->epoch())}});
  ASSERT_TRUE(bob.WaitFor(OwnJoin("bob")));
  const std::vector<ChatMessage> got = bob.Received();
  ASSERT_EQ(got.size(), 6u) << "welcome, GAP, three missed, own JOIN";
  EXPECT_EQ(got[0].kind(), NOTICE);
  EXPECT_EQ(got[0].message(), "welcome, bob; type /help for the list of commands");
  EXPECT_EQ(got[1].kind(), GAP);
  EXPECT_EQ(got[1].seq(), seen->seq() + 2);
  EXPECT_EQ(got[1].message(), "you missed 2 messages in #ops that are no longer in history");
  for (int i = 0; i < 3; ++i) {
    const ChatMessage& missed = got[2 + i];
    EXPECT_EQ(missed.message(), "missed " + std::to_string(2 + i));
    EXPECT_TRUE(missed.replay());
    EXPECT_EQ(missed.seq(), seen->seq() + 3 + i);
  }
  EXPECT_EQ(got[5].kind(), JOIN);
  EXPECT_EQ(got[5].subject(), "bob");
  EXPECT_FALSE(got[5].replay());
  EXPECT_EQ(got[5].seq(), seen->seq() + 6);
}

class BatchPromisesTest : public PromisesTest {
 protected:
  static constexpr int kHistoryLines = 299;
  static ServerOptions Options() {
    ServerOptions options = Unlimited();
    options.history = 400;  // holds the whole room
    options.queue_limit = 2000;
    return options;
  }
  BatchPromisesTest() : PromisesTest(Options()) {}
};

// "A client that sent chat-batch: 1 may receive frames whose only field is
// batch (10): several messages, in order, each exactly as it would have been
// sent alone. The server packs what is waiting for a client when a write
// completes (up to 128 messages ...). Clients that did not ask never get a
// batch." A join queues its welcome, the history and its JOIN at once, so
// that backlog leaves in full frames of 128 and one for the rest.
TEST_F(BatchPromisesTest, ABacklogLeavesInFramesOf128MessagesInOrderEachAsIfSentAlone) {
  auto alice = Join("alice", "bulk");
  ASSERT_TRUE(alice);
  for (int i = 0; i < kHistoryLines; ++i) alice->Send("h" + std::to_string(i));
  ASSERT_TRUE(alice->WaitForText("h" + std::to_string(kHistoryLines - 1)));
  FrameClient plain(server_.address(), {{"chat-user", "plain"}, {"chat-room", "bulk"}});
  ASSERT_TRUE(plain.WaitFor(OwnJoin("plain")));
  FrameClient batched(server_.address(),
                      {{"chat-user", "bulk"}, {"chat-room", "bulk"}, {"chat-batch", "1"}});
  ASSERT_TRUE(batched.WaitFor(OwnJoin("bulk")));

  // Welcome, 301 messages of history (alice's JOIN, her lines, plain's
  // JOIN), own JOIN: 303 = 128 + 128 + 47.
  std::vector<int> sizes;
  for (const ChatMessage& frame : batched.Frames()) sizes.push_back(frame.batch_size());
  EXPECT_EQ(sizes, (std::vector<int>{128, 128, 47}));

  // Live lines leave in frames of what waits, 128 at most.
  constexpr int kLiveLines = 500;
  for (int i = 0; i < kLiveLines; ++i) alice->Send("l" + std::to_string(i));
  const std::string last = "l" + std::to_string(kLiveLines - 1);
  ASSERT_TRUE(batched.WaitFor(WithText(last)));
  ASSERT_TRUE(plain.WaitFor(WithText(last)));

  const std::vector<ChatMessage> frames = batched.Frames();
  for (const ChatMessage& frame : frames) {
    EXPECT_LE(frame.batch_size(), static_cast<int>(kBatchMessages));
    if (frame.batch_size() > 0) {
      ChatMessage outer = frame;
      outer.clear_batch();
      EXPECT_EQ(outer.ByteSizeLong(), 0u) << "a batch frame has other fields set";
    }
  }
  for (const ChatMessage& frame : plain.Frames()) {
    EXPECT_EQ(frame.batch_size(), 0) << "a client that did not ask got a batch";
  }
  // In order, nothing lost or duplicated: the room's log from seq 1 on. And
  // each message the same as the client that takes no batches got it in a
  // frame of its own (but for `replay`: plain's JOIN, seq 301, is history
  // for bulk; the rest of what plain got after its join is live for both).
  const std::vector<ChatMessage> room = RoomMessages(FrameClient::Unpack(frames));
  const std::vector<ChatMessage> alone = RoomMessages(FrameClient::Unpack(plain.Frames()));
  const std::size_t expected = 1 + kHistoryLines + 2 + kLiveLines;
  ASSERT_EQ(room.size(), expected);
  ASSERT_EQ(alone.size(), expected);
  const std::uint64_t last_history = 1 + kHistoryLines + 1;
  for (std::size_t i = 0; i < room.size(); ++i) {
    ASSERT_EQ(room[i].seq(), i + 1) << "out of order, lost or duplicated";
    ASSERT_EQ(alone[i].seq(), i + 1);
    EXPECT_EQ(room[i].replay(), room[i].seq() <= last_history) << room[i].ShortDebugString();
    ChatMessage single = alone[i];
    single.set_replay(room[i].replay());
    EXPECT_TRUE(MessageDifferencer::Equals(room[i], single))
        << room[i].ShortDebugString() << " vs " << single.ShortDebugString();
  }
}

class BigBatchPromisesTest : public PromisesTest {
 protected:
  static constexpr int kLines = 150;
  static constexpr std::size_t kLineBytes = 9000;  // 128 of them: over 1 MiB
  static ServerOptions Options() {
    ServerOptions options = Unlimited();
    options.max_message_bytes = 16 * 1024;
    return options;
  }
  BigBatchPromisesTest() : PromisesTest(Options()) {}
};

// "... (up to 128 messages and 1 MiB)": with messages so big that fewer than
// 128 make 1 MiB, each frame holds as many as 1 MiB takes, and no more.
TEST_F(BigBatchPromisesTest, ABatchFrameHoldsAsManyMessagesAsFitInOneMebibyte) {
  auto alice = Join("alice", "big");
  ASSERT_TRUE(alice);
  for (int i = 0; i < kLines; ++i) {
    alice->Send(std::to_string(i) + " " + std::string(kLineBytes, 'x'));
  }
  ASSERT_TRUE(alice->WaitFor([](const ChatMessage& m) {
    return m.message().starts_with(std::to_string(kLines - 1) + " ");
  }));
  FrameClient batched(server_.address(),
                      {{"chat-user", "bulk"}, {"chat-room", "big"}, {"chat-batch", "1"}});
  ASSERT_TRUE(batched.WaitFor(OwnJoin("bulk")));

  // The join's backlog (welcome, 151 messages of history, own JOIN) waited at once.
  const std::vector<ChatMessage> frames = batched.Frames();
  ASSERT_GE(frames.size(), 2u);
  const auto bytes_of = [](const ChatMessage& frame) {
    std::size_t bytes = 0;
    for (const ChatMessage& inner : FrameClient::Unpack({frame})) bytes += inner.ByteSizeLong();
    return bytes;
  };
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::size_t bytes = bytes_of(frames[i]);
    EXPECT_LE(bytes, kBatchBytes) << "frame " << i;
    EXPECT_LT(frames[i].batch_size(), static_cast<int>(kBatchMessages)) << "frame " << i;
    if (i + 1 < frames.size()) {
      const std::size_t next = FrameClient::Unpack({frames[i + 1]}).front().ByteSizeLong();
      EXPECT_GT(bytes + next, kBatchBytes) << "frame " << i << " left before it was full";
    }
  }
  const std::vector<ChatMessage> room = RoomMessages(FrameClient::Unpack(frames));
  ASSERT_EQ(room.size(), static_cast<std::size_t>(1 + kLines + 1));
  for (std::size_t i = 0; i < room.size(); ++i) EXPECT_EQ(room[i].seq(), i + 1);
}

// ERROR: "something this user sent was refused; the stream goes on
// (client_msg_id is the refused line's, when it had one)". A client settles
// a line by its id: on its echo, or on that ERROR.
TEST_F(PromisesTest, ARefusedLineGetsOneErrorCarryingItsIdAndNoEcho) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  ASSERT_TRUE(alice && bob);
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"too-long", std::string(4000, 'x')},
      {"control-character", "\x1b[2Jcleared"},
      {"unknown-command", "/frob"},
      {"usage", "/me"},
      {"nobody-there", "/msg zed psst"},
      {"bad-room", "/join no!such!room"},
      {"lobby-leave", "/leave"},
      {"bad-name", "/nick no!name"},
      {"name-taken", "/nick BOB"},
  };
  for (const auto& [id, line] : refused) ASSERT_TRUE(alice->Send(line, id));
  alice->Send("fine", "accepted");
  const auto echo = alice->WaitFor([](const ChatMessage& m) { return m.message() == "fine"; });
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->kind(), CHAT);
  EXPECT_EQ(echo->client_msg_id(), "accepted");

  // One ERROR per refused line, in the order sent, each with that line's id.
  const std::vector<ChatMessage> errors = alice->ReceivedOfKind(ERROR);
  ASSERT_EQ(errors.size(), refused.size());
  for (std::size_t i = 0; i < refused.size(); ++i) {
    EXPECT_EQ(errors[i].client_msg_id(), refused[i].first) << errors[i].ShortDebugString();
    EXPECT_EQ(errors[i].user(), "*");
  }
  for (const ChatMessage& m : alice->Received()) {
    if (m.kind() != ERROR) {
      EXPECT_TRUE(m.client_msg_id().empty() || m.client_msg_id() == "accepted")
          << "a refused line came back: " << m.ShortDebugString();
    }
  }
  // Nobody else saw anything of the refused lines; the stream went on.
  ASSERT_TRUE(bob->WaitForText("fine"));
  for (const ChatMessage& m : bob->Received()) {
    EXPECT_TRUE(m.client_msg_id().empty() || m.client_msg_id() == "accepted")
        << m.ShortDebugString();
  }
}

// Flood control on a clock that never moves: exactly the burst gets through.
struct StoppedClock {
  ManualClock clock_;
};
class FloodPromisesTest : protected StoppedClock, public PromisesTest {
 protected:
  static constexpr int kBurst = 10;  // FloodBurst(1)
  static ServerOptions Options(const AlarmClock* clock) {
    ServerOptions options;
    options.rate_limit = 1;
    options.clock = clock;
    return options;
  }
  FloodPromisesTest() : PromisesTest(Options(&clock_)) {}
};

// The same for lines refused by flood control: each is settled by an ERROR
// with its id, and the lines let through by their echo; nothing twice.
TEST_F(FloodPromisesTest, ALineRefusedForFloodingGetsAnErrorCarryingItsId) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  ASSERT_TRUE(alice && bob);
  constexpr int kLines = 60;  // far more than a burst
  for (int i = 0; i < kLines; ++i) alice->Send("f" + std::to_string(i), "id-" + std::to_string(i));
  for (int i = 0; i < kLines; ++i) {
    const std::string id = "id-" + std::to_string(i);
    ASSERT_TRUE(alice->WaitFor([&](const ChatMessage& m) { return m.client_msg_id() == id; }))
        << id << " was never settled";
  }
  std::set<std::string> echoed;
  int refused = 0;
  for (int i = 0; i < kLines; ++i) {
    const std::string id = "id-" + std::to_string(i);
    std::vector<ChatMessage> settling;
    for (const ChatMessage& m : alice->Received()) {
      if (m.client_msg_id() == id) settling.push_back(m);
    }
    ASSERT_EQ(settling.size(), 1u) << id;
    if (settling[0].kind() == ERROR) {
      ++refused;
      EXPECT_TRUE(settling[0].message().starts_with("not sent: slow down"))
          << settling[0].message();
    } else {
      EXPECT_EQ(settling[0].kind(), CHAT);
      echoed.insert(settling[0].message());
    }
  }
  EXPECT_EQ(refused, kLines - kBurst);
  EXPECT_EQ(echoed.size(), static_cast<std::size_t>(kBurst));
  // Bob got exactly the lines alice got back, none of the refused ones.
  ASSERT_TRUE(bob->WaitForCount(CHAT, echoed.size()));
  std::set<std::string> heard;
  for (const ChatMessage& m : bob->ReceivedOfKind(CHAT)) heard.insert(m.message());
  EXPECT_EQ(heard, echoed);
}

// "Private messages are limited per recipient too": more senders than the
// burst, each sending one /msg (well within its own limit) at one user: the
// burst reaches the user, the other senders get the ERROR with their ids,
// and the user stays connected and is never cut off as slow.
TEST_F(FloodPromisesTest, APrivateFloodFromManySendersIsRefusedToTheSendersAndSparesTheRecipient) {
  auto victim = Join("victim");
  ASSERT_TRUE(victim);
  constexpr int kSenders = kBurst + 3;
  std::vector<std::unique_ptr<TestClient>> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.push_back(Join("s" + std::to_string(i)));
    ASSERT_TRUE(senders.back());
  }
  for (int i = 0; i < kSenders; ++i) senders[i]->Send("/msg victim hi", "p" + std::to_string(i));
  int delivered = 0, refused = 0;
  for (int i = 0; i < kSenders; ++i) {
    const std::string id = "p" + std::to_string(i);
    const auto answer =
        senders[i]->WaitFor([&](const ChatMessage& m) { return m.client_msg_id() == id; });
    ASSERT_TRUE(answer) << id << " was never settled";
    if (answer->kind() == PRIVATE) {
      ++delivered;
    } else {
      ++refused;
      EXPECT_EQ(answer->kind(), ERROR);
      EXPECT_EQ(answer->message(),
                "not sent: victim is getting too many private messages right now; try again in a "
                "moment");
    }
  }
  EXPECT_EQ(delivered, kBurst);
  EXPECT_EQ(refused, kSenders - kBurst);
  // The victim got exactly the burst and is still connected and talking.
  victim->Send("still here", "v1");
  ASSERT_TRUE(victim->WaitForText("still here"));
  EXPECT_EQ(victim->ReceivedOfKind(PRIVATE).size(), static_cast<std::size_t>(kBurst));
}

// Sending: "client_msg_id (optional, at most 64 bytes) an id the server
// echoes back on the resulting message"; a longer one, or one that is not
// printable, gets the line refused with an ERROR (that carries no id: it
// would break the rule itself).
TEST_F(PromisesTest, AClientMsgIdOfUpTo64PrintableBytesIsEchoedAndAnyOtherGetsTheLineRefused) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  ASSERT_TRUE(alice && bob);
  std::string two_byte_64;  // 32 characters, 64 bytes
  for (int i = 0; i < 32; ++i) two_byte_64 += "\u00e9";
  std::string three_byte_65 = "ab";  // 23 characters, 65 bytes
  for (int i = 0; i < 21; ++i) three_byte_65 += "\u65e5";
  ASSERT_EQ(two_byte_64.size(), 64u);
  ASSERT_EQ(three_byte_65.size(), 65u);
  const std::vector<std::pair<std::string, std::string>> accepted = {
      {"64 ascii", std::string(64, 'a')}, {"64 two-byte", two_byte_64}};
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"65 ascii", std::string(65, 'b')},
      {"65 three-byte", three_byte_65},
      {"tab in id", "a\tb"},
      {"escape in id", "x\x1b[2J"}};
  for (const auto& [text, id] : accepted) alice->Send(text, id);
  for (const auto& [text, id] : refused) alice->Send(text, id);
  alice->Send("after", "short");
  ASSERT_TRUE(alice->WaitForText("after"));

  for (const auto& [text, id] : accepted) {
    const auto echo = alice->WaitForText(text, 0ms);
    ASSERT_TRUE(echo) << text;
    EXPECT_EQ(echo->kind(), CHAT);
    EXPECT_EQ(echo->client_msg_id(), id);
  }
  const std::vector<ChatMessage> errors = alice->ReceivedOfKind(ERROR);
  ASSERT_EQ(errors.size(), refused.size());
  for (const ChatMessage& error : errors) {
    EXPECT_EQ(error.message(),
              "not sent: client_msg_id must be at most 64 bytes of printable UTF-8");
    EXPECT_EQ(error.client_msg_id(), "");
  }
  ASSERT_TRUE(bob->WaitForText("after"));
  std::vector<std::string> heard;
  for (const ChatMessage& m : bob->ReceivedOfKind(CHAT)) heard.push_back(m.message());
  EXPECT_EQ(heard, (std::vector<std::string>{"64 ascii", "64 two-byte", "after"}));
}

// "A stream that connects without chat-user metadata is a reader: it
// receives its room (the lobby unless chat-room names another) from the
// moment it connects ... Its first message names it" (docs/protocol.md, Readers).
TEST_F(PromisesTest, AStreamWithoutANameReceivesItsRoomUntilItsFirstMessageNamesIt) {
  auto alice = Join("alice", "ops");
  ASSERT_TRUE(alice);
  alice->Send("before");
  ASSERT_TRUE(alice->WaitForText("before"));

  TestClient reader(server_.address(), {{"chat-room", "ops"}});
  ASSERT_TRUE(reader.WaitForText("before")) << "the history, from connect";
  alice->Send("live");
  ASSERT_TRUE(reader.WaitForText("live"));
  alice->Send("/who");
  ASSERT_TRUE(alice->WaitForText("2 in #ops: alice, and 1 reader"));
  EXPECT_TRUE(reader.ReceivedOfKind(NOTICE).empty()) << "a reader is not welcomed";

  ChatMessage first;
  first.set_user("bob");
  first.set_message("hi, I was listening");
  ASSERT_TRUE(reader.SendMessage(first));
  ASSERT_TRUE(alice->WaitForText("hi, I was listening"));
  const auto joins = alice->ReceivedOfKind(JOIN);
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(joins[1].message(), "bob joined #ops") << "announced before its first line";
  ASSERT_TRUE(reader.WaitForText("welcome, bob; type /help for the list of commands"));
  std::size_t before_count = 0;
  for (const ChatMessage& m : reader.Received()) before_count += m.message() == "before";
  EXPECT_EQ(before_count, 1u) << "the history is not sent again on naming";
}

// Presence in big rooms (issue 12): "in a room of more members than
// --presence-coalesce-above, joins and leaves are announced together, one
// PRESENCE event per room per --presence-interval-ms ... The joiner still
// gets its own JOIN at once". The presence interval runs on a manual clock:
// nothing is announced until the test moves it.
struct PresenceClock {
  ManualClock clock_;
};
class PresencePromisesTest : protected PresenceClock, public PromisesTest {
 protected:
  static constexpr std::size_t kAbove = 3;
  static ServerOptions Options(const AlarmClock* clock) {
    ServerOptions options = Unlimited();
    options.presence_coalesce_above = kAbove;
    options.presence_interval = 1000ms;
    options.clock = clock;
    return options;
  }
  PresencePromisesTest() : PromisesTest(Options(&clock_)) {}

  // Everyone in `clients` has received `text` (a line someone said).
  static void AllHeard(const std::vector<TestClient*>& clients, const std::string& text) {
    for (TestClient* client : clients) ASSERT_TRUE(client->WaitForText(text)) << text;
  }
  static std::vector<std::string> Names(const google::protobuf::RepeatedPtrField<std::string>& f) {
    return {f.begin(), f.end()};
  }
};

TEST_F(PresencePromisesTest, CoalescedPresenceAboveTheThreshold) {
  std::vector<std::unique_ptr<TestClient>> owned;
  std::vector<TestClient*> everyone;
  for (const char* name : {"alice", "bob", "carol"}) {  // a room of 3: every JOIN at once
    owned.push_back(Join(name, "big"));
    ASSERT_TRUE(owned.back());
    everyone.push_back(owned.back().get());
  }
  ASSERT_TRUE(everyone[0]->WaitFor(OwnJoin("carol")));
  TestClient& alice = *everyone[0];

  // Six more: each gets its own JOIN at once (Join waits for it), outside
  // the room's log; the room hears nothing yet.
  std::vector<std::string> joiners;
  for (int i = 0; i < 6; ++i) {
    joiners.push_back("j" + std::to_string(i));
    owned.push_back(Join(joiners.back(), "big"));
    ASSERT_TRUE(owned.back());
    everyone.push_back(owned.back().get());
  }
  alice.Send("ping");
  AllHeard(everyone, "ping");
  const auto is_about_joiners = [&](const ChatMessage& m) {
    return m.kind() == PRESENCE ||
           ((m.kind() == JOIN || m.kind() == LEAVE) && m.subject().starts_with("j") && !m.replay());
  };
  for (std::size_t i = 0; i < everyone.size(); ++i) {
    std::vector<ChatMessage> about;
    for (const ChatMessage& m : everyone[i]->Received()) {
      if (is_about_joiners(m)) about.push_back(m);
    }
    if (i < 3) {
      EXPECT_TRUE(about.empty()) << about.front().ShortDebugString();
    } else {
      ASSERT_EQ(about.size(), 1u) << "its own JOIN only";
      EXPECT_EQ(about[0].subject(), joiners[i - 3]);
      EXPECT_EQ(about[0].seq(), 0u);
      EXPECT_EQ(about[0].room(), "big");
    }
  }
  const std::uint64_t ping_seq = alice.WaitForText("ping")->seq();

  clock_.Advance(1000ms);
  for (TestClient* client : everyone) {
    const auto presence = client->WaitForKind(PRESENCE);
    ASSERT_TRUE(presence);
    EXPECT_EQ(presence->message(), "6 joined #big: j0, j1, j2 and 3 others");
    EXPECT_EQ(presence->user(), "*");
    EXPECT_EQ(Names(presence->joined()), joiners);
    EXPECT_TRUE(presence->left().empty());
    EXPECT_EQ(presence->seq(), ping_seq + 1);
  }

  // Four leave: held likewise, then one event for the five who stay.
  for (int i = 5; i >= 2; --i) {
    EXPECT_TRUE(everyone[3 + i]->CloseAndFinish().ok());
    everyone.pop_back();
  }
  alice.Send("/who");
  ASSERT_TRUE(alice.WaitForText("5 in #big: alice, bob, carol, j0, j1"));  // exact meanwhile
  alice.Send("pong");
  AllHeard(everyone, "pong");
  for (TestClient* client : everyone) {
    EXPECT_TRUE(client->ReceivedOfKind(LEAVE).empty());
    EXPECT_EQ(client->ReceivedOfKind(PRESENCE).size(), 1u);
  }
  clock_.Advance(1000ms);
  for (TestClient* client : everyone) {
    ASSERT_TRUE(client->WaitForCount(PRESENCE, 2));
    const ChatMessage left = client->ReceivedOfKind(PRESENCE)[1];
    EXPECT_EQ(left.message(), "4 left #big: j5, j4, j3 and 1 other");
    EXPECT_EQ(Names(left.left()), (std::vector<std::string>{"j5", "j4", "j3", "j2"}));
    EXPECT_TRUE(left.joined().empty());
  }
}

// A name of 7 KiB is refused with a status that quotes its start and its
// size, not the whole of it (the log line quotes it the same way).
TEST_F(PromisesTest, AHugeNameIsRefusedWithoutBeingEchoedWhole) {
  const std::string huge(7168, 'n');
  TestClient client(server_.address(), {{"chat-user", huge}});
  const auto status = client.WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(status->error_message().size(), 200u) << status->error_message().size() << " bytes";
  EXPECT_NE(status->error_message().find(std::string(40, 'n') + "… (7168 bytes)"),
            std::string::npos)
      << status->error_message();
}

}  // namespace
}  // namespace chat::testing
