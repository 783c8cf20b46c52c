/// @file
/// The generic 3GPP KDF (TS 33.220 Annex B.2) and the PC5 key hierarchy (TS 33.536 Annex A).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/keys.hpp"

namespace pc5sec {

/// Thrown only when OpenSSL itself fails (out of memory); never for bad input.
class CryptoLibraryError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The generic 3GPP KDF: S = FC || P0 || L0 || P1 || L1 ...; output = HMAC-SHA-256(key, S)
/// (TS 33.220 B.2.0). Each Pi may be at most 65535 octets (Li is two octets).
KdfOutput kdf(std::span<const std::uint8_t> key, std::uint8_t fc,
              std::initializer_list<std::span<const std::uint8_t>> params);

/// FC values. Source: 3gpp-facts.md §1 (confirmed), TS 33.536 A.2-A.3. pc5sec's own values for
/// solution B are in sigauth and marked there.
namespace fc {
inline constexpr std::uint8_t kKnrpSess = 0x7F;    ///< KNRP-sess derivation, TS 33.536 A.2
inline constexpr std::uint8_t kNrpekNrpik = 0x7E;  ///< NRPEK/NRPIK derivation, TS 33.536 A.3
}  // namespace fc

/// Algorithm type distinguisher of the NRPEK derivation (TS 33.536 A.3, P0).
inline constexpr std::uint8_t kNrpekDistinguisher = 0x00;
/// Algorithm type distinguisher of the NRPIK derivation (TS 33.536 A.3, P0).
inline constexpr std::uint8_t kNrpikDistinguisher = 0x01;

/// KNRP-sess from KNRP and the two nonces (TS 33.536 A.2).
KnrpSess derive_knrp_sess(const Knrp& knrp, const Nonce& nonce_1, const Nonce& nonce_2);
/// NRPEK for `alg` (TS 33.536 A.3): the 128 LSBs of the output.
Nrpek derive_nrpek(const KnrpSess& knrp_sess, CipheringAlgorithm alg);
/// NRPIK for `alg` (TS 33.536 A.3): the 128 LSBs of the output.
Nrpik derive_nrpik(const KnrpSess& knrp_sess, IntegrityAlgorithm alg);

}  // namespace pc5sec
