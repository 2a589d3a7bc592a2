#pragma once

#include <memory>
#include <string>

#include "server/chat_server.h"
#include "test/support/manual_clock.h"

namespace chat::testing {

// A real chat server on 127.0.0.1 with a port picked by the kernel. Its time
// rules run on options.clock: the real clock unless the test passes a
// ManualClock (which must outlive the server).
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<ChatServer>(options);
    std::string error;
    started_ = server_->Start(&error);
  }
  bool started() const { return started_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  ChatServer& server() { return *server_; }

 private:
  std::unique_ptr<ChatServer> server_;
  bool started_ = false;
};

}  // namespace chat::testing
