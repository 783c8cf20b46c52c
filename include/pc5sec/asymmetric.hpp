// Signatures and key agreement on OpenSSL 3 EVP: ECDSA P-256 (SHA-256), Ed25519, ECDH P-256 and
// X25519. Used by the credentials (creds/), solution A's certificate method and solution B.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"
#include "pc5sec/keys.hpp"
#include "pc5sec/rng.hpp"

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT: OpenSSL's own forward declaration

namespace pc5sec {

// The curve or key family. P-256 keys sign (ECDSA with SHA-256) and agree (ECDH).
enum class KeyType : std::uint8_t { p256 = 1, ed25519 = 2, x25519 = 3 };
std::string_view name(KeyType t) noexcept;  // "P-256", "Ed25519", "X25519"
Result<KeyType> key_type_from_name(std::string_view text);

struct PkeyDeleter {
    void operator()(EVP_PKEY* p) const noexcept;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

class PublicKey {
  public:
    // Wire encoding: P-256 as an uncompressed SEC1 point (65 octets, 0x04||X||Y);
    // Ed25519 and X25519 as their 32 raw octets (RFC 8032, RFC 7748).
    static Result<PublicKey> from_encoded(KeyType type, std::span<const std::uint8_t> bytes);
    static Result<PublicKey> from_pem(std::string_view pem);  // SubjectPublicKeyInfo
    static Result<PublicKey> from_evp(PkeyPtr key);           // takes ownership

    KeyType type() const noexcept { return type_; }
    const std::vector<std::uint8_t>& encoded() const noexcept { return encoded_; }
    EVP_PKEY* evp() const noexcept { return key_.get(); }
    std::string to_pem() const;

    friend bool operator==(const PublicKey& a, const PublicKey& b) {
        return a.type_ == b.type_ && a.encoded_ == b.encoded_;
    }

  private:
    PublicKey(KeyType t, std::shared_ptr<EVP_PKEY> k, std::vector<std::uint8_t> e)
        : type_(t), key_(std::move(k)), encoded_(std::move(e)) {}
    KeyType type_;
    std::shared_ptr<EVP_PKEY> key_;  // immutable once built, so sharing is safe
    std::vector<std::uint8_t> encoded_;
};

class PrivateKey {
  public:
    // A fresh key from `rng` (system_rng() unless a simulation passes a DeterministicRng).
    static Result<PrivateKey> generate(KeyType type, Rng& rng = system_rng());
    // Raw private key: a 32-octet P-256 scalar (big-endian) or 32-octet Ed25519/X25519 seed.
    static Result<PrivateKey> from_raw(KeyType type, std::span<const std::uint8_t> raw);
    static Result<PrivateKey> from_pem(std::string_view pem);  // PKCS#8

    KeyType type() const noexcept { return type_; }
    const PublicKey& public_key() const noexcept { return public_; }
    EVP_PKEY* evp() const noexcept { return key_.get(); }
    // PKCS#8 PEM. This writes a secret out: only the provisioning function calls it.
    std::string to_pem_secret() const;

    friend std::ostream& operator<<(std::ostream& os, const PrivateKey&) {
        return os << "<redacted>";
    }

  private:
    PrivateKey(KeyType t, std::shared_ptr<EVP_PKEY> k, PublicKey pub)
        : type_(t), key_(std::move(k)), public_(std::move(pub)) {}
    KeyType type_;
    std::shared_ptr<EVP_PKEY> key_;
    PublicKey public_;
};

// ECDSA P-256 with SHA-256 (DER signature, at most 72 octets) or Ed25519 (64 octets).
// An X25519 key cannot sign: Errc::invalid_argument naming "key".
Result<std::vector<std::uint8_t>> sign(const PrivateKey& key,
                                       std::span<const std::uint8_t> message);
// Errc::verification_failed naming "signature" when the signature does not match.
Status verify(const PublicKey& key, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> signature);

// ECDH (P-256: the 32-octet x-coordinate) or X25519 (32 octets). Both keys must be of one type.
// A low-order X25519 peer key (all-zero output) is refused.
Result<SharedSecret> key_agreement(const PrivateKey& mine, const PublicKey& peer);

}  // namespace pc5sec
