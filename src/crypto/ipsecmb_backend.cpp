// NEA/NIA on Intel ipsec-mb: its single-buffer calls for one PDU, its multi-buffer job API
// for bursts (see security_algorithms.cpp). Lengths are in bits throughout.
#include <cstring>
#include <stdexcept>
#include <vector>

#include "backend.hpp"

namespace pc5sec {
namespace {

struct MbManager {
    IMB_MGR* mgr = nullptr;
    MbManager() {
        mgr = alloc_mb_mgr(0);
        if (mgr == nullptr) throw std::runtime_error("ipsec-mb: cannot allocate a manager");
        init_mb_mgr_auto(mgr, nullptr);
        if (imb_get_errno(mgr) != 0) throw std::runtime_error("ipsec-mb: cannot initialise");
    }
    ~MbManager() { free_mb_mgr(mgr); }
};

MacI tag_to_mac(const std::uint8_t tag[4]) {
    return MacI{tag[0], tag[1], tag[2], tag[3]};
}

// Thread-local scratch for NIA2: the CMAC input is the 8-octet prefix followed by the message.
std::uint8_t* nia2_scratch(std::size_t bytes) {
    thread_local std::vector<std::uint8_t> scratch;
    if (scratch.size() < bytes) scratch.resize(bytes);
    return scratch.data();
}

// Runs the one job just filled to completion on an otherwise idle manager (so the job that
// comes back is that job, and the manager is idle again); false if ipsec-mb refused it.
bool run_single_job(IMB_MGR* mgr) {
    IMB_JOB* done = IMB_SUBMIT_JOB(mgr);
    while (done == nullptr)
        done = IMB_FLUSH_JOB(mgr);
    return done->status == IMB_STATUS_COMPLETED;
}

}  // namespace

IMB_MGR* thread_mb_manager() {
    // A plain pointer in thread-local storage is read on every PDU without a guard check; the
    // owning object is touched once per thread, to create the manager and free it at exit.
    thread_local IMB_MGR* mgr = nullptr;
    if (mgr == nullptr) [[unlikely]] {
        thread_local MbManager owner;
        mgr = owner.mgr;
    }
    return mgr;
}

bool ipsecmb_prepare(CipherState& s) {
    IMB_MGR* mgr = thread_mb_manager();
    switch (s.alg) {
        case CipheringAlgorithm::nea1:
            return IMB_SNOW3G_INIT_KEY_SCHED(mgr, s.key, &s.snow3g) == 0;
        case CipheringAlgorithm::nea2:
            IMB_AES_KEYEXP_128(mgr, s.key, s.aes_enc, s.aes_dec);
            return true;
        case CipheringAlgorithm::nea0:
        case CipheringAlgorithm::nea3:  // ZUC takes the raw key
            return true;
    }
    return false;
}

bool ipsecmb_prepare(IntegrityState& s) {
    IMB_MGR* mgr = thread_mb_manager();
    switch (s.alg) {
        case IntegrityAlgorithm::nia1:
            return IMB_SNOW3G_INIT_KEY_SCHED(mgr, s.key, &s.snow3g) == 0;
        case IntegrityAlgorithm::nia2:
            IMB_AES_KEYEXP_128(mgr, s.key, s.aes_enc, s.aes_dec);
            IMB_AES_CMAC_SUBKEY_GEN_128(mgr, s.aes_enc, s.cmac_k1, s.cmac_k2);
            return true;  // messages past kIpsecMbNia2MaxBits make their block cipher lazily
        case IntegrityAlgorithm::nia0:
        case IntegrityAlgorithm::nia3:
            return true;
    }
    return false;
}

// Fills a job for one NEA PDU. `iv` must stay alive until the job completes.
void ipsecmb_fill_cipher_job(IMB_JOB* job, const CipherState& s, const SecurityInput& in,
                             const std::uint8_t* src, std::uint8_t* dst, std::uint64_t length_bits,
                             std::uint8_t iv[16]) {
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->hash_alg = IMB_AUTH_NULL;
    job->src = src;
    job->dst = dst;
    job->iv = iv;
    job->iv_len_in_bytes = 16;
    job->key_len_in_bytes = 16;
    switch (s.alg) {
        case CipheringAlgorithm::nea1:  // 128-EEA1 = UEA2 with FRESH-free IV (TS 33.401 B.1.2)
            snow3g_f8_iv_gen(in.count, in.bearer, in.direction, iv);
            job->cipher_mode = IMB_CIPHER_SNOW3G_UEA2_BITLEN;
            job->enc_keys = &s.snow3g;
            job->cipher_start_src_offset_in_bits = 0;
            // Whole bytes: ipsec-mb 1.3's SNOW 3G bit-length code reads and writes one octet
            // past the buffer when LENGTH is not a multiple of 8. The extra keystream bits land
            // in the last octet's tail, which is cleared afterwards.
            job->msg_len_to_cipher_in_bits = bytes_for_bits(length_bits) * 8;
            break;
        case CipheringAlgorithm::nea2:  // AES-128-CTR (TS 33.401 B.1.3)
            nea2_iv(in, iv);
            job->cipher_mode = IMB_CIPHER_CNTR_BITLEN;
            job->enc_keys = s.aes_enc;
            job->dec_keys = s.aes_dec;
            job->cipher_start_src_offset_in_bytes = 0;
            job->msg_len_to_cipher_in_bits = length_bits;
            break;
        case CipheringAlgorithm::nea3:  // ZUC, whole bytes; trailing bits cleared afterwards
            zuc_eea3_iv_gen(in.count, in.bearer, in.direction, iv);
            job->cipher_mode = IMB_CIPHER_ZUC_EEA3;
            job->enc_keys = s.key;
            job->cipher_start_src_offset_in_bytes = 0;
            job->msg_len_to_cipher_in_bytes = bytes_for_bits(length_bits);
            break;
        case CipheringAlgorithm::nea0:
            break;
    }
}

// Fills a job for one NIA PDU. For NIA2, `cmac_input` holds prefix||message.
void ipsecmb_fill_integrity_job(IMB_JOB* job, const IntegrityState& s, const SecurityInput& in,
                                const std::uint8_t* msg, std::uint64_t length_bits,
                                std::uint8_t iv[16], std::uint8_t* cmac_input, std::uint8_t* tag) {
    job->chain_order = IMB_ORDER_HASH_CIPHER;
    job->cipher_mode = IMB_CIPHER_NULL;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->auth_tag_output = tag;
    job->auth_tag_output_len_in_bytes = 4;
    job->hash_start_src_offset_in_bytes = 0;
    job->src = msg;
    switch (s.alg) {
        case IntegrityAlgorithm::nia1:  // FRESH = BEARER || 0^27 (TS 33.401 B.2.2)
            snow3g_f9_iv_gen(in.count, static_cast<std::uint32_t>(in.bearer) << 27, in.direction,
                             iv);
            job->hash_alg = IMB_AUTH_SNOW3G_UIA2_BITLEN;
            job->u.SNOW3G_UIA2._key = &s.snow3g;
            job->u.SNOW3G_UIA2._iv = iv;
            job->msg_len_to_hash_in_bits = length_bits;
            break;
        case IntegrityAlgorithm::nia2:  // CMAC over COUNT||BEARER||DIRECTION||0^26||M (B.2.3)
            job->src = cmac_input;
            job->hash_alg = IMB_AUTH_AES_CMAC_BITLEN;
            job->u.CMAC._key_expanded = s.aes_enc;
            job->u.CMAC._skey1 = s.cmac_k1;
            job->u.CMAC._skey2 = s.cmac_k2;
            job->msg_len_to_hash_in_bits = length_bits + 64;
            break;
        case IntegrityAlgorithm::nia3:
            zuc_eia3_iv_gen(in.count, in.bearer, in.direction, iv);
            job->hash_alg = IMB_AUTH_ZUC_EIA3_BITLEN;
            job->u.ZUC_EIA3._key = s.key;
            job->u.ZUC_EIA3._iv = iv;
            job->u.ZUC_EIA3._iv23 = nullptr;
            job->msg_len_to_hash_in_bits = length_bits;
            break;
        case IntegrityAlgorithm::nia0:
            break;
    }
}

bool ipsecmb_cipher(const CipherState& s, const SecurityInput& in, const std::uint8_t* src,
                    std::uint8_t* dst, std::uint64_t length_bits) {
    IMB_MGR* mgr = thread_mb_manager();
    const std::size_t bytes = bytes_for_bits(length_bits);
    alignas(16) std::uint8_t iv[16];
    bool ok = true;
    switch (s.alg) {
        case CipheringAlgorithm::nea1:
            snow3g_f8_iv_gen(in.count, in.bearer, in.direction, iv);
            IMB_SNOW3G_F8_1_BUFFER(mgr, &s.snow3g, iv, src, dst, bytes);  // see the job builder
            break;
        case CipheringAlgorithm::nea3:
            zuc_eea3_iv_gen(in.count, in.bearer, in.direction, iv);
            IMB_ZUC_EEA3_1_BUFFER(mgr, s.key, iv, src, dst, bytes);
            break;
        case CipheringAlgorithm::nea2: {
            IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
            ipsecmb_fill_cipher_job(job, s, in, src, dst, length_bits, iv);
            ok = run_single_job(mgr);
            break;
        }
        case CipheringAlgorithm::nea0:
            return false;  // not an ipsec-mb job (ipsecmb_takes)
    }
    clear_trailing_bits(dst, length_bits);
    return ok;
}

bool ipsecmb_mac(const IntegrityState& s, const SecurityInput& in, const std::uint8_t* msg,
                 std::uint64_t length_bits, MacI& mac) {
    IMB_MGR* mgr = thread_mb_manager();
    alignas(16) std::uint8_t iv[16];
    alignas(4) std::uint8_t tag[4] = {0, 0, 0, 0};
    bool ok = true;
    switch (s.alg) {
        case IntegrityAlgorithm::nia1:
            snow3g_f9_iv_gen(in.count, static_cast<std::uint32_t>(in.bearer) << 27, in.direction,
                             iv);
            IMB_SNOW3G_F9_1_BUFFER(mgr, &s.snow3g, iv, msg, length_bits, tag);
            break;
        case IntegrityAlgorithm::nia3:
            zuc_eia3_iv_gen(in.count, in.bearer, in.direction, iv);
            IMB_ZUC_EIA3_1_BUFFER(mgr, s.key, iv, msg, length_bits,
                                  reinterpret_cast<std::uint32_t*>(tag));
            break;
        case IntegrityAlgorithm::nia2: {
            std::uint8_t* scratch = nia2_scratch(bytes_for_bits(length_bits) + 8);
            nia2_build_input(in, msg, length_bits, scratch);
            IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
            ipsecmb_fill_integrity_job(job, s, in, msg, length_bits, iv, scratch, tag);
            ok = run_single_job(mgr);
            break;
        }
        case IntegrityAlgorithm::nia0:
            return false;  // not an ipsec-mb job (ipsecmb_takes)
    }
    mac = tag_to_mac(tag);
    return ok;
}

}  // namespace pc5sec
