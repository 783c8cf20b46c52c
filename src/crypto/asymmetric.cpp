#include "pc5sec/asymmetric.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "openssl_util.hpp"
#include "pc5sec/kdf.hpp"

namespace pc5sec {

void PkeyDeleter::operator()(EVP_PKEY* p) const noexcept {
    EVP_PKEY_free(p);
}

namespace {

constexpr char kP256Group[] = "prime256v1";
// The order n of P-256 (SEC 2 2.4.2 / FIPS 186-4 D.1.2.3), big-endian.
constexpr std::uint8_t kP256Order[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

using ossl::bio_string;
std::string openssl_error() {
    return ossl::last_error();
}

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* p) {
    return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);
}

struct BioDeleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

Result<KeyType> type_of(EVP_PKEY* key) {
    if (EVP_PKEY_is_a(key, "ED25519")) return KeyType::ed25519;
    if (EVP_PKEY_is_a(key, "X25519")) return KeyType::x25519;
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = {};
        std::size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &len) == 1 &&
            std::string_view(group) == kP256Group)
            return KeyType::p256;
        return make_error(Errc::unsupported, "key",
                          fmt::format("EC curve '{}' is not P-256", group));
    }
    return make_error(Errc::unsupported, "key", "the key is not P-256, Ed25519 or X25519");
}

Result<std::vector<std::uint8_t>> encode_public(EVP_PKEY* key, KeyType type) {
    std::vector<std::uint8_t> out(type == KeyType::p256 ? 65 : 32);
    std::size_t len = out.size();
    const bool ok = type == KeyType::p256
                        ? EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                          out.data(), out.size(), &len) == 1
                        : EVP_PKEY_get_raw_public_key(key, out.data(), &len) == 1;
    if (!ok || len != out.size())
        return make_error(Errc::crypto_failure, "public key", "cannot encode: " + openssl_error());
    return out;
}

// P-256 public point = scalar * G. OpenSSL 3.0 does not derive it from the private key in
// EVP_PKEY_fromdata, so the EC_POINT API (deprecated, still supported in 3.x) computes it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
bool p256_public_from_scalar(const BIGNUM* scalar, std::uint8_t out[65]) {
    EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT* point = group ? EC_POINT_new(group) : nullptr;
    const bool ok =
        point && EC_POINT_mul(group, point, scalar, nullptr, nullptr, nullptr) == 1 &&
        EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, out, 65, nullptr) == 65;
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return ok;
}
#pragma GCC diagnostic pop

Result<std::shared_ptr<EVP_PKEY>> fromdata(const char* type, int selection, OSSL_PARAM* params,
                                           const char* field) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
    EVP_PKEY* key = nullptr;
    const bool ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
                    EVP_PKEY_fromdata(ctx, &key, selection, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return make_error(Errc::malformed, field, "rejected: " + openssl_error());
    return share(key);
}

}  // namespace

std::string_view name(KeyType t) noexcept {
    switch (t) {
        case KeyType::p256:
            return "P-256";
        case KeyType::ed25519:
            return "Ed25519";
        case KeyType::x25519:
            return "X25519";
    }
    return "?";
}

Result<KeyType> key_type_from_name(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "p-256" || lower == "p256" || lower == "prime256v1" || lower == "secp256r1")
        return KeyType::p256;
    if (lower == "ed25519") return KeyType::ed25519;
    if (lower == "x25519") return KeyType::x25519;
    return make_error(Errc::unsupported, "key type",
                      fmt::format("'{}' is not one of P-256, Ed25519, X25519", text));
}

// --- PublicKey ------------------------------------------------------------------------------

Result<PublicKey> PublicKey::from_encoded(KeyType type, std::span<const std::uint8_t> bytes) {
    if (type == KeyType::p256) {
        // Uncompressed SEC1 point only (0x04 || X || Y); the point must lie on the curve.
        if (bytes.size() != 65 || bytes[0] != 0x04)
            return make_error(
                Errc::malformed, "public key",
                fmt::format("a P-256 key is 65 octets starting 0x04, got {} octets", bytes.size()));
        char group[] = "prime256v1";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
            OSSL_PARAM_construct_octet_string(
                OSSL_PKEY_PARAM_PUB_KEY, const_cast<std::uint8_t*>(bytes.data()), bytes.size()),
            OSSL_PARAM_construct_end()};
        auto key = fromdata("EC", EVP_PKEY_PUBLIC_KEY, params, "public key");
        if (!key) return std::move(key).error();
        EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr);
        const bool on_curve = check && EVP_PKEY_public_check(check) == 1;
        EVP_PKEY_CTX_free(check);
        if (!on_curve)
            return make_error(Errc::malformed, "public key", "the point is not on P-256");
        return PublicKey(type, std::move(*key),
                         std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    }
    if (bytes.size() != 32)
        return make_error(Errc::malformed, "public key",
                          fmt::format("an {} key is 32 octets, got {}", name(type), bytes.size()));
    EVP_PKEY* key =
        EVP_PKEY_new_raw_public_key(type == KeyType::ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_X25519,
                                    nullptr, bytes.data(), bytes.size());
    if (key == nullptr) return make_error(Errc::malformed, "public key", openssl_error());
    return PublicKey(type, share(key), std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

Result<PublicKey> PublicKey::from_evp(PkeyPtr key) {
    if (!key) return make_error(Errc::invalid_argument, "public key", "no key");
    auto type = type_of(key.get());
    if (!type) return std::move(type).error();
    auto encoded = encode_public(key.get(), *type);
    if (!encoded) return std::move(encoded).error();
    return PublicKey(*type, share(key.release()), std::move(*encoded));
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (key == nullptr)
        return make_error(Errc::malformed, "public key",
                          "not a PEM public key: " + openssl_error());
    return from_evp(PkeyPtr(key));
}

std::string PublicKey::to_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1)
        throw CryptoLibraryError("cannot write a public key as PEM");
    return bio_string(bio.get());
}

// --- PrivateKey -----------------------------------------------------------------------------

Result<PrivateKey> PrivateKey::generate(KeyType type, Rng& rng) {
    std::uint8_t raw[32];
    for (;;) {
        rng.fill(raw);
        // A P-256 scalar must lie in [1, n-1]; redraw otherwise (probability ~2^-32).
        if (type != KeyType::p256) break;
        const bool zero = std::all_of(raw, raw + 32, [](std::uint8_t b) { return b == 0; });
        if (!zero && std::memcmp(raw, kP256Order, 32) < 0) break;
    }
    auto key = from_raw(type, raw);
    detail::secure_wipe(raw, sizeof raw);
    return key;
}

Result<PrivateKey> PrivateKey::from_raw(KeyType type, std::span<const std::uint8_t> raw) {
    if (raw.size() != 32)
        return make_error(
            Errc::invalid_argument, "private key",
            fmt::format("a raw {} private key is 32 octets, got {}", name(type), raw.size()));
    std::shared_ptr<EVP_PKEY> key;
    if (type == KeyType::p256) {
        if (std::memcmp(raw.data(), kP256Order, 32) >= 0 ||
            std::all_of(raw.begin(), raw.end(), [](std::uint8_t b) { return b == 0; }))
            return make_error(Errc::invalid_argument, "private key",
                              "a P-256 scalar must lie in [1, n-1]");
        BIGNUM* d = BN_secure_new();
        std::uint8_t pub[65];
        if (d == nullptr || BN_bin2bn(raw.data(), 32, d) == nullptr ||
            !p256_public_from_scalar(d, pub)) {
            BN_clear_free(d);
            return make_error(Errc::crypto_failure, "private key", openssl_error());
        }
        char group[] = "prime256v1";
        OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM* params = nullptr;
        if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub))
            params = OSSL_PARAM_BLD_to_param(bld);
        auto made = params ? fromdata("EC", EVP_PKEY_KEYPAIR, params, "private key")
                           : Result<std::shared_ptr<EVP_PKEY>>(
                                 make_error(Errc::crypto_failure, "private key", openssl_error()));
        OSSL_PARAM_free(params);  // OSSL_PARAM_BLD_to_param allocated in secure memory as needed
        OSSL_PARAM_BLD_free(bld);
        BN_clear_free(d);
        if (!made) return std::move(made).error();
        key = std::move(*made);
    } else {
        EVP_PKEY* k = EVP_PKEY_new_raw_private_key(
            type == KeyType::ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_X25519, nullptr, raw.data(),
            raw.size());
        if (k == nullptr) return make_error(Errc::crypto_failure, "private key", openssl_error());
        key = share(k);
    }
    auto encoded = encode_public(key.get(), type);
    if (!encoded) return std::move(encoded).error();
    auto pub = PublicKey::from_encoded(type, *encoded);
    if (!pub) return std::move(pub).error();
    return PrivateKey(type, std::move(key), std::move(*pub));
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (raw == nullptr)
        return make_error(Errc::malformed, "private key",
                          "not a PEM private key: " + openssl_error());
    auto key = share(raw);
    auto type = type_of(raw);
    if (!type) return std::move(type).error();
    auto encoded = encode_public(raw, *type);
    if (!encoded) return std::move(encoded).error();
    auto pub = PublicKey::from_encoded(*type, *encoded);
    if (!pub) return std::move(pub).error();
    return PrivateKey(*type, std::move(key), std::move(*pub));
}

std::string PrivateKey::to_pem_secret() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw CryptoLibraryError("cannot write a private key as PEM");
    return bio_string(bio.get());
}

// --- Operations -----------------------------------------------------------------------------

Result<std::vector<std::uint8_t>> sign(const PrivateKey& key,
                                       std::span<const std::uint8_t> message) {
    if (key.type() == KeyType::x25519)
        return make_error(Errc::invalid_argument, "key", "an X25519 key cannot sign");
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_MD* md = key.type() == KeyType::p256 ? EVP_sha256() : nullptr;
    std::vector<std::uint8_t> sig(key.type() == KeyType::p256 ? 80 : 64);
    std::size_t len = sig.size();
    const bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, md, nullptr, key.evp()) == 1 &&
                    EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return make_error(Errc::crypto_failure, "signature", openssl_error());
    sig.resize(len);
    return sig;
}

Status verify(const PublicKey& key, std::span<const std::uint8_t> message,
              std::span<const std::uint8_t> signature) {
    if (key.type() == KeyType::x25519)
        return make_error(Errc::invalid_argument, "key", "an X25519 key cannot verify");
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const EVP_MD* md = key.type() == KeyType::p256 ? EVP_sha256() : nullptr;
    const int rc = ctx && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key.evp()) == 1
                       ? EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(),
                                          message.size())
                       : -1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (rc != 1)
        return make_error(Errc::verification_failed, "signature",
                          fmt::format("the {} signature does not verify", name(key.type())));
    return {};
}

Result<SharedSecret> key_agreement(const PrivateKey& mine, const PublicKey& peer) {
    if (mine.type() == KeyType::ed25519 || peer.type() != mine.type())
        return make_error(Errc::invalid_argument, "key",
                          fmt::format("key agreement needs two P-256 or two X25519 keys, got {} "
                                      "and {}",
                                      name(mine.type()), name(peer.type())));
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, mine.evp(), nullptr);
    std::uint8_t out[32];
    std::size_t len = sizeof out;
    const bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
                    EVP_PKEY_derive_set_peer(ctx, peer.evp()) == 1 &&
                    EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        detail::secure_wipe(out, sizeof out);
        // OpenSSL refuses an all-zero X25519 result (a low-order peer point, RFC 7748 6.1).
        return make_error(Errc::verification_failed, "peer public key",
                          "key agreement failed: " + openssl_error());
    }
    SharedSecret secret{std::span<const std::uint8_t, 32>(out, 32)};
    detail::secure_wipe(out, sizeof out);
    return secret;
}

}  // namespace pc5sec
