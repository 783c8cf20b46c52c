// What a simulation leaves for its report (sim/report.cpp): the counts, the link records, the
// pairs, the capture and key log, and the failed checks. A partitioned run (sim/zones.cpp) makes
// one tally per zone and merges them in zone order, so the report does not depend on how many
// threads or MPI ranks ran the zones. A tally also travels between ranks as octets.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pc5sec/link.hpp"
#include "pc5sec/sim.hpp"

namespace pc5sec::sim {

// One link id, as its ends reported it.
struct LinkRecord {
    std::string id, initiator, peer;
    pc5::LinkKind kind = pc5::LinkKind::hop;
    pc5::Solution solution = pc5::Solution::a;
    bool established = false, failed = false, released = false, reused = false;
    unsigned rekeys = 0;
    std::uint8_t cause = 0;
    std::string reason, failed_at;
    KnrpId knrp_id;
    KnrpSessId knrp_sess_id;
    std::string algorithms;
    std::string security_note;  // e.g. "no integrity: policy preferred, peer offered none"
    double latency_ms = 0;
    std::map<std::string, std::map<std::string, std::string>> fingerprints;  // end -> label
};

struct MediumCounters {
    std::uint64_t frames = 0, bytes = 0, lost = 0, duplicated = 0, reordered = 0, corrupted = 0,
                  undeliverable = 0, injected = 0, tampered = 0;
    // Transmissions the receiver's CRC discarded (Medium::crc); `corrupted`: flipped frames
    // delivered.
    std::uint64_t crc_discarded = 0;
    std::uint64_t link_retransmissions = 0;  // RLC AM retransmissions ([medium] rlc_am)
};

inline constexpr std::size_t kAirKinds = 8;
inline constexpr std::size_t kRoles = 3;
struct AirCount {
    std::uint64_t frames = 0, bytes = 0;
};

struct Tally {
    std::uint64_t ues = 0, relays = 0;  // end UEs and relays
    pc5::Time end_time{};               // the latest virtual time reached
    std::uint64_t events = 0;           // events handled (progress; not in the report)
    std::map<std::string, LinkRecord> links;
    struct PairResult {
        std::size_t index = 0;  // in the scenario's [[connect]] order
        std::string source, target, relay;
        bool settled = false, ready = false;
        pc5::Time latency{};
        std::uint64_t delivered = 0, echoed = 0;
        std::string diagram;  // its sequence diagram (SVG), when it has one
    };
    std::vector<PairResult> pairs;                                            // by index
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> messages;  // count, bytes
    pc5::CryptoOps crypto;
    std::uint64_t retransmissions = 0, signalling_forwarded = 0;
    std::map<std::string, std::uint64_t> signalling_drops, data_drops;
    std::uint64_t data_sent = 0, forwarded_l2 = 0, forwarded_l3 = 0;
    std::uint64_t data_offered = 0, data_delivered = 0, data_garbled = 0, data_echoed = 0;
    MediumCounters medium;
    std::array<AirCount, kAirKinds> air{};
    std::array<std::array<AirCount, kAirKinds>, kRoles> air_by_role{};
    struct Role {
        std::uint64_t ues = 0, pdcp = 0;
        pc5::CryptoOps crypto;
        double cpu_us = 0;
        pc5::Time longest_wait{};
    };
    std::array<Role, kRoles> roles{};
    // The livelock check (issue 17): the most establishment-phase frames of one link, and the
    // links over the bound.
    std::uint32_t most_frames = 0;
    std::vector<std::string> over_bound;
    // The privacy check (Scenario::privacy_timer_s).
    struct Privacy {
        std::uint64_t l2_ids = 0, sess_ids = 0, srap_ids = 0, over = 0;
        double longest_s = 0;
        std::string longest;
        std::vector<std::string> failures;  // the first 8 over the limit
    } privacy;
    // The attacker's record (an unpartitioned run only).
    bool attacker = false;
    std::string attacker_json, attacker_summary;
    std::vector<std::string> attacker_failed;
    // With Options::capture: the capture's records (pcap record headers and data, without the
    // file header), merged in time order by the report; with Options::keylog: its lines.
    std::vector<std::vector<std::uint8_t>> captures;  // one per zone, in zone order
    std::string keylog;
    // The processing model in force (the same in every zone).
    bool processing = false;
    CostTable costs;
    std::vector<std::pair<std::string, PrivateKey>> long_term_keys;

    // Adds `other`'s (a later zone's): sums, the longer waits, links and pairs by id and index,
    // the captures and the key log after this one's.
    void merge(Tally&& other);
    // The tally as octets, and back (long-term keys are not carried): a zone's until the merge,
    // and a rank's share for rank 0.
    std::vector<std::uint8_t> serialize() const;
    static Result<Tally> deserialize(std::span<const std::uint8_t> octets);
};

// A Report from a tally: the JSON metrics, the summary, [expect], the files.
Report make_report(const Scenario& s, const Options& o, const Tally& t);
// The capture file of the zones' records: in time order, ties in zone order.
std::vector<std::uint8_t> merge_captures(const std::vector<std::vector<std::uint8_t>>& parts);

}  // namespace pc5sec::sim
