// Running a scenario (sim::run): as one world, or zone by zone (docs/scale.md).
//
// Broadcasts reach only a UE's zone. When no pair and no attacker rule crosses zones and every
// UE holds valid credentials of the one CA, each zone is a simulation of its own: it runs as its
// own World with a generator seeded from (seed, zone), and with the run's CA, trust store and
// group key, made once and shared read-only. Zones run on any number of threads, and across MPI
// ranks in contiguous blocks; their tallies merge in zone order (sim/tally.hpp), so the report is
// the same octet for octet however the zones were spread. Each zone's world is gone once it has
// run: memory holds the zones running and what the report keeps.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "pc5sec/rng.hpp"
#include "sim/seeded_openssl.hpp"
#include "sim/tally.hpp"
#include "sim/world.hpp"

namespace pc5sec::sim {

using namespace std::chrono_literals;

namespace {

// SplitMix64 (Steele, Lea, Flood 2014): one zone's seed from the scenario's and the zone.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
std::uint64_t zone_seed(std::uint64_t seed, std::uint32_t zone) {
    return mix(seed ^ mix(0x5a0e000000000000ull | zone));
}

const char* credentials_name(Credentials c) {
    switch (c) {
        case Credentials::valid:
            return "valid";
        case Credentials::expired:
            return "expired";
        case Credentials::revoked:
            return "revoked";
        case Credentials::foreign_ca:
            return "foreign-ca";
    }
    return "?";
}

// The UEs and pairs of one zone: indices into Scenario::ues and Scenario::connects.
struct Zone {
    std::uint32_t id = 0;
    std::vector<std::size_t> ues, pairs;
};

std::vector<Zone> zones_of(const Scenario& s) {
    std::map<std::uint32_t, Zone> by_id;
    std::unordered_map<std::string, std::uint32_t> zone_of;
    zone_of.reserve(s.ues.size());
    for (std::size_t i = 0; i < s.ues.size(); ++i) {
        auto& z = by_id[s.ues[i].zone];
        z.id = s.ues[i].zone;
        z.ues.push_back(i);
        zone_of[s.ues[i].name] = s.ues[i].zone;
    }
    for (std::size_t k = 0; k < s.connects.size(); ++k)
        by_id[zone_of.at(s.connects[k].source)].pairs.push_back(k);
    std::vector<Zone> out;
    out.reserve(by_id.size());
    for (auto& [id, z] : by_id)
        out.push_back(std::move(z));
    return out;
}

// The run's CA, trust store and group key, drawn from the scenario's seed; the discovery
// material of every RSC made now, so the zones only read the CA.
Result<SharedCa> shared_ca(const Scenario& s) {
    DeterministicRng rng(s.seed);
    SeededOpenSslRandom seeded(rng);
    SharedCa out;
    auto ca = make_ca(rng);
    if (!ca) return std::move(ca).error();
    out.pf = std::move(*ca);
    std::set<std::uint32_t> rscs{s.rsc};
    for (const auto& u : s.ues)
        rscs.insert(u.rscs.begin(), u.rscs.end());
    for (const auto rsc : rscs)
        (void)out.pf->discovery_material(rsc, kEpoch - 1h, rng);
    auto trust = creds::TrustStore::create(out.pf->ca_certificate());
    if (!trust) return std::move(trust).error();
    out.trust.emplace(std::move(*trust));
    rng.fill(out.group_key);
    return out;
}

// Runs `zones` (this rank's) on `threads` threads; their tallies merged in zone order.
Result<Tally> run_zones(const Scenario& s, const Options& options, const std::vector<Zone>& zones,
                        std::size_t all_zones, unsigned threads) {
    auto ca = shared_ca(s);
    if (!ca) return std::move(ca).error();
    Options zo = options;
    zo.progress = nullptr;
    if (s.processing.profile == "measured" && !s.processing.costs && !zo.measured_costs)
        zo.measured_costs = measure_costs();  // one measurement for every zone
    // Every zone's scenario is this one with its own UEs, pairs and seed.
    Scenario skeleton = s;
    skeleton.ues.clear();
    skeleton.connects.clear();

    // Each zone's tally is kept as its octets until the merge: a few contiguous buffers instead
    // of every link record's small allocations spread between the next zones' (a heap of a
    // million of those slowed every later zone's allocations).
    std::vector<std::optional<Result<std::vector<std::uint8_t>>>> results(zones.size());
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    std::condition_variable done_cv;
    std::size_t done = 0;
    Progress progress;
    progress.zones = all_zones;
    std::size_t pairs_done = 0, all_pairs = s.connects.size();
    const auto report = [&](std::unique_lock<std::mutex>& lock) {
        progress.zones_done = done;
        progress.fraction =
            all_pairs ? static_cast<double>(pairs_done) / static_cast<double>(all_pairs) : 1;
        const Progress copy = progress;
        lock.unlock();
        options.progress(copy);
        lock.lock();
    };
    // `reporter`: the caller's own thread, which may call Options::progress.
    const auto worker = [&](bool reporter) {
        for (;;) {
            const std::size_t k = next.fetch_add(1);
            if (k >= zones.size()) return;
            const Zone& z = zones[k];
            Scenario sub = skeleton;
            sub.seed = zone_seed(s.seed, z.id);
            for (auto i : z.ues)
                sub.ues.push_back(s.ues[i]);
            for (auto i : z.pairs)
                sub.connects.push_back(s.connects[i]);
            Result<Tally> r = [&]() -> Result<Tally> {
                World w(sub, zo, &*ca, z.pairs);
                SeededOpenSslRandom seeded(w.rng);  // this thread's OpenSSL draws
                PC5SEC_TRY(w.setup());
                w.run();
                return w.tally();
            }();
            std::unique_lock lock(mutex);
            if (r) {
                progress.events += r->events;
                progress.links += r->links.size();
                progress.virtual_s = std::max(progress.virtual_s,
                                              std::chrono::duration<double>(r->end_time).count());
            }
            pairs_done += z.pairs.size();
            if (r)
                results[k].emplace(r->serialize());
            else
                results[k].emplace(std::move(r).error());
            ++done;
            if (reporter && options.progress) report(lock);
            done_cv.notify_one();
        }
    };
    const unsigned n =
        std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(zones.size())));
    if (n == 1) {
        worker(true);
    } else {
        std::vector<std::jthread> pool;
        for (unsigned i = 0; i < n; ++i)
            pool.emplace_back(worker, false);
        if (options.progress) {  // this thread reports while the pool runs the zones
            std::unique_lock lock(mutex);
            while (done < zones.size()) {
                done_cv.wait_for(lock, 500ms);
                report(lock);
            }
        }
    }  // the pool joins
    Tally all;
    for (auto& r : results) {
        if (!*r) return std::move(*r).error();
        auto t = Tally::deserialize(**r);
        r.reset();
        if (!t) return std::move(t).error();
        all.merge(std::move(*t));
    }
    return all;
}

}  // namespace

std::string partition_refusal(const Scenario& s) {
    std::set<std::uint32_t> ids;
    std::unordered_map<std::string, std::uint32_t> zone_of;
    for (const auto& u : s.ues) {
        ids.insert(u.zone);
        zone_of[u.name] = u.zone;
        if (u.credentials != Credentials::valid)
            return fmt::format(
                "UE {} holds {} credentials: its CA or revocation list is not the one every "
                "zone shares",
                u.name, credentials_name(u.credentials));
    }
    if (ids.size() < 2) return "it has one zone";
    if (s.attack != Attack::none)
        return fmt::format("its attack ({}) acts on the frames of every zone", name(s.attack));
    if (!s.attacker.empty()) return "its [[attacker]] rules act on the frames of every zone";
    for (const auto& c : s.connects) {
        const auto z = zone_of.find(c.source);
        for (const std::string* other : {&c.target, &c.relay}) {
            if (other->empty() || *other == "auto") continue;
            const auto o = zone_of.find(*other);
            if (z != zone_of.end() && o != zone_of.end() && o->second != z->second)
                return fmt::format("the pair {} > {} crosses zones {} and {}", c.source, c.target,
                                   z->second, o->second);
        }
    }
    return {};
}

Result<Report> run(const Scenario& scenario, const Options& options) {
    Scenario s = scenario;
    expand_scale(s);  // no-op unless [scale] was set and not yet expanded
    // Layer-2 IDs for the UEs without one, in the scenario's order: the same whether the zones
    // run apart or together.
    pc5::L2Id next = 0x200000;
    for (auto& u : s.ues)
        if (!u.l2) u.l2 = next++;
    std::string refusal = partition_refusal(s);
    if (refusal.empty() && options.export_long_term_keys)
        refusal = "its UEs' long-term keys are handed out with the report";
    const unsigned threads =
        options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    if (!refusal.empty()) {
        if (threads > 1 || options.ranks > 1)
            return make_error(Errc::invalid_argument, options.ranks > 1 ? "ranks" : "threads",
                              fmt::format("scenario {} runs on one thread only: {} (docs/scale.md)",
                                          s.name, refusal));
        World w(s, options);
        SeededOpenSslRandom seeded(w.rng);
        PC5SEC_TRY(w.setup());
        w.run();
        return make_report(s, options, w.tally());
    }
    const auto zones = zones_of(s);
    // This rank's zones: a contiguous block, so that the ranks' tallies merge in zone order.
    const std::size_t ranks = std::max(1u, options.ranks), rank = options.rank;
    const std::size_t from = zones.size() * rank / ranks, to = zones.size() * (rank + 1) / ranks;
    const std::vector<Zone> mine(zones.begin() + static_cast<std::ptrdiff_t>(from),
                                 zones.begin() + static_cast<std::ptrdiff_t>(to));
    auto tally = run_zones(s, options, mine, zones.size(), threads);
    if (ranks > 1) {
        if (!options.gather)
            return make_error(Errc::invalid_argument, "ranks", "several ranks need a gather");
        std::vector<std::uint8_t> octets;
        if (tally) octets = tally->serialize();  // an empty share: this rank failed
        auto parts = options.gather(std::move(octets));
        if (rank != 0) return tally ? Report{} : Result<Report>(std::move(tally).error());
        if (!tally) return std::move(tally).error();
        Tally all;
        for (std::size_t r = 0; r < parts.size(); ++r) {
            if (r == 0) {
                all = std::move(*tally);
                continue;
            }
            auto t = Tally::deserialize(parts[r]);
            if (!t)
                return make_error(Errc::malformed, "ranks",
                                  fmt::format("rank {}: {}", r, t.error().describe()));
            all.merge(std::move(*t));
        }
        tally = std::move(all);
    }
    if (!tally) return std::move(tally).error();
    std::stable_sort(tally->pairs.begin(), tally->pairs.end(),
                     [](const auto& a, const auto& b) { return a.index < b.index; });
    if (options.progress) {
        Progress p;
        p.fraction = 1;
        p.events = tally->events;
        p.links = tally->links.size();
        p.zones_done = p.zones = zones.size();
        p.virtual_s = std::chrono::duration<double>(tally->end_time).count();
        options.progress(p);
    }
    return make_report(s, options, *tally);
}

}  // namespace pc5sec::sim
