// Scenario files (docs/scenarios.md): TOML read with toml++, every key checked, errors naming
// "origin: table.key".
#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "pc5sec/policy.hpp"
#include "pc5sec/sim.hpp"
#include "pc5sec/text.hpp"
#include "pc5sec/userplane.hpp"
#include "sim/toml_reader.hpp"

namespace pc5sec::sim {
namespace {

// docs/scenarios.md, "Limits".
constexpr double kMaxMediumDelayMs = 10'000;            // medium.delay_ms, medium.jitter_ms
constexpr std::uint32_t kMaxPdus = 100'000;             // traffic.pdus, per source
constexpr std::uint64_t kMaxScheduledPdus = 2'000'000;  // traffic.pdus x [[connect]]
constexpr std::size_t kMaxNameLength = 64;
// medium.max_retx_threshold: sl-MaxRetxThreshold is at most t32 (TS 38.331 SL-RLC-Config).
constexpr std::uint32_t kMaxRetxThreshold = 32;

// A UE name is its user info ID: it goes into link ids ("a>b#1"), key logs (space-separated),
// file names of the diagrams and logs, so it is kept to letters, digits, '.', '_' and '-'.
bool valid_name(std::string_view n) {
    if (n.empty() || n.size() > kMaxNameLength) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

constexpr std::array<std::pair<Attack, const char*>, 21> kAttacks{{
    {Attack::none, "none"},
    {Attack::tamper_request, "tamper-request"},
    {Attack::tamper_mac, "tamper-mac"},
    {Attack::replay, "replay"},
    {Attack::foreign_ca, "foreign-ca"},
    {Attack::revoked, "revoked"},
    {Attack::expired, "expired"},
    {Attack::unauthorised_relay, "unauthorised-relay"},
    {Attack::tampering_relay, "tampering-relay"},
    {Attack::tamper_data, "tamper-data"},
    {Attack::replay_data, "replay-data"},
    {Attack::inject_data, "inject-data"},
    {Attack::forged_request_on_live_link, "forged-request-on-live-link"},
    {Attack::request_flood, "request-flood"},
    {Attack::revoked_with_cached_knrp, "revoked-with-cached-knrp"},
    {Attack::forged_reject, "forged-reject"},
    {Attack::stale_replay, "stale-replay"},
    {Attack::target_not_authorised, "target-not-authorised"},
    {Attack::unconfirmed_target, "unconfirmed-target"},
    {Attack::relay_not_authorised_for_target, "relay-not-authorised-for-target"},
    {Attack::key_substitution, "key-substitution"},
}};

Result<pc5::Solution> solution_from(std::string_view s) {
    if (s == "A") return pc5::Solution::a;
    if (s == "B-literal") return pc5::Solution::b_literal;
    if (s == "B-hardened") return pc5::Solution::b_hardened;
    return make_error(Errc::invalid_argument, "solution", "A, B-literal or B-hardened");
}

Result<pc5::Path> path_from(std::string_view s) {
    if (s == "direct") return pc5::Path::direct;
    if (s == "l2") return pc5::Path::l2;
    if (s == "l3") return pc5::Path::l3;
    return make_error(Errc::invalid_argument, "path", "direct, l2 or l3");
}

Result<Credentials> credentials_from(std::string_view s) {
    if (s == "valid") return Credentials::valid;
    if (s == "expired") return Credentials::expired;
    if (s == "revoked") return Credentials::revoked;
    if (s == "foreign-ca") return Credentials::foreign_ca;
    return make_error(Errc::invalid_argument, "credentials",
                      "valid, expired, revoked or foreign-ca");
}

// A named value from a string key: the error names the key.
template <typename T, typename F>
Status named(const Reader& r, const toml::table& t, std::string_view where, std::string_view key,
             T& out, F from) {
    std::string text;
    if (!t.contains(key)) return {};
    PC5SEC_TRY(r.get(t, where, key, text));
    auto v = from(text);
    if (!v)
        return r.bad(where.empty() ? std::string(key) : fmt::format("{}.{}", where, key),
                     fmt::format("'{}': expected {}", escape_text(text), v.error().message));
    out = *v;
    return {};
}

Status read_ue(const Reader& r, const toml::table& t, std::size_t i, UeSpec& ue) {
    const std::string where = fmt::format("ue[{}]", i);
    PC5SEC_TRY(r.only(t, where,
                      {"name", "l2", "relay", "in_coverage", "credentials", "rscs", "integrity",
                       "ciphering", "zone"}));
    PC5SEC_TRY(r.get(t, where, "name", ue.name));
    if (!valid_name(ue.name))
        return r.bad(where + ".name",
                     fmt::format("'{}': a user info ID of 1 to {} characters among A-Z a-z 0-9 "
                                 ". _ - (docs/scenarios.md, \"Limits\")",
                                 escape_text(ue.name), kMaxNameLength));
    PC5SEC_TRY(r.get(t, where, "l2", ue.l2));
    if (ue.l2 > 0xFFFFFE) return r.bad(where + ".l2", "a layer-2 ID is 24 bits (not 0xFFFFFF)");
    PC5SEC_TRY(r.get(t, where, "relay", ue.relay));
    PC5SEC_TRY(r.get(t, where, "in_coverage", ue.in_coverage));
    PC5SEC_TRY(named(r, t, where, "credentials", ue.credentials, credentials_from));
    PC5SEC_TRY(r.get(t, where, "integrity", ue.integrity));
    PC5SEC_TRY(r.get(t, where, "ciphering", ue.ciphering));
    for (auto* level : {&ue.integrity, &ue.ciphering})
        if (!policy_level_from_name(*level, "policy"))
            return r.bad(where + (level == &ue.integrity ? ".integrity" : ".ciphering"),
                         "not-needed, preferred or required");
    PC5SEC_TRY(r.get(t, where, "zone", ue.zone));
    if (const auto* arr = t.get_as<toml::array>("rscs")) {
        for (const auto& n : *arr) {
            if (!n.is_integer() || n.as_integer()->get() < 0 || n.as_integer()->get() > 0xFFFFFF)
                return r.bad(where + ".rscs", "relay service codes are 24-bit integers");
            ue.rscs.push_back(static_cast<std::uint32_t>(n.as_integer()->get()));
        }
    } else if (t.contains("rscs")) {
        return r.bad(where + ".rscs", "must be an array of integers");
    }
    return {};
}

}  // namespace

const char* name(Attack a) noexcept {
    for (const auto& [v, n] : kAttacks)
        if (v == a) return n;
    return "?";
}

Result<Attack> attack_from_name(std::string_view text) {
    if (auto a = from_table(kAttacks, text)) return *a;
    return make_error(Errc::invalid_argument, "attack", all_names(kAttacks));
}

Result<Scenario> parse_scenario(std::string_view text, std::string_view origin) {
    Reader r{std::string(origin)};
    toml::table root;
    try {
        root = toml::parse(text, std::string(origin));
    } catch (const toml::parse_error& e) {
        return make_error(
            Errc::malformed,
            fmt::format("{}:{}:{}", origin, e.source().begin.line, e.source().begin.column),
            std::string(e.description()));
    }
    PC5SEC_TRY(r.only(root, "",
                      {"name",
                       "description",
                       "solution",
                       "path",
                       "seed",
                       "rsc",
                       "key_type",
                       "psk",
                       "reuse",
                       "release",
                       "duration_s",
                       "attack",
                       "ue",
                       "connect",
                       "medium",
                       "traffic",
                       "expect",
                       "scale",
                       "attacker",
                       "compromised",
                       "attacker_holds_rsc_material",
                       "privacy_timer_s",
                       "processing"}));
    Scenario s;
    PC5SEC_TRY(r.get(root, "", "name", s.name));
    PC5SEC_TRY(r.get(root, "", "description", s.description));
    PC5SEC_TRY(named(r, root, "", "solution", s.solution, solution_from));
    // The path defaults to l3 for solution A and to l2 for solution B.
    if (!root.contains("path") && s.solution != pc5::Solution::a) s.path = pc5::Path::l2;
    PC5SEC_TRY(named(r, root, "", "path", s.path, path_from));
    PC5SEC_TRY(r.get(root, "", "seed", s.seed));
    PC5SEC_TRY(r.get(root, "", "rsc", s.rsc));
    if (s.rsc > 0xFFFFFF) return r.bad("rsc", "a relay service code is 24 bits");
    PC5SEC_TRY(r.get(root, "", "key_type", s.key_type));
    if (s.key_type != "p256" && s.key_type != "ed25519")
        return r.bad("key_type", "p256 or ed25519");
    PC5SEC_TRY(r.get(root, "", "psk", s.psk));
    PC5SEC_TRY(r.get(root, "", "attacker_holds_rsc_material", s.attacker_holds_rsc_material));
    PC5SEC_TRY(r.get(root, "", "reuse", s.reuse));
    PC5SEC_TRY(r.get(root, "", "release", s.release));
    PC5SEC_TRY(r.get(root, "", "duration_s", s.duration_s));
    if (s.duration_s <= 0 || s.duration_s > 86400)
        return r.bad("duration_s", "0 < duration_s <= 86400");
    PC5SEC_TRY(named(r, root, "", "attack", s.attack, attack_from_name));
    PC5SEC_TRY(r.get(root, "", "privacy_timer_s", s.privacy_timer_s));
    if (s.privacy_timer_s < 0 || s.privacy_timer_s > 86400)
        return r.bad("privacy_timer_s", "0 (off) <= privacy_timer_s <= 86400");

    if (const auto* ues = root.get("ue")) {
        const auto* arr = ues->as_array();
        if (!arr) return r.bad("ue", "must be an array of tables ([[ue]])");
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const auto* t = (*arr)[i].as_table();
            if (!t) return r.bad(fmt::format("ue[{}]", i), "must be a table");
            UeSpec ue;
            PC5SEC_TRY(read_ue(r, *t, i, ue));
            s.ues.push_back(std::move(ue));
        }
    }
    if (const auto* cs = root.get("connect")) {
        const auto* arr = cs->as_array();
        if (!arr) return r.bad("connect", "must be an array of tables ([[connect]])");
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const auto* t = (*arr)[i].as_table();
            const std::string where = fmt::format("connect[{}]", i);
            if (!t) return r.bad(where, "must be a table");
            PC5SEC_TRY(r.only(*t, where, {"source", "target", "relay", "at_ms"}));
            Connect c;
            PC5SEC_TRY(r.get(*t, where, "source", c.source));
            PC5SEC_TRY(r.get(*t, where, "target", c.target));
            PC5SEC_TRY(r.get(*t, where, "relay", c.relay));
            PC5SEC_TRY(r.get(*t, where, "at_ms", c.at_ms));
            s.connects.push_back(std::move(c));
        }
    }
    if (const auto* m = root.get_as<toml::table>("medium")) {
        PC5SEC_TRY(r.only(*m, "medium",
                          {"delay_ms", "jitter_ms", "loss", "duplicate", "reorder", "corrupt",
                           "rlc_am", "max_retx_threshold", "status_delay_ms", "crc"}));
        PC5SEC_TRY(r.get(*m, "medium", "delay_ms", s.medium.delay_ms));
        PC5SEC_TRY(r.get(*m, "medium", "jitter_ms", s.medium.jitter_ms));
        if (s.medium.delay_ms > kMaxMediumDelayMs)
            return r.bad("medium.delay_ms", fmt::format("at most {:.0f} ms", kMaxMediumDelayMs));
        if (s.medium.jitter_ms > kMaxMediumDelayMs)
            return r.bad("medium.jitter_ms", fmt::format("at most {:.0f} ms", kMaxMediumDelayMs));
        PC5SEC_TRY(r.probability(*m, "loss", s.medium.loss));
        PC5SEC_TRY(r.probability(*m, "duplicate", s.medium.duplicate));
        PC5SEC_TRY(r.probability(*m, "reorder", s.medium.reorder));
        PC5SEC_TRY(r.probability(*m, "corrupt", s.medium.corrupt));
        if (s.medium.loss >= 1) return r.bad("medium.loss", "must be below 1");
        PC5SEC_TRY(r.get(*m, "medium", "rlc_am", s.medium.rlc_am));
        PC5SEC_TRY(r.get(*m, "medium", "crc", s.medium.crc));
        PC5SEC_TRY(r.get(*m, "medium", "max_retx_threshold", s.medium.max_retx_threshold));
        if (s.medium.max_retx_threshold > kMaxRetxThreshold)
            return r.bad(
                "medium.max_retx_threshold",
                fmt::format("0 .. {} (sl-MaxRetxThreshold, TS 38.331)", kMaxRetxThreshold));
        PC5SEC_TRY(r.get(*m, "medium", "status_delay_ms", s.medium.status_delay_ms));
        if (s.medium.status_delay_ms > kMaxMediumDelayMs)
            return r.bad("medium.status_delay_ms",
                         fmt::format("at most {:.0f} ms", kMaxMediumDelayMs));
    }
    if (const auto* t = root.get_as<toml::table>("traffic")) {
        PC5SEC_TRY(r.only(*t, "traffic",
                          {"pdus", "size", "interval_ms", "bearer", "echo", "rekey_after"}));
        PC5SEC_TRY(r.get(*t, "traffic", "rekey_after", s.traffic.rekey_after));
        if (s.traffic.rekey_after > 0xFF000000u)
            return r.bad("traffic.rekey_after", "at most 4278190080 PDUs under one key");
        PC5SEC_TRY(r.get(*t, "traffic", "pdus", s.traffic.pdus));
        if (s.traffic.pdus > kMaxPdus)
            return r.bad("traffic.pdus", fmt::format("at most {} per source", kMaxPdus));
        PC5SEC_TRY(r.get(*t, "traffic", "size", s.traffic.size));
        PC5SEC_TRY(r.get(*t, "traffic", "interval_ms", s.traffic.interval_ms));
        PC5SEC_TRY(r.get(*t, "traffic", "bearer", s.traffic.bearer));
        PC5SEC_TRY(r.get(*t, "traffic", "echo", s.traffic.echo));
        if (s.traffic.size == 0 || s.traffic.size > 9000)
            return r.bad("traffic.size", "1 .. 9000 octets (TS 38.323 4.3.1)");
        if (s.traffic.bearer < 4 || s.traffic.bearer > 19)
            return r.bad("traffic.bearer", "a data bearer, LCID 4 .. 19 (3gpp-facts §4)");
    }
    if (const auto* t = root.get_as<toml::table>("processing")) {
        PC5SEC_TRY(r.only(*t, "processing", {"profile", "factor", "costs_us"}));
        PC5SEC_TRY(r.get(*t, "processing", "profile", s.processing.profile));
        bool known = s.processing.profile == "none" || s.processing.profile == "measured";
        std::string names = "none, measured";
        for (const auto& p : device_profiles()) {
            known |= p.name == s.processing.profile;
            names += ", " + p.name;
        }
        if (!known) return r.bad("processing.profile", "one of " + names);
        PC5SEC_TRY(r.get(*t, "processing", "factor", s.processing.factor));
        if (!(s.processing.factor > 0) || s.processing.factor > 1e6)
            return r.bad("processing.factor", "0 < factor <= 1000000");
        if (const auto* c = t->get_as<toml::table>("costs_us")) {
            const std::string where = "processing.costs_us";
            PC5SEC_TRY(r.only(
                *c, where,
                {"sign", "verify", "cert_verify", "key_agreement", "keygen", "kdf", "pdcp"}));
            CostTable k;
            PC5SEC_TRY(r.get(*c, where, "sign", k.sign_us));
            PC5SEC_TRY(r.get(*c, where, "verify", k.verify_us));
            PC5SEC_TRY(r.get(*c, where, "cert_verify", k.cert_verify_us));
            PC5SEC_TRY(r.get(*c, where, "key_agreement", k.key_agreement_us));
            PC5SEC_TRY(r.get(*c, where, "keygen", k.keygen_us));
            PC5SEC_TRY(r.get(*c, where, "kdf", k.kdf_us));
            PC5SEC_TRY(r.get(*c, where, "pdcp", k.pdcp_us));
            for (double v : {k.sign_us, k.verify_us, k.cert_verify_us, k.key_agreement_us,
                             k.keygen_us, k.kdf_us, k.pdcp_us})
                if (v > 1e9) return r.bad(where, "each cost at most 1e9 us");
            s.processing.costs = k;
            if (s.processing.profile == "measured")
                return r.bad("processing.costs_us", "a table of costs is not measured");
        }
    }
    if (const auto* t = root.get_as<toml::table>("expect")) {
        PC5SEC_TRY(r.only(*t, "expect", {"established", "cause", "delivered_min", "drops_min"}));
        if (t->contains("established")) {
            bool b = false;
            PC5SEC_TRY(r.get(*t, "expect", "established", b));
            s.expect.established = b;
        }
        if (t->contains("cause")) {
            std::uint8_t c = 0;
            PC5SEC_TRY(r.get(*t, "expect", "cause", c));
            s.expect.cause = c;
        }
        if (t->contains("delivered_min")) {
            std::uint64_t n = 0;
            PC5SEC_TRY(r.get(*t, "expect", "delivered_min", n));
            s.expect.delivered_min = n;
        }
        if (const auto* d = t->get_as<toml::table>("drops_min"))
            for (const auto& [k, v] : *d) {
                std::uint64_t n = 0;
                PC5SEC_TRY(r.get(*d, "expect.drops_min", k.str(), n));
                bool known = false;
                for (std::size_t i = 0; i < pc5::kDropReasons; ++i)
                    known |= k.str() == pc5::name(static_cast<pc5::DropReason>(i));
                if (!known)
                    return r.bad(fmt::format("expect.drops_min.{}", k.str()),
                                 "a drop reason: malformed, bad-mac, replay, unknown-session, "
                                 "unexpected, not-for-us or duplicate");
                s.expect.drops_min[std::string(k.str())] = n;
            }
    }
    if (const auto* t = root.get_as<toml::table>("scale")) {
        PC5SEC_TRY(r.only(*t, "scale", {"pairs", "relays", "zone_relays"}));
        PC5SEC_TRY(r.get(*t, "scale", "pairs", s.scale_pairs));
        PC5SEC_TRY(r.get(*t, "scale", "relays", s.scale_relays));
        PC5SEC_TRY(r.get(*t, "scale", "zone_relays", s.scale_zone_relays));
        if (s.scale_zone_relays < 1 || s.scale_zone_relays > 1000)
            return r.bad("scale.zone_relays", "1 to 1000 relays in each zone");
        if (s.scale_pairs > 1'000'000 ||
            (s.scale_pairs && !s.scale_relays && s.path != pc5::Path::direct))
            return r.bad("scale", "pairs <= 1000000, and relays >= 1 unless the path is direct");
        // Each relay carries at least one pair: more would be UEs that do nothing (and a
        // `relays` of millions would build millions of them; found by fuzz_scenario).
        if (s.scale_relays > s.scale_pairs)
            return r.bad("scale.relays", "at most `pairs` (each relay carries at least one pair)");
        expand_scale(s);
    }

    // Cross-checks: the names a scenario uses exist, and the path suits the solution.
    if (s.solution != pc5::Solution::a && s.path == pc5::Path::direct)
        return r.bad("path", "solution B always runs through a relay (seed 001)");
    if (s.solution == pc5::Solution::a && s.attack == Attack::unconfirmed_target)
        return r.bad("attack",
                     "unconfirmed-target is solution B's key confirmation (solution A confirms "
                     "keys in its security mode procedure)");
    if (s.solution == pc5::Solution::a && s.attack == Attack::key_substitution)
        return r.bad("attack",
                     "key-substitution is a rogue solution B relay that signs as the end UEs; "
                     "solution A's relay signs nothing for them (its end-to-end keys come from "
                     "step 3 between the end UEs)");
    if (s.solution == pc5::Solution::a && s.attack == Attack::relay_not_authorised_for_target)
        return r.bad("attack",
                     "relay-not-authorised-for-target is a rogue solution B relay that re-signs "
                     "anyway; solution A's relay refuses itself (unauthorised-relay)");
    // Through a layer-3 relay the data are IPv6/UDP packets (docs/userplane.md); solution B's
    // carry an end-to-end protected PDU (its header and MAC-I) inside (docs/solution-b.md).
    if (s.path == pc5::Path::l3) {
        const std::size_t inner =
            s.solution == pc5::Solution::a ? 0 : userplane::kHeaderSize + userplane::kMacSize;
        const std::size_t most = userplane::kMaxSdu - userplane::kL3Overhead - inner;
        if (s.traffic.size > most)
            return r.bad(
                "traffic.size",
                fmt::format("1 .. {} octets through a layer-3 relay: its IPv6 and UDP "
                            "headers{} take {} of the SDU's {}",
                            most, inner ? " and the end-to-end PDU's header and MAC-I" : "",
                            userplane::kMaxSdu - most, userplane::kMaxSdu));
    }
    std::set<std::string> names;
    std::set<pc5::L2Id> l2s;
    for (std::size_t i = 0; i < s.ues.size(); ++i) {
        if (!names.insert(s.ues[i].name).second)
            return r.bad(fmt::format("ue[{}].name", i),
                         "'" + escape_text(s.ues[i].name) + "' twice");
        if (s.ues[i].l2 && !l2s.insert(s.ues[i].l2).second)
            return r.bad(fmt::format("ue[{}].l2", i), "this layer-2 ID is taken");
    }
    // One index by name: a [scale] population of a million pairs is checked in n log n, not n².
    std::map<std::string_view, std::size_t> by_name;
    for (std::size_t i = 0; i < s.ues.size(); ++i)
        by_name.emplace(s.ues[i].name, i);
    auto find = [&](const std::string& n) {
        const auto it = by_name.find(n);
        return it == by_name.end() ? s.ues.end()
                                   : s.ues.begin() + static_cast<std::ptrdiff_t>(it->second);
    };
    for (std::size_t i = 0; i < s.connects.size(); ++i) {
        const auto& c = s.connects[i];
        const std::string where = fmt::format("connect[{}]", i);
        auto src = find(c.source), dst = find(c.target);
        if (src == s.ues.end() || src->relay)
            return r.bad(where + ".source",
                         "'" + escape_text(c.source) + "' is no end UE of [[ue]]");
        if (dst == s.ues.end() || dst->relay)
            return r.bad(where + ".target",
                         "'" + escape_text(c.target) + "' is no end UE of [[ue]]");
        if (s.path == pc5::Path::direct && !c.relay.empty())
            return r.bad(where + ".relay", "the direct path has no relay");
        if (s.path != pc5::Path::direct) {
            if (c.relay.empty()) return r.bad(where + ".relay", "a relay's name, or \"auto\"");
            auto rel = find(c.relay);
            if (c.relay != "auto" && (rel == s.ues.end() || !rel->relay))
                return r.bad(where + ".relay",
                             "'" + escape_text(c.relay) + "' is no relay of [[ue]]");
        }
    }
    if (s.connects.empty()) return r.bad("connect", "a scenario needs at least one [[connect]]");
    // Every PDU of every pair is scheduled when its pair is ready.
    if (static_cast<std::uint64_t>(s.traffic.pdus) * s.connects.size() > kMaxScheduledPdus)
        return r.bad("traffic.pdus",
                     fmt::format("{} PDUs x {} establishments is above {} PDUs in one run",
                                 s.traffic.pdus, s.connects.size(), kMaxScheduledPdus));
    // The attacker: its compromised UEs, then its rules (checked against both).
    std::vector<std::string> ue_names;
    for (const auto& u : s.ues)
        ue_names.push_back(u.name);
    if (const auto* c = root.get("compromised")) {
        const auto* arr = c->as_array();
        if (!arr) return r.bad("compromised", "an array of UE names");
        for (const auto& n : *arr) {
            if (!n.is_string() || !names.count(n.as_string()->get()))
                return r.bad("compromised", "an array of the names of [[ue]]");
            s.compromised.push_back(n.as_string()->get());
        }
    }
    if (const auto* a = root.get("attacker"))
        PC5SEC_TRY(read_rules(r, *a, ue_names, s.solution, s.compromised, s.attacker));
    return s;
}

void expand_scale(Scenario& s) {
    if (!s.scale_pairs) return;
    // Relays first, then each pair: source i and target i, through relay i % relays, in the
    // relay's zone (its discovery broadcasts reach only its own zone). Relays r * zone_relays
    // to (r + 1) * zone_relays - 1 share zone r + 1.
    const std::uint32_t relays = s.path == pc5::Path::direct ? 0 : s.scale_relays;
    const std::uint32_t per_zone = std::max<std::uint32_t>(1, s.scale_zone_relays);
    s.ues.reserve(s.ues.size() + relays + 2 * std::size_t{s.scale_pairs});
    s.connects.reserve(s.connects.size() + s.scale_pairs);
    pc5::L2Id next = 0x100000;
    for (std::uint32_t r = 0; r < relays; ++r) {
        UeSpec u;
        u.name = fmt::format("relay-{}", r + 1);
        u.l2 = next++;
        u.relay = true;
        u.zone = r / per_zone + 1;
        s.ues.push_back(std::move(u));
    }
    for (std::uint32_t i = 0; i < s.scale_pairs; ++i) {
        const std::uint32_t zone = relays ? i % relays / per_zone + 1 : i + 1;
        UeSpec src, dst;
        src.name = fmt::format("src-{}", i + 1);
        dst.name = fmt::format("dst-{}", i + 1);
        src.l2 = next++;
        dst.l2 = next++;
        src.zone = dst.zone = zone;
        s.ues.push_back(src);
        s.ues.push_back(dst);
        Connect c;
        c.source = src.name;
        c.target = dst.name;
        if (relays) c.relay = fmt::format("relay-{}", i % relays + 1);
        // Spread the requests over the first second, 1 ms apart at most.
        c.at_ms = static_cast<double>(i % 1000);
        s.connects.push_back(std::move(c));
    }
    s.scale_pairs = 0;  // expanded: a second call adds nothing
}

Result<Scenario> builtin(std::string_view name) {
    if (name.starts_with("builtin:")) name.remove_prefix(8);
    for (const auto& b : builtin_scenarios())
        if (b.name == name) return parse_scenario(b.toml, "builtin:" + b.name);
    return make_error(Errc::invalid_argument, "scenario",
                      fmt::format("no built-in scenario '{}' (pc5sec scenarios lists them)", name));
}

}  // namespace pc5sec::sim
