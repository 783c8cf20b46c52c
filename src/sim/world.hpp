// The simulator's inside (src/sim/): the UEs, the event queue, the medium, and what the report
// is built from. simulator.cpp runs it, attacks.cpp stages the attacks, report.cpp writes the
// JSON metrics, the summary and the diagrams.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "pc5sec/keylog.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/rng.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/sim.hpp"
#include "pc5sec/station.hpp"
#include "pc5sec/trace.hpp"
#include "pc5sec/userplane.hpp"
#include "sim/tally.hpp"

namespace pc5sec::sim {

using trace::DiagramArrow;

// Wall-clock time at virtual time 0: fixed, so certificates and reports do not depend on the
// day a scenario runs (2026-11-01T00:00:00Z).
inline const creds::TimePoint kEpoch = creds::from_unix_seconds(1'793'491'200);

struct Ue {
    UeSpec spec;
    // The UE: engine and user plane wired together (pc5sec/station.hpp). The pointers below are
    // its parts, for counters and the solution's own calls.
    std::unique_ptr<station::Station> station;
    pc5::Endpoint* engine = nullptr;                  // the station's link engine
    std::shared_ptr<creds::CredentialManager> creds;  // its credentials and trust
    link::Engine* a = nullptr;          // solution A's engine (re-keying), else nullptr
    sigauth::Engine* b = nullptr;       // solution B's engine (keep-alive), else nullptr
    userplane::Endpoint* up = nullptr;  // the station's user plane
    userplane::Ipv6Address l3_addr{};   // behind a layer-3 relay (userplane::l3_address)
    pc5::Time armed = pc5::kNever;      // the timer event in the queue
    std::vector<std::size_t> pairs;     // the pairs this UE takes part in
    // relay: its hop links by (far end, target): a source has one hop per target (layer 3)
    std::map<std::pair<std::string, std::string>, std::string> hops_by_peer;
    std::map<std::string, std::string> links_by_peer;  // established links by peer name
    // established hops to a relay by the target they lead to (one per target, layer 3)
    std::map<std::string, std::string> hops_by_target;
    std::string last_data_link;
    // The processing model (Scenario::processing): busy until then; what the engine and user
    // plane had counted when last charged; the CPU time charged, and the longest wait of
    // something that reached the UE while it was busy.
    pc5::Time busy_until{};
    pc5::CryptoOps charged;
    std::uint64_t pdcp_charged = 0, pdcp_signalling = 0;
    double cpu_us = 0;
    pc5::Time longest_wait{};
    std::uint64_t retransmissions_seen = 0;  // the engine's counter, when last drained
    // NEA/NIA passes so far: the user plane's PDUs (protected, checked, dropped, re-protected
    // by a layer-3 relay) and protected PC5-S sent or received.
    std::uint64_t pdcp_ops() const;
    std::uint8_t role = 0;                // RoleIndex: what it is in the scenario's pairs
    std::optional<PrivateKey> long_term;  // with Options::export_long_term_keys
};

struct Pair {
    std::size_t source = 0, target = 0;
    std::optional<std::size_t> relay;
    bool auto_relay = false;
    pc5::Time at{}, started{}, ready_at{};
    bool settled = false, ready = false, routed = false;
    bool b_to_source = false, b_to_target = false;  // B: the relay forwarded PC5-S each way
    std::uint64_t delivered = 0, echoed = 0;        // at the target; echoes back at the source
    std::optional<trace::Diagram> diagram;
};

// The PC5 signalling message a frame carries, when the simulator can tell: the sender's view of
// it (protected PC5-S), a message in clear (SL-SRB0, discovery), or one in clear behind a relay's
// SRAP header (its SL-SRB0).
std::optional<codec::MessageType> message_of(const pc5::Frame& f);
// PC5-S under PDCP protection: SL-SRB1..3, or end to end through a relay's adaptation layer.
bool protected_signalling(const pc5::Frame& f);

// What a frame on the air is, for like-for-like counts (docs/metrics.md "air").
enum class AirKind : std::uint8_t {
    establishment,   // signalling of an establishment (B's key confirmation and route keep-alive)
    discovery,       // LCID 58 broadcasts
    forwarding,      // what a relay sends on for others (re-signed, SRAP-forwarded, re-protected)
    retransmission,  // an engine's retransmission, or an RLC AM retransmission of a lost one
    keepalive,       // keep-alives of established links
    maintenance,     // re-keying, link identifier update, release
    data,            // end UEs' data PDUs
    attacker,        // frames the attacker put on the air
};
const char* name(AirKind k) noexcept;
// A UE's role for the per-role figures: a relay, the source of a pair, or only a target.
enum RoleIndex : std::uint8_t { kSourceRole = 0, kRelayRole = 1, kTargetRole = 2 };

enum class Kind : std::uint8_t {
    deliver,
    process,   // a frame that reached a busy UE, handled when its work is done
    transmit,  // a frame a UE sends once its work is done (`hint`: the link; `n`: its AirKind)
    timer,
    connect,
    send,
    release,
    reconnect,  // the scenario's reuse: connect again after the release
    revoke,     // revoked-with-cached-knrp: the source's certificate revoked, the list pushed
    attacker,   // the attacker's time-driven rules are due
    emit,       // a frame the attacker puts on the air (`frame`, to `who`)
    probe
};

// What every zone of a partitioned run shares (sim/zones.cpp), made once from the scenario's
// seed and never changed after: the CA (its discovery material made beforehand), the trust store
// built on its certificate, and the group key.
struct SharedCa {
    std::shared_ptr<creds::ProvisioningFunction> pf;
    std::optional<creds::TrustStore> trust;
    std::array<std::uint8_t, 32> group_key{};
};

// Virtual time in milliseconds.
inline double ms(pc5::Time t) {
    return std::chrono::duration<double, std::milli>(t).count();
}

// The scenario's CA, from the scenario's generator (the first thing drawn from it).
Result<std::shared_ptr<creds::ProvisioningFunction>> make_ca(Rng& rng);

struct Event {
    pc5::Time at;
    std::uint64_t seq;
    Kind kind;
    std::size_t who;
    std::uint32_t n;
    pc5::Frame frame;
    std::string hint;
    std::uint64_t arrow = 0;  // deliver: the diagram arrows drawn for the frame (World::arrows)
    pc5::Time since{};        // process: when the frame reached its busy UE
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

class World {
  public:
    // `shared`: a zone of a partitioned run (sim/zones.cpp), with the CA it shares and the
    // index in the whole scenario of each of its pairs; otherwise the world makes its own CA.
    World(const Scenario& s, const Options& o, const SharedCa* shared = nullptr,
          std::vector<std::size_t> pair_index = {});
    ~World();
    Status setup();
    void run();
    // What the report is made of (sim/tally.hpp); the report of a whole scenario merges its
    // zones' tallies.
    Tally tally() const;

    // -------- state
    const Scenario& scenario;
    const Options& options;
    DeterministicRng rng;
    std::mt19937_64 medium_rng;
    const SharedCa* shared;
    std::vector<std::size_t> pair_index;  // each pair's index in the whole scenario
    std::shared_ptr<creds::ProvisioningFunction> pf, foreign;
    std::optional<creds::TrustStore> trust;  // every UE's copy shares its X509_STORE
    std::array<std::uint8_t, 32> group_key{};
    pc5::KeyLogCollector keylog;
    std::set<std::uint32_t> discovery_logged;  // RSCs whose discovery material is in `keylog`
    trace::CaptureRecorder capture;
    std::vector<std::unique_ptr<Ue>> ues;
    std::unordered_map<std::string, std::size_t> by_name;
    std::unordered_map<pc5::L2Id, std::size_t> by_l2;
    std::map<std::uint32_t, std::vector<std::size_t>> zones;
    std::vector<Pair> pairs;
    std::map<std::string, LinkRecord> links;
    std::size_t failures_without_id = 0;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> queue;
    std::uint64_t seq = 0;
    pc5::Time now{}, end_time{};
    std::size_t touched = 0, settled = 0;
    std::uint64_t events = 0, links_up = 0;  // handled so far; links established (progress)
    MediumCounters medium;
    // Every frame put on the air, once, by kind and by the sender's role (the attacker's in
    // `air` only).
    std::array<AirCount, kAirKinds> air{};
    std::array<std::array<AirCount, kAirKinds>, kRoles> air_by_role{};
    void count_air(std::optional<std::size_t> from, AirKind k, std::uint64_t frames,
                   std::uint64_t bytes);
    AirKind air_kind(std::size_t from, const pc5::Frame& f, bool retransmission) const;
    // The processing model: the table in force ("none": processing off).
    bool processing = false;
    CostTable costs;
    double charge(std::size_t ue);
    bool busy(std::size_t ue) const { return processing && ues[ue]->busy_until > now; }
    // A UE one of whose pairs is not yet usable (its keep-alives are still establishment).
    bool establishing(std::size_t ue) const;
    // With a privacy timer (Scenario::privacy_timer_s): when each identifier an observer can
    // link was first and last on the air. L2 IDs (not the UEs' own, which discovery and new
    // links use), and KNRP-sess IDs by the UE that sent them.
    struct Seen {
        pc5::Time first{}, last{};
    };
    std::map<pc5::L2Id, Seen> l2_seen;
    std::map<std::pair<std::size_t, std::uint16_t>, Seen> sess_seen;
    std::map<std::pair<std::size_t, std::uint8_t>, Seen> srap_seen;  // (relay, local UE ID)
    void observe_identifiers(const pc5::Frame& f);
    std::uint64_t data_offered = 0, data_delivered = 0, data_garbled = 0, data_echoed = 0;
    // The attacker's rules ([[attacker]] and the named attack's), and when its next
    // time-driven action is queued.
    std::optional<Attacker> attacker;
    pc5::Time attacker_armed = pc5::kNever;

  private:
    Status make_engine(Ue& ue, creds::IssuedCredentials issued);
    void schedule(pc5::Time at, Kind kind, std::size_t who, pc5::Frame frame = {},
                  std::uint32_t n = 0, std::string hint = {}, std::uint64_t arrow = 0);
    void arm(std::size_t i);
    void connect(std::size_t pair);
    void release(std::size_t who);
    void pump(std::size_t i);
    void on_event(std::size_t i, pc5::Event ev);
    void on_data_event(std::size_t i, pc5::Event ev);
    void join_l3(std::size_t relay);
    void learn_b_route(std::size_t relay, pc5::L2Id to);
    void probe_b_route(std::size_t pair, std::uint32_t attempt);
    std::string data_link(std::size_t i, const Pair& p) const;
    void check_ready(std::size_t i);
    void settle(std::size_t pair, bool ok);
    // Solution A through a layer-3 relay: per-hop links, which the relay joins; the data are
    // IPv6 packets between the end UEs (docs/userplane.md).
    bool compromised(const std::string& ue) const {
        return std::find(scenario.compromised.begin(), scenario.compromised.end(), ue) !=
                   scenario.compromised.end() ||
               (scenario.attack == Attack::tampering_relay && ues[by_name.at(ue)]->spec.relay);
    }
    bool l3_data() const {
        return scenario.path == pc5::Path::l3 && scenario.solution == pc5::Solution::a;
    }
    std::vector<std::uint8_t> payload(const Pair& p, std::uint32_t n, bool echo) const;
    void send_data(std::size_t pair, std::uint32_t n);
    void transmit(std::size_t from, pc5::Frame f, const std::string& link_hint, AirKind kind);
    // A frame a UE's engine or user plane sent: counted by kind, onto the medium now or when
    // the UE's work is done.
    void put_on_air(std::size_t from, pc5::Frame f, const std::string& hint, AirKind kind);
    // A frame that reached `to` (the attacker has seen it): handled now, or queued while busy.
    void process(std::size_t to, pc5::Frame f, std::optional<std::size_t> rule,
                 std::uint64_t arrow = 0, std::optional<pc5::Time> since = std::nullopt);
    // `from`: the sending UE when it is one (the attacker may send as an L2 ID no UE has).
    // `rule`: the attacker's rule that put the frame on the air (its diagram arrows say so).
    void carry(std::optional<std::size_t> from, std::size_t to, pc5::Frame f, bool broadcast,
               std::optional<std::size_t> rule = std::nullopt);
    void deliver(std::size_t to, pc5::Frame f, std::uint64_t arrow);
    bool acknowledged(const pc5::Frame& f) const;  // on an RLC AM bearer ([medium] rlc_am)
    // attacks.cpp
    void setup_attacker(const std::vector<UeSpec>& specs);
    void intercept(std::size_t to, pc5::Frame f, std::uint64_t arrow);
    void emit(std::vector<Attacker::Emit>& out);
    void arm_attacker();
    void attacker_due();
    void revoke_source();
    void record_altered(const pc5::Frame& f);
    void stage_attacks(std::size_t pair);
    // report.cpp
    void record_link(const Ue& u, const pc5::LinkSummary& l, bool rekeyed);
    void record_failure(const Ue& u, const pc5::LinkFailed& f);
    void note(std::size_t ue, std::string text, bool failure);
    // Draws a frame in the diagrams of its sender's pairs; returns the tag by which its arrows
    // are found again (mark_arrows), 0 when none was drawn.
    std::uint64_t diagram_arrow(std::size_t from, std::optional<std::size_t> to,
                                const pc5::Frame& f, DiagramArrow::Fate fate);
    // An attacker's rule touched the frame of `arrow`: its arrows name the rule, and `dropped`
    // marks them dropped (by the attacker, or by the receiver that refused the frame).
    void mark_arrows(std::uint64_t arrow, const std::string& rule, bool dropped);
    std::map<std::uint64_t, std::vector<std::pair<std::size_t, std::size_t>>> arrows;
    std::uint64_t next_arrow = 0;
    std::string seed_step(std::size_t from, const pc5::Frame& f) const;
};

}  // namespace pc5sec::sim
