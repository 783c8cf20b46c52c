// UE-to-UE relay discovery (seed 000 step 1; seed 001 step 0 "the source has selected a relay"),
// one machinery for both link engines and the UDP driver: U2U RELAY DISCOVERY ANNOUNCEMENT
// (Model A), SOLICITATION and RESPONSE (Model B) on LCID 58, the SCCH of SL-SRB4 (TS 38.321
// Table 6.2.4-1, TS 38.331 5.8.1), in the TS 24.554 11.2.1 layout:
//
//   octet 1        ProSe direct discovery PC5 message type (discovery type, content type, model)
//   octets 2..n    the message-specific part (the codec's fields)
//   octet n+1      UTC-based counter LSB
//   octets n+2..   MIC (4 octets)
//
// Protected as TS 33.503 6.1.3.2 protects UE-to-network relay discovery (restricted discovery of
// TS 33.303 6.1.3.4.3 with TS 33.503's changes): the end UE plays the remote UE and the relay the
// U2N relay, with discovery security material per relay service code (RSC) that the
// provisioning function (the PKMF) writes into each bundle in step 0 (`Material`):
//   1. MIC: 128-NIA under DUIK, COUNT = the UTC-based counter, BEARER 0, DIRECTION 0, over the
//      message type, the message-specific part and the counter LSB (TS 33.503 A.6);
//   2. message-specific confidentiality: 128-NEA under the 128 LSBs of KDF(DUCK, UTC-based
//      counter, MIC), COUNT = the counter, BEARER 0, DIRECTION 0, over the message-specific part
//      (TS 33.503 A.7, TS 33.303 A.6; Encrypted_bits_mask all ones);
//   3. scrambling: XOR (0xFFFF || time-hash-bitsequence) with the first L + 16 bits, where the
//      time-hash-bitsequence is the L LSBs of KDF(DUSK, UTC-based counter with its 4 LSBs set to
//      0) and L = min(message bits - 16, 256) (TS 33.303 A.5 and 6.1.3.4.3.5 step 3 as TS 33.503
//      6.1.3.2 changes them).
// A UE without an RSC's material can neither read nor forge its discovery, and a receiver drops
// a message whose counter lies outside its window (`kMaxOffset`) or that it has already opened
// (a replay inside the window). The FC values of the two KDF calls (TS 33.303 A.5, A.6) were not
// found in the public copies searched: pc5sec uses values of its own (fc:: below), named in one
// place (docs/code-points.md, "FC values").
//
// A UE that holds no material for an RSC sends open discovery (discovery type 01, MIC 0), as the
// first wave did; a UE that holds material for an RSC refuses open discovery for it (a
// downgrade). A relay that lies is refused later too, by solution A's step 3 or solution B's
// signatures in steps 4 and 8.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/discovery_material.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/keys.hpp"
#include "pc5sec/messages.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/pc5.hpp"

namespace pc5sec::discovery {

// Model A: relays announce, a source listens. Model B: a source solicits, relays answer.
enum class Model : std::uint8_t { a, b };
const char* name(Model m) noexcept;  // "A", "B"

// TS 24.554 11.2.1: bits 8-7 of the message type octet.
inline constexpr std::uint8_t kDiscoveryTypeMask = 0xC0;
inline constexpr std::uint8_t kOpen = 0x40;        // 01: open discovery
inline constexpr std::uint8_t kRestricted = 0x80;  // 10: restricted discovery
// The UTC-based counter LSB and the MIC after the message-specific part.
inline constexpr std::size_t kTrailerSize = 5;
// How far a received UTC-based counter may lie from the receiver's own (TS 33.303's
// Max-Offset: the clocks of UEs out of coverage drift). Outside it: dropped.
inline constexpr std::chrono::seconds kMaxOffset{16};

// FC values of the discovery derivations. TS 33.303 A.5 and A.6 define them; their FC values were
// not read (3gpp-facts.md §8), so these are pc5sec's own, written with all the others in
// pc5sec::fc (kdf.hpp).
namespace fc {
inline constexpr std::uint8_t kScrambling = pc5sec::fc::kDiscoveryScrambling;  // TS 33.303 A.5
inline constexpr std::uint8_t kConfidentiality = pc5sec::fc::kDiscoveryConfidentiality;  // A.6
}  // namespace fc

// Whether a discovery PDU's first octet (as on the air) is restricted discovery: the scrambling
// XORs 0xFFFF into the first 16 bits, so the air carries the complement of a restricted type.
bool restricted_on_air(std::uint8_t first_octet) noexcept;

// The UTC-based counter at `t`: seconds since 1970-01-01 UTC, modulo 2^32 (TS 33.303 6.1.3.4.3).
std::uint32_t utc_counter(UtcTime t) noexcept;

// The RSC a discovery message carries (nothing for another message).
std::optional<std::uint32_t> rsc_of(const codec::Message& m);

// Checks a UE's materials: one per RSC, each RSC 24 bits and not 0. Errc::invalid_argument
// naming "discovery_material".
Status check_materials(const std::vector<Material>& materials);

// The drop reason of an `Security::open` error: malformed, replay or bad MIC.
pc5::DropReason drop_reason(const Error& e) noexcept;

// The three derivations, each as the spec gives it (tests recompute them from the spec text).
// The time-hash-bitsequence: the `octets` LSB octets of KDF(DUSK, counter with 4 LSBs 0).
std::vector<std::uint8_t> time_hash_bitsequence(const Dusk& dusk, std::uint32_t counter,
                                                std::size_t octets);
// The message-specific confidentiality KEY: the 128 LSBs of KDF(DUCK, counter, MIC).
Key128 confidentiality_key(const Duck& duck, std::uint32_t counter, const MacI& mic);

// A discovery message opened by `Security::open`.
struct Opened {
    std::vector<std::uint8_t> plain;  // message type (restricted form) and message-specific part
    std::uint32_t rsc = 0;            // the relay service code the message carries
    bool restricted = false;          // protected under this UE's material for `rsc`
    std::uint32_t counter = 0;        // the UTC-based counter (restricted: verified)
    // The message (its octet strings are views into `plain`).
    Result<codec::Message> message() const;
};

// What a UE holds for discovery: its material per RSC, and the counters and MICs it has opened
// (a bounded replay cache). One per UE.
class Security {
  public:
    Security() = default;
    explicit Security(std::vector<Material> material);

    // The material for `rsc`, or nullptr.
    const Material* material(std::uint32_t rsc) const noexcept;
    const std::vector<Material>& materials() const noexcept { return material_; }
    // Whether `rsc`'s material (if held) may be used at `now`: Errc::policy naming
    // "discovery material for RSC 0x...: valid_until" (or valid_from). OK without material.
    Status check_valid(std::uint32_t rsc, UtcTime now) const;

    // The PDU of `m` for the air: restricted and protected under `rsc`'s material if held (and
    // valid), open otherwise.
    Result<std::vector<std::uint8_t>> seal(const codec::Message& m, std::uint32_t rsc,
                                           UtcTime now) const;
    // Opens a received PDU: restricted under one of the materials held, or open for an RSC this
    // UE holds no material for. Errors (Errc::malformed, verification_failed, policy) say why:
    // malformed, no material opens it (forged, another RSC's, or outside the counter window),
    // replayed, material expired, or open discovery for an RSC with material (a downgrade).
    // `drop_replays` false: a replay inside the window opens as well (a capture reader).
    Result<Opened> open(std::span<const std::uint8_t> pdu, UtcTime now, bool drop_replays = true);

  private:
    Result<Opened> open_restricted(std::span<const std::uint8_t> pdu, UtcTime now,
                                   bool drop_replays);
    std::vector<Material> material_;
    struct Seen {
        std::uint32_t counter;
        MacI mic;
    };
    std::deque<Seen> seen_;  // opened restricted messages inside the window
};

// The key log (pc5sec/keylog.hpp) carries discovery material so that a tester can read
// restricted discovery in a capture: DUSK, DUIK and DUCK (hex) and DISCOVERY_ALGS ("<nea> <nia>")
// under the link id "rsc-0x<6 hex digits>". Validity is not logged: a capture reader uses the
// material at any time.
void log_material(pc5::KeyLogSink& sink, const Material& m);
// The materials of a key log's DUSK / DUIK / DUCK / DISCOVERY_ALGS records (other labels are
// ignored). Errors (Errc::malformed) name the record, never a key's value.
Result<std::vector<Material>> materials_from_key_log(std::span<const pc5::KeyLogRecord> records);

// A frame of discovery message `m` (for `rsc`) from `self` to `dst`, sealed by `security`.
Result<pc5::Frame> frame(const Security& security, UtcTime now, pc5::L2Id self, pc5::L2Id dst,
                         std::uint32_t rsc, const codec::Message& m);

// The source's solicitation for `rsc`, naming itself and the target, to the broadcast ID.
Result<pc5::Frame> solicitation(const Security& security, UtcTime now, pc5::L2Id self,
                                std::uint32_t rsc, std::string_view discoverer,
                                std::string_view target);

// A relay's announcement of `rsc` (Model A), to the broadcast ID.
Result<pc5::Frame> announcement(const Security& security, UtcTime now, pc5::L2Id self,
                                std::uint32_t rsc, std::string_view relay);

// A relay's answer to the opened solicitation `in` from `from`, or nothing: only for an RSC it
// `serves`, naming no target or a target in its `directory` (TS 23.304 Model B).
std::optional<Result<pc5::Frame>> answer(const Security& security, UtcTime now,
                                         const codec::Message& in, pc5::L2Id from, pc5::L2Id self,
                                         std::string_view relay,
                                         const std::function<bool(std::uint32_t)>& serves,
                                         const std::map<std::string, pc5::L2Id>& directory);

// How many solicitations a relay answers: at most `per_second` in each one-second window (issue
// 17: a flood of solicitations draws a bounded number of answers). One per relay.
class AnswerBudget {
  public:
    // Whether one more answer fits in the window that holds `now` (and counts it if so).
    bool take(pc5::Time now, unsigned per_second) noexcept {
        if (now >= window_end_) {
            window_end_ = now + std::chrono::seconds(1);
            used_ = 0;
        }
        if (used_ >= per_second) return false;
        ++used_;
        return true;
    }

  private:
    pc5::Time window_end_{};
    unsigned used_ = 0;
};

// A relay heard: from its announcement (Model A) or its response (Model B).
struct RelayHeard {
    std::uint32_t rsc = 0;
    std::string relay;  // its User Info ID, as it claims
    pc5::L2Id l2 = 0;   // where the frame came from
};
std::optional<RelayHeard> relay_heard(const codec::Message& m, pc5::L2Id from);

}  // namespace pc5sec::discovery
