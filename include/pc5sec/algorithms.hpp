/// @file
/// 5G security algorithm identities (TS 33.501 Annex D / A.8) and the NEA/NIA input bundle.
#pragma once

#include <cstdint>
#include <string_view>

#include "pc5sec/error.hpp"

namespace pc5sec {

/// 4-bit ciphering algorithm identities, TS 33.501 D.1.
enum class CipheringAlgorithm : std::uint8_t {
    nea0 = 0,  ///< NEA0, the null algorithm
    nea1 = 1,  ///< 128-NEA1
    nea2 = 2,  ///< 128-NEA2
    nea3 = 3   ///< 128-NEA3
};
/// 4-bit integrity algorithm identities, TS 33.501 D.2.
enum class IntegrityAlgorithm : std::uint8_t {
    nia0 = 0,  ///< NIA0, the null algorithm
    nia1 = 1,  ///< 128-NIA1
    nia2 = 2,  ///< 128-NIA2
    nia3 = 3   ///< 128-NIA3
};

/// The ciphering algorithm of identity `id`. `field` names the input in the error (`"--alg"`).
Result<CipheringAlgorithm> ciphering_algorithm_from_id(std::uint64_t id,
                                                       std::string_view field = "algorithm");
/// The integrity algorithm of identity `id`. `field` names the input in the error (`"--alg"`).
Result<IntegrityAlgorithm> integrity_algorithm_from_id(std::uint64_t id,
                                                       std::string_view field = "algorithm");
/// The algorithm's name: "128-NEA2", "NEA0".
std::string_view name(CipheringAlgorithm a) noexcept;
/// The algorithm's name: "128-NIA2", "NIA0".
std::string_view name(IntegrityAlgorithm a) noexcept;

/// The KDF's "algorithm identity" parameter: one octet, identifier in the low nibble (TS 33.501
/// A.8).
constexpr std::uint8_t algorithm_identity_octet(CipheringAlgorithm a) {
    return static_cast<std::uint8_t>(a);
}
/// The KDF's "algorithm identity" parameter: one octet, identifier in the low nibble (TS 33.501
/// A.8).
constexpr std::uint8_t algorithm_identity_octet(IntegrityAlgorithm a) {
    return static_cast<std::uint8_t>(a);
}

/// The per-PDU inputs of NEA/NIA (TS 33.501 D.2.1 / D.3.1): COUNT (32 bits), BEARER (5 bits),
/// DIRECTION (1 bit). LENGTH travels with the data.
struct SecurityInput {
    std::uint32_t count = 0;     ///< COUNT, 32 bits
    std::uint8_t bearer = 0;     ///< BEARER, 0..31
    std::uint8_t direction = 0;  ///< DIRECTION, 0..1
};

/// Checks the ranges of `in`. Errors name "bearer" or "direction" when out of range.
Status validate(const SecurityInput& in);

}  // namespace pc5sec
