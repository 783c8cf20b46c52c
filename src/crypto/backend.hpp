// Private to crypto/: the per-key state behind CipheringContext / IntegrityContext, and the
// per-backend entry points. Nothing outside crypto/ includes this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>

#include <intel-ipsec-mb.h>
#include <openssl/evp.h>

#include "pc5sec/nea_nia.hpp"

namespace pc5sec {

struct CipherState {
    CipheringAlgorithm alg{};
    Backend backend{};
    alignas(64) std::uint8_t key[16]{};
    alignas(64) snow3g_key_schedule_t snow3g{};   // NEA1
    alignas(64) std::uint8_t aes_enc[16 * 15]{};  // NEA2 expanded key (ipsec-mb)
    alignas(64) std::uint8_t aes_dec[16 * 15]{};
    EVP_CIPHER_CTX* evp = nullptr;  // NEA2 on OpenSSL: AES-128-CTR with the key set
};

struct IntegrityState {
    IntegrityAlgorithm alg{};
    Backend backend{};
    alignas(64) std::uint8_t key[16]{};
    alignas(64) snow3g_key_schedule_t snow3g{};   // NIA1
    alignas(64) std::uint8_t aes_enc[16 * 15]{};  // NIA2 expanded key (ipsec-mb)
    alignas(64) std::uint8_t aes_dec[16 * 15]{};
    alignas(16) std::uint8_t cmac_k1[16]{};
    alignas(16) std::uint8_t cmac_k2[16]{};
    EVP_MAC_CTX* cmac = nullptr;    // NIA2 on OpenSSL, whole-byte lengths
    EVP_CIPHER_CTX* ecb = nullptr;  // NIA2 on OpenSSL, bit lengths (CMAC by SP 800-38B)
    // ipsec-mb NIA2 needs `ecb` only for messages past kIpsecMbNia2MaxBits: it is made on first
    // such message, not on every key install (about as costly as the rest of the install).
    std::once_flag ecb_once;
    bool ecb_ok = false;
};

// Bits of the final byte past `length_bits` are cleared (the output convention of nea_nia.hpp).
inline void clear_trailing_bits(std::uint8_t* out, std::uint64_t length_bits) {
    if (length_bits % 8 != 0)
        out[length_bits / 8] &= static_cast<std::uint8_t>(0xff00u >> (length_bits % 8));
}
inline std::size_t bytes_for_bits(std::uint64_t bits) {
    return static_cast<std::size_t>((bits + 7) / 8);
}

// The 128-EIA2 / 128-NIA2 CMAC input prefix: COUNT || BEARER || DIRECTION || 0^26 (TS 33.401
// B.2.3).
inline void nia2_prefix(const SecurityInput& in, std::uint8_t out[8]) {
    out[0] = static_cast<std::uint8_t>(in.count >> 24);
    out[1] = static_cast<std::uint8_t>(in.count >> 16);
    out[2] = static_cast<std::uint8_t>(in.count >> 8);
    out[3] = static_cast<std::uint8_t>(in.count);
    out[4] = static_cast<std::uint8_t>(in.bearer << 3 | in.direction << 2);
    out[5] = out[6] = out[7] = 0;
}
// Writes prefix || message (8 + ceil(LENGTH/8) octets) to `out`: the NIA2 CMAC input.
inline void nia2_build_input(const SecurityInput& in, const std::uint8_t* msg,
                             std::uint64_t length_bits, std::uint8_t* out) {
    nia2_prefix(in, out);
    const std::size_t bytes = (length_bits + 7) / 8;
    if (bytes) std::memcpy(out + 8, msg, bytes);
}
// The 128-EEA2 / 128-NEA2 counter block: COUNT || BEARER || DIRECTION || 0^26 || 0^64 (B.1.3).
inline void nea2_iv(const SecurityInput& in, std::uint8_t out[16]) {
    nia2_prefix(in, out);
    for (int i = 8; i < 16; ++i)
        out[i] = 0;
}

// ipsec-mb ------------------------------------------------------------------------------------
// The thread's multi-buffer manager (ipsec-mb managers are not thread-safe).
IMB_MGR* thread_mb_manager();
bool ipsecmb_prepare(CipherState& s);
bool ipsecmb_prepare(IntegrityState& s);
// One PDU; false if ipsec-mb refused the job. PDUs that ipsecmb_takes() declines go elsewhere.
bool ipsecmb_cipher(const CipherState& s, const SecurityInput& in, const std::uint8_t* src,
                    std::uint8_t* dst, std::uint64_t length_bits);
bool ipsecmb_mac(const IntegrityState& s, const SecurityInput& in, const std::uint8_t* msg,
                 std::uint64_t length_bits, MacI& mac);
// Job builders shared by the one-PDU calls and the bursts. `iv` (16 octets) and, for NIA2,
// `cmac_input` (the prefix and message, see nia2_build_input) must stay alive until the job
// completes.
void ipsecmb_fill_cipher_job(IMB_JOB* job, const CipherState& s, const SecurityInput& in,
                             const std::uint8_t* src, std::uint8_t* dst, std::uint64_t length_bits,
                             std::uint8_t iv[16]);
void ipsecmb_fill_integrity_job(IMB_JOB* job, const IntegrityState& s, const SecurityInput& in,
                                const std::uint8_t* msg, std::uint64_t length_bits,
                                std::uint8_t iv[16], std::uint8_t* cmac_input, std::uint8_t* tag);
// ipsec-mb refuses ZUC buffers longer than this; past it the reference ZUC runs.
inline constexpr std::uint64_t kIpsecMbZucMaxBits = 65504;
// ipsec-mb 1.3 refuses AES-CMAC bit-length jobs of 65535 bits or more (measured); NIA2 adds a
// 64-bit prefix, so longer messages run CMAC in pc5sec over OpenSSL's AES block.
inline constexpr std::uint64_t kIpsecMbNia2MaxBits = 65534 - 64;

// True when ipsec-mb's job path takes this PDU; otherwise run_* picks another implementation.
inline bool ipsecmb_takes(CipheringAlgorithm a, std::uint64_t bits) {
    return a != CipheringAlgorithm::nea0 && bits != 0 &&
           !(a == CipheringAlgorithm::nea3 && bits > kIpsecMbZucMaxBits);
}
inline bool ipsecmb_takes(IntegrityAlgorithm a, std::uint64_t bits) {
    return a != IntegrityAlgorithm::nia0 && (bits != 0 || a == IntegrityAlgorithm::nia2) &&
           !(a == IntegrityAlgorithm::nia3 && bits > kIpsecMbZucMaxBits) &&
           !(a == IntegrityAlgorithm::nia2 && bits > kIpsecMbNia2MaxBits);
}

// OpenSSL -------------------------------------------------------------------------------------
bool openssl_prepare(CipherState& s);
bool openssl_prepare(IntegrityState& s);
void openssl_release(CipherState& s) noexcept;
void openssl_release(IntegrityState& s) noexcept;
bool openssl_cipher(const CipherState& s, const SecurityInput& in, const std::uint8_t* src,
                    std::uint8_t* dst, std::uint64_t length_bits);
bool openssl_mac(const IntegrityState& s, const SecurityInput& in, const std::uint8_t* msg,
                 std::uint64_t length_bits, MacI& mac);
// NIA2 by SP 800-38B over OpenSSL's AES block, any length; needs `s.ecb` (prepared by either
// backend for NIA2).
bool prepare_cmac_block_cipher(IntegrityState& s);
bool nia2_cmac_bits(const IntegrityState& s, const SecurityInput& in, const std::uint8_t* msg,
                    std::uint64_t length_bits, MacI& mac);

// Reference ZUC (TS 35.221 / TS 35.222) -------------------------------------------------------
void zuc_eea3(const std::uint8_t key[16], const SecurityInput& in, const std::uint8_t* src,
              std::uint8_t* dst, std::uint64_t length_bits);
MacI zuc_eia3(const std::uint8_t key[16], const SecurityInput& in, const std::uint8_t* msg,
              std::uint64_t length_bits);

}  // namespace pc5sec
