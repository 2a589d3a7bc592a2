#include "common/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

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

std::unique_ptr<BIO, BioFree> Memory(std::string_view bytes) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::unique_ptr<X509, X509Free> FirstCertificate(std::string_view pem) {
  auto bio = Memory(pem);
  return std::unique_ptr<X509, X509Free>(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

// No passphrase prompt: an encrypted key fails.
int NoPassword(char*, int, int, void*) { return 0; }

}  // namespace

bool HoldsPemCertificate(std::string_view pem) {
  const bool holds = FirstCertificate(pem) != nullptr;
  ERR_clear_error();
  return holds;
}

bool IsCertificateAndKey(std::string_view cert_pem, std::string_view key_pem) {
  auto certificate = FirstCertificate(cert_pem);
  auto bio = Memory(key_pem);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr) : nullptr);
  const bool matches =
      certificate && key && X509_check_private_key(certificate.get(), key.get()) == 1;
  ERR_clear_error();
  return matches;
}

}  // namespace chat
