// The simulator: every built-in scenario ends as its [expect] says; a bad radio never leaves a
// link half-way; a seed reproduces a run byte for byte; scenario files are checked key by key;
// the capture, key log and diagrams hold what a tester needs (data deciphered here with the key
// log alone, through the crypto API, not the user plane).
#include <set>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "pc5sec/hex.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/sim.hpp"
#include "pc5sec/trace_decrypt.hpp"
#include "pc5sec/userplane.hpp"

namespace pc5sec::sim {
namespace {

using nlohmann::json;

Report run_builtin(const std::string& name, std::uint64_t seed = 0, Options o = {}) {
    auto s = builtin(name);
    if (!s) throw std::runtime_error(s.error().describe());
    if (seed) s->seed = seed;
    auto r = run(*s, o);
    if (!r) throw std::runtime_error(r.error().describe());
    return std::move(*r);
}

class Builtins : public ::testing::TestWithParam<std::string> {};

TEST_P(Builtins, EndsAsExpected) {
    const auto r = run_builtin(GetParam());
    EXPECT_TRUE(r.expectations_met) << r.summary;
    const auto j = json::parse(r.json);
    for (const auto& l : j["links"]) {
        EXPECT_TRUE(l["state"] == "established" || l["state"] == "failed") << l.dump();
        if (l["state"] == "failed") {
            EXPECT_TRUE(l["cause"].is_number()) << l.dump();
        }
        // Both ends of an established link hold the same keys (fingerprints agree). Not where
        // the gap a scenario shows is that they do not: B-literal takes a request replayed an
        // hour later and replaces the target's keys (seed 001 has no freshness).
        if (GetParam() == "attack-stale-replay-b-literal") {
            // The end-to-end link's and the target's hop (replaced with it); the source's agrees.
            if (l["kind"] == "e2e") {
                EXPECT_FALSE(l["keys_agree"].get<bool>()) << l.dump();
            }
            continue;
        }
        // Nor where a rogue relay signs as the end UEs (key-substitution): each end holds a KD
        // with the relay's key (checked in KeySubstitution.*), and the relay keys its hops from
        // the signatures it received, the ends theirs from the ones it made.
        if (GetParam() == "attack-key-substitution-b-literal") continue;
        if (l["state"] == "established" && l["fingerprints"].size() == 2) {
            EXPECT_TRUE(l["keys_agree"].get<bool>()) << l.dump();
        }
    }
}

// The credential attacks are refused by the defending UE, at the check the attack names, not by
// the attacker's own UE looking at its own certificate (a UE takes its own certificate's claims
// as they are: creds::own_view). The revoked source offers its cached KNRP ID, and the relay
// refuses it at the cached KNRP's revocation check (docs/solution-a.md, invariant 4); the relay
// refuses the target's certificate from another CA at its chain check.
TEST(Builtins, ACredentialAttackIsRefusedByTheDefender) {
    struct Case {
        const char* scenario;
        const char* link;    // the failed link's ends
        const char* reason;  // how its reason begins
    };
    for (const Case c :
         {Case{"attack-revoked-with-cached-knrp", "alice>relay-1",
               "cached KNRP: peer certificate: serialNumber: certificate of 'alice'"},
          Case{"attack-foreign-ca", "relay-1>bob",
               "peer certificate: issuer: certificate of 'bob'"}}) {
        SCOPED_TRACE(c.scenario);
        const auto r = run_builtin(c.scenario);
        EXPECT_TRUE(r.expectations_met) << r.summary;
        const auto j = json::parse(r.json);
        bool found = false;
        for (const auto& l : j["links"]) {
            if (l["state"] != "failed" || !l["id"].get<std::string>().starts_with(c.link)) continue;
            found = true;
            EXPECT_EQ(l["cause"], 6) << l.dump();
            EXPECT_TRUE(l["reason"].get<std::string>().starts_with(c.reason)) << l.dump();
        }
        EXPECT_TRUE(found) << r.summary;
    }
}

// Solution B's re-keying and release run in the simulator as in the engine tests: 100 PDUs,
// a new key every 25 (three re-keyings, each end reports them), all delivered under keys both
// ends agree on, then the source releases; the key log holds each generation.
TEST(SolutionB, ReKeyedEveryTwentyFivePdusThenReleased) {
    for (const char* name : {"b-literal-rekey-release", "b-hardened-rekey-release"}) {
        SCOPED_TRACE(name);
        const auto r = run_builtin(name);
        EXPECT_TRUE(r.expectations_met) << r.summary;
        const auto j = json::parse(r.json);
        // The end-to-end link and its two hops (docs/solution-b.md "The hops"), released with it.
        ASSERT_EQ(j["links"].size(), 3u);
        json l;
        for (const auto& x : j["links"]) {
            if (x["kind"] == "e2e")
                l = x;
            else
                EXPECT_TRUE(x["released"].get<bool>()) << x.dump();
        }
        ASSERT_FALSE(l.is_null());
        EXPECT_EQ(l["rekeys"].get<int>(), 6) << l.dump();
        EXPECT_TRUE(l["released"].get<bool>()) << l.dump();
        EXPECT_TRUE(l["keys_agree"].get<bool>()) << l.dump();
        EXPECT_EQ(j["data"]["delivered"].get<int>(), 100) << j["data"].dump();
        std::size_t generations = 0;
        const std::string line = "NRPEK " + l["id"].get<std::string>() + " ";
        for (std::size_t at = r.keylog.find(line); at != std::string::npos;
             at = r.keylog.find(line, at + 1))
            ++generations;
        EXPECT_EQ(generations, 8u);  // 4 generations, written by each end
    }
}

std::vector<std::string> builtin_names() {
    std::vector<std::string> out;
    for (const auto& b : builtin_scenarios())
        if (!b.name.starts_with("scale-") || b.name == "scale-1k")  // bigger: `pc5sec bench`
            out.push_back(b.name);
    return out;
}

INSTANTIATE_TEST_SUITE_P(All, Builtins, ::testing::ValuesIn(builtin_names()), [](const auto& info) {
    std::string n = info.param;
    for (auto& c : n)
        if (c == '-') c = '_';
    return n;
});

// Two sources, one target, one relay, the target answering every PDU: each source gets all its
// own answers and none of the other's (layer 3: the relay routes IPv6 by destination address;
// layer 2: by SRAP local UE ID), and nothing lands at the wrong UE.
TEST(OneTarget, EachSourceGetsOnlyItsOwnAnswers) {
    for (const std::string name : {"a-l3-one-target", "a-l2-one-target"}) {
        const auto r = run_builtin(name);
        EXPECT_TRUE(r.expectations_met) << r.summary;
        const auto j = json::parse(r.json);
        ASSERT_EQ(j["establishments"].size(), 2u) << name;
        for (const auto& e : j["establishments"]) {
            EXPECT_EQ(e["target"], "bob");
            EXPECT_EQ(e["delivered"], 20) << name << " " << e.dump();
            EXPECT_EQ(e["echoes"], 20) << name << " " << e.dump();
        }
        EXPECT_EQ(j["data"]["delivered_garbled"], 0) << name;
        EXPECT_EQ(j["data"]["dropped"], 0) << name;
        const std::string forwarded = name == "a-l3-one-target" ? "forwarded_l3" : "forwarded_l2";
        EXPECT_EQ(j["data"][forwarded], 80) << name;  // 20 PDUs each way for each source
    }
}

// Issue [sim] 6: with 20% loss and reordering, every link still ends established, or failed
// with a cause; and every establishment settles one way or the other.
TEST(Lossy, EveryLinkEndsEstablishedOrFailedWithACause) {
    for (const char* base : {"a-l3", "a-l2", "a-direct", "b-hardened", "b-literal"}) {
        for (std::uint64_t seed = 1; seed <= 6; ++seed) {
            auto s = builtin(base).value();
            s.seed = seed;
            s.medium.loss = 0.2;
            s.medium.reorder = 0.2;
            s.medium.duplicate = 0.05;
            s.duration_s = 300;
            s.expect = {};
            const auto r = run(s).value();
            const auto j = json::parse(r.json);
            SCOPED_TRACE(fmt::format("{} seed {}", base, seed));
            EXPECT_GT(j["medium"]["lost"].get<int>(), 0);
            for (const auto& l : j["links"]) {
                ASSERT_TRUE(l["state"] == "established" || l["state"] == "failed") << l.dump();
                if (l["state"] == "failed") {
                    EXPECT_GT(l["cause"].get<int>(), 0) << l.dump();
                }
            }
            EXPECT_GE(j["links"].size(), 1u);
            // Whatever arrived was intact: no garbled payload was ever delivered.
            EXPECT_EQ(j["data"]["delivered_garbled"].get<int>(), 0);
        }
    }
}

// Issue 17: a scenario of `pairs` source/target pairs (through one relay unless direct) at
// `loss`, for `seeds` seeds: how many pairs were established, of how many.
std::pair<int, int> sweep(pc5::Solution solution, pc5::Path path, double loss, bool rlc_am,
                          int seeds, std::uint32_t pairs = 10) {
    int ok = 0, all = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
        Scenario s;
        s.name = "sweep";
        s.solution = solution;
        s.path = path;
        s.seed = static_cast<std::uint64_t>(seed);
        s.duration_s = 600;
        s.scale_pairs = pairs;
        s.scale_relays = path == pc5::Path::direct ? 0 : 1;
        expand_scale(s);
        s.medium.loss = loss;
        s.medium.rlc_am = rlc_am;
        const auto j = json::parse(run(s).value().json);
        ok += j["establishment"]["established"].get<int>();
        all += j["establishment"]["pairs"].get<int>();
        EXPECT_TRUE(j["expectations"]["met"].get<bool>()) << j["expectations"].dump();
    }
    return {ok, all};
}

// The privacy timer (T5090, TS 24.554 7.2.4) under traffic: a built-in with T5090 at 5 s for
// 40 s, 1200 PDUs; no identifier stays on the air longer than T5090 and its update, at least
// `l2_ids` L2 IDs and `srap_ids` SRAP local UE IDs went by, the data keep flowing, and a seed
// still reproduces the run byte for byte.
void expect_identifiers_change(const char* builtin_name, int l2_ids, int srap_ids) {
    SCOPED_TRACE(builtin_name);
    auto s = builtin(builtin_name).value();
    s.privacy_timer_s = 5;
    s.duration_s = 40;
    s.traffic.pdus = 1200;
    s.traffic.interval_ms = 25;
    s.expect = {};
    const auto r = run(s).value();
    EXPECT_TRUE(r.expectations_met) << fmt::format("{}", fmt::join(r.failed_expectations, "; "));
    const auto j = json::parse(r.json);
    ASSERT_TRUE(j.contains("privacy"));
    EXPECT_EQ(j["privacy"]["over_limit"].get<int>(), 0);
    EXPECT_LE(j["privacy"]["longest_s"].get<double>(), 5.5);
    EXPECT_GE(j["privacy"]["l2_ids"].get<int>(), l2_ids);
    EXPECT_GE(j["privacy"]["srap_local_ids"].get<int>(), srap_ids);
    EXPECT_GE(j["data"]["delivered"].get<int>(), 1195);
    EXPECT_EQ(run(s).value().json, r.json);
    // Without it the report is as before: no privacy section.
    s.privacy_timer_s = 0;
    EXPECT_FALSE(json::parse(run(s).value().json).contains("privacy"));
}

// Solution A: every link (each hop, the end-to-end link through a layer-2 relay) changes its L2
// IDs (two per update, six updates at least) and KNRP-sess ID; through a layer-2 relay the
// relay gives each end UE a new local UE ID too.
TEST(PrivacyTimer, NoIdentifierOutlivesT5090AndTheDataFlow) {
    expect_identifiers_change("a-l3", 2 * 6, 0);
    expect_identifiers_change("a-l2", 2 * 6, 2 * 6);
}

// Solution B: each end UE updates its hop to the relay on T5090 and then re-keys the link (two
// hops, two ends, six times), on both paths and in both modes.
TEST(PrivacyTimer, SolutionBChangesEveryIdentifierOfItsHopsAndLink) {
    expect_identifiers_change("b-hardened", 4 * 6, 2 * 6);
    expect_identifiers_change("b-literal", 4 * 6, 2 * 6);
    expect_identifiers_change("b-hardened-l3", 4 * 6, 2 * 6);
}

// Issue 17, item 1: with the default radio (RLC AM on the SL-SRBs, TS 38.331 9.1.1.4) at 30 %
// loss, at least 90 % of the pairs of solution A come up on every path. Counts, not time.
TEST(BadRadio, ThirtyPercentLossWithRlcAmEstablishesNinetyPercent) {
    for (auto path : {pc5::Path::direct, pc5::Path::l3, pc5::Path::l2}) {
        const auto [ok, all] = sweep(pc5::Solution::a, path, 0.3, true, 3);
        EXPECT_GE(ok * 10, all * 9) << pc5::name(path) << ": " << ok << " of " << all;
    }
}

// Without link-layer retransmission only the protocol's own timers help: the fractions stay
// near the bound of docs/scenarios.md ("Link-layer retransmission": direct 83 %, layer 3
// 71 %, layer 2 23 %), and every failed pair failed with a cause (the Lossy test).
TEST(BadRadio, ThirtyPercentLossWithoutRlcAmStaysNearTheBound) {
    const auto direct = sweep(pc5::Solution::a, pc5::Path::direct, 0.3, false, 3);
    const auto l3 = sweep(pc5::Solution::a, pc5::Path::l3, 0.3, false, 3);
    const auto l2 = sweep(pc5::Solution::a, pc5::Path::l2, 0.3, false, 3);
    EXPECT_GE(direct.first * 100, direct.second * 73) << direct.first;
    EXPECT_GE(l3.first * 100, l3.second * 61) << l3.first;
    EXPECT_GE(l2.first * 100, l2.second * 13) << l2.first;
}

// RLC AM retransmits SL-SRB frames on the medium (counted), never data (RLC UM); with rlc_am
// off nothing is retransmitted by the link layer.
TEST(BadRadio, LinkLayerRetransmissionIsCountedAndCanBeSwitchedOff) {
    auto s = builtin("a-l3").value();
    s.medium.loss = 0.3;
    s.expect = {};
    auto j = json::parse(run(s).value().json);
    EXPECT_GT(j["medium"]["link_retransmissions"].get<int>(), 0);
    s.medium.rlc_am = false;
    j = json::parse(run(s).value().json);
    EXPECT_EQ(j["medium"]["link_retransmissions"].get<int>(), 0);
    s.medium.loss = 0;
    s.medium.rlc_am = true;
    j = json::parse(run(s).value().json);
    EXPECT_EQ(j["medium"]["link_retransmissions"].get<int>(), 0);
}

// Issue 17, item 2: KNRP reuse with 30 % duplication made the two ends bounce SECURITY MODE
// COMPLETE and ESTABLISHMENT ACCEPT for ever (51,956 frames in 120 s). An answer is never
// answered now, and the simulator checks link::establishment_frame_bound on every run.
TEST(NoLivelock, ReuseWithDuplicationStaysWithinTheFrameBound) {
    for (const char* base : {"a-l3-reuse", "a-l3", "a-l2", "a-direct"}) {
        for (std::uint64_t seed = 1; seed <= 8; ++seed) {
            auto s = builtin(base).value();
            s.seed = seed;
            s.reuse = true;
            s.medium.duplicate = 0.3;
            s.medium.reorder = 0.1;
            s.duration_s = 120;
            const auto r = run(s).value();
            const auto j = json::parse(r.json);
            SCOPED_TRACE(fmt::format("{} seed {}", base, seed));
            EXPECT_TRUE(r.expectations_met) << j["expectations"].dump();
            const auto& f = j["establishment"]["frames_per_link"];
            EXPECT_LE(f["max"].get<int>(), f["bound"].get<int>());
            EXPECT_LT(j["medium"]["frames"].get<int>(), 400);
        }
    }
}

TEST(Reproducible, SameSeedSameJsonOtherSeedOtherKeys) {
    for (const char* name : {"a-l2", "b-hardened", "a-l3-lossy", "attack-revoked"}) {
        const auto x = run_builtin(name), y = run_builtin(name);
        EXPECT_EQ(x.json, y.json) << name;
        EXPECT_EQ(x.pcap, y.pcap) << name;
        EXPECT_EQ(x.keylog, y.keylog) << name;
    }
    EXPECT_NE(run_builtin("a-l3", 1).keylog, run_builtin("a-l3", 2).keylog);
}

// Without the receiver's CRC (crc = false) flipped frames reach the engines: they are dropped,
// never delivered as data.
TEST(Corruption, CorruptedFramesAreDroppedNeverDelivered) {
    auto s = builtin("a-l2").value();
    s.medium.corrupt = 0.3;
    s.medium.crc = false;
    s.duration_s = 300;
    s.expect = {};
    const auto j = json::parse(run(s).value().json);
    EXPECT_GT(j["medium"]["corrupted"].get<int>(), 0);
    EXPECT_EQ(j["medium"]["crc_discarded"].get<int>(), 0);
    EXPECT_EQ(j["data"]["delivered_garbled"].get<int>(), 0);
}

// With the CRC (the default), a flipped transmission is discarded by its receiver: no engine
// sees it, RLC AM sends the signalling again, and every pair comes up at 30 % corruption with
// 30 % loss, duplication and reordering through a layer-2 relay, for either solution.
TEST(Corruption, TheReceiversCrcTurnsCorruptionIntoRetransmittedLoss) {
    for (const char* solution : {"A", "B-hardened"}) {
        SCOPED_TRACE(solution);
        const std::string text = std::string("name = \"t\"\nsolution = \"") + solution +
                                 "\"\npath = \"l2\"\nduration_s = 600\n[scale]\npairs = 10\n"
                                 "relays = 1\n[medium]\nloss = 0.3\nduplicate = 0.3\nreorder = "
                                 "0.3\ncorrupt = 0.3\n";
        auto parsed = parse_scenario(text, "t.toml");
        ASSERT_TRUE(parsed) << parsed.error().describe();
        const auto j = json::parse(run(*parsed).value().json);
        EXPECT_EQ(j["medium"]["corrupted"].get<int>(), 0);
        EXPECT_GT(j["medium"]["crc_discarded"].get<int>(), 0);
        EXPECT_EQ(j["establishment"]["established"].get<int>(), 10) << j["establishment"].dump();
    }
}

// The capture holds the air (frame header version 2): SL-SRB0 in clear as it was sent, every
// protected PC5-S and data PDU as on the air with its DIRECTION in the header, and no plaintext
// that no radio carried. The key log alone opens the data (NEA2/NIA2 through the crypto API,
// COUNT = SN as no HFN wrapped yet) and, through trace::decipher_capture, every protected PDU.
TEST(Capture, DataDecipheredWithTheKeyLogAlone) {
    const auto r = run_builtin("a-direct");
    const auto frames = pcap::parse(r.pcap).value();
    const auto keys = pc5::parse_key_log(r.keylog).value();
    std::map<std::string, std::map<std::string, std::string>> by_link;
    for (const auto& k : keys)
        if (!k.link_id.starts_with("rsc-"))  // the discovery material (pc5sec/discovery.hpp)
            by_link[k.link_id][k.label] = k.value;
    ASSERT_EQ(by_link.size(), 1u);
    const auto& k = by_link.begin()->second;
    const auto nrpek = from_hex(k.at("NRPEK")).value(), nrpik = from_hex(k.at("NRPIK")).value();
    auto cipher = CipheringContext::create(CipheringAlgorithm::nea2, nrpek).value();
    auto integ = IntegrityContext::create(IntegrityAlgorithm::nia2, nrpik).value();
    int signalling = 0, protected_pc5s = 0, opened = 0;
    for (const auto& f : frames) {
        EXPECT_EQ(f.header.version, 2);
        if (!(f.header.flags & pcap::kFlagOnAir)) {
            EXPECT_EQ(f.header.lcid, pc5::lcid::kSrb0);  // only SL-SRB0 travels in clear
            ++signalling;
            continue;
        }
        EXPECT_LE(f.header.direction, 1);  // each UE knew its link: DIRECTION in the header
        if (f.header.lcid == pc5::lcid::kSrb1 || f.header.lcid == pc5::lcid::kSrb2) {
            ++protected_pc5s;
            continue;
        }
        ASSERT_EQ(f.header.lcid, 4);
        EXPECT_EQ(f.header.direction, 0);
        const auto h = userplane::parse_header(f.message).value();
        std::vector<std::uint8_t> body(f.message.begin() + userplane::kHeaderSize, f.message.end());
        const SecurityInput in{h.sn, 4, 0};  // sent by alice, the initiator: DIRECTION 0
        std::vector<std::uint8_t> plain(body.size());
        ASSERT_TRUE(cipher.apply(in, body, plain, body.size() * 8));
        std::vector<std::uint8_t> mac_input(f.message.begin(),
                                            f.message.begin() + userplane::kHeaderSize);
        mac_input.insert(mac_input.end(), plain.begin(), plain.end() - 4);
        const MacI mac{plain[plain.size() - 4], plain[plain.size() - 3], plain[plain.size() - 2],
                       plain.back()};
        EXPECT_TRUE(integ.verify(in, mac_input, mac_input.size() * 8, mac));
        EXPECT_EQ(std::string(plain.begin(), plain.begin() + 21), "pc5sec data alice -> ");
        ++opened;
    }
    EXPECT_GE(signalling, 2);      // the request and the authentication exchange
    EXPECT_GE(protected_pc5s, 3);  // security mode command, complete, accept
    EXPECT_EQ(opened, 20);
    // Every protected PDU opens with the key log alone, under the header's DIRECTION.
    const auto deciphered = trace::decipher_capture(frames, keys).value();
    for (const auto& d : deciphered) {
        if (d.kind != trace::PduKind::pc5s && d.kind != trace::PduKind::data) continue;
        ASSERT_EQ(d.verdict, trace::Verdict::opened) << d.index;
        EXPECT_EQ(d.direction_from, trace::DirectionFrom::header) << d.index;
        EXPECT_EQ(d.openings.at(0).mac, trace::MacCheck::ok) << d.index;
    }
    ASSERT_EQ(r.diagrams.size(), 1u);
    EXPECT_TRUE(r.diagrams[0].second.starts_with("<?xml"));
    EXPECT_NE(r.diagrams[0].second.find("ESTABLISHMENT REQUEST"), std::string::npos);
}

// Solution B through a layer-3 relay: with the key log alone, each hop's PDU opens to an IPv6
// packet whose end-to-end PDU opens under the link's keys from KD; the relay's key log lines are
// the hops' only (docs/solution-b.md "The layer-3 path").
TEST(Capture, SolutionBLayer3OpensHopThenEndToEndWithTheKeyLog) {
    const auto r = run_builtin("b-hardened-l3");
    ASSERT_TRUE(r.expectations_met) << r.summary;
    const auto frames = pcap::parse(r.pcap).value();
    const auto keys = pc5::parse_key_log(r.keylog).value();
    const auto d = trace::decipher_capture(frames, keys).value();
    int carried = 0;
    std::set<std::string> hop_links;
    for (const auto& f : d) {
        if (f.kind != trace::PduKind::data) continue;
        ASSERT_EQ(f.verdict, trace::Verdict::opened);
        hop_links.insert(f.openings.at(0).link_id);
        ASSERT_EQ(f.carried.size(), 1u);
        const auto& in = f.carried[0];
        ASSERT_EQ(in.verdict, trace::Verdict::opened);
        EXPECT_EQ(in.openings.at(0).mac, trace::MacCheck::ok);
        EXPECT_EQ(in.openings.at(0).link_id.rfind("alice>bob#", 0), 0u);
        const auto& p = in.openings.at(0).payload;
        EXPECT_EQ(std::string(p.begin(), p.begin() + 24), "pc5sec data alice -> bob");
        ++carried;
    }
    EXPECT_EQ(carried, 40);  // 20 PDUs, each on both hops
    EXPECT_EQ(hop_links.size(), 2u);
    for (const auto& id : hop_links)
        EXPECT_TRUE(id.rfind("alice>relay-1#", 0) == 0 || id.rfind("relay-1>bob#", 0) == 0) << id;
}

TEST(Scale, GeneratedPopulation) {
    auto s = parse_scenario(
                 "name = \"x\"\nsolution = \"A\"\npath = \"l3\"\n[scale]\npairs = 30\n"
                 "relays = 4\n[traffic]\npdus = 1\n",
                 "x.toml")
                 .value();
    EXPECT_EQ(s.ues.size(), 64u);
    EXPECT_EQ(s.connects.size(), 30u);
    const auto r = run(s).value();
    const auto j = json::parse(r.json);
    EXPECT_EQ(j["establishment"]["established"], 30);
    EXPECT_EQ(j["data"]["delivered"], 30);
    EXPECT_EQ(r.diagrams.size(), 16u);  // the first 16 establishments
}

struct Bad {
    const char* toml;
    const char* field;
};

class BadScenario : public ::testing::TestWithParam<Bad> {};

TEST_P(BadScenario, NamesTheKey) {
    const std::string ues =
        "[[ue]]\nname = \"alice\"\n[[ue]]\nname = \"bob\"\n[[ue]]\nname = \"r\"\nrelay = true\n";
    auto r = parse_scenario("name = \"t\"\n" + std::string(GetParam().toml) + "\n" + ues, "t.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, std::string("t.toml: ") + GetParam().field) << r.error().describe();
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadScenario,
    ::testing::Values(
        Bad{"colour = 1\n[[connect]]\nsource=\"alice\"\ntarget=\"bob\"\nrelay=\"r\"\n", "colour"},
        Bad{"solution = \"C\"\n", "solution"}, Bad{"[medium]\nloss = 1.5\n", "medium.loss"},
        Bad{"[medium]\nloss = 1\n", "medium.loss"},
        Bad{"[medium]\ndelay_ms = -1\n", "medium.delay_ms"},
        Bad{"[medium]\nwind = 3\n", "medium.wind"}, Bad{"[medium]\nrlc_am = 1\n", "medium.rlc_am"},
        Bad{"[medium]\nmax_retx_threshold = 33\n", "medium.max_retx_threshold"},
        Bad{"[medium]\nmax_retx_threshold = -1\n", "medium.max_retx_threshold"},
        Bad{"[medium]\nstatus_delay_ms = 10001\n", "medium.status_delay_ms"},
        Bad{"[medium]\nstatus_delay_ms = inf\n", "medium.status_delay_ms"},
        Bad{"[traffic]\nbearer = 2\n", "traffic.bearer"},
        Bad{"privacy_timer_s = -1\n", "privacy_timer_s"},
        Bad{"solution = \"B-hardened\"\nprivacy_timer_s = 86401\n", "privacy_timer_s"},
        Bad{"[traffic]\nsize = 9001\n", "traffic.size"}, Bad{"attack = \"laser\"\n", "attack"},
        // Through a layer-3 relay (the default path) IPv6 and UDP take 48 of the SDU's 9000.
        Bad{"[traffic]\nsize = 8953\n[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\nrelay = "
            "\"r\"\n",
            "traffic.size"},
        // Solution B through a layer-3 relay: also the end-to-end PDU's header and MAC-I.
        Bad{"solution = \"B-hardened\"\npath = \"l3\"\n[traffic]\nsize = 8944\n[[connect]]\nsource "
            "= "
            "\"alice\"\ntarget = \"bob\"\nrelay = \"r\"\n",
            "traffic.size"},
        Bad{"[[connect]]\nsource = \"carol\"\ntarget = \"bob\"\nrelay = \"r\"\n",
            "connect[0].source"},
        Bad{"[[connect]]\nsource = \"alice\"\ntarget = \"r\"\nrelay = \"r\"\n",
            "connect[0].target"},
        Bad{"[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\nrelay = \"bob\"\n",
            "connect[0].relay"},
        Bad{"path = \"direct\"\nsolution = \"B-hardened\"\n[[connect]]\nsource = "
            "\"alice\"\ntarget = \"bob\"\n",
            "path"},
        Bad{"[expect.drops_min]\nbad_mac = 1\n", "expect.drops_min.bad_mac"},
        Bad{"seed = \"one\"\n", "seed"}, Bad{"rsc = 0x1000000\n", "rsc"}, Bad{"", "connect"},
        // Limits (docs/scenarios.md, "Limits"): finite times, bounded delays and counts.
        Bad{"[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\nrelay = \"r\"\nat_ms = inf\n",
            "connect[0].at_ms"},
        Bad{"[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\nrelay = \"r\"\nat_ms = nan\n",
            "connect[0].at_ms"},
        Bad{"[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\nrelay = \"r\"\nat_ms = 1e12\n",
            "connect[0].at_ms"},
        Bad{"[medium]\ndelay_ms = inf\n", "medium.delay_ms"},
        Bad{"[medium]\ndelay_ms = 1e9\n", "medium.delay_ms"},
        Bad{"[medium]\ndelay_ms = 10001\n", "medium.delay_ms"},
        Bad{"[medium]\njitter_ms = 20000\n", "medium.jitter_ms"},
        Bad{"[traffic]\ninterval_ms = inf\n", "traffic.interval_ms"},
        Bad{"[traffic]\npdus = 20000000\n", "traffic.pdus"},
        Bad{"[traffic]\npdus = 100001\n", "traffic.pdus"},
        Bad{"[traffic]\npdus = 100000\n[scale]\npairs = 21\nrelays = 1\n", "traffic.pdus"},
        Bad{"[scale]\npairs = 3\nrelays = 5555551\n", "scale.relays"},
        Bad{"duration_s = inf\n", "duration_s"},
        Bad{"[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\nrelay = "
            "\"r\"\n[[attacker]]\naction "
            "= \"delay\"\ndelay_ms = inf\n[attacker.match]\nmessage = "
            "\"establishment_request\"\n",
            "attacker[0].delay_ms"}));

// A UE name is a user info ID in a documented character set (docs/scenarios.md, "Limits"): it
// goes into link ids ("a>b#1"), key-log lines (space-separated) and file names.
TEST(BadScenarioUe, NamesOutsideTheCharacterSetAreRefused) {
    for (const std::string& name : std::vector<std::string>{
             "a>b", "a b", "", std::string(65, 'a'), "a/b", "a\\u001b[2J", "alice\\n", "ali#ce"}) {
        auto r = parse_scenario("[[ue]]\nname = \"" + name + "\"\n", "t");
        ASSERT_FALSE(r) << name;
        EXPECT_EQ(r.error().field, "t: ue[0].name") << name;
        for (char c : r.error().message)
            EXPECT_GE(static_cast<unsigned char>(c), 0x20) << r.error().message;
    }
    for (const std::string& name :
         std::vector<std::string>{"relay-1", "src_2", "bob.example", std::string(64, 'z')})
        EXPECT_NE(parse_scenario("[[ue]]\nname = \"" + name + "\"\n", "t").error().field,
                  "t: ue[0].name")
            << name;
}

// A corrupted user info ID that lands in a failure reason: the report is still written, its JSON
// valid UTF-8 with the stray octets as \xNN text, its table free of control octets.
TEST(HostileStrings, ACorruptedUserInfoIdGivesValidJsonAndACleanTable) {
    const std::string text =
        "name = \"t\"\npath = \"l3\"\n[[ue]]\nname = \"alice\"\n[[ue]]\nname = \"bob\"\n"
        "[[ue]]\nname = \"r\"\nrelay = true\n[[connect]]\nsource = \"alice\"\ntarget = "
        "\"bob\"\nrelay = \"r\"\n[[attacker]]\naction = \"modify\"\n[attacker.match]\nmessage "
        "= \"establishment_request\"\nfrom = \"alice\"\nto = \"r\"\n[attacker.modify]\nset = { "
        "source_user_info = \"0xff0a1b5b324a626f62\" }\n";
    auto s = parse_scenario(text, "t.toml");
    ASSERT_TRUE(s) << s.error().describe();
    auto r = run(*s, {});
    ASSERT_TRUE(r) << r.error().describe();
    json j;
    ASSERT_NO_THROW(j = json::parse(r->json)) << r->json;
    EXPECT_NE(r->json.find("\\\\xff"), std::string::npos) << r->json;
    for (char c : r->summary)
        EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << r->summary;
    for (const auto& [name, svg] : r->diagrams)
        EXPECT_EQ(svg.find('\xff'), std::string::npos) << name;
}

// The largest data each path carries: 8952 octets in IPv6/UDP through a layer-3 relay, a whole
// 9000-octet SDU otherwise; both arrive.
TEST(Traffic, LargestSizeOfEachPathArrives) {
    for (const auto& [solution, path, size] :
         {std::tuple{"A", "l3", "8952"}, std::tuple{"A", "l2", "9000"},
          std::tuple{"B-hardened", "l2", "9000"}, std::tuple{"B-hardened", "l3", "8943"}}) {
        SCOPED_TRACE(std::string(solution) + " " + path);
        const std::string text = std::string("name = \"t\"\nsolution = \"") + solution +
                                 "\"\npath = \"" + path +
                                 "\"\n[traffic]\npdus = 3\nsize = " + size +
                                 "\n[[ue]]\nname = \"alice\"\n[[ue]]\nname = \"bob\"\n[[ue]]\n"
                                 "name = \"r\"\nrelay = true\n[[connect]]\nsource = \"alice\"\n"
                                 "target = \"bob\"\nrelay = \"r\"\n[expect]\ndelivered_min = 3\n";
        auto parsed = parse_scenario(text, "t.toml");
        ASSERT_TRUE(parsed) << parsed.error().describe();
        auto r = run(*parsed, {});
        ASSERT_TRUE(r) << r.error().describe();
        EXPECT_TRUE(r->expectations_met) << path << ": " << r->summary;
    }
}

TEST(BadScenarioSyntax, NamesTheLine) {
    auto r = parse_scenario("name = \"t\"\nsolution = \n", "t.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::malformed);
    EXPECT_EQ(r.error().field.rfind("t.toml:2:", 0), 0u) << r.error().field;
    EXPECT_FALSE(builtin("no-such-scenario"));
}

TEST(BadScenarioUe, DuplicateNameAndL2Id) {
    EXPECT_EQ(parse_scenario("[[ue]]\nname=\"a\"\n[[ue]]\nname=\"a\"\n", "t").error().field,
              "t: ue[1].name");
    EXPECT_EQ(
        parse_scenario("[[ue]]\nname=\"a\"\nl2=5\n[[ue]]\nname=\"b\"\nl2=5\n", "t").error().field,
        "t: ue[1].l2");
    EXPECT_EQ(parse_scenario("[[ue]]\nname=\"a\"\nintegrity=\"maybe\"\n", "t").error().field,
              "t: ue[0].integrity");
    EXPECT_EQ(parse_scenario("[[ue]]\nname=\"a\"\ncredentials=\"stolen\"\n", "t").error().field,
              "t: ue[0].credentials");
}

// Request privacy (docs/discovery.md): a target authorised for another RSC holds no material for
// the relay's: it cannot read the concealed request, counts it not-for-us and refuses it with #11
// (KI#3), as it would a request in clear for that RSC. In both solutions, on either relay.
class NoMaterialForTheRsc : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(NoMaterialForTheRsc, TheTargetRefusesWithRequiredServiceNotAllowed) {
    const auto [solution, path] = GetParam();
    auto s = parse_scenario(fmt::format("name = \"t\"\nsolution = \"{}\"\npath = \"{}\"\n"
                                        "[[ue]]\nname = \"alice\"\n"
                                        "[[ue]]\nname = \"bob\"\nrscs = [0x00B002]\n"
                                        "[[ue]]\nname = \"relay-1\"\nrelay = true\n"
                                        "[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\n"
                                        "relay = \"relay-1\"\n",
                                        solution, path),
                            "t.toml")
                 .value();
    const auto r = run(s).value();
    const auto j = json::parse(r.json);
    EXPECT_EQ(j["establishment"]["established"], 0);
    ASSERT_FALSE(j["links"].empty());
    for (const auto& l : j["links"])
        EXPECT_EQ(l["cause"], 11) << l.dump();
    EXPECT_GE(j["signalling_drops"].value("not-for-us", 0), 1) << j["signalling_drops"].dump();
}

INSTANTIATE_TEST_SUITE_P(All, NoMaterialForTheRsc,
                         ::testing::Values(std::pair{"A", "l3"}, std::pair{"A", "l2"},
                                           std::pair{"B-hardened", "l3"},
                                           std::pair{"B-literal", "l2"}));

}  // namespace
}  // namespace pc5sec::sim
