// The rows of the flow table (src/link/flow.cpp) that the other tests do not take: the rarer
// turns of steps 3-5, the relay's hold of a first hop, re-keying and release crossing other
// procedures, and every timer. With test_link.cpp, test_relay.cpp and test_attacks.cpp they
// take every row (link_flow_table_every_row_reached).
#include <gtest/gtest.h>

#include "fixture.hpp"

using namespace pc5sec;
using namespace pc5sec::testing;

namespace {

using MT = codec::MessageType;
constexpr pc5::L2Id kAlice = 0x0A, kBob = 0x0B, kCarol = 0x0C, kRelay = 0x50;

class Flow : public LinkTest {
  public:
    void TestBody() override {}  // a test may make more than one world
    std::string only_link(const std::string& n) {
        auto l = ue(n).engine->links();
        EXPECT_EQ(l.size(), 1u) << n;
        return l.empty() ? std::string{} : l[0].id;
    }
    void direct_pair() {
        end_ue("bob", kBob);
        end_ue("alice", kAlice);
        ue("alice").engine->connect(direct("bob"), net.now);
        net.run();
    }
    // Once a frame whose first octet is `type` from `src` passes, `then` runs (once).
    void on_first(pc5::L2Id src, MT type, std::function<void()> then) {
        auto done = std::make_shared<bool>(false);
        net.attacker = [=, this](pc5::Frame& f) {
            if (!*done && f.src == src && f.lcid == pc5::lcid::kSrb0 && !f.pdu.empty() &&
                f.pdu[0] == static_cast<std::uint8_t>(type)) {
                *done = true;
                then();
            }
            return true;
        };
    }
    void forge_now(pc5::L2Id src, pc5::L2Id dst, std::vector<std::uint8_t> pdu) {
        net.in_flight.push_back({net.now, net.order++,
                                 pc5::Frame{src, dst, pc5::lcid::kSrb0, std::move(pdu), nullptr}});
    }
    static std::vector<std::uint8_t> reject_of(MT type) {
        return {static_cast<std::uint8_t>(type), 0x07, 0x06};
    }
};

pc5::ConnectRequest via_relay(const std::string& target, bool give_relay = true) {
    pc5::ConnectRequest r;
    r.target = target;
    r.path = pc5::Path::l3;
    r.rsc = 0x00A001;
    if (give_relay) {
        r.relay = "relay-1";
        r.relay_l2 = kRelay;
    }
    return r;
}

}  // namespace

// Unprotected rejects and failures at each step of the handshake: each is asked about once
// more instead of believed, and the link comes up.
TEST_F(Flow, ForgedRejectsAtStepsThreeAndFourAreNotBelieved) {
    for (MT type : {MT::authentication_reject, MT::establishment_reject}) {
        Flow t;
        t.end_ue("bob", kBob);
        t.end_ue("alice", kAlice);
        // alice waits for the command (wait-security-mode-command) when the forgery arrives
        t.on_first(kAlice, MT::authentication_response,
                   [&t, type] { t.forge_now(kBob, kAlice, reject_of(type)); });
        t.ue("alice").engine->connect(direct("bob"), t.net.now);
        t.net.run();
        EXPECT_EQ(t.ue("alice").engine->links().size(), 1u) << codec::message_name(type);
        EXPECT_TRUE(t.failed("alice").empty());
    }
    Flow t;  // bob waits for the authentication response when alice's "failure" arrives
    t.end_ue("bob", kBob);
    t.end_ue("alice", kAlice);
    t.on_first(kBob, MT::authentication_request,
               [&t] { t.forge_now(kAlice, kBob, reject_of(MT::authentication_failure)); });
    t.ue("alice").engine->connect(direct("bob"), t.net.now);
    t.net.run();
    EXPECT_EQ(t.ue("bob").engine->links().size(), 1u);
    EXPECT_TRUE(t.failed("bob").empty());
}

// Bob falls silent after alice's complete: alice's supervision of wait-accept ends the link.
TEST_F(Flow, NoAcceptEndsTheLinkWhenSupervisionRunsOut) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    bool silent = false;
    net.attacker = [&](pc5::Frame& f) {
        if (f.src == kAlice && f.lcid == pc5::lcid::kSrb1) silent = true;  // the complete
        return !(silent && f.src == kBob);
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_EQ(failed("alice").size(), 1u);
    EXPECT_EQ(failed("alice")[0].cause, codec::Cause::direct_connection_not_available);
    EXPECT_NE(failed("alice")[0].reason.find("wait-accept"), std::string::npos);
    expect_no_state("alice");
}

// Step 1 then one establishment at a time on the route: two targets found by discovery; the
// second hop waits (wait-hop, its discovery timer running out there) and starts after the
// first.
TEST_F(Flow, SecondHopToTheSameRelayWaitsForTheFirst) {
    end_ue("bob", kBob);
    end_ue("carol", kCarol);
    relay("relay-1", kRelay);
    end_ue("alice", kAlice);
    net.delay = std::chrono::milliseconds(300);  // the first hop outlasts the second's timer
    ue("alice").engine->connect(via_relay("bob", false), net.now);
    ue("alice").engine->connect(via_relay("carol", false), net.now);
    net.run();
    EXPECT_EQ(ue("alice").engine->links().size(), 2u);
    EXPECT_EQ(ue("bob").engine->links().size(), 1u);
    EXPECT_EQ(ue("carol").engine->links().size(), 1u);
}

// The relay's hop to the target fails while the source's hop is still at step 5: the relay
// refuses the source.
TEST_F(Flow, SecondHopFailingBeforeStepFiveRefusesTheSource) {
    auto c = config("bob", kBob, Pki::instance().issue("bob", {Role::end_ue}, {0x00B002}));
    add(std::move(c));
    relay("relay-1", kRelay);
    end_ue("alice", kAlice);
    bool dropped = false;  // alice's first complete is lost: step 5 comes 8 s later
    net.attacker = [&](pc5::Frame& f) {
        if (!dropped && f.src == kAlice && f.lcid == pc5::lcid::kSrb1) {
            dropped = true;
            return false;
        }
        return true;
    };
    ue("alice").engine->connect(via_relay("bob"), net.now);
    net.run();
    ASSERT_FALSE(failed("alice").empty());
    EXPECT_EQ(failed("alice").back().cause, codec::Cause::required_service_not_allowed);
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
    expect_no_state("alice");
}

// A target that never answers: the relay holds the source's accept for Timers::relay_hold
// (set here below the second hop's own T5080 retransmissions, which by default end it first:
// link::second_hop_wait), then refuses it (#4) and drops the hop it was making.
TEST_F(Flow, TheRelayHoldsTheSourceOnlyForRelayHold) {
    relay("relay-1", kRelay, [](link::Config& c) {
        c.directory["ghost"] = 0x0F;
        c.timers.relay_hold = std::chrono::seconds(16);
    });
    end_ue("alice", kAlice);
    ue("alice").engine->connect(via_relay("ghost"), net.now);
    net.run();
    ASSERT_FALSE(failed("alice").empty());
    EXPECT_EQ(failed("alice").back().cause, codec::Cause::direct_connection_not_available);
    EXPECT_TRUE(failed("alice").back().by_peer);
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
}

// By default the relay waits for its second hop as long as that hop's retransmissions may take
// (link::second_hop_wait): a target that never answers ends the hop on its own T5080, and the
// source is refused with #4 before the relay's wait ends.
TEST_F(Flow, TheSecondHopEndsOnItsOwnTimersBeforeTheRelaysWait) {
    relay("relay-1", kRelay, [](link::Config& c) { c.directory["ghost"] = 0x0F; });
    end_ue("alice", kAlice);
    const link::Timers t;
    EXPECT_GT(link::second_hop_wait(t), t.t5080 * (t.max_retransmissions + 1));
    ue("alice").engine->connect(via_relay("ghost"), net.now);
    net.run(link::second_hop_wait(t) + std::chrono::seconds(60));
    ASSERT_FALSE(failed("alice").empty());
    EXPECT_EQ(failed("alice").back().cause, codec::Cause::direct_connection_not_available);
    EXPECT_LT(failed("alice").back().at, link::second_hop_wait(t));
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
}

// The source's COMPLETE never arrives and the hop to the target fails meanwhile: the relay
// refuses the source from wait-security-mode-complete.
TEST_F(Flow, SecondHopFailsWhileTheFirstWaitsForTheComplete) {
    relay("relay-1", kRelay, [](link::Config& c) {
        c.directory["ghost"] = 0x0F;
        c.timers.t5080 = std::chrono::seconds(4);  // hop 2 gives up at 16 s, hop 1 at 32 s
    });
    end_ue("alice", kAlice);
    net.attacker = [](pc5::Frame& f) { return !(f.src == kAlice && f.lcid == pc5::lcid::kSrb1); };
    ue("alice").engine->connect(via_relay("ghost"), net.now);
    net.run();
    ASSERT_FALSE(failed("relay-1").empty());
    EXPECT_FALSE(failed("alice").empty());
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
}

// Layer 3: the target releases its hop; the relay releases the source's hop that led to it.
TEST_F(Flow, TargetGoneReleasesTheSourcesLayer3Hop) {
    end_ue("bob", kBob);
    relay("relay-1", kRelay);
    end_ue("alice", kAlice);
    ue("alice").engine->connect(via_relay("bob"), net.now);
    net.run();
    ASSERT_EQ(ue("alice").engine->links().size(), 1u);
    ue("bob").engine->release_all(net.now);
    net.run();
    EXPECT_EQ(net.of<pc5::LinkReleased>("alice").size(), 1u);
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
    expect_no_state("alice");
}

// Re-keying refused by the peer (AUTHENTICATION REJECT, protected): the current keys stay.
TEST_F(Flow, RekeyingRefusedKeepsTheCurrentKeys) {
    direct_pair();
    const auto id = only_link("alice");
    const auto keys = ue("alice").engine->links()[0].fingerprints;
    codec::DirectLinkAuthenticationReject r;
    r.cause = codec::Cause::authentication_failure;
    auto refusal = as_peer("bob", only_link("bob"), pc5::lcid::kSrb2, r);
    // bob's own answer is lost; the refusal made with his keys arrives
    net.attacker = [&](pc5::Frame& f) { return f.src != kBob || f.pdu == refusal.pdu; };
    ASSERT_TRUE(ue("alice").engine->rekey(id, false, net.now));
    net.inject(refusal);
    net.run(net.now + std::chrono::seconds(1));
    net.attacker = nullptr;
    ASSERT_EQ(ue("alice").engine->links().size(), 1u);
    EXPECT_EQ(ue("alice").engine->links()[0].fingerprints, keys);
}

// The answering end's command is refused (SECURITY MODE REJECT, protected under the current keys
// on SL-SRB2, as the engine sends it): it keeps its keys.
TEST_F(Flow, RekeyingCommandRefusedKeepsTheCurrentKeys) {
    direct_pair();
    const auto keys = ue("bob").engine->links()[0].fingerprints;
    codec::DirectLinkSecurityModeReject r;
    r.cause = codec::Cause::ue_security_capabilities_mismatch;
    auto refusal = as_peer("alice", only_link("alice"), pc5::lcid::kSrb2, r);
    net.attacker = [&](pc5::Frame& f) {
        return f.src != kAlice || f.lcid != pc5::lcid::kSrb1 || f.pdu == refusal.pdu;
    };
    ASSERT_TRUE(ue("alice").engine->rekey(only_link("alice"), false, net.now));
    net.run(net.now + std::chrono::milliseconds(10));  // bob has sent his command
    net.inject(refusal);
    net.run(net.now + std::chrono::seconds(1));
    ASSERT_EQ(ue("bob").engine->links().size(), 1u);
    EXPECT_EQ(ue("bob").engine->links()[0].fingerprints, keys);
}

// A forged SECURITY MODE REJECT in clear (SL-SRB0) in alice's name while bob waits for her
// complete: it proves nothing on a secured link and is dropped; the re-keying completes.
TEST_F(Flow, ForgedUnprotectedRejectCannotCancelARekeying) {
    direct_pair();
    const auto keys = ue("bob").engine->links()[0].fingerprints;
    codec::DirectLinkSecurityModeReject r;
    r.cause = codec::Cause::ue_security_capabilities_mismatch;
    r.seq = 1;
    const auto forged = pc5::Frame{kAlice, kBob, pc5::lcid::kSrb0, *codec::encode(r), nullptr};
    bool sent = false;
    net.attacker = [&](pc5::Frame& f) {
        if (!sent && f.src == kBob && f.lcid == pc5::lcid::kSrb1) {  // bob's command: forge now
            sent = true;
            net.inject(forged);
        }
        return true;
    };
    ASSERT_TRUE(ue("alice").engine->rekey(only_link("alice"), false, net.now));
    net.run(net.now + std::chrono::seconds(1));
    net.attacker = nullptr;
    EXPECT_TRUE(sent);
    EXPECT_EQ(received("bob", codec::MessageType::security_mode_reject), 1u);
    ASSERT_EQ(ue("bob").engine->links().size(), 1u);
    EXPECT_NE(ue("bob").engine->links()[0].fingerprints, keys);  // re-keyed all the same
    EXPECT_EQ(ue("bob").engine->links()[0].fingerprints,
              ue("alice").engine->links()[0].fingerprints);
}

// A forged SECURITY MODE REJECT in clear in alice's name while bob, in a first establishment,
// waits for her complete: SL-SRB0 proves nothing, so bob asks once more and keeps waiting; the
// genuine complete arrives and the link is established at both ends with the same keys.
TEST_F(Flow, ForgedUnprotectedRejectDoesNotEndAFirstEstablishment) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    codec::DirectLinkSecurityModeReject r;
    r.cause = codec::Cause::ue_security_capabilities_mismatch;
    const auto forged = pc5::Frame{kAlice, kBob, pc5::lcid::kSrb0, *codec::encode(r), nullptr};
    bool sent = false;
    net.attacker = [&](pc5::Frame& f) {
        if (!sent && f.src == kBob && f.lcid == pc5::lcid::kSrb1) {  // bob's command: forge now
            sent = true;
            net.inject(forged);
        }
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    net.attacker = nullptr;
    EXPECT_TRUE(sent);
    EXPECT_EQ(received("bob", codec::MessageType::security_mode_reject), 1u);
    ASSERT_EQ(ue("bob").engine->links().size(), 1u);
    ASSERT_EQ(ue("alice").engine->links().size(), 1u);
    EXPECT_EQ(ue("bob").engine->links()[0].fingerprints,
              ue("alice").engine->links()[0].fingerprints);
}

// Keep-alive and release cross a re-keying, at either end.
TEST_F(Flow, KeepaliveAndReleaseCrossARekeying) {
    {
        Flow t;
        t.direct_pair();
        ASSERT_TRUE(t.ue("alice").engine->rekey(t.only_link("alice"), false, t.net.now));
        ASSERT_TRUE(t.ue("bob").engine->keepalive(t.only_link("bob"), t.net.now));
        t.net.run();
        EXPECT_EQ(t.ue("alice").engine->links().size(), 1u);
        EXPECT_EQ(t.net.of<pc5::LinkRekeyed>("alice").size(), 1u);
    }
    {
        Flow t;  // the requester gets a release while it waits
        t.direct_pair();
        ASSERT_TRUE(t.ue("alice").engine->rekey(t.only_link("alice"), false, t.net.now));
        ASSERT_TRUE(t.ue("bob").engine->release(t.only_link("bob"), t.net.now));
        t.net.run();
        t.expect_no_state("alice");
        t.expect_no_state("bob");
    }
    {
        Flow t;  // the answering end gets a release while it waits for the complete
        t.direct_pair();
        auto bye = t.as_peer("alice", t.only_link("alice"), pc5::lcid::kSrb2,
                             codec::DirectLinkReleaseRequest{});
        t.net.attacker = [&](pc5::Frame& f) {  // alice's complete is lost; her "release" comes
            return f.src != kAlice || f.lcid != pc5::lcid::kSrb1 || f.pdu == bye.pdu;
        };
        ASSERT_TRUE(t.ue("alice").engine->rekey(t.only_link("alice"), false, t.net.now));
        t.net.run(t.net.now + std::chrono::milliseconds(10));
        t.net.inject(bye);
        t.net.run(t.net.now + std::chrono::seconds(1));
        t.expect_no_state("bob");
    }
}

// Re-keying whose answers never come: each end gives up and keeps its current keys.
// Re-keying under loss never leaves the two ends established under different keys (issue 17,
// found by fuzz_engines).
TEST_F(Flow, RekeyingTimersNeverLeaveTheEndsOnDifferentKeys) {
    direct_pair();
    const auto b_keys = ue("bob").engine->links()[0].fingerprints;
    // bob's command reaches alice, alice's complete never reaches bob: alice uses the new keys
    // and sends her complete again; bob gives up and keeps the current keys; alice, never
    // answered, cannot know which keys bob holds and releases the link.
    net.attacker = [](pc5::Frame& f) { return f.src != kAlice || f.lcid == pc5::lcid::kSrb2; };
    ASSERT_TRUE(ue("alice").engine->rekey(only_link("alice"), false, net.now));
    net.run(net.now + std::chrono::seconds(100));
    EXPECT_EQ(ue("bob").engine->links()[0].fingerprints, b_keys);
    EXPECT_TRUE(ue("alice").engine->links().empty());
    EXPECT_EQ(net.of<pc5::LinkReleased>("alice").size(), 1u);
    // The complete reaches bob but his REKEYING RESPONSE is lost, every time: alice sends her
    // complete again (not the request), bob answers each repeat with the response; the first
    // that arrives ends the re-keying at both ends under the same new keys.
    {
        Flow t;
        t.direct_pair();
        int responses_lost = 0;
        t.net.attacker = [&](pc5::Frame& f) {
            if (f.src != kBob || f.lcid != pc5::lcid::kSrb2 || responses_lost >= 2) return true;
            ++responses_lost;  // bob's first two protected answers on SRB2: the responses
            return false;
        };
        ASSERT_TRUE(t.ue("alice").engine->rekey(t.only_link("alice"), false, t.net.now));
        t.net.run(t.net.now + std::chrono::seconds(100));
        ASSERT_EQ(t.ue("alice").engine->links().size(), 1u);
        ASSERT_EQ(t.ue("bob").engine->links().size(), 1u);
        EXPECT_EQ(t.ue("alice").engine->links()[0].fingerprints,
                  t.ue("bob").engine->links()[0].fingerprints);
        EXPECT_EQ(t.net.of<pc5::LinkRekeyed>("alice").size(), 1u);
        EXPECT_EQ(t.net.of<pc5::LinkRekeyed>("bob").size(), 1u);
    }
    Flow t;  // the requester hears nothing at all: nothing changed, the current keys stay
    t.direct_pair();
    const auto keys = t.ue("alice").engine->links()[0].fingerprints;
    t.net.attacker = [](pc5::Frame& f) { return f.src != kBob; };
    ASSERT_TRUE(t.ue("alice").engine->rekey(t.only_link("alice"), false, t.net.now));
    t.net.run(t.net.now + std::chrono::seconds(100));
    ASSERT_EQ(t.ue("alice").engine->links().size(), 1u);
    EXPECT_EQ(t.ue("alice").engine->links()[0].fingerprints, keys);
}

// Both ends release at once; and a release never accepted ends on its timer.
TEST_F(Flow, ReleaseCrossingAndUnanswered) {
    {
        Flow t;
        t.direct_pair();
        ASSERT_TRUE(t.ue("alice").engine->release(t.only_link("alice"), t.net.now));
        ASSERT_TRUE(t.ue("bob").engine->release(t.only_link("bob"), t.net.now));
        t.net.run();
        t.expect_no_state("alice");
        t.expect_no_state("bob");
    }
    Flow t;
    t.direct_pair();
    t.net.attacker = [](pc5::Frame& f) { return f.src != kBob; };
    ASSERT_TRUE(t.ue("alice").engine->release(t.only_link("alice"), t.net.now));
    t.net.run();
    t.expect_no_state("alice");
    EXPECT_EQ(t.net.of<pc5::LinkReleased>("alice").size(), 1u);
}

// One bit of the first `type` message `from` sends is flipped, at 48 positions spread over it
// (from `first_bit`); each time both ends still come up.
void expect_no_single_bit_flip_ends_the_attempt(pc5::L2Id from, MT type, std::size_t first_bit) {
    constexpr std::size_t kPositions = 48;
    for (std::size_t i = 0; i < kPositions; ++i) {
        Flow w;
        w.end_ue("bob", kBob);
        w.end_ue("alice", kAlice);
        bool flipped = false;
        w.net.attacker = [&](pc5::Frame& f) {
            if (flipped || f.src != from || f.lcid != pc5::lcid::kSrb0) return true;
            auto m = codec::decode(f.pdu);
            if (!m || codec::message_type(*m) != type) return true;
            const std::size_t bit = first_bit + (f.pdu.size() * 8 - first_bit) * i / kPositions;
            f.pdu[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
            flipped = true;
            return true;
        };
        w.ue("alice").engine->connect(direct("bob"), w.net.now);
        w.net.run();
        EXPECT_TRUE(flipped);
        EXPECT_EQ(w.established("alice").size(), 1u) << "bit at " << i << "/" << kPositions;
        EXPECT_EQ(w.established("bob").size(), 1u) << "bit at " << i << "/" << kPositions;
    }
}

// Issue 17: one bit-flipped copy of the authentication request (unprotected, SL-SRB0) never
// ends the attempt, wherever the bit is: the signature check drops it, or the refusal it draws
// (a certificate that no longer verifies under the CA looks like a foreign one) waits for the
// genuine copy, which the responder sends again on t_auth.
TEST(Corruption, NoSingleBitFlipOfTheAuthenticationRequestEndsTheAttempt) {
    expect_no_single_bit_flip_ends_the_attempt(kBob, MT::authentication_request, 5);
}

// Issue 17: nor does a bit flipped in the establishment request (the first copy only). A copy
// that does not verify is refused (the initiator asks again); one whose flipped bit no signature
// covers must not bind the responder to an exchange the initiator can never verify: its genuine
// retransmission still brings the link up.
TEST(Corruption, NoSingleBitFlipOfTheEstablishmentRequestEndsTheAttempt) {
    expect_no_single_bit_flip_ends_the_attempt(kAlice, MT::establishment_request, 8);
}

// The other order: the genuine request is answered first, then a copy with its sequence number
// flipped arrives (a corrupted duplicate, or an attacker's). The responder answers the copy
// anew and keeps the earlier exchange: the initiator's response to the genuine answer still
// verifies, and the link comes up at both ends.
TEST(Corruption, ALateCopyWithAnotherSequenceNumberDoesNotUndoTheGenuineExchange) {
    Flow w;
    w.end_ue("bob", kBob);
    w.end_ue("alice", kAlice);
    std::optional<pc5::Frame> request;
    bool injected = false;
    w.net.attacker = [&](pc5::Frame& f) {
        if (f.lcid != pc5::lcid::kSrb0) return true;
        auto m = codec::decode(f.pdu);
        if (!m) return true;
        if (!request && f.src == kAlice && codec::message_type(*m) == MT::establishment_request)
            request = f;
        if (!injected && request && f.src == kBob &&
            codec::message_type(*m) == MT::authentication_request) {
            injected = true;
            pc5::Frame copy = *request;
            copy.pdu[1] ^= 0x01;  // the sequence number: no step-2 signature covers it
            w.net.inject(copy);
        }
        return true;
    };
    w.ue("alice").engine->connect(direct("bob"), w.net.now);
    w.net.run();
    ASSERT_TRUE(injected);
    EXPECT_EQ(w.established("alice").size(), 1u);
    EXPECT_EQ(w.established("bob").size(), 1u);
    // The copy was answered anew (a second authentication request), not re-answered.
    EXPECT_EQ(w.ue("bob").engine->counters().sent_messages.at(MT::authentication_request), 2u);
}

// Issue 17, no livelock by construction: 100 copies of the establishment request draw at most
// reanswer_budget answers, and no link goes over establishment_frame_bound; the link still
// comes up.
TEST(Bounds, RepeatedRequestsDrawAtMostTheReanswerBudget) {
    Flow w;
    w.end_ue("bob", kBob);
    w.end_ue("alice", kAlice);
    bool copied = false;
    std::size_t auth_requests = 0;
    w.net.attacker = [&](pc5::Frame& f) {
        if (f.lcid != pc5::lcid::kSrb0) return true;
        auto m = codec::decode(f.pdu);
        if (!m) return true;
        if (f.src == kBob && codec::message_type(*m) == MT::authentication_request) ++auth_requests;
        if (!copied && f.src == kAlice && codec::message_type(*m) == MT::establishment_request) {
            copied = true;
            for (int i = 0; i < 100; ++i)
                w.net.inject(f);
        }
        return true;
    };
    w.ue("alice").engine->connect(direct("bob"), w.net.now);
    w.net.run();
    const link::Timers t;
    EXPECT_TRUE(copied);
    EXPECT_EQ(w.established("alice").size(), 1u);
    EXPECT_GT(auth_requests, 1u);  // the copies were answered, up to the budget
    EXPECT_LE(auth_requests, 1u + t.max_retransmissions + link::reanswer_budget(t));
    for (const char* n : {"alice", "bob"}) {
        EXPECT_TRUE(w.ue(n).engine->links_over_frame_bound().empty()) << n;
        EXPECT_LE(w.ue(n).engine->max_establishment_frames(), link::establishment_frame_bound(t))
            << n;
    }
    EXPECT_EQ(link::establishment_frame_bound(t), 51u);  // docs/solution-a.md, "Bounds"
}
