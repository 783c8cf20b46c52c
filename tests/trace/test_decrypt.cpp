// trace::decipher_capture (include/pc5sec/trace_decrypt.hpp): captures made here by protecting
// PDUs with userplane::Endpoint and pdcp::SecurityContext (the test's side only), recorded with
// trace::CaptureRecorder and read back from the pcap bytes, then deciphered from the key log
// alone. Genuine data both ways on a hop and end to end through SRAP, every algorithm, PC5-S on
// the air (SL-SRB1 command, SL-SRB2, solution B without SRAP), re-keying, HFN past 2^18, NIA0
// direction inference, and hostile captures: tampered MAC-I, unknown KNRP-sess ID, truncated
// PDUs, wrong lengths, random mutations (never a crash), bad key logs.
#include <gtest/gtest.h>

#include <random>

#include "pc5sec/codec.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/trace.hpp"
#include "pc5sec/trace_decrypt.hpp"
#include "pc5sec/userplane.hpp"

#include "../support/data_keys.hpp"

using namespace pc5sec;
using namespace pc5sec::trace;
using namespace std::chrono_literals;

namespace {

constexpr pc5::L2Id kAlice = 0x0A, kBob = 0x0B, kRelay = 0x50;
const std::string kLink = "alice>bob#00000001";
const std::string kE2e = "alice>bob#00000002";

pc5::DataKeys keys(const std::string& link, std::uint16_t id, bool initiator,
                   CipheringAlgorithm c = CipheringAlgorithm::nea2,
                   IntegrityAlgorithm i = IntegrityAlgorithm::nia2, std::uint8_t seed = 1,
                   pc5::LinkKind kind = pc5::LinkKind::hop, std::uint8_t remote_local_id = 0) {
    const pc5::L2Id peer = kind == pc5::LinkKind::e2e ? kRelay : (initiator ? kBob : kAlice);
    return test::data_keys(link, id, initiator, peer, seed, c, i, kind, remote_local_id);
}

// The key-log lines one end writes for a link (docs/keylog.md).
void log_keys(pc5::KeyLogCollector& log, const pc5::DataKeys& k) {
    const std::uint8_t id[] = {k.knrp_sess_id.msb(), k.knrp_sess_id.lsb()};
    log.bytes("KNRP_SESS_ID", k.link_id, id);
    log.algorithms(k.link_id, static_cast<unsigned>(k.ciphering),
                   static_cast<unsigned>(k.integrity));
    log.bytes("NRPEK", k.link_id, k.nrpek.reveal());
    log.bytes("NRPIK", k.link_id, k.nrpik.reveal());
}

std::vector<std::uint8_t> text(std::string_view s) {
    return {s.begin(), s.end()};
}

// A link between alice (initiator) and bob, each with a user plane; frames go to a recorder.
struct Capture {
    userplane::Endpoint alice{userplane::Config{kAlice}}, bob{userplane::Config{kBob}};
    CaptureRecorder rec;
    pc5::KeyLogCollector log;
    pc5::Time now{0};

    explicit Capture(CipheringAlgorithm c = CipheringAlgorithm::nea2,
                     IntegrityAlgorithm i = IntegrityAlgorithm::nia2, userplane::Protection p = {},
                     std::uint16_t id = 0x1234) {
        EXPECT_TRUE(alice.install(keys(kLink, id, true, c, i), p, now));
        EXPECT_TRUE(bob.install(keys(kLink, id, false, c, i), p, now));
        log_keys(log, keys(kLink, id, true, c, i));
    }
    pc5::Frame send(userplane::Endpoint& from, std::span<const std::uint8_t> data,
                    const std::string& link = kLink, std::uint8_t bearer = 4) {
        auto st = from.send(link, bearer, data, now);
        EXPECT_TRUE(st) << st.error().describe();
        auto f = from.poll_transmit();
        EXPECT_TRUE(f);
        now += 1ms;
        rec.record(now, *f, link);
        return f ? *f : pc5::Frame{};
    }
    void put(const pc5::Frame& f, const std::string& link = kLink) {
        now += 1ms;
        rec.record(now, f, link);
    }
    std::vector<pcap::Frame> frames() const {
        auto f = pcap::parse(rec.bytes());
        EXPECT_TRUE(f);
        return f ? *f : std::vector<pcap::Frame>{};
    }
    std::vector<DecipheredFrame> decipher() const { return decipher_with(log.records()); }
    std::vector<DecipheredFrame> decipher_with(const std::vector<pc5::KeyLogRecord>& r) const {
        const auto f = frames();
        auto d = decipher_capture(f, r);
        EXPECT_TRUE(d) << d.error().describe();
        return d ? *d : std::vector<DecipheredFrame>{};
    }
};

void expect_opened(const DecipheredFrame& d, std::span<const std::uint8_t> payload,
                   std::uint32_t count, std::uint8_t direction, std::uint8_t bearer = 4) {
    ASSERT_EQ(d.verdict, Verdict::opened)
        << name(d.verdict) << (d.error ? d.error->describe() : "");
    ASSERT_EQ(d.openings.size(), 1u);
    const auto& o = d.openings[0];
    EXPECT_EQ(d.direction_from, DirectionFrom::mac);
    EXPECT_EQ(o.mac, MacCheck::ok);
    EXPECT_EQ(o.count, count);
    EXPECT_EQ(o.direction, direction);
    EXPECT_EQ(d.bearer, bearer);
    EXPECT_EQ(std::vector<std::uint8_t>(payload.begin(), payload.end()), o.payload);
}

}  // namespace

TEST(Decipher, HopDataBothDirectionsFromTheKeyLogAlone) {
    Capture c;
    c.send(c.alice, text("hello bob"));
    c.send(c.alice, text("second"));
    c.send(c.bob, text("hello alice"));
    c.send(c.alice, text("third"));
    const auto d = c.decipher();
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(d[0].kind, PduKind::data);
    EXPECT_EQ(d[0].knrp_sess_id, 0x1234);
    EXPECT_TRUE(d[0].dc);
    EXPECT_EQ(d[0].openings.at(0).link_id, kLink);
    EXPECT_TRUE(d[0].openings.at(0).deciphered);
    expect_opened(d[0], text("hello bob"), 0, 0);
    expect_opened(d[1], text("second"), 1, 0);
    expect_opened(d[2], text("hello alice"), 0, 1);  // bob's own COUNT, DIRECTION 1
    expect_opened(d[3], text("third"), 2, 0);
}

TEST(Decipher, EveryAlgorithmPair) {
    for (int ci = 1; ci <= 3; ++ci)
        for (int ii = 1; ii <= 3; ++ii) {
            const auto c = static_cast<CipheringAlgorithm>(ci);
            const auto i = static_cast<IntegrityAlgorithm>(ii);
            Capture cap(c, i);
            for (std::size_t n : {0u, 1u, 17u, 1500u}) {
                std::vector<std::uint8_t> data(n, static_cast<std::uint8_t>(n + ci * 4 + ii));
                cap.send(n % 2 ? cap.bob : cap.alice, data);
            }
            const auto d = cap.decipher();
            ASSERT_EQ(d.size(), 4u);
            std::size_t k = 0;
            for (std::size_t n : {0u, 1u, 17u, 1500u}) {
                std::vector<std::uint8_t> data(n, static_cast<std::uint8_t>(n + ci * 4 + ii));
                SCOPED_TRACE(testing::Message() << "NEA" << ci << " NIA" << ii << " n=" << n);
                const std::uint32_t count = n == 0 ? 0 : n == 1 ? 0 : n == 17 ? 1 : 1;
                expect_opened(d[k++], data, count, n % 2 ? 1 : 0);
            }
        }
}

TEST(Decipher, CipheringOffAndIntegrityOnIsFoundByTheMacI) {
    Capture c(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2,
              {.integrity = true, .ciphering = false});
    c.send(c.alice, text("in clear, with a MAC-I"));
    const auto d = c.decipher();
    expect_opened(d.at(0), text("in clear, with a MAC-I"), 0, 0);
    EXPECT_FALSE(d[0].openings[0].deciphered);
}

TEST(Decipher, EndToEndThroughSrapOnBothHops) {
    Capture c;
    ASSERT_TRUE(c.alice.install(keys(kE2e, 0x4321, true, CipheringAlgorithm::nea3,
                                     IntegrityAlgorithm::nia3, 5, pc5::LinkKind::e2e, 2),
                                {}, c.now));
    ASSERT_TRUE(c.bob.install(keys(kE2e, 0x4321, false, CipheringAlgorithm::nea3,
                                   IntegrityAlgorithm::nia3, 5, pc5::LinkKind::e2e, 1),
                              {}, c.now));
    log_keys(c.log, keys(kE2e, 0x4321, true, CipheringAlgorithm::nea3, IntegrityAlgorithm::nia3, 5,
                         pc5::LinkKind::e2e));
    auto f = c.send(c.alice, text("to bob via the relay"), kE2e, 9);
    EXPECT_EQ(f.lcid, pc5::lcid::kEndToEnd);
    // The relay's copy on hop 2: its L2 IDs, the source's local UE ID.
    f.src = kRelay;
    f.dst = kBob;
    f.pdu[1] = 1;
    c.put(f, "");
    c.send(c.bob, text("back to alice"), kE2e, 9);
    const auto d = c.decipher();
    ASSERT_EQ(d.size(), 3u);
    for (const auto& x : d) {
        ASSERT_TRUE(x.srap);
        EXPECT_EQ(x.srap->bearer, 9);
        EXPECT_EQ(x.kind, PduKind::data);
        EXPECT_EQ(x.openings.at(0).link_id, kE2e);
        EXPECT_EQ(x.openings.at(0).ciphering, CipheringAlgorithm::nea3);
    }
    EXPECT_EQ(d[0].srap->src_ue, 0);
    EXPECT_EQ(d[0].srap->dst_ue, 2);
    EXPECT_EQ(d[1].srap->src_ue, 1);
    expect_opened(d[0], text("to bob via the relay"), 0, 0, 9);
    expect_opened(d[1], text("to bob via the relay"), 0, 0, 9);  // the same PDU, relayed
    expect_opened(d[2], text("back to alice"), 0, 1, 9);
}

TEST(Decipher, TamperedMacIIsBadAndChangesNoCount) {
    Capture c;
    auto f = c.send(c.alice, text("genuine 0"));
    f = c.send(c.alice, text("genuine 1"));
    auto tampered = f;
    tampered.pdu.back() ^= 0x01;  // a flipped bit of the (ciphered) MAC-I
    c.put(tampered);
    auto payload_flip = f;
    payload_flip.pdu[6] ^= 0x80;  // a flipped bit of the payload
    c.put(payload_flip);
    c.send(c.alice, text("genuine 2"));
    const auto d = c.decipher();
    ASSERT_EQ(d.size(), 5u);
    expect_opened(d[1], text("genuine 1"), 1, 0);
    for (const std::size_t i : {2u, 3u}) {
        EXPECT_EQ(d[i].verdict, Verdict::mac_bad);
        ASSERT_FALSE(d[i].openings.empty());
        EXPECT_EQ(d[i].openings[0].mac, MacCheck::bad);
    }
    // The tampered MAC-I leaves the payload readable under the sender's direction.
    EXPECT_EQ(d[2].direction_from, DirectionFrom::sender);
    EXPECT_EQ(d[2].openings.at(0).payload, text("genuine 1"));
    expect_opened(d[4], text("genuine 2"), 2, 0);
}

TEST(Decipher, UnknownKnrpSessIdIsNoKey) {
    Capture c;
    c.send(c.alice, text("nobody has this key"));
    auto other = c.log.records();
    for (auto& r : other)
        if (r.label == "KNRP_SESS_ID") r.value = "5678";
    auto d = c.decipher_with(other);
    EXPECT_EQ(d.at(0).verdict, Verdict::no_key);
    EXPECT_EQ(d[0].knrp_sess_id, 0x1234);
    EXPECT_TRUE(d[0].openings.empty());
    d = c.decipher_with({});
    EXPECT_EQ(d.at(0).verdict, Verdict::no_key);
    // A key set without its NRPIK cannot open anything either.
    std::vector<pc5::KeyLogRecord> partial;
    for (const auto& r : c.log.records())
        if (r.label != "NRPIK") partial.push_back(r);
    EXPECT_EQ(c.decipher_with(partial).at(0).verdict, Verdict::no_key);
}

TEST(Decipher, KeyLogLinesOfBothEndsAndReKeying) {
    Capture c;
    c.send(c.alice, text("old key"));
    // Re-keying: a new KNRP-sess ID under the same link id; COUNT starts again at 0.
    ASSERT_TRUE(c.alice.install(
        keys(kLink, 0x2222, true, CipheringAlgorithm::nea1, IntegrityAlgorithm::nia3, 9), {},
        c.now));
    log_keys(c.log, keys(kLink, 0x1234, false));  // bob's copy of the first set
    log_keys(c.log,
             keys(kLink, 0x2222, true, CipheringAlgorithm::nea1, IntegrityAlgorithm::nia3, 9));
    log_keys(c.log,
             keys(kLink, 0x2222, false, CipheringAlgorithm::nea1, IntegrityAlgorithm::nia3, 9));
    c.send(c.alice, text("new key"));
    const auto d = c.decipher();
    expect_opened(d.at(0), text("old key"), 0, 0);
    expect_opened(d.at(1), text("new key"), 0, 0);
    EXPECT_EQ(d[1].openings[0].ciphering, CipheringAlgorithm::nea1);
}

TEST(Decipher, HfnWrapPastTwoToTheEighteen) {
    Capture c;
    userplane::Burst burst(256, 4);
    const std::uint8_t octet[1] = {0x42};
    std::uint32_t sent = 0;
    std::vector<std::uint32_t> captured;
    // Capture one PDU in 40000: the decipherer sees SNs far apart, never half the SN space.
    while (sent < userplane::kSnModulus + 70000) {
        burst.clear();
        for (int i = 0; i < 256; ++i)
            ASSERT_TRUE(burst.add_payload(octet));
        ASSERT_TRUE(c.alice.protect_burst(kLink, 4, burst, c.now));
        for (std::size_t i = 0; i < 256; ++i, ++sent)
            if (sent % 40000 == 0 || sent == userplane::kSnModulus + 1) {
                c.put(pc5::Frame{kAlice, kBob, 4, {burst.pdu(i).begin(), burst.pdu(i).end()}});
                captured.push_back(sent);
            }
    }
    const auto d = c.decipher();
    ASSERT_EQ(d.size(), captured.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
        SCOPED_TRACE(captured[i]);
        expect_opened(d[i], octet, captured[i], 0);
    }
    EXPECT_GT(d.back().openings[0].count, userplane::kSnModulus);  // HFN 1
    EXPECT_EQ(d.back().sn, captured.back() % userplane::kSnModulus);
}

TEST(Decipher, Nia0DataTakesTheDirectionOfTheSender) {
    // NIA0 never protects data (docs/userplane.md): ciphered, no MAC-I.
    Capture c(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia0,
              {.integrity = false, .ciphering = true});
    c.send(c.bob, text("from bob, no MAC-I"));  // nothing known about the link yet
    // A PC5-S frame of the link whose header gives its DIRECTION tells who initiated it
    // (3gpp-facts §4): here one in clear on SL-SRB0.
    auto cap = std::make_shared<pc5::FrameCapture>();
    cap->link_id = kLink;
    cap->from_initiator = true;
    cap->message = *codec::encode(codec::Message{codec::DirectLinkKeepaliveRequest{}});
    pc5::Frame plain{kAlice, kBob, pc5::lcid::kSrb0, cap->message, cap};
    c.put(plain);
    c.send(c.alice, text("from alice, no MAC-I"));
    c.send(c.bob, text("from bob again"));
    const auto d = c.decipher();
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(d[0].verdict, Verdict::opened);
    EXPECT_EQ(d[0].direction_from, DirectionFrom::undecidable);
    ASSERT_EQ(d[0].openings.size(), 2u);
    EXPECT_EQ(d[0].openings[1].payload, text("from bob, no MAC-I"));  // DIRECTION 1
    EXPECT_NE(d[0].openings[0].payload, text("from bob, no MAC-I"));
    EXPECT_EQ(d[0].openings[0].mac, MacCheck::none);
    EXPECT_EQ(d[1].kind, PduKind::plaintext);
    for (const std::size_t i : {2u, 3u}) {
        EXPECT_EQ(d[i].direction_from, DirectionFrom::sender);
        ASSERT_EQ(d[i].openings.size(), 1u);
    }
    EXPECT_EQ(d[2].openings[0].payload, text("from alice, no MAC-I"));
    EXPECT_EQ(d[2].openings[0].direction, 0);
    EXPECT_EQ(d[3].openings[0].payload, text("from bob again"));
    EXPECT_EQ(d[3].openings[0].count, 1u);
}

TEST(Decipher, NoSecurityIdZeroIsClear) {
    Capture c(CipheringAlgorithm::nea0, IntegrityAlgorithm::nia0,
              {.integrity = false, .ciphering = false}, 0);
    c.send(c.alice, text("clear data"));
    const auto d = c.decipher();
    ASSERT_EQ(d.at(0).verdict, Verdict::opened);
    EXPECT_EQ(d[0].knrp_sess_id, 0);
    EXPECT_EQ(d[0].openings.at(0).payload, text("clear data"));
    EXPECT_EQ(d[0].openings[0].mac, MacCheck::none);
    EXPECT_FALSE(d[0].openings[0].deciphered);
}

TEST(Decipher, ProtectedPc5sOnTheAir) {
    Capture c;
    const auto k = keys(kLink, 0x1234, true);
    auto alice = *pdcp::SecurityContext::create(k.knrp_sess_id, k.ciphering, k.integrity, &k.nrpek,
                                                &k.nrpik, true);
    auto bob = *pdcp::SecurityContext::create(k.knrp_sess_id, k.ciphering, k.integrity, &k.nrpek,
                                              &k.nrpik, false);
    codec::DirectLinkKeepaliveRequest ka;
    ka.seq = 3;
    ka.keepalive_counter = 77;
    const auto msg = *codec::encode(codec::Message{ka});
    // SL-SRB1: integrity only (the security mode command); SL-SRB2: ciphered; by the peer.
    c.put(pc5::Frame{kBob, kAlice, pc5::lcid::kSrb1, *bob.protect(1, msg, false)});
    c.put(pc5::Frame{kAlice, kBob, pc5::lcid::kSrb2, *alice.protect(2, msg)});
    // End to end through a layer-2 relay: SRAP SL-SRB2 (BEARER 2).
    pc5::Frame e2e{kAlice, kRelay, pc5::lcid::kEndToEnd, {}};
    ASSERT_TRUE(srap::append_header({2, 0, 2}, e2e.pdu));
    const auto p = *alice.protect(2, msg);
    e2e.pdu.insert(e2e.pdu.end(), p.begin(), p.end());
    c.put(e2e);
    // Solution B: the same (SRAP SL-SRB2, BEARER 2), the relay's local UE IDs written in.
    pc5::Frame b{kRelay, kBob, pc5::lcid::kEndToEnd, {}};
    ASSERT_TRUE(srap::append_header({2, 1, 2}, b.pdu));
    const auto pb = *alice.protect(2, msg);
    b.pdu.insert(b.pdu.end(), pb.begin(), pb.end());
    c.put(b);
    const auto d = c.decipher();
    ASSERT_EQ(d.size(), 4u);
    for (const auto& x : d) {
        SCOPED_TRACE(x.index);
        EXPECT_EQ(x.kind, PduKind::pc5s);
        ASSERT_EQ(x.verdict, Verdict::opened);
        EXPECT_EQ(x.openings.at(0).mac, MacCheck::ok);
        EXPECT_EQ(x.openings[0].payload, msg);
    }
    EXPECT_FALSE(d[0].openings[0].deciphered);
    EXPECT_EQ(d[0].openings[0].direction, 1);
    EXPECT_EQ(d[0].bearer, 1);
    EXPECT_TRUE(d[1].openings[0].deciphered);
    EXPECT_EQ(d[1].openings[0].count, 0u);
    EXPECT_TRUE(d[2].srap);
    EXPECT_EQ(d[2].openings[0].count, 1u);
    ASSERT_TRUE(d[3].srap);
    EXPECT_EQ(d[3].srap->src_ue, 1);
    EXPECT_EQ(d[3].openings[0].count, 2u);
}

TEST(Decipher, Pc5sUnderNia0IsCheckedByItsZeroMacI) {
    Capture c;
    const auto k = keys(kLink, 0x0777, true, CipheringAlgorithm::nea2, IntegrityAlgorithm::nia0);
    log_keys(c.log, k);
    auto bob = *pdcp::SecurityContext::create(k.knrp_sess_id, k.ciphering, k.integrity, &k.nrpek,
                                              nullptr, false);
    const auto msg = *codec::encode(codec::Message{codec::DirectLinkKeepaliveResponse{}});
    c.put(pc5::Frame{kBob, kAlice, pc5::lcid::kSrb2, *bob.protect(2, msg)});
    const auto d = c.decipher();
    ASSERT_EQ(d.at(0).verdict, Verdict::opened);
    EXPECT_EQ(d[0].direction_from, DirectionFrom::mac);
    EXPECT_EQ(d[0].openings.at(0).mac, MacCheck::zero);
    EXPECT_EQ(d[0].openings[0].direction, 1);
    EXPECT_EQ(d[0].openings[0].payload, msg);
}

TEST(Decipher, TruncatedAndMalformedPdusNameTheirField) {
    Capture c;
    const auto good = c.send(c.alice, text("a genuine PDU"));
    auto with = [&](std::uint8_t lcid, std::vector<std::uint8_t> pdu) {
        c.put(pc5::Frame{kAlice, kBob, lcid, std::move(pdu)});
    };
    std::vector<std::uint8_t> p = good.pdu;
    with(4, {p.begin(), p.begin() + 3});  // 2: short header
    with(4, {p.begin(), p.begin() + 7});  // 3: no room for the MAC-I
    auto dc = p;
    dc[2] &= 0x7F;
    with(4, dc);  // 4: D/C = 0
    auto r = p;
    r[2] |= 0x10;
    with(4, r);                                  // 5: reserved bit
    with(55, {0x84});                            // 6: SRAP cut
    with(55, {0x04, 0, 0, 1, 2});                // 7: SRAP D/C = 0, not PDCP either
    with(2, {0x12, 0x34, 0x00});                 // 8: PDCP cut
    with(2, {0x12, 0x34, 0x80, 0, 1, 2, 3, 4});  // 9: PDCP reserved bit
    std::vector<std::uint8_t> huge(20000, 0xAB);
    huge[0] = 0x12;
    huge[1] = 0x34;
    huge[2] = 0x80;
    with(4, huge);       // 10: longer than NEA/NIA accept
    with(4, {});         // 11: empty
    with(3, {1, 2, 3});  // 12: PC5-RRC: not deciphered
    const auto d = c.decipher();
    ASSERT_EQ(d.size(), 12u);
    expect_opened(d[0], text("a genuine PDU"), 0, 0);
    auto field = [&](std::size_t i) {
        EXPECT_EQ(d[i].verdict, Verdict::malformed) << i;
        return d[i].error ? d[i].error->field : std::string("(none)");
    };
    EXPECT_EQ(field(1), "data.header");
    EXPECT_EQ(field(2), "data.mac_i");
    EXPECT_EQ(field(3), "data.dc");
    EXPECT_EQ(field(4), "data.reserved");
    EXPECT_EQ(field(5), "srap.header");
    EXPECT_EQ(field(6), "srap.dc");
    EXPECT_EQ(field(7), "pdcp.header");
    EXPECT_EQ(field(8), "pdcp.reserved");
    EXPECT_EQ(field(9), "data.length");
    EXPECT_EQ(field(10), "data.header");
    EXPECT_EQ(d[11].kind, PduKind::other);
    EXPECT_EQ(d[11].verdict, Verdict::none);
}

TEST(Decipher, HostileCapturesNeverCrash) {
    Capture c;
    ASSERT_TRUE(c.alice.install(keys(kE2e, 0x4321, true, CipheringAlgorithm::nea3,
                                     IntegrityAlgorithm::nia1, 5, pc5::LinkKind::e2e, 2),
                                {}, c.now));
    log_keys(c.log, keys(kE2e, 0x4321, true, CipheringAlgorithm::nea3, IntegrityAlgorithm::nia1, 5,
                         pc5::LinkKind::e2e));
    std::vector<pc5::Frame> seeds;
    for (int i = 0; i < 4; ++i) {
        seeds.push_back(
            c.send(c.alice, std::vector<std::uint8_t>(static_cast<std::size_t>(i * 9), 0x33)));
        seeds.push_back(
            c.send(c.alice, std::vector<std::uint8_t>(static_cast<std::size_t>(i * 5), 1), kE2e));
    }
    std::mt19937 rng(11);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    const std::uint8_t lcids[] = {0, 1, 2, 3, 4, 19, 20, 55, 58, 63, 200};
    for (int n = 0; n < 3000; ++n) {
        pc5::Frame f = seeds[pick(seeds.size())];
        switch (pick(4)) {
            case 0:
                f.pdu.resize(pick(f.pdu.size() + 1));
                break;
            case 1:
                if (!f.pdu.empty()) f.pdu[pick(f.pdu.size())] = static_cast<std::uint8_t>(rng());
                break;
            case 2:
                f.lcid = lcids[pick(std::size(lcids))];
                break;
            default:
                f.pdu.resize(pick(64));
                for (auto& b : f.pdu)
                    b = static_cast<std::uint8_t>(rng());
        }
        c.put(f, pick(2) ? kLink : "");
    }
    const auto d = c.decipher();
    const auto frames = c.frames();
    ASSERT_EQ(d.size(), seeds.size() + 3000);
    for (const auto& x : d) {
        // Every frame but SL-SRB0 / discovery ones (written as plaintext) was on the air.
        const bool on_air = (frames.at(x.index - 1).header.flags & pcap::kFlagOnAir) != 0;
        EXPECT_EQ(x.kind == PduKind::plaintext, !on_air);
        if (x.verdict == Verdict::malformed) {
            ASSERT_TRUE(x.error);
            EXPECT_FALSE(x.error->field.empty());
        }
        if (x.verdict == Verdict::opened || x.verdict == Verdict::mac_bad) {
            EXPECT_FALSE(x.openings.empty());
        }
    }
}

TEST(Decipher, BadKeyLogNamesTheRecordButNeverTheValue) {
    const std::vector<pcap::Frame> none;
    auto err = [&](std::vector<pc5::KeyLogRecord> r) {
        auto d = decipher_capture(none, r);
        EXPECT_FALSE(d);
        return d ? Error{} : d.error();
    };
    auto e = err({{"NRPEK", kLink, "00112233445566778899aabbccddee"}});
    EXPECT_EQ(e.field, "key log NRPEK " + kLink);
    EXPECT_EQ(e.message.find("001122"), std::string::npos);
    EXPECT_EQ(err({{"NRPIK", kLink, "zz112233445566778899aabbccddeeff"}}).field,
              "key log NRPIK " + kLink);
    EXPECT_EQ(err({{"KNRP_SESS_ID", kLink, "123"}}).field, "key log KNRP_SESS_ID " + kLink);
    EXPECT_EQ(err({{"ALGS", kLink, "9 2"}}).field, "key log ALGS " + kLink);
    EXPECT_EQ(err({{"ALGS", kLink, "2"}}).field, "key log ALGS " + kLink);
    // Labels the decipherer does not need are ignored.
    auto ok = decipher_capture(none, std::vector<pc5::KeyLogRecord>{{"KNRP", kLink, "zz"}});
    EXPECT_TRUE(ok);
}
