// Solution A through a UE-to-UE relay: layer 3 (per-hop links, the relay re-protects) and
// layer 2 (per-hop links plus an end-to-end link the relay only forwards), discovery Model A and
// B, in and out of coverage, and the authorisation rejects of KI#3.
#include <gtest/gtest.h>

#include "net.hpp"
#include "pc5sec/keylog.hpp"

using namespace pc5sec;
using namespace pc5sec::testing;
using creds::Role;

namespace {

constexpr creds::Rsc kRsc = 0x00A001;
constexpr pc5::L2Id kAlice = 0x0A, kRelay = 0x50, kBob = 0x0B;

struct Node {
    std::unique_ptr<link::Engine> engine;
    pc5::KeyLogCollector keylog;
};

struct Topology {
    Net net;
    std::map<std::string, std::unique_ptr<Node>> nodes;

    link::Engine& add(const std::string& name, pc5::L2Id l2, std::vector<Role> roles,
                      std::vector<creds::Rsc> rscs, bool relay, bool in_coverage,
                      link::DiscoveryModel model = link::DiscoveryModel::b) {
        link::Config c;
        c.user_info = name;
        c.l2_id = l2;
        c.role = relay ? link::UeRole::relay : link::UeRole::end_ue;
        c.credentials = Pki::instance().issue(name, std::move(roles), std::move(rscs));
        c.wall_epoch = Pki::instance().epoch;
        c.in_coverage = in_coverage;
        c.discovery = model;
        c.directory = {{"alice", kAlice}, {"bob", kBob}};
        auto node = std::make_unique<Node>();
        c.keylog = &node->keylog;
        auto e = link::Engine::create(std::move(c));
        if (!e) throw std::runtime_error(e.error().describe());
        node->engine = std::move(*e);
        net.add(*node->engine);
        auto& ref = *node->engine;
        nodes[name] = std::move(node);
        return ref;
    }
    link::Engine& ue(const std::string& n) { return *nodes.at(n)->engine; }
    pc5::KeyLogCollector& keylog(const std::string& n) { return nodes.at(n)->keylog; }

    // alice, a relay and bob, all properly authorised.
    void standard(bool in_coverage, link::DiscoveryModel model = link::DiscoveryModel::b) {
        add("bob", kBob, {Role::end_ue}, {kRsc}, false, in_coverage, model);
        add("relay-1", kRelay, {Role::u2u_relay}, {kRsc}, true, in_coverage, model);
        add("alice", kAlice, {Role::end_ue}, {kRsc}, false, in_coverage, model);
    }

    static pc5::ConnectRequest via(pc5::Path path, bool give_relay = true) {
        pc5::ConnectRequest r;
        r.target = "bob";
        r.path = path;
        r.rsc = kRsc;
        if (give_relay) {
            r.relay = "relay-1";
            r.relay_l2 = kRelay;
        }
        return r;
    }
};

const pc5::LinkSummary* find(const std::vector<pc5::LinkSummary>& links, const std::string& peer,
                             pc5::LinkKind kind) {
    for (const auto& l : links)
        if (l.peer == peer && l.kind == kind) return &l;
    return nullptr;
}

}  // namespace

class RelayCoverage : public ::testing::TestWithParam<bool> {};

TEST_P(RelayCoverage, Layer3RelayHasTwoLinksEachWithItsOwnKeys) {
    Topology t;
    t.standard(GetParam());
    t.ue("alice").connect(Topology::via(pc5::Path::l3), t.net.now);
    t.net.run();
    auto a = t.ue("alice").links();
    auto r = t.ue("relay-1").links();
    auto b = t.ue("bob").links();
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(r.size(), 2u);
    ASSERT_EQ(b.size(), 1u);
    const auto* hop1 = find(r, "alice", pc5::LinkKind::hop);
    const auto* hop2 = find(r, "bob", pc5::LinkKind::hop);
    ASSERT_TRUE(hop1 && hop2);
    EXPECT_EQ(a[0].peer, "relay-1");
    EXPECT_EQ(a[0].fingerprints, hop1->fingerprints);
    EXPECT_EQ(b[0].fingerprints, hop2->fingerprints);
    EXPECT_NE(hop1->fingerprints.at("KNRP"), hop2->fingerprints.at("KNRP"));
    EXPECT_NE(hop1->fingerprints.at("NRPEK"), hop2->fingerprints.at("NRPEK"));
    // The relay brought hop 2 up before it accepted hop 1.
    EXPECT_LE(hop2->established, hop1->established);
    EXPECT_FALSE(hop1->initiator);
    EXPECT_TRUE(hop2->initiator);
}

TEST_P(RelayCoverage, Layer2RelayForwardsEndToEndWithoutTheEndToEndKeys) {
    Topology t;
    t.standard(GetParam());
    t.ue("alice").connect(Topology::via(pc5::Path::l2), t.net.now);
    t.net.run();
    auto a = t.ue("alice").links();
    auto b = t.ue("bob").links();
    auto r = t.ue("relay-1").links();
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(b.size(), 2u);
    ASSERT_EQ(r.size(), 2u);
    const auto* e2e_a = find(a, "bob", pc5::LinkKind::e2e);
    const auto* e2e_b = find(b, "alice", pc5::LinkKind::e2e);
    ASSERT_TRUE(e2e_a && e2e_b);
    EXPECT_EQ(e2e_a->id, e2e_b->id);
    EXPECT_EQ(e2e_a->fingerprints, e2e_b->fingerprints);
    EXPECT_EQ(e2e_a->peer_l2, kRelay);  // it travels through the relay
    // The relay holds only its two hops, and its key log never names the end-to-end link.
    for (const auto& l : r)
        EXPECT_EQ(l.kind, pc5::LinkKind::hop);
    for (const auto& rec : t.keylog("relay-1").records())
        EXPECT_NE(rec.link_id, e2e_a->id);
    EXPECT_GE(t.ue("relay-1").counters().frames_forwarded, 5u);
    // End-to-end PC5-S went on LCID 55 with SRAP, and all of it after the request protected.
    int e2e_frames = 0;
    for (const auto& f : t.net.delivered)
        if (f.lcid == pc5::lcid::kEndToEnd) ++e2e_frames;
    EXPECT_EQ(e2e_frames, 2 * 6);  // request, auth req, auth resp, command, complete, accept
    const auto* hop_a = find(a, "relay-1", pc5::LinkKind::hop);
    ASSERT_TRUE(hop_a);
    EXPECT_NE(hop_a->fingerprints.at("KNRP"), e2e_a->fingerprints.at("KNRP"));
}

INSTANTIATE_TEST_SUITE_P(InAndOutOfCoverage, RelayCoverage, ::testing::Bool(),
                         [](const auto& info) {
                             return info.param ? "InCoverage" : "OutOfCoverage";
                         });

TEST(Relay, DiscoveryModelBFindsTheRelay) {
    Topology t;
    t.standard(false, link::DiscoveryModel::b);
    t.ue("alice").connect(Topology::via(pc5::Path::l3, false), t.net.now);
    t.net.run();
    auto found = t.net.of<pc5::RelayDiscovered>("alice");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].relay, "relay-1");
    EXPECT_EQ(found[0].relay_l2, kRelay);
    EXPECT_EQ(t.ue("alice").links().size(), 1u);
    EXPECT_EQ(t.ue("bob").links().size(), 1u);
}

TEST(Relay, DiscoveryModelAUsesTheAnnouncement) {
    Topology t;
    t.standard(false, link::DiscoveryModel::a);
    t.ue("alice").connect(Topology::via(pc5::Path::l2, false), t.net.now);
    t.net.run(5s);
    EXPECT_EQ(t.net.of<pc5::RelayDiscovered>("alice").size(), 1u);
    EXPECT_EQ(t.ue("alice").links().size(), 2u);
    EXPECT_EQ(t.ue("alice").counters().sent_messages.count(
                  codec::MessageType::u2u_relay_discovery_solicitation),
              0u);
}

// Issue 17 item 4: a flood of 500 solicitations from fresh L2 IDs draws at most
// Config::discovery_answers_per_second (50) answers in a second; the next second, alice still
// finds the relay.
TEST(Relay, AFloodOfSolicitationsDrawsABoundedNumberOfAnswers) {
    Topology t;
    t.standard(true, link::DiscoveryModel::b);
    auto& relay = t.ue("relay-1");
    const auto before = relay.counters().frames_sent;
    for (std::uint32_t i = 0; i < 500; ++i)
        relay.receive(discovery::solicitation(discovery::Security{}, discovery::UtcTime{},
                                              0x100000 + i, kRsc, "flood", "bob")
                          .value(),
                      t.net.now);
    EXPECT_EQ(relay.counters().frames_sent - before, 50u);
    while (relay.poll_transmit()) {
    }
    while (relay.poll_event()) {
    }
    t.net.run(1s);
    t.ue("alice").connect(Topology::via(pc5::Path::l3, false), t.net.now);
    t.net.run();
    EXPECT_EQ(t.net.of<pc5::RelayDiscovered>("alice").size(), 1u);
    EXPECT_EQ(t.ue("alice").links().size(), 1u);
}

TEST(Relay, NoAuthorisedRelayMeansNoLink) {
    Topology t;
    t.add("bob", kBob, {Role::end_ue}, {kRsc}, false, true);
    t.add("relay-1", kRelay, {Role::u2u_relay}, {0x00B002}, true, true);  // another RSC
    t.add("alice", kAlice, {Role::end_ue}, {kRsc}, false, true);
    t.ue("alice").connect(Topology::via(pc5::Path::l3, false), t.net.now);
    t.net.run();
    auto f = t.net.of<pc5::LinkFailed>("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::direct_connection_not_available);
    EXPECT_NE(f[0].reason.find("no UE-to-UE relay"), std::string::npos);
    EXPECT_EQ(t.ue("alice").link_count(), 0u);
}

TEST(Relay, UnauthorisedRelayIsRefusedWithCause11) {
    Topology t;
    t.add("bob", kBob, {Role::end_ue}, {kRsc}, false, true);
    t.add("relay-1", kRelay, {Role::u2u_relay}, {0x00B002}, true, true);
    t.add("alice", kAlice, {Role::end_ue}, {kRsc}, false, true);
    t.ue("alice").connect(Topology::via(pc5::Path::l3), t.net.now);  // told where it is
    t.net.run();
    auto f = t.net.of<pc5::LinkFailed>("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::required_service_not_allowed);
    EXPECT_TRUE(f[0].by_peer);
    for (const auto& n : {"alice", "relay-1", "bob"})
        EXPECT_EQ(t.ue(n).link_count(), 0u) << n;
}

TEST(Relay, AnEndUeIsNotARelay) {
    Topology t;
    t.add("bob", kBob, {Role::end_ue}, {kRsc}, false, true);
    t.add("relay-1", kRelay, {Role::end_ue}, {kRsc}, true, true);  // no u2u-relay role
    t.add("alice", kAlice, {Role::end_ue}, {kRsc}, false, true);
    t.ue("alice").connect(Topology::via(pc5::Path::l2), t.net.now);
    t.net.run();
    auto f = t.net.of<pc5::LinkFailed>("alice");
    ASSERT_GE(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::required_service_not_allowed);
    EXPECT_EQ(t.ue("alice").link_count(), 0u);
}

TEST(Relay, TargetNotAuthorisedForTheRscFailsBothHops) {
    Topology t;
    t.add("bob", kBob, {Role::end_ue}, {0x00B002}, false, true);
    t.add("relay-1", kRelay, {Role::u2u_relay}, {kRsc}, true, true);
    t.add("alice", kAlice, {Role::end_ue}, {kRsc}, false, true);
    t.ue("alice").connect(Topology::via(pc5::Path::l3), t.net.now);
    t.net.run();
    // The relay's request was refused at each try: an unprotected reject never ends the hop by
    // itself (a forged one could not either); T5080 running out does, with the reject's cause.
    auto fb = t.net.of<pc5::LinkFailed>("bob");
    ASSERT_EQ(fb.size(), 2u + link::Timers{}.max_retransmissions);
    for (const auto& f : fb)
        EXPECT_EQ(f.cause, codec::Cause::required_service_not_allowed);
    auto fa = t.net.of<pc5::LinkFailed>("alice");
    ASSERT_EQ(fa.size(), 1u);
    EXPECT_EQ(fa[0].cause, codec::Cause::required_service_not_allowed);
    EXPECT_TRUE(fa[0].by_peer);
    for (const auto& n : {"alice", "relay-1", "bob"})
        EXPECT_EQ(t.ue(n).link_count(), 0u) << n;
}

TEST(Relay, SourceNotAuthorisedForTheRscIsRefusedLocally) {
    Topology t;
    t.add("relay-1", kRelay, {Role::u2u_relay}, {kRsc}, true, true);
    t.add("alice", kAlice, {Role::end_ue}, {0x00B002}, false, true);
    t.ue("alice").connect(Topology::via(pc5::Path::l3), t.net.now);
    t.net.run();
    auto f = t.net.of<pc5::LinkFailed>("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::required_service_not_allowed);
    EXPECT_TRUE(t.net.delivered.empty());
}

TEST(Relay, UnreachableTargetIsRefused) {
    Topology t;
    t.add("relay-1", kRelay, {Role::u2u_relay}, {kRsc}, true, true);
    t.add("alice", kAlice, {Role::end_ue}, {kRsc}, false, true);
    pc5::ConnectRequest r = Topology::via(pc5::Path::l3);
    r.target = "carol";  // not in the relay's directory
    t.ue("alice").connect(r, t.net.now);
    t.net.run();
    auto f = t.net.of<pc5::LinkFailed>("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::direct_communication_not_allowed);
    EXPECT_EQ(t.ue("relay-1").link_count(), 0u);
}

TEST(Relay, TwoSourcesShareTheSecondHop) {
    Topology t;
    t.standard(true);
    t.add("carol", 0x0C, {Role::end_ue}, {kRsc}, false, true);
    t.ue("alice").connect(Topology::via(pc5::Path::l2), t.net.now);
    t.ue("carol").connect(Topology::via(pc5::Path::l2), t.net.now);
    t.net.run();
    EXPECT_EQ(t.ue("relay-1").links().size(), 3u);  // alice, carol, bob: one hop each
    EXPECT_EQ(t.ue("bob").links().size(), 3u);      // hop + two end-to-end links
    auto b = t.ue("bob").links();
    EXPECT_TRUE(find(b, "alice", pc5::LinkKind::e2e));
    EXPECT_TRUE(find(b, "carol", pc5::LinkKind::e2e));
}

// release_all through a layer-2 relay: the end-to-end link goes first, while the hop that carries
// its release is still up, so bob sees alice release it (not a lost peer later).
TEST(Relay, ReleaseAllReleasesEndToEndBeforeTheHop) {
    Topology t;
    t.standard(true);
    t.ue("alice").connect(Topology::via(pc5::Path::l2), t.net.now);
    t.net.run();
    ASSERT_EQ(t.ue("bob").links().size(), 2u);
    t.ue("alice").release_all(t.net.now);
    t.net.run();
    std::vector<pc5::LinkKind> order;
    for (const auto& e : t.net.events["alice"])
        if (const auto* r = std::get_if<pc5::LinkReleased>(&e)) {
            const auto gt = r->id.find('>');
            order.push_back(r->id.substr(gt + 1, r->id.find('#') - gt - 1) == "bob"
                                ? pc5::LinkKind::e2e
                                : pc5::LinkKind::hop);
        }
    ASSERT_EQ(order.size(), 2u);
    EXPECT_EQ(order[0], pc5::LinkKind::e2e);
    bool bob_saw_e2e_release = false;
    for (const auto& e : t.net.events["bob"])
        if (const auto* r = std::get_if<pc5::LinkReleased>(&e))
            bob_saw_e2e_release |= r->by_peer && r->peer == "alice";
    EXPECT_TRUE(bob_saw_e2e_release);
    EXPECT_TRUE(t.ue("bob").links().size() <= 1u);  // at most its hop to the relay
}

TEST(Relay, SrapFromAStrangerIsNotForwarded) {
    Topology t;
    t.standard(true);
    std::vector<std::uint8_t> pdu{0x80, 0x00, 0x01, 0x01, 0x00};
    t.net.inject(pc5::Frame{0x0D, kRelay, pc5::lcid::kEndToEnd, pdu});
    t.net.run();
    EXPECT_EQ(t.ue("relay-1").counters().frames_forwarded, 0u);
    EXPECT_EQ(
        t.ue("relay-1").counters().drops[static_cast<std::size_t>(pc5::DropReason::not_for_us)],
        1u);
}
