#pragma once

#include <jwt.h>

#include <memory>
#include <string>
#include <vector>

namespace chat {

// A key for signed tokens (JWT), read from a file: an HMAC secret (HS256,
// HS384, HS512), or a PEM RSA or EC key (RS256..RS512, ES256/384/512 by its
// curve). It knows which algorithms it may be used with, so that a token
// cannot pick one the key was not made for (the classic confusion: a token
// saying HS256 "signed" with the server's public RSA key as the secret).
class TokenKey {
 public:
  enum class Use { kVerify, kSign };

  // The key in `path` for `use`, or null with `error` saying why, in one line
  // naming the file. Verifying takes a secret or a public key; signing takes
  // a secret or a private key. A secret is the file's bytes with trailing
  // whitespace trimmed, at least 32 of them (RFC 7518: no shorter than the
  // hash).
  static std::unique_ptr<TokenKey> FromFile(const std::string& path, Use use, std::string* error);
  // The same from the key's bytes; `source` names it in errors.
  static std::unique_ptr<TokenKey> FromBytes(std::string bytes, Use use, const std::string& source,
                                             std::string* error);

  // The bytes libjwt takes (the secret, or the PEM text).
  const std::string& bytes() const { return bytes_; }
  // The algorithms tokens checked with this key may use; the first is the
  // one it signs with.
  const std::vector<jwt_alg_t>& algorithms() const { return algorithms_; }
  bool Allows(jwt_alg_t alg) const;
  // For messages: "an HMAC secret", "an RSA public key", ...
  const std::string& description() const { return description_; }

 private:
  TokenKey(std::string bytes, std::vector<jwt_alg_t> algorithms, std::string description)
      : bytes_(std::move(bytes)),
        algorithms_(std::move(algorithms)),
        description_(std::move(description)) {}

  std::string bytes_;
  std::vector<jwt_alg_t> algorithms_;
  std::string description_;
};

}  // namespace chat
