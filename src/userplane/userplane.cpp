// The user plane: data PDUs protected with NEA/NIA under NRPEK/NRPIK, per link, key, bearer and
// direction; the layer-3 relay's re-protection, the layer-2 relay's SRAP forwarding and
// solution B's forwarding by KNRP-sess ID. Every check names its clause. docs/userplane.md.
#include "pc5sec/userplane.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "pc5sec/hash.hpp"
#include "pc5sec/pc5_cause.hpp"
#include "pc5sec/secret.hpp"
#include "pc5sec/srap.hpp"

namespace pc5sec::userplane {

// ------------------------------------------------------------------ header, COUNT, window

Result<Header> parse_header(std::span<const std::uint8_t> pdu) {
    if (pdu.size() < kHeaderSize)
        return make_error(
            Errc::malformed, "up.header",
            fmt::format("a data PDU has at least {} octets, got {}", kHeaderSize, pdu.size()));
    if ((pdu[2] & 0x80) == 0)  // TS 38.323 6.3.7: D/C = 1 for a data PDU
        return make_error(Errc::malformed, "up.dc", "D/C must be 1 (data PDU)");
    if ((pdu[2] & 0x7C) != 0)  // TS 38.323 6.3.8: reserved bits are zero
        return make_error(Errc::malformed, "up.reserved", "reserved bits must be zero");
    Header h;
    h.knrp_sess_id = KnrpSessId{static_cast<std::uint16_t>(pdu[0] << 8 | pdu[1])};
    h.sn = static_cast<std::uint32_t>(pdu[2] & 0x03) << 16 |
           static_cast<std::uint32_t>(pdu[3]) << 8 | pdu[4];
    return h;
}

void write_header(const Header& h, std::uint8_t* out) noexcept {
    out[0] = static_cast<std::uint8_t>(h.knrp_sess_id.value >> 8);
    out[1] = static_cast<std::uint8_t>(h.knrp_sess_id.value);
    out[2] = static_cast<std::uint8_t>(0x80 | (h.sn >> 16 & 0x03));
    out[3] = static_cast<std::uint8_t>(h.sn >> 8);
    out[4] = static_cast<std::uint8_t>(h.sn);
}

// ------------------------------------------------------------------ layer-3 packets

Ipv6Address l3_address(std::string_view user_info_id) {
    // docs/userplane.md: fd50:c5ec::/64 (RFC 4193 ULA), then SHA-256(user info ID)[0..7].
    const auto digest = sha256({std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(user_info_id.data()), user_info_id.size())});
    Ipv6Address a{0xfd, 0x50, 0xc5, 0xec};
    std::copy_n(digest.begin(), 8, a.begin() + 8);
    return a;
}

std::string to_string(const Ipv6Address& a) {
    char text[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET6, a.data(), text, sizeof text) == nullptr) return "?";
    return text;
}

namespace {

// RFC 768 / RFC 8200 8.1: the folded ones' complement sum over the IPv6 pseudo-header (source,
// destination, upper-layer length, next header 17) and the UDP header and data.
std::uint16_t udp_sum(const Ipv6Address& src, const Ipv6Address& dst,
                      std::span<const std::uint8_t> udp) {
    std::uint64_t sum = 0;
    auto add = [&sum](std::span<const std::uint8_t> octets) {
        for (std::size_t i = 0; i + 1 < octets.size(); i += 2)
            sum += static_cast<std::uint32_t>(octets[i] << 8 | octets[i + 1]);
        if (octets.size() % 2) sum += static_cast<std::uint32_t>(octets.back() << 8);
    };
    add(src);
    add(dst);
    sum += udp.size() + kIpProtocolUdp;
    add(udp);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

}  // namespace

Result<std::vector<std::uint8_t>> l3_packet(const Ipv6Address& src, const Ipv6Address& dst,
                                            std::span<const std::uint8_t> data,
                                            std::uint16_t port) {
    if (data.size() > kMaxSdu - kL3Overhead)
        return make_error(Errc::invalid_argument, "data",
                          fmt::format("{} octets: an IPv6/UDP data SDU carries at most {}",
                                      data.size(), kMaxSdu - kL3Overhead));
    const auto udp_length = static_cast<std::uint16_t>(kUdpHeaderSize + data.size());
    std::vector<std::uint8_t> p(kL3Overhead + data.size());
    p[0] = 0x60;  // RFC 8200 3: version 6, traffic class 0, flow label 0
    p[4] = static_cast<std::uint8_t>(udp_length >> 8);  // payload length
    p[5] = static_cast<std::uint8_t>(udp_length);
    p[6] = kIpProtocolUdp;
    p[7] = kL3HopLimit;
    std::copy(src.begin(), src.end(), p.begin() + 8);
    std::copy(dst.begin(), dst.end(), p.begin() + 24);
    std::uint8_t* u = p.data() + kIpv6HeaderSize;
    u[0] = u[2] = static_cast<std::uint8_t>(port >> 8);
    u[1] = u[3] = static_cast<std::uint8_t>(port & 0xFF);
    u[4] = static_cast<std::uint8_t>(udp_length >> 8);
    u[5] = static_cast<std::uint8_t>(udp_length);
    if (!data.empty()) std::memcpy(u + kUdpHeaderSize, data.data(), data.size());
    auto c = static_cast<std::uint16_t>(~udp_sum(src, dst, {u, udp_length}));
    if (c == 0) c = 0xFFFF;  // RFC 768: a computed 0 is sent as all ones
    u[6] = static_cast<std::uint8_t>(c >> 8);
    u[7] = static_cast<std::uint8_t>(c);
    return p;
}

Result<Ipv6Header> parse_ipv6_header(std::span<const std::uint8_t> sdu) {
    if (sdu.size() < kIpv6HeaderSize)
        return make_error(
            Errc::malformed, "ipv6.header",
            fmt::format("{} octets: the IPv6 header takes {}", sdu.size(), kIpv6HeaderSize));
    if (sdu[0] >> 4 != 6)  // RFC 8200 3
        return make_error(Errc::malformed, "ipv6.version",
                          fmt::format("version {}, not 6", sdu[0] >> 4));
    const std::size_t payload_length = static_cast<std::size_t>(sdu[4] << 8 | sdu[5]);
    if (payload_length != sdu.size() - kIpv6HeaderSize)
        return make_error(Errc::malformed, "ipv6.payload_length",
                          fmt::format("says {} octets, the SDU has {} after the header",
                                      payload_length, sdu.size() - kIpv6HeaderSize));
    Ipv6Header h;
    std::copy_n(sdu.begin() + 8, 16, h.src.begin());
    std::copy_n(sdu.begin() + 24, 16, h.dst.begin());
    h.next_header = sdu[6];
    h.hop_limit = sdu[7];
    return h;
}

Result<L3Packet> parse_l3_packet(std::span<const std::uint8_t> sdu) {
    auto ip = parse_ipv6_header(sdu);
    if (!ip) return ip.error();
    if (ip->next_header != kIpProtocolUdp)
        return make_error(Errc::malformed, "ipv6.next_header",
                          fmt::format("next header {}, not UDP (17)", ip->next_header));
    const auto udp = sdu.subspan(kIpv6HeaderSize);
    if (udp.size() < kUdpHeaderSize)
        return make_error(
            Errc::malformed, "udp.header",
            fmt::format("{} octets: the UDP header takes {}", udp.size(), kUdpHeaderSize));
    const std::size_t udp_length = static_cast<std::size_t>(udp[4] << 8 | udp[5]);
    if (udp_length != udp.size())  // RFC 768
        return make_error(
            Errc::malformed, "udp.length",
            fmt::format("says {} octets, the packet carries {}", udp_length, udp.size()));
    L3Packet out;
    out.src = ip->src;
    out.dst = ip->dst;
    out.hop_limit = ip->hop_limit;
    out.dst_port = static_cast<std::uint16_t>(udp[2] << 8 | udp[3]);
    // RFC 8200 8.1: a zero UDP checksum is invalid over IPv6; summed with the checksum in it,
    // a good packet gives all ones.
    if ((udp[6] == 0 && udp[7] == 0) || udp_sum(out.src, out.dst, udp) != 0xFFFF)
        return make_error(Errc::malformed, "udp.checksum", "the UDP checksum does not verify");
    out.data = udp.subspan(kUdpHeaderSize);
    return out;
}

Result<Protection> resolve_policy(const SecurityPolicy& ours, const SecurityPolicy& peer,
                                  CipheringAlgorithm ciphering, IntegrityAlgorithm integrity) {
    auto one = [](PolicyLevel a, PolicyLevel b, std::string_view what) -> Result<bool> {
        if ((a == PolicyLevel::required && b == PolicyLevel::not_needed) ||
            (a == PolicyLevel::not_needed && b == PolicyLevel::required))
            return make_error(Errc::verification_failed, std::string(what),
                              "user-plane policy REQUIRED against NOT NEEDED (TS 33.536 5.3.3.1.2)",
                              cause::kSecurityPolicyNotAligned);
        return a != PolicyLevel::not_needed && b != PolicyLevel::not_needed;
    };
    auto i = one(ours.integrity, peer.integrity, "user_plane.integrity");
    if (!i) return i.error();
    auto c = one(ours.ciphering, peer.ciphering, "user_plane.ciphering");
    if (!c) return c.error();
    Protection p{*i, *c};
    // NIA0 never protects a data bearer (3gpp-facts §5); NEA0 gives no confidentiality.
    if (p.integrity && integrity == IntegrityAlgorithm::nia0) {
        const bool required =
            ours.integrity == PolicyLevel::required || peer.integrity == PolicyLevel::required;
        if (required)
            return make_error(Errc::verification_failed, "user_plane.integrity",
                              "integrity REQUIRED but the link has no integrity algorithm",
                              cause::kSecurityPolicyNotAligned);
        p.integrity = false;
    }
    if (p.ciphering && ciphering == CipheringAlgorithm::nea0) {
        const bool required =
            ours.ciphering == PolicyLevel::required || peer.ciphering == PolicyLevel::required;
        if (required)
            return make_error(Errc::verification_failed, "user_plane.ciphering",
                              "ciphering REQUIRED but the link has no ciphering algorithm",
                              cause::kSecurityPolicyNotAligned);
        p.ciphering = false;
    }
    return p;
}

bool carries_data(const pc5::Frame& f) noexcept {
    if (f.lcid >= pc5::lcid::kFirstData && f.lcid <= pc5::lcid::kLastData) return true;
    if (f.lcid != pc5::lcid::kEndToEnd || f.pdu.empty()) return false;
    return (f.pdu[0] & 0x80) != 0 && (f.pdu[0] & 0x1F) >= kFirstBearer;
}

std::uint64_t Counters::drops_total() const noexcept {
    std::uint64_t t = 0;
    for (auto d : drops)
        t += d;
    return t;
}

// ------------------------------------------------------------------ Burst

Burst::Burst(std::size_t capacity, std::size_t max_payload)
    : capacity_(capacity),
      max_payload_(std::min<std::size_t>(max_payload, kMaxSdu)),
      stride_((kHeadroom + kHeaderSize + max_payload_ + kMacSize + 63) / 64 * 64),
      storage_(capacity * stride_),
      base_(capacity),
      length_(capacity),
      verdict_(capacity),
      count_(capacity),
      ctx_(capacity) {}

Status Burst::add_payload(std::span<const std::uint8_t> payload) {
    if (size_ == capacity_) return make_error(Errc::invalid_argument, "burst", "burst is full");
    if (payload.size() > max_payload_)
        return make_error(
            Errc::invalid_argument, "data",
            fmt::format("{} octets: a data SDU has at most {} here", payload.size(), max_payload_));
    base_[size_] = own(size_);
    if (!payload.empty()) std::memcpy(base(size_) + kHeaderSize, payload.data(), payload.size());
    length_[size_] = kHeaderSize + payload.size();
    verdict_[size_].reset();
    ++size_;
    return {};
}

Status Burst::add_pdu(std::span<const std::uint8_t> pdu) {
    if (size_ == capacity_) return make_error(Errc::invalid_argument, "burst", "burst is full");
    if (pdu.size() > kHeaderSize + max_payload_ + kMacSize)
        return make_error(Errc::malformed, "up.length",
                          fmt::format("a data PDU of {} octets is too long", pdu.size()));
    base_[size_] = own(size_);
    if (!pdu.empty()) std::memcpy(base(size_), pdu.data(), pdu.size());
    length_[size_] = pdu.size();
    verdict_[size_].reset();
    ++size_;
    return {};
}

Status Burst::add_in_place(std::uint8_t* payload, std::size_t size) {
    if (size_ == capacity_) return make_error(Errc::invalid_argument, "burst", "burst is full");
    if (payload == nullptr || size > max_payload_)
        return make_error(
            Errc::invalid_argument, "data",
            fmt::format("{} octets: a data SDU has at most {} here", size, max_payload_));
    base_[size_] = payload - kHeaderSize;
    length_[size_] = kHeaderSize + size;
    verdict_[size_].reset();
    ++size_;
    return {};
}

std::span<const std::uint8_t> Burst::payload(std::size_t i) const noexcept {
    if (length_[i] < kHeaderSize) return {};
    return {base(i) + kHeaderSize, length_[i] - kHeaderSize};
}

std::size_t Burst::passed() const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < size_; ++i)
        n += !verdict_[i].has_value();
    return n;
}

// ------------------------------------------------------------------ the endpoint

namespace {

struct BearerRx {
    std::uint32_t deliv = 0;  // RX_DELIV (TS 38.323 7.1)
    ReplayWindow window;
};

// The keys of one KNRP-sess ID and the COUNTs of every bearer under them.
struct KeyContext {
    KnrpSessId id;
    std::optional<CipheringContext> cipher;
    std::optional<IntegrityContext> integrity;
    std::array<std::uint32_t, 32> tx_next{};  // TX_NEXT per bearer
    std::array<BearerRx, 32> rx{};
    pc5::Time expires = pc5::kNever;  // the previous context: end of its grace window
    bool rekey_signalled = false;
};

struct Link {
    std::string id;
    std::string peer;
    pc5::LinkKind kind = pc5::LinkKind::hop;
    pc5::L2Id neighbour = 0;
    pc5::L2Id own = 0;  // our L2 ID on the link (0: Config::l2_id)
    // The L2 IDs a link identifier update replaced: PDUs from and to them are still taken while
    // the previous keys are (Config::grace).
    pc5::L2Id previous_neighbour = 0, previous_own = 0;
    bool srap = false;  // end to end through a layer-2 relay (LCID 55)
    std::uint8_t remote_local_id = 0;
    std::uint8_t previous_remote_local_id = 0;  // before the one learnt last (late PDUs)
    bool initiator = false;
    Protection protection;
    CipheringAlgorithm ciphering = CipheringAlgorithm::nea0;
    IntegrityAlgorithm integrity = IntegrityAlgorithm::nia0;
    std::unique_ptr<KeyContext> current, previous;
    // A layer-3 relay: the hops joined with this one (add_l3_route), and the address of this
    // hop's peer (l3_address of its user info ID), which this hop's packets come from.
    std::vector<std::string> l3_routes;
    Ipv6Address l3_addr{};
    // Solution B through a layer-3 relay: the hop link this end-to-end link's PDUs ride in,
    // inside IPv6/UDP packets (kL3ProtectedPort) from own_addr to l3_addr. Empty otherwise.
    std::string carrier;
    Ipv6Address own_addr{};

    std::uint8_t tx_direction() const { return initiator ? 0 : 1; }  // 3gpp-facts §4
    std::uint8_t rx_direction() const { return initiator ? 1 : 0; }
};

// The far end's name from a link id "<initiator>><peer>#<tag>".
std::string peer_of(const std::string& id, bool initiator) {
    const auto gt = id.find('>');
    const auto hash = id.rfind('#');
    if (gt == std::string::npos || hash == std::string::npos || hash < gt) return {};
    return initiator ? id.substr(gt + 1, hash - gt - 1) : id.substr(0, gt);
}

bool valid_bearer(const Link& l, std::uint8_t bearer) {
    // 3gpp-facts §4: data LCIDs 4..19 on a hop; end to end the SRAP bearer ID 4..31.
    return bearer >= kFirstBearer && bearer <= (l.srap ? kLastE2eBearer : kLastHopBearer);
}

}  // namespace

struct Endpoint::Impl {
    Config cfg;
    Counters counters;
    std::vector<std::unique_ptr<Link>> links;
    std::deque<pc5::Frame> tx;
    std::deque<pc5::Event> events;
    std::deque<RekeyNeeded> rekeys;
    // Layer-2 relay (learned from the engine's SRAP frames): local UE ID <-> neighbour L2 ID.
    std::array<pc5::L2Id, 256> l2_of_local{};
    std::unordered_map<pc5::L2Id, std::uint8_t> local_of_l2;
    // End UEs whose local UE ID the engine gave with their hop's keys: what the relay's own
    // frames say (observe) does not override it (the other end may still name the old one).
    std::unordered_set<pc5::L2Id> local_from_engine;
    // Scratch, reused.
    std::vector<CipherJob> cjobs;
    std::vector<IntegrityJob> ijobs;
    std::vector<std::size_t> index;
    Burst one{1};
    Burst carried{1};  // an end-to-end PDU inside a hop's packet (solution B, layer 3)

    explicit Impl(Config c) : cfg(c) {}

    Link* find(const std::string& id) {
        for (auto& l : links)
            if (l->id == id) return l.get();
        return nullptr;
    }

    void drop(const Link* l, pc5::DropReason r, std::string detail, bool emit) {
        ++counters.drops[static_cast<std::size_t>(r)];
        if (emit)
            events.push_back(pc5::PduDropped{l ? l->id : std::string{}, r, std::move(detail)});
    }

    Status install(const pc5::DataKeys& k, Protection p, pc5::Time now) {
        const bool keyed = p.integrity || p.ciphering;
        if (p.integrity && k.integrity == IntegrityAlgorithm::nia0)
            return make_error(Errc::invalid_argument, "protection",
                              "integrity on with NIA0 (NIA0 never protects data, 3gpp-facts §5)");
        if (p.ciphering && k.ciphering == CipheringAlgorithm::nea0)
            return make_error(Errc::invalid_argument, "protection", "ciphering on with NEA0");
        if (keyed && k.knrp_sess_id.value == 0)  // 3gpp-facts §2: 0 means no security
            return make_error(Errc::invalid_argument, "knrp_sess_id",
                              "a protected bearer needs a KNRP-sess ID other than 0");
        const KnrpSessId id = keyed ? k.knrp_sess_id : KnrpSessId{0};
        Link* l = find(k.link_id);
        if (l && (l->neighbour != k.peer_l2 || l->own != k.local_l2)) {
            // A link identifier update (TS 24.554 7.2.4): new L2 IDs, the old ones kept for the
            // grace window with the old keys.
            l->previous_neighbour = l->neighbour;
            l->previous_own = l->own;
            l->neighbour = k.peer_l2;
            l->own = k.local_l2;
            // A layer-2 relay's hop: the end UE keeps its local UE ID under its new L2 ID (the
            // old one still maps to it, for the frames on their way).
            if (auto it = local_of_l2.find(l->previous_neighbour);
                it != local_of_l2.end() && !l->srap) {
                l2_of_local[it->second] = k.peer_l2;
                local_of_l2[k.peer_l2] = it->second;
            }
        }
        if (l && l->srap && k.remote_local_id != srap::kUnknownUeId &&
            k.remote_local_id != l->remote_local_id) {
            l->previous_remote_local_id = l->remote_local_id;
            l->remote_local_id = k.remote_local_id;
        }
        if (l && l->current && l->current->id == id && l->protection == p) return {};
        auto ctx = std::make_unique<KeyContext>();
        ctx->id = id;
        if (p.ciphering) {
            auto c = CipheringContext::create(k.ciphering, k.nrpek);
            if (!c) return c.error();
            ctx->cipher.emplace(std::move(*c));
        }
        if (p.integrity) {
            auto i = IntegrityContext::create(k.integrity, k.nrpik);
            if (!i) return i.error();
            ctx->integrity.emplace(std::move(*i));
        }
        if (!l) {
            links.push_back(std::make_unique<Link>());
            l = links.back().get();
            l->id = k.link_id;
        }
        l->peer = peer_of(k.link_id, k.initiator);
        l->l3_addr = l3_address(l->peer);
        l->carrier = k.carrier;
        if (!k.carrier.empty()) l->own_addr = l3_address(peer_of(k.link_id, !k.initiator));
        for (const auto& r : k.l3_routes) {  // resolved when a packet is routed (route_l3)
            if (r == k.link_id) continue;
            if (std::find(l->l3_routes.begin(), l->l3_routes.end(), r) == l->l3_routes.end())
                l->l3_routes.push_back(r);
            // Both ways: a hop installed earlier (a target's hop serving a new source) routes
            // back to this one.
            if (Link* n = find(r); n && std::find(n->l3_routes.begin(), n->l3_routes.end(),
                                                  k.link_id) == n->l3_routes.end())
                n->l3_routes.push_back(k.link_id);
        }
        l->kind = k.kind;
        l->neighbour = k.peer_l2;
        l->own = k.local_l2;
        l->srap = k.kind == pc5::LinkKind::e2e && k.remote_local_id != srap::kUnknownUeId;
        l->remote_local_id = k.remote_local_id;
        l->initiator = k.initiator;
        l->protection = p;
        l->ciphering = k.ciphering;
        l->integrity = k.integrity;
        if (l->current) {  // re-keying: the old keys still open PDUs for the grace window
            l->previous = std::move(l->current);
            l->previous->expires = now + cfg.grace;
        }
        l->current = std::move(ctx);
        // A layer-2 relay's hop whose engine names the end UE's local UE ID (solution B: drawn
        // anew at each identifier update of the hop): the end UE is reached by it from now on;
        // the old ID still leads to it, for the frames on their way.
        if (k.kind == pc5::LinkKind::hop && k.remote_local_id != srap::kUnknownUeId) {
            l2_of_local[k.remote_local_id] = k.peer_l2;
            local_of_l2[k.peer_l2] = k.remote_local_id;
            local_from_engine.insert(k.peer_l2);
        }
        return {};
    }

    // The key context a received PDU names, or why none.
    KeyContext* context_for(Link& l, KnrpSessId id, pc5::Time now, pc5::DropReason& why,
                            std::string& detail, bool ask_source) {
        if (l.current && l.current->id == id) return l.current.get();
        if (l.previous && l.previous->id == id) {
            if (now < l.previous->expires) return l.previous.get();
            why = pc5::DropReason::unknown_session;
            detail = fmt::format("KNRP-sess ID {:04x}: its grace window after re-keying is over",
                                 id.value);
            return nullptr;
        }
        if (ask_source && cfg.key_source && id.value != 0) {
            // The peer switched to new keys before our driver handed them to us.
            if (auto k = cfg.key_source->data_keys(l.id); k && k->knrp_sess_id == id)
                if (install(*k, l.protection, now) && l.current && l.current->id == id)
                    return l.current.get();
        }
        why = pc5::DropReason::unknown_session;
        detail =
            fmt::format("KNRP-sess ID {:04x} names no key of this link (3gpp-facts §4)", id.value);
        return nullptr;
    }

    // ---- protect: the slots listed in `index` ----
    Status protect(Link& l, std::uint8_t bearer, Burst& b, std::span<const std::size_t> slots) {
        if (!valid_bearer(l, bearer))
            return make_error(
                Errc::invalid_argument, "bearer",
                fmt::format("bearer {} is not a data bearer here (3gpp-facts §4)", bearer));
        KeyContext& k = *l.current;
        const std::uint32_t first = k.tx_next[bearer];
        if (kMaxCount - first < slots.size())  // COUNT must never repeat under one key
            return make_error(Errc::state, "pdcp.count",
                              "COUNT would wrap: re-key the link first (TS 33.536 5.3.3.2)");
        const std::uint8_t dir = l.tx_direction();
        for (std::size_t n = 0; n < slots.size(); ++n) {
            const std::size_t i = slots[n];
            if (b.length_[i] < kHeaderSize || b.length_[i] - kHeaderSize > b.max_payload_)
                return make_error(Errc::invalid_argument, "data", "slot holds no payload");
            write_header(Header{k.id, (first + static_cast<std::uint32_t>(n)) % kSnModulus},
                         b.base(i));
        }
        if (k.integrity) {  // TS 38.323 5.9: MAC-I over header and payload, before ciphering
            ijobs.resize(slots.size());
            for (std::size_t n = 0; n < slots.size(); ++n) {
                const std::size_t i = slots[n];
                auto& j = ijobs[n];
                j.context = &*k.integrity;
                j.input = SecurityInput{first + static_cast<std::uint32_t>(n), bearer, dir};
                j.message = b.base(i);
                j.message_size = b.length_[i];
                j.length_bits = b.length_[i] * 8;
                j.headroom = true;
            }
            PC5SEC_TRY(integrity_burst(ijobs));
            for (std::size_t n = 0; n < slots.size(); ++n) {
                const std::size_t i = slots[n];
                std::memcpy(b.base(i) + b.length_[i], ijobs[n].mac.data(), kMacSize);
                b.length_[i] += kMacSize;
            }
        }
        if (k.cipher) {  // TS 38.323 5.8: payload and MAC-I ciphered, the header not
            cjobs.resize(slots.size());
            for (std::size_t n = 0; n < slots.size(); ++n) {
                const std::size_t i = slots[n];
                auto& j = cjobs[n];
                j.context = &*k.cipher;
                j.input = SecurityInput{first + static_cast<std::uint32_t>(n), bearer, dir};
                j.in = j.out = b.base(i) + kHeaderSize;
                j.in_size = j.out_size = b.length_[i] - kHeaderSize;
                j.length_bits = j.in_size * 8;
            }
            if (auto st = cipher_burst(cjobs); !st) {
                if (k.integrity)
                    for (auto i : slots)
                        b.length_[i] -= kMacSize;
                return st;
            }
        }
        k.tx_next[bearer] = first + static_cast<std::uint32_t>(slots.size());
        counters.sent += slots.size();
        if (k.tx_next[bearer] >= cfg.rekey_threshold && !k.rekey_signalled && k.id.value != 0) {
            k.rekey_signalled = true;  // pc5sec's own threshold (docs/userplane.md)
            rekeys.push_back(RekeyNeeded{l.id, k.tx_next[bearer]});
        }
        return {};
    }

    // ---- unprotect every slot in place; verdicts; returns nothing (drops are counted) ----
    void unprotect(Link& l, std::uint8_t bearer, Burst& b, pc5::Time now, bool emit) {
        const std::uint8_t dir = l.rx_direction();
        const bool bearer_ok = valid_bearer(l, bearer);
        const std::size_t mac = l.protection.integrity ? kMacSize : 0;
        auto fail = [&](std::size_t i, pc5::DropReason r, std::string detail) {
            b.verdict_[i] = r;
            drop(&l, r, std::move(detail), emit);
        };
        // 1. header, key, COUNT and replay checks; no state changes yet. New keys are fetched
        // from the key source only while no slot uses the previous context (installing them
        // retires it).
        bool previous_in_use = false;
        for (std::size_t i = 0; i < b.size_; ++i) {
            b.verdict_[i].reset();
            b.ctx_[i] = nullptr;
            if (!bearer_ok) {
                fail(i, pc5::DropReason::malformed,
                     fmt::format("bearer {} is not a data bearer (3gpp-facts §4)", bearer));
                continue;
            }
            auto h = parse_header({b.base(i), b.length_[i]});
            if (!h) {
                fail(i, pc5::DropReason::malformed, h.error().describe());
                continue;
            }
            if (b.length_[i] < kHeaderSize + mac) {
                fail(i, pc5::DropReason::malformed, "data PDU shorter than header and MAC-I");
                continue;
            }
            if (h->knrp_sess_id.value == 0 && (l.protection.integrity || l.protection.ciphering)) {
                // 3gpp-facts §2: KNRP-sess ID 0 is "no security", refused on a protected bearer.
                fail(i, pc5::DropReason::unexpected, "unprotected PDU on a protected bearer");
                continue;
            }
            pc5::DropReason why{};
            std::string detail;
            KeyContext* k = context_for(l, h->knrp_sess_id, now, why, detail, !previous_in_use);
            previous_in_use |= k && k == l.previous.get();
            if (!k) {
                fail(i, why, std::move(detail));
                continue;
            }
            const std::uint32_t count = receive_count(k->rx[bearer].deliv, h->sn);
            // TS 33.536 5.3.3.1.4 replay protection
            if (const auto seen = k->rx[bearer].window.check(count);
                seen != pdcp::CountCheck::fresh) {
                fail(i, pc5::DropReason::replay,
                     seen == pdcp::CountCheck::replay
                         ? fmt::format("COUNT {} already received", count)
                         : fmt::format("COUNT {} below the replay window", count));
                continue;
            }
            b.ctx_[i] = k;
            b.count_[i] = count;
        }
        // 2. deciphering of payload and MAC-I (TS 38.323 5.8), in place.
        cjobs.clear();
        for (std::size_t i = 0; i < b.size_; ++i) {
            auto* k = static_cast<KeyContext*>(b.ctx_[i]);
            if (b.verdict_[i] || !k->cipher || b.length_[i] == kHeaderSize) continue;
            CipherJob j;
            j.context = &*k->cipher;
            j.input = SecurityInput{b.count_[i], bearer, dir};
            j.in = j.out = b.base(i) + kHeaderSize;
            j.in_size = j.out_size = b.length_[i] - kHeaderSize;
            j.length_bits = j.in_size * 8;
            cjobs.push_back(j);
        }
        if (!cjobs.empty())
            if (auto st = cipher_burst(cjobs); !st)
                for (std::size_t i = 0; i < b.size_; ++i)
                    if (!b.verdict_[i]) fail(i, pc5::DropReason::malformed, st.error().describe());
        // 3. MAC-I over header and payload (TS 38.323 5.9, TS 33.536 5.3.3.1.4).
        ijobs.clear();
        index.clear();
        for (std::size_t i = 0; i < b.size_; ++i) {
            auto* k = static_cast<KeyContext*>(b.ctx_[i]);
            if (b.verdict_[i] || !k->integrity) continue;
            IntegrityJob j;
            j.context = &*k->integrity;
            j.input = SecurityInput{b.count_[i], bearer, dir};
            j.message = b.base(i);
            j.message_size = b.length_[i] - kMacSize;
            j.length_bits = j.message_size * 8;
            j.headroom = true;
            ijobs.push_back(j);
            index.push_back(i);
        }
        if (!ijobs.empty()) {
            if (auto st = integrity_burst(ijobs); !st) {
                for (auto i : index)
                    fail(i, pc5::DropReason::malformed, st.error().describe());
            } else {
                for (std::size_t n = 0; n < ijobs.size(); ++n) {
                    const std::size_t i = index[n];
                    const std::uint8_t* got = b.base(i) + b.length_[i] - kMacSize;
                    if (!detail::constant_time_equal(got, ijobs[n].mac.data(), kMacSize))
                        fail(i, pc5::DropReason::bad_mac,
                             "MAC-I does not verify (TS 33.536 5.3.3.1.4, cause #7)");
                }
            }
        }
        // 4. accept in order; a second copy within the burst is a replay.
        for (std::size_t i = 0; i < b.size_; ++i) {
            if (b.verdict_[i]) continue;
            auto* k = static_cast<KeyContext*>(b.ctx_[i]);
            auto& rx = k->rx[bearer];
            const std::uint32_t count = b.count_[i];
            if (rx.window.check(count) != pdcp::CountCheck::fresh) {
                fail(i, pc5::DropReason::replay, fmt::format("COUNT {} twice in a burst", count));
                continue;
            }
            rx.window.accept(count);
            if (count >= rx.deliv && count != kMaxCount) rx.deliv = count + 1;
            b.length_[i] -= mac;
            ++counters.delivered;
            counters.bytes_delivered += b.length_[i] - kHeaderSize;
        }
    }

    // Whether `id` is one of our L2 IDs: Config::l2_id, a link's, or one a link identifier
    // update replaced while its old keys still open PDUs.
    bool owns_l2(pc5::L2Id id, pc5::Time now) const {
        if (id == cfg.l2_id) return true;
        for (const auto& l : links)
            if (l->own == id ||
                (l->previous_own == id && l->previous && now < l->previous->expires))
                return true;
        return false;
    }

    Link* find_rx(pc5::L2Id from, bool srap, std::uint8_t remote, KnrpSessId id) {
        Link* any = nullptr;
        std::size_t n = 0;
        for (auto& l : links) {
            const bool from_peer =
                l->neighbour == from || (l->previous && l->previous_neighbour == from);
            if (!from_peer || l->srap != srap ||
                (srap && l->remote_local_id != remote &&
                 (l->previous_remote_local_id == 0 || l->previous_remote_local_id != remote)) ||
                !l->carrier.empty())  // its PDUs come inside its carrier's packets
                continue;
            if ((l->current && l->current->id == id) || (l->previous && l->previous->id == id))
                return l.get();
            if (!any) any = l.get();
            ++n;
        }
        // Several links share a neighbour (or a far end) only when each has its own KNRP-sess
        // ID (solution B: several links through one relay); a single candidate may have new keys
        // the driver has not given us.
        if (n == 1) return any;
        if (srap)  // a far end with a new local UE ID: by the KNRP-sess ID alone (MAC checked)
            for (auto& l : links)
                if (l->srap && l->neighbour == from && l->current && l->current->id == id &&
                    l->carrier.empty())
                    return l.get();
        return nullptr;
    }

    void deliver_or_forward(Link& l, std::uint8_t bearer, pc5::Time now) {
        Burst& b = one;
        if (b.verdict_[0]) return;
        if (!l.l3_routes.empty()) {  // layer-3 relay: re-protect with the next hop's keys
            --counters.delivered;    // opened here, but not delivered here
            Link* next = route_l3(l, b.pdu(0).subspan(kHeaderSize));
            if (!next) return;
            if (!next->current || !valid_bearer(*next, bearer)) {
                drop(&l, pc5::DropReason::not_for_us, "layer-3 route to a link that is gone", true);
                return;
            }
            std::size_t slot = 0;
            if (auto st = protect(*next, bearer, b, {&slot, 1}); !st) {
                drop(&l, pc5::DropReason::unexpected, st.error().describe(), true);
                return;
            }
            ++counters.forwarded_l3;
            emit_frame(*next, bearer, b.pdu(0));
            return;
        }
        auto p = b.payload(0);
        if (carries_protected(l)) return open_carried(l, bearer, p, now);
        events.push_back(pc5::DataReceived{l.id, l.peer, {p.begin(), p.end()}});
    }

    // Solution B through a layer-3 relay (docs/solution-b.md "The layer-3 path").
    bool carries_protected(const Link& hop) const {
        for (const auto& l : links)
            if (l->carrier == hop.id) return true;
        return false;
    }
    // The end UE's side: a packet opened on hop `l` holds an end-to-end PDU under keys from KD,
    // which the relay could not open: opened with the end-to-end link whose peer sent it.
    void open_carried(Link& hop, std::uint8_t bearer, std::span<const std::uint8_t> sdu,
                      pc5::Time now) {
        --counters.delivered;  // the hop opened it; the end-to-end link delivers it
        auto packet = parse_l3_packet(sdu);
        if (!packet) return drop(&hop, pc5::DropReason::malformed, packet.error().describe(), true);
        if (packet->dst_port != kL3ProtectedPort)
            return drop(&hop, pc5::DropReason::not_for_us,
                        fmt::format("UDP port {} on a hop that carries only end-to-end protected "
                                    "PDUs (port {})",
                                    packet->dst_port, kL3ProtectedPort),
                        true);
        Link* e2e = nullptr;
        for (auto& l : links)
            if (l->carrier == hop.id && l->l3_addr == packet->src && l->own_addr == packet->dst)
                e2e = l.get();
        if (!e2e || !e2e->current)
            return drop(&hop, pc5::DropReason::not_for_us,
                        fmt::format("no end-to-end link from {} to {} on this hop",
                                    to_string(packet->src), to_string(packet->dst)),
                        true);
        Burst& in = carried;
        in.clear();
        if (auto st = in.add_pdu(packet->data); !st)
            return drop(e2e, pc5::DropReason::malformed, st.error().describe(), true);
        unprotect(*e2e, bearer, in, now, true);
        if (in.verdict_[0]) return;
        auto p = in.payload(0);
        events.push_back(pc5::DataReceived{e2e->id, e2e->peer, {p.begin(), p.end()}});
    }

    // TS 23.304 layer-3 UE-to-UE relay: an IP router between PC5 links. The hop a packet opened
    // on `l` goes on to, or null (dropped and counted).
    Link* route_l3(const Link& l, std::span<std::uint8_t> sdu) {
        auto packet = parse_ipv6_header(sdu);  // a router reads only the IPv6 header
        if (!packet) {
            // Not IPv6: only a hop joined with exactly one other says where it goes.
            if (l.l3_routes.size() == 1) {
                if (Link* n = find(l.l3_routes.front())) return n;
                drop(&l, pc5::DropReason::not_for_us, "layer-3 route to a link that is gone", true);
                return nullptr;
            }
            drop(&l, pc5::DropReason::not_for_us,
                 fmt::format("not an IPv6 packet ({}), and this hop leads to {} others",
                             packet.error().describe(), l.l3_routes.size()),
                 true);
            return nullptr;
        }
        // RFC 2827 ingress filtering: a packet from this hop comes from its peer's address, so
        // no end UE can have its peer answer another one.
        if (packet->src != l.l3_addr) {
            drop(&l, pc5::DropReason::unexpected,
                 fmt::format("source address {} is not {}'s {} (ingress filtering)",
                             to_string(packet->src), l.peer, to_string(l.l3_addr)),
                 true);
            return nullptr;
        }
        // RFC 8200 3: a router does not forward a packet whose hop limit would reach 0.
        if (packet->hop_limit <= 1) {
            drop(&l, pc5::DropReason::not_for_us, "hop limit exceeded", true);
            return nullptr;
        }
        for (const auto& id : l.l3_routes)
            if (Link* n = find(id); n && n->l3_addr == packet->dst) {
                // RFC 8200 3: the hop limit goes down by one at each forwarding node (it is
                // outside the UDP checksum's pseudo-header).
                --sdu[7];
                return n;
            }
        drop(&l, pc5::DropReason::not_for_us,
             fmt::format("no layer-3 route from {} to {}", l.peer, to_string(packet->dst)), true);
        return nullptr;
    }

    void emit_frame(const Link& l, std::uint8_t bearer, std::span<const std::uint8_t> pdu) {
        pc5::Frame f;
        f.src = l.own ? l.own : cfg.l2_id;
        f.dst = l.neighbour;
        if (l.srap) {  // TS 38.351 via the layer-2 relay: SRAP with the far end's local UE ID
            f.lcid = pc5::lcid::kEndToEnd;
            f.pdu.reserve(srap::kHeaderSize + pdu.size());
            (void)srap::append_header({bearer, srap::kUnknownUeId, l.remote_local_id}, f.pdu);
        } else {
            f.lcid = bearer;
        }
        f.pdu.insert(f.pdu.end(), pdu.begin(), pdu.end());
        counters.bytes_sent += f.pdu.size();
        if (cfg.capture) {  // the link and DIRECTION a capture writes (docs/pcap-format.md)
            auto c = std::make_shared<pc5::FrameCapture>();
            c->link_id = l.id;
            c->from_initiator = l.initiator;
            c->integrity = l.protection.integrity;
            c->ciphered = l.protection.ciphering;
            c->via_relay = l.srap || !l.l3_routes.empty() || !l.carrier.empty();
            f.capture = std::move(c);
        }
        tx.push_back(std::move(f));
    }

    bool forward_l2(pc5::Frame& f) noexcept {
        // TS 38.351 / 3gpp-facts §4: by the SRAP header only; the PDU inside stays opaque.
        if (f.lcid != pc5::lcid::kEndToEnd || f.pdu.size() < srap::kHeaderSize ||
            (f.pdu[0] & 0xE0) != 0x80) {
            ++counters.drops[static_cast<std::size_t>(pc5::DropReason::malformed)];
            return false;
        }
        const auto from = local_of_l2.find(f.src);
        const std::uint8_t dst = f.pdu[2];
        const pc5::L2Id to = l2_of_local[dst];
        // Only end UEs with a secured hop (learned) may use the relay, toward another one.
        if (from == local_of_l2.end() || dst == srap::kUnknownUeId || to == 0 ||
            from->second == dst) {
            ++counters.drops[static_cast<std::size_t>(pc5::DropReason::not_for_us)];
            return false;
        }
        f.pdu[1] = from->second;
        f.src = cfg.l2_id;
        for (const auto& l : links)  // our L2 ID on the hop towards `to`
            if (l->neighbour == to && !l->srap && l->own) f.src = l->own;
        f.dst = to;
        ++counters.forwarded_l2;
        return true;
    }

    void receive(const pc5::Frame& f, pc5::Time now) {
        if (!owns_l2(f.dst, now))
            return drop(nullptr, pc5::DropReason::not_for_us, "not our L2 ID", true);
        std::span<const std::uint8_t> pdu = f.pdu;
        std::uint8_t bearer = f.lcid;
        bool srap_path = false;
        std::uint8_t remote = 0;
        if (f.lcid == pc5::lcid::kEndToEnd) {
            auto h = srap::parse_header(pdu);
            if (!h) return drop(nullptr, pc5::DropReason::malformed, h.error().describe(), true);
            if (!local_of_l2.empty()) {  // a layer-2 relay
                pc5::Frame out = f;
                if (forward_l2(out)) {
                    tx.push_back(std::move(out));
                    return;
                }
                return emit_last_drop("SRAP PDU with no route through this relay");
            }
            bearer = h->bearer;
            srap_path = true;
            remote = h->src_ue;
            pdu = pdu.subspan(srap::kHeaderSize);
        } else if (f.lcid < pc5::lcid::kFirstData || f.lcid > pc5::lcid::kLastData) {
            return drop(nullptr, pc5::DropReason::malformed,
                        fmt::format("LCID {} carries no data (3gpp-facts §4)", f.lcid), true);
        }
        auto h = parse_header(pdu);
        if (!h) return drop(nullptr, pc5::DropReason::malformed, h.error().describe(), true);
        Link* l = find_rx(f.src, srap_path, remote, h->knrp_sess_id);
        if (!l)
            return drop(nullptr, pc5::DropReason::unknown_session,
                        fmt::format("no link from {:06x} with KNRP-sess ID {:04x}", f.src,
                                    h->knrp_sess_id.value),
                        true);
        one.clear();
        if (auto st = one.add_pdu(pdu); !st)
            return drop(l, pc5::DropReason::malformed, st.error().describe(), true);
        unprotect(*l, bearer, one, now, true);
        // End to end through a layer-2 relay: the far end's new local UE ID (its hop changed
        // identifiers, TS 24.554 7.2.4.2), taken once a PDU verified under the link's keys.
        if (srap_path && l->srap && l->remote_local_id != remote &&
            l->previous_remote_local_id != remote && !one.verdict_[0] && l->protection.integrity) {
            l->previous_remote_local_id = l->remote_local_id;
            l->remote_local_id = remote;
        }
        deliver_or_forward(*l, bearer, now);
    }

    void emit_last_drop(std::string detail) {
        // forward_l2 counted it; report it too.
        events.push_back(pc5::PduDropped{"", pc5::DropReason::not_for_us, std::move(detail)});
    }

    void observe(const pc5::Frame& out) {
        if (out.lcid != pc5::lcid::kEndToEnd) return;
        auto h = srap::parse_header(out.pdu);
        if (!h || h->dst_ue == srap::kUnknownUeId || local_from_engine.count(out.dst)) return;
        if (const auto old = l2_of_local[h->dst_ue]; old != 0 && old != out.dst)
            local_of_l2.erase(old);  // the local UE ID was given to another UE
        l2_of_local[h->dst_ue] = out.dst;
        local_of_l2[out.dst] = h->dst_ue;
    }
};

Endpoint::Endpoint(Config config) : impl_(std::make_unique<Impl>(config)) {}
Endpoint::~Endpoint() = default;
Endpoint::Endpoint(Endpoint&&) noexcept = default;
Endpoint& Endpoint::operator=(Endpoint&&) noexcept = default;

Status Endpoint::install(const pc5::DataKeys& keys, Protection protection, pc5::Time now) {
    return impl_->install(keys, protection, now);
}

void Endpoint::remove(const std::string& link_id) {
    if (const auto* l = impl_->find(link_id)) impl_->local_from_engine.erase(l->neighbour);
    std::erase_if(impl_->links, [&](const auto& l) { return l->id == link_id; });
    for (auto& l : impl_->links)
        std::erase(l->l3_routes, link_id);
}

bool Endpoint::has_link(const std::string& link_id) const {
    return impl_->find(link_id) != nullptr;
}

Status Endpoint::add_l3_route(const std::string& a, const std::string& b) {
    Link* la = impl_->find(a);
    Link* lb = impl_->find(b);
    if (!la || !lb || la == lb)
        return make_error(Errc::state, "link_id", "a layer-3 route joins two known links");
    // A hop may lead to several others (one target, several sources); joined once each way.
    if (std::find(la->l3_routes.begin(), la->l3_routes.end(), b) == la->l3_routes.end())
        la->l3_routes.push_back(b);
    if (std::find(lb->l3_routes.begin(), lb->l3_routes.end(), a) == lb->l3_routes.end())
        lb->l3_routes.push_back(a);
    return {};
}

void Endpoint::observe_relayed(const pc5::Frame& out) {
    impl_->observe(out);
}

Status Endpoint::send(const std::string& link_id, std::uint8_t bearer,
                      std::span<const std::uint8_t> data, pc5::Time) {
    auto& d = *impl_;
    Link* l = d.find(link_id);
    if (!l || !l->current)
        return make_error(Errc::state, "link_id", fmt::format("no link \"{}\"", link_id));
    d.one.clear();
    PC5SEC_TRY(d.one.add_payload(data));
    const std::size_t slot = 0;
    if (!l->carrier.empty()) {
        // Solution B through a layer-3 relay: the end-to-end PDU (keys from KD) goes inside an
        // IPv6/UDP packet to the peer's address, protected again on the hop to the relay.
        Link* hop = d.find(l->carrier);
        if (!hop || !hop->current)
            return make_error(Errc::state, "link_id",
                              fmt::format("\"{}\" rides on hop \"{}\", which is not installed",
                                          link_id, l->carrier));
        if (!valid_bearer(*hop, bearer))
            return make_error(
                Errc::invalid_argument, "bearer",
                fmt::format("bearer {} is not a data LCID of hop \"{}\"", bearer, hop->id));
        if (data.size() > kMaxSdu - kL3Overhead - kHeaderSize - kMacSize)
            return make_error(
                Errc::invalid_argument, "data",
                fmt::format("{} octets: through a layer-3 relay a protected PDU "
                            "carries at most {}",
                            data.size(), kMaxSdu - kL3Overhead - kHeaderSize - kMacSize));
        PC5SEC_TRY(d.protect(*l, bearer, d.one, {&slot, 1}));
        auto packet = l3_packet(l->own_addr, l->l3_addr, d.one.pdu(0), kL3ProtectedPort);
        if (!packet) return packet.error();
        d.one.clear();
        PC5SEC_TRY(d.one.add_payload(*packet));
        PC5SEC_TRY(d.protect(*hop, bearer, d.one, {&slot, 1}));
        --d.counters.sent;  // one PDU of the application's, protected twice
        d.emit_frame(*hop, bearer, d.one.pdu(0));
        return {};
    }
    PC5SEC_TRY(d.protect(*l, bearer, d.one, {&slot, 1}));
    d.emit_frame(*l, bearer, d.one.pdu(0));
    return {};
}

void Endpoint::receive(const pc5::Frame& frame, pc5::Time now) {
    impl_->receive(frame, now);
}

std::optional<pc5::Frame> Endpoint::poll_transmit() {
    if (impl_->tx.empty()) return std::nullopt;
    auto f = std::move(impl_->tx.front());
    impl_->tx.pop_front();
    return f;
}

std::optional<pc5::Event> Endpoint::poll_event() {
    if (impl_->events.empty()) return std::nullopt;
    auto e = std::move(impl_->events.front());
    impl_->events.pop_front();
    return e;
}

std::optional<RekeyNeeded> Endpoint::poll_rekey() {
    if (impl_->rekeys.empty()) return std::nullopt;
    auto r = std::move(impl_->rekeys.front());
    impl_->rekeys.pop_front();
    return r;
}

const Counters& Endpoint::counters() const noexcept {
    return impl_->counters;
}

Status Endpoint::protect_burst(const std::string& link_id, std::uint8_t bearer, Burst& burst,
                               pc5::Time) {
    auto& d = *impl_;
    Link* l = d.find(link_id);
    if (!l || !l->current)
        return make_error(Errc::state, "link_id", fmt::format("no link \"{}\"", link_id));
    d.index.resize(burst.size());
    for (std::size_t i = 0; i < burst.size(); ++i)
        d.index[i] = i;
    return d.protect(*l, bearer, burst, d.index);
}

Status Endpoint::unprotect_burst(const std::string& link_id, std::uint8_t bearer, Burst& burst,
                                 pc5::Time now) {
    auto& d = *impl_;
    Link* l = d.find(link_id);
    if (!l || !l->current)
        return make_error(Errc::state, "link_id", fmt::format("no link \"{}\"", link_id));
    d.unprotect(*l, bearer, burst, now, false);
    return {};
}

Status Endpoint::forward_l3_burst(const std::string& from, const std::string& to,
                                  std::uint8_t bearer, Burst& burst, pc5::Time now) {
    auto& d = *impl_;
    Link* a = d.find(from);
    Link* b = d.find(to);
    if (!a || !a->current || !b || !b->current)
        return make_error(Errc::state, "link_id", "a layer-3 forward joins two known links");
    d.unprotect(*a, bearer, burst, now, false);
    d.index.clear();  // protect() reads the list, unprotect() is done with it
    for (std::size_t i = 0; i < burst.size(); ++i)
        if (!burst.verdict(i)) d.index.push_back(i);
    d.counters.delivered -= d.index.size();
    PC5SEC_TRY(d.protect(*b, bearer, burst, d.index));
    d.counters.forwarded_l3 += d.index.size();
    return {};
}

bool Endpoint::forward_l2(pc5::Frame& frame) noexcept {
    return impl_->forward_l2(frame);
}

}  // namespace pc5sec::userplane
