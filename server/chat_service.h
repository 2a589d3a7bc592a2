#pragma once

#include "chat.grpc.pb.h"
#include "server/chat_reactor.h"
#include "server/hub.h"

namespace chat {

// chat.ChatService with the Chat method on raw byte buffers: incoming frames
// are parsed leniently (see proto/chat_lenient.proto) and outgoing ones are
// serialised once per message, not once per recipient.
class ChatServiceImpl final : public ChatService::WithRawCallbackMethod_Chat<ChatService::Service> {
 public:
  ChatServiceImpl(Hub& hub, ChatReactor::Options options) : hub_(hub), options_(options) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Chat(
      grpc::CallbackServerContext* context) override {
    return new ChatReactor(context, hub_, options_);  // deletes itself in OnDone
  }

 private:
  Hub& hub_;
  const ChatReactor::Options options_;
};

}  // namespace chat
