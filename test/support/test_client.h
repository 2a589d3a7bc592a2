#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chat.grpc.pb.h"
#include "common/mutex.h"

namespace chat::testing {

using namespace std::chrono_literals;

// A real gRPC client of the Chat stream for tests: a reader thread collects
// what the server sends; every wait is bounded.
class TestClient {
 public:
  // `metadata` goes on the stream (chat-user, chat-room, ...). With
  // start_reading=false nothing is read until StartReading(): a client that
  // stops reading. receive_window_bytes > 0: the HTTP/2 window the client
  // grants the stream, fixed (no BDP growth), so a client that stops
  // reading stops the server's writes after about that much.
  // `tls`: connect with these credentials (null: plain text), checking the
  // server's certificate for `tls_server_name` if given.
  struct Tls {
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    std::string server_name;
  };
  TestClient(const std::string& address, std::map<std::string, std::string> metadata,
             bool start_reading = true, int receive_window_bytes = 0, const Tls& tls = {});
  ~TestClient();

  // Convenience: joins with chat-user metadata and waits for its own JOIN.
  static std::unique_ptr<TestClient> Joined(const std::string& address, const std::string& name,
                                            const std::string& room = "");

  bool Send(const std::string& text, const std::string& client_msg_id = "");
  bool SendMessage(const ChatMessage& message);
  void StartReading();
  // Half-closes, then waits for the server to finish; returns the final status.
  grpc::Status CloseAndFinish(std::chrono::milliseconds timeout = 10s);
  // Waits for the stream to end (without half-closing) and returns its status.
  std::optional<grpc::Status> WaitForStatus(std::chrono::milliseconds timeout = 10s);

  // Waits until a received message satisfies `predicate`; returns it.
  std::optional<ChatMessage> WaitFor(const std::function<bool(const ChatMessage&)>& predicate,
                                     std::chrono::milliseconds timeout = 10s);
  std::optional<ChatMessage> WaitForText(const std::string& text,
                                         std::chrono::milliseconds timeout = 10s);
  std::optional<ChatMessage> WaitForKind(Kind kind, std::chrono::milliseconds timeout = 10s);
  // Waits until `count` messages of `kind` have arrived; false on timeout.
  bool WaitForCount(Kind kind, std::size_t count, std::chrono::milliseconds timeout = 20s);
  // Frames that carried a batch of messages (their messages are in Received()).
  int batch_frames() {
    MutexLock lock(&mu_);
    return batch_frames_;
  }
  // Frames received, batch or single.
  int frames() {
    MutexLock lock(&mu_);
    return frames_;
  }
  // The server's initial metadata; only once a message has been received.
  std::multimap<std::string, std::string> ServerInitialMetadata();
  // Everything received so far.
  std::vector<ChatMessage> Received();
  // Received messages of one kind.
  std::vector<ChatMessage> ReceivedOfKind(Kind kind);

 private:
  void ReadLoop();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ChatService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<ChatMessage, ChatMessage>> stream_;
  std::thread reader_;

  Mutex mu_;
  CondVar changed_;
  std::vector<ChatMessage> received_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> status_ ABSL_GUARDED_BY(mu_);  // set when the stream ended
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  int batch_frames_ ABSL_GUARDED_BY(mu_) = 0;
  int frames_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace chat::testing
