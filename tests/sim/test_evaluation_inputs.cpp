// What the evaluation ([evaluation], docs/evaluation.md) reads from a run: every frame on the air
// counted once by kind and by its sender's role (metrics.json "air"), the processing model
// (a busy UE queues; latency includes its computation; reproducible unless measured), the
// per-role crypto and CPU, and diagrams that name the attacker rule and the seed step of what
// they draw.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "pc5sec/asymmetric.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/sim.hpp"

namespace pc5sec::sim {
namespace {

using nlohmann::json;

Scenario scenario(const std::string& name) {
    auto s = builtin(name);
    if (!s) throw std::runtime_error(s.error().describe());
    return std::move(*s);
}

json metrics(const Scenario& s, Options o = {}) {
    o.capture = false;
    o.keylog = false;
    auto r = run(s, o);
    if (!r) throw std::runtime_error(r.error().describe());
    return json::parse(r->json);
}

std::uint64_t kind(const json& j, const char* k, const char* what = "frames") {
    return j["air"]["by_kind"][k][what].get<std::uint64_t>();
}

// Every transmission is counted once: what the UEs put on the medium, each RLC AM retransmission
// of a lost one, and the attacker's frames; the roles add up to all but the attacker's.
TEST(Air, EveryFrameCountsOnceByKindAndRole) {
    for (const char* name : {"a-l3", "a-l2", "b-hardened", "b-literal-l3", "a-l3-discovery",
                             "a-l3-lossy", "attack-forged-reject", "a-l3-reuse"}) {
        SCOPED_TRACE(name);
        const auto j = metrics(scenario(name));
        const auto& air = j["air"];
        std::uint64_t sum = 0, bytes = 0;
        for (const auto& [k, c] : air["by_kind"].items()) {
            sum += c["frames"].get<std::uint64_t>();
            bytes += c["bytes"].get<std::uint64_t>();
        }
        EXPECT_EQ(sum, air["frames"].get<std::uint64_t>());
        EXPECT_EQ(bytes, air["bytes"].get<std::uint64_t>());
        EXPECT_EQ(sum, j["medium"]["frames"].get<std::uint64_t>() +
                           j["medium"]["link_retransmissions"].get<std::uint64_t>() +
                           kind(j, "attacker"));
        std::uint64_t roles = 0;
        for (const auto& [r, c] : air["by_role"].items())
            roles += c["frames"].get<std::uint64_t>();
        EXPECT_EQ(roles + kind(j, "attacker"), sum);
        // Only a relay forwards; only end UEs send data.
        EXPECT_EQ(air["by_role"]["relay"]["by_kind"]["forwarding"]["frames"],
                  kind(j, "forwarding"));
        EXPECT_EQ(air["by_role"]["relay"]["by_kind"]["data"]["frames"], 0);
    }
}

// A layer-2 relay's forwarded frames are counted (the demo's old "bytes on air" left them out),
// discovery is counted, RLC AM retransmissions and re-keying are told apart.
TEST(Air, ForwardingDiscoveryRetransmissionAndMaintenanceAreCounted) {
    auto j = metrics(scenario("a-l2"));
    EXPECT_GT(kind(j, "forwarding"), 0u);
    EXPECT_EQ(kind(j, "data"), 20u);  // the source's PDUs, once each
    j = metrics(scenario("a-l3-discovery"));
    EXPECT_GT(kind(j, "discovery"), 0u);
    EXPECT_GT(kind(j, "discovery", "bytes"), 0u);
    auto lossy = scenario("a-l3");
    lossy.medium.loss = 0.3;
    lossy.expect = {};
    j = metrics(lossy);
    EXPECT_EQ(kind(j, "retransmission"), j["medium"]["link_retransmissions"].get<std::uint64_t>() +
                                             j["retransmissions"].get<std::uint64_t>());
    j = metrics(scenario("b-literal-rekey-release"));
    EXPECT_GT(kind(j, "maintenance"), 0u);  // re-keying and release
    // B-literal: the source's first keep-alive opens the relay's route after the pair is up, a
    // keep-alive; B-hardened's key confirmation is part of the establishment.
    j = metrics(scenario("b-literal"));
    EXPECT_GT(kind(j, "keep-alive"), 0u);
    j = metrics(scenario("b-hardened"));
    EXPECT_EQ(kind(j, "keep-alive"), 0u);
}

// The processing model: none (radio only), the default table, a slow profile, a table of one's
// own; the relay's work per role; a scenario's [processing] checked key by key.
TEST(Processing, LatencyIncludesComputationByProfile) {
    auto s = scenario("b-hardened");
    s.processing.profile = "none";
    const auto none = metrics(s);
    s.processing.profile = "default";
    const auto def = metrics(s);
    s.processing.profile = "wearable";
    const auto slow = metrics(s);
    const auto lat = [](const json& j) {
        return j["establishment"]["median_latency_ms"].get<double>();
    };
    EXPECT_LT(lat(none), lat(def));
    EXPECT_LT(lat(def), lat(slow));
    EXPECT_FALSE(none["processing"].contains("costs_us"));
    EXPECT_EQ(def["processing"]["costs_us"]["sign"].get<double>(), default_costs().sign_us);
    EXPECT_DOUBLE_EQ(slow["processing"]["costs_us"]["verify"].get<double>(),
                     default_costs().verify_us * 20);
    EXPECT_EQ(none["roles"]["relay"]["cpu_ms"].get<double>(), 0.0);
    // CPU per role is the table times the operations counted.
    const auto& relay = def["roles"]["relay"];
    const auto& c = relay["crypto"];
    const auto& k = default_costs();
    const double us = c["sign"].get<double>() * k.sign_us +
                      c["verify"].get<double>() * k.verify_us +
                      c["cert_verify"].get<double>() * k.cert_verify_us +
                      c["key_agreement"].get<double>() * k.key_agreement_us +
                      c["keygen"].get<double>() * k.keygen_us + c["kdf"].get<double>() * k.kdf_us +
                      c["pdcp"].get<double>() * k.pdcp_us;
    EXPECT_NEAR(relay["cpu_ms"].get<double>(), us / 1000.0, 0.002);
    // A table of one's own, times a factor.
    s.processing = {};
    s.processing.costs = CostTable{1000, 1000, 1000, 1000, 1000, 0, 0};
    s.processing.factor = 2;
    const auto own = metrics(s);
    EXPECT_EQ(own["processing"]["profile"], "table");
    EXPECT_EQ(own["processing"]["costs_us"]["sign"].get<double>(), 2000.0);
    EXPECT_GT(lat(own), lat(slow));
}

// A relay does one thing at a time: sources that ask together wait for it, and the more they
// are, the longer the last one waits. A seeded run stays byte-identical.
TEST(Processing, ABusyRelayQueuesAndStaysReproducible) {
    Scenario s;
    s.name = "queue";
    s.solution = pc5::Solution::a;
    s.path = pc5::Path::l3;
    s.scale_pairs = 40;
    s.scale_relays = 1;
    expand_scale(s);
    for (auto& c : s.connects)
        c.at_ms = 0;  // all at once
    const auto busy = metrics(s);
    EXPECT_EQ(busy["establishment"]["established"], 40);
    EXPECT_GT(busy["roles"]["relay"]["longest_wait_ms"].get<double>(), 10.0);
    EXPECT_GT(busy["establishment"]["p95_latency_ms"].get<double>(),
              busy["establishment"]["median_latency_ms"].get<double>());
    auto r1 = run(s), r2 = run(s);
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(r1->json, r2->json);
    EXPECT_EQ(r1->pcap, r2->pcap);
    s.processing.profile = "none";
    const auto idle = metrics(s);
    EXPECT_EQ(idle["roles"]["relay"]["longest_wait_ms"].get<double>(), 0.0);
    EXPECT_LT(idle["establishment"]["p95_latency_ms"].get<double>(),
              busy["establishment"]["p95_latency_ms"].get<double>());
}

TEST(Processing, MeasuredSaysItIsNotReproducible) {
    auto s = scenario("a-direct");
    s.processing.profile = "measured";
    Options o;
    o.measured_costs = CostTable{10, 20, 30, 40, 50, 1, 1};
    const auto j = metrics(s, o);
    EXPECT_FALSE(j["processing"]["reproducible"].get<bool>());
    EXPECT_EQ(j["processing"]["costs_us"]["verify"].get<double>(), 20.0);
    const auto m = measure_costs();
    EXPECT_GT(m.sign_us, 0);
    EXPECT_GT(m.verify_us, 0);
    EXPECT_GT(m.key_agreement_us, 0);
    EXPECT_GT(m.cert_verify_us, 0);
    EXPECT_GT(m.kdf_us, 0);
    EXPECT_GT(m.pdcp_us, 0);
}

TEST(Processing, ScenarioKeysAreChecked) {
    const std::string base =
        "name = \"p\"\n[[ue]]\nname = \"a\"\n[[ue]]\nname = \"b\"\n[[connect]]\nsource = "
        "\"a\"\ntarget = \"b\"\nrelay = \"r\"\n[[ue]]\nname = \"r\"\nrelay = true\n";
    const auto error = [&](const std::string& t) {
        auto s = parse_scenario(base + t, "p.toml");
        return s ? std::string("accepted") : s.error().describe();
    };
    EXPECT_NE(error("[processing]\nprofile = \"phone\"\n").find("processing.profile"),
              std::string::npos);
    EXPECT_NE(error("[processing]\nfactor = 0\n").find("processing.factor"), std::string::npos);
    EXPECT_NE(error("[processing]\nspeed = 2\n").find("processing.speed"), std::string::npos);
    EXPECT_NE(error("[processing.costs_us]\nsign = 1\nrsa = 3\n").find("processing.costs_us.rsa"),
              std::string::npos);
    EXPECT_NE(error("[processing]\nprofile = \"measured\"\n[processing.costs_us]\nsign = 1\n")
                  .find("processing.costs_us"),
              std::string::npos);
    auto ok =
        parse_scenario(base + "[processing]\nprofile = \"handset\"\nfactor = 1.5\n", "p.toml");
    ASSERT_TRUE(ok) << ok.error().describe();
    EXPECT_EQ(ok->processing.profile, "handset");
    EXPECT_EQ(ok->processing.factor, 1.5);
    for (const auto& p : device_profiles()) {
        EXPECT_FALSE(p.source.empty()) << p.name;
        EXPECT_GE(p.factor, 1) << p.name;
    }
}

// The diagrams a reader of the evaluation opens next: the rule that touched a frame, the seed
// step of each message, the data PDUs not drawn.
TEST(Diagrams, NameTheAttackerRuleTheSeedStepAndWhatIsNotShown) {
    auto r = run(scenario("attack-tamper-data"));
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->diagrams.empty());
    const auto& svg = r->diagrams.front().second;
    EXPECT_NE(svg.find("attacker: tamper-data"), std::string::npos);
    EXPECT_NE(svg.find("[step 2] ESTABLISHMENT REQUEST"), std::string::npos);
    EXPECT_NE(svg.find("[step 4] SECURITY MODE COMMAND"), std::string::npos);
    EXPECT_NE(svg.find("more data PDUs not shown"), std::string::npos);
    r = run(scenario("b-hardened"));
    ASSERT_TRUE(r);
    const auto& b = r->diagrams.front().second;
    EXPECT_NE(b.find("[step 1] ESTABLISHMENT REQUEST"), std::string::npos);
    EXPECT_NE(b.find("[steps 2-3] ESTABLISHMENT REQUEST"), std::string::npos);
    EXPECT_NE(b.find("[key confirmation]"), std::string::npos);
    // An injected frame the receiver drops is drawn dropped, with its rule.
    r = run(scenario("attack-forged-reject"));
    ASSERT_TRUE(r);
    EXPECT_NE(r->diagrams.front().second.find("(dropped)"), std::string::npos);
    EXPECT_NE(r->diagrams.front().second.find("attacker: "), std::string::npos);
}

// Seed 001's literal-mode man in the middle (attack key-substitution): the rogue relay signs as
// each end UE with its own key. Both ends link, and each end's KD is the ECDH of its own key
// with the relay's: the relay, which holds its private key, computes both. Hardened: refused.
TEST(KeySubstitution, TheRelayComputesBothEndsKdInLiteralMode) {
    Options o;
    o.export_long_term_keys = true;
    auto r = run(scenario("attack-key-substitution-b-literal"), o);
    ASSERT_TRUE(r);
    const auto j = json::parse(r->json);
    EXPECT_EQ(j["establishment"]["established"], 1);
    std::map<std::string, const PrivateKey*> keys;
    for (const auto& [n, k] : r->long_term_keys)
        keys[n] = &k;
    ASSERT_TRUE(keys.count("relay-1") && keys.count("alice") && keys.count("bob"));
    const auto records = pc5::parse_key_log(r->keylog);
    ASSERT_TRUE(records);
    std::set<std::string> kds;
    for (const auto& rec : *records)
        if (rec.label == "KD") kds.insert(rec.value);
    for (const char* end : {"alice", "bob"}) {
        const auto z = key_agreement(*keys["relay-1"], keys[end]->public_key());
        ASSERT_TRUE(z);
        EXPECT_EQ(kds.count(to_hex(z->reveal())), 1u) << end << "'s KD is not the relay's";
    }
    const auto hardened = json::parse(run(scenario("attack-key-substitution-b-hardened"))->json);
    EXPECT_EQ(hardened["establishment"]["established"], 0);
    bool refused = false;
    for (const auto& l : hardened["links"])
        refused |= l["state"] == "failed" && l["cause"] == 6;
    EXPECT_TRUE(refused);
    // Not an attack solution A has: its relay signs nothing for the end UEs.
    auto text = std::string(
        "name = \"k\"\nattack = \"key-substitution\"\n[[ue]]\nname = "
        "\"a\"\n[[ue]]\nname = \"b\"\n[[ue]]\nname = \"r\"\nrelay = "
        "true\n[[connect]]\nsource = \"a\"\ntarget = \"b\"\nrelay = \"r\"\n");
    const auto refused_a = parse_scenario(text, "k.toml");
    ASSERT_FALSE(refused_a);
    EXPECT_NE(refused_a.error().describe().find("attack"), std::string::npos);
}

}  // namespace
}  // namespace pc5sec::sim
