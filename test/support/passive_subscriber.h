#pragma once

#include "server/subscriber.h"

namespace chat::testing {

// A Subscriber for hub tests that only look at what is delivered: never
// backlogged, nothing to flush, close or resume, no references to count.
// Derived classes implement Deliver.
class PassiveSubscriber : public Subscriber {
 public:
  bool Backlogged() override { return false; }
  void Resume() override {}
  void Close(const grpc::Status&) override {}
  void Flush() override {}
  void Ref() override {}
  void Unref() override {}
};

}  // namespace chat::testing
