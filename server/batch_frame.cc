#include "server/batch_frame.h"

#include <cstdint>

namespace chat {
namespace {

constexpr std::uint8_t kBatchFieldTag = (10 << 3) | 2;  // field 10, length-delimited

grpc::Slice FieldHeader(std::size_t length) {
  std::uint8_t header[11];
  std::size_t size = 0;
  header[size++] = kBatchFieldTag;
  do {
    std::uint8_t byte = length & 0x7F;
    length >>= 7;
    header[size++] = length ? (byte | 0x80) : byte;
  } while (length);
  return grpc::Slice(header, size);  // small: stored inline, no allocation
}

}  // namespace

grpc::ByteBuffer MakeBatchFrame(const std::vector<EnvelopePtr>& envelopes) {
  std::vector<grpc::Slice> slices;
  slices.reserve(envelopes.size() * 2);
  for (const EnvelopePtr& envelope : envelopes) {
    slices.push_back(FieldHeader(envelope->bytes.size()));
    slices.push_back(envelope->bytes);
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

}  // namespace chat
