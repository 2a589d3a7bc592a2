#pragma once

#include <grpcpp/security/credentials.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chat {

// How the client proves who the server is, and who it is: the TLS options
// and the signed token, with the same names in the C++, Go and Python
// clients (docs/client.md, docs/security.md).
struct SecurityOptions {
  bool tls = false;         // --tls (implied by any other --tls-* option)
  std::string ca_file;      // --tls-ca: trust this CA instead of the system roots
  std::string server_name;  // --tls-server-name: the name to check in the server's certificate
  std::string cert_file;    // --tls-cert, with --tls-key: a client certificate (mTLS)
  std::string key_file;
  std::string token;  // from --token-file or CHAT_TOKEN; "" = none
};

// What the channel's TLS needs, read from the files: plain data, so that
// options can be parsed before gRPC starts (making gRPC credentials starts
// gRPC's threads, which must not exist before the client blocks its signals).
struct TlsSettings {
  bool enabled = false;
  std::string root_certs;  // PEM; "" = the system's
  std::string cert_chain;  // PEM; "" = no client certificate
  std::string private_key;
  std::string server_name;  // "" = the host in --server
};

// The TLS settings for `options`, or nullopt with `error` (one line naming
// the option) when a file cannot be read or does not hold what it should
// (PEM certificates; a certificate and its key).
std::optional<TlsSettings> LoadTlsSettings(const SecurityOptions& options, std::string* error);

// The gRPC channel credentials for `tls` (plain text when not enabled).
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsSettings& tls);

// The token in `path`, surrounding whitespace trimmed; nullopt with `error`
// when it cannot be read or is empty.
std::optional<std::string> ReadTokenFile(const std::string& path, std::string* error);

// The `sub` claim of a JWT, read from its payload without checking the
// signature (the server checks it): the name the client will chat under.
// nullopt if the token has no readable, non-empty one.
std::optional<std::string> TokenSubject(std::string_view token);

// Metadata can carry only printable ASCII: a token with anything else
// (spaces included) is refused before it is sent.
bool IsPrintableToken(std::string_view token);

// " (a TLS problem? ...)" when a connection error's text looks like a TLS
// failure, for the line that says the server cannot be reached; "" if not.
// The words and hints are shared with the Go and Python clients
// (interop/testdata/access.json).
std::string TlsHint(std::string_view error, bool tls);

}  // namespace chat
