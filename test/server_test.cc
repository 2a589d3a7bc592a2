// Integration tests: a real chat server on 127.0.0.1, real gRPC clients.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <set>

#include "chat_lenient.pb.h"
#include "test/support/test_client.h"
#include "test/support/test_server.h"

namespace chat::testing {
namespace {

// Sends one raw frame on `method` and returns the first `replies` frames the
// server sends back (fewer if the call ends first); bounded by a deadline.
std::vector<std::string> RawBidiCall(const std::string& address, const std::string& method,
                                     const std::map<std::string, std::string>& metadata,
                                     const std::string& frame, std::size_t replies) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::CompletionQueue cq;
  void* tag;
  bool ok = false;
  std::vector<std::string> out;
  auto call = generic.PrepareCall(&context, method, &cq);
  call->StartCall(nullptr);
  if (cq.Next(&tag, &ok) && ok) {
    grpc::Slice slice(frame);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, nullptr);
    if (cq.Next(&tag, &ok) && ok) {
      call->WritesDone(nullptr);
      if (cq.Next(&tag, &ok) && ok) {
        while (out.size() < replies) {
          grpc::ByteBuffer in;
          call->Read(&in, nullptr);
          if (!cq.Next(&tag, &ok) || !ok) break;
          grpc::Slice bytes;
          if (!in.DumpToSingleSlice(&bytes).ok()) break;
          out.emplace_back(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
        }
      }
    }
  }
  context.TryCancel();
  grpc::Status status;
  call->Finish(&status, nullptr);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

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

TEST_F(ServerTest, BatchingClientGetsABacklogInFewerFramesInOrder) {
  auto alice = Join("alice", "batch");
  TestClient batched(server_.address(),
                     {{"chat-user", "bulk"}, {"chat-room", "batch"}, {"chat-batch", "1"}},
                     /*start_reading=*/false);
  ASSERT_TRUE(alice->WaitForText("bulk joined #batch"));
  constexpr int kMessages = 300;
  for (int i = 0; i < kMessages; ++i) alice->Send("b" + std::to_string(i));
  ASSERT_TRUE(alice->WaitForText("b" + std::to_string(kMessages - 1)));
  batched.StartReading();  // a backlog is waiting: it leaves in batches
  ASSERT_TRUE(batched.WaitForCount(CHAT, kMessages));
  const auto chats = batched.ReceivedOfKind(CHAT);
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(chats[i].message(), "b" + std::to_string(i));
    if (i > 0) {
      EXPECT_EQ(chats[i].seq(), chats[i - 1].seq() + 1);
    }
  }
  EXPECT_GT(batched.batch_frames(), 0);
  EXPECT_EQ(alice->batch_frames(), 0) << "a client that did not ask got a batch";
}

class LingerTest : public ServerTest {
 protected:
  // A linger far longer than the test takes to send its lines, so that they
  // arrive while the batching stream is held, however slow the machine.
  LingerTest() : ServerTest(WithLinger(std::chrono::seconds(2))) {}
};

TEST_F(LingerTest, LinesThatArriveTogetherLeaveInOneFrameForBatchClientsOnly) {
  auto alice = Join("alice", "linger");
  auto batched = BatchingClient("bulk", "linger");
  ASSERT_TRUE(alice->WaitForText("bulk joined #linger"));
  ASSERT_TRUE(batched->WaitForText("bulk joined #linger"));  // bulk just wrote: it is held now
  const int frames_before = batched->frames();
  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) alice->Send("l" + std::to_string(i));
  // Alice takes no batches: each line reaches her at once, one frame each.
  ASSERT_TRUE(alice->WaitForCount(CHAT, kMessages));
  EXPECT_EQ(alice->batch_frames(), 0);
  // Bulk gets every line, in order, packed into one frame once the linger is
  // over (two if the linger ran out just as the lines came in).
  ASSERT_TRUE(batched->WaitForCount(CHAT, kMessages));
  const auto chats = batched->ReceivedOfKind(CHAT);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(chats[i].message(), "l" + std::to_string(i));
  EXPECT_LE(batched->frames() - frames_before, 2) << "the held lines did not leave together";
}

TEST_F(LingerTest, HeldStreamsStillGetTheShutdownNoticeAndStatus) {
  auto alice = Join("alice", "linger");
  auto batched = BatchingClient("bulk", "linger");
  ASSERT_TRUE(batched->WaitForText("bulk joined #linger"));
  alice->Send("last words");
  ASSERT_TRUE(alice->WaitForText("last words"));  // ordered; held for bulk by the linger
  server_.server().Shutdown(std::chrono::seconds(5));
  ASSERT_TRUE(batched->WaitForText("last words"));
  const auto status = batched->WaitForStatus();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE) << status->error_message();
  EXPECT_TRUE(batched->WaitForText("the server is shutting down", 0ms));
}

class LingerBacklogTest : public ServerTest {
 protected:
  // A linger far longer than the test: a stream it held with a full batch
  // waiting would take 3 s per 128 lines.
  // No queue bound worth the name: this is about waiting, not dropping.
  LingerBacklogTest() : ServerTest(WithLinger(std::chrono::seconds(3), 100000)) {}
};

TEST_F(LingerBacklogTest, AFullBatchIsNotHeldForTheLinger) {
  auto alice = Join("alice", "backlog");
  auto bulk = BatchingClient("bulk", "backlog");
  ASSERT_TRUE(bulk->WaitForText("bulk joined #backlog"));  // bulk just wrote: held from here
  constexpr int kMessages = 600;                           // almost five full batches
  for (int i = 0; i < kMessages; ++i) alice->Send("m" + std::to_string(i));
  ASSERT_TRUE(alice->WaitForCount(CHAT, kMessages));
  // Released as soon as a batch is full, four full batches leave at once and
  // only the last 88 lines wait for the linger: about 3 s in all. Held for
  // the linger with full batches waiting, they would need five lingers (15 s).
  ASSERT_TRUE(bulk->WaitForCount(CHAT, kMessages, 8s)) << "full batches waited for the linger";
  const auto chats = bulk->ReceivedOfKind(CHAT);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(chats[i].message(), "m" + std::to_string(i));
}

TEST_F(LingerTest, StreamCancelledWhileHeldGoesAwayAndOthersCarryOn) {
  auto alice = Join("alice", "linger");
  {
    auto batched = BatchingClient("bulk", "linger");
    ASSERT_TRUE(batched->WaitForText("bulk joined #linger"));
    alice->Send("held for bulk");
    ASSERT_TRUE(alice->WaitForText("held for bulk"));
  }  // bulk cancels its stream while the linger still holds it
  ASSERT_TRUE(alice->WaitFor(
      [](const ChatMessage& m) { return m.kind() == LEAVE && m.subject() == "bulk"; }));
  alice->Send("still here");
  EXPECT_TRUE(alice->WaitForText("still here"));
  // The linger lets go of the finished stream when its time comes (ASan
  // builds would catch a use after free here); the server shuts down cleanly.
  server_.server().Shutdown(std::chrono::seconds(5));
  EXPECT_TRUE(alice->WaitForStatus());
}

class SlowConsumerTest : public ServerTest {
 protected:
  SlowConsumerTest() : ServerTest(ServerOptions{"", 10, 2048, 256, 0}) {}
};

class FloodTest : public ServerTest {
 protected:
  FloodTest() : ServerTest(ServerOptions{"", 10, 2048, 1024, 5}) {}
};

TEST_F(FloodTest, TheLimitIsAdvertisedInInitialMetadata) {
  auto alice = Join("alice");
  const auto metadata = alice->ServerInitialMetadata();
  ASSERT_EQ(metadata.count("chat-rate-limit"), 1u);
  EXPECT_EQ(metadata.find("chat-rate-limit")->second, "5");
  EXPECT_EQ(metadata.find("chat-rate-burst")->second, "10");  // FloodBurst: at least 10
}

TEST_F(FloodTest, FlooderGetsErrorsAndOthersAreSpared) {
  auto alice = Join("alice");
  auto bob = Join("bob");
  // 100 lines as fast as the stream takes them: even on a slow (sanitizer)
  // build that is well under the 20 s that 5 lines/s would need.
  for (int i = 0; i < 100; ++i) alice->Send("spam " + std::to_string(i));
  ASSERT_TRUE(alice->WaitForCount(ERROR, 50));
  const auto errors = alice->ReceivedOfKind(ERROR);
  EXPECT_EQ(errors.front().message(), "not sent: slow down, at most 5 lines per second");
  // The burst (10 lines) went through; most of the rest did not.
  ASSERT_TRUE(bob->WaitForText("spam 9"));
  EXPECT_LT(bob->ReceivedOfKind(CHAT).size(), 50u);
  EXPECT_GE(bob->ReceivedOfKind(CHAT).size(), 10u);
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
