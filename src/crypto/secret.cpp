#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pc5sec/hash.hpp"
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
    const auto md =
        sha256({std::span(reinterpret_cast<const std::uint8_t*>(kLabel), sizeof kLabel - 1), key});
    return to_hex(std::span<const std::uint8_t>(md).first(4));
}

}  // namespace pc5sec::detail
