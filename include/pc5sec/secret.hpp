/// @file
/// Secret key material: wiped on destruction, compared in constant time, never printed.
/// The only way bytes leave a SecretKey is reveal(), which the key-log export and the
/// crypto backends call. Streaming or fmt-formatting one prints `"<redacted>"`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "pc5sec/error.hpp"

namespace pc5sec {

/// Helpers of SecretKey, out of line.
namespace detail {
/// Wipes `n` bytes at `p` (OPENSSL_cleanse).
void secure_wipe(void* p, std::size_t n) noexcept;
/// Compares `n` bytes in constant time (CRYPTO_memcmp).
bool constant_time_equal(const void* a, const void* b, std::size_t n) noexcept;
/// The short public tag of SecretKey::fingerprint().
std::string key_fingerprint(std::span<const std::uint8_t> key);
}  // namespace detail

/// Secret key material of `N` octets: wiped on destruction, compared in constant time, never
/// printed (streaming or fmt-formatting one prints `"<redacted>"`). `Tag` makes each key a
/// distinct type and names it (`Tag::kName`).
template <std::size_t N, class Tag>
class SecretKey {
  public:
    /// The key's size in octets.
    static constexpr std::size_t kSize = N;

    /// An all-zero key.
    SecretKey() noexcept = default;
    /// A key holding a copy of `bytes`.
    explicit SecretKey(std::span<const std::uint8_t, N> bytes) noexcept {
        for (std::size_t i = 0; i < N; ++i)
            bytes_[i] = bytes[i];
    }
    /// A key holding a copy of `bytes`. The error names `field` when the size is wrong.
    static Result<SecretKey> from_bytes(std::span<const std::uint8_t> bytes,
                                        std::string_view field = Tag::kName) {
        if (bytes.size() != N)
            return make_error(Errc::invalid_argument, std::string(field),
                              fmt::format("{} must be {} bits ({} bytes), got {} bytes", Tag::kName,
                                          N * 8, N, bytes.size()));
        return SecretKey(bytes.template first<N>());
    }

    /// Copies the key.
    SecretKey(const SecretKey&) noexcept = default;
    /// Copies the key.
    SecretKey& operator=(const SecretKey&) noexcept = default;
    /// Wipes the key.
    ~SecretKey() { detail::secure_wipe(bytes_.data(), N); }

    /// The key's bytes: the only way they leave a SecretKey (the key-log export and the crypto
    /// backends call it).
    std::span<const std::uint8_t, N> reveal() const noexcept { return bytes_; }
    /// The key's bytes, writable.
    std::span<std::uint8_t, N> reveal_mut() noexcept { return bytes_; }

    /// A short public tag (8 hex digits of a domain-separated SHA-256) so two ends can be seen
    /// to agree without showing the key. It reveals nothing usable about the key.
    std::string fingerprint() const { return detail::key_fingerprint(bytes_); }

    /// Compares in constant time.
    friend bool operator==(const SecretKey& a, const SecretKey& b) noexcept {
        return detail::constant_time_equal(a.bytes_.data(), b.bytes_.data(), N);
    }
    /// Prints `"<redacted>"`.
    friend std::ostream& operator<<(std::ostream& os, const SecretKey&) {
        return os << "<redacted>";
    }

  private:
    std::array<std::uint8_t, N> bytes_{};
};

}  // namespace pc5sec

// fmt-formatting a SecretKey prints "<redacted>". Hidden from doxygen, which cannot place a
// specialisation in fmt's namespace ("Internal inconsistency: scope ... not found").
/// @cond
template <std::size_t N, class Tag>
struct fmt::formatter<pc5sec::SecretKey<N, Tag>> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const pc5sec::SecretKey<N, Tag>&, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format("<redacted>", ctx);
    }
};
/// @endcond
