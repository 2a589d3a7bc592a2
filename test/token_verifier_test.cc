// The token rules: what TokenVerifier accepts and refuses, and why, with
// tokens minted by MintToken (and a few made by hand, as an attacker would).
#include "server/token_verifier.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>

#include "server/token_minter.h"

namespace chat {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

std::unique_ptr<TokenKey> Key(const std::string& bytes, TokenKey::Use use) {
  std::string error;
  auto key = TokenKey::FromBytes(bytes, use, "test key", &error);
  EXPECT_NE(key, nullptr) << error;
  return key;
}

std::string Mint(const std::string& key_bytes, TokenClaims claims) {
  std::string error;
  auto token = MintToken(*Key(key_bytes, TokenKey::Use::kSign), claims, &error);
  EXPECT_TRUE(token) << error;
  return token.value_or("");
}

TokenClaims Alice(std::int64_t expires = kNow + 3600) { return {"alice", kNow, expires, {}}; }

std::string Bearer(const std::string& token) { return "Bearer " + token; }

// Refusal message, or "" when accepted.
std::string Refusal(const TokenVerifier& verifier, std::optional<std::string> authorization,
                    std::int64_t now = kNow) {
  auto verdict = verifier.Verify(authorization, now);
  if (auto* refusal = std::get_if<TokenRefusal>(&verdict)) return refusal->message;
  return "";
}

std::string Base64Url(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

// An HS256 token over `header` and `payload` signed with `secret` by hand.
std::string HandMadeHs256(const std::string& header, const std::string& payload,
                          const std::string& secret) {
  const std::string signing_input = Base64Url(header) + "." + Base64Url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &length);
  return signing_input + "." + Base64Url(std::string_view(reinterpret_cast<char*>(mac), length));
}

// A fresh key pair as PEM: {private, public}.
std::pair<std::string, std::string> KeyPair(const char* algorithm, const char* parameter) {
  EVP_PKEY* key = std::string(algorithm) == "RSA"
                      ? EVP_RSA_gen(2048)
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", parameter);
  BIO* private_bio = BIO_new(BIO_s_mem());
  BIO* public_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(private_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(public_bio, key);
  auto text = [](BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
  };
  std::pair<std::string, std::string> pem{text(private_bio), text(public_bio)};
  BIO_free(private_bio);
  BIO_free(public_bio);
  EVP_PKEY_free(key);
  return pem;
}

TEST(TokenVerifierTest, AValidTokenGivesItsSubjectAndRooms) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  TokenClaims claims = Alice();
  claims.rooms = std::vector<std::string>{"ops", "Dev"};
  auto verdict = verifier.Verify(Bearer(Mint(kSecret, claims)), kNow);
  ASSERT_TRUE(std::holds_alternative<TokenIdentity>(verdict))
      << std::get<TokenRefusal>(verdict).message;
  const auto& identity = std::get<TokenIdentity>(verdict);
  EXPECT_EQ(identity.subject, "alice");
  ASSERT_TRUE(identity.rooms);
  EXPECT_EQ(*identity.rooms, (std::vector<std::string>{"ops", "dev"}));
  EXPECT_EQ(identity.expires_unix, kNow + 3600);
}

TEST(TokenVerifierTest, WithoutARoomsClaimEveryRoomIsAllowed) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  auto verdict = verifier.Verify(Bearer(Mint(kSecret, Alice())), kNow);
  ASSERT_TRUE(std::holds_alternative<TokenIdentity>(verdict));
  EXPECT_FALSE(std::get<TokenIdentity>(verdict).rooms);
}

TEST(TokenVerifierTest, MissingMalformedAndNonBearerTokensAreRefusedWithAReason) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  EXPECT_NE(Refusal(verifier, std::nullopt).find("needs a signed token"), std::string::npos);
  EXPECT_NE(Refusal(verifier, "Basic YWxpY2U6cHc=").find("Bearer"), std::string::npos);
  EXPECT_NE(Refusal(verifier, "Bearer ").find("Bearer"), std::string::npos);
  EXPECT_NE(Refusal(verifier, "Bearer not-a-jwt").find("malformed"), std::string::npos);
  EXPECT_NE(Refusal(verifier, "Bearer a.b.c.d").find("malformed"), std::string::npos);
  EXPECT_NE(Refusal(verifier, "Bearer a!.b.c").find("malformed"), std::string::npos);
  EXPECT_NE(Refusal(verifier, "Bearer " + std::string(9000, 'a')).find("too long"),
            std::string::npos);
  // The scheme is case-insensitive (RFC 7235).
  EXPECT_EQ(Refusal(verifier, "bearer " + Mint(kSecret, Alice())), "");
}

TEST(TokenVerifierTest, ATokenSignedWithAnotherKeyIsRefused) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  const std::string other = "another-secret-that-is-long-enough-0123456789";
  EXPECT_NE(Refusal(verifier, Bearer(Mint(other, Alice()))).find("not signed with this server"),
            std::string::npos);
  // One byte of the signature changed.
  std::string token = Mint(kSecret, Alice());
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_NE(Refusal(verifier, Bearer(token)), "");
}

TEST(TokenVerifierTest, AnExpiredTokenIsRefusedPastTheLeeway) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  const std::string token = Bearer(Mint(kSecret, Alice(kNow)));
  // Within the leeway for clocks that differ: still good.
  EXPECT_EQ(Refusal(verifier, token, kNow + TokenVerifier::kLeewaySeconds - 1), "");
  const std::string refusal = Refusal(verifier, token, kNow + TokenVerifier::kLeewaySeconds);
  EXPECT_NE(refusal.find("expired at 2027-01-15 08:00:00 UTC"), std::string::npos) << refusal;
}

TEST(TokenVerifierTest, ATokenWithoutExpiryOrSubjectIsRefused) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  EXPECT_NE(Refusal(verifier, Bearer(HandMadeHs256(header, R"({"sub":"alice"})", kSecret)))
                .find("no expiry"),
            std::string::npos);
  EXPECT_NE(
      Refusal(verifier, Bearer(HandMadeHs256(header, R"({"sub":"alice","exp":"soon"})", kSecret)))
          .find("no expiry"),
      std::string::npos);
  const std::string exp = std::to_string(kNow + 60);
  EXPECT_NE(Refusal(verifier, Bearer(HandMadeHs256(header, R"({"exp":)" + exp + "}", kSecret)))
                .find("names no user"),
            std::string::npos);
  EXPECT_NE(Refusal(verifier,
                    Bearer(HandMadeHs256(header, R"({"sub":"al ice","exp":)" + exp + "}", kSecret)))
                .find("not valid"),
            std::string::npos);
  EXPECT_NE(Refusal(verifier,
                    Bearer(HandMadeHs256(
                        header, R"({"sub":"alice","exp":)" + exp + R"(,"rooms":"ops"})", kSecret)))
                .find("rooms claim"),
            std::string::npos);
  EXPECT_NE(Refusal(verifier, Bearer(HandMadeHs256(header,
                                                   R"({"sub":"alice","exp":)" + exp +
                                                       R"(,"rooms":["ops","bad room"]})",
                                                   kSecret)))
                .find("invalid room"),
            std::string::npos);
  EXPECT_NE(Refusal(verifier, Bearer(HandMadeHs256(header,
                                                   R"({"sub":"alice","exp":)" + exp + R"(,"nbf":)" +
                                                       std::to_string(kNow + 600) + "}",
                                                   kSecret)))
                .find("not valid before"),
            std::string::npos);
}

// Found by fuzzing: exp and nbf at the int64 ends overflowed when the
// leeway was added (UBSan: signed-integer-overflow), and a real exp beyond
// int64 (1e300) was converted to int64 (float-cast-overflow).
TEST(TokenVerifierTest, TimesAtTheEndsOfInt64AreCheckedWithoutOverflow) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const auto token = [&](const std::string& times) {
    return Bearer(HandMadeHs256(header, R"({"sub":"alice",)" + times + "}", kSecret));
  };
  const std::string max = "9223372036854775807";
  const std::string min = "-9223372036854775808";
  EXPECT_EQ(Refusal(verifier, token(R"("exp":)" + max)), "");  // never expires
  EXPECT_EQ(Refusal(verifier, token(R"("exp":1e300)")), "");
  EXPECT_NE(Refusal(verifier, token(R"("exp":)" + min)).find("expired"), std::string::npos);
  EXPECT_NE(Refusal(verifier, token(R"("exp":-1e300)")).find("expired"), std::string::npos);
  EXPECT_EQ(Refusal(verifier, token(R"("exp":)" + max + R"(,"nbf":)" + min)), "");
  EXPECT_NE(Refusal(verifier, token(R"("exp":)" + max + R"(,"nbf":)" + max)).find("not valid"),
            std::string::npos);
}

TEST(TokenVerifierTest, AlgorithmNoneIsRefused) {
  TokenVerifier verifier(Key(kSecret, TokenKey::Use::kVerify));
  const std::string exp = std::to_string(kNow + 60);
  const std::string token = Base64Url(R"({"alg":"none","typ":"JWT"})") + "." +
                            Base64Url(R"({"sub":"alice","exp":)" + exp + "}") + ".";
  EXPECT_NE(Refusal(verifier, Bearer(token)), "");
  EXPECT_NE(Refusal(verifier, Bearer(token + "c2ln")), "");
}

TEST(TokenVerifierTest, PublicKeysVerifyTheirOwnAlgorithmOnly) {
  for (const auto& [algorithm, curve] :
       {std::pair{"RSA", ""}, std::pair{"EC", "P-256"}, std::pair{"EC", "P-384"}}) {
    SCOPED_TRACE(std::string(algorithm) + curve);
    const auto [private_pem, public_pem] = KeyPair(algorithm, curve);
    TokenVerifier verifier(Key(public_pem, TokenKey::Use::kVerify));
    EXPECT_EQ(Refusal(verifier, Bearer(Mint(private_pem, Alice()))), "");
    // The confusion attack: HS256 "signed" with the public key's PEM text as
    // the secret. libjwt alone would accept it.
    const std::string exp = std::to_string(kNow + 60);
    const std::string forged = HandMadeHs256(R"({"alg":"HS256","typ":"JWT"})",
                                             R"({"sub":"alice","exp":)" + exp + "}", public_pem);
    EXPECT_NE(Refusal(verifier, Bearer(forged)).find("signed with HS256"), std::string::npos);
    // Another key pair of the same kind.
    const auto [other_private, other_public] = KeyPair(algorithm, curve);
    EXPECT_NE(Refusal(verifier, Bearer(Mint(other_private, Alice()))), "");
  }
}

TEST(TokenKeyTest, UnusableKeysAreRefusedWithAReason) {
  std::string error;
  EXPECT_EQ(TokenKey::FromBytes("short\n", TokenKey::Use::kVerify, "k", &error), nullptr);
  EXPECT_NE(error.find("at least 32"), std::string::npos) << error;
  const auto [private_pem, public_pem] = KeyPair("EC", "P-256");
  EXPECT_EQ(TokenKey::FromBytes(private_pem, TokenKey::Use::kVerify, "k", &error), nullptr);
  EXPECT_NE(error.find("-pubout"), std::string::npos) << error;
  EXPECT_EQ(TokenKey::FromBytes(public_pem, TokenKey::Use::kSign, "k", &error), nullptr);
  EXPECT_EQ(TokenKey::FromBytes("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n",
                                TokenKey::Use::kVerify, "k", &error),
            nullptr);
  EXPECT_NE(error.find("not a PEM"), std::string::npos) << error;
  EXPECT_EQ(TokenKey::FromFile("/nonexistent/key", TokenKey::Use::kVerify, &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/key"), std::string::npos) << error;
  // A secret's trailing newline (echo, openssl rand -base64) is not part of it.
  auto key = TokenKey::FromBytes(kSecret + "\n", TokenKey::Use::kVerify, "k", &error);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->bytes(), kSecret);
}

}  // namespace
}  // namespace chat
