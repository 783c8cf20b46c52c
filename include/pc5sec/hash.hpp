/// @file
/// SHA-256 over the concatenation of byte strings (transcript hashes, identifiers), on OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace pc5sec {

/// A SHA-256 digest (32 octets).
using Sha256Digest = std::array<std::uint8_t, 32>;

/// SHA-256 over the concatenation of `parts`.
/// Throws CryptoLibraryError only if OpenSSL itself fails.
Sha256Digest sha256(std::initializer_list<std::span<const std::uint8_t>> parts);

}  // namespace pc5sec
