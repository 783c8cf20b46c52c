// PDCP-style protection (pdcp.hpp): round trips for every algorithm pair, and every reject path
// of the receiver (bad MAC, replay, old COUNT, wrong KNRP-sess ID, truncated, reserved bits).
#include <gtest/gtest.h>

#include "pc5sec/kdf.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/srap.hpp"

using namespace pc5sec;

namespace {

struct Pair {
    pdcp::SecurityContext a, b;
};

Pair make_pair(CipheringAlgorithm c, IntegrityAlgorithm i, KnrpSessId id = KnrpSessId{0x1234}) {
    std::array<std::uint8_t, 32> raw{};
    for (std::size_t k = 0; k < raw.size(); ++k)
        raw[k] = static_cast<std::uint8_t>(k);
    Knrp knrp(raw);
    Nonce n1{}, n2{};
    n1[0] = 1;
    n2[0] = 2;
    auto sess = derive_knrp_sess(knrp, n1, n2);
    auto ek = derive_nrpek(sess, c);
    auto ik = derive_nrpik(sess, i);
    auto a = pdcp::SecurityContext::create(id, c, i, &ek, &ik, true);
    auto b = pdcp::SecurityContext::create(id, c, i, &ek, &ik, false);
    EXPECT_TRUE(a && b);
    return Pair{std::move(*a), std::move(*b)};
}

const std::vector<std::uint8_t> kMsg{0x0e, 0x07, 0x58, 0x12, 0x34, 0xaa, 0xbb};

}  // namespace

TEST(Pdcp, RoundTripEveryAlgorithmBothDirections) {
    for (int c = 0; c <= 3; ++c)
        for (int i = 0; i <= 3; ++i) {
            auto p =
                make_pair(static_cast<CipheringAlgorithm>(c), static_cast<IntegrityAlgorithm>(i));
            for (int k = 0; k < 5; ++k) {
                auto pdu = p.a.protect(2, kMsg);
                ASSERT_TRUE(pdu) << pdu.error().describe();
                EXPECT_EQ(pdu->size(), kMsg.size() + pdcp::kOverhead);
                if (c != 0) {
                    EXPECT_NE(std::vector<std::uint8_t>(pdu->begin() + 4, pdu->end() - 4), kMsg);
                }
                auto back = p.b.unprotect(2, *pdu);
                ASSERT_TRUE(back) << back.error().describe();
                EXPECT_EQ(*back, kMsg);
                auto reply = p.b.protect(2, kMsg);
                ASSERT_TRUE(reply);
                // DIRECTION differs: the two directions never share a keystream.
                if (c != 0) {
                    EXPECT_NE(*reply, *pdu) << "c=" << c;
                }
                EXPECT_TRUE(p.a.unprotect(2, *reply));
            }
        }
}

TEST(Pdcp, HeaderCarriesKnrpSessIdAndSn) {
    auto p = make_pair(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2, KnrpSessId{0xBEEF});
    auto pdu = p.a.protect(1, kMsg, false);
    ASSERT_TRUE(pdu);
    auto h = pdcp::peek_header(*pdu);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->knrp_sess_id.value, 0xBEEF);
    EXPECT_EQ(h->sn, 0);
    // Not ciphered: the Direct Security Mode Command travels in clear (3gpp-facts §4).
    EXPECT_EQ(std::vector<std::uint8_t>(pdu->begin() + 4, pdu->end() - 4), kMsg);
    EXPECT_TRUE(p.b.unprotect(1, *pdu, false));
}

TEST(Pdcp, TamperedPduIsRefusedWithIntegrityFailureAndStateKept) {
    auto p = make_pair(CipheringAlgorithm::nea1, IntegrityAlgorithm::nia1);
    auto pdu = p.a.protect(2, kMsg);
    ASSERT_TRUE(pdu);
    for (std::size_t bit = 32; bit < pdu->size() * 8; bit += 7) {
        auto bad = *pdu;
        bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        auto r = p.b.unprotect(2, bad);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().field, "MAC-I");
        EXPECT_EQ(r.error().pc5_cause, std::optional<std::uint8_t>(7));
    }
    EXPECT_TRUE(p.b.unprotect(2, *pdu));  // the genuine PDU still opens
}

TEST(Pdcp, ReplayAndOutOfWindowAreRefused) {
    auto p = make_pair(CipheringAlgorithm::nea3, IntegrityAlgorithm::nia3);
    std::vector<std::vector<std::uint8_t>> pdus;
    for (int k = 0; k < 80; ++k)
        pdus.push_back(*p.a.protect(2, kMsg));
    EXPECT_TRUE(p.b.unprotect(2, pdus[79]));
    auto replay = p.b.unprotect(2, pdus[79]);
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.error().field, "pdcp.count");
    EXPECT_TRUE(p.b.unprotect(2, pdus[40]));   // reordered but inside the window
    EXPECT_FALSE(p.b.unprotect(2, pdus[40]));  // once only
    auto old = p.b.unprotect(2, pdus[3]);      // 76 behind: outside the 64-COUNT window
    ASSERT_FALSE(old);
    EXPECT_EQ(old.error().field, "pdcp.count");
}

TEST(Pdcp, WrongBearerOrKeySessionIsRefused) {
    auto p = make_pair(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2);
    auto pdu = *p.a.protect(2, kMsg);
    EXPECT_EQ(p.b.unprotect(1, pdu).error().field, "MAC-I");
    auto other = make_pair(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2, KnrpSessId{0x4321});
    EXPECT_EQ(other.b.unprotect(2, pdu).error().field, "pdcp.knrp_sess_id");
}

TEST(Pdcp, MalformedHeaders) {
    auto p = make_pair(CipheringAlgorithm::nea0, IntegrityAlgorithm::nia2);
    std::vector<std::uint8_t> tiny{0x12, 0x34, 0x00};
    EXPECT_EQ(p.b.unprotect(2, tiny).error().field, "pdcp.header");
    auto pdu = *p.a.protect(2, kMsg);
    pdu[2] |= 0x80;
    EXPECT_EQ(p.b.unprotect(2, pdu).error().field, "pdcp.reserved");
}

// Every truncation of a genuine PDU, as an attacker on the air can cut it: shorter than the header
// and MAC-I, it is malformed; from there on the MAC-I no longer matches (the MAC-I is cut off the
// end, so an empty payload is checked like any other). None of them moves the receiver's state.
TEST(Pdcp, EveryTruncationIsRefusedAndTheGenuinePduStillOpens) {
    auto p = make_pair(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2);
    auto pdu = p.a.protect(2, kMsg);
    ASSERT_TRUE(pdu);
    for (std::size_t n = 0; n < pdu->size(); ++n) {
        const std::vector<std::uint8_t> cut(pdu->begin(), pdu->begin() + static_cast<long>(n));
        auto r = p.b.unprotect(2, cut);
        ASSERT_FALSE(r) << n;
        EXPECT_EQ(r.error().field, n < pdcp::kOverhead ? "pdcp.header" : "MAC-I") << n;
    }
    auto r = p.b.unprotect(2, *pdu);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, kMsg);
}

TEST(Pdcp, Nia0MacMustBeZero) {
    auto p = make_pair(CipheringAlgorithm::nea0, IntegrityAlgorithm::nia0);
    auto pdu = *p.a.protect(2, kMsg);
    EXPECT_EQ(std::vector<std::uint8_t>(pdu.end() - 4, pdu.end()), std::vector<std::uint8_t>(4, 0));
    pdu.back() = 1;
    EXPECT_EQ(p.b.unprotect(2, pdu).error().field, "MAC-I");
}

TEST(Pdcp, ReceiveCountFollowsTs38323) {
    EXPECT_EQ(pdcp::receive_count(0, 5), 5u);
    EXPECT_EQ(pdcp::receive_count(4095, 1), 4096u + 1);  // SN wrapped forward
    EXPECT_EQ(pdcp::receive_count(4097, 4095), 4095u);   // late PDU of the previous HFN
    EXPECT_EQ(pdcp::receive_count(10 * 4096 + 100, 100), 10u * 4096 + 100);
}

// The one COUNT estimate (pc5sec/count_window.hpp) for both SN lengths, with its overflow guard:
// at the largest HFN a small SN is never read as HFN 0, which would let the first COUNTs under
// the key be replayed.
TEST(CountWindow, ReceiveCountNeverWrapsAtTheLargestHfn) {
    for (unsigned bits : {12u, 18u}) {
        SCOPED_TRACE(bits);
        const std::uint32_t modulus = 1u << bits;
        const std::uint32_t last_hfn = pdcp::kMaxCount >> bits;
        const std::uint32_t deliv = last_hfn << bits | (modulus - 2);          // near the very end
        EXPECT_EQ(pdcp::receive_count(deliv, 1, bits), last_hfn << bits | 1);  // not HFN 0
        EXPECT_EQ(pdcp::receive_count(deliv, modulus - 1, bits), pdcp::kMaxCount);
        // Below the largest HFN the estimate moves forward as TS 38.323 says.
        const std::uint32_t before = (last_hfn - 1) << bits | (modulus - 2);
        EXPECT_EQ(pdcp::receive_count(before, 1, bits), last_hfn << bits | 1);
        // And an SN with bits above the SN length is read modulo the SN space.
        EXPECT_EQ(pdcp::receive_count(5, modulus + 7, bits), 7u);
    }
}

// The same window for PC5-S (64 COUNTs) and data (1024): a typed result, replay apart from
// too old.
TEST(CountWindow, TypedAnswersForBothSizes) {
    using pdcp::CountCheck;
    pdcp::ReplayWindow pc5s;
    pc5s.accept(200);
    EXPECT_EQ(pc5s.check(200), CountCheck::replay);
    EXPECT_EQ(pc5s.check(200 - 63), CountCheck::fresh);
    EXPECT_EQ(pc5s.check(200 - 64), CountCheck::too_old);
    EXPECT_EQ(pc5s.check(201), CountCheck::fresh);
    pdcp::BasicReplayWindow<1024> data;  // userplane::ReplayWindow
    data.accept(2000);
    EXPECT_EQ(data.check(2000 - 64), CountCheck::fresh);
    EXPECT_EQ(data.check(2000 - 1024), CountCheck::too_old);
    EXPECT_FALSE(pdcp::ReplayWindow{}.highest());
}

// unprotect says why it refused, typed: each kind of refusal, and none once a PDU opens.
TEST(Pdcp, UnprotectSaysWhyItRefused) {
    auto p = make_pair(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2);
    std::vector<std::vector<std::uint8_t>> sent;
    for (int k = 0; k < 70; ++k)
        sent.push_back(*p.a.protect(2, kMsg));
    ASSERT_TRUE(p.b.unprotect(2, sent[69]));
    EXPECT_EQ(p.b.last_rejection(), pdcp::Rejection::none);
    EXPECT_FALSE(p.b.unprotect(2, sent[69]));
    EXPECT_EQ(p.b.last_rejection(), pdcp::Rejection::replay);
    EXPECT_FALSE(p.b.unprotect(2, sent[0]));  // 69 behind the top: below the window of 64
    EXPECT_EQ(p.b.last_rejection(), pdcp::Rejection::too_old);
    auto flipped = sent[68];
    flipped.back() ^= 1;
    EXPECT_FALSE(p.b.unprotect(2, flipped));
    EXPECT_EQ(p.b.last_rejection(), pdcp::Rejection::bad_mac);
    auto other = sent[67];
    other[1] ^= 1;
    EXPECT_FALSE(p.b.unprotect(2, other));
    EXPECT_EQ(p.b.last_rejection(), pdcp::Rejection::other_key);
    EXPECT_FALSE(p.b.unprotect(2, std::span(sent[67]).first(5)));
    EXPECT_EQ(p.b.last_rejection(), pdcp::Rejection::malformed);
    ASSERT_TRUE(p.b.unprotect(2, sent[68]));  // none of that changed the receiver's state
    EXPECT_EQ(p.b.last_rejection(), pdcp::Rejection::none);
    EXPECT_EQ(pdcp::drop_reason(pdcp::Rejection::too_old), pc5::DropReason::replay);
    EXPECT_EQ(pdcp::drop_reason(pdcp::Rejection::bad_mac), pc5::DropReason::bad_mac);
}

TEST(Pdcp, CountAcrossSnWrapStillOpens) {
    auto p = make_pair(CipheringAlgorithm::nea2, IntegrityAlgorithm::nia2);
    for (int k = 0; k < 5000; ++k) {
        auto pdu = p.a.protect(2, kMsg);
        ASSERT_TRUE(pdu);
        ASSERT_TRUE(p.b.unprotect(2, *pdu)) << k;
    }
}

TEST(Srap, RoundTripAndRejects) {
    std::vector<std::uint8_t> out;
    ASSERT_TRUE(srap::append_header({2, 7, 9}, out));
    auto h = srap::parse_header(out);
    ASSERT_TRUE(h);
    EXPECT_EQ(*h, (srap::Header{2, 7, 9}));
    EXPECT_EQ(srap::append_header({32, 1, 1}, out).error().field, "srap.bearer");
    std::vector<std::uint8_t> control{0x02, 1, 1};
    EXPECT_EQ(srap::parse_header(control).error().field, "srap.dc");
    std::vector<std::uint8_t> reserved{0xC2, 1, 1};
    EXPECT_EQ(srap::parse_header(reserved).error().field, "srap.reserved");
    EXPECT_EQ(srap::parse_header(std::span(control).first(2)).error().field, "srap.header");
}
