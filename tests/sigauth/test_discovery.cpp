// Seed 001 step 0, "the source has selected a relay", with solution A's discovery machinery
// (pc5sec/discovery.hpp): Model B (solicit, the relay answers) and Model A (the relay
// announces), both modes; no relay; a flood of solicitations and of announcements.
#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "world.hpp"

namespace pc5sec::sigauth::test {
namespace {

using codec::Cause;
using MT = codec::MessageType;

class Discovery : public ::testing::TestWithParam<Mode> {};

pc5::ConnectRequest without_relay(const World& w) {
    auto r = w.request();
    r.relay.reset();
    r.relay_l2.reset();
    return r;
}

TEST_P(Discovery, ModelBTheSourceSolicitsAndTheRelayAnswers) {
    World w(GetParam());
    w.build();
    w.source->connect(without_relay(w), w.radio.now);
    w.radio.run();
    auto d = w.radio.events_of<pc5::RelayDiscovered>(*w.source);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].relay, kRelay);
    EXPECT_EQ(d[0].relay_l2, kRelayL2);
    EXPECT_EQ(d[0].rsc, kRsc);
    EXPECT_EQ(w.established(*w.source).size(), 1u);
    EXPECT_EQ(w.established(*w.target).size(), 1u);
    EXPECT_EQ(count_of(w.source->counters().sent_messages, MT::u2u_relay_discovery_solicitation),
              1u);
    EXPECT_EQ(count_of(w.relay->counters().sent_messages, MT::u2u_relay_discovery_response), 1u);
    // The target does not answer: it is no relay.
    EXPECT_EQ(count_of(w.target->counters().sent_messages, MT::u2u_relay_discovery_response), 0u);
}

TEST_P(Discovery, ModelATheRelayAnnouncesAndALaterConnectUsesWhatWasHeard) {
    World w(GetParam());
    w.source_cfg.discovery = discovery::Model::a;
    w.relay_cfg.discovery = discovery::Model::a;
    w.build();
    w.source->connect(without_relay(w), w.radio.now);
    w.radio.run(500ms);
    ASSERT_EQ(w.established(*w.source).size(), 1u);
    EXPECT_EQ(count_of(w.source->counters().sent_messages, MT::u2u_relay_discovery_solicitation),
              0u);
    EXPECT_GE(count_of(w.relay->counters().sent_messages, MT::u2u_relay_discovery_announcement),
              1u);
    // A second link: the relay heard already, the request goes at once.
    const auto sent = w.radio.sent.size();
    w.source->connect(without_relay(w), w.radio.now);
    ASSERT_GT(w.radio.sent.size() + 1, sent);
    w.radio.run(100ms);
    EXPECT_EQ(w.established(*w.source).size(), 2u);
}

TEST_P(Discovery, NoRelayForTheTargetFailsWithCause4AfterTheLastSolicitation) {
    World w(GetParam());
    w.relay_cfg.directory.erase(kTarget);  // the relay cannot reach bob: it does not answer
    w.build();
    w.source->connect(without_relay(w), w.radio.now);
    w.radio.run(30s);
    auto f = w.failures(*w.source);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, Cause::direct_connection_not_available);
    EXPECT_NE(f[0].reason.find("Model B discovery in 4 tries"), std::string::npos) << f[0].reason;
    EXPECT_EQ(count_of(w.source->counters().sent_messages, MT::u2u_relay_discovery_solicitation),
              4u);
    EXPECT_EQ(w.source->next_timeout(), pc5::kNever);
}

TEST_P(Discovery, ReleaseAllAbandonsADiscovery) {
    World w(GetParam());
    w.relay_cfg.directory.erase(kTarget);
    w.build();
    w.source->connect(without_relay(w), w.radio.now);
    w.radio.run(100ms);
    w.source->release_all(w.radio.now);
    w.radio.run(1s);
    ASSERT_EQ(w.failures(*w.source).size(), 1u);
    EXPECT_EQ(w.failures(*w.source)[0].cause, Cause::direct_communication_no_longer_needed);
    EXPECT_EQ(w.source->next_timeout(), pc5::kNever);
}

// Anyone can send discovery messages: a flood of solicitations from made-up L2 IDs gets at most
// discovery_answers_per_second answers a second; announcements of RSCs the source does not use
// are not kept; the genuine discovery still works.
TEST_P(Discovery, FloodsAreBounded) {
    World w(GetParam());
    w.build();
    for (std::uint32_t i = 0; i < 500; ++i) {
        auto s = discovery::solicitation(discovery::Security{}, discovery::UtcTime{}, 0x100000 + i,
                                         kRsc, "flood", kTarget)
                     .value();
        w.relay->receive(s, w.radio.now);
        auto a = discovery::announcement(discovery::Security{}, discovery::UtcTime{}, 0x200000 + i,
                                         0x100 + i, "mallory")
                     .value();
        w.source->receive(a, w.radio.now);
    }
    std::size_t answers = 0;
    while (auto f = w.relay->poll_transmit())
        answers += f->lcid == pc5::lcid::kDiscovery;
    EXPECT_EQ(answers, 50u);
    w.radio.advance(1s);
    w.source->connect(without_relay(w), w.radio.now);
    w.radio.run();
    EXPECT_EQ(w.established(*w.source).size(), 1u);
    ASSERT_EQ(w.radio.events_of<pc5::RelayDiscovered>(*w.source).size(), 1u);
    EXPECT_EQ(w.radio.events_of<pc5::RelayDiscovered>(*w.source)[0].relay, kRelay);
}

INSTANTIATE_TEST_SUITE_P(Modes, Discovery, ::testing::Values(Mode::literal, Mode::hardened),
                         [](const auto& i) { return std::string(name(i.param)); });

}  // namespace
}  // namespace pc5sec::sigauth::test
