// The user plane on its own: header, COUNT (TS 38.323 5.2.2.2), replay window, policy, protect /
// unprotect with every algorithm, bursts, HFN wrap, re-keying threshold and grace window,
// unprotected bearers. Two userplane::Endpoints with keys made here.
#include <gtest/gtest.h>

#include <numeric>

#include "pc5sec/hex.hpp"
#include "pc5sec/pc5_cause.hpp"
#include "pc5sec/rng.hpp"
#include "pc5sec/userplane.hpp"

#include "../support/data_keys.hpp"

using namespace pc5sec;
using namespace pc5sec::userplane;
using namespace std::chrono_literals;

namespace {

constexpr pc5::L2Id kA = 0x0A, kB = 0x0B;

pc5::DataKeys keys(std::uint16_t id, bool initiator,
                   CipheringAlgorithm c = CipheringAlgorithm::nea2,
                   IntegrityAlgorithm i = IntegrityAlgorithm::nia2, std::uint8_t seed = 1) {
    return test::data_keys("alice>bob#00000001", id, initiator, initiator ? kB : kA, seed, c, i);
}

struct Pair {
    Endpoint a{Config{kA}}, b{Config{kB}};
    std::vector<pc5::Frame> frames;  // a -> b, as sent
    explicit Pair(std::uint16_t id = 0x1234, CipheringAlgorithm c = CipheringAlgorithm::nea2,
                  IntegrityAlgorithm i = IntegrityAlgorithm::nia2, Protection p = {}) {
        EXPECT_TRUE(a.install(keys(id, true, c, i), p, pc5::Time{0}));
        EXPECT_TRUE(b.install(keys(id, false, c, i), p, pc5::Time{0}));
    }
    pc5::Frame send(std::span<const std::uint8_t> data, std::uint8_t bearer = 4) {
        auto st = a.send("alice>bob#00000001", bearer, data, pc5::Time{0});
        EXPECT_TRUE(st) << st.error().describe();
        auto f = a.poll_transmit();
        EXPECT_TRUE(f);
        frames.push_back(*f);
        return *f;
    }
    std::optional<pc5::Event> deliver(const pc5::Frame& f, pc5::Time now = pc5::Time{0}) {
        b.receive(f, now);
        return b.poll_event();
    }
};

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t seed = 7) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::uint8_t>(seed + i * 13);
    return v;
}

bool delivered(const std::optional<pc5::Event>& ev, std::span<const std::uint8_t> want) {
    auto* d = ev ? std::get_if<pc5::DataReceived>(&*ev) : nullptr;
    return d && std::equal(d->data.begin(), d->data.end(), want.begin(), want.end());
}
std::optional<pc5::DropReason> dropped(const std::optional<pc5::Event>& ev) {
    auto* d = ev ? std::get_if<pc5::PduDropped>(&*ev) : nullptr;
    if (!d) return std::nullopt;
    return d->reason;
}

}  // namespace

TEST(Header, RoundTripAndStrictParse) {
    std::uint8_t h[kHeaderSize];
    write_header(Header{KnrpSessId{0xBEEF}, 0x3FFFF}, h);
    EXPECT_EQ(h[2], 0x83);  // D/C = 1, SN bits 17..16
    auto p = parse_header(h);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->knrp_sess_id.value, 0xBEEF);
    EXPECT_EQ(p->sn, 0x3FFFFu);
    std::uint8_t control[kHeaderSize] = {0xBE, 0xEF, 0x03, 0, 0};  // D/C = 0
    EXPECT_EQ(parse_header(control).error().field, "up.dc");
    std::uint8_t reserved[kHeaderSize] = {0xBE, 0xEF, 0x84, 0, 0};
    EXPECT_EQ(parse_header(reserved).error().field, "up.reserved");
    EXPECT_EQ(parse_header(std::span(h, 4)).error().field, "up.header");
}

TEST(Count, HfnEstimateOfTs38323) {
    EXPECT_EQ(receive_count(0, 0), 0u);
    EXPECT_EQ(receive_count(5, 7), 7u);
    // RX_DELIV just before the SN wraps: a small SN is the next HFN.
    EXPECT_EQ(receive_count(kSnModulus - 2, 1), kSnModulus + 1);
    // RX_DELIV just after the wrap: a large SN is the previous HFN.
    EXPECT_EQ(receive_count(kSnModulus + 1, kSnModulus - 1), kSnModulus - 1);
    EXPECT_EQ(receive_count(3 * kSnModulus + 10, 20), 3 * kSnModulus + 20);
}

TEST(ReplayWindow, RemembersTheLast1024CountsAcrossWords) {
    using pdcp::CountCheck;
    ReplayWindow w;
    EXPECT_EQ(w.check(100), CountCheck::fresh);
    w.accept(100);
    EXPECT_EQ(w.check(100), CountCheck::replay);
    w.accept(98);
    EXPECT_EQ(w.check(98), CountCheck::replay);
    EXPECT_EQ(w.check(99), CountCheck::fresh);
    w.accept(100 + 70);  // shifts by more than one word
    EXPECT_EQ(w.check(100), CountCheck::replay);
    EXPECT_EQ(w.check(98), CountCheck::replay);
    EXPECT_EQ(w.check(99), CountCheck::fresh);
    EXPECT_EQ(w.check(170 - 1023), CountCheck::fresh);
    EXPECT_EQ(w.check(0), CountCheck::fresh);  // 170 behind the top: inside the window, never seen
    w.accept(5000);
    EXPECT_EQ(w.check(5000 - 1024), CountCheck::too_old);  // below the window: refused as a replay
    EXPECT_EQ(w.check(5000 - 1023), CountCheck::fresh);
    EXPECT_EQ(w.check(170), CountCheck::too_old);
    EXPECT_EQ(w.highest(), 5000u);
}

TEST(Policy, ResolvedFromBothEndsAsTs33536) {
    using L = PolicyLevel;
    const auto c = CipheringAlgorithm::nea2;
    const auto i = IntegrityAlgorithm::nia2;
    auto on = resolve_policy({L::preferred, L::required}, {L::required, L::preferred}, c, i);
    ASSERT_TRUE(on);
    EXPECT_EQ(*on, (Protection{true, true}));
    auto off = resolve_policy({L::not_needed, L::not_needed}, {L::preferred, L::preferred}, c, i);
    ASSERT_TRUE(off);
    EXPECT_EQ(*off, (Protection{false, false}));
    auto bad = resolve_policy({L::required, L::preferred}, {L::not_needed, L::preferred}, c, i);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().field, "user_plane.integrity");
    EXPECT_EQ(bad.error().pc5_cause, cause::kSecurityPolicyNotAligned);
    // NIA0 never protects data: REQUIRED integrity on a null-integrity link is refused.
    EXPECT_FALSE(resolve_policy({L::required, L::preferred}, {L::required, L::preferred},
                                CipheringAlgorithm::nea0, IntegrityAlgorithm::nia0));
    auto weak = resolve_policy({L::preferred, L::preferred}, {L::preferred, L::preferred},
                               CipheringAlgorithm::nea0, IntegrityAlgorithm::nia2);
    ASSERT_TRUE(weak);
    EXPECT_EQ(*weak, (Protection{true, false}));
}

class Algorithms
    : public ::testing::TestWithParam<std::tuple<CipheringAlgorithm, IntegrityAlgorithm>> {};

TEST_P(Algorithms, EverySizeArrivesIntactAndCiphered) {
    auto [c, i] = GetParam();
    const bool ciphered = c != CipheringAlgorithm::nea0;
    Pair p(0x1234, c, i, Protection{true, ciphered});
    for (std::size_t n : {0u, 1u, 17u, 1500u, 9000u}) {
        auto data = bytes(n, static_cast<std::uint8_t>(n));
        auto f = p.send(data);
        ASSERT_EQ(f.lcid, 4);
        ASSERT_EQ(f.pdu.size(), kHeaderSize + n + kMacSize);
        EXPECT_EQ(f.pdu[0], 0x12);
        EXPECT_EQ(f.pdu[1], 0x34);
        if (n >= 16 && ciphered) {
            EXPECT_FALSE(std::equal(data.begin(), data.end(), f.pdu.begin() + kHeaderSize));
        }
        EXPECT_TRUE(delivered(p.deliver(f), data)) << n;
    }
    EXPECT_EQ(p.b.counters().delivered, 5u);
    EXPECT_EQ(p.b.counters().drops_total(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    All, Algorithms,
    ::testing::Combine(::testing::Values(CipheringAlgorithm::nea0, CipheringAlgorithm::nea1,
                                         CipheringAlgorithm::nea2, CipheringAlgorithm::nea3),
                       ::testing::Values(IntegrityAlgorithm::nia1, IntegrityAlgorithm::nia2,
                                         IntegrityAlgorithm::nia3)),
    [](const auto& info) {
        return std::string(short_name(std::get<0>(info.param))) +
               std::string(short_name(std::get<1>(info.param)));
    });

TEST(Unprotect, HostilePdusAreDroppedCountedNeverDelivered) {
    Pair p;
    auto data = bytes(100);
    auto f = p.send(data);
    // Tampered payload, tampered header (SN), tampered MAC-I.
    for (std::size_t at : {std::size_t{10}, std::size_t{4}, f.pdu.size() - 1}) {
        auto t = f;
        t.pdu[at] ^= 0x01;
        EXPECT_EQ(dropped(p.deliver(t)), pc5::DropReason::bad_mac) << at;
    }
    EXPECT_TRUE(delivered(p.deliver(f), data));
    EXPECT_EQ(dropped(p.deliver(f)), pc5::DropReason::replay);  // replayed
    // Wrong key: the right KNRP-sess ID under other keys.
    Endpoint forger{Config{kA}};
    ASSERT_TRUE(
        forger.install(keys(0x1234, true, CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2, 99),
                       {}, pc5::Time{0}));
    ASSERT_TRUE(forger.send("alice>bob#00000001", 4, data, pc5::Time{0}));
    auto forged = *forger.poll_transmit();
    forged.pdu[4] = 50;  // a fresh SN
    EXPECT_EQ(dropped(p.deliver(forged)), pc5::DropReason::bad_mac);
    // Unknown KNRP-sess ID, wrong bearer (LCID 5 instead of 4), malformed, control PDU.
    auto unknown = f;
    unknown.pdu[1] = 0x35;
    EXPECT_EQ(dropped(p.deliver(unknown)), pc5::DropReason::unknown_session);
    auto other_bearer = p.send(data);
    other_bearer.lcid = 5;  // BEARER enters the MAC-I (3gpp-facts §4)
    EXPECT_EQ(dropped(p.deliver(other_bearer)), pc5::DropReason::bad_mac);
    auto short_pdu = f;
    short_pdu.pdu.resize(6);
    EXPECT_EQ(dropped(p.deliver(short_pdu)), pc5::DropReason::malformed);
    auto lcid3 = f;
    lcid3.lcid = 3;
    EXPECT_EQ(dropped(p.deliver(lcid3)), pc5::DropReason::malformed);
    // Out of window: 2000 newer PDUs, then one of the first that was never delivered.
    auto old = p.send(data);
    for (int n = 0; n < 2000; ++n)
        ASSERT_TRUE(delivered(p.deliver(p.send(data)), data));
    EXPECT_EQ(dropped(p.deliver(old)), pc5::DropReason::replay);
    const auto& c = p.b.counters();
    EXPECT_EQ(c.delivered, 2001u);
    EXPECT_EQ(c.drops_of(pc5::DropReason::bad_mac), 5u);
    EXPECT_EQ(c.drops_of(pc5::DropReason::replay), 2u);
    EXPECT_EQ(c.drops_of(pc5::DropReason::unknown_session), 1u);
    EXPECT_EQ(c.drops_of(pc5::DropReason::malformed), 2u);
    // The receiver still works after all of it.
    EXPECT_TRUE(delivered(p.deliver(p.send(data)), data));
}

TEST(Unprotect, BothEndsAsInitiatorNeverShareAKeystream) {
    Endpoint a{Config{kA}}, b{Config{kB}};
    ASSERT_TRUE(a.install(keys(7, true), {}, pc5::Time{0}));
    auto bk = keys(7, true);  // b wrongly believes it initiated: it expects DIRECTION 1
    bk.peer_l2 = kA;
    ASSERT_TRUE(b.install(bk, {}, pc5::Time{0}));
    auto data = bytes(64);
    ASSERT_TRUE(a.send("alice>bob#00000001", 4, data, pc5::Time{0}));
    auto f = *a.poll_transmit();
    b.receive(f, pc5::Time{0});
    EXPECT_EQ(dropped(b.poll_event()), pc5::DropReason::bad_mac);  // DIRECTION enters the MAC-I
}

TEST(Burst, ProtectAndUnprotectInPlaceWithOneBadSlot) {
    Pair p;
    Burst burst(32, 1500);
    std::vector<std::vector<std::uint8_t>> sent;
    for (int i = 0; i < 32; ++i) {
        sent.push_back(bytes(1500, static_cast<std::uint8_t>(i)));
        ASSERT_TRUE(burst.add_payload(sent.back()));
    }
    ASSERT_TRUE(p.a.protect_burst("alice>bob#00000001", 6, burst, pc5::Time{0}));
    Burst rx(32, 1500);
    for (int i = 0; i < 32; ++i)
        ASSERT_TRUE(rx.add_pdu(burst.pdu(i)));
    rx.pdu(9)[100] ^= 0x80;
    ASSERT_TRUE(rx.add_pdu(burst.pdu(0)).ok() == false);  // full
    ASSERT_TRUE(p.b.unprotect_burst("alice>bob#00000001", 6, rx, pc5::Time{0}));
    EXPECT_EQ(rx.passed(), 31u);
    EXPECT_EQ(rx.verdict(9), pc5::DropReason::bad_mac);
    for (int i = 0; i < 32; ++i)
        if (i != 9) {
            EXPECT_TRUE(std::ranges::equal(rx.payload(i), sent[i])) << i;
        }
    // The same burst again: every slot is a replay.
    Burst again(32, 1500);
    for (int i = 0; i < 32; ++i)
        ASSERT_TRUE(again.add_pdu(burst.pdu(i)));
    ASSERT_TRUE(p.b.unprotect_burst("alice>bob#00000001", 6, again, pc5::Time{0}));
    EXPECT_EQ(again.passed(), 1u);  // only slot 9, which failed its MAC-I before
    // A single PDU twice in one burst: the second copy is a replay.
    Burst twice(2, 1500);
    Burst one(1, 1500);
    ASSERT_TRUE(one.add_payload(sent[0]));
    ASSERT_TRUE(p.a.protect_burst("alice>bob#00000001", 6, one, pc5::Time{0}));
    ASSERT_TRUE(twice.add_pdu(one.pdu(0)));
    ASSERT_TRUE(twice.add_pdu(one.pdu(0)));
    ASSERT_TRUE(p.b.unprotect_burst("alice>bob#00000001", 6, twice, pc5::Time{0}));
    EXPECT_FALSE(twice.verdict(0));
    EXPECT_EQ(twice.verdict(1), pc5::DropReason::replay);
}

TEST(Burst, InPlaceSlotsUseTheCallersHeadroom) {
    Pair p;
    std::vector<std::uint8_t> buffer(kHeadroom + kHeaderSize + 100 + kMacSize, 0xEE);
    auto data = bytes(100);
    std::copy(data.begin(), data.end(), buffer.begin() + kHeadroom + kHeaderSize);
    Burst burst(1, 100);
    ASSERT_TRUE(burst.add_in_place(buffer.data() + kHeadroom + kHeaderSize, 100));
    ASSERT_TRUE(p.a.protect_burst("alice>bob#00000001", 4, burst, pc5::Time{0}));
    EXPECT_EQ(burst.pdu(0).data(), buffer.data() + kHeadroom);  // no copy
    EXPECT_EQ(buffer[kHeadroom], 0x12);                         // the header, in place
    EXPECT_TRUE(std::all_of(buffer.begin(), buffer.begin() + kHeadroom,
                            [](std::uint8_t b) { return b == 0xEE; }));  // headroom restored
    pc5::Frame f{kA, kB, 4, {burst.pdu(0).begin(), burst.pdu(0).end()}};
    EXPECT_TRUE(delivered(p.deliver(f), data));
    EXPECT_FALSE(burst.add_in_place(buffer.data(), 101));  // over max_payload (and full)
}

TEST(Count, SnWrapsIntoTheNextHfnWithoutLoss) {
    Pair p;
    Burst tx(64, 8), rx(64, 8);
    const std::uint8_t one_octet[1] = {0x5a};
    std::uint64_t got = 0;
    for (std::uint32_t sent = 0; sent < kSnModulus + 5000; sent += 64) {
        tx.clear();
        rx.clear();
        for (int i = 0; i < 64; ++i)
            ASSERT_TRUE(tx.add_payload(one_octet));
        ASSERT_TRUE(p.a.protect_burst("alice>bob#00000001", 4, tx, pc5::Time{0}));
        for (int i = 0; i < 64; ++i)
            ASSERT_TRUE(rx.add_pdu(tx.pdu(i)));
        ASSERT_TRUE(p.b.unprotect_burst("alice>bob#00000001", 4, rx, pc5::Time{0}));
        got += rx.passed();
    }
    EXPECT_EQ(got, p.b.counters().delivered);
    EXPECT_EQ(p.b.counters().drops_total(), 0u);
    EXPECT_GT(got, kSnModulus);  // COUNT went past 2^18: HFN 1
}

TEST(Rekey, ThresholdAsksOnceAndGraceWindowKeepsTheOldKeys) {
    Config ca{kA};
    ca.rekey_threshold = 100;
    ca.grace = 1s;
    Endpoint a{ca}, b{Config{kB, 1s}};
    ASSERT_TRUE(a.install(keys(0x0101, true), {}, pc5::Time{0}));
    ASSERT_TRUE(b.install(keys(0x0101, false), {}, pc5::Time{0}));
    auto data = bytes(20);
    std::vector<pc5::Frame> old;
    for (int i = 0; i < 120; ++i) {
        ASSERT_TRUE(a.send("alice>bob#00000001", 4, data, pc5::Time{0}));
        old.push_back(*a.poll_transmit());
    }
    auto r = a.poll_rekey();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->link_id, "alice>bob#00000001");
    EXPECT_EQ(r->count, 100u);
    EXPECT_FALSE(a.poll_rekey());  // once per key
    // New keys at both ends (as after LinkRekeyed); sending switches at once.
    ASSERT_TRUE(a.install(keys(0x0202, true, CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2, 5),
                          {}, 10ms));
    ASSERT_TRUE(b.install(
        keys(0x0202, false, CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2, 5), {}, 10ms));
    ASSERT_TRUE(a.send("alice>bob#00000001", 4, data, 10ms));
    auto fresh = *a.poll_transmit();
    EXPECT_EQ(fresh.pdu[0], 0x02);
    EXPECT_EQ(fresh.pdu[3] << 8 | fresh.pdu[4], 0);  // COUNT starts again under new keys
    b.receive(fresh, 20ms);
    EXPECT_TRUE(std::holds_alternative<pc5::DataReceived>(*b.poll_event()));
    // Old-key PDUs still in flight: accepted within the grace window, refused after it.
    for (int i = 0; i < 60; ++i) {
        b.receive(old[i], 500ms);
        EXPECT_TRUE(std::holds_alternative<pc5::DataReceived>(*b.poll_event())) << i;
    }
    b.receive(old[60], 1100ms);
    EXPECT_EQ(dropped(b.poll_event()), pc5::DropReason::unknown_session);
    EXPECT_EQ(b.counters().delivered, 61u);
}

TEST(Protection, NotNeededBearersTravelInClearWithKeyIdZero) {
    Pair p(0x1234, CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2, Protection{false, false});
    auto data = bytes(40);
    auto f = p.send(data);
    EXPECT_EQ(f.pdu.size(), kHeaderSize + 40);  // no MAC-I
    EXPECT_EQ(f.pdu[0] | f.pdu[1], 0);          // KNRP-sess ID 0: no security (3gpp-facts §2)
    EXPECT_TRUE(std::equal(data.begin(), data.end(), f.pdu.begin() + kHeaderSize));
    EXPECT_TRUE(delivered(p.deliver(f), data));
    EXPECT_EQ(dropped(p.deliver(f)), pc5::DropReason::replay);  // duplicates still detected
    // Integrity only.
    Pair q(0x2222, CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2, Protection{true, false});
    auto g = q.send(data);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), g.pdu.begin() + kHeaderSize));
    g.pdu[8] ^= 1;
    EXPECT_EQ(dropped(q.deliver(g)), pc5::DropReason::bad_mac);
    // A clear PDU (ID 0) sent to a protected bearer is refused.
    Pair r;
    auto clear = f;
    EXPECT_EQ(dropped(r.deliver(clear)), pc5::DropReason::unexpected);
    // Install refuses integrity with NIA0 and a protected bearer with ID 0.
    Endpoint e{Config{kA}};
    EXPECT_EQ(e.install(keys(0x1, true, CipheringAlgorithm::nea2, IntegrityAlgorithm::nia0), {},
                        pc5::Time{0})
                  .error()
                  .field,
              "protection");
    EXPECT_EQ(e.install(keys(0, true), {}, pc5::Time{0}).error().field, "knrp_sess_id");
    EXPECT_FALSE(e.has_link("alice>bob#00000001"));
}

TEST(Send, RefusesBadBearersSizesAndLinks) {
    Pair p;
    auto data = bytes(10);
    EXPECT_EQ(p.a.send("alice>bob#00000001", 3, data, pc5::Time{0}).error().field, "bearer");
    EXPECT_EQ(p.a.send("alice>bob#00000001", 20, data, pc5::Time{0}).error().field, "bearer");
    EXPECT_EQ(p.a.send("nobody", 4, data, pc5::Time{0}).error().field, "link_id");
    auto big = bytes(kMaxSdu + 1);
    EXPECT_EQ(p.a.send("alice>bob#00000001", 4, big, pc5::Time{0}).error().field, "data");
    EXPECT_FALSE(p.a.poll_transmit());
    EXPECT_EQ(p.a.counters().sent, 0u);
}

// ------------------------------------------------------------------ layer-3 packets and routing

namespace {

// Keys of another link: its id names both ends ("<initiator>><peer>#tag", as the engines make
// them), `peer` is the neighbour's L2 ID.
pc5::DataKeys hop_keys(const std::string& link, std::uint16_t id, bool initiator, pc5::L2Id peer) {
    return test::data_keys(link, id, initiator, peer, static_cast<std::uint8_t>(id));
}

// alice and carol each have a hop to relay-1, which has one to bob; the relay joins both
// sources' hops with bob's (two pairs, one target).
struct L3Relay {
    static constexpr pc5::L2Id kAlice = 0x0A, kCarol = 0x0C, kBob = 0x0B, kRelay = 0x50;
    const std::string hop_a = "alice>relay-1#1", hop_c = "carol>relay-1#2", hop_b = "relay-1>bob#3";
    Endpoint alice{Config{kAlice}}, carol{Config{kCarol}}, bob{Config{kBob}}, relay{Config{kRelay}};
    L3Relay() {
        const pc5::Time t{0};
        EXPECT_TRUE(alice.install(hop_keys(hop_a, 0x1111, true, kRelay), {}, t));
        EXPECT_TRUE(carol.install(hop_keys(hop_c, 0x2222, true, kRelay), {}, t));
        EXPECT_TRUE(bob.install(hop_keys(hop_b, 0x3333, false, kRelay), {}, t));
        EXPECT_TRUE(relay.install(hop_keys(hop_a, 0x1111, false, kAlice), {}, t));
        EXPECT_TRUE(relay.install(hop_keys(hop_c, 0x2222, false, kCarol), {}, t));
        EXPECT_TRUE(relay.install(hop_keys(hop_b, 0x3333, true, kBob), {}, t));
        EXPECT_TRUE(relay.add_l3_route(hop_a, hop_b));
        EXPECT_TRUE(relay.add_l3_route(hop_c, hop_b));
    }
    Endpoint& at(pc5::L2Id l2) {
        return l2 == kAlice ? alice : l2 == kCarol ? carol : l2 == kBob ? bob : relay;
    }
    // Sends one SDU from `who` on `link`, then carries every frame until the air is quiet.
    void send(Endpoint& who, const std::string& link, std::span<const std::uint8_t> sdu) {
        ASSERT_TRUE(who.send(link, 4, sdu, pc5::Time{0}));
        for (bool moved = true; moved;) {
            moved = false;
            for (Endpoint* e : {&alice, &carol, &bob, &relay})
                while (auto f = e->poll_transmit()) {
                    at(f->dst).receive(*f, pc5::Time{0});
                    moved = true;
                }
        }
    }
    static std::vector<pc5::DataReceived> received(Endpoint& e) {
        std::vector<pc5::DataReceived> out;
        while (auto ev = e.poll_event())
            if (auto* d = std::get_if<pc5::DataReceived>(&*ev)) out.push_back(*d);
        return out;
    }
    static std::vector<pc5::PduDropped> drops(Endpoint& e) {
        std::vector<pc5::PduDropped> out;
        while (auto ev = e.poll_event())
            if (auto* d = std::get_if<pc5::PduDropped>(&*ev)) out.push_back(*d);
        return out;
    }
};

std::span<const std::uint8_t> bytes_of_text(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<std::uint8_t> packet(const std::string& from, const std::string& to,
                                 std::string_view text) {
    return l3_packet(l3_address(from), l3_address(to), bytes_of_text(text)).value();
}

}  // namespace

// The address plan of docs/userplane.md: fd50:c5ec::/64 and SHA-256(user info ID)[0..7].
TEST(L3Packet, AddressesAndGoldenPacket) {
    EXPECT_EQ(to_string(l3_address("alice")), "fd50:c5ec::2bd8:6c9:7f0e:af");
    EXPECT_EQ(to_string(l3_address("bob")), "fd50:c5ec::81b6:37d8:fcd2:c6da");
    // IPv6 (RFC 8200) + UDP (RFC 768) with the checksum over the pseudo-header, computed
    // independently (Python's struct and hashlib).
    const auto p = packet("alice", "bob", "hello bob");
    EXPECT_EQ(to_hex(p),
              "6000000000111140fd50c5ec000000002bd806c97f0e00affd50c5ec0000000081b637d8fcd2c6da"
              "13dd13dd0011199a68656c6c6f20626f62");
    const auto parsed = parse_l3_packet(p);
    ASSERT_TRUE(parsed) << parsed.error().describe();
    EXPECT_EQ(parsed->src, l3_address("alice"));
    EXPECT_EQ(parsed->dst, l3_address("bob"));
    EXPECT_EQ(parsed->hop_limit, kL3HopLimit);
    EXPECT_EQ(std::string(parsed->data.begin(), parsed->data.end()), "hello bob");
    // Empty data and the largest that fits a data SDU.
    EXPECT_TRUE(parse_l3_packet(l3_packet(l3_address("a"), l3_address("b"), {}).value()));
    const auto big = bytes(kMaxSdu - kL3Overhead);
    EXPECT_EQ(l3_packet(l3_address("a"), l3_address("b"), big).value().size(), kMaxSdu);
    const auto too_big = bytes(kMaxSdu - kL3Overhead + 1);
    auto refused = l3_packet(l3_address("a"), l3_address("b"), too_big);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().field, "data");
}

TEST(L3Packet, EveryBadFieldIsNamed) {
    const auto good = packet("alice", "bob", "hello bob");
    auto field_of = [](std::vector<std::uint8_t> p) {
        auto r = parse_l3_packet(p);
        return r ? std::string("accepted") : r.error().field;
    };
    EXPECT_EQ(field_of({good.begin(), good.begin() + 39}), "ipv6.header");
    auto short_udp = std::vector<std::uint8_t>(good.begin(), good.begin() + 44);
    short_udp[4] = 0;
    short_udp[5] = 4;  // the payload length agrees: 4 octets cannot hold the UDP header
    EXPECT_EQ(field_of(short_udp), "udp.header");
    EXPECT_EQ(parse_ipv6_header(short_udp).value().next_header, kIpProtocolUdp);
    auto p = good;
    p[0] = 0x40;  // version 4
    EXPECT_EQ(field_of(p), "ipv6.version");
    p = good;
    p[5] += 1;  // payload length
    EXPECT_EQ(field_of(p), "ipv6.payload_length");
    p = good;
    p[6] = 6;  // TCP: a router still reads it
    EXPECT_EQ(field_of(p), "ipv6.next_header");
    EXPECT_TRUE(parse_ipv6_header(p));
    p = good;
    p[45] += 1;  // UDP length
    EXPECT_EQ(field_of(p), "udp.length");
    p = good;
    p.back() ^= 1;  // data changed under the checksum
    EXPECT_EQ(field_of(p), "udp.checksum");
    p = good;
    p[46] = p[47] = 0;  // RFC 8200 8.1: no zero checksum over IPv6
    EXPECT_EQ(field_of(p), "udp.checksum");
    p = good;
    p[24] ^= 0x80;  // the destination is in the pseudo-header
    EXPECT_EQ(field_of(p), "udp.checksum");
    p = good;
    p[7] = 1;  // the hop limit is not
    EXPECT_EQ(field_of(p), "accepted");
}

// TS 23.304 layer-3 UE-to-UE relay: two sources, one target, one relay. Each packet goes where
// its destination address says, with its hop limit one lower; the target's answers reach only
// the source they are for.
TEST(L3Routing, TwoSourcesOneTargetEachGetsOnlyItsOwnAnswers) {
    L3Relay w;
    w.send(w.alice, w.hop_a, packet("alice", "bob", "from alice"));
    w.send(w.carol, w.hop_c, packet("carol", "bob", "from carol"));
    auto at_bob = L3Relay::received(w.bob);
    ASSERT_EQ(at_bob.size(), 2u);
    for (const auto& [d, from] : {std::pair{at_bob[0], "alice"}, std::pair{at_bob[1], "carol"}}) {
        EXPECT_EQ(d.link_id, w.hop_b);
        auto p = parse_l3_packet(d.data);
        ASSERT_TRUE(p);
        EXPECT_EQ(p->src, l3_address(from));
        EXPECT_EQ(p->hop_limit, kL3HopLimit - 1);  // RFC 8200 3: one lower per router
        EXPECT_EQ(std::string(p->data.begin(), p->data.end()), std::string("from ") + from);
    }
    // Answers: each to its own source, in either order; the newest pairing does not take all.
    w.send(w.bob, w.hop_b, packet("bob", "alice", "to alice"));
    w.send(w.bob, w.hop_b, packet("bob", "carol", "to carol"));
    w.send(w.bob, w.hop_b, packet("bob", "alice", "to alice again"));
    const auto at_alice = L3Relay::received(w.alice), at_carol = L3Relay::received(w.carol);
    ASSERT_EQ(at_alice.size(), 2u);
    ASSERT_EQ(at_carol.size(), 1u);
    for (const auto& d : at_alice)
        EXPECT_EQ(parse_l3_packet(d.data).value().dst, l3_address("alice"));
    EXPECT_EQ(parse_l3_packet(at_carol[0].data).value().dst, l3_address("carol"));
    // A router reads only the IPv6 header: another next header, or a UDP checksum the relay
    // does not check, goes on too (the end UE's parse_l3_packet judges the rest).
    auto tcp = packet("alice", "bob", "not udp");
    tcp[6] = 6;
    w.send(w.alice, w.hop_a, tcp);
    const auto tcp_at_bob = L3Relay::received(w.bob);
    ASSERT_EQ(tcp_at_bob.size(), 1u);
    EXPECT_EQ(parse_ipv6_header(tcp_at_bob[0].data).value().next_header, 6);
    EXPECT_EQ(w.relay.counters().forwarded_l3, 6u);
    EXPECT_EQ(w.relay.counters().drops_total(), 0u);
    EXPECT_EQ(w.relay.counters().delivered, 0u);  // nothing is delivered to the relay itself
}

// What the relay refuses, each counted with its reason and never delivered anywhere.
TEST(L3Routing, SpoofedUnroutableAndExpiredPacketsAreDropped) {
    L3Relay w;
    auto refused = [&](Endpoint& who, const std::string& link, std::vector<std::uint8_t> sdu,
                       pc5::DropReason want) {
        w.send(who, link, sdu);
        const auto drops = L3Relay::drops(w.relay);
        ASSERT_EQ(drops.size(), 1u);
        EXPECT_EQ(drops[0].reason, want) << drops[0].detail;
        EXPECT_EQ(drops[0].link_id, link);
        EXPECT_TRUE(L3Relay::received(w.alice).empty());
        EXPECT_TRUE(L3Relay::received(w.bob).empty());
        EXPECT_TRUE(L3Relay::received(w.carol).empty());
    };
    // RFC 2827 ingress filtering: carol claims alice's address to have bob answer her.
    refused(w.carol, w.hop_c, packet("alice", "bob", "spoofed"), pc5::DropReason::unexpected);
    // alice's hop is joined with bob's only: no way to carol through this relay.
    refused(w.alice, w.hop_a, packet("alice", "carol", "hello carol"), pc5::DropReason::not_for_us);
    // No address behind any joined hop.
    refused(w.bob, w.hop_b, packet("bob", "dave", "hello dave"), pc5::DropReason::not_for_us);
    // Bob's hop leads to two sources: an SDU that is not IPv6 names neither.
    refused(w.bob, w.hop_b, bytes(100), pc5::DropReason::not_for_us);
    // RFC 8200 3: a hop limit of 1 is not forwarded.
    auto expiring = packet("alice", "bob", "last hop");
    expiring[7] = 1;
    refused(w.alice, w.hop_a, expiring, pc5::DropReason::not_for_us);
    EXPECT_EQ(w.relay.counters().forwarded_l3, 0u);
    EXPECT_EQ(w.relay.counters().drops_total(), 5u);
    // A hop joined with exactly one other still carries what is not IPv6 (a point-to-point
    // pairing, e.g. raw data between two UEs).
    w.send(w.alice, w.hop_a, bytes(100));
    const auto at_bob = L3Relay::received(w.bob);
    ASSERT_EQ(at_bob.size(), 1u);
    EXPECT_EQ(at_bob[0].data, bytes(100));
    // A released hop's route goes with it.
    w.relay.remove(w.hop_c);
    refused(w.bob, w.hop_b, packet("bob", "carol", "gone"), pc5::DropReason::not_for_us);
}

// Solution B through a layer-3 relay (docs/solution-b.md "The layer-3 path"): each end's PDUs
// under the end-to-end keys ride inside IPv6/UDP packets (port 5086) on its hop; the relay routes
// them by address (its hops joined by the engine's DataKeys::l3_routes) and never opens them.
namespace {
struct CarriedL3 {
    static constexpr pc5::L2Id kAlice = 0x0A, kBob = 0x0B, kRelay = 0x50;
    const std::string hop_a = "alice>relay-1#7", hop_b = "relay-1>bob#7", e2e = "alice>bob#7";
    Endpoint alice{Config{kAlice}}, bob{Config{kBob}}, relay{Config{kRelay}};
    std::vector<pc5::Frame> air;
    CarriedL3() {
        const pc5::Time t{0};
        auto carried = [&](bool initiator) {
            auto k = test::data_keys(e2e, 0x0707, initiator, kRelay, 99, CipheringAlgorithm::nea2,
                                     IntegrityAlgorithm::nia2, pc5::LinkKind::e2e);
            k.carrier = initiator ? hop_a : hop_b;
            return k;
        };
        auto routed = [&](const std::string& link, std::uint16_t id, bool initiator, pc5::L2Id peer,
                          const std::string& other) {
            auto k = hop_keys(link, id, initiator, peer);
            k.l3_routes = {other};
            return k;
        };
        EXPECT_TRUE(alice.install(hop_keys(hop_a, 0x1111, true, kRelay), {}, t));
        EXPECT_TRUE(alice.install(carried(true), {}, t));
        EXPECT_TRUE(bob.install(hop_keys(hop_b, 0x3333, false, kRelay), {}, t));
        EXPECT_TRUE(bob.install(carried(false), {}, t));
        EXPECT_TRUE(relay.install(routed(hop_a, 0x1111, false, kAlice, hop_b), {}, t));
        EXPECT_TRUE(relay.install(routed(hop_b, 0x3333, true, kBob, hop_a), {}, t));
    }
    Endpoint& at(pc5::L2Id l2) { return l2 == kAlice ? alice : l2 == kBob ? bob : relay; }
    void carry() {
        for (bool moved = true; moved;) {
            moved = false;
            for (Endpoint* e : {&alice, &bob, &relay})
                while (auto f = e->poll_transmit()) {
                    air.push_back(*f);
                    at(f->dst).receive(*f, pc5::Time{0});
                    moved = true;
                }
        }
    }
};
}  // namespace

TEST(L3Carried, EndToEndPdusCrossTheRelayInsideHopPacketsUnopened) {
    CarriedL3 w;
    const auto data = bytes(300);
    ASSERT_TRUE(w.alice.send(w.e2e, 4, data, pc5::Time{0}));
    w.carry();
    ASSERT_EQ(w.air.size(), 2u);
    for (const auto& f : w.air) {
        EXPECT_EQ(f.lcid, 4);
        // The hop's PDU: its own KNRP-sess ID, IPv6 + UDP + the end-to-end PDU + two MAC-Is.
        EXPECT_EQ(f.pdu.size(), 2 * (kHeaderSize + kMacSize) + kL3Overhead + data.size());
        EXPECT_FALSE(std::search(f.pdu.begin(), f.pdu.end(), data.begin(), data.begin() + 16) !=
                     f.pdu.end());
    }
    EXPECT_EQ(w.air[0].pdu[0] << 8 | w.air[0].pdu[1], 0x1111);
    EXPECT_EQ(w.air[1].pdu[0] << 8 | w.air[1].pdu[1], 0x3333);
    const auto got = L3Relay::received(w.bob);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].link_id, w.e2e);  // delivered by the end-to-end link, not the hop
    EXPECT_EQ(got[0].data, data);
    EXPECT_EQ(w.relay.counters().forwarded_l3, 1u);
    EXPECT_EQ(w.relay.counters().delivered, 0u);  // routed, never delivered at the relay
    EXPECT_EQ(w.alice.counters().sent, 1u);
    EXPECT_EQ(w.bob.counters().delivered, 1u);
    // And back.
    w.air.clear();
    ASSERT_TRUE(w.bob.send(w.e2e, 5, bytes(10, 3), pc5::Time{0}));
    w.carry();
    const auto back = L3Relay::received(w.alice);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].data, bytes(10, 3));
}

TEST(L3Carried, ForgedOrFlippedCarriedPdusAreDroppedNeverDelivered) {
    CarriedL3 w;
    ASSERT_TRUE(w.alice.send(w.e2e, 4, bytes(64), pc5::Time{0}));
    auto f = w.alice.poll_transmit();
    ASSERT_TRUE(f);
    // The relay (or anyone with hop 2's keys) re-protects a packet whose inner PDU is altered:
    // bob's end-to-end MAC-I catches it. Here: the hop's own MAC-I catches a flip on the air.
    for (std::size_t bit = 0; bit < f->pdu.size() * 8; bit += 37) {
        pc5::Frame g = *f;
        g.pdu[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        w.relay.receive(g, pc5::Time{0});
        while (auto out = w.relay.poll_transmit())
            w.bob.receive(*out, pc5::Time{0});
    }
    EXPECT_TRUE(L3Relay::received(w.bob).empty());
    // A packet for the carried port that someone holding hop 2's keys made up (the relay
    // itself): opened by the hop, refused by the end-to-end keys.
    Endpoint rogue{Config{CarriedL3::kRelay}};
    ASSERT_TRUE(rogue.install(hop_keys(w.hop_b, 0x3333, true, CarriedL3::kBob), {}, pc5::Time{0}));
    std::vector<std::uint8_t> fake(kHeaderSize + 20 + kMacSize, 0);
    fake[0] = 0x07;
    fake[1] = 0x07;
    fake[2] = 0x80;  // D/C = 1
    auto pkt = l3_packet(l3_address("alice"), l3_address("bob"), fake, kL3ProtectedPort).value();
    ASSERT_TRUE(rogue.send(w.hop_b, 4, pkt, pc5::Time{0}));
    w.bob.receive(*rogue.poll_transmit(), pc5::Time{0});
    // Plain data to the hop (port 5085) is not what a carrier hop carries.
    auto plain = l3_packet(l3_address("alice"), l3_address("bob"), bytes(8)).value();
    ASSERT_TRUE(rogue.send(w.hop_b, 4, plain, pc5::Time{0}));
    w.bob.receive(*rogue.poll_transmit(), pc5::Time{0});
    const auto drops = L3Relay::drops(w.bob);
    ASSERT_EQ(drops.size(), 2u);
    EXPECT_EQ(drops[0].reason, pc5::DropReason::bad_mac) << drops[0].detail;
    EXPECT_EQ(drops[0].link_id, w.e2e);
    EXPECT_EQ(drops[1].reason, pc5::DropReason::not_for_us) << drops[1].detail;
    EXPECT_EQ(w.bob.counters().delivered, 0u);
    // The end-to-end link's hop gone: sending says so.
    w.alice.remove(w.hop_a);
    auto st = w.alice.send(w.e2e, 4, bytes(8), pc5::Time{0});
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().field, "link_id");
}

// End to end through a layer-2 relay: the far end's SRAP local UE ID is taken from a PDU only
// once it verifies, fresh, under the link's keys (a relay gave the far end a new one at a link
// identifier update). The SRAP header is not under the MAC-I: a replay or a bit-flipped copy
// with a rewritten local UE ID teaches nothing, and a late PDU with the previous one is still
// delivered without moving it back.
// A layer-2 relay whose engine gives each end UE's local UE ID with its hop's keys (solution B):
// that ID, not what the far end still writes in its SRAP headers, is the one the relay uses,
// and an identifier update of the hop (new L2 ID, new local UE ID) moves it at once; frames to
// the old ID still reach the end UE, at its new L2 ID.
TEST(SrapLocalId, ARelayTakesTheEndUesIdFromItsHopKeys) {
    constexpr pc5::L2Id kRelay = 0x50, kAliceNew = 0xAA;
    Endpoint relay{Config{kRelay}};
    auto hop = [&](const std::string& id, pc5::L2Id peer, std::uint8_t local, std::uint16_t kid) {
        return test::data_keys(id, kid, false, peer, 2, CipheringAlgorithm::nea2,
                               IntegrityAlgorithm::nia2, pc5::LinkKind::hop, local);
    };
    ASSERT_TRUE(relay.install(hop("alice>relay#1", kA, 3, 0x1111), {}, pc5::Time{0}));
    ASSERT_TRUE(relay.install(hop("relay>bob#1", kB, 5, 0x2222), {}, pc5::Time{0}));
    // An SRAP data PDU from `src` to the local UE ID `dst`, forwarded: to whom, and as whom.
    auto forward = [&](pc5::L2Id src, std::uint8_t dst) -> std::pair<pc5::L2Id, std::uint8_t> {
        relay.receive({src, kRelay, pc5::lcid::kEndToEnd, {0x84, 0x00, dst, 0x22, 0x22, 0, 1, 9}},
                      pc5::Time{0});
        auto f = relay.poll_transmit();
        if (!f) return {0, 0};
        return {f->dst, f->pdu[1]};
    };
    EXPECT_EQ(forward(kA, 5), std::make_pair(kB, std::uint8_t{3}));
    // The relay's engine forwards bob's PC5-S still naming alice by an ID she no longer has:
    // the user plane does not learn it.
    relay.observe_relayed({kRelay, kA, pc5::lcid::kEndToEnd, {0x82, 5, 7, 0, 0}});
    EXPECT_EQ(forward(kB, 3), std::make_pair(kA, std::uint8_t{5}));
    EXPECT_EQ(forward(kA, 5), std::make_pair(kB, std::uint8_t{3}));
    // Alice's hop changes identifiers: her new L2 ID and local UE ID 9.
    ASSERT_TRUE(relay.install(hop("alice>relay#1", kAliceNew, 9, 0x3333), {}, pc5::Time{0}));
    EXPECT_EQ(forward(kAliceNew, 5), std::make_pair(kB, std::uint8_t{9}));
    EXPECT_EQ(forward(kB, 9), std::make_pair(kAliceNew, std::uint8_t{5}));
    EXPECT_EQ(forward(kB, 3), std::make_pair(kAliceNew, std::uint8_t{5}));  // the old ID, late
}

TEST(SrapLocalId, LearntOnlyFromAFreshPduThatVerifies) {
    constexpr pc5::L2Id kRelay = 0x50;
    const std::string id = "alice>bob#00000001";
    auto e2e = [&](bool initiator, std::uint8_t remote) {
        return test::data_keys(id, 0x2222, initiator, kRelay, 1, CipheringAlgorithm::nea2,
                               IntegrityAlgorithm::nia2, pc5::LinkKind::e2e, remote);
    };
    Endpoint a{Config{kA}}, b{Config{kB}};
    ASSERT_TRUE(a.install(e2e(true, 5), {}, pc5::Time{0}));   // bob is 5 at the relay
    ASSERT_TRUE(b.install(e2e(false, 3), {}, pc5::Time{0}));  // alice is 3
    // One PDU from alice as the relay forwards it to bob, with alice's local UE ID `src`.
    auto from_alice = [&](std::uint8_t src) {
        const auto data = bytes(40);
        EXPECT_TRUE(a.send(id, 4, data, pc5::Time{0}));
        auto f = a.poll_transmit();
        EXPECT_TRUE(f && f->lcid == pc5::lcid::kEndToEnd);
        f->src = kRelay;
        f->dst = kB;
        f->pdu[1] = src;
        return *f;
    };
    // Where bob's next PDU goes: the destination local UE ID in its SRAP header.
    auto bob_sends_to = [&] {
        EXPECT_TRUE(b.send(id, 4, bytes(8), pc5::Time{0}));
        auto f = b.poll_transmit();
        EXPECT_TRUE(f);
        return f ? f->pdu[2] : std::uint8_t{0};
    };
    EXPECT_EQ(bob_sends_to(), 3);
    const auto moved = from_alice(9);  // alice's new local UE ID
    b.receive(moved, pc5::Time{0});
    EXPECT_TRUE(delivered(b.poll_event(), bytes(40)));
    EXPECT_EQ(bob_sends_to(), 9);
    auto replay = moved;  // replayed with another local UE ID
    replay.pdu[1] = 11;
    b.receive(replay, pc5::Time{0});
    EXPECT_EQ(dropped(b.poll_event()), pc5::DropReason::replay);
    EXPECT_EQ(bob_sends_to(), 9);
    auto flipped = from_alice(13);  // fresh, but altered on the air
    flipped.pdu.back() ^= 0x01;
    b.receive(flipped, pc5::Time{0});
    EXPECT_EQ(dropped(b.poll_event()), pc5::DropReason::bad_mac);
    EXPECT_EQ(bob_sends_to(), 9);
    b.receive(from_alice(3), pc5::Time{0});  // late, under the previous local UE ID
    EXPECT_TRUE(delivered(b.poll_event(), bytes(40)));
    EXPECT_EQ(bob_sends_to(), 9);
}
