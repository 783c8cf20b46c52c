#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pc5sec/hex.hpp"
#include "pc5sec/secret.hpp"

namespace pc5sec::detail {

void secure_wipe(void* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n);
}

bool constant_time_equal(const void* a, const void* b, std::size_t n) noexcept {
    return CRYPTO_memcmp(a, b, n) == 0;
}

std::string key_fingerprint(std::span<const std::uint8_t> key) {
    // SHA-256("pc5sec key fingerprint" || key), first 4 octets. Domain-separated so it matches
    // no other hash of the key that pc5sec or 3GPP computes.
    static constexpr char kLabel[] = "pc5sec key fingerprint";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, kLabel, sizeof kLabel - 1) == 1 &&
                    EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, md, &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return "????????";
    return to_hex(std::span<const std::uint8_t>(md, 4));
}

}  // namespace pc5sec::detail
