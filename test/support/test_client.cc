#include "test/support/test_client.h"

#include <algorithm>

namespace chat::testing {
namespace {

// A channel with a TCP connection of its own, as every real client has.
// (Channels to one address in one process share a connection otherwise, and
// with it HTTP/2's connection-level flow control: one client that stops
// reading would stall the others' streams.)
std::shared_ptr<grpc::Channel> OwnConnection(const std::string& address, int receive_window_bytes,
                                             const TestClient::Tls& tls) {
  grpc::ChannelArguments arguments;
  if (!tls.server_name.empty()) arguments.SetSslTargetNameOverride(tls.server_name);
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (receive_window_bytes > 0) {
    arguments.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    arguments.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, receive_window_bytes);
  }
  return grpc::CreateCustomChannel(
      address, tls.credentials ? tls.credentials : grpc::InsecureChannelCredentials(), arguments);
}

}  // namespace

TestClient::TestClient(const std::string& address, std::map<std::string, std::string> metadata,
                       bool start_reading, int receive_window_bytes, const Tls& tls)
    : channel_(OwnConnection(address, receive_window_bytes, tls)),
      stub_(ChatService::NewStub(channel_)) {
  for (const auto& [key, value] : metadata) context_.AddMetadata(key, value);
  // A safety net: no test stream outlives a minute even if a test forgets it.
  context_.set_deadline(std::chrono::system_clock::now() + 60s);
  stream_ = stub_->Chat(&context_);
  if (start_reading) StartReading();
}

TestClient::~TestClient() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

std::unique_ptr<TestClient> TestClient::Joined(const std::string& address, const std::string& name,
                                               const std::string& room) {
  std::map<std::string, std::string> metadata{{"chat-user", name}};
  if (!room.empty()) metadata["chat-room"] = room;
  auto client = std::make_unique<TestClient>(address, metadata);
  auto joined = client->WaitFor(
      [&](const ChatMessage& m) { return m.kind() == JOIN && m.subject() == name && !m.replay(); });
  if (!joined) return nullptr;
  return client;
}

void TestClient::StartReading() {
  reader_ = std::thread([this] { ReadLoop(); });
}

void TestClient::ReadLoop() {
  ChatMessage message;
  while (stream_->Read(&message)) {
    MutexLock lock(&mu_);
    ++frames_;
    if (message.batch_size() > 0) {
      ++batch_frames_;
      for (const ChatMessage& inner : message.batch()) received_.push_back(inner);
    } else {
      received_.push_back(message);
    }
    changed_.SignalAll();
  }
  grpc::Status status = stream_->Finish();
  MutexLock lock(&mu_);
  status_ = status;
  changed_.SignalAll();
}

bool TestClient::Send(const std::string& text, const std::string& client_msg_id) {
  ChatMessage message;
  message.set_message(text);
  message.set_client_msg_id(client_msg_id);
  return SendMessage(message);
}

bool TestClient::SendMessage(const ChatMessage& message) { return stream_->Write(message); }

grpc::Status TestClient::CloseAndFinish(std::chrono::milliseconds timeout) {
  {
    MutexLock lock(&mu_);
    if (!writes_done_) stream_->WritesDone();
    writes_done_ = true;
  }
  if (auto status = WaitForStatus(timeout)) return *status;
  return {grpc::StatusCode::DEADLINE_EXCEEDED, "test: the server did not finish the stream"};
}

std::optional<grpc::Status> TestClient::WaitForStatus(std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  if (!changed_.WaitFor(&mu_, timeout,
                        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return status_.has_value(); })) {
    return std::nullopt;
  }
  return status_;
}

std::optional<ChatMessage> TestClient::WaitFor(
    const std::function<bool(const ChatMessage&)>& predicate, std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  std::size_t checked = 0;
  std::optional<ChatMessage> found;
  changed_.WaitFor(&mu_, timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (; checked < received_.size(); ++checked) {
      if (predicate(received_[checked])) {
        found = received_[checked];
        return true;
      }
    }
    return status_.has_value();
  });
  return found;
}

std::optional<ChatMessage> TestClient::WaitForText(const std::string& text,
                                                   std::chrono::milliseconds timeout) {
  return WaitFor([&](const ChatMessage& m) { return m.message() == text; }, timeout);
}

std::optional<ChatMessage> TestClient::WaitForKind(Kind kind, std::chrono::milliseconds timeout) {
  return WaitFor([&](const ChatMessage& m) { return m.kind() == kind; }, timeout);
}

bool TestClient::WaitForCount(Kind kind, std::size_t count, std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  return changed_.WaitFor(&mu_, timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return std::count_if(received_.begin(), received_.end(), [&](const ChatMessage& m) {
             return m.kind() == kind;
           }) >= static_cast<std::ptrdiff_t>(count);
  });
}

std::multimap<std::string, std::string> TestClient::ServerInitialMetadata() {
  std::multimap<std::string, std::string> out;
  for (const auto& [key, value] : context_.GetServerInitialMetadata()) {
    out.emplace(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return out;
}

std::vector<ChatMessage> TestClient::Received() {
  MutexLock lock(&mu_);
  return received_;
}

std::vector<ChatMessage> TestClient::ReceivedOfKind(Kind kind) {
  std::vector<ChatMessage> out;
  for (auto& m : Received()) {
    if (m.kind() == kind) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace chat::testing
