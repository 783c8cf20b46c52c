// PDCP-style protection of PC5 PDUs (TS 38.323 on the sidelink, 3gpp-facts §4) as pc5sec frames
// it, shared by the signalling of both solutions and by the user plane:
//
//   octet 1-2   KNRP-sess ID (16 bits, big-endian; 0 = no security)   3gpp-facts §4
//   octet 3-4   R R R R | SN (12 bits)                                 TS 38.323 6.2.2 (SRB)
//   octet 5..   payload   -- ciphered when ciphering is on
//   last 4      MAC-I     -- ciphered with the payload (TS 38.323 5.8/5.9: integrity first,
//                            over header and payload; then ciphering of payload and MAC-I)
//
// COUNT = HFN || SN; the receiver estimates HFN from RX_DELIV as TS 38.323 5.2.2.2 does, and
// keeps a replay window below the highest COUNT received. The MAC-I is always present: with
// NIA0 it is 32 zero bits and carries no replay protection (TS 33.501 D.1). The security
// inputs: KEY = NRPEK/NRPIK, BEARER = the 5 LSBs of the LCID (or the end-to-end bearer of a
// layer-2 relay), DIRECTION = 0 for PDUs sent by the link's initiator, 1 for its peer
// (3gpp-facts §4, provisional).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "pc5sec/count_window.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/keys.hpp"
#include "pc5sec/nea_nia.hpp"

namespace pc5sec::pc5 {
enum class DropReason : std::uint8_t;  // pc5sec/pc5.hpp
}

namespace pc5sec::pdcp {

inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::size_t kMacSize = 4;
inline constexpr std::size_t kOverhead = kHeaderSize + kMacSize;
inline constexpr unsigned kSnBits = 12;
inline constexpr std::uint32_t kSnModulus = 1u << kSnBits;
inline constexpr std::uint32_t kWindowSize = kSnModulus / 2;  // TS 38.323 Window_Size
inline constexpr std::uint32_t kReplayWindow = 64;            // COUNTs remembered below the top

struct Header {
    KnrpSessId knrp_sess_id;
    std::uint16_t sn = 0;  // 12 bits
};
// Errc::malformed naming "pdcp.header" (too short) or "pdcp.reserved" (R bits set).
Result<Header> peek_header(std::span<const std::uint8_t> pdu);

// Which COUNTs a PC5-S receiver has seen: kReplayWindow COUNTs below the highest
// (count_window.hpp, shared with the user plane).
using ReplayWindow = BasicReplayWindow<kReplayWindow>;

// The COUNT a received 12-bit SN stands for, given RX_DELIV (TS 38.323 5.2.2.2).
constexpr std::uint32_t receive_count(std::uint32_t rx_deliv, std::uint16_t sn) noexcept {
    return receive_count(rx_deliv, sn, kSnBits);
}

// Why unprotect refused a PDU, typed (the Error says it for a person, naming the field).
enum class Rejection : std::uint8_t {
    none,       // it opened
    malformed,  // "pdcp.header": too short, or reserved bits set
    other_key,  // "pdcp.knrp_sess_id": not this context's KNRP-sess ID
    replay,     // "pdcp.count": its COUNT was received already
    too_old,    // "pdcp.count": its COUNT is below the window (refused as a replay)
    bad_mac,    // "MAC-I": integrity failed (cause #7)
    other,      // the crypto library failed
};
const char* name(Rejection r) noexcept;
// The reason an engine reports for a PDU refused so (replay and too_old: replay; bad_mac;
// other_key: unknown_session; the rest: malformed).
pc5::DropReason drop_reason(Rejection r) noexcept;

// One direction pair of one security context: the keys of one KNRP-sess ID, the algorithms,
// TX_NEXT and the receiver's state. Move-only; the key schedules wipe themselves.
class SecurityContext {
  public:
    // `initiator`: this end sent the link's establishment request (DIRECTION 0 when sending).
    // With NIA0 and NEA0 there are no keys (pass nullptr).
    static Result<SecurityContext> create(KnrpSessId id, CipheringAlgorithm ciphering,
                                          IntegrityAlgorithm integrity, const Nrpek* nrpek,
                                          const Nrpik* nrpik, bool initiator);

    KnrpSessId id() const noexcept { return id_; }
    CipheringAlgorithm ciphering() const noexcept { return ciphering_alg_; }
    IntegrityAlgorithm integrity() const noexcept { return integrity_alg_; }
    std::uint32_t tx_next() const noexcept { return tx_next_; }

    // Frames `payload` for `bearer` (5 bits). `cipher` = false leaves the payload in clear (the
    // PDU of the Direct Security Mode Command, 3gpp-facts §4). Errc::state (naming
    // "pdcp.count") when COUNT would wrap: the link must re-key first.
    Result<std::vector<std::uint8_t>> protect(std::uint8_t bearer,
                                              std::span<const std::uint8_t> payload,
                                              bool cipher = true);
    // Checks and opens a PDU. Errors: "pdcp.header", "pdcp.knrp_sess_id" (not this context),
    // "pdcp.count" (replay: Errc::verification_failed), "MAC-I" (Errc::verification_failed, cause
    // #7); last_rejection() says which, typed. On any error the receiver's state is unchanged.
    Result<std::vector<std::uint8_t>> unprotect(std::uint8_t bearer,
                                                std::span<const std::uint8_t> pdu,
                                                bool cipher = true);
    // Why the last unprotect refused its PDU (Rejection::none if it opened).
    Rejection last_rejection() const noexcept { return rejection_; }

  private:
    SecurityContext() = default;
    KnrpSessId id_;
    CipheringAlgorithm ciphering_alg_ = CipheringAlgorithm::nea0;
    IntegrityAlgorithm integrity_alg_ = IntegrityAlgorithm::nia0;
    std::optional<CipheringContext> cipher_;
    std::optional<IntegrityContext> integrity_;
    bool initiator_ = false;
    std::uint32_t tx_next_ = 0;
    std::uint32_t rx_deliv_ = 0;
    ReplayWindow window_;
    Rejection rejection_ = Rejection::none;
};

}  // namespace pc5sec::pdcp
