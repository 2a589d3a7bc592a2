#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <vector>

#include "server/envelope.h"

namespace chat {

// One ChatMessage frame whose `batch` field (10) holds `envelopes` in order,
// built from their already-serialised bytes: a repeated message field is
// just each element's bytes behind a tag and a length, so nothing is
// re-serialised. The bytes are copied into one slice (see batch_frame.cc).
grpc::ByteBuffer MakeBatchFrame(const std::vector<EnvelopePtr>& envelopes);

}  // namespace chat
