#include "client/credentials.h"

#include <grpcpp/security/credentials.h>
#include <jansson.h>

#include <algorithm>
#include <cstring>

#include "common/pem.h"
#include "common/small_file.h"

namespace chat {
namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;

std::optional<std::string> ReadFile(const std::string& path, const char* option,
                                    std::string* error) {
  return ReadSmallFile(path, option, kMaxFileBytes, error);
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<std::string> DecodeBase64Url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no whole byte in the last character
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = Base64UrlValue(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

std::optional<TlsSettings> LoadTlsSettings(const SecurityOptions& options, std::string* error) {
  TlsSettings tls;
  tls.enabled = options.tls;
  tls.server_name = options.server_name;
  if (!options.tls) return tls;
  if (!options.ca_file.empty()) {
    auto roots = ReadFile(options.ca_file, "--tls-ca", error);
    if (!roots) return std::nullopt;
    if (!HoldsPemCertificate(*roots)) {
      *error = "--tls-ca " + options.ca_file + " holds no PEM certificate";
      return std::nullopt;
    }
    tls.root_certs = std::move(*roots);
  }
  if (!options.cert_file.empty()) {
    auto cert = ReadFile(options.cert_file, "--tls-cert", error);
    if (!cert) return std::nullopt;
    auto key = ReadFile(options.key_file, "--tls-key", error);
    if (!key) return std::nullopt;
    if (!IsCertificateAndKey(*cert, *key)) {
      *error = "--tls-cert " + options.cert_file + " and --tls-key " + options.key_file +
               " are not a PEM certificate and its private key";
      return std::nullopt;
    }
    tls.cert_chain = std::move(*cert);
    tls.private_key = std::move(*key);
  }
  return tls;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsSettings& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;  // empty roots: gRPC's default (system) roots
  ssl.pem_root_certs = tls.root_certs;
  ssl.pem_cert_chain = tls.cert_chain;
  ssl.pem_private_key = tls.private_key;
  return grpc::SslCredentials(ssl);
}

std::optional<std::string> ReadTokenFile(const std::string& path, std::string* error) {
  auto token = ReadFile(path, "--token-file", error);
  if (!token) return std::nullopt;
  const std::size_t start = token->find_first_not_of(" \t\r\n");
  if (start == std::string::npos) {
    *error = "--token-file " + path + " is empty";
    return std::nullopt;
  }
  const std::size_t end = token->find_last_not_of(" \t\r\n");
  return token->substr(start, end - start + 1);
}

std::optional<std::string> TokenSubject(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto payload = DecodeBase64Url(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  json_error_t parse_error;
  json_t* claims = json_loadb(payload->data(), payload->size(), 0, &parse_error);
  std::optional<std::string> subject;
  if (const json_t* sub = json_object_get(claims, "sub");
      json_is_string(sub) && json_string_length(sub) > 0) {
    subject.emplace(json_string_value(sub), json_string_length(sub));
  }
  json_decref(claims);
  return subject;
}

bool IsPrintableToken(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c <= '~'; });
}

std::string TlsHint(std::string_view error, bool tls) {
  std::string lower(error);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* sign : {"handshake", "certificate", "verification", "ssl", "tls:", "x509",
                           "socket closed", "server preface", "broken pipe", "connection reset"}) {
    if (lower.find(sign) == std::string::npos) continue;
    return tls ? " (a TLS problem? check --tls-ca, --tls-server-name, and whether the server wants "
                 "a client certificate: --tls-cert/--tls-key)"
               : " (does the server want TLS? try --tls or --tls-ca)";
  }
  return "";
}

}  // namespace chat
