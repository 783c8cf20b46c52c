// The simulator (issue [sim], docs/scenarios.md): a discrete-event driver with a virtual clock
// around the sans-I/O engines of both solutions and the user plane, a PC5 medium with per-link
// delay, loss, duplication, reordering and corruption, coverage per UE, and TOML scenarios. A
// run gives a Report: the JSON metrics (docs/metrics.md), the capture, the key log and one
// sequence diagram per establishment.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"
#include "pc5sec/pc5.hpp"

namespace pc5sec::sim {

// What is wrong with a UE's long-term credentials (seed 000 step 0 / seed 001 step 0).
enum class Credentials : std::uint8_t { valid, expired, revoked, foreign_ca };

struct UeSpec {
    std::string name;         // its user info ID (certificate CN)
    pc5::L2Id l2 = 0;         // 0: the simulator assigns one
    bool relay = false;       // a UE-to-UE relay (role u2u-relay)
    bool in_coverage = true;  // the provisioning function is reachable (renewal, CRL)
    Credentials credentials = Credentials::valid;
    std::vector<std::uint32_t> rscs;     // authorised relay service codes (empty: the scenario's)
    std::string integrity = "required";  // signalling integrity policy (not-needed .. required)
    std::string ciphering = "preferred";
    std::uint32_t zone = 0;  // broadcasts (discovery) reach the UEs of the same zone
};

// The PC5 medium between every pair of UEs (docs/scenarios.md [medium]).
struct Medium {
    double delay_ms = 2.0;   // one-way
    double jitter_ms = 0.5;  // uniform 0..jitter added per frame
    double loss = 0.0;       // probability a frame is lost
    double duplicate = 0.0;  // probability a frame arrives twice
    double reorder = 0.0;    // probability a frame is held back by 1..5 x delay
    double corrupt = 0.0;    // probability one bit of the frame is flipped
};

// One establishment: `source` asks for a link to `target`, at `at_ms`.
struct Connect {
    std::string source, target;
    std::string relay;  // empty on the direct path; otherwise found by discovery if "auto"
    double at_ms = 0;
};

// Protected data once the source's link is up (user plane).
struct Traffic {
    std::uint32_t pdus = 0;  // per established source
    std::size_t size = 200;  // octets
    double interval_ms = 5;
    std::uint8_t bearer = 4;
    bool echo = false;  // the target answers each PDU (data in both directions)
};

// Attacks and faults a scenario stages (docs/scenarios.md [attack]).
enum class Attack : std::uint8_t {
    none,
    tamper_request,      // A: the request's security capabilities downgraded (bidding down)
    tamper_mac,          // A: one bit of the Direct Security Mode Command's MAC-I flipped
    replay,              // an old establishment request sent again after release
    foreign_ca,          // the target's certificate comes from another CA
    revoked,             // the source's certificate is revoked
    expired,             // the source's certificate has expired
    unauthorised_relay,  // the relay is not authorised for the RSC
    tampering_relay,     // B: the relay changes what it forwards
    tamper_data,         // a data PDU's payload bit flipped on the air
    replay_data,         // data PDUs captured and sent again
    inject_data,         // data PDUs under a key the attacker made up
};
const char* name(Attack a) noexcept;
Result<Attack> attack_from_name(std::string_view text);

// What the scenario's author expects; the test suite checks every built-in against it.
struct Expect {
    std::optional<bool> established;             // every source ends with its link established
    std::optional<std::uint8_t> cause;           // ... or failed, with this cause (by either end)
    std::optional<std::uint64_t> delivered_min;  // data PDUs delivered, at least
    std::map<std::string, std::uint64_t> drops_min;  // data drops by reason, at least
};

struct Scenario {
    std::string name, description;
    pc5::Solution solution = pc5::Solution::a;
    pc5::Path path = pc5::Path::l3;
    std::uint64_t seed = 1;
    std::uint32_t rsc = 0x00A001;
    std::string key_type = "p256";  // UE keys: p256 or ed25519 (solution B end UEs: p256)
    bool psk = false;               // A: step 3 with a pre-shared group key
    bool reuse = false;             // A: release and establish again, reusing the KNRP
    double duration_s = 60;         // virtual time limit
    std::vector<UeSpec> ues;
    std::vector<Connect> connects;
    Medium medium;
    Traffic traffic;
    Attack attack = Attack::none;
    Expect expect;
    // Generated populations ([scale]): `sources` source/target pairs through `relays` relays.
    std::uint32_t scale_pairs = 0, scale_relays = 0;
};

// Parses a scenario file. Errors name the key: "scenario.toml: medium.loss".
Result<Scenario> parse_scenario(std::string_view toml, std::string_view origin);
// Scenario::ues filled in for [scale] (deterministic names and L2 IDs).
void expand_scale(Scenario& s);

struct Builtin {
    std::string name, summary, toml;
};
const std::vector<Builtin>& builtin_scenarios();
// "builtin:NAME" or "NAME" of a built-in.
Result<Scenario> builtin(std::string_view name);

struct Options {
    bool capture = true;        // pcap
    bool keylog = true;         // key log text
    std::size_t diagrams = 16;  // SVG sequence diagrams of the first N establishments
    // Called now and then with the fraction of establishments settled (0..1).
    std::function<void(double)> progress;
};

struct Report {
    std::string json;  // docs/metrics.md; identical for two runs of one seeded scenario
    bool expectations_met = true;
    std::vector<std::string> failed_expectations;  // what did not match [expect]
    std::vector<std::uint8_t> pcap;
    std::string keylog;
    std::vector<std::pair<std::string, std::string>> diagrams;  // file name, SVG
    std::string summary;                                        // the readable table
    std::size_t links_established = 0, links_failed = 0;
};

// Runs one scenario. Errors only for a scenario that cannot be set up (unknown UE, bad path).
Result<Report> run(const Scenario& scenario, const Options& options = {});

}  // namespace pc5sec::sim
