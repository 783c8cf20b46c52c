#include "pc5sec/kdf.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>
#include <vector>

namespace pc5sec {

namespace {

// An HMAC-SHA-256 context with its digest set and no key, one per thread.
EVP_MAC_CTX* hmac_sha256_context() {
    struct Prototype {
        EVP_MAC* mac = nullptr;
        EVP_MAC_CTX* ctx = nullptr;
        Prototype() {
            mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
            ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
            char digest[] = "SHA256";
            const OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                OSSL_PARAM_construct_end()};
            if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
                EVP_MAC_CTX_free(ctx);
                ctx = nullptr;
            }
        }
        ~Prototype() {
            EVP_MAC_CTX_free(ctx);
            EVP_MAC_free(mac);
        }
    };
    thread_local Prototype p;
    return p.ctx;
}

}  // namespace

KdfOutput kdf(std::span<const std::uint8_t> key, std::uint8_t fc,
              std::initializer_list<std::span<const std::uint8_t>> params) {
    // S = FC || P0 || L0 || P1 || L1 || ... with Li two octets, big-endian (TS 33.220 B.2.0).
    std::vector<std::uint8_t> s;
    s.push_back(fc);
    for (const auto& p : params) {
        if (p.size() > 0xffff)
            throw std::invalid_argument("KDF parameter longer than 65535 octets");
        s.insert(s.end(), p.begin(), p.end());
        s.push_back(static_cast<std::uint8_t>(p.size() >> 8));
        s.push_back(static_cast<std::uint8_t>(p.size()));
    }
    std::uint8_t out[32];
    std::size_t out_len = 0;
    // The KDF's PRF is HMAC-SHA-256 (TS 33.220 B.2.0). The MAC and its digest are fetched once
    // per thread (a fetch by name costs more than the HMAC itself), into one context per thread
    // that each call keys anew (EVP_MAC_init with a key restarts the MAC).
    EVP_MAC_CTX* ctx = hmac_sha256_context();
    const bool ok = ctx && EVP_MAC_init(ctx, key.data(), key.size(), nullptr) == 1 &&
                    EVP_MAC_update(ctx, s.data(), s.size()) == 1 &&
                    EVP_MAC_final(ctx, out, &out_len, sizeof out) == 1 && out_len == 32;
    // Leave no key-derived HMAC state in the per-thread context: key it with a constant.
    static constexpr std::uint8_t kScrub[1] = {0};
    if (ctx) (void)EVP_MAC_init(ctx, kScrub, sizeof kScrub, nullptr);
    detail::secure_wipe(s.data(), s.size());
    if (!ok) throw CryptoLibraryError("HMAC-SHA-256 failed in the KDF");
    KdfOutput result{std::span<const std::uint8_t, 32>(out, 32)};
    detail::secure_wipe(out, sizeof out);
    return result;
}

KnrpSess derive_knrp_sess(const Knrp& knrp, const Nonce& nonce_1, const Nonce& nonce_2) {
    // TS 33.536 A.2: FC = 0x7F, P0 = Nonce_1, P1 = Nonce_2, key = KNRP.
    const KdfOutput out = kdf(knrp.reveal(), fc::kKnrpSess, {nonce_1, nonce_2});
    return KnrpSess{out.reveal()};
}

namespace {
template <class Key>
Key derive_protection_key(const KnrpSess& sess, std::uint8_t distinguisher, std::uint8_t alg_id) {
    // TS 33.536 A.3: FC = 0x7E, P0 = algorithm type distinguisher, P1 = algorithm identity.
    const std::uint8_t p0[1] = {distinguisher};
    const std::uint8_t p1[1] = {alg_id};
    const KdfOutput out = kdf(sess.reveal(), fc::kNrpekNrpik, {p0, p1});
    // A 128-bit key is the 128 least significant bits of the 256-bit output (TS 33.501 A.8).
    return Key{out.reveal().template subspan<16, 16>()};
}
}  // namespace

Nrpek derive_nrpek(const KnrpSess& knrp_sess, CipheringAlgorithm alg) {
    return derive_protection_key<Nrpek>(knrp_sess, kNrpekDistinguisher,
                                        algorithm_identity_octet(alg));
}

Nrpik derive_nrpik(const KnrpSess& knrp_sess, IntegrityAlgorithm alg) {
    return derive_protection_key<Nrpik>(knrp_sess, kNrpikDistinguisher,
                                        algorithm_identity_octet(alg));
}

}  // namespace pc5sec
