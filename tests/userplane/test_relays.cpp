// Data over real links: solution A direct, through a layer-3 relay (per-hop keys, the relay
// re-protects) and a layer-2 relay (SRAP forwarding, no end-to-end key at the relay), and
// solution B end to end through its relay. Captured PDUs are opened independently from the key
// log; hostile PDUs are injected; a long transfer crosses a re-keying.
#include <gtest/gtest.h>

#include <set>

#include "pc5sec/hex.hpp"
#include "pc5sec/srap.hpp"
#include "world.hpp"

using namespace pc5sec;
using namespace pc5sec::up_test;

namespace {

std::vector<std::uint8_t> payload(std::size_t n, std::uint32_t seq) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::uint8_t>(seq * 7 + i);
    if (n >= 4)
        for (int b = 0; b < 4; ++b)
            v[b] = static_cast<std::uint8_t>(seq >> (8 * b));
    return v;
}

std::vector<std::uint8_t> from_hex(const std::string& h) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
}

// Opens a captured data PDU with keys read from a key log only, by the header format of
// docs/userplane.md, without the user plane's code: COUNT = SN here (HFN 0, short transfers).
std::optional<std::vector<std::uint8_t>> open_with_keylog(const pc5::KeyLogCollector& log,
                                                          const std::string& link,
                                                          std::uint8_t bearer,
                                                          std::uint8_t direction,
                                                          std::span<const std::uint8_t> pdu) {
    const auto algs = log.latest("ALGS", link);
    const auto kid = from_hex(log.latest("KNRP_SESS_ID", link));
    if (algs.size() != 3 || kid.size() != 2 || pdu.size() < 9) return std::nullopt;
    if (pdu[0] != kid[0] || pdu[1] != kid[1]) return std::nullopt;
    const auto c = *ciphering_algorithm_from_id(static_cast<unsigned>(algs[0] - '0'));
    const auto i = *integrity_algorithm_from_id(static_cast<unsigned>(algs[2] - '0'));
    auto ek = from_hex(log.latest("NRPEK", link));
    auto ik = from_hex(log.latest("NRPIK", link));
    auto cipher = CipheringContext::create(c, ek);
    auto integrity = IntegrityContext::create(i, ik);
    if (!cipher || !integrity) return std::nullopt;
    const std::uint32_t count = static_cast<std::uint32_t>(pdu[2] & 3) << 16 | pdu[3] << 8 | pdu[4];
    const SecurityInput in{count, bearer, direction};
    std::vector<std::uint8_t> plain(pdu.begin(), pdu.end());
    auto body = std::span(plain).subspan(5);
    if (!cipher->apply(in, body, body, body.size() * 8)) return std::nullopt;
    MacI mac;
    std::copy(plain.end() - 4, plain.end(), mac.begin());
    plain.resize(plain.size() - 4);
    if (!integrity->verify(in, plain, plain.size() * 8, mac)) return std::nullopt;
    return std::vector<std::uint8_t>(plain.begin() + 5, plain.end());
}

std::string link_of(const Ue& u, pc5::LinkKind kind, const std::string& peer) {
    for (const auto& ev : u.events)
        if (auto* e = std::get_if<pc5::LinkEstablished>(&ev))
            if (e->link.kind == kind && e->link.peer == peer) return e->link.id;
    return {};
}

// Sends n PDUs each way and checks they arrive intact, in order, once.
void exchange(World& w, int n, std::uint8_t bearer) {
    auto& alice = w.ue(kAlice);
    auto& bob = w.ue(kBob);
    const auto a0 = alice.received.size(), b0 = bob.received.size();
    const auto ad = alice.up->counters().drops_total(), bd = bob.up->counters().drops_total();
    for (int i = 0; i < n; ++i) {
        w.send(kAlice, bearer,
               payload(1200 + static_cast<std::size_t>(i), static_cast<std::uint32_t>(i)));
        w.send(kBob, bearer, payload(300, 1000 + static_cast<std::uint32_t>(i)));
    }
    w.run();
    ASSERT_EQ(bob.received.size() - b0, static_cast<std::size_t>(n));
    ASSERT_EQ(alice.received.size() - a0, static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(bob.received[b0 + i].data,
                  payload(1200 + static_cast<std::size_t>(i), static_cast<std::uint32_t>(i)));
        EXPECT_EQ(alice.received[a0 + i].data, payload(300, 1000 + static_cast<std::uint32_t>(i)));
    }
    EXPECT_EQ(bob.up->counters().drops_total(), bd);
    EXPECT_EQ(alice.up->counters().drops_total(), ad);
}

}  // namespace

TEST(Direct, DataArrivesIntactAndTheKeyLogOpensIt) {
    World w(Solution::a);
    w.standard(pc5::Path::direct);
    const auto id = w.data_link(kAlice);
    ASSERT_FALSE(id.empty());
    exchange(w, 20, 4);
    EXPECT_EQ(w.ue(kBob).received[0].peer, "alice");
    int opened = 0;
    for (const auto& f : w.captured)
        if (f.lcid == 4 && f.src == kAlice) {
            auto plain = open_with_keylog(w.ue(kAlice).keylog, id, 4, 0, f.pdu);
            ASSERT_TRUE(plain);
            EXPECT_EQ(*plain, payload(1200 + static_cast<std::size_t>(opened),
                                      static_cast<std::uint32_t>(opened)));
            ++opened;
        }
    EXPECT_EQ(opened, 20);
}

TEST(Layer3, RelayReprotectsWithTheSecondHopsKeys) {
    World w(Solution::a);
    w.standard(pc5::Path::l3);
    auto& relay = w.ue(kRelay);
    const auto hop1 = link_of(relay, pc5::LinkKind::hop, "alice");
    const auto hop2 = link_of(relay, pc5::LinkKind::hop, "bob");
    ASSERT_FALSE(hop1.empty());
    ASSERT_FALSE(hop2.empty());
    exchange(w, 10, 5);
    EXPECT_EQ(relay.up->counters().forwarded_l3, 20u);
    EXPECT_TRUE(relay.received.empty());  // nothing is delivered to the relay itself
    // Hop 1 frames open with hop 1's keys (alice initiated it), hop 2 frames with hop 2's (the
    // relay initiated it), each from a different key log: the relay decrypted and re-encrypted.
    int hop1_frames = 0, hop2_frames = 0;
    for (const auto& f : w.captured) {
        if (f.lcid != 5) continue;
        if (f.src == kAlice) {
            EXPECT_TRUE(open_with_keylog(w.ue(kAlice).keylog, hop1, 5, 0, f.pdu));
            EXPECT_FALSE(open_with_keylog(w.ue(kBob).keylog, hop2, 5, 1, f.pdu));
            ++hop1_frames;
        } else if (f.src == kRelay && f.dst == kBob) {
            auto plain = open_with_keylog(w.ue(kBob).keylog, hop2, 5, 0, f.pdu);
            ASSERT_TRUE(plain);
            EXPECT_EQ(*plain, payload(1200 + static_cast<std::size_t>(hop2_frames),
                                      static_cast<std::uint32_t>(hop2_frames)));
            ++hop2_frames;
        }
    }
    EXPECT_EQ(hop1_frames, 10);
    EXPECT_EQ(hop2_frames, 10);
}

TEST(Layer2, RelayForwardsBySrapWithoutEndToEndKeys) {
    World w(Solution::a);
    w.standard(pc5::Path::l2);
    auto& relay = w.ue(kRelay);
    const auto e2e = link_of(w.ue(kAlice), pc5::LinkKind::e2e, "bob");
    ASSERT_FALSE(e2e.empty());
    exchange(w, 10, 24);  // an end-to-end data bearer past the hop LCIDs (SRAP bearer 24)
    EXPECT_EQ(relay.up->counters().forwarded_l2, 20u);
    EXPECT_FALSE(relay.up->has_link(e2e));
    for (const auto& rec : relay.keylog.records())
        EXPECT_NE(rec.link_id, e2e);
    int opened = 0;
    for (const auto& f : w.captured)
        if (f.lcid == pc5::lcid::kEndToEnd && f.src == kRelay && f.dst == kBob &&
            (f.pdu[0] & 0x1F) == 24) {
            auto h = srap::parse_header(f.pdu);
            ASSERT_TRUE(h);
            EXPECT_NE(h->src_ue, srap::kUnknownUeId);  // the relay wrote alice's local UE ID
            auto inner = std::span(f.pdu).subspan(srap::kHeaderSize);
            auto plain = open_with_keylog(w.ue(kBob).keylog, e2e, 24, 0, inner);
            ASSERT_TRUE(plain);
            EXPECT_EQ(*plain, payload(1200 + static_cast<std::size_t>(opened),
                                      static_cast<std::uint32_t>(opened)));
            ++opened;
        }
    EXPECT_EQ(opened, 10);
    // A UE with no hop to the relay cannot use it.
    pc5::Frame stranger{0x77, kRelay, pc5::lcid::kEndToEnd, {0x98, 0x00, 0x02, 0, 0, 0, 0, 0}};
    const auto before = relay.up->counters().drops_of(pc5::DropReason::not_for_us);
    w.inject(stranger);
    EXPECT_EQ(relay.up->counters().drops_of(pc5::DropReason::not_for_us), before + 1);
}

TEST(SolutionB, EndToEndKeysThroughTheRelay) {
    World w(Solution::b);
    w.standard(pc5::Path::l2);
    auto& alice = w.ue(kAlice);
    auto& relay = w.ue(kRelay);
    const auto id = w.data_link(kAlice);
    ASSERT_FALSE(id.empty());
    // One protected PC5-S exchange end to end opens the relay's route for the KNRP-sess ID.
    ASSERT_TRUE(alice.b->send_keepalive(id, w.now));
    w.run();
    exchange(w, 10, 4);
    // Through the relay's adaptation layer (SRAP on LCID 55), as solution A's layer-2 path.
    EXPECT_EQ(relay.up->counters().forwarded_l2, 20u);
    for (const auto& r : relay.keylog.records())  // the relay holds its hops' keys only
        EXPECT_NE(r.link_id, id) << r.label;
    int opened = 0;
    for (const auto& f : w.captured)
        if (f.lcid == pc5::lcid::kEndToEnd && f.src == kRelay && f.dst == kBob &&
            userplane::carries_data(f)) {
            auto h = srap::parse_header(f.pdu);
            ASSERT_TRUE(h);
            EXPECT_EQ(h->bearer, 4);
            auto plain = open_with_keylog(alice.keylog, id, 4, 0,
                                          std::span(f.pdu).subspan(srap::kHeaderSize));
            ASSERT_TRUE(plain);
            ++opened;
        }
    EXPECT_EQ(opened, 10);
}

class Hostile : public ::testing::TestWithParam<int> {};

// Hostile PDUs of our own, injected at bob on each kind of path: nothing is delivered, each is
// dropped with its reason and counted, and genuine data still flows afterwards.
TEST_P(Hostile, TamperedReplayedWrongKeyOutOfWindowAreDropped) {
    const int kind = GetParam();  // 0 direct, 1 l3, 2 l2, 3 B
    World w(kind == 3 ? Solution::b : Solution::a);
    w.standard(kind == 0 ? pc5::Path::direct : kind == 1 ? pc5::Path::l3 : pc5::Path::l2);
    if (kind == 3) {
        ASSERT_TRUE(w.ue(kAlice).b->send_keepalive(w.data_link(kAlice), w.now));
        w.run();
    }
    const std::uint8_t bearer = kind == 2 ? 30 : 7;
    exchange(w, 3, bearer);
    // The last data frame delivered to bob, as captured.
    pc5::Frame genuine;
    for (const auto& f : w.captured)
        if (f.dst == kBob && userplane::carries_data(f)) genuine = f;
    ASSERT_FALSE(genuine.pdu.empty());
    const std::size_t off = kind >= 2 ? srap::kHeaderSize : 0;
    auto& bob = w.ue(kBob);
    const auto delivered = bob.received.size();
    const auto drops = bob.up->counters();

    auto tampered = genuine;  // a fresh SN (else the replay check catches it first)
    tampered.pdu[off + 4] += 2;
    tampered.pdu[off + 20] ^= 0x10;
    w.inject(tampered);
    w.inject(genuine);  // replayed
    auto wrong_key = genuine;
    for (std::size_t i = off + 5; i < wrong_key.pdu.size(); ++i)
        wrong_key.pdu[i] = static_cast<std::uint8_t>(i * 29);  // same ID and SN, other keys' output
    wrong_key.pdu[off + 4] += 1;
    w.inject(wrong_key);
    auto unknown = genuine;
    unknown.pdu[off + 1] ^= 0x55;
    w.inject(unknown);
    // Out of window: hold one genuine frame, let 1100 newer ones through, then release it.
    pc5::Frame held;
    w.attacker = [&](pc5::Frame& f) {
        if (held.pdu.empty() && f.dst == kBob && userplane::carries_data(f)) {
            held = f;
            return false;
        }
        return true;
    };
    for (int i = 0; i < 1101; ++i)
        w.send(kAlice, bearer, payload(16, static_cast<std::uint32_t>(i)));
    w.run();
    w.attacker = nullptr;
    ASSERT_FALSE(held.pdu.empty());
    w.inject(held);

    const auto& c = bob.up->counters();
    EXPECT_EQ(bob.received.size(), delivered + 1100);  // the 1100 genuine ones only
    EXPECT_EQ(c.drops_of(pc5::DropReason::bad_mac) - drops.drops_of(pc5::DropReason::bad_mac), 2u);
    EXPECT_EQ(c.drops_of(pc5::DropReason::replay) - drops.drops_of(pc5::DropReason::replay), 2u);
    EXPECT_GE(c.drops_of(pc5::DropReason::unknown_session) -
                  drops.drops_of(pc5::DropReason::unknown_session),
              kind == 3 ? 0u : 1u);  // B: the relay drops an unknown ID already
    for (const auto& d : bob.drops)
        EXPECT_FALSE(d.detail.empty());
    exchange(w, 2, bearer);
}

INSTANTIATE_TEST_SUITE_P(Paths, Hostile, ::testing::Values(0, 1, 2, 3));

class LongTransfer : public ::testing::TestWithParam<pc5::Path> {};

// Re-keying asked for by the user plane itself (a low threshold), run by the link engine while
// data flows: every PDU arrives exactly once, in order.
TEST_P(LongTransfer, CrossesReKeyingWithoutLossOrDuplication) {
    const auto path = GetParam();
    World w(Solution::a);
    w.rekey_threshold = 1500;
    w.standard(path);
    const std::uint8_t bearer = 9;
    auto& bob = w.ue(kBob);
    constexpr std::uint32_t kTotal = 4000;
    for (std::uint32_t i = 0; i < kTotal; ++i) {
        w.send(kAlice, bearer, payload(200, i));
        if (i % 8 == 7) w.run(10ms);  // data interleaves with the re-keying exchange
    }
    w.run();
    ASSERT_EQ(bob.received.size(), kTotal);
    for (std::uint32_t i = 0; i < kTotal; ++i)
        ASSERT_EQ(bob.received[i].data, payload(200, i)) << i;
    EXPECT_EQ(bob.up->counters().drops_total(), 0u);
    // Nothing but the user plane's threshold asks for re-keying here: alice's station ran it.
    auto& alice = w.ue(kAlice);
    EXPECT_TRUE(std::any_of(alice.events.begin(), alice.events.end(), [](const pc5::Event& e) {
        return std::holds_alternative<pc5::LinkRekeyed>(e);
    }));
    int rekeyed = 0;
    for (const auto& ev : bob.events)
        rekeyed += std::holds_alternative<pc5::LinkRekeyed>(ev);
    EXPECT_GE(rekeyed, 2);  // 4000 PDUs at 1500 per key: at least two re-keyings
    // Distinct KNRP-sess IDs on the air toward bob.
    std::set<std::uint16_t> ids;
    for (const auto& f : w.captured)
        if (f.dst == kBob && f.lcid == bearer)
            ids.insert(static_cast<std::uint16_t>(f.pdu[0] << 8 | f.pdu[1]));
    EXPECT_GE(ids.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Paths, LongTransfer, ::testing::Values(pc5::Path::direct, pc5::Path::l3),
                         [](const auto& info) { return std::string(pc5::name(info.param)); });
