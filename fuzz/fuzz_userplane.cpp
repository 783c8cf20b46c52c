// libFuzzer target for the user plane (userplane/): arbitrary data frames to an end UE with keys
// installed for a direct link, an end-to-end link through a layer-2 relay (SRAP) and a solution B
// link, and to a relay that forwards by SRAP (layer 2), by KNRP-sess ID (solution B) and
// re-protects (layer 3). Input: frames, each
//   octet   bit 0: to the end UE (0) or the relay (1); bits 1-3: LCID 4, 5, 19, 55, 3, 20, 7, 31;
//           bits 4-5: sender (alice, relay, bob, a stranger); bits 6-7: 100 ms steps of the clock
//   2 octets length (big-endian), then the PDU.
// The raw input is also given to the layer-3 packet decoder (check_l3_packet).
// Invariants: never a crash or a leak; every frame is delivered, forwarded or dropped exactly
// once and every drop says why; what the relay sends is addressed to a known UE and, on LCID 55,
// carries an SRAP header with both local UE IDs; bursts agree with the frame path.
// Corpus: fuzz/corpus/userplane/ (genuine PDUs of each link, written by running this target
// once with PC5SEC_FUZZ_UP_SEEDS=DIR).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "pc5sec/srap.hpp"
#include "pc5sec/userplane.hpp"

namespace {

using namespace pc5sec;
using namespace std::chrono_literals;
constexpr pc5::L2Id kAlice = 0x0A, kRelay = 0x50, kBob = 0x0B, kStranger = 0x77;
constexpr std::uint8_t kLcids[8] = {4, 5, 19, 55, 3, 20, 7, 31};
constexpr pc5::L2Id kSenders[4] = {kAlice, kRelay, kBob, kStranger};

pc5::DataKeys keys(const std::string& id, std::uint16_t kid, bool initiator, pc5::L2Id peer,
                   pc5::LinkKind kind = pc5::LinkKind::hop, std::uint8_t remote = 0) {
    pc5::DataKeys k;
    k.link_id = id;
    k.kind = kind;
    k.peer_l2 = peer;
    k.remote_local_id = remote;
    k.initiator = initiator;
    k.knrp_sess_id = KnrpSessId{kid};
    k.ciphering = CipheringAlgorithm::nea2;
    k.integrity = IntegrityAlgorithm::nia2;
    std::array<std::uint8_t, 16> e{}, m{};
    for (std::size_t i = 0; i < 16; ++i) {
        e[i] = static_cast<std::uint8_t>(kid + i);
        m[i] = static_cast<std::uint8_t>(kid * 3 + i);
    }
    k.nrpek = Nrpek(e);
    k.nrpik = Nrpik(m);
    return k;
}

// Bob: a direct link with alice, an end-to-end link through the relay (SRAP, alice's local UE
// ID 1), a solution B link through the relay. The relay: hops to alice and bob (layer 3), SRAP
// local UE IDs 1 (alice) and 2 (bob), a solution B route for KNRP-sess ID 0x0303.
struct Ues {
    userplane::Endpoint bob{userplane::Config{kBob}};
    userplane::Endpoint relay{userplane::Config{kRelay}};
    Ues() {
        (void)bob.install(keys("alice>bob#1", 0x0101, false, kAlice), {}, pc5::Time{0});
        (void)bob.install(keys("alice>bob#2", 0x0202, false, kRelay, pc5::LinkKind::e2e, 1), {},
                          pc5::Time{0});
        (void)bob.install(keys("alice>bob#3", 0x0303, false, kRelay, pc5::LinkKind::e2e), {},
                          pc5::Time{0});
        (void)relay.install(keys("alice>relay#4", 0x0404, false, kAlice), {}, pc5::Time{0});
        (void)relay.install(keys("relay>bob#5", 0x0505, true, kBob), {}, pc5::Time{0});
        (void)relay.add_l3_route("alice>relay#4", "relay>bob#5");
        relay.observe_relayed({kRelay, kAlice, pc5::lcid::kEndToEnd, {0x82, 2, 1}});
        relay.observe_relayed({kRelay, kBob, pc5::lcid::kEndToEnd, {0x82, 1, 2}});
    }
};

// Genuine PDUs of each link, as alice sends them, for the corpus.
void write_seeds(const char* dir) {
    userplane::Endpoint alice{userplane::Config{kAlice}};
    (void)alice.install(keys("alice>bob#1", 0x0101, true, kBob), {}, pc5::Time{0});
    (void)alice.install(keys("alice>bob#2", 0x0202, true, kRelay, pc5::LinkKind::e2e, 2), {},
                        pc5::Time{0});
    (void)alice.install(keys("alice>relay#4", 0x0404, true, kRelay), {}, pc5::Time{0});
    const char* links[] = {"alice>bob#1", "alice>bob#2", "alice>relay#4"};
    const std::uint8_t to[] = {0, 0, 1};
    std::vector<std::uint8_t> all;
    for (int n = 0; n < 3; ++n) {
        std::vector<std::uint8_t> one;
        for (int k = 0; k < 3; ++k) {
            std::vector<std::uint8_t> data(20 + 10 * k, static_cast<std::uint8_t>(k));
            if (!alice.send(links[n], 4, data, pc5::Time{0})) continue;
            auto f = *alice.poll_transmit();
            const std::uint8_t lcid_index = f.lcid == 55 ? 3 : 0;
            std::uint8_t sender = 0;  // alice
            if (f.lcid == 55) {       // as the relay forwards it to bob: alice's local UE ID 1
                sender = 1;
                f.pdu[1] = 1;
            }
            one.push_back(static_cast<std::uint8_t>(to[n] | lcid_index << 1 | sender << 4));
            one.push_back(static_cast<std::uint8_t>(f.pdu.size() >> 8));
            one.push_back(static_cast<std::uint8_t>(f.pdu.size()));
            one.insert(one.end(), f.pdu.begin(), f.pdu.end());
        }
        std::ofstream(std::string(dir) + "/link_" + std::to_string(n) + ".bin", std::ios::binary)
            .write(reinterpret_cast<const char*>(one.data()),
                   static_cast<std::streamsize>(one.size()));
        all.insert(all.end(), one.begin(), one.end());
    }
    std::ofstream(std::string(dir) + "/all.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(all.data()), static_cast<std::streamsize>(all.size()));
}

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

// The layer-3 decoders on the raw input: the relay's (userplane::parse_ipv6_header) and the end
// UE's (IPv6 + UDP, parse_l3_packet). What the latter accepts the former does, lies inside the
// input, and built again from its fields parses to the same fields.
static void check_l3_packet(std::span<const std::uint8_t> in) {
    const auto h = userplane::parse_ipv6_header(in);
    if (!h && h.error().field.empty()) std::abort();
    const auto p = userplane::parse_l3_packet(in);
    if (p && (!h || h->src != p->src || h->dst != p->dst)) std::abort();  // a UE reads more
    if (!p) {
        if (p.error().field.empty()) std::abort();  // every refusal names its field
        return;
    }
    if (p->data.data() != in.data() + userplane::kL3Overhead ||
        p->data.size() != in.size() - userplane::kL3Overhead)
        std::abort();
    const auto again = userplane::l3_packet(p->src, p->dst, p->data);
    if (!again) {
        if (in.size() <= userplane::kMaxSdu) std::abort();  // only too big for a data SDU
        return;
    }
    const auto q = userplane::parse_l3_packet(*again);
    if (!q || q->src != p->src || q->dst != p->dst ||
        !std::equal(q->data.begin(), q->data.end(), p->data.begin(), p->data.end()))
        std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool seeded = [] {
        if (const char* dir = std::getenv("PC5SEC_FUZZ_UP_SEEDS")) write_seeds(dir);
        return true;
    }();
    (void)seeded;
    check_l3_packet({data, size});
    Ues ues;
    pc5::Time now{0};
    std::size_t frames[2] = {0, 0}, bursts = 0;
    while (size >= 3) {
        const std::uint8_t ctl = data[0];
        std::size_t len = static_cast<std::size_t>(data[1] << 8 | data[2]);
        data += 3;
        size -= 3;
        len = std::min(len, size);
        pc5::Frame f;
        const int who = ctl & 1;
        f.lcid = kLcids[ctl >> 1 & 7];
        f.src = kSenders[ctl >> 4 & 3];
        f.dst = who ? kRelay : kBob;
        f.pdu.assign(data, data + len);
        data += len;
        size -= len;
        auto& ue = who ? ues.relay : ues.bob;
        ue.receive(f, now);
        ++frames[who];
        // The burst path on the same PDU (the end UE's direct link) must never do better.
        if (!who && f.lcid == 4 && f.src == kAlice) {
            userplane::Burst b(1);
            if (b.add_pdu(f.pdu)) {
                ++bursts;
                check(static_cast<bool>(ues.bob.unprotect_burst("alice>bob#1", 4, b, now)));
                // Already accepted (or refused) by the frame path: a replay or a drop now.
                check(b.passed() == 0);
            }
        }
        now += (ctl >> 6) * 100ms;
    }
    for (auto* ue : {&ues.bob, &ues.relay}) {
        while (auto ev = ue->poll_event())
            if (auto* d = std::get_if<pc5::PduDropped>(&*ev)) check(!d->detail.empty());
        while (auto f = ue->poll_transmit()) {
            check(ue == &ues.relay);  // an end UE only receives here
            check(f->src == kRelay && (f->dst == kAlice || f->dst == kBob));
            if (f->lcid == pc5::lcid::kEndToEnd) {
                auto h = srap::parse_header(f->pdu);
                check(h && h->src_ue != 0 && h->dst_ue != 0);
            }
        }
    }
    // Every frame was delivered, forwarded or dropped, exactly once (each burst above adds one
    // drop of its own).
    const auto& b = ues.bob.counters();
    check(b.delivered + b.drops_total() == frames[0] + bursts);
    const auto& r = ues.relay.counters();
    check(r.delivered == 0);  // everything the relay opens goes on (layer 3)
    check(r.forwarded_l2 + r.forwarded_l3 + r.drops_total() == frames[1]);
    return 0;
}
