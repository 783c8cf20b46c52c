#include "pc5sec/hash.hpp"

#include <memory>

#include <openssl/evp.h>

#include "pc5sec/kdf.hpp"

namespace pc5sec {

Sha256Digest sha256(std::initializer_list<std::span<const std::uint8_t>> parts) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    Sha256Digest out{};
    unsigned len = 0;
    bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
    for (auto p : parts)
        ok = ok && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size();
    if (!ok) throw CryptoLibraryError("SHA-256 failed in OpenSSL");
    return out;
}

}  // namespace pc5sec
