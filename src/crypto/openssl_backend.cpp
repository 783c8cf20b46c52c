// NEA2 and NIA2 on OpenSSL 3 EVP: an implementation independent of ipsec-mb, so that the tests
// can compare the two. CMAC on OpenSSL takes whole bytes only; for other lengths pc5sec runs
// CMAC itself (NIST SP 800-38B, which defines CMAC on bit strings) over OpenSSL's AES block.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <cstring>
#include <vector>

#include "backend.hpp"

namespace pc5sec {
namespace {

void xor_block(std::uint8_t* a, const std::uint8_t* b) {
    for (int i = 0; i < 16; ++i)
        a[i] ^= b[i];
}

// Doubling in GF(2^128) with the CMAC polynomial (SP 800-38B 6.1).
void cmac_double(const std::uint8_t in[16], std::uint8_t out[16]) {
    const std::uint8_t carry = in[0] >> 7;
    for (int i = 0; i < 15; ++i)
        out[i] = static_cast<std::uint8_t>(in[i] << 1 | in[i + 1] >> 7);
    out[15] = static_cast<std::uint8_t>(in[15] << 1 ^ (carry ? 0x87 : 0));
}

bool aes_block(EVP_CIPHER_CTX* ecb, const std::uint8_t in[16], std::uint8_t out[16]) {
    int len = 0;
    return EVP_EncryptUpdate(ecb, out, &len, in, 16) == 1 && len == 16;
}

// CMAC of an n-bit string (SP 800-38B 6.2), first 32 bits.
bool cmac_bits(EVP_CIPHER_CTX* ecb, const std::uint8_t* m, std::uint64_t n_bits, MacI& mac) {
    std::uint8_t l[16]{}, k1[16], k2[16];
    const std::uint8_t zero[16]{};
    if (!aes_block(ecb, zero, l)) return false;
    cmac_double(l, k1);
    cmac_double(k1, k2);
    const std::uint64_t blocks = n_bits == 0 ? 1 : (n_bits + 127) / 128;
    const bool complete = n_bits != 0 && n_bits % 128 == 0;
    std::uint8_t x[16]{}, y[16];
    for (std::uint64_t i = 0; i + 1 < blocks; ++i) {
        xor_block(x, m + 16 * i);
        if (!aes_block(ecb, x, y)) return false;
        std::memcpy(x, y, 16);
    }
    std::uint8_t last[16]{};
    const std::uint64_t rest_bits = n_bits - 128 * (blocks - 1);
    std::memcpy(last, m + 16 * (blocks - 1), bytes_for_bits(rest_bits));
    if (complete) {
        xor_block(last, k1);
    } else {
        // Keep the rest_bits message bits, then a single 1 bit, then zeros.
        clear_trailing_bits(last, rest_bits);
        last[rest_bits / 8] |= static_cast<std::uint8_t>(0x80 >> (rest_bits % 8));
        xor_block(last, k2);
    }
    xor_block(x, last);
    if (!aes_block(ecb, x, y)) return false;
    std::memcpy(mac.data(), y, 4);
    OPENSSL_cleanse(l, sizeof l);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    OPENSSL_cleanse(x, sizeof x);
    OPENSSL_cleanse(y, sizeof y);
    return true;
}

}  // namespace

bool openssl_prepare(CipherState& s) {
    if (s.alg != CipheringAlgorithm::nea2) return false;
    s.evp = EVP_CIPHER_CTX_new();
    const std::uint8_t zero_iv[16]{};
    return s.evp && EVP_EncryptInit_ex(s.evp, EVP_aes_128_ctr(), nullptr, s.key, zero_iv) == 1;
}

namespace {
// AES-128-ECB fetched once per thread: every key install would otherwise fetch it by name again
// (an implicit fetch behind EVP_aes_128_ecb() costs more than the key expansion).
const EVP_CIPHER* aes_128_ecb() {
    struct Cipher {
        EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
        ~Cipher() { EVP_CIPHER_free(c); }
    };
    thread_local Cipher c;
    return c.c;
}
}  // namespace

bool prepare_cmac_block_cipher(IntegrityState& s) {
    s.ecb = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* ecb = aes_128_ecb();
    if (s.ecb == nullptr || ecb == nullptr ||
        EVP_EncryptInit_ex(s.ecb, ecb, nullptr, s.key, nullptr) != 1)
        return false;
    EVP_CIPHER_CTX_set_padding(s.ecb, 0);
    return true;
}

bool openssl_prepare(IntegrityState& s) {
    if (s.alg != IntegrityAlgorithm::nia2) return false;
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    if (mac == nullptr) return false;
    s.cmac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    char cipher_name[] = "AES-128-CBC";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher_name, 0),
                           OSSL_PARAM_construct_end()};
    if (s.cmac == nullptr || EVP_MAC_init(s.cmac, s.key, 16, params) != 1) return false;
    return prepare_cmac_block_cipher(s);
}

void openssl_release(CipherState& s) noexcept {
    EVP_CIPHER_CTX_free(s.evp);  // frees and cleanses the key schedule
    s.evp = nullptr;
}

void openssl_release(IntegrityState& s) noexcept {
    EVP_MAC_CTX_free(s.cmac);
    EVP_CIPHER_CTX_free(s.ecb);
    s.cmac = nullptr;
    s.ecb = nullptr;
}

bool openssl_cipher(const CipherState& s, const SecurityInput& in, const std::uint8_t* src,
                    std::uint8_t* dst, std::uint64_t length_bits) {
    std::uint8_t iv[16];
    nea2_iv(in, iv);
    // Re-arm the prepared context with the new counter block; the key schedule is kept.
    if (EVP_EncryptInit_ex(s.evp, nullptr, nullptr, nullptr, iv) != 1) return false;
    const std::size_t bytes = bytes_for_bits(length_bits);
    int out_len = 0;
    if (bytes && EVP_EncryptUpdate(s.evp, dst, &out_len, src, static_cast<int>(bytes)) != 1)
        return false;
    if (bytes) clear_trailing_bits(dst, length_bits);
    return true;
}

bool openssl_mac(const IntegrityState& s, const SecurityInput& in, const std::uint8_t* msg,
                 std::uint64_t length_bits, MacI& mac) {
    std::uint8_t prefix[8];
    nia2_prefix(in, prefix);
    const std::size_t bytes = bytes_for_bits(length_bits);
    if (length_bits % 8 == 0) {
        // Whole bytes: OpenSSL's own CMAC. A NULL key re-initialises with the key already set.
        std::uint8_t full[16];
        std::size_t out_len = 0;
        if (EVP_MAC_init(s.cmac, nullptr, 0, nullptr) != 1 ||
            EVP_MAC_update(s.cmac, prefix, sizeof prefix) != 1 ||
            (bytes && EVP_MAC_update(s.cmac, msg, bytes) != 1) ||
            EVP_MAC_final(s.cmac, full, &out_len, sizeof full) != 1 || out_len != 16)
            return false;
        std::memcpy(mac.data(), full, 4);
        return true;
    }
    return nia2_cmac_bits(s, in, msg, length_bits, mac);
}

bool nia2_cmac_bits(const IntegrityState& s, const SecurityInput& in, const std::uint8_t* msg,
                    std::uint64_t length_bits, MacI& mac) {
    const std::size_t bytes = bytes_for_bits(length_bits);
    std::vector<std::uint8_t> m(8 + bytes);
    nia2_prefix(in, m.data());
    if (bytes) std::memcpy(m.data() + 8, msg, bytes);
    if (s.ecb == nullptr) {  // ipsec-mb's long-message fallback: the block cipher on first use
        auto& state = const_cast<IntegrityState&>(s);  // the object itself is never const
        std::call_once(state.ecb_once, [&] { state.ecb_ok = prepare_cmac_block_cipher(state); });
        if (!state.ecb_ok) return false;
    }
    const bool ok = cmac_bits(s.ecb, m.data(), length_bits + 64, mac);
    OPENSSL_cleanse(m.data(), m.size());
    return ok;
}

}  // namespace pc5sec
