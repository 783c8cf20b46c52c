// The discrete-event simulator (include/pc5sec/sim.hpp, docs/scenarios.md).
//
// One event queue in virtual time: frame deliveries, engine timers, connects, data sends and
// the attacker's actions. After anything touches a UE, the driver drains that UE's engine and
// user plane (frames onto the medium, events into the report) and re-arms its timer, so the cost
// of an event does not grow with the number of UEs. The medium applies the scenario's delay,
// jitter, loss, duplication, reordering and corruption per frame with its own seeded generator.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>
#include <unordered_map>

#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/sim.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/trace.hpp"
#include "pc5sec/userplane.hpp"
#include "sim/seeded_openssl.hpp"
#include "sim/world.hpp"

namespace pc5sec::sim {

using namespace std::chrono_literals;

namespace {

pc5::Time from_ms(double ms) {
    return pc5::Time{static_cast<std::int64_t>(std::llround(ms * 1e6))};
}

}  // namespace

// ---------------------------------------------------------------- set-up

Result<std::shared_ptr<creds::ProvisioningFunction>> make_ca(Rng& rng) {
    auto ca = creds::ProvisioningFunction::create(kEpoch - 24h, 24h * 365, "pc5sec CA", rng);
    if (!ca) return std::move(ca).error();
    return std::make_shared<creds::ProvisioningFunction>(std::move(*ca));
}

World::World(const Scenario& s, const Options& o, const SharedCa* shared_ca,
             std::vector<std::size_t> index)
    : scenario(s),
      options(o),
      rng(s.seed),
      medium_rng(s.seed ^ 0x5eed5eed5eedull),
      shared(shared_ca),
      pair_index(std::move(index)),
      capture(static_cast<std::uint64_t>(creds::to_unix_seconds(kEpoch)) * 1'000'000) {}

World::~World() = default;

Status World::setup() {
    const auto& s = scenario;
    if (shared) {  // a zone of a partitioned run: the CA is the run's (sim/zones.cpp)
        pf = shared->pf;
        group_key = shared->group_key;
    } else {
        auto ca = make_ca(rng);
        if (!ca) return std::move(ca).error();
        pf = std::move(*ca);
    }
    const bool any_foreign = s.attack == Attack::foreign_ca ||
                             std::any_of(s.ues.begin(), s.ues.end(), [](const UeSpec& u) {
                                 return u.credentials == Credentials::foreign_ca;
                             });
    if (any_foreign) {
        auto other =
            creds::ProvisioningFunction::create(kEpoch - 24h, 24h * 365, "foreign CA", rng);
        if (!other) return std::move(other).error();
        foreign = std::make_shared<creds::ProvisioningFunction>(std::move(*other));
    }
    if (!shared) rng.fill(group_key);

    // Which UE each attack on credentials hits (as `pc5sec establish` stages them).
    std::vector<UeSpec> specs = s.ues;
    const std::string source = s.connects.front().source, target = s.connects.front().target;
    for (auto& u : specs) {
        if (s.attack == Attack::expired && u.name == source) u.credentials = Credentials::expired;
        if (s.attack == Attack::revoked && u.name == source) u.credentials = Credentials::revoked;
        if (s.attack == Attack::foreign_ca && u.name == target)
            u.credentials = Credentials::foreign_ca;
        if ((s.attack == Attack::unauthorised_relay ||
             s.attack == Attack::relay_not_authorised_for_target) &&
            u.relay)
            u.rscs = {0x00B002};
        if (s.attack == Attack::target_not_authorised && u.name == target) u.rscs = {0x00B002};
        if (u.rscs.empty()) u.rscs = {s.rsc};
    }
    // Layer-2 IDs, zones and names first: directories need them.
    pc5::L2Id next = 0x200000;
    for (auto& u : specs) {
        if (!u.l2) u.l2 = next++;
        by_name[u.name] = ues.size();
        by_l2[u.l2] = ues.size();
        auto ue = std::make_unique<Ue>();
        ue->spec = u;
        ue->l3_addr = userplane::l3_address(u.name);
        ues.push_back(std::move(ue));
        zones[u.zone].push_back(ues.size() - 1);
    }
    setup_attacker(specs);
    // Issue credentials; revoke before anyone loads the revocation list.
    std::vector<creds::IssuedCredentials> issued;
    issued.reserve(ues.size());
    const auto key_type = s.key_type == "ed25519" ? KeyType::ed25519 : KeyType::p256;
    for (auto& ue : ues) {
        const auto& u = ue->spec;
        creds::UeProfile p;
        p.user_info_id = u.name;
        p.authorisation = {{u.relay ? creds::Role::u2u_relay : creds::Role::end_ue}, u.rscs};
        // Solution B's end UEs derive KD by ECDH with their long-term key: P-256 (seed 001).
        p.key_type = s.solution != pc5::Solution::a && !u.relay ? KeyType::p256 : key_type;
        auto& ca = u.credentials == Credentials::foreign_ca ? *foreign : *pf;
        auto c = u.credentials == Credentials::expired ? ca.issue(p, kEpoch - 48h, 24h, rng)
                                                       : ca.issue(p, kEpoch - 1h, 24h * 30, rng);
        if (!c) return std::move(c).error();
        if (u.credentials == Credentials::revoked) PC5SEC_TRY(pf->revoke(c->certificate, kEpoch));
        // The UE of a credential attack holds the RSC's discovery material all the same (an
        // insider of the RSC: the material is shared by every UE of the RSC), so the attack
        // tests the certificate checks, not the concealment of the request (docs/discovery.md,
        // "Request privacy"; without the material the UE refuses the request with #11, or
        // cannot read it).
        const bool credential_attack =
            u.credentials == Credentials::foreign_ca ||
            (s.attack == Attack::target_not_authorised && u.name == target) ||
            (u.relay && (s.attack == Attack::unauthorised_relay ||
                         s.attack == Attack::relay_not_authorised_for_target));
        if (credential_attack) c->discovery = {pf->discovery_material(s.rsc, kEpoch, rng)};
        issued.push_back(std::move(*c));
    }
    // One trust store, copied into each UE's credentials: the copies share its X509_STORE.
    if (shared) {
        trust = shared->trust;
    } else {
        auto made = creds::TrustStore::create(pf->ca_certificate());
        if (!made) return std::move(made).error();
        if (pf->revocation_list()) PC5SEC_TRY(made->set_revocation_list(*pf->revocation_list()));
        trust.emplace(std::move(*made));
    }
    for (std::size_t i = 0; i < ues.size(); ++i)
        PC5SEC_TRY(make_engine(*ues[i], std::move(issued[i])));

    // Who each source connects to, and the pairs the relays join (layer 3).
    for (const auto& c : s.connects) {
        Pair p;
        p.source = by_name.at(c.source);
        p.target = by_name.at(c.target);
        if (!c.relay.empty() && c.relay != "auto") p.relay = by_name.at(c.relay);
        p.auto_relay = c.relay == "auto";
        p.at = from_ms(c.at_ms);
        pairs.push_back(p);
        ues[p.source]->pairs.push_back(pairs.size() - 1);
        ues[p.target]->pairs.push_back(pairs.size() - 1);
        if (p.relay) ues[*p.relay]->pairs.push_back(pairs.size() - 1);
        schedule(p.at, Kind::connect, pairs.size() - 1);
    }
    for (auto& ue : ues)  // the per-role figures: a relay, a source, or a target only
        ue->role = ue->spec.relay ? kRelayRole : kTargetRole;
    for (const auto& p : pairs)
        ues[p.source]->role = kSourceRole;
    // The processing model's table.
    const auto& proc = s.processing;
    processing = proc.on();
    if (processing) {
        if (proc.costs) {
            costs = *proc.costs;
        } else if (proc.profile == "measured") {
            costs = options.measured_costs ? *options.measured_costs : measure_costs();
        } else {
            costs = default_costs();
            for (const auto& p : device_profiles())
                if (p.name == proc.profile) costs = costs.scaled(p.factor);
        }
        costs = costs.scaled(proc.factor);
    }
    arm_attacker();  // rules timed from the start
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        // The first Options::diagrams pairs of the whole scenario.
        if ((pair_index.empty() ? i : pair_index[i]) >= options.diagrams) continue;
        pairs[i].diagram.emplace();
        auto& d = *pairs[i].diagram;
        d.title = fmt::format("{}: {} to {}{}", s.name, ues[pairs[i].source]->spec.name,
                              ues[pairs[i].target]->spec.name,
                              pairs[i].relay ? " via " + ues[*pairs[i].relay]->spec.name : "");
        d.subtitle = fmt::format("solution {}, path {}, attack {}", pc5::name(s.solution),
                                 pc5::name(s.path), name(s.attack));
        d.lanes.push_back(ues[pairs[i].source]->spec.name);
        if (pairs[i].relay) d.lanes.push_back(ues[*pairs[i].relay]->spec.name);
        d.lanes.push_back(ues[pairs[i].target]->spec.name);
    }
    return {};
}

Status World::make_engine(Ue& ue, creds::IssuedCredentials issued) {
    const auto& s = scenario;
    const auto& u = ue.spec;
    // What a relay hears: the UEs of its zone (discovery of end UEs, TS 23.304 6.3.2.3). Only
    // relays look names up (link/relay.cpp, sigauth/relay.cpp and discovery answers): an end
    // UE's copy would cost the zone's size per UE, and the zone's size squared in time.
    std::map<std::string, pc5::L2Id> directory;
    if (u.relay)
        for (auto i : zones[u.zone])
            directory[ues[i]->spec.name] = ues[i]->spec.l2;
    auto level = [](const std::string& text) { return *policy_level_from_name(text, "policy"); };
    // Step 0, for A and B-hardened alike: in coverage the provisioning function renews
    // credentials (seed 000 FFS); out of coverage an expired one is refused with #6.
    auto manager = [&] {
        auto m = std::make_shared<creds::CredentialManager>(std::move(issued.key),
                                                            std::move(issued.certificate), *trust);
        m->set_logger([](std::string_view) {});
        if (u.in_coverage) m->set_provisioning_function(&*pf);
        if (options.export_long_term_keys) ue.long_term = m->key();
        ue.creds = m;
        return m;
    };
    station::Spec st;
    st.solution = s.solution;
    st.role = u.relay ? pc5::UeRole::relay : pc5::UeRole::end_ue;
    st.user_info = u.name;
    st.l2_id = u.l2;
    st.credentials = manager();
    st.in_coverage = u.in_coverage;
    st.wall_epoch = kEpoch;
    st.rng = &rng;
    st.keylog = &keylog;
    st.directory = std::move(directory);
    // Each RSC's discovery material goes to the key log once (not once per UE).
    for (const auto& m : issued.discovery)
        if (discovery_logged.insert(m.rsc).second) {
            discovery::log_material(keylog, m);
            if (attacker) attacker->learn(m);  // an insider of the RSC, unless told otherwise
        }
    st.discovery_material = std::move(issued.discovery);
    st.log_discovery_material = false;
    // Each frame's view (the message inside protected PC5-S): the like-for-like counts tell
    // keep-alives, re-keying and establishment apart by it, with or without a capture.
    st.capture = true;
    st.policy.signalling.integrity = level(u.integrity);  // B: checked as solution A does
    st.policy.signalling.ciphering = level(u.ciphering);
    st.rscs = u.rscs;
    if (scenario.traffic.rekey_after > 0) st.rekey_threshold = scenario.traffic.rekey_after;
    if (s.privacy_timer_s > 0) {
        const auto t5090 =
            std::chrono::duration_cast<pc5::Time>(std::chrono::duration<double>(s.privacy_timer_s));
        st.a.timers.t5090 = t5090;
        st.b.t5090 = t5090;  // each end UE's hop (docs/solution-b.md "Link identifier update")
    }
    if (s.psk) {
        st.policy.group_keys.emplace("fleet", GroupKey(group_key));
        st.a.method = link::AuthMethod::psk;
        st.a.psk_identity = "fleet";
    }
    // The rogue relay serves the RSC its certificate does not authorise.
    if (u.relay && s.attack == Attack::relay_not_authorised_for_target) st.rscs = {s.rsc};
    // A rogue relay not authorised for the RSC: it skips its own checks and re-signs.
    st.b.tamper.ignore_authorisation =
        u.relay && s.attack == Attack::relay_not_authorised_for_target;
    // seed 001's literal-mode man in the middle: the rogue relay signs as the end UEs.
    st.b.tamper.substitute_end_keys = u.relay && s.attack == Attack::key_substitution;
    // A rogue UE: its own engine signs the request the attacker's rules made.
    if (attacker && attacker->rogue(u.name))
        st.b.tamper.on_request = [this, name = u.name](codec::DirectLinkEstablishmentRequest& m) {
            if (attacker->edit_own(now, name, m)) ++medium.tampered;
        };
    auto made = station::Station::create(std::move(st));
    if (!made) return std::move(made).error();
    ue.station = std::move(*made);
    ue.engine = &ue.station->engine();
    ue.a = ue.station->a();
    ue.b = ue.station->b();
    ue.up = &ue.station->user_plane();
    if (s.solution == pc5::Solution::b_literal) ue.creds = nullptr;  // raw public keys: no PKI
    return {};
}

// ---------------------------------------------------------------- the event loop

void World::schedule(pc5::Time at, Kind kind, std::size_t who, pc5::Frame frame, std::uint32_t n,
                     std::string hint, std::uint64_t arrow) {
    queue.push(Event{at, seq++, kind, who, n, std::move(frame), std::move(hint), arrow});
}

void World::arm(std::size_t i) {
    Ue& u = *ues[i];
    pc5::Time t = u.engine->next_timeout();
    if (t == pc5::kNever) return;
    // Not before now, nor before the UE's current work is done (the processing model).
    t = std::max({t, now, processing ? u.busy_until : now});
    if (t == u.armed) return;
    u.armed = t;
    schedule(t, Kind::timer, i);
}

void World::run() {
    const pc5::Time end = from_ms(scenario.duration_s * 1000);
    std::size_t settled_reported = 0;
    while (!queue.empty()) {
        Event e = std::move(const_cast<Event&>(queue.top()));
        queue.pop();
        if (e.at > end) break;
        now = e.at;
        switch (e.kind) {
            case Kind::deliver:
                deliver(e.who, std::move(e.frame), e.arrow);
                break;
            case Kind::process:
                process(e.who, std::move(e.frame),
                        e.n ? std::optional<std::size_t>(e.n - 1) : std::nullopt, e.arrow, e.since);
                break;
            case Kind::transmit:
                transmit(e.who, std::move(e.frame), e.hint, static_cast<AirKind>(e.n));
                break;
            case Kind::timer: {
                Ue& u = *ues[e.who];
                if (u.armed != e.at) break;  // re-armed since: a stale entry
                u.armed = pc5::kNever;
                if (busy(e.who)) break;  // the timer's work waits: pump() arms it again
                u.station->handle_timeout(now);
                break;
            }
            case Kind::connect:
                if (busy(pairs[e.who].source)) {
                    schedule(ues[pairs[e.who].source]->busy_until, Kind::connect, e.who);
                    break;
                }
                connect(e.who);
                break;
            case Kind::send:
                if (busy(pairs[e.who].source)) {
                    schedule(ues[pairs[e.who].source]->busy_until, Kind::send, e.who, {}, e.n);
                    break;
                }
                send_data(e.who, e.n);
                break;
            case Kind::release:
                release(e.who);
                break;
            case Kind::reconnect:
                connect(e.who);
                break;
            case Kind::revoke:
                revoke_source();
                break;
            case Kind::attacker:
                touched = ues.size();  // its frames go straight onto the medium
                attacker_due();
                break;
            case Kind::emit: {
                touched = ues.size();
                record_altered(e.frame);
                count_air(std::nullopt, AirKind::attacker, 1, e.frame.pdu.size());
                const auto from = by_l2.find(e.frame.src);
                carry(from == by_l2.end() ? std::nullopt : std::optional<std::size_t>(from->second),
                      e.who, std::move(e.frame), false, static_cast<std::size_t>(e.n));
                break;
            }
            case Kind::probe:
                probe_b_route(e.who, e.n);
                break;
        }
        pump(e.kind == Kind::deliver || e.kind == Kind::timer || e.kind == Kind::process ||
                     e.kind == Kind::transmit
                 ? e.who
                 : touched);
        ++events;
        if (options.progress && settled != settled_reported && settled % 64 == 0) {
            settled_reported = settled;
            options.progress({static_cast<double>(settled) / static_cast<double>(pairs.size()),
                              events, links_up, ms(now) / 1000.0});
        }
    }
    end_time = now;
    if (options.progress) options.progress({1.0, events, links_up, ms(end_time) / 1000.0});
}

void World::connect(std::size_t pair_index) {
    Pair& p = pairs[pair_index];
    touched = p.source;
    Ue& src = *ues[p.source];
    pc5::ConnectRequest r;
    r.target = ues[p.target]->spec.name;
    r.path = scenario.path;
    r.rsc = scenario.rsc;
    if (scenario.path == pc5::Path::direct) {
        r.target_l2 = ues[p.target]->spec.l2;
    } else if (p.relay) {
        r.relay = ues[*p.relay]->spec.name;
        r.relay_l2 = ues[*p.relay]->spec.l2;
    }  // "auto": the engine discovers a relay first (seed 000 step 1)
    if (!p.settled) p.started = now;  // a second connect (reuse) is not the pair's latency
    src.engine->connect(r, now);
}

void World::release(std::size_t who) {
    touched = who;
    ues[who]->engine->release_all(now);
}

// Drains one UE: frames onto the medium, events into the report, data keys into its user plane.
// With the processing model, what it sends goes on the air once the work that made it is done.
void World::pump(std::size_t i) {
    if (i >= ues.size()) return;
    Ue& u = *ues[i];
    struct Out {
        pc5::Frame frame;
        std::string hint;
        AirKind kind;
    };
    std::vector<Out> out;
    for (int round = 0; round < 4; ++round) {
        bool any = false;
        // The engine's retransmissions since it was last drained: its first frames now.
        const std::uint64_t retx = u.engine->counters().retransmissions;
        std::uint64_t pending_retx = retx - u.retransmissions_seen;
        u.retransmissions_seen = retx;
        while (auto f = u.station->poll_transmit()) {
            any = true;
            const bool data = userplane::carries_data(*f);
            const bool is_retx = !data && pending_retx > 0;
            if (is_retx) --pending_retx;
            const AirKind kind = air_kind(i, *f, is_retx);
            if (!data) {  // from the engine
                if (protected_signalling(*f)) ++u.pdcp_signalling;
                out.push_back({std::move(*f), {}, kind});
                continue;
            }
            // Data. A relay's re-protected PDU (layer 3) goes on its hop link to the frame's
            // receiver.
            std::string hint = u.spec.relay ? std::string() : u.last_data_link;
            if (u.spec.relay && f->lcid != pc5::lcid::kEndToEnd)
                if (auto to = by_l2.find(f->dst); to != by_l2.end())
                    if (auto l = u.links_by_peer.find(ues[to->second]->spec.name);
                        l != u.links_by_peer.end())
                        hint = l->second;
            out.push_back({std::move(*f), std::move(hint), kind});
        }
        // The station acts on its engine's events first (keys into the user plane, re-keying).
        while (auto ev = u.station->poll_event()) {
            any = true;
            if (std::holds_alternative<pc5::DataReceived>(*ev))
                on_data_event(i, std::move(*ev));
            else
                on_event(i, std::move(*ev));
        }
        if (!any) break;
    }
    if (const double cost_us = charge(i); cost_us > 0)
        u.busy_until = std::max(u.busy_until, now) +
                       pc5::Time{static_cast<std::int64_t>(std::llround(cost_us * 1000.0))};
    for (auto& o : out)
        put_on_air(i, std::move(o.frame), o.hint, o.kind);
    arm(i);
}

void World::put_on_air(std::size_t i, pc5::Frame f, const std::string& hint, AirKind kind) {
    if (busy(i)) {
        schedule(ues[i]->busy_until, Kind::transmit, i, std::move(f),
                 static_cast<std::uint32_t>(kind), hint);
        return;
    }
    transmit(i, std::move(f), hint, kind);
}

// The CPU time a UE's work since it was last charged costs under the processing model: each
// operation its engine and user plane counted, at the profile's price.
double World::charge(std::size_t i) {
    if (!processing) return 0;
    Ue& u = *ues[i];
    const auto& c = u.engine->counters().crypto;
    const std::uint64_t pdcp = u.pdcp_ops();
    const auto delta = [](std::uint64_t now_n, std::uint64_t then) {
        return static_cast<double>(now_n - then);
    };
    const double us = delta(c.sign, u.charged.sign) * costs.sign_us +
                      delta(c.verify, u.charged.verify) * costs.verify_us +
                      delta(c.cert_verify, u.charged.cert_verify) * costs.cert_verify_us +
                      delta(c.key_agreement, u.charged.key_agreement) * costs.key_agreement_us +
                      delta(c.keygen, u.charged.keygen) * costs.keygen_us +
                      delta(c.kdf, u.charged.kdf) * costs.kdf_us +
                      delta(pdcp, u.pdcp_charged) * costs.pdcp_us;
    u.charged = c;
    u.pdcp_charged = pdcp;
    u.cpu_us += us;
    return us;
}

void World::on_event(std::size_t i, pc5::Event ev) {
    Ue& u = *ues[i];
    // A link identifier update gives a link new L2 IDs: frames to them are for this UE.
    if (const auto* r = std::get_if<pc5::LinkRekeyed>(&ev); r && r->identifiers_updated)
        by_l2.emplace(r->link.local_l2, i);
    if (auto* e = std::get_if<pc5::LinkEstablished>(&ev)) {
        record_link(u, e->link, false);
        // Solution B's relay learns where a KNRP-sess ID's data goes only from protected PC5-S
        // it forwards (docs/userplane.md): the source opens the route with a keep-alive (in
        // hardened mode its engine's key confirmation already is one).
        if (u.b && !u.spec.relay && e->link.initiator) {
            if (u.b->mode() == sigauth::Mode::literal) (void)u.b->send_keepalive(e->link.id, now);
            for (auto pi : u.pairs)
                if (pairs[pi].source == i) schedule(now + 1s, Kind::probe, pi, {}, 1);
        }
        if (u.spec.relay && e->link.kind == pc5::LinkKind::hop) {
            u.hops_by_peer[{e->link.peer, e->link.target}] = e->link.id;
            join_l3(i);
        }
        note(i,
             fmt::format("{} established, KNRP-sess ID {:04x}{}", pc5::name(e->link.kind),
                         e->link.knrp_sess_id.value,
                         e->link.security_note.empty() ? "" : "; " + e->link.security_note),
             !e->link.security_note.empty());
        check_ready(i);
    } else if (auto* r = std::get_if<pc5::LinkRekeyed>(&ev)) {
        record_link(u, r->link, true);
    } else if (auto* f = std::get_if<pc5::LinkFailed>(&ev)) {
        record_failure(u, *f);
        if (attacker) attacker->link_failed(now, static_cast<std::uint8_t>(f->cause));
        note(i,
             fmt::format("failed, cause #{}: {}", static_cast<unsigned>(f->cause),
                         f->reason.substr(0, 60)),
             true);
        for (auto pi : u.pairs)
            if (pairs[pi].source == i && !pairs[pi].settled) settle(pi, false);
    } else if (auto* rel = std::get_if<pc5::LinkReleased>(&ev)) {
        auto& l = links[rel->id];
        l.released = true;
    } else if (auto* d = std::get_if<pc5::RelayDiscovered>(&ev)) {
        for (auto pi : u.pairs)
            if (pairs[pi].source == i && pairs[pi].auto_relay && !pairs[pi].relay) {
                auto it = by_l2.find(d->relay_l2);
                if (it != by_l2.end()) {
                    pairs[pi].relay = it->second;
                    ues[it->second]->pairs.push_back(pi);
                }
            }
    }
}

// A layer-3 relay routes a pair's packets once both its hops are up: the station joined them
// (pc5::DataKeys::l3_routes) when it installed their keys.
void World::join_l3(std::size_t relay) {
    if (!l3_data()) return;
    Ue& r = *ues[relay];
    for (auto pi : r.pairs) {
        Pair& p = pairs[pi];
        if (p.routed || !p.relay || *p.relay != relay) continue;
        const auto& target = ues[p.target]->spec.name;
        auto a = r.hops_by_peer.find({ues[p.source]->spec.name, target});
        auto b = r.hops_by_peer.find({target, target});
        if (a == r.hops_by_peer.end() || b == r.hops_by_peer.end()) continue;
        p.routed = r.up->has_link(a->second) && r.up->has_link(b->second);
        if (p.routed) check_ready(p.source);
    }
}

// Solution B: the relay forwarded to `to` through its adaptation layer (LCID 55: steps 3 and 7
// name the local UE IDs its user plane routes data by); both ways open the pair's route.
void World::learn_b_route(std::size_t relay, pc5::L2Id to) {
    for (auto pi : ues[relay]->pairs) {
        Pair& p = pairs[pi];
        if (!p.relay || *p.relay != relay) continue;
        p.b_to_source |= ues[p.source]->spec.l2 == to;
        p.b_to_target |= ues[p.target]->spec.l2 == to;
        if (!p.routed && p.b_to_source && p.b_to_target) {
            p.routed = true;
            check_ready(p.source);
        }
    }
}

// The keep-alive that opens solution B's route may be lost: try again each second, 5 times.
void World::probe_b_route(std::size_t pi, std::uint32_t attempt) {
    Pair& p = pairs[pi];
    touched = p.source;
    if (p.routed || p.settled || attempt > 5) return;
    Ue& src = *ues[p.source];
    const auto it = src.links_by_peer.find(ues[p.target]->spec.name);
    if (it == src.links_by_peer.end() || !src.b) return;
    (void)src.b->send_keepalive(it->second, now);
    schedule(now + 1s, Kind::probe, pi, {}, attempt + 1);
}

// The link a UE sends data on toward the other end of `pair`: the end-to-end link when there
// is one (l2, solution B), else the direct link or the first hop (l3).
std::string World::data_link(std::size_t i, const Pair& p) const {
    const Ue& u = *ues[i];
    const std::string& other = ues[p.source == i ? p.target : p.source]->spec.name;
    auto it = u.links_by_peer.find(other);
    if (it != u.links_by_peer.end()) return it->second;
    if (p.relay && l3_data()) {
        // Through a layer-3 relay: the source's hop for this target (one hop per target; not
        // another target's, which the relay would not route), the target's hop from the relay.
        if (i == p.source) {
            auto t = u.hops_by_target.find(other);
            return t != u.hops_by_target.end() ? t->second : std::string{};
        }
        auto h = u.links_by_peer.find(ues[*p.relay]->spec.name);
        if (h != u.links_by_peer.end()) return h->second;
    }
    return {};
}

// A pair is ready for data when the source and the target both hold the link data goes on
// (and a layer-3 relay has joined the hops).
void World::check_ready(std::size_t i) {
    for (auto pi : ues[i]->pairs) {
        Pair& p = pairs[pi];
        if (p.settled) continue;
        if (data_link(p.source, p).empty() || data_link(p.target, p).empty()) continue;
        if (l3_data() && !p.routed) continue;
        if (scenario.solution != pc5::Solution::a && !p.routed) continue;
        settle(pi, true);
    }
}

void World::settle(std::size_t pi, bool ok) {
    Pair& p = pairs[pi];
    p.settled = true;
    p.ready = ok;
    p.ready_at = now;
    ++settled;
    if (!ok) return;
    // Data starts once the pair is ready.
    for (std::uint32_t n = 0; n < scenario.traffic.pdus; ++n)
        schedule(now + 1ms + from_ms(scenario.traffic.interval_ms * n), Kind::send, pi, {}, n);
    stage_attacks(pi);
}

std::vector<std::uint8_t> World::payload(const Pair& p, std::uint32_t n, bool echo) const {
    const Ue& from = *ues[echo ? p.target : p.source];
    const Ue& to = *ues[echo ? p.source : p.target];
    std::string text = fmt::format("pc5sec {} {} -> {} #{} ", echo ? "echo" : "data",
                                   from.spec.name, to.spec.name, n);
    std::vector<std::uint8_t> out(scenario.traffic.size);
    for (std::size_t k = 0; k < out.size(); ++k)
        out[k] =
            static_cast<std::uint8_t>(k < text.size() ? text[k] : 'a' + (k - text.size()) % 26);
    if (!l3_data()) return out;
    // The scenario check keeps the size within what an IPv6/UDP SDU carries.
    auto packet = userplane::l3_packet(from.l3_addr, to.l3_addr, out);
    return packet ? std::move(*packet) : std::vector<std::uint8_t>{};
}

void World::send_data(std::size_t pi, std::uint32_t n) {
    const Pair& p = pairs[pi];
    touched = p.source;
    Ue& src = *ues[p.source];
    const std::string link = data_link(p.source, p);
    if (link.empty()) return;
    auto data = payload(p, n, false);
    src.last_data_link = link;
    if (src.up->send(link, scenario.traffic.bearer, data, now)) {
        ++data_offered;
        pump(p.source);
    }
}

void World::on_data_event(std::size_t i, pc5::Event ev) {
    Ue& u = *ues[i];
    auto* d = std::get_if<pc5::DataReceived>(&ev);
    if (!d || u.spec.relay) return;
    // Whose PDU it is: through a layer-3 relay the packet's source address says (one hop may
    // carry several pairs' data); otherwise the link it came on.
    std::span<const std::uint8_t> data = d->data;
    std::optional<userplane::Ipv6Address> from;
    if (l3_data()) {
        if (auto packet = userplane::parse_l3_packet(d->data)) {
            data = packet->data;
            from = packet->src;
        }
    }
    const auto sent_by = [&](std::size_t other, const Pair& p) {
        return from ? *from == ues[other]->l3_addr : data_link(i, p) == d->link_id;
    };
    // The payload says which PDU it was: delivered intact, or not at all.
    const bool intact = data.size() >= 7 && std::equal(data.begin(), data.begin() + 7, "pc5sec ");
    for (auto pi : u.pairs) {
        Pair& p = pairs[pi];
        if (p.target == i && sent_by(p.source, p)) {
            if (!intact) break;
            ++p.delivered;
            ++data_delivered;
            if (scenario.traffic.echo) {
                const std::string link = data_link(i, p);
                auto back = payload(p, static_cast<std::uint32_t>(p.delivered), true);
                u.last_data_link = link;
                (void)u.up->send(link, scenario.traffic.bearer, back, now);
            }
            return;
        }
        if (p.source == i && sent_by(p.target, p)) {
            if (!intact) break;
            ++p.echoed;
            ++data_echoed;
            return;
        }
    }
    ++data_garbled;  // not from its pair's other end, or not what was sent
}

// ---------------------------------------------------------------- the medium

void World::observe_identifiers(const pc5::Frame& f) {
    auto seen = [&](Seen& s, bool fresh) {
        if (fresh) s.first = now;
        s.last = now;
    };
    for (const pc5::L2Id id : {f.src, f.dst})
        if (id != pc5::kBroadcastL2Id) {
            const auto owner = by_l2.find(id);
            if (owner != by_l2.end() && ues[owner->second]->spec.l2 == id) continue;  // own ID
            const bool fresh = !l2_seen.count(id);
            seen(l2_seen[id], fresh);
        }
    std::span<const std::uint8_t> pdu = f.pdu;
    if (f.lcid == pc5::lcid::kEndToEnd && pdu.size() >= srap::kHeaderSize) {
        // The SRAP local UE IDs are the relay's: whichever end of the hop it is.
        const auto s = by_l2.find(f.src), d = by_l2.find(f.dst);
        const auto relay = s != by_l2.end() && ues[s->second]->spec.relay   ? s
                           : d != by_l2.end() && ues[d->second]->spec.relay ? d
                                                                            : by_l2.end();
        if (relay != by_l2.end())
            for (const std::uint8_t id : {pdu[1], pdu[2]})
                if (id != srap::kUnknownUeId) {
                    const auto key = std::make_pair(relay->second, id);
                    const bool fresh = !srap_seen.count(key);
                    seen(srap_seen[key], fresh);
                }
        if ((pdu[0] & 0x1F) == 0) return;  // end-to-end SL-SRB0: no PDCP header
        pdu = pdu.subspan(srap::kHeaderSize);
    } else if (f.lcid == pc5::lcid::kSrb0 || f.lcid > pc5::lcid::kLastData) {
        return;
    }
    const auto h = pdcp::peek_header(pdu);
    const auto sender = by_l2.find(f.src);
    if (!h || h->knrp_sess_id.value == 0 || sender == by_l2.end()) return;
    const auto key = std::make_pair(sender->second, h->knrp_sess_id.value);
    const bool fresh = !sess_seen.count(key);
    seen(sess_seen[key], fresh);
}

void World::transmit(std::size_t from, pc5::Frame f, const std::string& link_hint, AirKind kind) {
    // Solution B's relay forwarded PC5-S through its adaptation layer: the pair's route.
    if (ues[from]->spec.relay && scenario.solution != pc5::Solution::a &&
        f.lcid == pc5::lcid::kEndToEnd && !userplane::carries_data(f))
        learn_b_route(from, f.dst);
    if (scenario.privacy_timer_s > 0 && f.dst != pc5::kBroadcastL2Id) observe_identifiers(f);
    count_air(from, kind, 1, f.pdu.size());
    ++medium.frames;
    medium.bytes += f.pdu.size();
    if (options.capture) capture.record(now, f, link_hint);
    if (f.dst == pc5::kBroadcastL2Id) {
        for (auto j : zones[ues[from]->spec.zone])
            if (j != from) carry(from, j, f, true);
        diagram_arrow(from, std::nullopt, f, DiagramArrow::Fate::delivered);
        return;
    }
    auto it = by_l2.find(f.dst);
    if (it == by_l2.end()) {
        // An L2 ID a link identifier update is giving a UE of the zone (its LinkRekeyed has not
        // come yet: the requester's frames after its ack).
        for (auto j : zones[ues[from]->spec.zone])
            if (ues[j]->engine->owns_l2(f.dst)) {
                it = by_l2.emplace(f.dst, j).first;
                break;
            }
    }
    if (it == by_l2.end()) {
        ++medium.undeliverable;
        return;
    }
    carry(from, it->second, std::move(f), false);
}

void World::carry(std::optional<std::size_t> from, std::size_t to, pc5::Frame f, bool broadcast,
                  std::optional<std::size_t> rule) {
    const auto draw = [&](DiagramArrow::Fate fate) -> std::uint64_t {
        if (broadcast || !from) return 0;
        const auto tag = diagram_arrow(*from, to, f, fate);
        if (tag && rule && attacker) mark_arrows(tag, attacker->rules()[*rule].name, false);
        return tag;
    };
    const auto& m = scenario.medium;
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    pc5::Time delay = from_ms(m.delay_ms + m.jitter_ms * u01(medium_rng));
    auto fate = DiagramArrow::Fate::delivered;
    // A transmission the receiver's CRC discards (`crc`): one `corrupt` flipped a bit of.
    const bool crc_discards = m.crc && m.corrupt > 0;
    if (m.loss > 0 || crc_discards) {
        // Per-hop ARQ of RLC AM (acknowledged): each transmission is lost independently with
        // `loss` (or, with `crc`, discarded by the receiver as corrupted with `corrupt`); a lost
        // one goes again after the poll / status delay, up to maxRetxThreshold times (TS 38.322
        // 5.3.2), and the frame is lost only when every transmission was. RLC UM and
        // broadcasts: one transmission. Draws from the medium's own generator, so the same seed
        // gives the same run (and with `corrupt = 0` or `crc = false`, the draws of before).
        const std::uint32_t tries = !broadcast && acknowledged(f) ? 1 + m.max_retx_threshold : 1;
        std::uint32_t failed = 0;
        while (failed < tries) {
            const bool lost = m.loss > 0 && u01(medium_rng) < m.loss;
            const bool discarded = !lost && crc_discards && u01(medium_rng) < m.corrupt;
            if (!lost && !discarded) break;
            if (discarded) ++medium.crc_discarded;
            ++failed;
        }
        // Each transmission after the first is on the air too.
        const std::uint32_t resent = failed == tries ? failed - 1 : failed;
        count_air(from, AirKind::retransmission, resent, resent * f.pdu.size());
        if (failed == tries) {
            ++medium.lost;
            medium.link_retransmissions += failed - 1;
            draw(DiagramArrow::Fate::lost);
            return;
        }
        medium.link_retransmissions += failed;
        delay += from_ms(m.status_delay_ms * failed);
    }
    if (!m.crc && m.corrupt > 0 && u01(medium_rng) < m.corrupt && !f.pdu.empty()) {
        ++medium.corrupted;
        const auto bit =
            std::uniform_int_distribution<std::size_t>(0, f.pdu.size() * 8 - 1)(medium_rng);
        f.pdu[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
        fate = DiagramArrow::Fate::corrupted;
        record_altered(f);
    }
    if (m.reorder > 0 && u01(medium_rng) < m.reorder) {
        ++medium.reordered;
        delay += from_ms(m.delay_ms * (1 + 4 * u01(medium_rng)));
    }
    if (m.duplicate > 0 && u01(medium_rng) < m.duplicate) {
        ++medium.duplicated;
        schedule(now + delay + from_ms(m.delay_ms), Kind::deliver, to, f);
    }
    const std::uint64_t tag = draw(fate);
    schedule(now + delay, Kind::deliver, to, std::move(f), 0, {}, tag);
}

void World::count_air(std::optional<std::size_t> from, AirKind k, std::uint64_t frames,
                      std::uint64_t bytes) {
    if (!frames) return;
    auto& all = air[static_cast<std::size_t>(k)];
    all.frames += frames;
    all.bytes += bytes;
    if (!from) return;
    auto& mine = air_by_role[ues[*from]->role][static_cast<std::size_t>(k)];
    mine.frames += frames;
    mine.bytes += bytes;
}

// What a frame a UE sends is (docs/metrics.md "air"). A keep-alive of a UE whose establishment
// is not yet ready (solution B's key confirmation, its route keep-alive) is establishment.
AirKind World::air_kind(std::size_t from, const pc5::Frame& f, bool retransmission) const {
    if (f.lcid == pc5::lcid::kDiscovery) return AirKind::discovery;
    if (retransmission) return AirKind::retransmission;
    const Ue& u = *ues[from];
    const bool data = userplane::carries_data(f);
    if (u.spec.relay && (data || f.lcid == pc5::lcid::kEndToEnd)) return AirKind::forwarding;
    if (data) return AirKind::data;
    const auto type = message_of(f);
    if (!type) return AirKind::establishment;
    using T = codec::MessageType;
    switch (*type) {
        case T::keepalive_request:
        case T::keepalive_response:
            return establishing(from) ? AirKind::establishment : AirKind::keepalive;
        case T::rekeying_request:
        case T::rekeying_response:
        case T::identifier_update_request:
        case T::identifier_update_accept:
        case T::identifier_update_ack:
        case T::identifier_update_reject:
        case T::release_request:
        case T::release_accept:
            return AirKind::maintenance;
        default:
            return AirKind::establishment;
    }
}

std::optional<codec::MessageType> message_of(const pc5::Frame& f) {
    if (f.capture && !f.capture->message.empty())
        return static_cast<codec::MessageType>(f.capture->message[0]);
    if ((f.lcid == pc5::lcid::kSrb0 || f.lcid == pc5::lcid::kDiscovery) && !f.pdu.empty())
        return static_cast<codec::MessageType>(f.pdu[0]);
    if (f.lcid == pc5::lcid::kEndToEnd && f.pdu.size() > srap::kHeaderSize)
        if (const auto h = srap::parse_header(f.pdu); h && h->bearer == pc5::lcid::kSrb0)
            return static_cast<codec::MessageType>(f.pdu[srap::kHeaderSize]);
    return std::nullopt;
}

bool protected_signalling(const pc5::Frame& f) {
    return !userplane::carries_data(f) &&
           (f.lcid == pc5::lcid::kSrb1 || f.lcid == pc5::lcid::kSrb2 ||
            f.lcid == pc5::lcid::kSrb3 || f.lcid == pc5::lcid::kEndToEnd);
}

std::uint64_t Ue::pdcp_ops() const {
    const auto& d = up->counters();
    return d.sent + d.delivered + d.drops_total() + d.forwarded_l3 + pdcp_signalling;
}

bool World::establishing(std::size_t ue) const {
    for (auto pi : ues[ue]->pairs)
        if (!pairs[pi].settled) return true;
    return false;
}

const char* name(AirKind k) noexcept {
    switch (k) {
        case AirKind::establishment:
            return "establishment";
        case AirKind::discovery:
            return "discovery";
        case AirKind::forwarding:
            return "forwarding";
        case AirKind::retransmission:
            return "retransmission";
        case AirKind::keepalive:
            return "keep-alive";
        case AirKind::maintenance:
            return "maintenance";
        case AirKind::data:
            return "data";
        case AirKind::attacker:
            return "attacker";
    }
    return "?";
}

// Whether a frame travels on an RLC AM bearer: the SL-SRBs (LCID 0..3, and SRAP bearer IDs
// 0..3 on LCID 55 through a relay's adaptation layer), which TS 38.331 clause 9.1.1.4 (SCCH
// configuration) specifies with RLC AM. Data bearers run RLC UM here (docs/userplane.md), and
// discovery (LCID 58) is broadcast.
bool World::acknowledged(const pc5::Frame& f) const {
    if (!scenario.medium.rlc_am) return false;
    if (f.lcid <= pc5::lcid::kSrb3) return true;
    if (f.lcid != pc5::lcid::kEndToEnd) return false;
    const auto h = srap::parse_header(f.pdu);
    return h && h->bearer <= pc5::lcid::kSrb3;
}

void World::deliver(std::size_t to, pc5::Frame f, std::uint64_t arrow) {
    intercept(to, std::move(f), arrow);
}

}  // namespace pc5sec::sim
