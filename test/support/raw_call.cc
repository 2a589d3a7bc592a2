#include "test/support/raw_call.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

namespace chat::testing {

using namespace std::chrono_literals;

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

}  // namespace chat::testing
