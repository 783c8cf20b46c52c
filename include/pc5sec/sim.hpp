// The simulator (issue [sim], docs/scenarios.md): a discrete-event driver with a virtual clock
// around the sans-I/O engines of both solutions and the user plane, a PC5 medium with per-link
// delay, loss, duplication, reordering and corruption, coverage per UE, and TOML scenarios. A
// run gives a Report: the JSON metrics (docs/metrics.md), the capture, the key log and one
// sequence diagram per establishment.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/asymmetric.hpp"
#include "pc5sec/discovery_material.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/messages.hpp"
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
    double corrupt = 0.0;    // probability one bit of a transmission is flipped on the air
    // Link-layer ARQ of the signalling bearers (docs/scenarios.md, "Link-layer
    // retransmission"): PC5-S and PC5-RRC travel on SL-SRB0..3, which TS 38.331 clause 9.1.1.4
    // (SCCH configuration) puts on RLC AM. With `rlc_am`, `loss` is the loss of one
    // transmission: a lost one is sent again after `status_delay_ms` (the poll / status round
    // trip), up to `max_retx_threshold` times, and the frame is lost only if every transmission
    // is. Data bearers (RLC UM here) and broadcasts are never retransmitted.
    bool rlc_am = true;
    std::uint32_t max_retx_threshold = 8;  // maxRetxThreshold t8 (TS 38.322 5.3.2)
    double status_delay_ms = 45;           // t-PollRetransmit ms45
    // The receiver's transport block CRC (TS 38.212: a CRC is attached to every SL-SCH transport
    // block; one that fails it is discarded). With `crc`, a transmission `corrupt` flipped a bit
    // of is discarded by its receiver: a lost transmission, which RLC AM sends again like any
    // other. Off: the flipped frame reaches the receiving engine (an error the CRC missed, or
    // what a tampering attacker does), which is how the engines' tolerance of corrupted frames
    // is measured (docs/scenarios.md, "Corruption").
    bool crc = true;
};

// The processing model ([processing], docs/scenarios.md "Processing time"): what each operation
// costs a UE, in microseconds. Every signature, verification, certificate check, key agreement,
// key pair, KDF call and NEA/NIA pass (one PDU protected or checked) advances the UE's busy time
// by its cost; a UE does one thing at a time, so what reaches a busy UE waits (a relay serving
// many sources queues), and what it sends goes on the air when the work is done.
struct CostTable {
    double sign_us = 0, verify_us = 0, cert_verify_us = 0, key_agreement_us = 0, keygen_us = 0,
           kdf_us = 0, pdcp_us = 0;
    CostTable scaled(double factor) const;
};
// A device profile: the default table (fixed figures, measured once with `pc5sec bench` on the
// machine `source` names) times `factor`. "measured" times the operations in the run itself.
struct DeviceProfile {
    std::string name, summary, source;
    double factor = 1;
};
const std::vector<DeviceProfile>& device_profiles();
const CostTable& default_costs();
// Times each operation on this machine now (a few hundred of each, OpenSSL as the engines call
// it): the "measured" profile. Not reproducible from run to run.
CostTable measure_costs();

struct Processing {
    // "none" (no processing time: radio delay only), "default", "measured", or a name of
    // device_profiles().
    std::string profile = "default";
    double factor = 1;               // times the profile's table
    std::optional<CostTable> costs;  // [processing.costs_us]: the whole table given
    bool on() const { return profile != "none"; }
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
    // Re-key each link after this many PDUs under one key (the user plane's COUNT threshold,
    // userplane::Config::rekey_threshold; both solutions). 0: the default, far away.
    std::uint32_t rekey_after = 0;
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
    // [a-state]: solution A's establishment under forged and flooded requests.
    forged_request_on_live_link,  // a request with a live link's L2 IDs and a fresh Nonce_1
    request_flood,                // many requests, fresh nonces, made-up L2 IDs, at a relay
    revoked_with_cached_knrp,     // the source revoked after its first link; it reuses the KNRP
    // [b-complete]: unprotected rejects, stale replays, authorisation, key confirmation.
    forged_reject,          // `03 <seq> 06` in others' names: during and after establishment
    stale_replay,           // the relay's forwarded request sent again 62 minutes later
    target_not_authorised,  // the target's certificate does not authorise the RSC
    unconfirmed_target,     // B: the source's protected PC5-S never reaches the target
    // B: a rogue relay whose certificate does not authorise the RSC forwards anyway (it skips
    // its own checks); the end UEs must catch it.
    relay_not_authorised_for_target,
    // B: seed 001's literal-mode man in the middle: a rogue relay puts its own key in place of
    // each end UE's and signs as them (sigauth::Tamper::substitute_end_keys).
    key_substitution,
};
const char* name(Attack a) noexcept;
Result<Attack> attack_from_name(std::string_view text);

// ---------------------------------------------------------------- the attacker
// A Dolev-Yao attacker on the medium, written as rules ([[attacker]], docs/scenarios.md). Each
// rule matches frames as they reach their receiver and acts on them, or acts at a time. It
// reads only what an eavesdropper reads (unprotected PC5-S, the integrity-only Security Mode
// Command, the headers of everything else) unless a scenario gives it compromised UEs.

enum class RuleAction : std::uint8_t {
    drop,
    delay,
    duplicate,
    record,
    replay,
    reflect,
    modify,
    inject
};
const char* name(RuleAction a) noexcept;
enum class Plane : std::uint8_t { any, signalling, data };
// What a rule's times count from: virtual time 0, the first establishment ready, or the
// scenario's release of every link (after the data; staged when a rule needs it).
enum class Anchor : std::uint8_t { start, ready, released };
// What the victims did about a rule's frames: refused (a link failed with a cause after it
// fired), detected (its frames dropped and counted), undetected (accepted), or never fired.
enum class Outcome : std::uint8_t { never_fired, refused, detected, undetected };
const char* name(Outcome o) noexcept;

// A value for an IE: octets (hex, an integer or text in TOML), fresh random octets for each use
// ("random"), or the same IE of a recorded frame ("record:NAME").
struct IeValue {
    enum class Kind : std::uint8_t { bytes, random, record } kind = Kind::bytes;
    std::vector<std::uint8_t> bytes;
    std::string record;
};
struct IeEdit {
    enum class Op : std::uint8_t { set, add, remove } op = Op::set;
    std::string ie;  // an IE's name in the code-point table, or a mandatory field's name
    IeValue value;
};

struct AttackRule {
    std::string name;  // "attacker[N]" unless the file names it
    // ---- match (a frame reaching its receiver)
    std::string from, to;  // UE names; empty: any
    std::optional<std::uint8_t> lcid;
    // The bearer: the SRAP bearer ID on LCID 55 (0 SL-SRB0, 2 SL-SRB2, 4.. data), else the LCID.
    std::optional<std::uint8_t> bearer;
    std::optional<codec::MessageType> message;  // PC5 signalling message type, by name
    Plane plane = Plane::any;
    std::uint32_t nth = 0;    // only the n-th match (1-based); 0: every match
    std::uint32_t every = 1;  // every k-th match (the 1st, the k+1-th, ...)
    std::uint32_t limit = 0;  // fires at most this often; 0: no limit
    Anchor anchor = Anchor::start;
    double from_ms = 0, until_ms = -1;  // the window after the anchor; until < 0: open
    bool has_match = false;             // the rule acts on matches (else only at `at_ms`)
    // ---- action
    RuleAction action = RuleAction::drop;
    double delay_ms = 0;                  // delay
    std::string record;                   // record: its name; replay/inject: the record used
    std::vector<IeEdit> edits;            // modify, inject
    std::vector<std::int64_t> flip_bits;  // modify: bit offsets (MSB first; negative: from end)
    std::optional<codec::MessageType> inject_message;  // inject: the message built
    bool inject_data = false;                          // inject: data PDUs instead
    std::size_t data_size = 40;                        // their payload octets
    std::uint16_t knrp_sess_id = 0;                    // the KNRP-sess ID they claim (+1 each)
    std::optional<std::uint8_t> send_lcid;             // inject: the LCID (default by type)
    // inject: the PC5 signalling sequence number (octet 2): a value, every value in turn
    // ("sweep": copy n gets n mod 256), or a recorded frame's ("record:NAME"); default 0 (or
    // the recorded message's).
    std::optional<std::uint8_t> inject_seq;
    bool inject_seq_sweep = false;
    std::string inject_seq_record;
    std::optional<double> at_ms;     // replay/inject at this time after anchor
    std::uint32_t count = 1;         // replay/inject: how many times
    double interval_ms = 0;          // ... this far apart
    std::string send_to;             // replay/inject: the receiver UE
    std::string as_ue;               // replay/inject: a UE's L2 ID as source
    std::optional<pc5::L2Id> as_l2;  // ... a given L2 ID
    bool as_random = false;          // ... a fresh random L2 ID each time
    // ---- the expected outcome (checked like [expect])
    std::optional<Outcome> expect;
    std::optional<std::uint8_t> expect_cause;
};

// What the attacker holds at set-up.
struct AttackerSetup {
    pc5::Solution solution = pc5::Solution::a;
    std::uint64_t seed = 1;
    std::map<std::string, pc5::L2Id> ues;  // every UE by name
    std::vector<std::string> compromised;  // UEs whose credentials it holds (rogue UEs)
    std::uint8_t data_bearer = 4;          // injected data's LCID by default
    // Whether it holds each RSC's discovery material, as every UE authorised for the RSC does
    // (Scenario::attacker_holds_rsc_material): it reads and conceals establishment requests and
    // reads and seals restricted discovery. Without it, it sees a concealed request as octets
    // and can send only open discovery and requests in clear.
    bool holds_rsc_material = true;
    // The UTC time at simulated time 0 (its UTC-based counters): the simulator's epoch unless
    // the medium runs on another clock (`pc5sec establish`: now).
    std::optional<discovery::UtcTime> wall_epoch;
};

// A rule's record: how often it fired and what the victims did about its frames.
struct RuleStats {
    std::uint64_t fired = 0, matched = 0;
    std::optional<pc5::Time> first;
    std::map<std::uint8_t, std::uint64_t> refused;  // link failures by cause after it fired
    std::map<std::string, std::uint64_t> dropped;   // its frames dropped, by reason
    std::uint64_t accepted = 0;                     // its frames taken without a drop
    std::uint64_t edit_errors =
        0;  // edits refused by the codec or changing nothing (frame as it was)
    Outcome outcome() const;
};

class Attacker {
  public:
    Attacker(std::vector<AttackRule> rules, AttackerSetup setup);

    struct Emit {
        pc5::Time at;
        pc5::Frame frame;
        std::size_t rule;
    };
    struct Verdict {
        bool deliver = true;              // false: dropped (or held back: see the emits)
        bool altered = false;             // the frame was changed in flight
        std::optional<std::size_t> rule;  // the rule whose frame this is (judge the receiver)
    };
    // A frame reaching its receiver at `now`: the rules act on it; frames the attacker adds go
    // to `out` (their own delivery does not run the rules again).
    Verdict on_frame(pc5::Time now, pc5::Frame& f, std::vector<Emit>& out);
    // An RSC's discovery material, held if AttackerSetup::holds_rsc_material (the simulator
    // hands it each one it issues).
    void learn(const discovery::Material& m);
    // Time-driven actions (replay and inject at a time).
    void set_anchor(Anchor a, pc5::Time at);
    bool uses(Anchor a) const;
    pc5::Time next_due() const;
    void due(pc5::Time now, std::vector<Emit>& out);
    // Rules a rogue UE's own engine applies to the request it sends (solution B's hook): the
    // engine then signs what the rules made. True if a rule fired.
    bool rogue(const std::string& ue) const;
    bool edit_own(pc5::Time now, const std::string& ue, codec::DirectLinkEstablishmentRequest& m);
    // The victims' answers: the receiver of a rule's frame dropped it (`reason`) or took it;
    // a link failed with `cause`.
    void judged(std::size_t rule, const std::string* dropped_as);
    void link_failed(pc5::Time now, std::uint8_t cause);

    const std::vector<AttackRule>& rules() const noexcept { return rules_; }
    const std::vector<RuleStats>& stats() const noexcept { return stats_; }
    std::uint64_t injected() const noexcept { return injected_; }
    std::uint64_t tampered() const noexcept { return tampered_; }
    // metrics.json's "attacker" (docs/metrics.md), one line per rule for the summary, and
    // what did not match the rules' expected outcomes.
    std::string json() const;
    std::string summary() const;
    std::vector<std::string> failed_expectations() const;

    ~Attacker();
    Attacker(Attacker&&) noexcept;
    Attacker& operator=(Attacker&&) noexcept;

  private:
    struct State;
    std::vector<AttackRule> rules_;
    std::vector<RuleStats> stats_;
    std::unique_ptr<State> st_;
    std::uint64_t injected_ = 0, tampered_ = 0;
};

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
    bool release = false;           // after the data, each source releases its links
    double duration_s = 60;         // virtual time limit
    // T5090, the privacy timer (TS 24.554 7.2.4; solution B: each end UE's hop to the relay):
    // each link's L2 IDs and KNRP-sess ID change this often, and the report checks that none
    // stayed on the air longer (the `privacy` section of metrics.json). 0: off.
    double privacy_timer_s = 0;
    std::vector<UeSpec> ues;
    std::vector<Connect> connects;
    Medium medium;
    Traffic traffic;
    Attack attack = Attack::none;
    std::vector<AttackRule> attacker;      // [[attacker]]
    std::vector<std::string> compromised;  // UEs whose credentials the attacker holds
    // Whether the attacker holds the RSCs' discovery material (an insider of the RSC; default)
    // or not (an outsider: docs/scenarios.md "The attacker").
    bool attacker_holds_rsc_material = true;
    Expect expect;
    Processing processing;
    // Generated populations ([scale]): `sources` source/target pairs through `relays` relays.
    std::uint32_t scale_pairs = 0, scale_relays = 0;
    std::uint32_t scale_zone_relays = 1;  // relays in each zone
};

// The rules of a named attack (the medium attacks of `attack = NAME`, also run by `pc5sec
// establish --attack NAME`), for `source` reaching `target` through `relay` ("" direct), with
// the UEs it compromises; empty for the credential set-ups (revoked, expired, foreign-ca,
// unauthorised-relay). Written in TOML, parsed by parse_rules.
struct NamedRules {
    std::vector<AttackRule> rules;
    std::vector<std::string> compromised;
};
NamedRules attack_rules(Attack a, const std::string& source, const std::string& target,
                        const std::string& relay);
// [[attacker]] tables alone (a TOML document), checked against the UE names and the solution:
// errors name "origin: attacker[N].key".
Result<std::vector<AttackRule>> parse_rules(std::string_view toml, std::string_view origin,
                                            const std::vector<std::string>& ues,
                                            pc5::Solution solution,
                                            const std::vector<std::string>& compromised);

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

// How far a run is: establishments settled of all, events handled, links established, the
// virtual time reached, and (a partitioned run) zones done of all.
struct Progress {
    double fraction = 0;
    std::uint64_t events = 0, links = 0;
    double virtual_s = 0;
    std::size_t zones_done = 0, zones = 1;
};
struct Options {
    bool capture = true;        // pcap
    bool keylog = true;         // key log text
    std::size_t diagrams = 16;  // SVG sequence diagrams of the first N establishments
    // The "measured" profile's table, when the caller has timed it already (measure_costs):
    // one measurement for many runs.
    std::optional<CostTable> measured_costs;
    // Hand each UE's long-term private key out with the report (Report::long_term_keys): the
    // evaluation's forward-secrecy study compromises them after the run.
    bool export_long_term_keys = false;
    // Called now and then with how far the run is (Progress), from the thread that started it.
    std::function<void(const Progress&)> progress;
    // Threads that run zones at once (docs/scale.md), 0: every core. A scenario whose zones
    // cannot run apart (partition_refusal) is refused more than one. The report is the same,
    // octet for octet, whatever the number.
    unsigned threads = 1;
    // Many processes (MPI ranks, docs/scale.md): this one is `rank` of `ranks` and runs its
    // share of the zones. `gather` is called once on every rank with that share's octets; on
    // rank 0 it returns every rank's, in rank order (elsewhere: anything). Rank 0's report is
    // the whole scenario's, the same as one process's; the other ranks' are empty.
    unsigned rank = 0, ranks = 1;
    std::function<std::vector<std::vector<std::uint8_t>>(std::vector<std::uint8_t>)> gather;
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
    std::size_t ues = 0;  // every UE, relays included
    // With Options::export_long_term_keys: each UE's long-term private key, by name.
    std::vector<std::pair<std::string, PrivateKey>> long_term_keys;
};

// Runs one scenario. Errors only for a scenario that cannot be set up (unknown UE, bad path),
// or more threads or ranks than one for a scenario whose zones cannot run apart.
Result<Report> run(const Scenario& scenario, const Options& options = {});
// Why the zones of `scenario` (expanded: expand_scale) cannot run apart, each on its own, or ""
// when they can: more than one zone, no pair or attacker rule that crosses zones, and every
// UE's credentials from the one CA without revocation. The zones of such a scenario always run
// apart, each with its own generator seeded from (seed, zone) (docs/scale.md).
std::string partition_refusal(const Scenario& scenario);

}  // namespace pc5sec::sim
