// The link identifier update of solution A (TS 24.554 7.2.4, src/link/identifier_update.cpp):
// on request and on T5090, directly and through both relays; what an attacker on the air can do
// to it (forge, replay, flip a bit, drop a message); and every row it adds to the flow table.
#include <gtest/gtest.h>

#include <set>

#include <fmt/format.h>

#include "fixture.hpp"

using namespace pc5sec;
using namespace pc5sec::testing;

namespace {

using MT = codec::MessageType;
constexpr pc5::L2Id kAlice = 0x0A, kBob = 0x0B, kRelay = 0x50;

class IdentifierUpdate : public LinkTest {
  public:
    void direct_pair(std::function<void(link::Config&)> tweak = {}) {
        end_ue("bob", kBob, tweak);
        end_ue("alice", kAlice, tweak);
        ue("alice").engine->connect(direct("bob"), net.now);
        net.run();
        ASSERT_EQ(ue("alice").engine->links().size(), 1u);
        id = ue("alice").engine->links()[0].id;
    }
    pc5::LinkSummary link_of(const std::string& n) {
        for (const auto& s : ue(n).engine->links())
            if (s.id == id) return s;
        ADD_FAILURE() << n << " has no established link " << id;
        return {};
    }
    std::vector<pc5::LinkRekeyed> updates(const std::string& n) {
        std::vector<pc5::LinkRekeyed> out;
        for (const auto& r : net.of<pc5::LinkRekeyed>(n))
            if (r.identifiers_updated) out.push_back(r);
        return out;
    }
    std::uint64_t sent(const std::string& n, MT t) {
        auto& m = ue(n).engine->counters().sent_messages;
        auto it = m.find(t);
        return it == m.end() ? 0 : it->second;
    }
    // Drops the frames from `src` on SL-SRB2 that `which` picks (by their order from now on).
    void drop_from(pc5::L2Id src, std::function<bool(int)> which) {
        auto n = std::make_shared<int>(0);
        net.attacker = [=](pc5::Frame& f) {
            if (f.src != src || f.lcid != pc5::lcid::kSrb2) return true;
            return !which((*n)++);
        };
    }
    // A keep-alive exchange works on the link (both ends hold the same keys and L2 IDs).
    void expect_alive(const std::string& from) {
        const auto before = received(from, MT::keepalive_response);
        ASSERT_TRUE(ue(from).engine->keepalive(id, net.now));
        net.run(net.now + 2s);
        EXPECT_EQ(received(from, MT::keepalive_response), before + 1) << from;
    }
    std::string id;
};

TEST_F(IdentifierUpdate, OnRequestChangesL2IdsAndSessionKeysAtBothEnds) {
    direct_pair();
    const auto a0 = link_of("alice"), b0 = link_of("bob");
    EXPECT_EQ(a0.local_l2, kAlice);
    EXPECT_EQ(a0.peer_l2, kBob);
    ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
    net.run(net.now + 5s);
    ASSERT_EQ(updates("alice").size(), 1u);
    ASSERT_EQ(updates("bob").size(), 1u);
    const auto a1 = link_of("alice"), b1 = link_of("bob");
    // New L2 IDs at both ends, agreed: each end's is the other's peer.
    EXPECT_NE(a1.local_l2, kAlice);
    EXPECT_NE(b1.local_l2, kBob);
    EXPECT_EQ(a1.local_l2, b1.peer_l2);
    EXPECT_EQ(b1.local_l2, a1.peer_l2);
    EXPECT_EQ(updates("alice")[0].previous_local_l2, kAlice);
    EXPECT_EQ(updates("alice")[0].previous_peer_l2, kBob);
    // A new KNRP-sess and ID (the MSB from the requester, the LSB from the responder); the same
    // KNRP.
    EXPECT_NE(a1.knrp_sess_id, a0.knrp_sess_id);
    EXPECT_NE(a1.fingerprints.at("KNRP-sess"), a0.fingerprints.at("KNRP-sess"));
    EXPECT_EQ(a1.fingerprints.at("KNRP"), a0.fingerprints.at("KNRP"));
    EXPECT_EQ(b1.knrp_sess_id, a1.knrp_sess_id);
    expect_same_keys("alice", "bob", id);
    expect_keylog_recomputes("alice", id);
    expect_keylog_recomputes("bob", id);
    // The update's three messages went under the old keys; the link works under the new ones,
    // and every frame after the update carries only the new identifiers.
    EXPECT_EQ(sent("alice", MT::identifier_update_request), 1u);
    EXPECT_EQ(sent("bob", MT::identifier_update_accept), 1u);
    EXPECT_EQ(sent("alice", MT::identifier_update_ack), 1u);
    const auto seen = net.delivered.size();
    expect_alive("alice");
    expect_alive("bob");
    for (std::size_t i = seen; i < net.delivered.size(); ++i) {
        const auto& f = net.delivered[i];
        EXPECT_TRUE(f.src == a1.local_l2 || f.src == b1.local_l2) << std::hex << f.src;
        auto h = pdcp::peek_header(f.pdu);
        ASSERT_TRUE(h);
        EXPECT_EQ(h->knrp_sess_id, a1.knrp_sess_id);
    }
    // Frames to the new L2 IDs are for the ends; their own L2 IDs stay theirs (new links).
    EXPECT_TRUE(ue("alice").engine->owns_l2(a1.local_l2));
    EXPECT_FALSE(ue("bob").engine->owns_l2(a1.local_l2));
    EXPECT_TRUE(ue("alice").engine->owns_l2(kAlice));
    // Not established, no such link: a clear error.
    EXPECT_FALSE(ue("alice").engine->update_identifiers("nope", net.now));
}

TEST_F(IdentifierUpdate, T5090ChangesEveryIdentifierOnTheAirBeforeItsTimeIsUp) {
    constexpr auto kT5090 = 20s;
    // What an observer sees on the air, with the time: every L2 ID and KNRP-sess ID.
    std::map<std::uint32_t, std::pair<pc5::Time, pc5::Time>> l2, sess;
    auto seen = [](auto& m, std::uint32_t v, pc5::Time t) {
        auto [it, fresh] = m.try_emplace(v, t, t);
        if (!fresh) it->second.second = t;
    };
    net.attacker = [&](pc5::Frame& f) {
        seen(l2, f.src, net.now);
        seen(l2, f.dst, net.now);
        if (f.lcid == pc5::lcid::kSrb1 || f.lcid == pc5::lcid::kSrb2)
            if (auto h = pdcp::peek_header(f.pdu)) seen(sess, h->knrp_sess_id.value, net.now);
        return true;
    };
    direct_pair([&](link::Config& c) {
        c.timers.t5090 = kT5090;
        c.timers.keepalive_interval = 7s;  // traffic for the observer
    });
    net.run(net.now + 130s);
    const auto n = updates("alice").size();
    EXPECT_GE(n, 6u);
    EXPECT_EQ(updates("bob").size(), n);
    expect_same_keys("alice", "bob", id);
    // The end that set the link up runs T5090; the other answers.
    EXPECT_EQ(sent("alice", MT::identifier_update_request), n);
    EXPECT_EQ(sent("bob", MT::identifier_update_request), 0u);
    // No identifier stays on the air longer than T5090 and the update that replaces it (its
    // messages go under the old identifiers): the sim's identifier-lifetime check, here.
    EXPECT_GE(l2.size(), 2 * n);
    EXPECT_GE(sess.size(), n);
    for (const auto* m : {&l2, &sess})
        for (const auto& [v, span] : *m)
            EXPECT_LE(span.second - span.first, kT5090 + 1s) << std::hex << v;
}

TEST_F(IdentifierUpdate, ForgedReplayedOrAlteredUpdatesChangeNothing) {
    direct_pair();
    const auto before = link_of("bob");
    // Forged in clear on SL-SRB0 (no keys): an unprotected message on a secured link.
    codec::DirectLinkIdentifierUpdateRequest forged;
    forged.new_l2_id = codec::Layer2Id{0x123456};
    forged.msb_knrp_sess_id = 0x42;
    const auto unexpected = drops("bob", pc5::DropReason::unexpected);
    net.inject({kAlice, kBob, pc5::lcid::kSrb0, *codec::encode(codec::Message{forged}), nullptr});
    net.run(net.now + 1s);
    EXPECT_EQ(drops("bob", pc5::DropReason::unexpected), unexpected + 1);
    // A genuine update, recorded; then its request replayed and a bit flipped in a copy.
    std::vector<pc5::Frame> recorded;
    net.attacker = [&](pc5::Frame& f) {
        recorded.push_back(f);
        return true;
    };
    ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
    net.run(net.now + 2s);
    net.attacker = nullptr;
    ASSERT_EQ(updates("bob").size(), 1u);
    const auto after = link_of("bob");
    ASSERT_GE(recorded.size(), 3u);
    const pc5::Frame request = recorded[0];
    EXPECT_EQ(request.src, kAlice);
    const auto replays = drops("bob", pc5::DropReason::replay) +
                         drops("bob", pc5::DropReason::unknown_session) +
                         drops("bob", pc5::DropReason::duplicate);
    net.inject(request);  // within the grace: the old keys see a COUNT already used
    pc5::Frame flipped = request;
    flipped.pdu.back() ^= 0x01;
    net.inject(flipped);
    net.run(net.now + 1s);
    EXPECT_GE(drops("bob", pc5::DropReason::replay) +
                  drops("bob", pc5::DropReason::unknown_session) +
                  drops("bob", pc5::DropReason::duplicate) + drops("bob", pc5::DropReason::bad_mac),
              replays + 2);
    EXPECT_EQ(updates("bob").size(), 1u);
    const auto now_bob = link_of("bob");
    EXPECT_EQ(now_bob.local_l2, after.local_l2);
    EXPECT_EQ(now_bob.knrp_sess_id, after.knrp_sess_id);
    EXPECT_NE(after.local_l2, before.local_l2);
    // After the grace the old identifiers are no longer the link's: bob's own L2 ID (which new
    // links still use) takes the replay, and no link of bob's is with alice's old one.
    net.now += link::identifier_grace(link::Timers{}) + 1s;
    const auto unknown = drops("bob", pc5::DropReason::unknown_session);
    ue("bob").engine->receive(request, net.now);
    EXPECT_EQ(drops("bob", pc5::DropReason::unknown_session), unknown + 1);
    expect_alive("alice");
}

TEST_F(IdentifierUpdate, LostAckIsSentAgainAndBothEndsAgree) {
    direct_pair();
    drop_from(kAlice, [](int i) { return i == 1; });  // the request passes, the first ack not
    ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
    net.run(net.now + 12s);
    net.attacker = nullptr;
    EXPECT_EQ(updates("alice").size(), 1u);
    EXPECT_EQ(updates("bob").size(), 1u);
    EXPECT_EQ(sent("bob", MT::identifier_update_accept), 1u);
    EXPECT_GE(ue("bob").engine->counters().retransmissions, 1u);  // again, on its timer
    expect_same_keys("alice", "bob", id);
    expect_alive("bob");
}

TEST_F(IdentifierUpdate, LostAckAndTrafficUnderTheNewKeysCountsAsTheAck) {
    direct_pair();
    drop_from(kAlice, [](int i) { return i == 1; });
    ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
    net.run(net.now + 100ms);  // the ack is lost; alice uses the new identifiers already
    net.attacker = nullptr;
    ASSERT_EQ(updates("alice").size(), 1u);
    EXPECT_TRUE(updates("bob").empty());
    ASSERT_TRUE(ue("alice").engine->keepalive(id, net.now));
    net.run(net.now + 1s);
    EXPECT_EQ(updates("bob").size(), 1u);  // verified under the new keys: the update is done
    EXPECT_EQ(received("alice", MT::keepalive_response), 1u);
    expect_same_keys("alice", "bob", id);
}

TEST_F(IdentifierUpdate, NoAcceptOrNoAckReleasesTheLink) {
    // bob never hears the request: after its retransmissions alice takes bob for lost (#4),
    // as an unanswered keep-alive says.
    direct_pair();
    drop_from(kAlice, [](int) { return true; });
    ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
    net.run(net.now + 30s);
    EXPECT_TRUE(updates("alice").empty());
    EXPECT_EQ(ue("alice").engine->counters().retransmissions, 3u);  // max_retransmissions
    ASSERT_EQ(net.of<pc5::LinkReleased>("alice").size(), 1u);
    EXPECT_EQ(net.of<pc5::LinkReleased>("alice")[0].cause,
              codec::Cause::direct_connection_not_available);
    EXPECT_EQ(ue("alice").engine->link_count(), 0u);
    // Every ack is lost, and alice stays silent: bob cannot know which identifiers alice uses,
    // so bob releases the link (TS 24.554 7.2.4).
    net = Net{};
    ues.clear();
    direct_pair();
    drop_from(kAlice, [](int i) { return i >= 1; });
    ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
    net.run(net.now + 30s);
    EXPECT_EQ(net.of<pc5::LinkReleased>("bob").size(), 1u);
    EXPECT_EQ(ue("bob").engine->link_count(), 0u);
}

TEST_F(IdentifierUpdate, BothEndsAskAtOnceTheLinksInitiatorWins) {
    direct_pair();
    ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
    ASSERT_TRUE(ue("bob").engine->update_identifiers(id, net.now));
    net.run(net.now + 5s);
    EXPECT_EQ(updates("alice").size(), 1u);
    EXPECT_EQ(updates("bob").size(), 1u);
    EXPECT_EQ(sent("bob", MT::identifier_update_accept), 1u);
    EXPECT_EQ(sent("alice", MT::identifier_update_accept), 0u);
    expect_same_keys("alice", "bob", id);
    expect_alive("bob");
}

TEST_F(IdentifierUpdate, AConflictingL2IdIsRefusedWithCause3) {
    direct_pair();
    end_ue("carol", 0x0C);
    ue("carol").engine->connect(direct("bob"), net.now);
    net.run(net.now + 5s);
    // alice (holding its keys) asks for bob's link to carol's L2 ID: #3, nothing changes.
    codec::DirectLinkIdentifierUpdateRequest r;
    r.new_l2_id = codec::Layer2Id{0x0C};
    r.msb_knrp_sess_id = 0x77;
    net.inject(as_peer("alice", id, pc5::lcid::kSrb2, r));
    net.run(net.now + 1s);
    EXPECT_EQ(sent("bob", MT::identifier_update_reject), 1u);
    EXPECT_EQ(link_of("bob").peer_l2, kAlice);
    // A request whose new L2 ID is no unicast ID, or with no MSB on a secured link: dropped.
    const auto malformed = drops("bob", pc5::DropReason::malformed);
    r.new_l2_id = codec::Layer2Id{pc5::kBroadcastL2Id};
    net.inject(as_peer("alice", id, pc5::lcid::kSrb2, r, 41));
    net.run(net.now + 1s);
    r.new_l2_id = codec::Layer2Id{0x654321};
    r.msb_knrp_sess_id = 0;
    net.inject(as_peer("alice", id, pc5::lcid::kSrb2, r, 42));
    net.run(net.now + 1s);
    EXPECT_EQ(drops("bob", pc5::DropReason::malformed), malformed + 2);
    EXPECT_TRUE(updates("bob").empty());
    expect_alive("alice");
}

// The rows of the update's two waiting states that only a peer holding the keys can reach:
// keep-alive, release and reject while the update is under way. `waiting` is the end that waits
// (alice for the accept, bob for the ack); its peer's frames are made under the current keys
// before the update leaves the established state.
TEST_F(IdentifierUpdate, KeepAliveReleaseAndRejectWhileWaiting) {
    for (const bool at_requester : {true, false})
        for (const bool release : {false, true}) {
            SCOPED_TRACE(fmt::format("{} waits, {}", at_requester ? "alice" : "bob",
                                     release ? "release" : "keep-alive and reject"));
            net = Net{};
            ues.clear();
            direct_pair();
            const std::string waiting = at_requester ? "alice" : "bob";
            const std::string peer = at_requester ? "bob" : "alice";
            const pc5::L2Id home = at_requester ? kAlice : kBob;
            codec::DirectLinkKeepaliveRequest ka;
            ka.keepalive_counter = 9;
            codec::DirectLinkReleaseRequest rel;
            rel.cause = codec::Cause::direct_communication_no_longer_needed;
            codec::DirectLinkIdentifierUpdateReject rej;
            rej.cause = codec::Cause::l2_id_conflict;
            const auto first = as_peer(peer, id, pc5::lcid::kSrb2,
                                       release ? codec::Message{rel} : codec::Message{ka});
            const auto reject = as_peer(peer, id, pc5::lcid::kSrb2, rej, 41);
            // alice waits for the accept (bob's are lost), or bob for the ack (alice's are).
            if (at_requester)
                drop_from(kBob, [](int) { return true; });
            else
                drop_from(kAlice, [](int i) { return i >= 1; });
            ASSERT_TRUE(ue("alice").engine->update_identifiers(id, net.now));
            net.run(net.now + 100ms);
            net.attacker = nullptr;
            net.inject(first);
            net.run(net.now + 100ms);
            if (release) {
                EXPECT_EQ(net.of<pc5::LinkReleased>(waiting).size(), 1u);
                continue;
            }
            EXPECT_EQ(sent(waiting, MT::keepalive_response), 1u);
            net.inject(reject);  // refused by the peer (it holds the keys): identifiers kept
            net.run(net.now + 100ms);
            EXPECT_TRUE(updates(waiting).empty());
            EXPECT_EQ(link_of(waiting).local_l2, home);
        }
}

// The SRAP header is not under the end-to-end MAC-I: an attacker who rewrites the local UE ID
// in a PDU it replays teaches the end UE nothing (the PDU is a replay); only a PDU that
// verifies, fresh, moves the far end's local UE ID (what a relay's update does).
TEST_F(IdentifierUpdate, ARewrittenSrapHeaderOnAReplayTeachesNothing) {
    end_ue("bob", kBob);
    relay("relay-1", kRelay);
    end_ue("alice", kAlice);
    pc5::ConnectRequest r;
    r.target = "bob";
    r.path = pc5::Path::l2;
    r.rsc = kRsc;
    r.relay = "relay-1";
    r.relay_l2 = kRelay;
    std::vector<pc5::Frame> to_alice;
    net.attacker = [&](pc5::Frame& f) {
        if (f.dst == kAlice && f.lcid == pc5::lcid::kEndToEnd) to_alice.push_back(f);
        return true;
    };
    ue("alice").engine->connect(r, net.now);
    net.run(net.now + 10s);
    net.attacker = nullptr;
    std::string e2e;
    for (const auto& l : ue("alice").engine->links())
        if (l.kind == pc5::LinkKind::e2e) e2e = l.id;
    ASSERT_FALSE(e2e.empty());
    ASSERT_FALSE(to_alice.empty());
    const auto remote = ue("alice").engine->data_keys(e2e)->remote_local_id;
    pc5::Frame forged = to_alice.back();  // the end-to-end ACCEPT, already received
    forged.pdu[1] = static_cast<std::uint8_t>(remote + 7);
    const auto replays = drops("alice", pc5::DropReason::replay);
    net.inject(forged);
    net.run(net.now + 1s);
    EXPECT_EQ(drops("alice", pc5::DropReason::replay), replays + 1);
    EXPECT_EQ(ue("alice").engine->data_keys(e2e)->remote_local_id, remote);
    id = e2e;
    expect_alive("alice");
}

// Through a relay, on T5090: each hop's L2 IDs and keys change (the relay runs T5090 on its hop
// to the target, the source on its hop to the relay), and the end-to-end link through a
// layer-2 relay changes its KNRP-sess ID and follows its hop's new L2 IDs.
class IdentifierUpdateRelayed : public IdentifierUpdate,
                                public ::testing::WithParamInterface<pc5::Path> {};

TEST_P(IdentifierUpdateRelayed, EveryLinkOfThePathChangesItsIdentifiersAndStillWorks) {
    auto tweak = [](link::Config& c) { c.timers.t5090 = 30s; };
    end_ue("bob", kBob, tweak);
    relay("relay-1", kRelay, tweak);
    end_ue("alice", kAlice, tweak);
    pc5::ConnectRequest r;
    r.target = "bob";
    r.path = GetParam();
    r.rsc = kRsc;
    r.relay = "relay-1";
    r.relay_l2 = kRelay;
    ue("alice").engine->connect(r, net.now);
    net.run(net.now + 10s);
    const auto links_before = ue("alice").engine->links();
    ASSERT_EQ(links_before.size(), GetParam() == pc5::Path::l2 ? 2u : 1u);
    // The SRAP local UE IDs each end writes for the other (layer 2).
    auto remote_ids = [&] {
        std::vector<std::uint8_t> out;
        for (const auto* n : {"alice", "bob"})
            for (const auto& l : ue(n).engine->links())
                if (l.kind == pc5::LinkKind::e2e)
                    out.push_back(ue(n).engine->data_keys(l.id)->remote_local_id);
        return out;
    };
    // The relay gives both ends new ones, and each learns them. They are drawn at random, so an
    // ID may come back after several updates: each end must have seen more than one.
    std::vector<std::set<std::uint8_t>> remote_seen(remote_ids().size());
    const auto start = net.now;
    for (int second = 0; second <= 100; ++second) {
        net.run(start + second * 1s);
        const auto ids = remote_ids();
        for (std::size_t k = 0; k < ids.size() && k < remote_seen.size(); ++k)
            remote_seen[k].insert(ids[k]);
    }
    if (GetParam() == pc5::Path::l2) {
        ASSERT_EQ(remote_seen.size(), 2u);
        EXPECT_GT(remote_seen[0].size(), 1u);
        EXPECT_GT(remote_seen[1].size(), 1u);
    }
    // Each link of alice's and of the relay's changed its identifiers three times at least.
    for (const auto* n : {"alice", "relay-1", "bob"}) {
        std::map<std::string, int> per_link;
        for (const auto& u : updates(n))
            ++per_link[u.link.id];
        const auto links = ue(n).engine->links();
        EXPECT_FALSE(links.empty()) << n;
        for (const auto& l : links) {
            EXPECT_GE(per_link[l.id], 3) << n << " " << l.id;
        }
    }
    for (const auto& l : ue("alice").engine->links()) {
        id = l.id;
        const auto peer = l.kind == pc5::LinkKind::e2e ? "bob" : "relay-1";
        expect_same_keys("alice", peer, l.id);
        if (l.kind == pc5::LinkKind::hop) {
            EXPECT_NE(l.local_l2, kAlice);
            EXPECT_NE(l.peer_l2, kRelay);
        } else {  // end to end: the hop's L2 IDs, its own KNRP-sess ID
            const auto all = ue("alice").engine->links();
            const auto& hop = *std::find_if(
                all.begin(), all.end(), [](const auto& x) { return x.kind == pc5::LinkKind::hop; });
            EXPECT_EQ(l.local_l2, hop.local_l2);
            EXPECT_EQ(l.peer_l2, hop.peer_l2);
        }
        for (const auto& before : links_before)
            if (before.id == l.id) {
                EXPECT_NE(before.knrp_sess_id, l.knrp_sess_id);
            }
        expect_alive("alice");  // the link works (end to end: through the relay's new hops)
    }
    for (const auto& l : ue("relay-1").engine->links())
        if (l.peer == "bob") {
            id = l.id;
            expect_same_keys("relay-1", "bob", l.id);
            expect_alive("relay-1");
        }
}

INSTANTIATE_TEST_SUITE_P(Relays, IdentifierUpdateRelayed,
                         ::testing::Values(pc5::Path::l3, pc5::Path::l2),
                         [](const auto& info) { return std::string(pc5::name(info.param)); });

}  // namespace
