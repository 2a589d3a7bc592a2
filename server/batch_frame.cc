#include "server/batch_frame.h"

#include <grpc/slice.h>

#include <cstdint>
#include <cstring>

namespace chat {
namespace {

constexpr std::uint8_t kBatchFieldTag = (10 << 3) | 2;  // field 10, length-delimited

std::size_t PutFieldHeader(std::size_t length, std::uint8_t* out) {
  std::size_t size = 0;
  out[size++] = kBatchFieldTag;
  do {
    std::uint8_t byte = length & 0x7F;
    length >>= 7;
    out[size++] = length ? (byte | 0x80) : byte;
  } while (length);
  return size;
}

}  // namespace

grpc::ByteBuffer MakeBatchFrame(const std::vector<EnvelopePtr>& envelopes) {
  // One contiguous slice, not a header slice and a shared slice per message:
  // chttp2 keeps each stream's outgoing slice array at its largest size for
  // the stream's life (32 bytes a slice), so a 100-message frame made of 200
  // slices left ~4 KiB per stream behind. Copying the bytes is cheap next to that.
  std::size_t total = 0;
  for (const EnvelopePtr& envelope : envelopes) total += 11 + envelope->bytes.size();
  grpc_slice slice = grpc_slice_malloc(total);
  std::uint8_t* out = GRPC_SLICE_START_PTR(slice);
  std::size_t used = 0;
  for (const EnvelopePtr& envelope : envelopes) {
    used += PutFieldHeader(envelope->bytes.size(), out + used);
    std::memcpy(out + used, envelope->bytes.begin(), envelope->bytes.size());
    used += envelope->bytes.size();
  }
  grpc::Slice frame(grpc_slice_sub_no_ref(slice, 0, used), grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&frame, 1);
}

}  // namespace chat
