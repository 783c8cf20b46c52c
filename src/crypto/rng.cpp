#include "pc5sec/rng.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <cstring>

#include "pc5sec/kdf.hpp"
#include "pc5sec/secret.hpp"

namespace pc5sec {

std::uint32_t Rng::next_u32() {
    const auto b = bytes<4>();
    return static_cast<std::uint32_t>(b[0]) << 24 | static_cast<std::uint32_t>(b[1]) << 16 |
           static_cast<std::uint32_t>(b[2]) << 8 | b[3];
}

std::uint8_t Rng::next_u8() {
    return bytes<1>()[0];
}

void SystemRng::fill(std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        const int chunk = static_cast<int>(std::min<std::size_t>(out.size() - done, INT_MAX));
        if (RAND_priv_bytes(out.data() + done, chunk) != 1)
            throw CryptoLibraryError("OpenSSL RAND_priv_bytes failed (no entropy?)");
        done += static_cast<std::size_t>(chunk);
    }
}

Rng& system_rng() {
    static SystemRng rng;
    return rng;
}

struct DeterministicRng::State {
    EVP_CIPHER_CTX* ctx = nullptr;
    ~State() { EVP_CIPHER_CTX_free(ctx); }
};

DeterministicRng::DeterministicRng(std::uint64_t seed) : state_(std::make_unique<State>()) {
    // key = first 16 octets of SHA-256("pc5sec deterministic rng" || seed, big-endian).
    static constexpr char kLabel[] = "pc5sec deterministic rng";
    std::uint8_t input[sizeof kLabel - 1 + 8];
    std::memcpy(input, kLabel, sizeof kLabel - 1);
    for (int i = 0; i < 8; ++i)
        input[sizeof kLabel - 1 + i] = static_cast<std::uint8_t>(seed >> (56 - 8 * i));
    std::uint8_t digest[32];
    unsigned int len = 0;
    const std::uint8_t iv[16]{};
    state_->ctx = EVP_CIPHER_CTX_new();
    if (state_->ctx == nullptr ||
        EVP_Digest(input, sizeof input, digest, &len, EVP_sha256(), nullptr) != 1 ||
        EVP_EncryptInit_ex(state_->ctx, EVP_aes_128_ctr(), nullptr, digest, iv) != 1)
        throw CryptoLibraryError("cannot set up the deterministic RNG");
    detail::secure_wipe(digest, sizeof digest);
}

DeterministicRng::~DeterministicRng() = default;

void DeterministicRng::fill(std::span<std::uint8_t> out) {
    if (out.empty()) return;  // an empty span's data() may be null: nothing to draw
    // The AES-128-CTR keystream: encrypt zeros.
    std::memset(out.data(), 0, out.size());
    std::size_t done = 0;
    while (done < out.size()) {
        const int chunk = static_cast<int>(std::min<std::size_t>(out.size() - done, 1 << 20));
        int len = 0;
        if (EVP_EncryptUpdate(state_->ctx, out.data() + done, &len, out.data() + done, chunk) != 1)
            throw CryptoLibraryError("deterministic RNG failed");
        done += static_cast<std::size_t>(chunk);
    }
}

}  // namespace pc5sec
