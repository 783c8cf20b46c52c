// The station (pc5sec/station.hpp): one UE of either solution built from a spec or a bundle, its
// engine and user plane wired so that a driver only carries frames. Driven here on the
// in-process Loopback medium, which knows nothing but pc5::Endpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "pc5sec/code_points.hpp"
#include "pc5sec/loopback.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/station.hpp"

using namespace pc5sec;
using namespace std::chrono_literals;

namespace {

constexpr creds::Rsc kRsc = 0x00A001;
constexpr pc5::L2Id kAlice = 0x0A, kRelay = 0x50, kBob = 0x0B;
constexpr std::uint8_t kBearer = 4;

struct Pki {
    creds::TimePoint epoch = creds::from_unix_seconds(1'790'000'000);
    creds::ProvisioningFunction pf =
        creds::ProvisioningFunction::create(epoch - 24h, 24h * 3650).value();
    static Pki& get() {
        static Pki p;
        return p;
    }
    creds::IssuedCredentials issue(const std::string& name, creds::Role role) {
        creds::UeProfile p;
        p.user_info_id = name;
        p.authorisation = creds::Authorisation{{role}, {kRsc}};
        return pf.issue(p, epoch - 1h, 24h * 30).value();
    }
};

station::Spec spec_for(pc5::Solution solution, const std::string& name, pc5::L2Id l2, bool relay,
                       pc5::KeyLogSink* keylog = nullptr) {
    auto issued = Pki::get().issue(name, relay ? creds::Role::u2u_relay : creds::Role::end_ue);
    station::Spec s;
    s.solution = solution;
    s.role = relay ? pc5::UeRole::relay : pc5::UeRole::end_ue;
    s.l2_id = l2;
    s.credentials = std::make_shared<creds::CredentialManager>(
        issued.key, issued.certificate,
        creds::TrustStore::create(Pki::get().pf.ca_certificate()).value());
    s.credentials->set_logger([](std::string_view) {});
    s.wall_epoch = Pki::get().epoch;
    s.directory = {{"alice", kAlice}, {"bob", kBob}, {"relay-1", kRelay}};
    s.keylog = keylog;
    return s;
}

// alice, relay-1 (unless direct) and bob as stations on one Loopback medium.
struct Three {
    pc5::Loopback net;
    std::unique_ptr<station::Station> alice, relay, bob;
    pc5::KeyLogCollector relay_keys;

    Three(pc5::Solution solution, pc5::Path path,
          const std::function<void(station::Spec&)>& tune = {}) {
        auto make = [&](const std::string& name, pc5::L2Id l2, bool is_relay) {
            auto s = spec_for(solution, name, l2, is_relay, is_relay ? &relay_keys : nullptr);
            if (tune) tune(s);
            auto st = station::Station::create(std::move(s));
            EXPECT_TRUE(st.ok()) << st.error().describe();
            net.add(**st);
            return std::move(*st);
        };
        alice = make("alice", kAlice, false);
        bob = make("bob", kBob, false);
        if (path != pc5::Path::direct) relay = make("relay-1", kRelay, true);
        pc5::ConnectRequest r;
        r.target = "bob";
        r.path = path;
        r.rsc = kRsc;
        if (path == pc5::Path::direct) {
            r.target_l2 = kBob;
        } else {
            r.relay = "relay-1";
            r.relay_l2 = kRelay;
        }
        alice->connect(r, net.now);
        net.run(net.now + 60s);
    }

    template <class E>
    std::vector<E> events(const std::string& who) {
        std::vector<E> out;
        for (const auto& e : net.events[who])
            if (const auto* x = std::get_if<E>(&e)) out.push_back(*x);
        return out;
    }
    // The link alice sends data on toward bob: end to end when there is one, else her first.
    std::string data_link() {
        std::string first;
        for (const auto& e : events<pc5::LinkEstablished>("alice")) {
            if (e.link.kind == pc5::LinkKind::e2e) return e.link.id;
            if (first.empty()) first = e.link.id;
        }
        return first;
    }
    std::vector<std::string> received(const std::string& who) {
        std::vector<std::string> out;
        for (const auto& d : events<pc5::DataReceived>(who)) {
            std::span<const std::uint8_t> data = d.data;
            if (auto p = userplane::parse_l3_packet(d.data)) data = p->data;  // layer 3
            out.emplace_back(data.begin(), data.end());
        }
        return out;
    }
    void send(const std::string& text, bool l3 = false) {
        std::vector<std::uint8_t> sdu(text.begin(), text.end());
        if (l3)
            sdu = userplane::l3_packet(userplane::l3_address("alice"), userplane::l3_address("bob"),
                                       sdu)
                      .value();
        auto st = alice->send(data_link(), kBearer, sdu, net.now);
        ASSERT_TRUE(st.ok()) << st.error().describe();
        net.run(net.now + 10s);
    }
};

struct Case {
    pc5::Solution solution;
    pc5::Path path;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
    std::string s = std::string(pc5::name(info.param.solution)) + "_" + pc5::name(info.param.path);
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

class Paths : public ::testing::TestWithParam<Case> {};

// A driver that only carries frames gets data through: the station installed the keys at both
// ends, a layer-2 relay's user plane learned its SRAP table, a layer-3 relay joined its hops.
TEST_P(Paths, CarriesDataWithNoWiringInTheDriver) {
    const auto [solution, path] = GetParam();
    Three w(solution, path);
    ASSERT_FALSE(w.data_link().empty());
    const bool l3 = path == pc5::Path::l3 && solution == pc5::Solution::a;
    w.send("pc5sec line 1", l3);
    w.send("pc5sec line 2", l3);
    EXPECT_EQ(w.received("bob"), (std::vector<std::string>{"pc5sec line 1", "pc5sec line 2"}));
    EXPECT_TRUE(w.alice->user_plane().has_link(w.data_link()));
    if (w.relay) {
        const auto& c = w.relay->user_plane().counters();
        EXPECT_EQ(c.forwarded_l2 + c.forwarded_l3, 2u);
        EXPECT_EQ(c.drops_total(), 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Station, Paths,
                         ::testing::Values(Case{pc5::Solution::a, pc5::Path::direct},
                                           Case{pc5::Solution::a, pc5::Path::l2},
                                           Case{pc5::Solution::a, pc5::Path::l3},
                                           Case{pc5::Solution::b_hardened, pc5::Path::l2},
                                           Case{pc5::Solution::b_hardened, pc5::Path::l3},
                                           Case{pc5::Solution::b_literal, pc5::Path::l2}),
                         case_name);

// Solution A through a layer-3 relay with two sources for one target: the target's hop, set up
// for the first source, routes back to the second as well (the station joins hops both ways,
// whichever came up first).
TEST(Station, Layer3RelayRoutesASecondSourceBack) {
    pc5::Loopback net;
    std::vector<std::unique_ptr<station::Station>> ues;
    auto add = [&](const std::string& name, pc5::L2Id l2, bool relay) -> station::Station& {
        auto s = spec_for(pc5::Solution::a, name, l2, relay);
        s.directory["carol"] = 0x0C;
        ues.push_back(station::Station::create(std::move(s)).value());
        net.add(*ues.back());
        return *ues.back();
    };
    auto& alice = add("alice", kAlice, false);
    auto& carol = add("carol", 0x0C, false);
    auto& bob = add("bob", kBob, false);
    auto& relay = add("relay-1", kRelay, true);
    pc5::ConnectRequest r;
    r.target = "bob";
    r.path = pc5::Path::l3;
    r.rsc = kRsc;
    r.relay = "relay-1";
    r.relay_l2 = kRelay;
    alice.connect(r, net.now);
    net.run(net.now + 60s);
    carol.connect(r, net.now);
    net.run(net.now + 60s);
    auto hop_of = [&](const std::string& who) {
        for (const auto& e : net.events[who])
            if (const auto* x = std::get_if<pc5::LinkEstablished>(&e)) return x->link.id;
        return std::string();
    };
    // Each source sends one packet to bob; bob answers each.
    auto send = [&](station::Station& from, const std::string& link, const std::string& src,
                    const std::string& dst, const std::string& text) {
        std::vector<std::uint8_t> data(text.begin(), text.end());
        auto p = userplane::l3_packet(userplane::l3_address(src), userplane::l3_address(dst), data)
                     .value();
        ASSERT_TRUE(from.send(link, kBearer, p, net.now).ok());
        net.run(net.now + 10s);
    };
    send(alice, hop_of("alice"), "alice", "bob", "from alice");
    send(carol, hop_of("carol"), "carol", "bob", "from carol");
    send(bob, hop_of("bob"), "bob", "alice", "to alice");
    send(bob, hop_of("bob"), "bob", "carol", "to carol");
    auto got = [&](const std::string& who) {
        std::vector<std::string> out;
        for (const auto& e : net.events[who])
            if (const auto* d = std::get_if<pc5::DataReceived>(&e)) {
                auto p = userplane::parse_l3_packet(d->data).value();
                out.emplace_back(p.data.begin(), p.data.end());
            }
        return out;
    };
    EXPECT_EQ(got("bob"), (std::vector<std::string>{"from alice", "from carol"}));
    EXPECT_EQ(got("alice"), std::vector<std::string>{"to alice"});
    EXPECT_EQ(got("carol"), std::vector<std::string>{"to carol"});
    EXPECT_EQ(relay.user_plane().counters().forwarded_l3, 4u);
}

// The user-plane policy travels with the station: a link that cannot meet it (ciphering
// REQUIRED for data, a link negotiated without ciphering) carries no data and is released,
// cause #12 (TS 33.536 5.3.3.1.2), rather than sending in clear.
TEST(Station, ReleasesALinkItsUserPlanePolicyRefuses) {
    Three w(pc5::Solution::a, pc5::Path::direct, [](station::Spec& s) {
        s.policy.signalling = {PolicyLevel::preferred, PolicyLevel::not_needed};
        s.policy.ciphering = {CipheringAlgorithm::nea0};
        if (s.l2_id == kAlice) s.policy.user_plane.ciphering = PolicyLevel::required;
    });
    const auto up = w.events<pc5::LinkEstablished>("alice");
    ASSERT_FALSE(up.empty());
    EXPECT_EQ(up.front().link.ciphering, CipheringAlgorithm::nea0);
    EXPECT_FALSE(w.alice->user_plane().has_link(up.front().link.id));
    EXPECT_FALSE(w.events<pc5::LinkReleased>("alice").empty());
    EXPECT_FALSE(w.events<pc5::LinkReleased>("bob").empty());  // released on the air
    pc5::DataKeys keys;                                        // what the link negotiated
    keys.ciphering = up.front().link.ciphering;
    keys.integrity = up.front().link.integrity;
    auto p = w.alice->protection_for(keys);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().pc5_cause, cause::kSecurityPolicyNotAligned);
}

// Re-keying asked for by the user plane's threshold is run by the station's engine, and data
// crosses it: nothing lost, nothing twice.
TEST(Station, ReKeysAtTheUserPlaneThreshold) {
    Three w(pc5::Solution::a, pc5::Path::direct, [](station::Spec& s) { s.rekey_threshold = 3; });
    for (int i = 0; i < 8; ++i)
        w.send("pc5sec line " + std::to_string(i));
    EXPECT_EQ(w.received("bob").size(), 8u);
    EXPECT_FALSE(w.events<pc5::LinkRekeyed>("alice").empty());
    EXPECT_FALSE(w.events<pc5::LinkRekeyed>("bob").empty());
    EXPECT_EQ(w.bob->user_plane().counters().drops_total(), 0u);
}

// An attacker on the air, one unauthenticated frame at a time, against an established link
// through a layer-2 relay: a forged data PDU, one with a flipped bit and a replay go to the user
// plane and are dropped there; the link, its keys and later data are untouched.
TEST(Station, AForgedOrReplayedDataFrameChangesNothing) {
    for (auto solution : {pc5::Solution::a, pc5::Solution::b_hardened}) {
        Three w(solution, pc5::Path::l2);
        w.send("pc5sec before");
        const auto keys = w.bob->data_keys(w.events<pc5::LinkEstablished>("bob").back().link.id);
        ASSERT_TRUE(keys.has_value());
        pc5::Frame heard;
        for (const auto& f : w.net.delivered)
            if (f.dst == kBob && userplane::carries_data(f)) heard = f;
        ASSERT_FALSE(heard.pdu.empty());
        const auto drops = w.bob->user_plane().counters().drops_total();
        pc5::Frame flipped = heard;
        flipped.pdu.back() ^= 0x01;
        pc5::Frame forged = heard;
        std::fill(forged.pdu.begin() + srap::kHeaderSize + 2, forged.pdu.end(), 0x5A);
        for (const auto& f : {heard, flipped, forged}) {
            w.net.inject(f);
            w.net.run(w.net.now + 1s);
        }
        EXPECT_EQ(w.bob->user_plane().counters().drops_total(), drops + 3) << pc5::name(solution);
        EXPECT_EQ(w.received("bob").size(), 1u);
        EXPECT_TRUE(w.events<pc5::LinkReleased>("bob").empty());
        const auto after = w.bob->data_keys(keys->link_id);
        ASSERT_TRUE(after.has_value());
        EXPECT_EQ(after->knrp_sess_id, keys->knrp_sess_id);
        w.send("pc5sec after");
        EXPECT_EQ(w.received("bob").back(), "pc5sec after");
    }
}

// Built from a bundle as `pc5sec provision` writes it: the certificate's subject names the UE,
// policy.toml is its policy; what is not a bundle, or a certificate without the role, is refused
// naming the field.
TEST(Station, FromBundle) {
    char tmpl[] = "/tmp/pc5sec-station-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::filesystem::path dir = tmpl;
    auto& pki = Pki::get();
    const auto now = creds::Clock::now();
    creds::UeProfile p;
    p.user_info_id = "alice";
    p.authorisation = creds::Authorisation{{creds::Role::end_ue}, {kRsc}};
    auto issued = pki.pf.issue(p, now - 1h, 24h).value();
    PolicyFile policy;
    policy.user_plane.ciphering = PolicyLevel::required;
    ASSERT_TRUE(pki.pf.write_bundle(dir / "alice", issued, policy).ok());

    for (auto solution : {pc5::Solution::a, pc5::Solution::b_literal, pc5::Solution::b_hardened}) {
        station::Spec s;
        s.solution = solution;
        s.l2_id = kAlice;
        s.wall_epoch = now;
        auto st = station::Station::from_bundle(dir / "alice", s);
        ASSERT_TRUE(st.ok()) << st.error().describe();
        EXPECT_EQ((*st)->user_info(), "alice");
        EXPECT_EQ((*st)->policy().user_plane.ciphering, PolicyLevel::required);
        EXPECT_EQ((*st)->solution(), solution);
        EXPECT_EQ((*st)->a() != nullptr, solution == pc5::Solution::a);
    }
    station::Spec relay;
    relay.role = pc5::UeRole::relay;
    relay.wall_epoch = now;
    auto no_role = station::Station::from_bundle(dir / "alice", relay);
    ASSERT_FALSE(no_role.ok());
    EXPECT_EQ(no_role.error().code, Errc::policy);
    EXPECT_EQ(no_role.error().field, "role");
    auto missing = station::Station::from_bundle(dir / "nobody", station::Spec{});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().field, "bundle");
    auto none = station::Station::create(station::Spec{});
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().field, "credentials");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

}  // namespace
