// The user plane (issue [userplane]): PDCP-style protection of data PDUs on PC5 links with
// NEA/NIA under NRPEK/NRPIK, and the three ways data crosses a UE-to-UE relay. docs/userplane.md
// describes it all. Sans-I/O like the engines: frames and the time come in, frames and events
// go out.
//
// A data PDU (pc5sec's framing of a TS 38.323 6.2.2.2 data PDU with an 18-bit SN):
//
//   octet 1-2   KNRP-sess ID (16 bits, big-endian)          3gpp-facts §2/§4; 0 = no security
//   octet 3     D/C (1) | R R R R R | SN bits 17..16         TS 38.323 6.2.2.2, D/C = 1 (data)
//   octet 4-5   SN bits 15..0
//   payload     ciphered when the bearer's ciphering is on   TS 38.323 5.8
//   MAC-I (4)   present when the bearer's integrity is on;   TS 38.323 5.9: over header and
//               ciphered with the payload                    payload, then ciphered
//
// Security inputs (3gpp-facts §4): KEY = NRPEK / NRPIK, COUNT = HFN || SN (32 bits) per link,
// key, bearer and direction; BEARER = the 5 LSBs of the LCID on a direct link or a hop, and the
// SRAP bearer ID (the 5 LSBs of the PC5 config index) end to end; DIRECTION = 0 for PDUs sent by
// the link's initiator, 1 for its peer.
//
// Where frames go (the driver's choice, `carries_data`):
//   direct link or hop           LCID 4..19 = the bearer
//   end to end via a l2 relay    LCID 55, SRAP header (bearer 4..31, local UE IDs), then the PDU
//                                (both solutions)
//   solution B via layer 3       LCID 4..19 on a hop: an IPv6/UDP packet (kL3ProtectedPort)
//                                holding the end-to-end PDU (DataKeys::carrier)
//
// Through a layer-3 relay the data are IPv6 packets (TS 23.304 layer-3 UE-to-UE relay: an IP
// router between PC5 links), l3_packet below: the relay routes each one by its destination
// address to one of the hops joined with the hop it came on.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/count_window.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/policy.hpp"

namespace pc5sec::userplane {

using namespace std::chrono_literals;

inline constexpr std::size_t kHeaderSize = 5;
inline constexpr std::size_t kMacSize = 4;
inline constexpr std::size_t kHeadroom = 8;  // before the header: NIA2's prefix (IntegrityJob)
inline constexpr unsigned kSnBits = 18;
inline constexpr std::uint32_t kSnModulus = 1u << kSnBits;
inline constexpr std::uint32_t kWindowSize = kSnModulus / 2;  // TS 38.323 Window_Size
inline constexpr std::uint32_t kReplayWindow = 1024;          // COUNTs remembered below the top
inline constexpr std::size_t kMaxSdu = 9000;                  // TS 38.323 4.3.1
// pc5sec's own: at this COUNT a key context asks for re-keying (2^24 PDUs before the wrap).
inline constexpr std::uint32_t kDefaultRekeyThreshold = 0xFF000000u;
using pdcp::kMaxCount;  // never sent: COUNT must not repeat

// Data bearers: LCID 4..19 on a hop or direct link; SRAP bearer 4..31 end to end (§4).
inline constexpr std::uint8_t kFirstBearer = 4;
inline constexpr std::uint8_t kLastHopBearer = 19;
inline constexpr std::uint8_t kLastE2eBearer = 31;

struct Header {
    KnrpSessId knrp_sess_id;
    std::uint32_t sn = 0;  // 18 bits
};
// Errc::malformed naming "up.header" (too short), "up.dc" (D/C = 0) or "up.reserved".
Result<Header> parse_header(std::span<const std::uint8_t> pdu);
void write_header(const Header& h, std::uint8_t* out) noexcept;  // kHeaderSize octets

// The COUNT a received 18-bit SN stands for, given RX_DELIV (TS 38.323 5.2.2.2; the one
// implementation of pc5sec/count_window.hpp, with its overflow guard).
constexpr std::uint32_t receive_count(std::uint32_t rx_deliv, std::uint32_t sn) noexcept {
    return pdcp::receive_count(rx_deliv, sn, kSnBits);
}

// Which COUNTs a receiver has seen: kReplayWindow COUNTs below the highest (TS 33.536
// 5.3.3.1.4 replay protection; pc5sec/count_window.hpp, as PC5-S's).
using ReplayWindow = pdcp::BasicReplayWindow<kReplayWindow>;

// What a bearer's PDUs carry: integrity (MAC-I) and ciphering, from the user-plane policy.
struct Protection {
    bool integrity = true;
    bool ciphering = true;
    friend bool operator==(Protection, Protection) = default;
};

// The user-plane protection of a link from both ends' policy.toml [user_plane] (TS 33.536
// 5.3.3.1.2 as the signalling rule): REQUIRED against NOT NEEDED is refused (cause #12, security
// policy not aligned); NOT NEEDED on either side turns the function off; otherwise it is on.
// A function that is on needs a non-null algorithm of the link (NIA0 never protects data).
Result<Protection> resolve_policy(const SecurityPolicy& ours, const SecurityPolicy& peer,
                                  CipheringAlgorithm ciphering, IntegrityAlgorithm integrity);

// PDU buffers for the burst calls: `capacity` slots, each with headroom, header, room for a
// payload of up to `max_payload` octets and the MAC-I. Reused from burst to burst.
class Burst {
  public:
    explicit Burst(std::size_t capacity, std::size_t max_payload = kMaxSdu);
    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t max_payload() const noexcept { return max_payload_; }
    std::size_t size() const noexcept { return size_; }
    void clear() noexcept { size_ = 0; }
    // Appends a slot holding `payload` (to protect); Errc::invalid_argument when full or too big.
    Status add_payload(std::span<const std::uint8_t> payload);
    // Appends a slot holding a received PDU (to unprotect or forward).
    Status add_pdu(std::span<const std::uint8_t> pdu);
    // Zero copy: appends a slot that is the caller's own memory, `size` payload octets at
    // `payload` with kHeadroom + kHeaderSize octets granted before it and kMacSize after it
    // (protect writes the header and the MAC-I there). The memory must outlive the burst's use.
    Status add_in_place(std::uint8_t* payload, std::size_t size);
    // The PDU (header first) of slot i: after protect, what goes on the air.
    std::span<std::uint8_t> pdu(std::size_t i) noexcept { return {base(i), length_[i]}; }
    // The payload of slot i after unprotect (valid only when verdict(i) is empty).
    std::span<const std::uint8_t> payload(std::size_t i) const noexcept;
    // Empty: the slot passed; otherwise why it was dropped.
    std::optional<pc5::DropReason> verdict(std::size_t i) const noexcept { return verdict_[i]; }
    std::size_t passed() const noexcept;

  private:
    friend class Endpoint;
    std::uint8_t* base(std::size_t i) noexcept { return base_[i]; }
    const std::uint8_t* base(std::size_t i) const noexcept { return base_[i]; }
    std::uint8_t* own(std::size_t i) noexcept { return storage_.data() + i * stride_ + kHeadroom; }
    std::size_t capacity_, max_payload_, stride_, size_ = 0;
    std::vector<std::uint8_t> storage_;
    std::vector<std::uint8_t*> base_;  // where slot i's header starts
    std::vector<std::size_t> length_;
    std::vector<std::optional<pc5::DropReason>> verdict_;
    std::vector<std::uint32_t> count_;  // COUNT of each slot (unprotect)
    std::vector<void*> ctx_;            // the key context of each slot (unprotect)
};

// --- What crosses a layer-3 relay: IPv6 (RFC 8200) carrying UDP (RFC 768) ---
// An end UE's address behind a layer-3 relay. pc5sec's stand-in for the IP address configuration
// that neither seed addresses: the ULA prefix fd50:c5ec::/64 (RFC 4193) followed by the first 8
// octets of SHA-256 of the UE's user info ID, so each end knows its peer's address from the
// identity it asked for, and the relay knows each hop's from the link (docs/userplane.md).
using Ipv6Address = std::array<std::uint8_t, 16>;
Ipv6Address l3_address(std::string_view user_info_id);
std::string to_string(const Ipv6Address& a);  // RFC 5952 text, e.g. "fd50:c5ec::1234:..."

inline constexpr std::size_t kIpv6HeaderSize = 40;
inline constexpr std::size_t kUdpHeaderSize = 8;
inline constexpr std::size_t kL3Overhead = kIpv6HeaderSize + kUdpHeaderSize;
inline constexpr std::uint16_t kL3Port = 5085;  // pc5sec's data port (source and destination)
// Solution B through a layer-3 relay: the UDP port of an end-to-end protected data PDU (a PDU
// under keys from KD) carried inside the hopped IPv6 packets (pc5sec's own, like kL3Port).
inline constexpr std::uint16_t kL3ProtectedPort = 5086;
inline constexpr std::uint8_t kL3HopLimit = 64;
inline constexpr std::uint8_t kIpProtocolUdp = 17;  // IPv6 next header

// One application datagram: IPv6 (next header UDP, hop limit 64) + UDP (source and destination
// `port`, checksum over the pseudo-header, RFC 8200 8.1) + data. Errc::invalid_argument naming
// "data" when it does not fit a data SDU (kMaxSdu - kL3Overhead octets at most).
Result<std::vector<std::uint8_t>> l3_packet(const Ipv6Address& src, const Ipv6Address& dst,
                                            std::span<const std::uint8_t> data,
                                            std::uint16_t port = kL3Port);
// What a router reads (RFC 8200 3): addresses and hop limit, whatever the next header is.
struct Ipv6Header {
    Ipv6Address src{}, dst{};
    std::uint8_t next_header = 0;
    std::uint8_t hop_limit = 0;
};
// Errc::malformed naming "ipv6.header" (shorter than 40 octets), "ipv6.version" or
// "ipv6.payload_length" (not the octets after the header).
Result<Ipv6Header> parse_ipv6_header(std::span<const std::uint8_t> sdu);

struct L3Packet {
    Ipv6Address src{}, dst{};
    std::uint8_t hop_limit = 0;
    std::uint16_t dst_port = 0;          // UDP destination port
    std::span<const std::uint8_t> data;  // inside the parsed SDU
};
// What an end UE reads: parse_ipv6_header's errors, then "ipv6.next_header" (not UDP),
// "udp.header" (short), "udp.length", "udp.checksum".
Result<L3Packet> parse_l3_packet(std::span<const std::uint8_t> sdu);

struct Config {
    pc5::L2Id l2_id = 0;
    // How long the previous KNRP-sess ID's keys still open PDUs after re-keying.
    pc5::Time grace = 2s;
    std::uint32_t rekey_threshold = kDefaultRekeyThreshold;
    // The UE's link engine, asked for a link's keys when a PDU names a KNRP-sess ID that the
    // user plane has not been given yet (the peer switched first). Optional.
    const pc5::Endpoint* key_source = nullptr;
    // Attach a pc5::FrameCapture (link, DIRECTION, protection) to each frame this UE protects,
    // for a driver that writes a capture (trace::CaptureRecorder). Off: nothing is allocated.
    bool capture = false;
};

struct Counters {
    std::uint64_t sent = 0, delivered = 0, bytes_sent = 0, bytes_delivered = 0;
    std::uint64_t forwarded_l2 = 0, forwarded_l3 = 0;
    std::array<std::uint64_t, pc5::kDropReasons> drops{};
    std::uint64_t drops_total() const noexcept;
    std::uint64_t drops_of(pc5::DropReason r) const noexcept {
        return drops[static_cast<std::size_t>(r)];
    }
};

// A key context reached its re-keying threshold: the driver calls link::Engine::rekey.
struct RekeyNeeded {
    std::string link_id;
    std::uint32_t count = 0;
};

// Whether a frame is user-plane data (give it to Endpoint::receive) rather than signalling
// (give it to the link or sigauth engine): LCID 4..19, or LCID 55 (the relay's adaptation
// layer, SRAP, in both solutions) with a data bearer (4..31).
bool carries_data(const pc5::Frame& f) noexcept;

class Endpoint {
  public:
    explicit Endpoint(Config config);
    ~Endpoint();
    Endpoint(Endpoint&&) noexcept;
    Endpoint& operator=(Endpoint&&) noexcept;

    // Installs or refreshes a link's keys (from pc5::Endpoint::data_keys). A new KNRP-sess ID
    // becomes current for sending; the previous one still opens PDUs for Config::grace. The
    // same ID again changes nothing. Errors: "protection" (a function on with a null algorithm),
    // "knrp_sess_id" (0 while protected), the crypto's key errors. Nothing changes on error.
    Status install(const pc5::DataKeys& keys, Protection protection, pc5::Time now);
    // Forgets a link and wipes its keys (after LinkReleased).
    void remove(const std::string& link_id);
    bool has_link(const std::string& link_id) const;

    // Layer-3 relay: joins two hops (the relay knows which hop leads to the target). A PDU
    // arriving on a hop is opened with its keys, routed by its IPv6 destination address to one
    // of the hops joined with it (l3_address of that hop's peer), and re-protected with that
    // hop's keys. An IPv6 packet whose source address is not its sender's is dropped (ingress
    // filtering, RFC 2827), and one for an address no joined hop leads to is dropped as
    // not-for-us; so is an SDU that is not IPv6 unless its hop is joined with exactly one other.
    // A hop may be joined with several (one target, several sources). Errc::state naming
    // "link_id" if either link is unknown.
    Status add_l3_route(const std::string& link_a, const std::string& link_b);
    // A layer-2 relay: learns its forwarding table (SRAP local UE ID -> neighbour) from each
    // frame its engine (either solution) sends on LCID 55 with a destination local UE ID.
    void observe_relayed(const pc5::Frame& out);

    // Protects `data` for `bearer` of a link into one frame (queued: poll_transmit). Errc::state
    // naming "pdcp.count" when COUNT would wrap; "bearer", "data" (over kMaxSdu), "link_id".
    Status send(const std::string& link_id, std::uint8_t bearer, std::span<const std::uint8_t> data,
                pc5::Time now);
    // A data frame (carries_data): delivers (DataReceived), forwards (a relay) or drops
    // (PduDropped, counted). Never throws; bad input changes no state.
    void receive(const pc5::Frame& frame, pc5::Time now);

    std::optional<pc5::Frame> poll_transmit();
    std::optional<pc5::Event> poll_event();
    std::optional<RekeyNeeded> poll_rekey();
    const Counters& counters() const noexcept;

    // --- bursts (the fast path; the frame calls above run on them too) ---
    // Protects every slot of `burst` (payloads) in place for `bearer`. All or nothing: on error
    // nothing is protected and COUNT does not move.
    Status protect_burst(const std::string& link_id, std::uint8_t bearer, Burst& burst,
                         pc5::Time now);
    // Opens every slot (received PDUs) in place; each slot's verdict says whether it passed.
    // Drops are counted (no events: the caller reads the verdicts).
    Status unprotect_burst(const std::string& link_id, std::uint8_t bearer, Burst& burst,
                           pc5::Time now);
    // Layer-3 relay: opens with `from`'s keys, re-protects with `to`'s, in place. Slots that fail
    // to open keep their verdict and are not re-protected.
    Status forward_l3_burst(const std::string& from, const std::string& to, std::uint8_t bearer,
                            Burst& burst, pc5::Time now);
    // Layer-2 relay: rewrites an LCID-55 SRAP frame in place for its next hop (source and
    // destination L2 IDs, source local UE ID); false: dropped and counted.
    bool forward_l2(pc5::Frame& frame) noexcept;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace pc5sec::userplane
