// Solution A under an adversary ([a-state]): what one unauthenticated frame can do to a link, a
// cached KNRP or a relay. Each test names the invariant of docs/solution-a.md ("Invariants") it
// checks. The attacker holds no credential unless the test says so.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "link/impl.hpp"
#include "pc5sec/asymmetric.hpp"
#include "pc5sec/srap.hpp"

using namespace pc5sec;
using namespace pc5sec::testing;
using creds::Role;

namespace {

using MT = codec::MessageType;

std::span<const std::uint8_t> as_octets(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

constexpr pc5::L2Id kAlice = 0x0A, kBob = 0x0B, kCarol = 0x0C, kDave = 0x0D, kRelay = 0x50;

class AttackTest : public LinkTest {
  protected:
    // Frames seen on the air, by the first octet of an SRB0 message (its type).
    std::vector<pc5::Frame> heard;
    void record_all() {
        net.attacker = [this](pc5::Frame& f) {
            heard.push_back(f);
            return true;
        };
    }
    std::optional<pc5::Frame> first_heard(pc5::L2Id src, MT type) const {
        for (const auto& f : heard)
            if (f.src == src && f.lcid == pc5::lcid::kSrb0 && !f.pdu.empty() &&
                f.pdu[0] == static_cast<std::uint8_t>(type))
                return f;
        return std::nullopt;
    }
    // The established links of `n`: id -> fingerprints (what data keys come from).
    std::map<std::string, std::map<std::string, std::string>> keys_of(const std::string& n) {
        std::map<std::string, std::map<std::string, std::string>> out;
        for (const auto& l : ue(n).engine->links())
            out[l.id] = l.fingerprints;
        return out;
    }
    // A keep-alive on each established link of `n` is answered: the link still works.
    void expect_alive(const std::string& n) {
        auto links = ue(n).engine->links();
        ASSERT_FALSE(links.empty()) << n;
        for (const auto& l : links)
            ASSERT_TRUE(ue(n).engine->keepalive(l.id, net.now)) << n << " " << l.id;
        const auto released_before = net.of<pc5::LinkReleased>(n).size();
        net.run(net.now + std::chrono::seconds(60));
        EXPECT_EQ(net.of<pc5::LinkReleased>(n).size(), released_before) << n;
        EXPECT_EQ(ue(n).engine->links().size(), links.size()) << n;
    }
    // alice-SUFFIX and bob-SUFFIX with a direct link; then the provisioning function revokes
    // alice and bob loads the new list. Returns alice's name.
    std::string link_then_revoke_alice(const std::string& suffix) {
        auto& pki = Pki::instance();
        const std::string alice = "alice-" + suffix, bob = "bob-" + suffix;
        auto alice_creds = pki.issue(alice, {Role::end_ue}, {kRsc});
        auto bob_creds = pki.issue(bob, {Role::end_ue}, {kRsc});
        add(config(bob, kBob, bob_creds));
        auto a = config(alice, kAlice, alice_creds);
        a.directory[bob] = kBob;
        add(std::move(a));
        ue(alice).engine->connect(direct(bob), net.now);
        net.run();
        EXPECT_EQ(ue(bob).engine->links().size(), 1u);
        revoke = [alice_creds, bob_creds] {
            auto& p = Pki::instance();
            ASSERT_TRUE(p.pf.revoke(alice_creds->certificate(), p.epoch));
            ASSERT_TRUE(bob_creds->trust().set_revocation_list(*p.pf.revocation_list()));
        };
        return alice;
    }
    std::function<void()> revoke;
    void inject(pc5::L2Id src, pc5::L2Id dst, std::uint8_t lcid, std::vector<std::uint8_t> pdu) {
        net.inject(pc5::Frame{src, dst, lcid, std::move(pdu), nullptr});
        net.run(net.now + std::chrono::seconds(60));
    }
    // A request as a UE without credentials can make it: fresh Nonce_1, no valid Key_Est_Info.
    // `rsc` given: for a hop to a layer-3 relay.
    static std::vector<std::uint8_t> request_from(const std::string& source,
                                                  const std::string& target,
                                                  std::uint8_t nonce_seed,
                                                  std::optional<std::uint32_t> rsc = {}) {
        codec::DirectLinkEstablishmentRequest m;
        if (rsc) {
            m.relay_indication = codec::RelayIndication::via_layer3_relay;
            m.relay_service_code = codec::RelayServiceCode{*rsc};
        }
        const std::string prose = "pc5sec.u2u";
        m.source_user_info = codec::Octets{as_octets(source)};
        m.prose_identifiers = codec::Octets{as_octets(prose)};
        m.ue_security_capabilities = {0xf0, 0x70};
        m.signalling_security_policy = {codec::PolicyValue::required, codec::PolicyValue::required};
        m.target_user_info = codec::Octets{as_octets(target)};
        Nonce n{};
        n.fill(nonce_seed);
        m.nonce_1 = n;
        m.msb_knrp_sess_id = 0x42;
        auto b = codec::encode(m);
        EXPECT_TRUE(b) << b.error().describe();
        return *b;
    }
};

}  // namespace

// ---------------------------------------------------------------- invariant 1: no unauthenticated
// frame changes or removes an established or establishing link

// forged-request-on-live-link: a request with alice's L2 ID, user info and target and a fresh
// Nonce_1, sent by a UE without credentials. Bob makes a new (half-open) link next to the live
// one; it never authenticates, and the live link keeps its keys and keeps working.
TEST_F(AttackTest, ForgedRequestOnALiveLinkLeavesItWorking) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_EQ(ue("bob").engine->links().size(), 1u);
    const auto before_a = keys_of("alice"), before_b = keys_of("bob");
    for (std::uint8_t seed = 1; seed <= 3; ++seed)
        inject(kAlice, kBob, pc5::lcid::kSrb0, request_from("alice", "bob", seed));
    EXPECT_EQ(keys_of("alice"), before_a);
    EXPECT_EQ(keys_of("bob"), before_b);
    EXPECT_TRUE(net.of<pc5::LinkReleased>("bob").empty());
    EXPECT_TRUE(net.of<pc5::LinkReleased>("alice").empty());
    // Each forged request was refused (#6: no Key_Est_Info) and left nothing behind.
    for (const auto& f : failed("bob"))
        EXPECT_EQ(f.cause, codec::Cause::authentication_failure);
    EXPECT_EQ(ue("bob").engine->link_count(), 1u);
    expect_alive("alice");
    expect_alive("bob");
}

// A copy of the live link's request with the last octet of its Nonce_1 flipped: the same
// first 4 octets, the live link's id tag. Bob refuses it (its signature covers Nonce_1), and
// what he reports about it never names the live link (found by fuzz_engines).
TEST_F(AttackTest, ARequestSharingTheLiveLinksIdTagIsReportedUnderItsOwnId) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    record_all();
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_EQ(ue("bob").engine->links().size(), 1u);
    const std::string live = ue("bob").engine->links()[0].id;
    auto request = first_heard(kAlice, MT::establishment_request);
    ASSERT_TRUE(request);
    auto m = std::get<codec::DirectLinkEstablishmentRequest>(codec::decode(request->pdu).value());
    ASSERT_TRUE(m.nonce_1);
    m.nonce_1->back() ^= 0x01;
    inject(kAlice, kBob, pc5::lcid::kSrb0, codec::encode(m).value());
    ASSERT_FALSE(failed("bob").empty());
    for (const auto& f : failed("bob"))
        EXPECT_NE(f.id, live) << f.reason;
    EXPECT_TRUE(net.of<pc5::LinkReleased>("bob").empty());
    expect_alive("alice");
    expect_alive("bob");
}

// A genuine request recorded earlier and replayed (it verifies: alice signed it) makes a
// half-open link that nobody can complete; it goes with Config::half_open_lifetime and the live
// link never notices.
TEST_F(AttackTest, ReplayedOldRequestMakesOnlyAHalfOpenLinkThatExpires) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    record_all();
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto old = first_heard(kAlice, MT::establishment_request);
    ASSERT_TRUE(old);
    ue("alice").engine->release_all(net.now);
    net.run();
    ue("alice").engine->connect(direct("bob"), net.now);  // a second, live link
    net.run();
    heard.clear();
    const auto before = keys_of("bob");
    ASSERT_EQ(before.size(), 1u);
    net.inject(*old);
    net.run(net.now + std::chrono::seconds(1));
    EXPECT_EQ(ue("bob").engine->link_count(), 2u);  // the live link and one half-open
    net.run(net.now + std::chrono::seconds(60));
    EXPECT_EQ(ue("bob").engine->link_count(), 1u);
    EXPECT_EQ(keys_of("bob"), before);
    EXPECT_NE(failed("bob").back().reason.find("half-open"), std::string::npos);
    expect_alive("bob");
}

// Every message type of the codec, unprotected, from the peer's L2 ID on each SRB, and every
// frame of the establishment replayed with one bit flipped: an established link keeps its keys.
TEST_F(AttackTest, NoSingleForgedReplayedOrBitFlippedFrameTouchesAnEstablishedLink) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    record_all();
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    const auto recorded = heard;
    net.attacker = nullptr;
    const auto before_a = keys_of("alice"), before_b = keys_of("bob");
    ASSERT_EQ(before_a.size(), 1u);
    std::vector<pc5::Frame> attacks;
    for (const auto& m : codec::sample_messages(true)) {
        auto b = codec::encode(m);
        if (!b) continue;
        for (std::uint8_t lcid : {pc5::lcid::kSrb0, pc5::lcid::kSrb1, pc5::lcid::kSrb2}) {
            attacks.push_back({kAlice, kBob, lcid, *b, nullptr});
            attacks.push_back({kBob, kAlice, lcid, *b, nullptr});
        }
    }
    for (const auto& f : recorded) {
        attacks.push_back(f);  // replayed as it was
        for (std::size_t bit : {0ul, 9ul, f.pdu.size() * 4, f.pdu.size() * 8 - 1}) {
            auto g = f;
            if (bit / 8 < g.pdu.size()) g.pdu[bit / 8] ^= static_cast<std::uint8_t>(1u << bit % 8);
            attacks.push_back(g);
        }
    }
    for (auto& f : attacks) {
        net.inject(f);
        net.run(net.now + std::chrono::seconds(1));
    }
    net.run(net.now + std::chrono::seconds(60));
    EXPECT_EQ(keys_of("alice"), before_a);
    EXPECT_EQ(keys_of("bob"), before_b);
    EXPECT_TRUE(net.of<pc5::LinkReleased>("alice").empty());
    EXPECT_TRUE(net.of<pc5::LinkReleased>("bob").empty());
    expect_alive("alice");
}

// A forged ESTABLISHMENT REJECT (three octets, unprotected) while alice waits for bob: alice
// asks once more at once instead of believing it, and the link comes up.
TEST_F(AttackTest, OneForgedRejectDoesNotEndAnEstablishment) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    bool sent = false;
    net.attacker = [&](pc5::Frame& f) {
        if (!sent && f.src == kAlice && f.pdu.size() > 0 &&
            f.pdu[0] == static_cast<std::uint8_t>(MT::establishment_request)) {
            sent = true;  // answer the request first, as an attacker in range would
            net.in_flight.push_back(
                {net.now, net.order++,
                 pc5::Frame{kBob,
                            kAlice,
                            pc5::lcid::kSrb0,
                            {static_cast<std::uint8_t>(MT::establishment_reject), 0x00, 0x06},
                            nullptr}});
        }
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_TRUE(sent);
    EXPECT_EQ(ue("alice").engine->links().size(), 1u);
    EXPECT_EQ(ue("bob").engine->links().size(), 1u);
    EXPECT_TRUE(failed("alice").empty());
}

// An insider: mallory holds valid credentials of her own. She hears alice's request to bob and
// answers first with an AUTHENTICATION REQUEST that really verifies under her certificate. It
// is not bob's answer: alice drops it and waits, and bob's genuine answer brings the link up.
TEST_F(AttackTest, AnAnswerSignedByAnotherCredentialedUeIsNotBelieved) {
    end_ue("bob", kBob);
    end_ue("alice", kAlice);
    auto mallory = Pki::instance().issue("mallory", {Role::end_ue}, {kRsc});
    bool sent = false;
    net.attacker = [&](pc5::Frame& f) {
        if (sent || f.src != kAlice || f.pdu.empty() ||
            f.pdu[0] != static_cast<std::uint8_t>(MT::establishment_request))
            return true;
        sent = true;
        auto eph = PrivateKey::generate(KeyType::x25519).value();
        auto sig = sign(mallory->key(), link::peer_signed_part(f.pdu, eph.public_key().encoded(),
                                                               "alice", "mallory"))
                       .value();
        const std::string name = "mallory";
        const auto der = mallory->certificate().der();
        const auto e = eph.public_key().encoded();
        codec::DirectLinkAuthenticationRequest ar;
        ar.key_est_info.method = codec::KeyEstMethod::certificate;
        ar.key_est_info.certificate = codec::Octets{der};
        ar.key_est_info.ephemeral_public_key = codec::Octets{e};
        ar.key_est_info.signature = codec::Octets{sig};
        ar.key_est_info.user_info_id = codec::Octets{as_octets(name)};
        net.in_flight.push_back(
            {net.now, net.order++,
             pc5::Frame{kBob, kAlice, pc5::lcid::kSrb0, *codec::encode(ar), nullptr}});
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_TRUE(sent);
    ASSERT_EQ(ue("alice").engine->links().size(), 1u);
    EXPECT_EQ(ue("alice").engine->links()[0].peer, "bob");
    EXPECT_TRUE(failed("alice").empty());
    EXPECT_GE(drops("alice", pc5::DropReason::unexpected), 1u);
}

// ---------------------------------------------------------------- invariant 4: a cached KNRP
// never outlives its credential

// revoked-with-cached-knrp: alice's first link leaves a KNRP at bob; then alice is revoked and
// bob learns it. Her second request names the cached KNRP ID: refused with #6, the KNRP wiped,
// no key installed.
TEST_F(AttackTest, RevokedPeerWithACachedKnrpIsRefusedWithCause6) {
    link_then_revoke_alice("r");
    ue("alice-r").engine->release_all(net.now);
    net.run();
    ASSERT_EQ(ue("bob-r").engine->cached_knrps(), 1u);
    revoke();
    ue("alice-r").engine->connect(direct("bob-r"), net.now);
    net.run();
    auto f = failed("bob-r");
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f.back().cause, codec::Cause::authentication_failure);
    EXPECT_NE(f.back().reason.find("revoked"), std::string::npos) << f.back().reason;
    EXPECT_EQ(failed("alice-r").back().cause, codec::Cause::authentication_failure);
    EXPECT_EQ(ue("bob-r").engine->cached_knrps(), 0u);
    expect_no_state("alice-r");
    expect_no_state("bob-r");
}

// An established link whose peer is revoked: the next re-keying checks the certificate again
// and releases the link (#6) instead of renewing its keys.
TEST_F(AttackTest, RekeyingARevokedPeerReleasesTheLink) {
    link_then_revoke_alice("k");
    auto links = ue("bob-k").engine->links();
    ASSERT_EQ(links.size(), 1u);
    revoke();
    auto st = ue("bob-k").engine->rekey(links[0].id, false, net.now);
    EXPECT_FALSE(st);
    net.run();
    auto r = net.of<pc5::LinkReleased>("bob-k");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].cause, codec::Cause::authentication_failure);
    EXPECT_EQ(net.of<pc5::LinkReleased>("alice-k").size(), 1u);  // told by a protected release
    EXPECT_EQ(ue("bob-k").engine->cached_knrps(), 0u);
    expect_no_state("alice-k");
    expect_no_state("bob-k");
}

// Config::knrp_lifetime: an old KNRP is not reused; step 3 runs again.
TEST_F(AttackTest, AKnrpOlderThanItsLifetimeIsNotReused) {
    auto short_life = [](link::Config& c) { c.knrp_lifetime = std::chrono::seconds(5); };
    end_ue("bob", kBob, short_life);
    end_ue("alice", kAlice, short_life);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ue("alice").engine->release_all(net.now);
    net.run();
    net.now += std::chrono::seconds(10);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto e = established("bob");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_FALSE(e[1].link.knrp_reused);
    EXPECT_EQ(ue("bob").engine->links().size(), 1u);
}

// ---------------------------------------------------------------- invariant 3: a relay commits
// nothing for an unauthenticated source

struct RelayAttack : AttackTest {
    void three(std::function<void(link::Config&)> relay_tweak = {}) {
        end_ue("bob", kBob);
        end_ue("carol", kCarol);
        relay("relay-1", kRelay, relay_tweak);
        end_ue("alice", kAlice);
    }
    static pc5::ConnectRequest via(pc5::Path p, const std::string& target = "bob") {
        pc5::ConnectRequest r;
        r.target = target;
        r.path = p;
        r.rsc = kRsc;
        r.relay = "relay-1";
        r.relay_l2 = kRelay;
        return r;
    }
    std::size_t relay_hops_to(const std::string& target) {
        std::size_t n = 0;
        for (const auto& e : established("relay-1"))
            n += e.link.peer == target && e.link.initiator;
        return n;
    }
};

// request-flood: alice's genuine request (recorded) replayed from 200 made-up L2 IDs, and 200
// unsigned requests with fresh nonces: no hop towards bob is made, and the relay never holds
// more than Config::max_half_open half-open links.
TEST_F(RelayAttack, RequestFloodMakesNoHopAndStaysBounded) {
    three([](link::Config& c) { c.max_half_open = 8; });
    net.attacker = [this](pc5::Frame& f) {  // hears alice's request and keeps it from the relay
        heard.push_back(f);
        return f.src != kAlice;
    };
    ue("alice").engine->connect(via(pc5::Path::l3), net.now);
    net.run(std::chrono::milliseconds(100));
    auto req = first_heard(kAlice, MT::establishment_request);
    ASSERT_TRUE(req);
    ue("alice").engine->release_all(net.now);
    net.attacker = nullptr;
    std::size_t most = 0;
    for (pc5::L2Id fake = 0x1000; fake < 0x1000 + 200; ++fake) {
        auto f = *req;
        f.src = fake;
        net.inject(f);
        net.inject(pc5::Frame{fake + 0x10000, kRelay, pc5::lcid::kSrb0,
                              request_from("mallory", "bob", static_cast<std::uint8_t>(fake), kRsc),
                              nullptr});
        net.run(net.now + std::chrono::milliseconds(10));
        most = std::max(most, ue("relay-1").engine->link_count());
    }
    EXPECT_LE(most, 8u);
    net.run(net.now + std::chrono::seconds(120));
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
    EXPECT_EQ(ue("bob").engine->link_count(), 0u);
    EXPECT_EQ(relay_hops_to("bob"), 0u);
    EXPECT_TRUE(net.of<pc5::LinkFailed>("bob").empty());  // never even asked
}

// The existing revoked / tamper-request attacks through a layer-3 relay leave no hop at the
// relay: it refuses the source before it sends anything towards the target.
TEST_F(RelayAttack, RevokedSourceGetsNoHopTowardsTheTarget) {
    auto& pki = Pki::instance();
    auto alice_creds = pki.issue("alice-x", {Role::end_ue}, {kRsc});
    ASSERT_TRUE(pki.pf.revoke(alice_creds->certificate(), pki.epoch));
    end_ue("bob", kBob);
    auto r = config("relay-1", kRelay, pki.issue("relay-1", {Role::u2u_relay}, {kRsc}));
    r.role = link::UeRole::relay;
    r.directory["bob"] = kBob;
    ASSERT_TRUE(r.credentials->trust().set_revocation_list(*pki.pf.revocation_list()));
    add(std::move(r));
    auto a = config("alice-x", kAlice, alice_creds);
    add(std::move(a));
    ue("alice-x").engine->connect(via(pc5::Path::l3), net.now);
    net.run();
    EXPECT_EQ(failed("relay-1").at(0).cause, codec::Cause::authentication_failure);
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
    EXPECT_EQ(ue("bob").engine->link_count(), 0u);
    EXPECT_TRUE(net.of<pc5::LinkFailed>("bob").empty());
}

TEST_F(RelayAttack, TamperedRequestGetsNoHopTowardsTheTarget) {
    three();
    net.attacker = [](pc5::Frame& f) {
        if (f.src == kAlice && f.lcid == 0 && !f.pdu.empty() &&
            f.pdu[0] == static_cast<std::uint8_t>(MT::establishment_request))
            f.pdu[f.pdu.size() / 2] ^= 0x01;
        return true;
    };
    ue("alice").engine->connect(via(pc5::Path::l3), net.now);
    net.run();
    EXPECT_EQ(ue("bob").engine->link_count(), 0u);
    EXPECT_EQ(relay_hops_to("bob"), 0u);
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
}

// When the source's hop goes, the relay releases the hop it made for it.
TEST_F(RelayAttack, TheRelayReleasesTheHopItMadeWhenTheSourceGoes) {
    three();
    ue("alice").engine->connect(via(pc5::Path::l3), net.now);
    net.run();
    ASSERT_EQ(ue("bob").engine->links().size(), 1u);
    ue("alice").engine->release_all(net.now);
    net.run();
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
    EXPECT_EQ(ue("bob").engine->link_count(), 0u);
    EXPECT_EQ(net.of<pc5::LinkReleased>("bob").size(), 1u);
}

// A relay does not serve a null-integrity source: it could neither authenticate it nor find it
// authorised for the RSC (seed 000 step 3, KI#3).
TEST_F(RelayAttack, ARelayRefusesNullIntegrityWithCause12) {
    auto not_needed = [](link::Config& c) {
        c.policy.signalling.integrity = PolicyLevel::not_needed;
        c.policy.signalling.ciphering = PolicyLevel::not_needed;
    };
    end_ue("bob", kBob, not_needed);
    relay("relay-1", kRelay, not_needed);
    end_ue("alice", kAlice, not_needed);
    ue("alice").engine->connect(via(pc5::Path::l3), net.now);
    net.run();
    EXPECT_EQ(failed("alice").back().cause, codec::Cause::security_policy_not_aligned);
    EXPECT_EQ(ue("bob").engine->link_count(), 0u);
    EXPECT_EQ(ue("relay-1").engine->link_count(), 0u);
}

// ---------------------------------------------------------------- several targets, one relay

class Targets : public RelayAttack, public ::testing::WithParamInterface<pc5::Path> {};

TEST_P(Targets, OneSourceReachesTwoAndThreeTargetsThroughOneRelay) {
    const auto path = GetParam();
    end_ue("bob", kBob);
    end_ue("carol", kCarol);
    end_ue("dave", kDave);
    relay("relay-1", kRelay);
    end_ue("alice", kAlice);
    for (const auto* t : {"bob", "carol", "dave"})
        ue("alice").engine->connect(via(path, t), net.now);
    net.run();
    EXPECT_TRUE(failed("alice").empty()) << failed("alice").at(0).reason;
    std::set<std::string> reached;
    std::set<std::string> nrpeks;
    for (const auto& l : ue("alice").engine->links()) {
        if (path == pc5::Path::l2 && l.kind != pc5::LinkKind::e2e) continue;
        reached.insert(path == pc5::Path::l2 ? l.peer : std::string{});
        nrpeks.insert(l.fingerprints.at("NRPEK"));
    }
    if (path == pc5::Path::l2) {
        EXPECT_EQ(reached, (std::set<std::string>{"bob", "carol", "dave"}));
        EXPECT_EQ(ue("alice").engine->links().size(), 4u);  // one hop, three end-to-end links
    } else {
        EXPECT_EQ(ue("alice").engine->links().size(), 3u);  // one hop per target
        EXPECT_EQ(ue("relay-1").engine->links().size(), 6u);
    }
    EXPECT_EQ(nrpeks.size(), 3u);  // each link its own keys
    for (const auto* t : {"bob", "carol", "dave"}) {
        ASSERT_FALSE(ue(t).engine->links().empty()) << t;
        EXPECT_TRUE(failed(t).empty()) << t;
    }
}

INSTANTIATE_TEST_SUITE_P(Paths, Targets, ::testing::Values(pc5::Path::l3, pc5::Path::l2),
                         [](const auto& i) { return i.param == pc5::Path::l3 ? "l3" : "l2"; });

// ---------------------------------------------------------------- downgrade under PREFERRED

// An on-path attacker changes two octets: the request's integrity policy (PREFERRED -> NOT
// NEEDED) and its echo in the NIA0 command (back to PREFERRED). TS 33.536 lets the link come up
// without integrity, and no certificate is checked: pc5sec says so on the link. With
// Config::refuse_null_integrity the UEs refuse it (#12), and no key is installed.
class Downgrade : public AttackTest {
  protected:
    void attack() {
        net.attacker = [](pc5::Frame& f) {
            if (f.lcid == pc5::lcid::kSrb0 && !f.pdu.empty() &&
                f.pdu[0] == static_cast<std::uint8_t>(MT::establishment_request)) {
                auto m = codec::decode(f.pdu);
                auto r = std::get<codec::DirectLinkEstablishmentRequest>(*m);
                r.signalling_security_policy = {codec::PolicyValue::not_needed,
                                                codec::PolicyValue::not_needed};
                r.key_est_info.reset();
                f.pdu = *codec::encode(r);
            } else if (f.lcid == pc5::lcid::kSrb1 && f.pdu.size() > pdcp::kOverhead &&
                       f.pdu[0] == 0 && f.pdu[1] == 0) {  // KNRP-sess ID 0: a NIA0 command
                auto inner =
                    std::vector<std::uint8_t>(f.pdu.begin() + pdcp::kHeaderSize, f.pdu.end() - 4);
                auto m = codec::decode(inner);
                if (!m) return true;
                if (auto* c = std::get_if<codec::DirectLinkSecurityModeCommand>(&*m)) {
                    c->signalling_security_policy = {codec::PolicyValue::preferred,
                                                     codec::PolicyValue::preferred};
                    auto b = *codec::encode(*c);
                    std::vector<std::uint8_t> pdu(f.pdu.begin(), f.pdu.begin() + pdcp::kHeaderSize);
                    pdu.insert(pdu.end(), b.begin(), b.end());
                    pdu.insert(pdu.end(), 4, 0);  // NIA0: MAC-I 0
                    f.pdu = pdu;
                }
            }
            return true;
        };
    }
    static void preferred(link::Config& c) {
        c.policy.signalling.integrity = PolicyLevel::preferred;
        c.policy.signalling.ciphering = PolicyLevel::preferred;
    }
};

TEST_F(Downgrade, UnderPreferredTheLinkComesUpWithoutIntegrityAndSaysSo) {
    end_ue("bob", kBob, preferred);
    end_ue("alice", kAlice, preferred);
    attack();
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto a = established("alice");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_FALSE(a[0].link.security_active);
    EXPECT_EQ(a[0].link.security_note, "no integrity: policy preferred, peer offered none");
    EXPECT_EQ(established("bob").at(0).link.security_note,
              "no integrity: policy preferred, peer offered none");
}

TEST_F(Downgrade, RefuseNullIntegrityRefusesTheDowngradeWithCause12) {
    auto refusing = [](link::Config& c) {
        preferred(c);
        c.policy.refuse_null_integrity = true;
    };
    end_ue("bob", kBob, refusing);
    end_ue("alice", kAlice, refusing);
    attack();
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_TRUE(established("alice").empty());
    EXPECT_EQ(failed("bob").at(0).cause, codec::Cause::security_policy_not_aligned);
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::security_policy_not_aligned);
    expect_no_state("alice");
    expect_no_state("bob");
}

// Only the initiator refuses: the NIA0 command is dropped (it proves nothing), and when no
// protected one comes alice gives up with #12, not with a timeout.
TEST_F(Downgrade, AnInitiatorThatRefusesDropsTheNullCommandAndSaysWhy) {
    end_ue("bob", kBob, preferred);
    end_ue("alice", kAlice, [](link::Config& c) {
        preferred(c);
        c.policy.refuse_null_integrity = true;
    });
    attack();
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_TRUE(established("alice").empty());
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::security_policy_not_aligned);
    expect_no_state("alice");
}
