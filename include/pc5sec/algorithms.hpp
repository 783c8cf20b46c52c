// 5G security algorithm identities (TS 33.501 Annex D / A.8) and the NEA/NIA input bundle.
#pragma once

#include <cstdint>
#include <string_view>

#include "pc5sec/error.hpp"

namespace pc5sec {

// 4-bit algorithm identities, TS 33.501 D.1 / D.2.
enum class CipheringAlgorithm : std::uint8_t { nea0 = 0, nea1 = 1, nea2 = 2, nea3 = 3 };
enum class IntegrityAlgorithm : std::uint8_t { nia0 = 0, nia1 = 1, nia2 = 2, nia3 = 3 };

// `field` names the input in the error ("--alg").
Result<CipheringAlgorithm> ciphering_algorithm_from_id(std::uint64_t id,
                                                       std::string_view field = "algorithm");
Result<IntegrityAlgorithm> integrity_algorithm_from_id(std::uint64_t id,
                                                       std::string_view field = "algorithm");
std::string_view name(CipheringAlgorithm a) noexcept;  // "128-NEA2", "NEA0"
std::string_view name(IntegrityAlgorithm a) noexcept;  // "128-NIA2", "NIA0"

// The KDF's "algorithm identity" parameter: one octet, identifier in the low nibble (TS 33.501
// A.8).
constexpr std::uint8_t algorithm_identity_octet(CipheringAlgorithm a) {
    return static_cast<std::uint8_t>(a);
}
constexpr std::uint8_t algorithm_identity_octet(IntegrityAlgorithm a) {
    return static_cast<std::uint8_t>(a);
}

// The per-PDU inputs of NEA/NIA (TS 33.501 D.2.1 / D.3.1): COUNT (32 bits), BEARER (5 bits),
// DIRECTION (1 bit). LENGTH travels with the data.
struct SecurityInput {
    std::uint32_t count = 0;
    std::uint8_t bearer = 0;     // 0..31
    std::uint8_t direction = 0;  // 0..1
};

// Errors name "bearer" or "direction" when out of range.
Status validate(const SecurityInput& in);

}  // namespace pc5sec
