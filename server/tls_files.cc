#include "server/tls_files.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>

namespace chat {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::unique_ptr<BIO, BioFree> Open(const std::string& path, const char* option,
                                   std::string* problem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio)
    *problem = std::string("cannot read ") + option + " " + path + ": " + std::strerror(errno);
  return bio;
}

}  // namespace

std::optional<std::string> CheckTlsFiles(const std::string& cert, const std::string& key,
                                         const std::string& client_ca) {
  std::string problem;
  auto cert_file = Open(cert, "--tls-cert", &problem);
  if (!cert_file) return problem;
  std::unique_ptr<X509, X509Free> certificate(
      PEM_read_bio_X509(cert_file.get(), nullptr, nullptr, nullptr));
  if (!certificate) return "--tls-cert " + cert + " holds no PEM certificate";

  auto key_file = Open(key, "--tls-key", &problem);
  if (!key_file) return problem;
  std::unique_ptr<EVP_PKEY, PkeyFree> private_key(
      PEM_read_bio_PrivateKey(key_file.get(), nullptr, nullptr, nullptr));
  if (!private_key) return "--tls-key " + key + " holds no PEM private key (or it is encrypted)";
  if (X509_check_private_key(certificate.get(), private_key.get()) != 1) {
    ERR_clear_error();
    return "--tls-key " + key + " is not the key of the certificate in --tls-cert " + cert;
  }

  if (!client_ca.empty()) {
    auto ca_file = Open(client_ca, "--tls-client-ca", &problem);
    if (!ca_file) return problem;
    std::unique_ptr<X509, X509Free> ca(PEM_read_bio_X509(ca_file.get(), nullptr, nullptr, nullptr));
    if (!ca) return "--tls-client-ca " + client_ca + " holds no PEM certificate";
  }
  ERR_clear_error();
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
