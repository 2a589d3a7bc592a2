#pragma once

#include <grpcpp/security/server_credentials.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace chat {

// Why the server's TLS files cannot be used (unreadable, not PEM, the key
// does not match the certificate, no certificate in the client CA file), in
// one line naming the option; nullopt if they can. gRPC itself would only
// fail each handshake later, and log it.
std::optional<std::string> CheckTlsFiles(const std::string& cert, const std::string& key,
                                         const std::string& client_ca);

// TLS server credentials from those files (CheckTlsFiles passed), re-read
// every `refresh` so that renewed certificates apply to new connections
// without a restart. With a client CA, clients must present a certificate
// it signed.
std::shared_ptr<grpc::ServerCredentials> MakeTlsServerCredentials(const std::string& cert,
                                                                  const std::string& key,
                                                                  const std::string& client_ca,
                                                                  std::chrono::seconds refresh);

}  // namespace chat
