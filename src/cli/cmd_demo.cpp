// `pc5sec demo`: what a new user runs first. It provisions credentials (step 0 of both seeds),
// then runs the main built-in scenarios in the simulator: solution A through a layer-3 and a
// layer-2 relay, solution B hardened through a relay, in and out of coverage, and attacks; each
// sends protected data. It prints one table comparing them and writes, under --out (default
// ./pc5sec-out): capture.pcap, keylog.txt and metrics.json of all scenarios, one SVG sequence
// diagram per establishment, and a folder per scenario with its own files.
#include <filesystem>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/sim_output.hpp"
#include "evaluation/evaluation.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::cli {
namespace {

using namespace std::chrono_literals;

constexpr const char* kScenarios[] = {
    "a-l3",
    "a-l2",
    "b-hardened",
    "a-l3-ooc",
    "b-hardened-ooc",
    "attack-tamper-mac",
    "attack-revoked",
    "attack-tampering-relay-b-hardened",
    "attack-foreign-ca-b-literal",
    "attack-tamper-data",
};

// Step 0 for real: a CA and bundles that `pc5sec ue --bundle` and `pc5sec creds` take.
void provision(const std::filesystem::path& dir, Rng& rng) {
    const auto now = creds::Clock::now();
    auto pf = take(creds::ProvisioningFunction::create(now - 1h, 24h * 365, "pc5sec demo CA", rng));
    take(pf.save(dir / "ca"));
    for (const auto& [name, relay] :
         {std::pair{"alice", false}, {"relay-1", true}, {"bob", false}}) {
        creds::UeProfile p;
        p.user_info_id = name;
        p.authorisation = {{relay ? creds::Role::u2u_relay : creds::Role::end_ue}, {0x00A001}};
        auto c = take(pf.issue(p, now - 1h, 24h * 30, rng));
        take(pf.write_bundle(dir / name, c, p.policy));
    }
}

void run_demo(const std::string& out, std::uint64_t seed) {
    std::unique_ptr<Rng> owned;
    Rng* rng = &system_rng();
    if (seed) {
        owned = std::make_unique<DeterministicRng>(seed);
        rng = owned.get();
    }
    fmt::print(
        "pc5sec demo: UE-to-UE relay PC5 link security, the two TR 33.740 KI#2 proposals\n"
        "  solution A (seed 000): TS 33.536 unicast security per hop (layer 3) or end to "
        "end (layer 2)\n"
        "  solution B (seed 001): signatures that the relay verifies and re-signs, KD by "
        "Diffie-Hellman\n\n");
    const std::filesystem::path dir(out);
    fmt::print(
        "[1] Step 0, provisioning: a root CA and credentials for alice, relay-1 and bob\n"
        "    written to {}/credentials/ (use them with `pc5sec ue --bundle`)\n",
        out);
    provision(dir / "credentials", *rng);

    fmt::print(
        "[2] The scenarios, in the simulator (virtual time, 2 ms radio delay), each with "
        "20 protected data PDUs:\n\n");
    const std::string head = fmt::format(
        "  {:<34} {:<10} {:<6} {:<5} {:<9} {:<7} {:>6} {:>7} {:>11} {:>9} {:>11} {:<9}  {}\n",
        "scenario", "solution", "path", "cov.", "links", "causes", "frames", "bytes", "sign/ver/dh",
        "latency", "data s/d/x", "stopped?", "expected?");
    std::cout << head;
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    pcap::PcapWriter merged;
    std::string keylog = "# pc5sec key log (docs/keylog.md): these lines are secret keys\n";
    std::size_t svgs = 0, unmet = 0, index = 0;
    for (const char* name : kScenarios) {
        auto s = take(sim::builtin(name));
        if (seed) s.seed = seed;
        std::string stats;
        const auto r = run_with_progress(s, {}, stats);
        write_report((dir / name).string(), r);
        const auto j = nlohmann::json::parse(r.json);
        std::set<unsigned> causes;
        for (const auto& l : j["links"])
            if (l["state"] == "failed") causes.insert(l["cause"].get<unsigned>());
        std::string cause_text;
        for (auto c : causes)
            cause_text += (cause_text.empty() ? "#" : ",#") + std::to_string(c);
        const auto& c = j["crypto"];
        const auto& d = j["data"];
        const bool ooc =
            std::string(name).find("ooc") != std::string::npos || s.attack == sim::Attack::expired;
        // Whether the attack was stopped, as the evaluation's attack matrix says it.
        std::string stopped = "-";
        if (s.attack != sim::Attack::none || !s.attacker.empty()) {
            const auto o = evaluation::judge_attack(r.json);
            stopped = o.stopped ? "yes" : o.undetected ? "NO" : "n/a";
        }
        // Every frame on the air, once, whoever sent it (docs/metrics.md "air").
        std::cout << fmt::format(
            "  {:<34} {:<10} {:<6} {:<5} {:<9} {:<7} {:>6} {:>7} {:>11} {:>7.1f}ms {:>11} {:<9}  "
            "{}\n",
            name, j["solution"].get<std::string>(), j["path"].get<std::string>(),
            ooc ? "out" : "in", fmt::format("{} ok {} x", r.links_established, r.links_failed),
            cause_text.empty() ? "-" : cause_text, j["air"]["frames"].get<int>(),
            j["air"]["bytes"].get<int>(),
            fmt::format("{}/{}/{}", c["sign"].get<int>(), c["verify"].get<int>(),
                        c["key_agreement"].get<int>()),
            j["establishment"]["mean_latency_ms"].get<double>(),
            fmt::format("{}/{}/{}", d["offered"].get<int>(), d["delivered"].get<int>(),
                        d["dropped"].get<int>()),
            stopped, r.expectations_met ? "yes" : "NO");
        unmet += !r.expectations_met;
        all.push_back(nlohmann::ordered_json::parse(r.json));
        // One capture for all: each scenario a minute after the previous one.
        for (const auto& f : take(pcap::parse(r.pcap)))
            take(merged.add(f.timestamp_us + index * 60'000'000ull, f.header, f.message));
        keylog += "# scenario " + std::string(name) + "\n";
        for (std::size_t p = r.keylog.find('\n') + 1; p < r.keylog.size();) {
            const auto e = r.keylog.find('\n', p);
            keylog += r.keylog.substr(p, e - p + 1);
            p = e + 1;
        }
        for (const auto& [file, svg] : r.diagrams) {
            take(creds::write_file(dir / (std::string(name) + "-" + file), svg, 0644));
            ++svgs;
        }
        ++index;
    }
    take(merged.save((dir / "capture.pcap").string()));
    take(creds::write_file(dir / "keylog.txt", keylog, 0600));
    take(creds::write_file(dir / "metrics.json",
                           nlohmann::ordered_json{{"scenarios", all}}.dump(2) + "\n", 0644));
    fmt::print(
        "\n  links: established (ok) and failed (x); causes: PC5 causes of the failures (#6 "
        "authentication failure,\n  #4 no answer, #11 not authorised); frames, bytes: every "
        "frame on the air once, forwarded,\n  retransmitted, discovery and data included "
        "(docs/metrics.md \"air\"); sign/ver/dh: signatures,\n  verifications, key agreements; "
        "latency: connect to usable at both ends, virtual time, with the\n  processing model's "
        "CPU time; data s/d/x: PDUs the source sent, delivered, dropped; stopped?: whether\n  "
        "the attack was refused or detected; expected?: whether the scenario ended as its "
        "[expect] says.\n\n");
    fmt::print(
        "[3] Written to {0}/: capture.pcap, keylog.txt, metrics.json, {1} SVG sequence diagrams, "
        "and one folder per scenario.\n"
        "    Read it deciphered: tshark -r {0}/capture.pcap -o pc5s.keylog_file:{0}/keylog.txt\n"
        "                        (pc5sec's Wireshark plugin, installed as docs/wireshark.md "
        "says)\n"
        "    Decipher its data:  pc5sec decode --pcap {0}/capture.pcap --keylog {0}/keylog.txt\n"
        "    More scenarios:     pc5sec scenarios; pc5sec simulate builtin:NAME\n"
        "[4] Which solution costs what, and resists what: the evaluation, measured from runs\n"
        "    (docs/evaluation.md; run it yourself: pc5sec evaluate --out {0}/evaluation, "
        "then open {0}/evaluation/evaluation.html)\n",
        out, svgs);
    if (unmet)
        throw CommandError(kExitCheckFailed,
                           fmt::format("{} scenario(s) did not end as expected", unmet));
}

void register_demo(CLI::App& app) {
    auto out = std::make_shared<std::string>("pc5sec-out");
    auto seed = std::make_shared<std::uint64_t>(0);
    auto* sub = app.add_subcommand(
        "demo",
        "provision, then run the main scenarios of both solutions, with attacks; write "
        "a capture, key log, metrics and sequence diagrams");
    sub->add_option("--out", *out, "output directory")->capture_default_str();
    sub->add_option("--seed", *seed, "reproducible run from this seed (default: each scenario's)");
    sub->callback([out, seed] { run_demo(*out, *seed); });
}

}  // namespace

const CommandRegistrar kRegistrar{10, register_demo};

}  // namespace pc5sec::cli
