// chat-client: parses options and runs the client.
#include <cstdio>
#include <cstdlib>

#include "client/client_app.h"
#include "client/client_options.h"
#include "client/utf8_locale.h"

int main(int argc, char** argv) {
  chat::UseUtf8Locale();  // before anything reads or writes text
  const int code = chat::RunClient(chat::ParseClientOptions(argc, argv));
  // Leave without exit-time destructors. Everything of ours is gone by now,
  // but gRPC 1.51's callback threads (its shared callback queue's "nexting"
  // threads) may still be winding down, and racing them with static
  // destruction double-frees inside libgrpc: ASan caught it in 3 of 64 runs
  // against an unreachable server (grpc_cq_internal_unref on a nexting
  // thread while the main thread was in exit()).
  std::fflush(nullptr);
  std::_Exit(code);
}
