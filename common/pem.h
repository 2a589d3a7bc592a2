#pragma once

#include <string_view>

namespace chat {

// PEM checks with OpenSSL, for the TLS files of server and client: so that a
// wrong file is found at start, with a line naming it, and not at the first
// handshake (gRPC would only log it).

// `pem` holds at least one certificate.
bool HoldsPemCertificate(std::string_view pem);

// `key_pem` holds an unencrypted private key, and it is the key of the first
// certificate in `cert_pem`.
bool IsCertificateAndKey(std::string_view cert_pem, std::string_view key_pem);

}  // namespace chat
