// Benchmark workloads of crypto/: our one-PDU and burst calls, against ipsec-mb driven directly
// (nothing of pc5sec around it: the limit on this machine) and OpenSSL's EVP, in the same run.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "backend.hpp"
#include "bench/registry.hpp"
#include "pc5sec/asymmetric.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"

namespace pc5sec::bench {
namespace {

constexpr std::size_t kBurst = 32;  // PDUs per batch, for every variant
constexpr std::size_t kSizes[] = {64, 1500, 9000};

struct Fixture {
    PayloadPool pool{1 << 20};
    std::array<std::uint8_t, 16> key{};
    std::vector<std::uint8_t> out = std::vector<std::uint8_t>(kBurst * (9000 + 64));
    Fixture() { system_rng().fill(key); }
};

SecurityInput input_for(std::size_t i) {
    return SecurityInput{static_cast<std::uint32_t>(0x1000 + i), static_cast<std::uint8_t>(i % 32),
                         static_cast<std::uint8_t>(i & 1)};
}

// ---- raw ipsec-mb: key schedules and calls made here, straight on the library ----
struct RawKeys {
    alignas(64) std::uint8_t key[16];
    alignas(64) snow3g_key_schedule_t snow3g;
    alignas(64) std::uint8_t enc[16 * 15];
    alignas(64) std::uint8_t dec[16 * 15];
    alignas(16) std::uint8_t k1[16];
    alignas(16) std::uint8_t k2[16];
    explicit RawKeys(IMB_MGR* mgr, const std::uint8_t* k) {
        std::memcpy(key, k, 16);
        IMB_SNOW3G_INIT_KEY_SCHED(mgr, key, &snow3g);
        IMB_AES_KEYEXP_128(mgr, key, enc, dec);
        IMB_AES_CMAC_SUBKEY_GEN_128(mgr, enc, k1, k2);
    }
};

enum class Alg { nea1, nea2, nea3, nia1, nia2, nia3 };
constexpr Alg kAlgs[] = {Alg::nea1, Alg::nea2, Alg::nea3, Alg::nia1, Alg::nia2, Alg::nia3};
const char* alg_name(Alg a) {
    switch (a) {
        case Alg::nea1:
            return "nea1";
        case Alg::nea2:
            return "nea2";
        case Alg::nea3:
            return "nea3";
        case Alg::nia1:
            return "nia1";
        case Alg::nia2:
            return "nia2";
        case Alg::nia3:
            return "nia3";
    }
    return "?";
}
bool is_cipher(Alg a) {
    return a == Alg::nea1 || a == Alg::nea2 || a == Alg::nea3;
}
bool is_zuc(Alg a) {
    return a == Alg::nea3 || a == Alg::nia3;
}

void raw_fill(IMB_JOB* job, Alg a, const RawKeys& k, const std::uint8_t* src, std::uint8_t* dst,
              std::size_t bytes, std::uint8_t* iv, std::uint8_t* tag, std::size_t i) {
    const SecurityInput in = input_for(i);
    job->src = src;
    job->dst = dst;
    job->iv = iv;
    job->iv_len_in_bytes = 16;
    job->key_len_in_bytes = 16;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->auth_tag_output = tag;
    job->auth_tag_output_len_in_bytes = 4;
    job->hash_start_src_offset_in_bytes = 0;
    job->cipher_start_src_offset_in_bytes = 0;
    if (is_cipher(a)) {
        job->chain_order = IMB_ORDER_CIPHER_HASH;
        job->hash_alg = IMB_AUTH_NULL;
    } else {
        job->chain_order = IMB_ORDER_HASH_CIPHER;
        job->cipher_mode = IMB_CIPHER_NULL;
    }
    switch (a) {
        case Alg::nea1:
            snow3g_f8_iv_gen(in.count, in.bearer, in.direction, iv);
            job->cipher_mode = IMB_CIPHER_SNOW3G_UEA2_BITLEN;
            job->enc_keys = &k.snow3g;
            job->msg_len_to_cipher_in_bits = bytes * 8;
            break;
        case Alg::nea2:
            std::memset(iv, 0, 16);
            std::memcpy(iv, &in.count, 4);
            job->cipher_mode = IMB_CIPHER_CNTR_BITLEN;
            job->enc_keys = k.enc;
            job->dec_keys = k.dec;
            job->msg_len_to_cipher_in_bits = bytes * 8;
            break;
        case Alg::nea3:
            zuc_eea3_iv_gen(in.count, in.bearer, in.direction, iv);
            job->cipher_mode = IMB_CIPHER_ZUC_EEA3;
            job->enc_keys = k.key;
            job->msg_len_to_cipher_in_bytes = bytes;
            break;
        case Alg::nia1:
            snow3g_f9_iv_gen(in.count, static_cast<std::uint32_t>(in.bearer) << 27, in.direction,
                             iv);
            job->hash_alg = IMB_AUTH_SNOW3G_UIA2_BITLEN;
            job->u.SNOW3G_UIA2._key = &k.snow3g;
            job->u.SNOW3G_UIA2._iv = iv;
            job->msg_len_to_hash_in_bits = bytes * 8;
            break;
        case Alg::nia2:  // the raw baseline hashes an input that already carries the 8-octet prefix
            job->hash_alg = IMB_AUTH_AES_CMAC_BITLEN;
            job->u.CMAC._key_expanded = k.enc;
            job->u.CMAC._skey1 = k.k1;
            job->u.CMAC._skey2 = k.k2;
            job->msg_len_to_hash_in_bits = (bytes + 8) * 8;
            break;
        case Alg::nia3:
            zuc_eia3_iv_gen(in.count, in.bearer, in.direction, iv);
            job->hash_alg = IMB_AUTH_ZUC_EIA3_BITLEN;
            job->u.ZUC_EIA3._key = k.key;
            job->u.ZUC_EIA3._iv = iv;
            job->u.ZUC_EIA3._iv23 = nullptr;
            job->msg_len_to_hash_in_bits = bytes * 8;
            break;
    }
}

struct alignas(16) RawSlot {
    std::uint8_t iv[16];
    std::uint8_t tag[4];
};

Workload raw_single(Alg a, std::size_t size, std::shared_ptr<Fixture> fx) {
    IMB_MGR* mgr = thread_mb_manager();
    auto keys = std::make_shared<RawKeys>(mgr, fx->key.data());
    Workload w;
    w.name = fmt::format("raw-ipsecmb-single-{}-{}", alg_name(a), size);
    w.unit = "MB/s";
    w.unit_scale = 1e-6;
    w.note = "ipsec-mb's one-buffer call, nothing of pc5sec around it";
    w.run_batch = [a, size, fx, keys]() {
        IMB_MGR* m = thread_mb_manager();
        RawSlot slot;
        for (std::size_t i = 0; i < kBurst; ++i) {
            const std::uint8_t* src = fx->pool.next(size + 8);
            std::uint8_t* dst = fx->out.data() + i * size;
            const SecurityInput in = input_for(i);
            switch (a) {
                case Alg::nea1:
                    snow3g_f8_iv_gen(in.count, in.bearer, in.direction, slot.iv);
                    IMB_SNOW3G_F8_1_BUFFER_BIT(m, &keys->snow3g, slot.iv, src, dst, size * 8, 0);
                    break;
                case Alg::nea3:
                    zuc_eea3_iv_gen(in.count, in.bearer, in.direction, slot.iv);
                    IMB_ZUC_EEA3_1_BUFFER(m, keys->key, slot.iv, src, dst, size);
                    break;
                case Alg::nia1:
                    snow3g_f9_iv_gen(in.count, static_cast<std::uint32_t>(in.bearer) << 27,
                                     in.direction, slot.iv);
                    IMB_SNOW3G_F9_1_BUFFER(m, &keys->snow3g, slot.iv, src, size * 8, slot.tag);
                    break;
                case Alg::nia3:
                    zuc_eia3_iv_gen(in.count, in.bearer, in.direction, slot.iv);
                    IMB_ZUC_EIA3_1_BUFFER(m, keys->key, slot.iv, src, size * 8,
                                          reinterpret_cast<std::uint32_t*>(slot.tag));
                    break;
                case Alg::nea2:
                case Alg::nia2: {  // AES has no one-buffer bit-length call: one job, then flush
                    IMB_JOB* job = IMB_GET_NEXT_JOB(m);
                    raw_fill(job, a, *keys, src, dst, size, slot.iv, slot.tag, i);
                    if (IMB_SUBMIT_JOB(m) == nullptr)
                        while (IMB_FLUSH_JOB(m) != nullptr) {
                        }
                    break;
                }
            }
        }
        return static_cast<double>(kBurst * size);
    };
    return w;
}

Workload raw_burst(Alg a, std::size_t size, std::shared_ptr<Fixture> fx) {
    IMB_MGR* mgr = thread_mb_manager();
    auto keys = std::make_shared<RawKeys>(mgr, fx->key.data());
    auto slots = std::make_shared<std::array<RawSlot, kBurst>>();
    Workload w;
    w.name = fmt::format("raw-ipsecmb-burst-{}-{}", alg_name(a), size);
    w.unit = "MB/s";
    w.unit_scale = 1e-6;
    w.note = "ipsec-mb's multi-buffer job API, nothing of pc5sec around it";
    w.run_batch = [a, size, fx, keys, slots]() {
        IMB_MGR* m = thread_mb_manager();
        for (std::size_t i = 0; i < kBurst; ++i) {
            IMB_JOB* job = IMB_GET_NEXT_JOB(m);
            raw_fill(job, a, *keys, fx->pool.next(size + 8), fx->out.data() + i * size, size,
                     (*slots)[i].iv, (*slots)[i].tag, i);
            IMB_SUBMIT_JOB(m);
        }
        while (IMB_FLUSH_JOB(m) != nullptr) {
        }
        return static_cast<double>(kBurst * size);
    };
    return w;
}

// ---- pc5sec's own calls ----
struct Contexts {
    std::optional<CipheringContext> cipher;
    std::optional<IntegrityContext> integrity;
};

std::shared_ptr<Contexts> make_contexts(Alg a, const Fixture& fx,
                                        Backend backend = Backend::ipsec_mb) {
    auto c = std::make_shared<Contexts>();
    switch (a) {
        case Alg::nea1:
            c->cipher.emplace(*CipheringContext::create(CipheringAlgorithm::nea1, fx.key, backend));
            break;
        case Alg::nea2:
            c->cipher.emplace(*CipheringContext::create(CipheringAlgorithm::nea2, fx.key, backend));
            break;
        case Alg::nea3:
            c->cipher.emplace(*CipheringContext::create(CipheringAlgorithm::nea3, fx.key, backend));
            break;
        case Alg::nia1:
            c->integrity.emplace(
                *IntegrityContext::create(IntegrityAlgorithm::nia1, fx.key, backend));
            break;
        case Alg::nia2:
            c->integrity.emplace(
                *IntegrityContext::create(IntegrityAlgorithm::nia2, fx.key, backend));
            break;
        case Alg::nia3:
            c->integrity.emplace(
                *IntegrityContext::create(IntegrityAlgorithm::nia3, fx.key, backend));
            break;
    }
    return c;
}

Workload ours_single(Alg a, std::size_t size, std::shared_ptr<Fixture> fx) {
    auto ctx = make_contexts(a, *fx);
    Workload w;
    w.name = fmt::format("{}-single-{}", alg_name(a), size);
    w.unit = "MB/s";
    w.unit_scale = 1e-6;
    w.run_batch = [a, size, fx, ctx]() {
        for (std::size_t i = 0; i < kBurst; ++i) {
            const std::uint8_t* src = fx->pool.next(size);
            if (is_cipher(a)) {
                (void)ctx->cipher->apply(input_for(i), {src, size},
                                         {fx->out.data() + i * size, size}, size * 8);
            } else {
                (void)ctx->integrity->compute(input_for(i), {src, size}, size * 8);
            }
        }
        return static_cast<double>(kBurst * size);
    };
    return w;
}

Workload ours_burst(Alg a, std::size_t size, std::shared_ptr<Fixture> fx) {
    auto ctx = make_contexts(a, *fx);
    auto cjobs = std::make_shared<std::array<CipherJob, kBurst>>();
    auto ijobs = std::make_shared<std::array<IntegrityJob, kBurst>>();
    Workload w;
    w.name = fmt::format("{}-burst-{}", alg_name(a), size);
    w.unit = "MB/s";
    w.unit_scale = 1e-6;
    w.run_batch = [a, size, fx, ctx, cjobs, ijobs]() {
        if (is_cipher(a)) {
            for (std::size_t i = 0; i < kBurst; ++i) {
                auto& j = (*cjobs)[i];
                j.context = &*ctx->cipher;
                j.input = input_for(i);
                j.in = fx->pool.next(size);
                j.in_size = size;
                j.out = fx->out.data() + i * size;
                j.out_size = size;
                j.length_bits = size * 8;
            }
            (void)cipher_burst(*cjobs);
        } else {
            for (std::size_t i = 0; i < kBurst; ++i) {
                auto& j = (*ijobs)[i];
                j.context = &*ctx->integrity;
                j.input = input_for(i);
                j.message = fx->pool.next(size + 8) + 8;  // PDUs laid out with 8 octets of headroom
                j.message_size = size;
                j.length_bits = size * 8;
                j.headroom = true;
            }
            (void)integrity_burst(*ijobs);
        }
        return static_cast<double>(kBurst * size);
    };
    return w;
}

// ---- OpenSSL EVP, driven directly ----
Workload openssl_ctr(std::size_t size, std::shared_ptr<Fixture> fx) {
    std::shared_ptr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    const std::uint8_t iv[16]{};
    EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, fx->key.data(), iv);
    Workload w;
    w.name = fmt::format("openssl-aes128-ctr-{}", size);
    w.unit = "MB/s";
    w.unit_scale = 1e-6;
    w.note = "OpenSSL EVP AES-128-CTR, one PDU per call";
    w.run_batch = [size, fx, ctx]() {
        std::uint8_t iv[16]{};
        for (std::size_t i = 0; i < kBurst; ++i) {
            iv[3] = static_cast<std::uint8_t>(i);
            int len = 0;
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, iv);
            EVP_EncryptUpdate(ctx.get(), fx->out.data() + i * size, &len, fx->pool.next(size),
                              static_cast<int>(size));
        }
        return static_cast<double>(kBurst * size);
    };
    return w;
}

Workload openssl_cmac(std::size_t size, std::shared_ptr<Fixture> fx) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    std::shared_ptr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(mac), EVP_MAC_CTX_free);
    EVP_MAC_free(mac);
    char cipher[] = "AES-128-CBC";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_init(ctx.get(), fx->key.data(), 16, params);
    Workload w;
    w.name = fmt::format("openssl-cmac-{}", size);
    w.unit = "MB/s";
    w.unit_scale = 1e-6;
    w.note = "OpenSSL EVP_MAC CMAC-AES-128, one PDU per call";
    w.run_batch = [size, fx, ctx]() {
        std::uint8_t tag[16];
        for (std::size_t i = 0; i < kBurst; ++i) {
            std::size_t len = 0;
            EVP_MAC_init(ctx.get(), nullptr, 0, nullptr);
            EVP_MAC_update(ctx.get(), fx->pool.next(size + 8), size + 8);
            EVP_MAC_final(ctx.get(), tag, &len, sizeof tag);
        }
        return static_cast<double>(kBurst * size);
    };
    return w;
}

// ---- asymmetric ----
std::vector<Workload> asymmetric_workloads() {
    std::vector<Workload> out;
    auto message = std::make_shared<std::vector<std::uint8_t>>(256, 0x5a);
    for (KeyType t : {KeyType::p256, KeyType::ed25519}) {
        auto key = std::make_shared<PrivateKey>(*PrivateKey::generate(t));
        auto sig = std::make_shared<std::vector<std::uint8_t>>(*sign(*key, *message));
        const std::string n = t == KeyType::p256 ? "ecdsa-p256" : "ed25519";
        out.push_back(Workload{n + "-sign", "ops/s",
                               [key, message]() {
                                   (void)sign(*key, *message);
                                   return 1.0;
                               },
                               1.0, "", "", false, "sign 256 octets"});
        out.push_back(Workload{n + "-verify", "ops/s",
                               [key, message, sig]() {
                                   (void)verify(key->public_key(), *message, *sig);
                                   return 1.0;
                               },
                               1.0, "", "", false, "verify over 256 octets"});
    }
    // The two symmetric entries of the simulator's processing model (src/sim/processing.cpp):
    // one KDF call (TS 33.220 B.2.0, two 16-octet parameters, as KD-sess) and one 200-octet PDU
    // ciphered and its MAC-I computed (NEA2 + NIA2, the default data PDU).
    out.push_back(Workload{"kdf-3gpp", "ops/s",
                           [message]() {
                               const std::array<std::uint8_t, 32> key{};
                               const std::span<const std::uint8_t> n(message->data(), 16);
                               (void)kdf(key, 0xB1, {n, n});
                               return 1.0;
                           },
                           1.0, "", "", false, "one KDF call, two 16-octet parameters"});
    {
        const std::array<std::uint8_t, 16> k{};
        auto c = std::make_shared<CipheringContext>(
            CipheringContext::create(CipheringAlgorithm::nea2, k).value());
        auto m = std::make_shared<IntegrityContext>(
            IntegrityContext::create(IntegrityAlgorithm::nia2, k).value());
        auto pdu = std::make_shared<std::vector<std::uint8_t>>(200, 0x11);
        out.push_back(Workload{"pdcp-nea2-nia2-200", "ops/s",
                               [c, m, pdu]() {
                                   (void)c->apply({1, 4, 0}, *pdu, *pdu, pdu->size() * 8);
                                   (void)m->compute({1, 4, 0}, *pdu, pdu->size() * 8);
                                   return 1.0;
                               },
                               1.0, "", "", false,
                               "a 200-octet PDU: NEA2 and NIA2 (one call each)"});
    }
    for (KeyType t : {KeyType::p256, KeyType::x25519}) {
        auto a = std::make_shared<PrivateKey>(*PrivateKey::generate(t));
        auto b = std::make_shared<PrivateKey>(*PrivateKey::generate(t));
        out.push_back(Workload{t == KeyType::p256 ? "ecdh-p256" : "x25519", "ops/s",
                               [a, b]() {
                                   (void)key_agreement(*a, b->public_key());
                                   return 1.0;
                               },
                               1.0, "", "", false, "one shared-secret computation"});
        out.push_back(Workload{t == KeyType::p256 ? "keygen-p256" : "keygen-x25519", "ops/s",
                               [t]() {
                                   (void)PrivateKey::generate(t);
                                   return 1.0;
                               },
                               1.0, "", "", false, "one ephemeral key pair"});
    }
    return out;
}

}  // namespace

std::vector<Workload> crypto_workloads() {
    auto fx = std::make_shared<Fixture>();
    std::vector<Workload> out;
    for (std::size_t size : kSizes) {
        for (Alg a : kAlgs) {
            // ipsec-mb refuses ZUC past 8188 octets: no raw baseline there, and pc5sec runs its
            // reference ZUC instead.
            // ipsec-mb refuses CMAC bit-length jobs past 65534 bits: NIA2 has no raw baseline
            // at 9000 octets either (pc5sec runs CMAC over OpenSSL's AES block there).
            const bool has_raw = !(is_zuc(a) && size > 8188) && !(a == Alg::nia2 && size > 8183);
            const std::string target = size == 1500 ? ">=0.8" : "";
            Workload single = ours_single(a, size, fx);
            Workload burst = ours_burst(a, size, fx);
            if (has_raw) {
                out.push_back(raw_single(a, size, fx));
                out.push_back(raw_burst(a, size, fx));
                single.baseline = out[out.size() - 2].name;
                burst.baseline = out.back().name;
                single.target = target;
                burst.target = target;
            } else {
                single.note = burst.note =
                    is_zuc(a) ? "past ipsec-mb's 8188-octet ZUC limit: pc5sec's reference ZUC"
                              : "past ipsec-mb's CMAC limit: CMAC over OpenSSL's AES block";
            }
            out.push_back(std::move(single));
            out.push_back(std::move(burst));
        }
        if (size == 1500) {
            out.push_back(openssl_ctr(size, fx));
            out.push_back(openssl_cmac(size, fx));
            Workload vs = ours_burst(Alg::nea2, size, fx);
            vs.name = "nea2-burst-1500-vs-openssl-ctr";
            vs.baseline = "openssl-aes128-ctr-1500";
            vs.target = ">=2";
            out.push_back(std::move(vs));
            Workload vs_single = ours_single(Alg::nea2, size, fx);
            vs_single.name = "nea2-single-1500-vs-openssl-ctr";
            vs_single.baseline = "openssl-aes128-ctr-1500";
            out.push_back(std::move(vs_single));
        }
    }
    auto asym = asymmetric_workloads();
    out.insert(out.end(), asym.begin(), asym.end());
    return out;
}

}  // namespace pc5sec::bench
