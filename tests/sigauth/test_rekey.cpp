// Re-keying of a solution B link end to end through the relay (docs/solution-b.md "Re-keying"):
// fresh nonces (hardened: and a fresh ephemeral ECDH) give a new KD-sess, NRPEK/NRPIK and
// KNRP-sess ID MSB at both ends; the relay routes the new ID by its unchanged LSB and holds no
// key. Lost, replayed and bit-flipped messages, both ends at once, keep-alive and release during
// re-keying.
#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/pdcp.hpp"
#include "world.hpp"

namespace pc5sec::sigauth::test {
namespace {

using codec::Cause;
using MT = codec::MessageType;

class Rekey : public ::testing::TestWithParam<Mode> {};

// A frame `from` really sends on link `id` under its current keys (the test holds them), through
// the relay to `to`, COUNT well ahead of what it used.
pc5::Frame as_peer(const std::vector<pc5::Frame>& sent, Engine& from, const std::string& id,
                   pc5::L2Id to, codec::Message m) {
    auto k = from.data_keys(id).value();
    auto ctx = pdcp::SecurityContext::create(k.knrp_sess_id, k.ciphering, k.integrity, &k.nrpek,
                                             &k.nrpik, k.initiator)
                   .value();
    const std::uint8_t filler[] = {0};
    for (int i = 0; i < 40; ++i)
        (void)ctx.protect(2, filler);
    return relayed(sent, to, ctx.protect(2, codec::encode(m).value()).value());
}

void expect_link_works(World& w, const std::string& id) {
    const auto before = count_of(w.source->counters().received_messages, MT::keepalive_response);
    ASSERT_TRUE(w.source->send_keepalive(id, w.radio.now));
    w.radio.run(1s);
    EXPECT_EQ(count_of(w.source->counters().received_messages, MT::keepalive_response), before + 1);
    auto s = w.source->data_keys(id), t = w.target->data_keys(id);
    ASSERT_TRUE(s && t);
    EXPECT_EQ(s->knrp_sess_id.value, t->knrp_sess_id.value);
    EXPECT_EQ(to_hex(s->nrpek.reveal()), to_hex(t->nrpek.reveal()));
    EXPECT_EQ(to_hex(s->nrpik.reveal()), to_hex(t->nrpik.reveal()));
}

std::string established_link(World& w) {
    w.build();
    w.connect();
    auto s = w.established(*w.source);
    EXPECT_EQ(s.size(), 1u);
    return s.empty() ? std::string{} : s[0].link.id;
}

TEST_P(Rekey, EitherEndGetsNewKeysAtBothEndsAndTheRelayHoldsNone) {
    World w(GetParam());
    const auto id = established_link(w);
    const auto first = w.source->data_keys(id).value();
    for (Engine* by : {w.source.get(), w.target.get()}) {
        const auto before = w.source->data_keys(id).value();
        ASSERT_TRUE(by->rekey(id, w.radio.now));
        w.radio.run(1s);
        for (Engine* e : {w.source.get(), w.target.get()}) {
            auto r = w.radio.events_of<pc5::LinkRekeyed>(*e);
            ASSERT_EQ(r.size(), by == w.source.get() ? 1u : 2u);
            EXPECT_EQ(r.back().link.id, id);
        }
        const auto after = w.source->data_keys(id).value();
        // TS 33.536 5.3.3.2 as B does it: a new MSB, the same LSB (the relay's routing label).
        EXPECT_NE(after.knrp_sess_id.msb(), before.knrp_sess_id.msb());
        EXPECT_EQ(after.knrp_sess_id.lsb(), first.knrp_sess_id.lsb());
        EXPECT_NE(to_hex(after.nrpek.reveal()), to_hex(before.nrpek.reveal()));
        EXPECT_NE(to_hex(after.nrpik.reveal()), to_hex(before.nrpik.reveal()));
        expect_link_works(w, id);
    }
    // The key log of each end has every generation; the relay's has its hops' keys only, and it
    // made no key agreement beyond its two hops'.
    EXPECT_EQ(w.log_source.latest("KNRP_SESS_ID", id), w.log_target.latest("KNRP_SESS_ID", id));
    EXPECT_EQ(w.log_source.latest("NRPEK", id), w.log_target.latest("NRPEK", id));
    expect_relay_holds_no_end_to_end_key(w.log_relay, id);
    EXPECT_EQ(w.relay->counters().crypto.key_agreement, 2u);
    // KD-sess' = KDF(KD, FC 0xB2, Nonce_1', Nonce_2' [, Z_eph']): without the fresh ECDH (literal)
    // it is recomputed from the key log; hardened has a fresh ephemeral secret in it.
    auto hex = [&](std::string_view label) {
        return from_hex(w.log_source.latest(label, id)).value();
    };
    const auto kd = hex("KD"), n1 = hex("NONCE_1"), n2 = hex("NONCE_2");
    const auto recomputed = to_hex(kdf(kd, fc::kKdSessRekey, {n1, n2}).reveal());
    if (GetParam() == Mode::literal)
        EXPECT_EQ(recomputed, w.log_source.latest("KD_SESS", id));
    else
        EXPECT_NE(recomputed, w.log_source.latest("KD_SESS", id));
}

TEST_P(Rekey, HardenedReKeyingDoesAFreshEphemeralExchange) {
    World w(GetParam());
    const auto id = established_link(w);
    const auto agreements = w.source->counters().crypto.key_agreement;
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(1s);
    EXPECT_EQ(w.source->counters().crypto.key_agreement,
              agreements + (GetParam() == Mode::hardened ? 1u : 0u));
}

TEST_P(Rekey, ALostCommandIsAskedForAgain) {
    World w(GetParam());
    const auto id = established_link(w);
    int dropped = 0;
    w.radio.on_air = [&](pc5::Frame& f) {
        // The target's first protected frame after the request: its SECURITY MODE COMMAND.
        if (f.src == kTargetL2 && f.lcid == pc5::lcid::kEndToEnd && dropped == 0) {
            ++dropped;
            return false;
        }
        return true;
    };
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(20s);
    EXPECT_EQ(dropped, 1);
    EXPECT_EQ(count_of(w.source->counters().sent_messages, MT::rekeying_request), 2u);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 1u);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.target).size(), 1u);
    expect_link_works(w, id);
}

TEST_P(Rekey, ALostCompleteIsReplacedByTheFirstPduUnderTheNewKeys) {
    World w(GetParam());
    const auto id = established_link(w);
    int from_source = 0;
    w.radio.on_air = [&](pc5::Frame& f) {
        // The source's second protected frame: its SECURITY MODE COMPLETE.
        if (f.src == kSourceL2 && f.lcid == pc5::lcid::kEndToEnd) return ++from_source != 2;
        return true;
    };
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(1s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.target).size(), 1u);
    EXPECT_EQ(count_of(w.target->counters().received_messages, MT::security_mode_complete), 0u);
    expect_link_works(w, id);
}

TEST_P(Rekey, NoAnswerKeepsTheCurrentKeysAtBothEnds) {
    World w(GetParam());
    const auto id = established_link(w);
    const auto before = w.source->data_keys(id).value();
    bool mute = true;
    w.radio.on_air = [&](pc5::Frame& f) { return !(mute && f.src == kTargetL2); };
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(120s);
    EXPECT_EQ(count_of(w.source->counters().sent_messages, MT::rekeying_request), 4u);
    EXPECT_TRUE(w.radio.events_of<pc5::LinkRekeyed>(*w.source).empty());
    EXPECT_TRUE(w.radio.events_of<pc5::LinkRekeyed>(*w.target).empty());
    EXPECT_EQ(w.source->data_keys(id)->knrp_sess_id.value, before.knrp_sess_id.value);
    EXPECT_EQ(w.target->data_keys(id)->knrp_sess_id.value, before.knrp_sess_id.value);
    mute = false;
    expect_link_works(w, id);
    // And it can re-key again afterwards.
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(1s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 1u);
    expect_link_works(w, id);
}

TEST_P(Rekey, BothEndsAtOnceTheSourcesGoesOn) {
    World w(GetParam());
    const auto id = established_link(w);
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    ASSERT_TRUE(w.target->rekey(id, w.radio.now));
    w.radio.run(20s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 1u);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.target).size(), 1u);
    expect_link_works(w, id);
}

// A keep-alive or a release from the peer under the current keys while re-keying: answered,
// or taken (the link ends); a release asked for locally: sent.
TEST_P(Rekey, KeepaliveAndReleaseDuringReKeying) {
    for (bool at_requester : {true, false}) {
        for (int what = 0; what < 3; ++what) {
            SCOPED_TRACE(::testing::Message() << at_requester << " " << what);
            World w(GetParam());
            const auto id = established_link(w);
            // The requester (the source) waits for its command, or the responder (the target)
            // for the complete: the other end's answer is lost (the request itself gets through).
            int from_source = 0;
            w.radio.on_air = [&](pc5::Frame& f) {
                if (f.lcid != pc5::lcid::kEndToEnd) return true;
                if (at_requester) return f.src != kTargetL2;
                return f.src != kSourceL2 || ++from_source == 1;
            };
            const pc5::Frame ka_from_peer = at_requester
                                                ? as_peer(w.radio.sent, *w.target, id, kSourceL2,
                                                          codec::DirectLinkKeepaliveRequest{})
                                                : as_peer(w.radio.sent, *w.source, id, kTargetL2,
                                                          codec::DirectLinkKeepaliveRequest{});
            codec::DirectLinkReleaseRequest rr;
            rr.cause = Cause::direct_communication_no_longer_needed;
            const pc5::Frame rel_from_peer =
                at_requester ? as_peer(w.radio.sent, *w.target, id, kSourceL2, rr)
                             : as_peer(w.radio.sent, *w.source, id, kTargetL2, rr);
            ASSERT_TRUE(w.source->rekey(id, w.radio.now));
            w.radio.run(100ms);
            Engine& e = at_requester ? *w.source : *w.target;
            w.radio.on_air = nullptr;
            // Neither end has the new keys in use yet... except the requester whose command got
            // through (not here: it was lost) or the responder (its complete was lost).
            EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(e).size(), 0u);
            EXPECT_EQ(count_of(w.target->counters().sent_messages, MT::security_mode_command), 1u);
            if (what == 0) {
                const auto answers = count_of(e.counters().sent_messages, MT::keepalive_response);
                w.radio.inject(ka_from_peer);
                EXPECT_EQ(count_of(e.counters().sent_messages, MT::keepalive_response),
                          answers + 1);
            } else if (what == 1) {
                w.radio.inject(rel_from_peer);
                auto r = w.released(e);
                ASSERT_EQ(r.size(), 1u);
                EXPECT_TRUE(r[0].by_peer);
                EXPECT_TRUE(e.links().empty());
            } else {
                ASSERT_TRUE(e.release(id, w.radio.now));
                w.radio.run(1s);
                auto r = w.released(e);
                ASSERT_EQ(r.size(), 1u);
                EXPECT_FALSE(r[0].by_peer);
                EXPECT_TRUE(e.links().empty());
            }
        }
    }
}

// An attacker on the air: a recorded REKEYING REQUEST again, a bit flipped in the command, a
// command made up under a made-up key. Nothing changes keys; a flipped command is dropped and
// the request asked again completes.
TEST_P(Rekey, ReplayedOrAlteredReKeyingMessagesChangeNothing) {
    World w(GetParam());
    const auto id = established_link(w);
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(1s);
    ASSERT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.target).size(), 1u);
    const auto keys = w.target->data_keys(id).value();
    // The recorded request, replayed at the target.
    pc5::Frame recorded;
    for (const auto& f : w.radio.sent)
        if (f.src == kRelayL2 && f.dst == kTargetL2 && protected_pc5s(f)) {
            recorded = f;
            break;
        }
    ASSERT_FALSE(recorded.pdu.empty());
    w.radio.inject(recorded);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.target).size(), 1u);
    EXPECT_EQ(w.target->data_keys(id)->knrp_sess_id.value, keys.knrp_sess_id.value);
    expect_link_works(w, id);
    // A bit flipped in the next command: dropped; the request again on T5080 completes.
    bool flipped = false;
    w.radio.on_air = [&](pc5::Frame& f) {
        if (!flipped && f.src == kTargetL2 && f.lcid == pc5::lcid::kEndToEnd) {
            flipped = true;
            f.pdu[f.pdu.size() / 2] ^= 0x01;
        }
        return true;
    };
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    w.radio.run(1s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 1u);
    w.radio.run(20s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 2u);
    w.radio.on_air = nullptr;
    expect_link_works(w, id);
    // A made-up "command" under the next ID the source may expect: dropped, no keys change.
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    const auto pending = w.source->data_keys(id).value();
    std::vector<std::uint8_t> junk(60, 0x5a);
    junk[0] = 0x00;
    junk[1] = pending.knrp_sess_id.lsb();
    for (int msb = 0; msb < 256; ++msb) {
        junk[0] = static_cast<std::uint8_t>(msb);
        w.source->receive(relayed(w.radio.sent, kSourceL2, junk), w.radio.now);
    }
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 2u);
    w.radio.run(1s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 3u);
    expect_link_works(w, id);
}

// The target asked first; a request from the source it must refuse (the MSB unchanged) leaves
// the target's own re-keying as it was, which then completes.
TEST_P(Rekey, ARefusedRequestWhileWaitingLeavesOurOwnReKeying) {
    World w(GetParam());
    const auto id = established_link(w);
    const auto cur = w.source->data_keys(id).value().knrp_sess_id;
    codec::DirectLinkRekeyingRequest bad;
    bad.ue_security_capabilities = {0xf0, 0x70};
    bad.msb_knrp_sess_id = cur.msb();
    const auto frame = as_peer(w.radio.sent, *w.source, id, kTargetL2, bad);
    ASSERT_TRUE(w.target->rekey(id, w.radio.now));
    w.target->receive(frame, w.radio.now);
    EXPECT_LE(w.target->next_timeout(), w.radio.now + 8s);
    w.radio.run(20s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.target).size(), 1u);
    EXPECT_EQ(w.radio.events_of<pc5::LinkRekeyed>(*w.source).size(), 1u);
    expect_link_works(w, id);
}

TEST_P(Rekey, OnlyAnEstablishedLinkIsReKeyed) {
    World w(GetParam());
    w.build();
    auto r = w.source->rekey("alice>bob#00000000", w.radio.now);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "link_id");
    const auto id = [&] {
        w.connect();
        return w.established(*w.source).at(0).link.id;
    }();
    ASSERT_TRUE(w.source->rekey(id, w.radio.now));
    EXPECT_FALSE(w.source->rekey(id, w.radio.now));  // one re-keying at a time
    EXPECT_FALSE(w.relay->rekey(id, w.radio.now));   // the relay has no link
}

INSTANTIATE_TEST_SUITE_P(Modes, Rekey, ::testing::Values(Mode::literal, Mode::hardened),
                         [](const auto& i) { return std::string(name(i.param)); });

}  // namespace
}  // namespace pc5sec::sigauth::test
