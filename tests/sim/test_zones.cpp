// Zones that run apart (docs/scale.md): the report, capture, key log and diagrams are the same
// octets on 1, 2 or 5 threads and over 2 or 3 ranks; the capture stays in time order; a scenario
// whose zones cannot run apart is refused more than one thread, saying why; a rank's tally
// that arrives damaged is refused, never half-read.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "pc5sec/pcap.hpp"
#include "pc5sec/sim.hpp"
#include "sim/tally.hpp"

namespace pc5sec::sim {
namespace {

using nlohmann::json;

Scenario zoned(const std::string& solution, const std::string& path, int pairs, int relays,
               int zone_relays, double loss = 0.05) {
    auto s = parse_scenario(fmt::format("name = \"zoned\"\nsolution = \"{}\"\npath = \"{}\"\n"
                                        "seed = 7\nduration_s = 30\n\n"
                                        "[scale]\npairs = {}\nrelays = {}\nzone_relays = {}\n\n"
                                        "[medium]\nloss = {}\nrlc_am = true\n\n"
                                        "[traffic]\npdus = 3\nsize = 60\n\n"
                                        "[expect]\nestablished = true\n",
                                        solution, path, pairs, relays, zone_relays, loss),
                            "zoned.toml");
    if (!s) throw std::runtime_error(s.error().describe());
    return std::move(*s);
}

Report run_ok(const Scenario& s, Options o) {
    auto r = run(s, o);
    if (!r) throw std::runtime_error(r.error().describe());
    return std::move(*r);
}

void expect_same(const Report& a, const Report& b, const std::string& what) {
    EXPECT_EQ(a.json, b.json) << what;
    EXPECT_EQ(a.pcap, b.pcap) << what;
    EXPECT_EQ(a.keylog, b.keylog) << what;
    EXPECT_EQ(a.diagrams, b.diagrams) << what;
    EXPECT_EQ(a.summary, b.summary) << what;
}

class Zoned : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(Zoned, SameOctetsWhateverTheThreads) {
    const auto s = zoned(GetParam().first, GetParam().second, 36, 12, 2);
    ASSERT_EQ(partition_refusal(s), "");
    Options o;
    o.diagrams = 4;
    o.threads = 1;
    const auto one = run_ok(s, o);
    EXPECT_TRUE(one.expectations_met) << one.summary;
    const auto j = json::parse(one.json);
    EXPECT_EQ(j["establishment"]["pairs"], 36);
    EXPECT_EQ(j["ues"], 72);
    EXPECT_EQ(j["relays"], 12);
    EXPECT_GT(j["medium"]["lost"].get<int>() + j["medium"]["link_retransmissions"].get<int>(), 0);
    // The pairs in [[connect]] order, and the diagrams of the scenario's first four.
    ASSERT_EQ(j["establishments"].size(), 36u);
    for (int i = 0; i < 36; ++i)
        EXPECT_EQ(j["establishments"][i]["source"], fmt::format("src-{}", i + 1));
    ASSERT_EQ(one.diagrams.size(), 4u);
    EXPECT_EQ(one.diagrams[0].first, "seq-01-src-1-dst-1.svg");
    EXPECT_EQ(one.diagrams[3].first, "seq-04-src-4-dst-4.svg");
    // The capture: every zone's frames, in time order.
    auto frames = pcap::parse(one.pcap);
    ASSERT_TRUE(frames) << frames.error().describe();
    EXPECT_EQ(frames->size(), j["medium"]["frames"].get<std::size_t>());
    for (std::size_t i = 1; i < frames->size(); ++i)
        ASSERT_LE((*frames)[i - 1].timestamp_us, (*frames)[i].timestamp_us) << "frame " << i;
    for (unsigned threads : {2u, 5u}) {
        o.threads = threads;
        expect_same(one, run_ok(s, o), fmt::format("{} threads", threads));
    }
}

INSTANTIATE_TEST_SUITE_P(Solutions, Zoned,
                         ::testing::Values(std::pair{"A", "l3"}, std::pair{"A", "l2"},
                                           std::pair{"B-hardened", "l2"},
                                           std::pair{"B-literal", "l3"}),
                         [](const auto& info) {
                             std::string n =
                                 std::string(info.param.first) + "_" + info.param.second;
                             for (auto& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

// MPI without MPI: rank r's octets go into a shared list, and rank 0 (run last) merges them.
Report run_ranks(const Scenario& s, unsigned ranks, std::vector<std::vector<std::uint8_t>>* parts) {
    std::vector<std::vector<std::uint8_t>> shares(ranks);
    Report zero;
    for (unsigned r = ranks; r-- > 0;) {
        Options o;
        o.rank = r;
        o.ranks = ranks;
        o.gather = [&, r](std::vector<std::uint8_t> mine) {
            shares[r] = std::move(mine);
            return r == 0 ? shares : std::vector<std::vector<std::uint8_t>>{};
        };
        auto rep = run_ok(s, o);
        if (r != 0) {
            EXPECT_TRUE(rep.json.empty()) << "rank " << r << " writes nothing";
        } else {
            zero = std::move(rep);
        }
    }
    if (parts) *parts = shares;
    return zero;
}

TEST(Ranks, MergeToWhatOneProcessWrites) {
    const auto s = zoned("A", "l3", 30, 10, 2);
    const auto one = run_ok(s, {});
    for (unsigned ranks : {2u, 3u})
        expect_same(one, run_ranks(s, ranks, nullptr), fmt::format("{} ranks", ranks));
}

TEST(Ranks, ADamagedShareIsRefusedNeverHalfRead) {
    const auto s = zoned("A", "l3", 8, 4, 2, 0);
    std::vector<std::vector<std::uint8_t>> parts;
    run_ranks(s, 2, &parts);
    const auto& share = parts[1];
    ASSERT_GT(share.size(), 100u);
    ASSERT_TRUE(Tally::deserialize(share));
    // fuzz/corpus/tally/ is made of these shares.
    if (const char* dir = std::getenv("PC5SEC_TALLY_CORPUS")) {
        std::ofstream(std::string(dir) + "/share-a-l3", std::ios::binary)
            .write(reinterpret_cast<const char*>(share.data()),
                   static_cast<std::streamsize>(share.size()));
        std::ofstream(std::string(dir) + "/share-a-l3-rank0", std::ios::binary)
            .write(reinterpret_cast<const char*>(parts[0].data()),
                   static_cast<std::streamsize>(parts[0].size()));
    }
    // Every cut short is refused; flipped octets give a tally or an error, never a crash.
    for (std::size_t n = 0; n < share.size(); n += 1 + n / 50)
        EXPECT_FALSE(Tally::deserialize(std::span(share).first(n))) << n << " octets";
    auto flipped = share;
    for (std::size_t i = 0; i < flipped.size(); i += 7) {
        flipped[i] ^= 0xFF;
        (void)Tally::deserialize(flipped);
        flipped[i] ^= 0xFF;
    }
    // A rank that sends nothing (it failed): rank 0 says which.
    Options o;
    o.ranks = 2;
    o.gather = [](std::vector<std::uint8_t> mine) {
        return std::vector<std::vector<std::uint8_t>>{std::move(mine), {}};
    };
    auto r = run(s, o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().describe().find("rank 1"), std::string::npos) << r.error().describe();
}

TEST(Zones, ProgressCountsZonesAndEndsAtOne) {
    const auto s = zoned("A", "l3", 20, 10, 1, 0);
    for (unsigned threads : {1u, 2u}) {
        std::vector<Progress> seen;
        Options o;
        o.threads = threads;
        o.progress = [&](const Progress& p) { seen.push_back(p); };
        run_ok(s, o);
        ASSERT_FALSE(seen.empty());
        EXPECT_EQ(seen.back().fraction, 1.0);
        EXPECT_EQ(seen.back().zones, 10u);
        EXPECT_EQ(seen.back().zones_done, 10u);
        EXPECT_EQ(seen.back().links, 40u);  // two hops per pair through a layer-3 relay
        for (std::size_t i = 1; i < seen.size(); ++i)
            EXPECT_LE(seen[i - 1].zones_done, seen[i].zones_done);
    }
}

TEST(Zones, WhatCannotRunApartIsRefusedMoreThanOneThread) {
    auto base = zoned("A", "l3", 8, 4, 1, 0);
    ASSERT_EQ(partition_refusal(base), "");
    struct Case {
        const char* why;
        std::function<void(Scenario&)> change;
    };
    const std::vector<Case> cases{
        {"one zone",
         [](Scenario& s) {
             for (auto& u : s.ues)
                 u.zone = 0;
         }},
        {"acts on the frames of every zone", [](Scenario& s) { s.attack = Attack::replay; }},
        {"[[attacker]] rules",
         [](Scenario& s) {
             AttackRule r;
             r.name = "drop-all";
             s.attacker.push_back(r);
         }},
        {"crosses zones 1 and 2", [](Scenario& s) { s.connects[0].relay = "relay-2"; }},
        {"expired credentials", [](Scenario& s) { s.ues[5].credentials = Credentials::expired; }},
    };
    for (const auto& c : cases) {
        Scenario s = base;
        c.change(s);
        const auto why = partition_refusal(s);
        EXPECT_NE(why.find(c.why), std::string::npos) << why;
        Options o;
        o.threads = 2;
        auto r = run(s, o);
        ASSERT_FALSE(r) << c.why;
        EXPECT_NE(r.error().describe().find(why), std::string::npos) << r.error().describe();
        EXPECT_NE(r.error().describe().find("docs/scale.md"), std::string::npos);
        o.threads = 1;
        o.ranks = 2;
        EXPECT_FALSE(run(s, o)) << c.why << ": ranks";
    }
    // One thread runs them all, as before.
    Scenario s = base;
    s.connects[0].relay = "relay-2";
    EXPECT_TRUE(run(s, {}));
}

TEST(Zones, EachZoneDrawsItsOwnKeys) {
    const auto r = run_ok(zoned("A", "l3", 4, 2, 1, 0), {});
    const auto j = json::parse(r.json);
    std::set<std::string> keys;
    for (const auto& l : j["links"])
        for (const auto& [end, labels] : l["fingerprints"].items())
            keys.insert(labels.value("NRPEK", ""));
    EXPECT_EQ(keys.size(), j["links"].size()) << "every link its own NRPEK";
}

}  // namespace
}  // namespace pc5sec::sim
