// Deciphering a capture with the key log alone (docs/pcap-format.md "Data PDUs and deciphering
// with the key log"): what a tester with Wireshark and the key log can check independently of
// the UEs that made the capture. Only the key log (include/pc5sec/keylog.hpp) and the NEA/NIA
// primitives (include/pc5sec/nea_nia.hpp) are used: no engine, no user-plane state, no PDCP
// context of pc5sec's own. `pc5sec decode --pcap F --keylog K` prints what this returns.
//
// For each frame flagged pcap::kFlagOnAir:
//   - LCID 4..19: a data PDU (docs/userplane.md), BEARER = the LCID;
//   - LCID 55: an SRAP header (include/pc5sec/srap.hpp), then by its bearer ID: 0 an SL-SRB0
//     PC5-S message in clear, 1..2 a PDCP-protected PC5-S PDU (include/pc5sec/pdcp.hpp), 3 PC5-RRC,
//     4..31 a data PDU; BEARER = the SRAP bearer ID (3gpp-facts §4). Solution B's end-to-end PC5-S
//     is behind an SRAP header like solution A's (LCID 55, BEARER 2);
//   - LCID 1 / 2: a PDCP-protected PC5-S PDU, BEARER = the LCID;
//   - LCID 0: a PC5-S message in clear;
//   - LCID 58: a discovery message (pc5sec/discovery.hpp): open discovery is read as it is;
//     restricted discovery is descrambled, deciphered and its MIC checked with the RSC's
//     material from the key log (DUSK, DUIK, DUCK, DISCOVERY_ALGS), at the frame's time;
//   - anything else: not deciphered.
// A data PDU that opens to an IPv6/UDP packet for port 5086 (solution B through a layer-3 relay)
// has the end-to-end data PDU inside it opened too (DecipheredFrame::carried).
// The keys come from the key log by the PDU's KNRP-sess ID. COUNT = HFN || SN is estimated as a
// receiver does (TS 38.323 5.2.2.2), from the highest COUNT opened so far per (key, bearer,
// direction). DIRECTION is the frame header's when it gives one (version 2: every frame its
// sender knew the link of); otherwise the one of 0 / 1 whose MAC-I verifies; without a MAC-I to
// tell (NIA0, KNRP-sess ID 0) it is inferred from which UE sent the frame (other frames'
// direction), or reported undecidable with both decipherings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/srap.hpp"

namespace pc5sec::trace {

enum class PduKind : std::uint8_t {
    plaintext,   // no kFlagOnAir: a PC5-S message before protection (decoded as it is)
    data,        // a data PDU (LCID 4..19, or LCID 55 with an SRAP data bearer 4..31)
    pc5s,        // a PDCP-protected PC5-S PDU
    pc5s_clear,  // a PC5-S message in clear on the air (SRAP SL-SRB0, LCID 0 or 63): `message`
    other,       // PC5-RRC (LCID 3, SRAP bearer 3) or an LCID pc5sec does not use
};
const char* name(PduKind k) noexcept;  // "plaintext", "data", "pc5s", "pc5s_clear", "other"

enum class Verdict : std::uint8_t {
    none,       // nothing to decipher (plaintext, pc5s_clear, other)
    opened,     // deciphered: each Opening's `mac` says how far that is checked
    mac_bad,    // keys match the KNRP-sess ID but no DIRECTION / COUNT makes the MAC-I verify
    no_key,     // the KNRP-sess ID is in no usable key set of the key log
    malformed,  // `error` names the field (srap.*, data.*, pdcp.*)
};
const char* name(Verdict v) noexcept;  // "none", "opened", "mac_bad", "no_key", "malformed"

enum class MacCheck : std::uint8_t {
    ok,    // the MAC-I verified (TS 33.536 5.3.3.1.4)
    bad,   // it did not
    none,  // no MAC-I: a data PDU of a NIA0 link or with KNRP-sess ID 0 (docs/userplane.md)
    zero,  // PC5-S under NIA0: the MAC-I is 32 zero bits, and it was (TS 33.501 D.1)
};
const char* name(MacCheck m) noexcept;  // "ok", "bad", "none", "zero"

// How DIRECTION was chosen.
enum class DirectionFrom : std::uint8_t {
    header,       // the frame header's (version 2: the sender wrote its DIRECTION)
    mac,          // the only DIRECTION under which the MAC-I verified (or deciphered to zero)
    sender,       // no MAC-I to tell: from which UE sent the frame
    undecidable,  // neither: both decipherings are given (DIRECTION 0, then 1)
};
const char* name(DirectionFrom d) noexcept;  // "header", "mac-i", "sender", "undecidable"

// One deciphering of a PDU.
struct Opening {
    std::string link_id;  // the key set's link; "" for KNRP-sess ID 0 (no security)
    CipheringAlgorithm ciphering = CipheringAlgorithm::nea0;
    IntegrityAlgorithm integrity = IntegrityAlgorithm::nia0;
    std::uint32_t count = 0;
    std::uint8_t direction = 0;
    bool deciphered = false;  // NEA was applied (not for NEA0, ID 0, the security mode command)
    MacCheck mac = MacCheck::none;
    // The MAC-I verified under a COUNT that an earlier frame between the same two L2 IDs on the
    // same key set, bearer and DIRECTION verified under: a replay (or a duplicate on the air),
    // which a receiver discards (TS 38.323 5.2.2.2). A relay's forwarded copy has other L2 IDs.
    bool replayed = false;
    std::vector<std::uint8_t> payload;  // deciphered, without the MAC-I
};

// What a discovery frame (LCID 58) showed.
struct DiscoveryFrame {
    bool restricted = false;    // discovery type 10: scrambled, ciphered and MIC-protected
    bool opened = false;        // the message is readable (`DecipheredFrame::message`)
    std::uint32_t rsc = 0;      // opened: the RSC it carries (restricted: the material's)
    std::uint32_t counter = 0;  // restricted and opened: the UTC-based counter
    std::uint8_t counter_lsb = 0;
    std::array<std::uint8_t, 4> mic{};
    bool replayed = false;  // restricted: the same counter and MIC opened before in the capture
    std::string why;        // not opened: why (no material in the key log, MIC, window)
};

struct DecipheredFrame {
    std::size_t index = 0;  // 1-based, as `pc5sec decode --pcap` numbers frames
    PduKind kind = PduKind::plaintext;
    Verdict verdict = Verdict::none;
    std::optional<Error> error;  // malformed: the field and why
    std::optional<srap::Header> srap;
    bool srap_dc = false;  // the SRAP header's D/C bit (when `srap`)
    std::uint16_t knrp_sess_id = 0;
    bool dc = false;                          // data: the D/C bit (1 = data)
    std::uint32_t sn = 0;                     // 18 bits (data) or 12 bits (PC5-S)
    std::uint8_t bearer = 0;                  // the BEARER input (3gpp-facts §4)
    std::vector<std::uint8_t> body;           // after the headers, as on the air: payload and MAC-I
    std::vector<std::uint8_t> message;        // pc5s_clear: the PC5-S (or opened discovery) message
    std::optional<DiscoveryFrame> discovery;  // LCID 58 on the air
    // SL-SRB0: an establishment request whose identities were concealed on the air
    // (pc5sec/request_privacy.hpp). Opened with the key log's material: `message` is the request
    // as its sender encoded it; otherwise the verdict says why (no_key, mac_bad) and
    // `concealed_why` in words.
    bool concealed = false;
    std::string concealed_why;
    DirectionFrom direction_from = DirectionFrom::mac;
    std::vector<Opening> openings;  // opened / mac_bad: one, or two when DIRECTION is undecidable
    // Solution B through a layer-3 relay (docs/solution-b.md): a hop's data PDU opened to an
    // IPv6/UDP packet for port userplane::kL3ProtectedPort carries an end-to-end data PDU under
    // keys from KD, opened here with its own key set (the same BEARER). Empty otherwise.
    std::vector<DecipheredFrame> carried;
};

// Deciphers every on-air frame of `frames` with the keys of `keylog` (pc5::parse_key_log's
// records: KNRP_SESS_ID, ALGS, NRPEK, NRPIK per link; other labels are ignored). Returns one
// entry per frame, in order. Errors only for a bad key log: Errc::malformed naming the record
// ("key log NRPEK alice>bob#00000001"); a key's value is never in a message. Hostile frames
// (truncated, wrong lengths) never fail the call: they come back as Verdict::malformed.
Result<std::vector<DecipheredFrame>> decipher_capture(std::span<const pcap::Frame> frames,
                                                      std::span<const pc5::KeyLogRecord> keylog);

// The same, one frame at a time, in capture order (what a dissector that sees frames one by one
// needs, such as the Wireshark plugin): frame() numbers them 1, 2, ... as decipher_capture does.
class CaptureDecipherer {
  public:
    // Errors as decipher_capture's for a bad key log.
    static Result<CaptureDecipherer> create(std::span<const pc5::KeyLogRecord> keylog);
    CaptureDecipherer(CaptureDecipherer&&) noexcept;
    CaptureDecipherer& operator=(CaptureDecipherer&&) noexcept;
    ~CaptureDecipherer();
    DecipheredFrame frame(const pcap::Frame& f);

  private:
    struct Impl;
    explicit CaptureDecipherer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pc5sec::trace

namespace pc5sec::trace {

// What an eavesdropper without keys or discovery material learns from a capture (issue 20
// item 3, "who talks to whom"): every identity it reads in clear, with where it read it, and
// how long each L2 ID lives on the air. `pc5sec decode --pcap F --observer` prints it.
struct ObservedIdentity {
    std::string identity;  // the user info (UTF-8 as sent; escape it before showing it)
    std::string field;     // "establishment_request.source_user_info", ...
    std::size_t first_frame = 0;
    std::size_t frames = 0;  // how many frames showed it in this field
};
struct ObservedL2Id {
    std::uint32_t l2_id = 0;
    std::uint64_t first_us = 0, last_us = 0;  // first and last frame it sent
    std::size_t frames = 0;                   // frames it sent
};
struct Observation {
    std::vector<ObservedIdentity> identities;  // in order of first appearance
    std::size_t certificates_in_clear = 0;     // DER certificates an observer can read
    std::vector<ObservedL2Id> l2_ids;          // senders, by L2 ID
    std::size_t discovery_frames = 0, discovery_readable = 0;  // LCID 58, and open among them
    // Establishment requests on SL-SRB0, and those whose identities were concealed
    // (pc5sec/request_privacy.hpp): unreadable without the RSC's material.
    std::size_t requests = 0, requests_concealed = 0;
    // SL-SRB0 messages with their identities concealed, requests and answers
    // (request_privacy::conceals_message).
    std::size_t concealed = 0;
    std::size_t frames = 0;
};
Observation observe_capture(std::span<const pcap::Frame> frames);

}  // namespace pc5sec::trace
