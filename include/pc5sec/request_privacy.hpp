/// @file
/// Identity privacy of the PROSE DIRECT LINK ESTABLISHMENT REQUEST on the air, and of the
/// SL-SRB0 messages that answer it before any key exists (conceals_message) (issue 20 item 3;
/// docs/discovery.md, "Request privacy").
///
/// The request names its sender, its target and the relay, and carries the certificates and
/// signatures of step 2; TS 24.554 sends it in clear on SL-SRB0. TS 33.503 A.5 makes a U2N
/// relay's DCR confidential with a keystream from KDF(DUCK, FC 0x88, UTC-based counter, RSC).
/// That keystream depends only on the key, the counter and the RSC, so two requests sent in the
/// same counter period share it, and the XOR of the two ciphertexts is the XOR of the two
/// plaintexts: an observer learns the identities of one from the other. pc5sec adds a fresh
/// nonce, drawn per transmission, as an input:
///
///     KEY    = the 128 LSBs of KDF(DUCK, FC 0xB7, P0 = UTC-based counter (4 octets),
///                                  P1 = RSC (3 octets), P2 = nonce (16 octets))
///     values = 128-NEA(KEY, COUNT = counter, BEARER = 0, DIRECTION = 0) XOR the values of the
///              concealed IEs, in wire order, as one string
///     MIC    = 128-NIA(DUIK, COUNT = counter, BEARER = 0, DIRECTION = 0) over the request as
///              its sender encoded it, then RSC and nonce
///
/// The concealed IEs are every one that names or proves an identity: source and target user
/// info, the relay's user info, Key_Est_Info (certificate, user info ID, signature) and both
/// Authentication_Info containers. Their lengths stay in clear (an observer learns a size, not a
/// name), and so do the IEs a relay or target needs before it has read anything (type, sequence
/// number, capabilities, policy, RSC, relay indication). The request then carries the
/// identity_protection IE (0x5C, TLV, 27 octets): RSC, counter, nonce, MIC. The MIC lets a
/// receiver refuse a request forged or altered by a UE without the RSC's material before it
/// decodes anything, and the counter window (discovery::kMaxOffset) refuses an old one. A UE
/// that holds the material (every UE authorised for the RSC) can read and forge as a sender of
/// that RSC can: the material is a group key, as it is for discovery.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pc5sec/discovery.hpp"
#include "pc5sec/error.hpp"

namespace pc5sec::request_privacy {

inline constexpr std::size_t kNonceSize = 16;
/// The identity_protection IE's value: RSC (3), UTC-based counter (4), nonce (16), MIC (4).
inline constexpr std::size_t kValueSize = 3 + 4 + kNonceSize + 4;
using Nonce = std::array<std::uint8_t, kNonceSize>;

/// The SL-SRB0 messages that are concealed: the establishment request, and the messages that
/// answer it in clear with identities and certificates (solution A's authentication request
/// and response of step 3, solution B's establishment accept). Only the request names the RSC
/// in clear; the others are concealed by a sender whose link has one.
bool conceals_message(codec::MessageType t) noexcept;
/// Whether the IE named `name` (codec::IeLayout::name) of such a message is concealed.
bool conceals(std::string_view name) noexcept;

/// KEY: the 128 LSBs of KDF(DUCK, FC 0xB7, counter, RSC, nonce).
Key128 keystream_key(const Duck& duck, std::uint32_t counter, std::uint32_t rsc,
                     const Nonce& nonce);

/// The request `plain` (codec::encode's octets) for the air: its identities concealed under
/// `rsc`'s material and the identity_protection IE appended. Errors: Errc::invalid_argument
/// when `plain` is no establishment request or already carries the IE; Errc::policy when the
/// material for `rsc` is not held or not valid at `now` (check_valid names the field).
Result<std::vector<std::uint8_t>> conceal(const discovery::Security& security,
                                          std::span<const std::uint8_t> plain, std::uint32_t rsc,
                                          discovery::UtcTime now, const Nonce& nonce);

/// A request as `reveal` found it.
struct Revealed {
    /// The request as its sender encoded it (identity_protection removed). Empty when the
    /// request came in clear: use the octets received.
    std::vector<std::uint8_t> plain;
    bool concealed = false;     ///< it carried identity_protection and was opened
    std::uint32_t rsc = 0;      ///< the RSC it was concealed under (concealed only)
    std::uint32_t counter = 0;  ///< its UTC-based counter (concealed only)
};

/// Opens an establishment request received on SL-SRB0 (any other message comes back as in
/// clear). Errors, each naming "establishment_request.identity_protection": Errc::malformed (its
/// length, or the message's); Errc::policy for a request concealed under an RSC whose material
/// this UE does not hold ("no material"), or for a request in clear that names an RSC whose
/// material it holds (a downgrade); Errc::verification_failed for a MIC that does not verify
/// (forged or altered) or a counter outside the window ("replayed": the message says so).
/// `check_window` false: any counter (a capture reader).
Result<Revealed> reveal(const discovery::Security& security, std::span<const std::uint8_t> air,
                        discovery::UtcTime now, bool check_window = true);

/// Whether `air` is an establishment request carrying identity_protection (no key needed).
bool concealed(std::span<const std::uint8_t> air);

/// The RSC a request names in its relay_service_code IE, if any.
std::optional<std::uint32_t> rsc_named(std::span<const std::uint8_t> request);

/// The reason an engine counts a request `reveal` refused under: malformed; not_for_us (no
/// material for its RSC); replay (outside the window); bad_mac (the MIC, or a downgrade).
pc5::DropReason drop_reason(const Error& e) noexcept;

}  // namespace pc5sec::request_privacy
