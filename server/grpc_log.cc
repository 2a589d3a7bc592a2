#include "server/grpc_log.h"

#include <grpc/support/log.h>
#include <spdlog/spdlog.h>

#include <string_view>

#include "common/refusal_log.h"

namespace chat {
namespace {

RefusalLog& HandshakeFailures() {
  static RefusalLog* const log = new RefusalLog();  // never destroyed: gRPC may log at exit
  return *log;
}

void Log(gpr_log_func_args* args) {
  const std::string_view message = args->message;
  if (message.find("Handshake failed") != std::string_view::npos) {
    HandshakeFailures().Refused("TLS handshake failed: " + std::string(message));
    return;
  }
  const spdlog::level::level_enum level =
      args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
      : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                : spdlog::level::debug;
  spdlog::log(level, "grpc: {}", message);
}

}  // namespace

void RouteGrpcLogsToSpdlog() { gpr_set_log_function(Log); }

std::uint64_t FailedTlsHandshakes() { return HandshakeFailures().count(); }

}  // namespace chat
