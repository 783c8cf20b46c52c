#include "pc5sec/hash.hpp"

#include <memory>

#include <openssl/evp.h>

#include "pc5sec/kdf.hpp"

namespace pc5sec {

namespace {

// SHA-256 fetched once per thread: an implicit fetch on every EVP_DigestInit_ex costs about as
// much as hashing a short message.
const EVP_MD* sha256_md() {
    struct Md {
        EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        ~Md() { EVP_MD_free(md); }
    };
    thread_local Md m;
    return m.md;
}

}  // namespace

Sha256Digest sha256(std::initializer_list<std::span<const std::uint8_t>> parts) {
    // One digest context per thread, re-initialised per call (no allocation per hash).
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                             EVP_MD_CTX_free);
    Sha256Digest out{};
    unsigned len = 0;
    const EVP_MD* md = sha256_md();
    bool ok = ctx && md && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
    for (auto p : parts)
        ok = ok && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size();
    if (!ok) throw CryptoLibraryError("SHA-256 failed in OpenSSL");
    return out;
}

}  // namespace pc5sec
