// chat-client: parses options and runs the client.
#include <grpc/support/log.h>

#include <cstdio>
#include <cstdlib>

#include "client/client_app.h"
#include "client/client_options.h"
#include "client/utf8_locale.h"

int main(int argc, char** argv) {
  chat::UseUtf8Locale();  // before anything reads or writes text
  // gRPC's own log lines (one per failed TLS handshake on every retry, say)
  // would scribble over the terminal, and in a pipe over the client's one
  // line of what went wrong, which it says itself from the call's status.
  // Whoever sets GRPC_VERBOSITY, to debug, gets them.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});
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
