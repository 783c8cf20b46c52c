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

/// Every FC value pc5sec derives with, in ONE place (docs/code-points.md lists them, built from
/// this namespace). 0x7E and 0x7F are TS 33.536's (3gpp-facts.md §1, confirmed). The rest are
/// pc5sec's own and provisional, outside every allocation found: TS 33.501 0x69-0x79,
/// 0x7B-0x7D, 0x83-0x84; TS 33.536 0x7E-0x7F; TS 33.503 0x88, 0x8A; TS 33.533 0x8C-0x8E
/// (3gpp-facts.md §8). CodePoints.FcValuesAreDistinct checks that no two uses share one.
namespace fc {
inline constexpr std::uint8_t kKnrpSess = 0x7F;    ///< KNRP-sess derivation, TS 33.536 A.2
inline constexpr std::uint8_t kNrpekNrpik = 0x7E;  ///< NRPEK/NRPIK derivation, TS 33.536 A.3
/// Solution A: KNRP from the certificate-signed ephemeral ECDH (TS 33.536 leaves it to the method).
inline constexpr std::uint8_t kKnrpCertificate = 0xA0;
inline constexpr std::uint8_t kKnrpPsk = 0xA1;  ///< Solution A: KNRP from a group key (PSK method)
inline constexpr std::uint8_t kKd =
    0xB0;  ///< Solution B hardened: KD from static and ephemeral ECDH
inline constexpr std::uint8_t kKdSess =
    0xB1;  ///< Solution B: KD-sess from KD and the freshness values
inline constexpr std::uint8_t kKdSessRekey = 0xB2;  ///< Solution B re-keying: KD-sess' from KD
inline constexpr std::uint8_t kKdHop =
    0xB3;  ///< Solution B layer-3 path: a hop's key (ephemeral ECDH)
inline constexpr std::uint8_t kRelayHopKey =
    0xB4;  ///< Solution B layer-3 path: the relay's ephemeral key
/// Discovery: the time-hash-bitsequence from DUSK (TS 33.303 A.5; its 3GPP FC was not read).
inline constexpr std::uint8_t kDiscoveryScrambling = 0xB5;
/// Discovery: the message-specific confidentiality KEY from DUCK (TS 33.303 A.6; FC not read).
inline constexpr std::uint8_t kDiscoveryConfidentiality = 0xB6;
/// The establishment request's identity keystream: DUCK, UTC-based counter, RSC and a fresh
/// per-request nonce (TS 33.503 A.5 with the fresh input). pc5sec/request_privacy.hpp.
inline constexpr std::uint8_t kRequestPrivacy = 0xB7;
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
