// The rows of the flow table (src/sigauth/flow.cpp) that the other tests do not take: an attempt
// abandoned, the source's link while its key confirmation is unanswered, the target's link
// released before it is confirmed, both ends releasing at once, a release never answered, and
// the relay forgetting a request nobody answered. With test_establish.cpp, test_attacks.cpp and
// test_adversary.cpp they take every row (sigauth_flow_table_every_row_reached).
#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "sigauth/impl.hpp"
#include "world.hpp"

namespace pc5sec::sigauth::test {
namespace {

using codec::Cause;
using MT = codec::MessageType;

bool is_protected(const pc5::Frame& f, pc5::L2Id from) {
    return f.src == from && f.lcid == pc5::lcid::kEndToEnd;
}

TEST(FlowTable, EveryRowNamesItsStepAndHandlerAndEachStateIsReachable) {
    for (const auto& row : flow_table()) {
        EXPECT_NE(std::string(row.step), "");
        EXPECT_NE(std::string(row.handler), "");
        // A row that moves names where to; a row that ends or stays names nothing.
        EXPECT_LE(row.next_count, 2u);
    }
    // Every state but idle is entered by some row.
    for (State s : {State::wait_accept, State::confirming, State::unconfirmed, State::established,
                    State::releasing, State::pending, State::routed, State::hop_up,
                    State::hop_wait_accept, State::hop_wait_ack}) {
        bool entered = false;
        for (const auto& row : flow_table())
            for (std::uint8_t i = 0; i < row.next_count; ++i)
                entered = entered || row.next[i] == s;
        EXPECT_TRUE(entered) << name(s);
    }
    // No row takes an establishment message protected, a link-life message unprotected, or a
    // hop's identifier update anywhere but protected on the hop.
    for (const auto& row : flow_table()) {
        if (row.input.local) continue;
        const bool establishment = row.input.message == MT::establishment_request ||
                                   row.input.message == MT::establishment_accept ||
                                   row.input.message == MT::establishment_reject;
        const bool identifiers = row.input.message == MT::identifier_update_request ||
                                 row.input.message == MT::identifier_update_accept ||
                                 row.input.message == MT::identifier_update_ack ||
                                 row.input.message == MT::identifier_update_reject;
        EXPECT_EQ(row.input.channel, establishment ? Channel::srb0
                                     : identifiers ? Channel::hop
                                                   : Channel::e2e)
            << codec::message_name(row.input.message);
        // The hop's machine takes only its own messages and events.
        const bool hop_state = row.state == State::hop_up || row.state == State::hop_wait_accept ||
                               row.state == State::hop_wait_ack;
        if (identifiers) {
            EXPECT_TRUE(hop_state) << codec::message_name(row.input.message);
        }
    }
}

TEST(FlowTable, ReleaseAllAbandonsAnAttemptNobodyAnswers) {
    World w(Mode::hardened);
    w.build();
    w.radio.on_air = [](pc5::Frame& f) { return f.src != kRelayL2; };  // the relay is mute
    w.source->connect(w.request(), w.radio.now);
    w.radio.run(2s);
    ASSERT_TRUE(w.failures(*w.source).empty());
    w.source->release_all(w.radio.now);
    w.radio.run(1s);
    auto f = w.failures(*w.source);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, Cause::direct_communication_no_longer_needed);
    EXPECT_EQ(w.source->next_timeout(), pc5::kNever);  // nothing left: no retransmission
}

TEST(FlowTable, TheRelayForgetsARequestTheTargetNeverAnswers) {
    World w(Mode::literal);
    w.build();
    w.radio.on_air = [](pc5::Frame& f) { return f.src != kTargetL2; };
    w.source->connect(w.request(), w.radio.now);
    w.radio.run(120s);
    // The source gave up on T5080; the relay forgot the request after its retransmissions.
    ASSERT_EQ(w.failures(*w.source).size(), 1u);
    EXPECT_EQ(w.failures(*w.source)[0].cause, Cause::direct_connection_not_available);
    EXPECT_EQ(w.relay->next_timeout(), pc5::kNever);
}

// Hardened: the target's answers to the source's key confirmation are lost, so the source's
// link stays `confirming` while the target's is confirmed. It still answers keep-alives and
// takes a release.
TEST(FlowTable, TheSourceWhileItsConfirmationIsUnansweredAnswersAndIsReleased) {
    World w(Mode::hardened);
    w.build();
    bool drop_target_protected = true;
    w.radio.on_air = [&](pc5::Frame& f) {
        return !(drop_target_protected && is_protected(f, kTargetL2));
    };
    w.source->connect(w.request(), w.radio.now);
    w.radio.run(1s);
    ASSERT_EQ(w.established(*w.source).size(), 1u);
    ASSERT_EQ(w.established(*w.target).size(), 1u);  // confirmed by the source's PDU
    const auto id = w.established(*w.source)[0].link.id;
    // The target asks: the source, still confirming, answers.
    const auto answers = count_of(w.source->counters().sent_messages, MT::keepalive_response);
    drop_target_protected = false;  // this one gets through (the source's confirmation waits 8 s)
    ASSERT_TRUE(w.target->send_keepalive(id, w.radio.now));
    w.radio.run(100ms);
    drop_target_protected = true;
    EXPECT_EQ(count_of(w.source->counters().sent_messages, MT::keepalive_response), answers + 1);
    // The source may ask too, while confirming.
    ASSERT_TRUE(w.source->send_keepalive(id, w.radio.now));
    w.radio.run(100ms);
    // The target releases: the source, still confirming, accepts.
    ASSERT_EQ(w.source->links().size(), 1u);
    drop_target_protected = false;
    ASSERT_TRUE(w.target->release(id, w.radio.now));
    w.radio.run(100ms);
    auto r = w.released(*w.source);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].by_peer);
    EXPECT_TRUE(w.source->links().empty());
}

TEST(FlowTable, TheSourceReleasesWhileConfirming) {
    World w(Mode::hardened);
    w.build();
    w.radio.on_air = [](pc5::Frame& f) { return !is_protected(f, kTargetL2); };
    w.source->connect(w.request(), w.radio.now);
    w.radio.run(1s);
    ASSERT_EQ(w.established(*w.source).size(), 1u);
    const auto id = w.established(*w.source)[0].link.id;
    ASSERT_TRUE(w.source->release(id, w.radio.now));
    w.radio.run(1s);
    auto r = w.released(*w.target);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].by_peer);
    // The RELEASE ACCEPT is lost too: the source wipes its link on T5080 anyway.
    w.radio.run(10s);
    EXPECT_TRUE(w.source->links().empty());
    EXPECT_EQ(w.source->next_timeout(), pc5::kNever);
}

// Hardened: the source's key confirmation is lost, so the target's link is unconfirmed; the
// target releases it before its timer.
TEST(FlowTable, TheTargetReleasesAnUnconfirmedLink) {
    World w(Mode::hardened);
    w.build();
    w.radio.on_air = [](pc5::Frame& f) { return !is_protected(f, kSourceL2); };
    w.source->connect(w.request(), w.radio.now);
    w.radio.run(1s);
    ASSERT_EQ(w.established(*w.source).size(), 1u);
    ASSERT_TRUE(w.established(*w.target).empty());
    w.target->release_all(w.radio.now);
    w.radio.run(1s);
    auto r = w.released(*w.source);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].by_peer);
    EXPECT_TRUE(w.source->links().empty());
}

TEST(FlowTable, BothEndsReleaseAtOnce) {
    World w(Mode::literal);
    w.build();
    w.connect();
    const auto id = w.established(*w.source).at(0).link.id;
    ASSERT_TRUE(w.source->release(id, w.radio.now));
    ASSERT_TRUE(w.target->release(id, w.radio.now));
    w.radio.run(1s);
    for (Engine* e : {w.source.get(), w.target.get()}) {
        EXPECT_TRUE(e->links().empty());
        EXPECT_EQ(e->next_timeout(), pc5::kNever);
    }
}

// A handler's move that no row allows is refused and reported, never taken: the dispatcher
// alone moves a state.
TEST(FlowTable, ALinkStateMessageOnTheWrongChannelIsRefused) {
    World w(Mode::literal);
    w.build();
    w.connect();
    codec::DirectLinkReleaseRequest rr;
    rr.seq = 1;
    rr.cause = Cause::direct_communication_no_longer_needed;
    // An unprotected RELEASE REQUEST on SL-SRB0 has no row: it changes nothing.
    w.radio.inject(pc5::Frame{kRelayL2, kSourceL2, pc5::lcid::kSrb0, codec::encode(rr).value()});
    EXPECT_EQ(w.source->links().size(), 1u);
    EXPECT_TRUE(w.released(*w.source).empty());
}

}  // namespace
}  // namespace pc5sec::sigauth::test
