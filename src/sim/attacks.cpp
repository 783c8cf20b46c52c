// The simulator's attacker (docs/scenarios.md "The attacker"): the rules of [[attacker]] and of
// the named attack (`attack = NAME`, sim::attack_rules) run by sim::Attacker on every frame as it
// reaches its receiver, and at their times. Credential attacks (expired, revoked, foreign CA,
// unauthorised relay, the revocation of revoked-with-cached-knrp) are set-ups; a compromised
// UE of solution B is a rogue UE whose own engine applies the rules to what it sends.
#include <fmt/format.h>

#include "pc5sec/codec.hpp"
#include "sim/world.hpp"

namespace pc5sec::sim {

using namespace std::chrono_literals;

void World::setup_attacker(const std::vector<UeSpec>& specs) {
    const auto& s = scenario;
    const auto& c = s.connects.front();
    auto named = attack_rules(s.attack, c.source, c.target, c.relay == "auto" ? "" : c.relay);
    std::vector<AttackRule> rules = std::move(named.rules);
    rules.insert(rules.end(), s.attacker.begin(), s.attacker.end());
    if (rules.empty()) return;
    AttackerSetup a;
    a.solution = s.solution;
    a.seed = s.seed;
    for (const auto& u : specs)
        a.ues[u.name] = u.l2;
    a.compromised = s.compromised;
    a.compromised.insert(a.compromised.end(), named.compromised.begin(), named.compromised.end());
    a.data_bearer = s.traffic.bearer;
    a.holds_rsc_material = s.attacker_holds_rsc_material;
    attacker.emplace(std::move(rules), std::move(a));
}

// A frame reaching UE `to`: the rules act on it, then the UE gets it (or not). The receiver's
// answer to a rule's frame is judged: dropped (by reason, from its counters) or taken.
void World::intercept(std::size_t to, pc5::Frame f, std::uint64_t arrow) {
    std::optional<std::size_t> rule;
    if (attacker) {
        std::vector<Attacker::Emit> out;
        const auto v = attacker->on_frame(now, f, out);
        emit(out);
        if (v.altered) {
            ++medium.tampered;
            record_altered(f);
        }
        rule = v.rule;
        // The diagrams name the rule that changed, held back or took the frame.
        if (arrow && v.rule && (v.altered || !v.deliver))
            mark_arrows(arrow, attacker->rules()[*v.rule].name, !v.deliver);
        if (!v.deliver) return;  // the attacker took it: no victim saw it
    }
    process(to, std::move(f), rule, arrow);
}

void World::process(std::size_t to, pc5::Frame f, std::optional<std::size_t> rule,
                    std::uint64_t arrow, std::optional<pc5::Time> since) {
    Ue& u = *ues[to];
    const pc5::Time arrived = since ? *since : now;
    if (busy(to)) {  // the UE is still at its last work: the frame waits (processing model)
        u.longest_wait = std::max(u.longest_wait, u.busy_until - arrived);
        queue.push(Event{u.busy_until,
                         seq++,
                         Kind::process,
                         to,
                         rule ? static_cast<std::uint32_t>(*rule + 1) : 0,
                         std::move(f),
                         {},
                         arrow,
                         arrived});
        return;
    }
    const bool data = userplane::carries_data(f);
    // Protected signalling costs the receiver a NEA/NIA pass (the user plane counts its own).
    if (protected_signalling(f)) ++u.pdcp_signalling;
    const auto drops = [&] { return data ? u.up->counters().drops : u.engine->counters().drops; };
    const auto before = rule ? drops() : decltype(drops()){};
    u.station->receive(f, now);  // data to the user plane, the rest to the engine
    if (!rule) return;
    const auto after = drops();
    for (std::size_t i = 0; i < after.size(); ++i)
        if (after[i] != before[i]) {
            const std::string reason = pc5::name(static_cast<pc5::DropReason>(i));
            attacker->judged(*rule, &reason);
            if (arrow) mark_arrows(arrow, attacker->rules()[*rule].name, true);
            return;
        }
    attacker->judged(*rule, nullptr);
}

// Frames the attacker adds: on the air at their time, through the medium like any other.
void World::emit(std::vector<Attacker::Emit>& out) {
    for (auto& e : out) {
        auto it = by_l2.find(e.frame.dst);
        if (it == by_l2.end()) {
            ++medium.undeliverable;
            continue;
        }
        ++medium.injected;
        if (e.at > now) {
            schedule(e.at, Kind::emit, it->second, std::move(e.frame),
                     static_cast<std::uint32_t>(e.rule));
            continue;
        }
        record_altered(e.frame);
        count_air(std::nullopt, AirKind::attacker, 1, e.frame.pdu.size());
        const auto from = by_l2.find(e.frame.src);
        carry(from == by_l2.end() ? std::nullopt : std::optional<std::size_t>(from->second),
              it->second, std::move(e.frame), false, e.rule);
    }
    out.clear();
    arm_attacker();
}

void World::arm_attacker() {
    if (!attacker) return;
    const pc5::Time t = attacker->next_due();
    if (t == pc5::kNever || t == attacker_armed) return;
    attacker_armed = t;
    schedule(std::max(t, now), Kind::attacker, 0);
}

void World::attacker_due() {
    if (!attacker || now != attacker_armed) return;  // re-armed since: a stale entry
    attacker_armed = pc5::kNever;
    std::vector<Attacker::Emit> out;
    attacker->due(now, out);
    emit(out);
}

// What the attacker (or the radio) put on the air in place of, or besides, what a UE sent: the
// capture shows it as on the air, so the key log proves its MAC-I bad or its COUNT replayed.
void World::record_altered(const pc5::Frame& f) {
    if (!options.capture) return;
    pc5::Frame copy{f.src, f.dst, f.lcid, f.pdu};
    capture.record(now, copy);
}

// Once the first pair is ready: the rules timed from "ready", the scenario's release (reuse, or
// rules timed from "released") and what follows it.
void World::stage_attacks(std::size_t pi) {
    if (pi != 0) return;
    const pc5::Time traffic_end =
        now +
        pc5::Time{static_cast<std::int64_t>(scenario.traffic.interval_ms * 1e6) *
                  (scenario.traffic.pdus + 1)} +
        100ms;
    const bool cached_knrp = scenario.attack == Attack::revoked_with_cached_knrp;
    if (attacker) attacker->set_anchor(Anchor::ready, now);
    if (scenario.reuse || cached_knrp || (attacker && attacker->uses(Anchor::released))) {
        for (std::size_t i = 0; i < ues.size(); ++i)
            schedule(traffic_end + 1s, Kind::release, i);
        if (attacker) attacker->set_anchor(Anchor::released, traffic_end + 1s);
        if (cached_knrp) schedule(traffic_end + 2s, Kind::revoke, pi);
        // Reuse: every pair connects again (each source reusing its KNRP); the cached-KNRP
        // attack: the first pair's source, which the revocation hit.
        if (scenario.reuse)
            for (std::size_t k = 0; k < pairs.size(); ++k)
                schedule(traffic_end + 3s, Kind::reconnect, k);
        else if (cached_knrp)
            schedule(traffic_end + 3s, Kind::reconnect, pi);
    } else if (scenario.release) {
        // The sources release their links (TS 24.554 release; solution B end to end).
        for (const auto& p : pairs)
            schedule(traffic_end + 1s, Kind::release, p.source);
    }
    arm_attacker();
}

// revoked-with-cached-knrp: the source's certificate is revoked after its first link, and
// every UE loads the new revocation list; the source still holds the KNRP it established.
void World::revoke_source() {
    touched = ues.size();
    Ue& src = *ues[pairs.front().source];
    if (!src.creds || !pf) return;
    (void)pf->revoke(src.creds->certificate(),
                     kEpoch + std::chrono::duration_cast<std::chrono::seconds>(now));
    for (auto& u : ues)
        if (u->creds && pf->revocation_list())
            (void)u->creds->trust().set_revocation_list(*pf->revocation_list());
}

}  // namespace pc5sec::sim
