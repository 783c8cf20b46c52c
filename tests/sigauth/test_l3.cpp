// Solution B through a layer-3 relay (docs/solution-b.md "The layer-3 path"): the same signed
// steps 1-8, plus a hop link between each end and the relay, keyed from the ephemeral keys both
// signed. Both ends of each hop hold the same keys; the relay holds the hops' keys and never KD;
// the hops go with the link they carry; what an attacker changes on the way is caught.
#include <set>

#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "world.hpp"

namespace pc5sec::sigauth::test {
namespace {

class Layer3 : public ::testing::TestWithParam<Mode> {};

struct L3World : World {
    explicit L3World(Mode m) : World(m) { path = pc5::Path::l3; }
};

std::optional<pc5::LinkSummary> link_of_kind(std::vector<pc5::LinkEstablished> ev,
                                             pc5::LinkKind kind) {
    for (auto& e : ev)
        if (e.link.kind == kind) return e.link;
    return std::nullopt;
}

TEST_P(Layer3, EachHopIsALinkOfItsOwnAndTheRelayNeverHoldsKd) {
    L3World w(GetParam());
    w.build();
    w.connect();
    const auto s = w.all_established(*w.source), t = w.all_established(*w.target),
               r = w.all_established(*w.relay);
    ASSERT_EQ(s.size(), 2u) << (w.failures(*w.source).empty() ? ""
                                                              : w.failures(*w.source)[0].reason);
    ASSERT_EQ(t.size(), 2u);
    ASSERT_EQ(r.size(), 2u);
    // The hop is reported before the link it carries.
    EXPECT_EQ(s[0].link.kind, pc5::LinkKind::hop);
    EXPECT_EQ(t[0].link.kind, pc5::LinkKind::hop);
    const auto e2e = *link_of_kind(s, pc5::LinkKind::e2e);
    const auto hop_s = s[0].link, hop_t = t[0].link;
    EXPECT_EQ(hop_s.id.rfind("alice>relay-1#", 0), 0u);
    EXPECT_EQ(hop_t.id.rfind("relay-1>bob#", 0), 0u);
    EXPECT_EQ(hop_s.peer, kRelay);
    EXPECT_EQ(hop_s.target, kTarget);
    EXPECT_TRUE(hop_s.initiator);
    EXPECT_FALSE(hop_t.initiator);
    EXPECT_EQ(hop_s.peer_l2, kRelayL2);
    // Each hop: the same keys at both of its ends, other keys than the other hop's and KD's.
    const auto& r_hops = r;
    const auto relay_side = [&](const std::string& id) {
        for (const auto& e : r_hops)
            if (e.link.id == id) return e.link;
        ADD_FAILURE() << "the relay has no hop " << id;
        return pc5::LinkSummary{};
    };
    for (const auto& h : {hop_s, hop_t}) {
        const auto at_relay = relay_side(h.id);
        EXPECT_EQ(at_relay.knrp_sess_id, h.knrp_sess_id);
        EXPECT_EQ(at_relay.initiator, !h.initiator);
        for (const char* k : {"KD-hop", "NRPEK", "NRPIK"})
            EXPECT_EQ(at_relay.fingerprints.at(k), h.fingerprints.at(k)) << k;
        EXPECT_NE(h.fingerprints.at("NRPEK"), e2e.fingerprints.at("NRPEK"));
        const auto k1 = w.source->data_keys(hop_s.id), k2 = w.relay->data_keys(hop_s.id);
        ASSERT_TRUE(k1 && k2);
        EXPECT_EQ(to_hex(k1->nrpek.reveal()), to_hex(k2->nrpek.reveal()));
    }
    EXPECT_NE(hop_s.fingerprints.at("NRPEK"), hop_t.fingerprints.at("NRPEK"));
    // The user plane: the end-to-end link rides on the hop; the relay routes its hops together.
    EXPECT_EQ(w.source->data_keys(e2e.id)->carrier, hop_s.id);
    EXPECT_EQ(w.target->data_keys(e2e.id)->carrier, hop_t.id);
    EXPECT_EQ(w.relay->data_keys(hop_s.id)->l3_routes, std::vector<std::string>{hop_t.id});
    EXPECT_EQ(w.relay->data_keys(hop_t.id)->l3_routes, std::vector<std::string>{hop_s.id});
    EXPECT_FALSE(w.relay->data_keys(e2e.id));
    // The relay's key log: the hops' keys only, nothing of the end-to-end link.
    ASSERT_FALSE(w.log_relay.records().empty());
    expect_relay_holds_no_end_to_end_key(w.log_relay, e2e.id);
    EXPECT_EQ(w.log_relay.latest("NRPEK", hop_s.id), w.log_source.latest("NRPEK", hop_s.id));
    EXPECT_EQ(w.log_relay.latest("NRPIK", hop_t.id), w.log_target.latest("NRPIK", hop_t.id));
    EXPECT_EQ(w.log_relay.latest("KD_HOP", hop_t.id), w.log_target.latest("KD_HOP", hop_t.id));
    EXPECT_EQ(w.log_source.latest("KD_HOP", hop_t.id), "");  // the source has no key of hop 2
    EXPECT_TRUE(w.relay->links().empty());
}

TEST_P(Layer3, ThePathIsSignedIntoTheRequestAndTheAccept) {
    L3World w(GetParam());
    w.build();
    w.connect();
    bool request = false, accept = false;
    for (const auto& f : w.radio.sent) {
        auto m = codec::decode(f.pdu);
        if (!m) continue;
        if (auto* q = std::get_if<codec::DirectLinkEstablishmentRequest>(&*m)) {
            request = true;
            EXPECT_EQ(q->relay_indication, codec::RelayIndication::via_layer3_relay);
            ASSERT_TRUE(q->authentication_info);
            EXPECT_TRUE(q->authentication_info->ephemeral_public_key);
            if (q->relay_authentication_info) {
                EXPECT_TRUE(q->relay_authentication_info->ephemeral_public_key);
            }
        }
        if (auto* a = std::get_if<codec::DirectLinkEstablishmentAccept>(&*m)) {
            accept = true;
            EXPECT_EQ(a->relay_indication, codec::RelayIndication::via_layer3_relay);
        }
    }
    EXPECT_TRUE(request && accept);
}

// What a relay (or anyone on the air) changes about the path or the hop keys is caught by a
// signature: the request's path by the source's, the relay's hop key by the relay's own.
TEST_P(Layer3, APathOrHopKeyChangedOnTheWayIsCaught) {
    struct Case {
        const char* what;
        Tamper::Phase phase;
        std::function<void(codec::DirectLinkEstablishmentRequest&)> on_request;
        std::function<void(codec::DirectLinkEstablishmentAccept&)> on_accept;
        bool caught_at_target;
    };
    static std::vector<std::uint8_t> other_key(32, 0x42);
    const std::vector<Case> cases = {
        {"request path l3 -> l2", Tamper::Phase::before_sign,
         [](auto& m) { m.relay_indication = codec::RelayIndication::via_layer2_relay; }, nullptr,
         true},
        {"relay's hop key in the request", Tamper::Phase::after_sign,
         [](auto& m) {
             m.relay_authentication_info->ephemeral_public_key = codec::Octets{other_key};
         },
         nullptr, true},
        {"relay's hop key in the accept", Tamper::Phase::after_sign, nullptr,
         [](auto& m) {
             m.relay_authentication_info->ephemeral_public_key = codec::Octets{other_key};
         },
         false},
        {"relay's hop key removed from the accept", Tamper::Phase::after_sign, nullptr,
         [](auto& m) { m.relay_authentication_info->ephemeral_public_key.reset(); }, false},
        {"accept path l3 -> l2", Tamper::Phase::before_sign, nullptr,
         [](auto& m) { m.relay_indication = codec::RelayIndication::via_layer2_relay; }, false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        L3World w(GetParam());
        w.relay_cfg.tamper.phase = c.phase;
        w.relay_cfg.tamper.on_request = c.on_request;
        w.relay_cfg.tamper.on_accept = c.on_accept;
        w.build();
        w.connect();
        w.radio.run(120s);
        EXPECT_TRUE(link_of_kind(w.all_established(*w.source), pc5::LinkKind::e2e) == std::nullopt);
        EXPECT_TRUE(link_of_kind(w.all_established(*w.source), pc5::LinkKind::hop) == std::nullopt);
        const auto sf = w.failures(*w.source);
        ASSERT_FALSE(sf.empty());
        if (c.caught_at_target) {
            EXPECT_TRUE(w.all_established(*w.target).empty());
            ASSERT_FALSE(w.failures(*w.target).empty());
        }
    }
}

// An established layer-3 link released by the source: its hop goes with it at both ends; an
// unprotected frame (a forged reject in every UE's name) ends neither hop nor link.
TEST_P(Layer3, HopsGoWithTheirLinkAndNotWithAForgedFrame) {
    L3World w(GetParam());
    w.build();
    w.connect();
    w.radio.run(5s);
    const auto e2e = *link_of_kind(w.all_established(*w.source), pc5::LinkKind::e2e);
    const auto hop_s = *link_of_kind(w.all_established(*w.source), pc5::LinkKind::hop);
    for (pc5::L2Id from : {kSourceL2, kTargetL2, kRelayL2})
        for (pc5::L2Id to : {kSourceL2, kTargetL2, kRelayL2})
            if (from != to)
                for (int seq = 0; seq < 256; seq += 17)
                    w.radio.inject(pc5::Frame{
                        from, to, pc5::lcid::kSrb0, {0x03, static_cast<std::uint8_t>(seq), 0x06}});
    EXPECT_TRUE(w.radio.events_of<pc5::LinkReleased>(*w.source).empty());
    EXPECT_TRUE(w.radio.events_of<pc5::LinkReleased>(*w.relay).empty());
    EXPECT_TRUE(w.source->data_keys(hop_s.id));
    ASSERT_TRUE(w.source->release(e2e.id, w.radio.now).ok());
    w.radio.run(30s);
    std::set<std::string> gone_s, gone_t;
    for (const auto& r : w.radio.events_of<pc5::LinkReleased>(*w.source))
        gone_s.insert(r.id);
    for (const auto& r : w.radio.events_of<pc5::LinkReleased>(*w.target))
        gone_t.insert(r.id);
    EXPECT_TRUE(gone_s.count(e2e.id));
    EXPECT_TRUE(gone_s.count(hop_s.id));
    EXPECT_TRUE(gone_t.count(e2e.id));
    EXPECT_EQ(gone_t.size(), 2u);
    EXPECT_FALSE(w.source->data_keys(hop_s.id));
    // The relay cannot read the release: its hops go when the route does (route_idle_timeout).
    w.radio.run(w.relay_cfg.route_idle_timeout + 60s);
    EXPECT_EQ(w.radio.events_of<pc5::LinkReleased>(*w.relay).size(), 2u);
    EXPECT_EQ(w.relay->route_count(), 0u);
}

// B-literal has no freshness: a copy of the forwarded request heard after its retransmissions
// replaces the target's link under the same id (kLiteralModeNote). The replacing link's hop,
// of the same id, is then the target's hop: the replaced one's release must not take it away.
TEST(Layer3Literal, ALinkReplacedUnderItsIdKeepsItsHop) {
    L3World w(Mode::literal);
    w.build();
    w.connect();
    const auto hop_t = *link_of_kind(w.all_established(*w.target), pc5::LinkKind::hop);
    const auto copy = forwarded_request(w);
    w.radio.now += w.target_cfg.t5080 * (w.target_cfg.max_retransmissions + 2);
    w.radio.inject(copy);
    EXPECT_EQ(w.all_established(*w.target).size(), 4u);  // the hop and the link again
    EXPECT_TRUE(w.target->data_keys(hop_t.id));
    const auto& evs = w.radio.events(*w.target);
    std::optional<bool> last_up;  // what the target said last about the hop
    for (const auto& ev : evs) {
        if (const auto* e = std::get_if<pc5::LinkEstablished>(&ev); e && e->link.id == hop_t.id)
            last_up = true;
        if (const auto* r = std::get_if<pc5::LinkReleased>(&ev); r && r->id == hop_t.id)
            last_up = false;
    }
    EXPECT_EQ(last_up, std::optional<bool>(true));
}

INSTANTIATE_TEST_SUITE_P(Modes, Layer3, ::testing::Values(Mode::literal, Mode::hardened),
                         [](const auto& i) { return std::string(name(i.param)); });

}  // namespace
}  // namespace pc5sec::sigauth::test
