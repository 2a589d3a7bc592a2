#include "server/tls_files.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <cstring>

#include "common/pem.h"
#include "common/small_file.h"

namespace chat {
namespace {

// Certificate chains and keys are a few KiB; 1 MiB is far beyond any.
constexpr std::size_t kMaxTlsFileBytes = 1 << 20;

std::optional<std::string> ReadFile(const std::string& path, const char* option,
                                    std::string* problem) {
  return ReadSmallFile(path, option, kMaxTlsFileBytes, problem);
}

}  // namespace

std::optional<std::string> CheckTlsFiles(const std::string& cert, const std::string& key,
                                         const std::string& client_ca) {
  std::string problem;
  const auto cert_pem = ReadFile(cert, "--tls-cert", &problem);
  if (!cert_pem) return problem;
  if (!HoldsPemCertificate(*cert_pem)) return "--tls-cert " + cert + " holds no PEM certificate";
  const auto key_pem = ReadFile(key, "--tls-key", &problem);
  if (!key_pem) return problem;
  if (!IsCertificateAndKey(*cert_pem, *key_pem)) {
    return "--tls-key " + key + " is not the (unencrypted) private key of the certificate in " +
           "--tls-cert " + cert;
  }
  if (!client_ca.empty()) {
    const auto ca_pem = ReadFile(client_ca, "--tls-client-ca", &problem);
    if (!ca_pem) return problem;
    if (!HoldsPemCertificate(*ca_pem)) {
      return "--tls-client-ca " + client_ca + " holds no PEM certificate";
    }
  }
  return std::nullopt;
}

std::shared_ptr<grpc::ServerCredentials> MakeTlsServerCredentials(const std::string& cert,
                                                                  const std::string& key,
                                                                  const std::string& client_ca,
                                                                  std::chrono::seconds refresh) {
  // 1.51's public API has no way to make a provider re-read on demand (a
  // custom provider needs core's certificate distributor, which is not
  // public), so the file watcher polls.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      key, cert, client_ca, static_cast<unsigned int>(refresh.count()));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace chat
