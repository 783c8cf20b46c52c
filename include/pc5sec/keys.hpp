/// @file
/// The PC5 unicast key hierarchy (TS 33.536 Annex A, reused by TS 33.503) and pc5sec's
/// solution-B keys, each a distinct type so that one can never be passed as another.
#pragma once

#include <array>
#include <cstdint>

#include "pc5sec/secret.hpp"

namespace pc5sec {

/// The tags that make each key a distinct SecretKey type; `kName` names the key in errors.
namespace tags {
/// The tag of pc5sec::Knrp.
struct Knrp {
    static constexpr const char* kName = "KNRP";  ///< the key's name
};
/// The tag of pc5sec::KnrpSess.
struct KnrpSess {
    static constexpr const char* kName = "KNRP-sess";  ///< the key's name
};
/// The tag of pc5sec::Nrpek.
struct Nrpek {
    static constexpr const char* kName = "NRPEK";  ///< the key's name
};
/// The tag of pc5sec::Nrpik.
struct Nrpik {
    static constexpr const char* kName = "NRPIK";  ///< the key's name
};
/// The tag of pc5sec::Kd.
struct Kd {
    static constexpr const char* kName = "KD";  ///< the key's name
};
/// The tag of pc5sec::KdSess.
struct KdSess {
    static constexpr const char* kName = "KD-sess";  ///< the key's name
};
/// The tag of pc5sec::SharedSecret.
struct SharedSecret {
    static constexpr const char* kName = "shared secret";  ///< the key's name
};
/// The tag of pc5sec::Key128.
struct Key128 {
    static constexpr const char* kName = "KEY";  ///< the key's name
};
/// The tag of pc5sec::KdfOutput.
struct KdfOutput {
    static constexpr const char* kName = "KDF output";  ///< the key's name
};
/// The tag of pc5sec::Dusk.
struct Dusk {
    static constexpr const char* kName = "DUSK";  ///< the key's name
};
/// The tag of pc5sec::Duik.
struct Duik {
    static constexpr const char* kName = "DUIK";  ///< the key's name
};
/// The tag of pc5sec::Duck.
struct Duck {
    static constexpr const char* kName = "DUCK";  ///< the key's name
};
}  // namespace tags

using Knrp = SecretKey<32, tags::Knrp>;          ///< 256-bit long-term PC5 root key
using KnrpSess = SecretKey<32, tags::KnrpSess>;  ///< 256-bit session key
using Nrpek = SecretKey<16, tags::Nrpek>;        ///< 128-bit ciphering key
using Nrpik = SecretKey<16, tags::Nrpik>;        ///< 128-bit integrity key
using Kd = SecretKey<32, tags::Kd>;              ///< solution B (seed 001) source-target key
using KdSess = SecretKey<32, tags::KdSess>;      ///< solution B session key (pc5sec's own FC)
using SharedSecret = SecretKey<32, tags::SharedSecret>;  ///< raw (EC)DH output
using Key128 = SecretKey<16, tags::Key128>;              ///< a 128-bit KEY input of NEA/NIA
using KdfOutput = SecretKey<32, tags::KdfOutput>;        ///< the 256-bit output of kdf()
/// Discovery keys per relay service code (TS 33.303 6.1.3.4.3, reused by TS 33.503 6.1.3.2):
using Dusk = SecretKey<32, tags::Dusk>;  ///< discovery user scrambling key (KDF input)
using Duik = SecretKey<16, tags::Duik>;  ///< discovery user integrity key (the NIA KEY)
using Duck = SecretKey<32, tags::Duck>;  ///< discovery user confidentiality key (KDF input)

/// Nonce_1 / Nonce_2 are 128 bits and sent in clear (TS 33.536 5.3.3.1.2); not secret.
using Nonce = std::array<std::uint8_t, 16>;

/// KNRP-sess ID (16 bits): MSB chosen by the initiating UE, LSB by the peer (3gpp-facts §2).
struct KnrpSessId {
    std::uint16_t value = 0;  ///< 0 means "no security" in the PDCP header
    /// The ID of MSB `msb` and LSB `lsb`.
    static constexpr KnrpSessId from_parts(std::uint8_t msb, std::uint8_t lsb) {
        return KnrpSessId{static_cast<std::uint16_t>(msb << 8 | lsb)};
    }
    /// The MSB, chosen by the initiating UE.
    constexpr std::uint8_t msb() const { return static_cast<std::uint8_t>(value >> 8); }
    /// The LSB, chosen by the peer.
    constexpr std::uint8_t lsb() const { return static_cast<std::uint8_t>(value & 0xff); }
    /// Equal values.
    friend constexpr bool operator==(KnrpSessId, KnrpSessId) = default;
};

/// KNRP ID (32 bits): MSB half chosen by the peer UE (Direct Security Mode Command), LSB half by
/// the initiating UE (Direct Security Mode Complete) — seed 000 steps 4-5. The 16/16 split is
/// provisional (3gpp-facts §2).
struct KnrpId {
    std::uint32_t value = 0;  ///< the 32-bit ID
    /// The ID of MSB half `msb` and LSB half `lsb`.
    static constexpr KnrpId from_parts(std::uint16_t msb, std::uint16_t lsb) {
        return KnrpId{static_cast<std::uint32_t>(msb) << 16 | lsb};
    }
    /// The MSB half, chosen by the peer UE (Direct Security Mode Command).
    constexpr std::uint16_t msb() const { return static_cast<std::uint16_t>(value >> 16); }
    /// The LSB half, chosen by the initiating UE (Direct Security Mode Complete).
    constexpr std::uint16_t lsb() const { return static_cast<std::uint16_t>(value & 0xffff); }
    /// Equal values.
    friend constexpr bool operator==(KnrpId, KnrpId) = default;
};

}  // namespace pc5sec
