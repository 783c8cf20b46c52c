/// @file
/// Signatures and key agreement on OpenSSL 3 EVP: ECDSA P-256 (SHA-256), Ed25519, ECDH P-256 and
/// X25519. Used by the credentials (creds/), solution A's certificate method and solution B.
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

/// OpenSSL's key type.
typedef struct evp_pkey_st EVP_PKEY;  // NOLINT: OpenSSL's own forward declaration

namespace pc5sec {

/// The curve or key family. P-256 keys sign (ECDSA with SHA-256) and agree (ECDH).
enum class KeyType : std::uint8_t {
    p256 = 1,     ///< P-256: signs (ECDSA with SHA-256) and agrees (ECDH)
    ed25519 = 2,  ///< Ed25519: signs
    x25519 = 3    ///< X25519: agrees
};
/// The key type's name: "P-256", "Ed25519", "X25519".
std::string_view name(KeyType t) noexcept;
/// The key type of name `text` (as name() writes it).
Result<KeyType> key_type_from_name(std::string_view text);

/// Frees an OpenSSL EVP_PKEY.
struct PkeyDeleter {
    /// Frees `p`.
    void operator()(EVP_PKEY* p) const noexcept;
};
/// An owned OpenSSL EVP_PKEY.
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

/// A public key of one KeyType, with its wire encoding.
class PublicKey {
  public:
    /// A key from its wire encoding: P-256 as an uncompressed SEC1 point (65 octets,
    /// `0x04||X||Y`); Ed25519 and X25519 as their 32 raw octets (RFC 8032, RFC 7748).
    static Result<PublicKey> from_encoded(KeyType type, std::span<const std::uint8_t> bytes);
    static Result<PublicKey> from_pem(std::string_view pem);  ///< SubjectPublicKeyInfo PEM
    static Result<PublicKey> from_evp(PkeyPtr key);           ///< takes ownership

    /// The key type.
    KeyType type() const noexcept { return type_; }
    /// The wire encoding (see from_encoded()).
    const std::vector<std::uint8_t>& encoded() const noexcept { return encoded_; }
    /// The OpenSSL key.
    EVP_PKEY* evp() const noexcept { return key_.get(); }
    /// SubjectPublicKeyInfo PEM.
    std::string to_pem() const;

    /// Same type and same encoding.
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

/// A private key of one KeyType, with its public key. Streaming one prints `"<redacted>"`.
class PrivateKey {
  public:
    /// A fresh key from `rng` (system_rng() unless a simulation passes a DeterministicRng).
    static Result<PrivateKey> generate(KeyType type, Rng& rng = system_rng());
    /// Raw private key: a 32-octet P-256 scalar (big-endian) or 32-octet Ed25519/X25519 seed.
    static Result<PrivateKey> from_raw(KeyType type, std::span<const std::uint8_t> raw);
    static Result<PrivateKey> from_pem(std::string_view pem);  ///< PKCS#8 PEM

    /// The key type.
    KeyType type() const noexcept { return type_; }
    /// The public key.
    const PublicKey& public_key() const noexcept { return public_; }
    /// The OpenSSL key.
    EVP_PKEY* evp() const noexcept { return key_.get(); }
    /// PKCS#8 PEM. This writes a secret out: only the provisioning function calls it.
    std::string to_pem_secret() const;

    /// Prints `"<redacted>"`.
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

/// Signs `message`: ECDSA P-256 with SHA-256 (DER signature, at most 72 octets) or Ed25519
/// (64 octets). An X25519 key cannot sign: Errc::invalid_argument naming "key".
Result<std::vector<std::uint8_t>> sign(const PrivateKey& key,
                                       std::span<const std::uint8_t> message);
/// Verifies `signature` over `message`: Errc::verification_failed naming "signature" when the
/// signature does not match.
Status verify(const PublicKey& key, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> signature);

/// ECDH (P-256: the 32-octet x-coordinate) or X25519 (32 octets). Both keys must be of one type.
/// A low-order X25519 peer key (all-zero output) is refused.
Result<SharedSecret> key_agreement(const PrivateKey& mine, const PublicKey& peer);

}  // namespace pc5sec
