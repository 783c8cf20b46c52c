// What every sans-I/O PC5 engine shares (design.md "one engine, many drivers"): the frame a UE
// sends or receives on the sidelink, the time the driver passes in, the events an engine
// reports, its counters, and the Endpoint interface that the simulator, the UDP daemon, the
// tests and the benchmarks drive. Solution A (link/) and solution B (sigauth/) both implement it.
//
// An engine never reads a clock, a socket or a file. The driver:
//   1. calls receive(frame, now) for each frame addressed to the UE, and handle_timeout(now)
//      when now >= next_timeout();
//   2. drains poll_transmit() and sends each frame;
//   3. drains poll_event().
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/code_points.hpp"
#include "pc5sec/keys.hpp"

namespace pc5sec::pc5 {

// The driver's monotonic time since its own epoch (virtual in the simulator).
using Time = std::chrono::nanoseconds;
inline constexpr Time kNever = Time::max();

// A sidelink layer-2 ID (24 bits, TS 23.304 5.8.2).
using L2Id = std::uint32_t;
inline constexpr L2Id kMaxL2Id = 0xFFFFFF;
// The layer-2 destination of one-to-many discovery messages (pc5sec's own broadcast value).
inline constexpr L2Id kBroadcastL2Id = 0xFFFFFF;

// Sidelink logical channels (TS 38.321 Table 6.2.4-1; 3gpp-facts §4, confirmed).
namespace lcid {
inline constexpr std::uint8_t kSrb0 = 0;       // PC5-S not protected (establishment request)
inline constexpr std::uint8_t kSrb1 = 1;       // Direct Security Mode Command / Complete
inline constexpr std::uint8_t kSrb2 = 2;       // other protected PC5-S
inline constexpr std::uint8_t kSrb3 = 3;       // PC5-RRC
inline constexpr std::uint8_t kFirstData = 4;  // data: 4..19
inline constexpr std::uint8_t kLastData = 19;
inline constexpr std::uint8_t kEndToEnd = 55;   // end-to-end SL-SRB0..3 through a layer-2 relay
inline constexpr std::uint8_t kDiscovery = 58;  // SCCH of SL-SRB4: sidelink discovery messages
                                                // (TS 38.331 5.8.1; pc5sec/discovery.hpp)
}  // namespace lcid

// What a driver may know about a frame it sends beyond its bytes (docs/pcap-format.md): the link
// it belongs to, its DIRECTION and protection, and (PC5-S) the message before PDCP protection.
// An engine or user plane attaches it only when its Config asks for it (`capture = true`). A
// capture writes Frame::pdu, what went on the air, with the link, DIRECTION and flags from here;
// the plaintext `message` serves in-process views only (sequence diagrams, an attacker holding a
// compromised UE's keys) and is never written to a capture.
struct FrameCapture {
    std::string link_id;                // "" for discovery and other frames of no link
    bool from_initiator = true;         // DIRECTION 0 (3gpp-facts §4)
    bool integrity = false;             // the PDU carries a MAC-I
    bool ciphered = false;              // the PDU's message is ciphered
    bool via_relay = false;             // a hop or end-to-end link of a relayed path
    std::vector<std::uint8_t> message;  // PC5-S: the message as codec::encode made it; data: empty
};

// One transmission on the sidelink, from `src` to `dst`.
struct Frame {
    L2Id src = 0;
    L2Id dst = 0;
    std::uint8_t lcid = 0;
    std::vector<std::uint8_t> pdu;
    std::shared_ptr<const FrameCapture> capture = nullptr;  // only with Config::capture
};

enum class Solution : std::uint8_t { a, b_literal, b_hardened };
const char* name(Solution s) noexcept;  // "A", "B-literal", "B-hardened"

// How the source reaches the target: directly, or through a UE-to-UE relay of layer 2 or 3.
enum class Path : std::uint8_t { direct, l2, l3 };

// What a UE is in the protocol, the one role enum of both engines (link::UeRole,
// sigauth::Role): an end UE (the source of some links, the target of others) or a UE-to-UE
// relay. Not creds::Role (what a certificate allows), nor net::UeRole (what one pc5sec ue
// process does: source, relay or target).
enum class UeRole : std::uint8_t { end_ue, relay };
const char* name(Path p) noexcept;  // "direct", "l2", "l3"

// A per-hop link (UE to relay, or a direct link) or an end-to-end link (source to target
// through a relay). As in the JSON metrics.
enum class LinkKind : std::uint8_t { hop, e2e };
const char* name(LinkKind k) noexcept;  // "hop", "e2e"

// Link id: "<initiator>><peer>#<8 hex digits>" (no spaces), identical at both ends. It keys
// the key log and the JSON metrics.
std::string make_link_id(std::string_view initiator, std::string_view peer, std::uint32_t tag);

// Crypto operations an engine has performed (for metrics and the benchmarks' crypto floor).
struct CryptoOps {
    std::uint64_t sign = 0;
    std::uint64_t verify = 0;       // signature verifications, certificates excluded
    std::uint64_t cert_verify = 0;  // certificate chain checks (cache hits excluded)
    std::uint64_t key_agreement = 0;
    std::uint64_t keygen = 0;  // ephemeral key pairs
    std::uint64_t kdf = 0;
    CryptoOps& operator+=(const CryptoOps& o);
    friend bool operator==(const CryptoOps&, const CryptoOps&) = default;
};

// Why an engine dropped a received PDU without acting on it.
enum class DropReason : std::uint8_t {
    malformed,        // the codec refused it
    bad_mac,          // MAC-I did not verify (TS 33.536 5.3.3.1.4)
    replay,           // COUNT already seen or below the replay window
    unknown_session,  // KNRP-sess ID names no current or recent key
    unexpected,       // not expected in this state (transitions table)
    not_for_us,       // a relay frame for a UE we do not know
    duplicate,        // same sequence number as the last one (retransmission)
};
const char* name(DropReason r) noexcept;
inline constexpr std::size_t kDropReasons = 7;

struct Counters {
    std::map<codec::MessageType, std::uint64_t> sent_messages, received_messages;
    std::map<codec::MessageType, std::uint64_t> sent_bytes;  // PDU bytes on air, headers included
    std::uint64_t frames_sent = 0, frames_received = 0, bytes_sent = 0;
    std::uint64_t frames_forwarded = 0;  // relays
    std::uint64_t retransmissions = 0;
    std::array<std::uint64_t, kDropReasons> drops{};
    CryptoOps crypto;
    std::uint64_t drops_total() const noexcept;
};

// An established link, as both ends report it. The fingerprints (SecretKey::fingerprint) let a
// user see that both ends agree without seeing a key.
struct LinkSummary {
    std::string id;
    std::string local, peer;  // user info IDs
    // The peer, or on a hop to or from a UE-to-UE relay the target user info its request named
    // (one hop per target through a layer-3 relay).
    std::string target;
    L2Id peer_l2 = 0;
    // This UE's layer-2 ID on the link: its own at first, a fresh one after each link
    // identifier update (TS 24.554 7.2.4). End to end through a layer-2 relay: the hop's.
    L2Id local_l2 = 0;
    LinkKind kind = LinkKind::hop;
    Solution solution = Solution::a;
    bool initiator = false;
    bool security_active = false;  // false: both signalling integrity policies NOT NEEDED
    bool knrp_reused = false;      // solution A: KNRP ID matched, step 3 skipped
    // Why the link has no integrity protection, when it has none: e.g. "no integrity: policy
    // preferred, peer offered none" (TS 33.536 allows it; docs/solution-a.md says what it lets
    // an attacker do). Empty otherwise.
    std::string security_note;
    KnrpId knrp_id;
    KnrpSessId knrp_sess_id;
    CipheringAlgorithm ciphering = CipheringAlgorithm::nea0;
    IntegrityAlgorithm integrity = IntegrityAlgorithm::nia0;
    std::map<std::string, std::string> fingerprints;  // "KNRP", "NRPEK", "NRPIK", "KD", ...
    Time started{}, established{};
};

struct LinkEstablished {
    LinkSummary link;
};
// A link that could not be established. `cause` is what was sent or received in the reject (or
// what the engine gave up with); `reason` names the check, e.g. "creds: notAfter".
struct LinkFailed {
    std::string id;  // may be empty if the failure came before the link had an id
    std::string local, peer;
    LinkKind kind = LinkKind::hop;
    Solution solution = Solution::a;
    codec::Cause cause = codec::Cause::protocol_error_unspecified;
    std::string reason;
    bool by_peer = false;  // the peer rejected (true) or this UE did (false)
    Time at{};
};
struct LinkReleased {
    std::string id;
    std::string peer;
    codec::Cause cause = codec::Cause::direct_communication_no_longer_needed;
    bool by_peer = false;
    Time at{};
};
// Re-keying completed: a new KNRP-sess (and, with re-authentication, a new KNRP). Also at the
// end of a link identifier update (TS 24.554 7.2.4), which changes the KNRP-sess with the
// layer-2 IDs: `link` then carries the new IDs.
struct LinkRekeyed {
    LinkSummary link;
    bool reauthenticated = false;
    bool identifiers_updated = false;  // a link identifier update: new L2 IDs and KNRP-sess ID
    L2Id previous_local_l2 = 0, previous_peer_l2 = 0;  // the IDs it replaced (when updated)
};
struct PduDropped {
    std::string link_id;  // "" when no link matched
    DropReason reason = DropReason::malformed;
    std::string detail;
};
// Relay discovery (seed 000 step 1): a relay this UE may use was found.
struct RelayDiscovered {
    std::string relay;
    L2Id relay_l2 = 0;
    std::uint32_t rsc = 0;
};
// Application data delivered on a link (user plane).
struct DataReceived {
    std::string link_id;
    std::string peer;
    std::vector<std::uint8_t> data;
};

using Event = std::variant<LinkEstablished, LinkFailed, LinkReleased, LinkRekeyed, PduDropped,
                           RelayDiscovered, DataReceived>;

// What a source asks for: a link to `target` (its user info ID) along `path`. Through a relay,
// `rsc` is the relay service code; `relay` names a relay if discovery has already picked one
// (otherwise the engine discovers one first, seed 000 step 1).
struct ConnectRequest {
    std::string target;
    Path path = Path::direct;
    std::optional<L2Id> target_l2;  // known from discovery (direct path)
    std::uint32_t rsc = 0;
    std::optional<std::string> relay;
    std::optional<L2Id> relay_l2;
};

// What a user plane needs to protect data on one established link (issue [userplane]): handed
// over only by an explicit Endpoint::data_keys() call, never in an event. After LinkRekeyed, ask
// again: the KNRP-sess ID tells PDUs under the old and the new keys apart.
struct DataKeys {
    std::string link_id;
    LinkKind kind = LinkKind::hop;
    L2Id peer_l2 = 0;   // the neighbour the PDUs go to (the relay, end to end)
    L2Id local_l2 = 0;  // this UE's L2 ID on the link (0: Endpoint::l2_id())
    // End to end through a layer-2 relay: the SRAP destination. A layer-2 relay's hop (solution
    // B): the end UE's local UE ID at the relay. 0: none.
    std::uint8_t remote_local_id = 0;
    bool initiator = false;  // DIRECTION 0 when sending (3gpp-facts §4)
    KnrpSessId knrp_sess_id;
    CipheringAlgorithm ciphering = CipheringAlgorithm::nea0;
    IntegrityAlgorithm integrity = IntegrityAlgorithm::nia0;
    Nrpek nrpek;
    Nrpik nrpik;
    // Solution B through a layer-3 relay (docs/solution-b.md "The layer-3 path"): this end-to-end
    // link's PDUs travel inside IPv6/UDP packets (userplane::kL3ProtectedPort) on this hop link,
    // so the relay routes them as IP and never opens them. Empty otherwise.
    std::string carrier;
    // A layer-3 relay's hop: the hops its packets may be routed to (userplane add_l3_route).
    std::vector<std::string> l3_routes;
};

class Endpoint {
  public:
    virtual ~Endpoint() = default;
    virtual const std::string& user_info() const noexcept = 0;
    virtual L2Id l2_id() const noexcept = 0;
    // Whether frames to `id` are for this UE: its own L2 ID, or one a link identifier update
    // (TS 24.554 7.2.4) gave one of its links (or replaced, within its grace). A driver that
    // routes by L2 ID learns the new ones from LinkRekeyed (LinkSummary::local_l2).
    virtual bool owns_l2(L2Id id) const noexcept { return id == l2_id(); }
    // Starts establishing; the outcome arrives as LinkEstablished or LinkFailed.
    virtual void connect(const ConnectRequest& request, Time now) = 0;
    virtual void receive(const Frame& frame, Time now) = 0;
    virtual void handle_timeout(Time now) = 0;
    virtual Time next_timeout() const noexcept = 0;  // kNever when no timer runs
    virtual std::optional<Frame> poll_transmit() = 0;
    virtual std::optional<Event> poll_event() = 0;
    // Releases every link (PROSE DIRECT LINK RELEASE) and wipes their keys.
    virtual void release_all(Time now) = 0;
    virtual const Counters& counters() const noexcept = 0;
    // The current data keys of an established link, or nothing (no such link, not established).
    virtual std::optional<DataKeys> data_keys(const std::string& link_id) const {
        (void)link_id;
        return std::nullopt;
    }
};

}  // namespace pc5sec::pc5
