// Solution B's link identifier update (docs/solution-b.md "Link identifier update"; TS 24.554
// 7.2.4 on each end UE's hop to the relay): new L2 IDs at both ends of the hop, a new KNRP-sess
// ID and keys for it, a new SRAP local UE ID, then the link re-keyed end to end. On request and
// on T5090, on both paths; lost, replayed, bit-flipped and forged updates; #3; a relay that never
// answers.
#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/pdcp.hpp"
#include "world.hpp"

namespace pc5sec::sigauth::test {
namespace {

using codec::Cause;
using MT = codec::MessageType;

struct Case {
    Mode mode;
    pc5::Path path;
};

class IdentifierUpdate : public ::testing::TestWithParam<Case> {
  protected:
    World w{GetParam().mode};
    std::string id, source_hop, target_hop;
    int forged = 0;  // messages on_hop made: each a COUNT further ahead

    void establish(pc5::Time t5090 = pc5::Time::zero()) {
        w.path = GetParam().path;
        for (Config* c : {&w.source_cfg, &w.relay_cfg, &w.target_cfg})
            c->t5090 = t5090;
        w.build();
        w.connect();
        auto e = w.established(*w.source);
        ASSERT_EQ(e.size(), 1u);
        id = e[0].link.id;
        source_hop = hop_of(*w.source);
        target_hop = hop_of(*w.target);
        ASSERT_FALSE(source_hop.empty());
        ASSERT_FALSE(target_hop.empty());
    }
    std::string hop_of(const Engine& e) {
        for (const auto& x : w.all_established(e))
            if (x.link.kind == pc5::LinkKind::hop) return x.link.id;
        return {};
    }
    // Identifier updates an engine reported for one link (LinkRekeyed, identifiers_updated).
    std::vector<pc5::LinkRekeyed> updates(const Engine& e, const std::string& link) {
        auto all = w.radio.events_of<pc5::LinkRekeyed>(e);
        std::erase_if(all,
                      [&](const auto& x) { return !x.identifiers_updated || x.link.id != link; });
        return all;
    }
    // The link carries a keep-alive both ways, and both ends hold the same keys.
    void expect_link_works() {
        const auto before =
            count_of(w.source->counters().received_messages, MT::keepalive_response);
        ASSERT_TRUE(w.source->send_keepalive(id, w.radio.now));
        w.radio.run(1s);
        EXPECT_EQ(count_of(w.source->counters().received_messages, MT::keepalive_response),
                  before + 1);
        auto s = w.source->data_keys(id), t = w.target->data_keys(id);
        ASSERT_TRUE(s && t);
        EXPECT_TRUE(same_keys(*s, *t));
    }
    // `e` released the link once, having found the relay lost (#4, not told so by a peer).
    void expect_relay_lost(const Engine& e) {
        auto r = w.released(e);
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].cause, Cause::direct_connection_not_available);
        EXPECT_FALSE(r[0].by_peer);
        EXPECT_FALSE(e.data_keys(id));
    }
    // A message on a hop as `from` would send it under the hop's current keys (the test holds
    // them), COUNT well ahead of what it used.
    pc5::Frame on_hop(Engine& from, const std::string& hop, const codec::Message& m) {
        auto k = from.data_keys(hop).value();
        auto ctx = pdcp::SecurityContext::create(k.knrp_sess_id, k.ciphering, k.integrity, &k.nrpek,
                                                 &k.nrpik, k.initiator)
                       .value();
        const std::uint8_t filler[] = {0};
        for (int i = 0; i < 40 + forged; ++i)
            (void)ctx.protect(pc5::lcid::kSrb2, filler);
        ++forged;
        return {k.local_l2 ? k.local_l2 : from.l2_id(), k.peer_l2, pc5::lcid::kSrb2,
                ctx.protect(pc5::lcid::kSrb2, codec::encode(m).value()).value()};
    }
    // How many frames of the hop's PC5-S (LCID 2) `src` sent.
    std::size_t hop_frames_from(pc5::L2Id src) {
        return static_cast<std::size_t>(std::count_if(
            w.radio.sent.begin(), w.radio.sent.end(),
            [&](const pc5::Frame& f) { return f.lcid == pc5::lcid::kSrb2 && f.src == src; }));
    }
};

TEST_P(IdentifierUpdate, EveryIdentifierOfTheHopChangesAtBothItsEndsAndTheLinkGoesOn) {
    establish();
    const auto s0 = w.source->data_keys(source_hop).value();
    const auto e0 = w.source->data_keys(id).value();
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    EXPECT_FALSE(w.source->update_identifiers(id, w.radio.now));  // one at a time
    EXPECT_FALSE(w.relay->update_identifiers(id, w.radio.now));   // the relay has no link
    w.radio.run(2s);
    // The source's hop: a new L2 ID at each end, a new KNRP-sess ID and keys, the same at both.
    const auto s1 = w.source->data_keys(source_hop).value();
    const auto r1 = w.relay->data_keys(source_hop).value();
    EXPECT_NE(s1.local_l2, 0u);
    EXPECT_NE(s1.local_l2, kSourceL2);
    EXPECT_NE(s1.peer_l2, kRelayL2);
    EXPECT_NE(s1.knrp_sess_id.value, s0.knrp_sess_id.value);
    EXPECT_NE(to_hex(s1.nrpek.reveal()), to_hex(s0.nrpek.reveal()));
    EXPECT_TRUE(same_keys(s1, r1));
    EXPECT_EQ(r1.peer_l2, s1.local_l2);
    EXPECT_EQ(r1.local_l2, s1.peer_l2);
    // Reported at both ends of the hop, with what it replaced; the link follows its hop.
    ASSERT_EQ(updates(*w.source, source_hop).size(), 1u);
    EXPECT_EQ(updates(*w.source, source_hop)[0].previous_local_l2, kSourceL2);
    EXPECT_EQ(updates(*w.source, source_hop)[0].previous_peer_l2, kRelayL2);
    EXPECT_EQ(updates(*w.relay, source_hop).size(), 1u);
    const auto e1 = w.source->data_keys(id).value();
    EXPECT_EQ(e1.local_l2, s1.local_l2);
    EXPECT_EQ(e1.peer_l2, s1.peer_l2);
    // The link was re-keyed end to end: a new KNRP-sess ID MSB and keys at both ends.
    EXPECT_NE(e1.knrp_sess_id.msb(), e0.knrp_sess_id.msb());
    EXPECT_NE(to_hex(e1.nrpek.reveal()), to_hex(e0.nrpek.reveal()));
    expect_link_works();
    // From here the source is heard only under its new L2 ID, and the relay gave it a new
    // local UE ID: what the relay forwards to the target from it names that one.
    const std::size_t mark = w.radio.sent.size();
    expect_link_works();
    std::set<std::uint8_t> source_locals;
    for (std::size_t n = mark; n < w.radio.sent.size(); ++n) {
        const auto& f = w.radio.sent[n];
        EXPECT_NE(f.src, kSourceL2);
        if (f.dst == kTargetL2 && protected_pc5s(f)) source_locals.insert(f.pdu[1]);
    }
    ASSERT_EQ(source_locals.size(), 1u);
    std::uint8_t first_local = 0;
    for (const auto& f : w.radio.sent)
        if (f.dst == kTargetL2 && forwarded_srb0(f)) first_local = f.pdu[1];
    EXPECT_NE(*source_locals.begin(), first_local);
    // Then the target's hop, the same way; the relay holds no end-to-end key throughout.
    ASSERT_TRUE(w.target->update_identifiers(id, w.radio.now));
    w.radio.run(2s);
    const auto t1 = w.target->data_keys(target_hop).value();
    EXPECT_NE(t1.local_l2, kTargetL2);
    EXPECT_TRUE(same_keys(t1, w.relay->data_keys(target_hop).value()));
    EXPECT_EQ(updates(*w.target, target_hop).size(), 1u);
    expect_link_works();
    expect_relay_holds_no_end_to_end_key(w.log_relay, id);
    EXPECT_TRUE(w.failures(*w.source).empty());
    EXPECT_TRUE(w.released(*w.source).empty());
}

TEST_P(IdentifierUpdate, T5090UpdatesEachHopAgainAndAgain) {
    establish(10s);
    w.radio.run(45s);
    // Each end UE updated its own hop about every T5090; the link never stopped.
    EXPECT_GE(updates(*w.source, source_hop).size(), 3u);
    EXPECT_GE(updates(*w.target, target_hop).size(), 3u);
    EXPECT_EQ(updates(*w.relay, source_hop).size(), updates(*w.source, source_hop).size());
    EXPECT_EQ(updates(*w.relay, target_hop).size(), updates(*w.target, target_hop).size());
    expect_link_works();
    EXPECT_TRUE(w.released(*w.source).empty());
    EXPECT_TRUE(w.released(*w.target).empty());
}

// Both ends update their hops at once: both re-key requests cross; the source's goes on, and
// each end learns the other's new local UE ID from what verifies.
TEST_P(IdentifierUpdate, BothEndsAtOnce) {
    establish();
    const auto e0 = w.source->data_keys(id).value();
    ASSERT_TRUE(w.target->update_identifiers(id, w.radio.now));
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(2s);
    EXPECT_EQ(updates(*w.source, source_hop).size(), 1u);
    EXPECT_EQ(updates(*w.target, target_hop).size(), 1u);
    const auto e1 = w.source->data_keys(id).value();
    EXPECT_NE(e1.knrp_sess_id.value, e0.knrp_sess_id.value);
    EXPECT_TRUE(same_keys(e1, w.target->data_keys(id).value()));
    expect_link_works();
}

TEST_P(IdentifierUpdate, ReplayedBitFlippedReflectedOrForgedUpdatesChangeNothing) {
    establish();
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(2s);
    std::vector<pc5::Frame> recorded;
    for (const auto& f : w.radio.sent)
        if (f.lcid == pc5::lcid::kSrb2) recorded.push_back(f);
    ASSERT_EQ(recorded.size(), 3u);  // request, accept, ack
    const auto keys = w.source->data_keys(source_hop).value();
    const auto relay_keys = w.relay->data_keys(source_hop).value();
    const auto drops = [&](Engine& e) {
        std::uint64_t n = 0;
        for (auto d : e.counters().drops)
            n += d;
        return n;
    };
    const auto relay_drops = drops(*w.relay), source_drops = drops(*w.source);
    const auto count = [&](pc5::DropReason r) {
        const auto n = static_cast<std::size_t>(r);
        return w.relay->counters().drops[n] + w.source->counters().drops[n];
    };
    const auto replays = count(pc5::DropReason::replay);
    std::size_t expected_drops = 0;
    for (const auto& f : recorded) {
        w.radio.inject(f);  // a replay: the old keys' window has its COUNT
        pc5::Frame flipped = f;
        flipped.pdu[flipped.pdu.size() / 2] ^= 0x01;
        w.radio.inject(flipped);  // a copy with a bit flipped: the same COUNT, refused as well
        expected_drops += 2;
    }
    EXPECT_EQ(count(pc5::DropReason::replay), replays + 6);
    // Each reflected back to its sender: the other DIRECTION, refused (replay window or MAC-I).
    const auto refused = [&] {
        return count(pc5::DropReason::replay) + count(pc5::DropReason::bad_mac);
    };
    const auto before_reflection = refused();
    const auto bad_mac_before = count(pc5::DropReason::bad_mac);
    for (const auto& f : recorded) {
        w.radio.inject(pc5::Frame{f.dst, f.src, f.lcid, f.pdu});
        expected_drops += 1;
    }
    EXPECT_EQ(refused(), before_reflection + 3);
    const auto reflected_bad_mac = count(pc5::DropReason::bad_mac) - bad_mac_before;
    // A fresh request under the hop's current keys (COUNT ahead) with one bit flipped: its
    // MAC-I fails.
    codec::DirectLinkIdentifierUpdateRequest again;
    again.seq = 3;
    again.new_l2_id = codec::Layer2Id{0x0d0d0d};
    again.msb_knrp_sess_id = 0x77;
    auto fresh = on_hop(*w.source, source_hop, again);
    fresh.pdu.back() ^= 0x80;
    w.radio.inject(fresh);
    expected_drops += 1;
    // A frame of random bytes on LCID 2 to the relay's new L2 ID, naming the hop's KNRP-sess ID.
    pc5::Frame forged{
        keys.local_l2,
        keys.peer_l2,
        pc5::lcid::kSrb2,
        {keys.knrp_sess_id.msb(), keys.knrp_sess_id.lsb(), 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};
    w.radio.inject(forged);
    expected_drops += 1;
    EXPECT_EQ(drops(*w.relay) + drops(*w.source), relay_drops + source_drops + expected_drops);
    EXPECT_EQ(count(pc5::DropReason::bad_mac) - reflected_bad_mac, 2u);
    // Nothing moved: the same keys and identifiers at both ends, one update reported, no answer.
    EXPECT_TRUE(same_keys(w.source->data_keys(source_hop).value(), keys));
    EXPECT_TRUE(same_keys(w.relay->data_keys(source_hop).value(), relay_keys));
    EXPECT_EQ(w.relay->data_keys(source_hop)->peer_l2, keys.local_l2);
    EXPECT_EQ(updates(*w.source, source_hop).size(), 1u);
    EXPECT_EQ(updates(*w.relay, source_hop).size(), 1u);
    expect_link_works();
}

// Under the hop's keys (an end UE's own, or a compromised one): what the relay refuses.
TEST_P(IdentifierUpdate, TheRelayRefusesAnUnusableOrTakenL2Id) {
    establish();
    const auto before = w.relay->data_keys(source_hop).value();
    const auto ask = [&](pc5::L2Id l2, std::uint8_t msb) {
        codec::DirectLinkIdentifierUpdateRequest m;
        m.seq = 9;
        m.new_l2_id = codec::Layer2Id{l2};
        m.msb_knrp_sess_id = msb;
        m.nonce_1.fill(0x11);
        w.radio.inject(on_hop(*w.source, source_hop, m));
    };
    const auto malformed = [&] {
        return w.relay->counters().drops[static_cast<std::size_t>(pc5::DropReason::malformed)];
    };
    const auto m0 = malformed();
    ask(0, 0x42);                    // no L2 ID
    ask(pc5::kBroadcastL2Id, 0x42);  // the broadcast ID
    ask(0x123456, 0);                // MSB 0: "no security"
    EXPECT_EQ(malformed(), m0 + 3);
    EXPECT_EQ(hop_frames_from(kRelayL2), 0u);  // none answered
    ask(kTargetL2, 0x42);                      // the target's: in use at this relay
    // TS 24.554 7.2.4.5: REJECT #3, under the hop's keys; the source (not updating) drops it.
    ASSERT_EQ(hop_frames_from(kRelayL2), 1u);
    EXPECT_EQ(count_of(w.relay->counters().sent_messages, MT::identifier_update_reject), 1u);
    EXPECT_EQ(count_of(w.source->counters().received_messages, MT::identifier_update_reject), 1u);
    EXPECT_TRUE(same_keys(w.relay->data_keys(source_hop).value(), before));
    EXPECT_EQ(w.relay->data_keys(source_hop)->peer_l2, kSourceL2);
    expect_link_works();
}

TEST_P(IdentifierUpdate, ARejectLeavesTheIdentifiersAsTheyWere) {
    establish();
    const auto before = w.source->data_keys(source_hop).value();
    // The relay's accept is lost; a REJECT under the hop's keys comes instead.
    w.radio.on_air = [](pc5::Frame& f) { return f.lcid != pc5::lcid::kSrb2 || f.src != kRelayL2; };
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(1s);
    w.radio.on_air = nullptr;
    codec::DirectLinkIdentifierUpdateReject rj;
    rj.seq = 1;
    rj.cause = Cause::l2_id_conflict;
    w.radio.inject(on_hop(*w.relay, source_hop, rj));
    EXPECT_EQ(count_of(w.source->counters().received_messages, MT::identifier_update_reject), 1u);
    EXPECT_TRUE(same_keys(w.source->data_keys(source_hop).value(), before));
    EXPECT_EQ(w.source->data_keys(source_hop)->local_l2, 0u);
    EXPECT_TRUE(updates(*w.source, source_hop).empty());
    // Not waiting any more: no request again (t_identifier_update passes).
    const std::size_t requests = hop_frames_from(kSourceL2);
    w.radio.run(6s);
    EXPECT_EQ(hop_frames_from(kSourceL2), requests);
    EXPECT_TRUE(w.released(*w.source).empty());
}

TEST_P(IdentifierUpdate, ALostAcceptIsAskedForAgainAndALostAckIsNotMissed) {
    establish();
    // The first accept is lost: the source asks again, the relay sends the same accept.
    int accepts = 0;
    w.radio.on_air = [&](pc5::Frame& f) {
        return !(f.lcid == pc5::lcid::kSrb2 && f.src == kRelayL2 && accepts++ == 0);
    };
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(8s);
    EXPECT_EQ(accepts, 2);
    EXPECT_EQ(updates(*w.source, source_hop).size(), 1u);
    EXPECT_EQ(updates(*w.relay, source_hop).size(), 1u);
    EXPECT_TRUE(
        same_keys(w.source->data_keys(source_hop).value(), w.relay->data_keys(source_hop).value()));
    expect_link_works();
    // Next, the ack is lost: the relay takes the source's first frame under its new L2 ID (the
    // link's re-keying request) as the ack.
    const auto src_l2 = w.source->data_keys(source_hop)->local_l2;
    int from_source = 0;
    w.radio.on_air = [&](pc5::Frame& f) {  // the request passes, the ack is lost
        return !(f.lcid == pc5::lcid::kSrb2 && f.src == src_l2 && ++from_source == 2);
    };
    const auto requests = hop_frames_from(src_l2);
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(2s);
    EXPECT_EQ(hop_frames_from(src_l2), requests + 2);  // request and ack, the ack lost
    w.radio.on_air = nullptr;
    EXPECT_EQ(updates(*w.relay, source_hop).size(), 2u);
    EXPECT_TRUE(
        same_keys(w.source->data_keys(source_hop).value(), w.relay->data_keys(source_hop).value()));
    expect_link_works();
    // Last, the ack only late, after the re-keying request: the relay, already switched, takes
    // it quietly (no drop).
    const auto l2_now = w.source->data_keys(source_hop)->local_l2;
    std::optional<pc5::Frame> held;
    int n = 0;
    w.radio.on_air = [&](pc5::Frame& f) {
        if (f.lcid == pc5::lcid::kSrb2 && f.src == l2_now && ++n == 2) {
            held = f;
            return false;
        }
        return true;
    };
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(1s);
    w.radio.on_air = nullptr;
    ASSERT_TRUE(held);
    const auto unexpected = [&] {
        return w.relay->counters().drops[static_cast<std::size_t>(pc5::DropReason::unexpected)];
    };
    const auto before = unexpected();
    w.radio.inject(*held);
    EXPECT_EQ(unexpected(), before);
    EXPECT_EQ(updates(*w.relay, source_hop).size(), 3u);
    expect_link_works();
}

TEST_P(IdentifierUpdate, NoAckAndNoTrafficTheRelayStillTakesTheNewIdentifiers) {
    establish();
    // Everything the source sends after its request is lost for 25 s (the ack, the re-keying
    // and its retransmissions): the relay's wait ends on its timer with the identifiers it gave.
    bool requested = false;
    w.radio.on_air = [&](pc5::Frame& f) {
        if (!w.source->owns_l2(f.src)) return true;
        if (requested) return false;
        requested = f.lcid == pc5::lcid::kSrb2;
        return true;
    };
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(25s);
    EXPECT_EQ(updates(*w.relay, source_hop).size(), 1u);
    w.radio.on_air = nullptr;
    w.radio.run(20s);  // the source's re-keying gives up: the link's current keys stay
    EXPECT_TRUE(
        same_keys(w.source->data_keys(source_hop).value(), w.relay->data_keys(source_hop).value()));
    expect_link_works();
}

// The accept is lost and the source's timer fires late, together with the relay's (a busy
// driver): the relay has taken the new identifiers when the repeated request comes, under the
// old ones; it answers with the same accept, and both ends end up with the same keys.
TEST_P(IdentifierUpdate, ARequestRepeatedAfterTheRelaysWaitEndedGetsTheSameAccept) {
    establish();
    w.radio.on_air = [](pc5::Frame& f) { return f.lcid != pc5::lcid::kSrb2 || f.src != kRelayL2; };
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(1s);
    w.radio.on_air = nullptr;
    w.radio.advance(21s);  // both timers at once: the request again, the relay's wait over
    w.radio.run(2s);
    EXPECT_EQ(count_of(w.relay->counters().sent_messages, MT::identifier_update_accept), 2u);
    EXPECT_EQ(count_of(w.relay->counters().sent_messages, MT::identifier_update_reject), 0u);
    EXPECT_EQ(updates(*w.source, source_hop).size(), 1u);
    EXPECT_EQ(updates(*w.relay, source_hop).size(), 1u);
    EXPECT_TRUE(
        same_keys(w.source->data_keys(source_hop).value(), w.relay->data_keys(source_hop).value()));
    expect_link_works();
}

TEST_P(IdentifierUpdate, ARelayThatNeverAnswersIsLostAndTheLinkReleased) {
    establish();
    w.radio.on_air = [](pc5::Frame& f) { return f.src == kSourceL2 || f.src == kTargetL2; };
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(60s);
    // The request and its retransmissions, then #4 (as an unanswered keep-alive finds).
    EXPECT_EQ(hop_frames_from(kSourceL2), 1u + w.source_cfg.max_retransmissions);
    expect_relay_lost(*w.source);
}

// The relay goes silent on the hop while the link re-keys end to end, at either end of the
// re-keying: the lost relay still ends the link (#4), whatever the link was doing.
TEST_P(IdentifierUpdate, ARelayLostWhileTheLinkReKeysStillEndsIt) {
    establish();
    // The source asks and then re-keys: its hop's accepts never come.
    w.radio.on_air = [](pc5::Frame& f) { return f.lcid != pc5::lcid::kSrb2 || f.src != kRelayL2; };
    ASSERT_TRUE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(0s);
    // The re-keying's command never reaches the source either.
    w.radio.on_air = [](pc5::Frame& f) { return f.src != kRelayL2 || f.dst != kSourceL2; };
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(30s);
    expect_relay_lost(*w.source);
}

TEST_P(IdentifierUpdate, ARelayLostWhileTheLinkAnswersAReKeyingStillEndsIt) {
    establish();
    // The target asks; its hop's accepts never come, nor, after the source's re-keying request,
    // anything else from the relay: the target waits for the complete when the relay is lost.
    bool rekeying = false;
    w.radio.on_air = [&](pc5::Frame& f) {
        if (f.src != kRelayL2 || f.dst != kTargetL2) return true;
        if (f.lcid == pc5::lcid::kSrb2 || rekeying) return false;
        rekeying = f.lcid == pc5::lcid::kEndToEnd;  // the re-keying request passes, then none
        return true;
    };
    ASSERT_TRUE(w.target->update_identifiers(id, w.radio.now));
    w.radio.run(0s);
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(30s);
    expect_relay_lost(*w.target);
}

TEST_P(IdentifierUpdate, OnlyAnEstablishedLinkIsUpdated) {
    establish();
    auto r = w.source->update_identifiers("alice>bob#00000000", w.radio.now);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "link_id");
    // While the link re-keys, requests (and T5090) wait.
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    EXPECT_FALSE(w.source->update_identifiers(id, w.radio.now));
    w.radio.run(2s);
    EXPECT_TRUE(w.source->update_identifiers(id, w.radio.now));
}

INSTANTIATE_TEST_SUITE_P(Paths, IdentifierUpdate,
                         ::testing::Values(Case{Mode::literal, pc5::Path::l2},
                                           Case{Mode::hardened, pc5::Path::l2},
                                           Case{Mode::hardened, pc5::Path::l3}),
                         [](const auto& i) {
                             return std::string(name(i.param.mode)) +
                                    (i.param.path == pc5::Path::l3 ? "_l3" : "_l2");
                         });

}  // namespace
}  // namespace pc5sec::sigauth::test
