// `pc5sec establish`: one source, one target and (unless --path direct) one UE-to-UE relay,
// provisioned in memory, establish a link with solution A or B on an in-process medium
// (pc5::Loopback) — optionally under attack or with a misconfiguration that provokes a reject.
// It prints every link both ends report (state, cause, KNRP ID, KNRP-sess ID, algorithms, key
// fingerprints so that agreement shows without the keys), the messages and crypto operations,
// and writes the key log on request. The simulator ([sim]) runs whole scenarios; this is the
// quick look at one establishment.
#include <algorithm>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/loopback.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/sim.hpp"
#include "pc5sec/station.hpp"
#include "pc5sec/text.hpp"

namespace pc5sec::cli {
namespace {

using namespace std::chrono_literals;
constexpr pc5::L2Id kSource = 0x00000A, kRelay = 0x000050, kTarget = 0x00000B;
constexpr creds::Rsc kRsc = 0x00A001;

struct Args {
    std::string solution = "A", path, attack = "none", keylog;  // path: l3 for A, l2 for B
    std::string source_integrity = "required", target_integrity = "required";
    bool reuse = false, psk = false, out_of_coverage = false, json = false;
    std::uint64_t seed = 0;
};

const char* const kAttacks[] = {"none",
                                "tamper-request",
                                "tamper-mac",
                                "replay",
                                "foreign-ca",
                                "revoked",
                                "expired",
                                "unauthorised-relay",
                                "tampering-relay",
                                "forged-request-on-live-link",
                                "request-flood",
                                "revoked-with-cached-knrp",
                                "forged-reject",
                                "stale-replay",
                                "target-not-authorised",
                                "unconfirmed-target",
                                "relay-not-authorised-for-target"};
// The attacks of [a-state]: solution A only.
bool a_state_attack(const std::string& a) {
    return a == "forged-request-on-live-link" || a == "request-flood" ||
           a == "revoked-with-cached-knrp";
}

struct Run {
    Args a;
    pc5::Solution solution = pc5::Solution::a;
    pc5::Path path = pc5::Path::l3;
    std::unique_ptr<Rng> seeded;
    Rng* rng = &system_rng();
    creds::TimePoint epoch = creds::from_unix_seconds(creds::to_unix_seconds(creds::Clock::now()));
    std::optional<creds::ProvisioningFunction> pf, foreign;
    pc5::Loopback net;
    pc5::KeyLogCollector keylog;
    std::vector<std::unique_ptr<station::Station>> ues;  // alice, [relay-1,] bob
    std::map<std::string, pc5::L2Id> directory{{"alice", kSource}, {"bob", kTarget}};
    std::array<std::uint8_t, 32> group_key{};  // --psk: one key all three UEs share
    // The medium attacks: the simulator's rules for --attack NAME (sim::attack_rules), run by
    // the same sim::Attacker on this medium.
    std::optional<sim::Attacker> attacker;
    std::map<std::string, std::size_t> failures_seen;  // LinkFailed events told the attacker
    // Solution A's credential managers, to load a new revocation list into every UE.
    std::vector<std::shared_ptr<creds::CredentialManager>> managers;
    std::optional<creds::Certificate> source_certificate;

    // revoked-with-cached-knrp: the provisioning function revokes the source; every UE loads the
    // new list (the source keeps the KNRP of its first link).
    void revoke_source() {
        take(pf->revoke(*source_certificate, epoch));
        for (auto& m : managers)
            take(m->trust().set_revocation_list(*pf->revocation_list()));
    }

    creds::IssuedCredentials issue(const std::string& name, creds::Role role, creds::Rsc rsc,
                                   bool expired = false, bool other_ca = false) {
        creds::UeProfile p;
        p.user_info_id = name;
        p.authorisation = {{role}, {rsc}};
        auto& ca = other_ca ? *foreign : *pf;
        return take(expired ? ca.issue(p, epoch - 48h, 24h, *rng)
                            : ca.issue(p, epoch - 1h, 24h * 30, *rng));
    }

    PolicyLevel level(const std::string& text, const char* field) {
        return take(policy_level_from_name(text, field));
    }

    void add_ue(const std::string& name, pc5::L2Id l2, bool relay) {
        const bool source = name == "alice";
        const auto role = relay ? creds::Role::u2u_relay : creds::Role::end_ue;
        const bool unauthorised = relay ? a.attack == "unauthorised-relay" ||
                                              a.attack == "relay-not-authorised-for-target"
                                        : name == "bob" && a.attack == "target-not-authorised";
        const creds::Rsc rsc = unauthorised ? 0x00B002 : kRsc;
        const bool other_ca = !source && !relay && a.attack == "foreign-ca";
        auto issued = issue(name, role, rsc, source && a.attack == "expired", other_ca);
        // The UE of a credential attack holds the RSC's discovery material all the same, as in
        // `pc5sec simulate`: the attack tests the certificate checks, not the concealment of
        // the request (docs/discovery.md, "Request privacy").
        if (unauthorised || other_ca)
            issued.discovery = {pf->discovery_material(kRsc, epoch, *rng)};
        auto trust = take(creds::TrustStore::create(pf->ca_certificate()));
        if (a.attack == "revoked") {
            if (source)
                take(pf->revoke(issued.certificate, epoch));
            else if (pf->revocation_list())
                take(trust.set_revocation_list(*pf->revocation_list()));
        }
        station::Spec st;
        st.solution = solution;
        st.role = relay ? pc5::UeRole::relay : pc5::UeRole::end_ue;
        st.user_info = name;
        st.l2_id = l2;
        // Step 0 as solution A does it: renewal in coverage, #6 out of coverage (B-literal uses
        // only the key: raw public keys, seed 001).
        st.credentials =
            std::make_shared<creds::CredentialManager>(issued.key, issued.certificate, trust);
        st.credentials->set_logger([](std::string_view) {});
        if (!a.out_of_coverage)  // in coverage the provisioning function renews credentials
            st.credentials->set_provisioning_function(&*pf);
        st.in_coverage = !a.out_of_coverage;
        if (solution != pc5::Solution::b_literal) managers.push_back(st.credentials);
        if (source) source_certificate = issued.certificate;
        st.wall_epoch = epoch;
        st.rng = rng;
        st.keylog = &keylog;
        st.directory = directory;
        st.discovery_material = issued.discovery;
        if (solution == pc5::Solution::a) {
            if (!relay)
                st.policy.signalling.integrity =
                    level(source ? a.source_integrity : a.target_integrity,
                          source ? "--source-integrity" : "--target-integrity");
            if (st.policy.signalling.integrity == PolicyLevel::not_needed)
                st.policy.signalling.ciphering = PolicyLevel::not_needed;
            if (a.psk) {
                st.policy.group_keys.emplace("fleet", GroupKey(group_key));
                st.a.method = link::AuthMethod::psk;
                st.a.psk_identity = "fleet";
            }
        }
        // The rogue relay serves the RSC its certificate does not authorise.
        st.rscs = {relay && a.attack == "relay-not-authorised-for-target" ? kRsc : rsc};
        // A rogue relay not authorised for the RSC: it skips its own checks and re-signs.
        st.b.tamper.ignore_authorisation = relay && a.attack == "relay-not-authorised-for-target";
        // A rogue UE: its own engine signs the request the attacker's rules made.
        if (attacker && attacker->rogue(name))
            st.b.tamper.on_request = [this, name](codec::DirectLinkEstablishmentRequest& m) {
                attacker->edit_own(net.now, name, m);
            };
        ues.push_back(take(station::Station::create(std::move(st))));
        net.add(*ues.back());
    }

    void make_attacker() {
        const auto attack = take(sim::attack_from_name(a.attack));
        const bool direct = path == pc5::Path::direct;
        auto named = sim::attack_rules(attack, "alice", "bob", direct ? "" : "relay-1");
        if (named.rules.empty()) return;  // none, or a credential set-up
        sim::AttackerSetup s;
        s.solution = solution;
        rng->fill(std::span(reinterpret_cast<std::uint8_t*>(&s.seed), sizeof s.seed));
        s.ues = directory;
        if (!direct) s.ues["relay-1"] = kRelay;
        s.compromised = std::move(named.compromised);
        s.wall_epoch = epoch;
        attacker.emplace(std::move(named.rules), std::move(s));
        // An insider of the RSC, as in `pc5sec simulate` (docs/scenarios.md, "The attacker").
        attacker->learn(pf->discovery_material(kRsc, epoch, *rng));
    }

    // Link failures since the last look: the attacker judges its rules by them.
    void tell_failures() {
        if (!attacker) return;
        for (const auto& [ue, events] : net.events) {
            auto& seen = failures_seen[ue];
            for (; seen < events.size(); ++seen)
                if (const auto* f = std::get_if<pc5::LinkFailed>(&events[seen]))
                    attacker->link_failed(net.now, static_cast<std::uint8_t>(f->cause));
        }
    }

    void send(std::vector<sim::Attacker::Emit>& out) {
        for (auto& e : out)
            net.in_flight.push_back(
                {std::max(e.at, net.now) + net.delay, net.order++, std::move(e.frame)});
        out.clear();
    }

    // The attacker on the medium: every frame passes its rules; a frame of a rule is delivered
    // here so that the receiver's answer (a drop and its reason, or none) is judged.
    void hook() {
        if (!attacker) return;
        net.attacker = [this](pc5::Frame& f) {
            tell_failures();
            std::vector<sim::Attacker::Emit> out;
            const auto v = attacker->on_frame(net.now, f, out);
            send(out);
            if (!v.deliver || !v.rule) return v.deliver;
            for (auto& [l2, e] : net.ues) {
                if (f.dst != l2 && (f.dst != pc5::kBroadcastL2Id || l2 == f.src)) continue;
                const auto before = e->counters().drops;
                e->receive(f, net.now);
                const auto after = e->counters().drops;
                std::optional<std::string> why;
                for (std::size_t i = 0; i < after.size() && !why; ++i)
                    if (after[i] != before[i]) why = pc5::name(static_cast<pc5::DropReason>(i));
                attacker->judged(*v.rule, why ? &*why : nullptr);
            }
            net.delivered.push_back(f);
            return false;
        };
    }

    // Runs the medium for `span`, with the attacker's timed actions when they are due.
    void run_for(pc5::Time span) {
        const pc5::Time limit = net.now + span;
        for (;;) {
            const pc5::Time due = attacker ? attacker->next_due() : pc5::kNever;
            if (due > limit) break;
            net.run(due);
            net.now = std::max(net.now, due);
            std::vector<sim::Attacker::Emit> out;
            attacker->due(net.now, out);
            send(out);
        }
        net.run(limit);
        tell_failures();
    }
};

std::string hex4(std::uint32_t v, int digits) {
    return fmt::format("{:0{}x}", v, digits);
}

void run_establish(const Args& args) {
    Run r;
    r.a = args;
    if (args.solution == "A")
        r.solution = pc5::Solution::a;
    else if (args.solution == "B-literal")
        r.solution = pc5::Solution::b_literal;
    else if (args.solution == "B-hardened")
        r.solution = pc5::Solution::b_hardened;
    else
        throw CommandError(kExitBadInput, "--solution: A, B-literal or B-hardened");
    const bool is_b = r.solution != pc5::Solution::a;
    const std::string path = args.path.empty() ? (is_b ? "l2" : "l3") : args.path;
    if (path == "direct")
        r.path = pc5::Path::direct;
    else if (path == "l2")
        r.path = pc5::Path::l2;
    else if (path == "l3")
        r.path = pc5::Path::l3;
    else
        throw CommandError(kExitBadInput, "--path: direct, l2 or l3");
    if (is_b && r.path == pc5::Path::direct)
        throw CommandError(kExitBadInput, "--path: solution B runs through a relay (seed 001)");
    if (std::find(std::begin(kAttacks), std::end(kAttacks), args.attack) == std::end(kAttacks))
        throw CommandError(kExitBadInput,
                           "--attack: one of none, tamper-request, tamper-mac, "
                           "replay, foreign-ca, revoked, expired, "
                           "unauthorised-relay, tampering-relay, forged-request-on-live-link, "
                           "request-flood, revoked-with-cached-knrp, forged-reject, "
                           "stale-replay, target-not-authorised, unconfirmed-target, "
                           "relay-not-authorised-for-target");
    if (args.attack == "unconfirmed-target" && !is_b)
        throw CommandError(kExitBadInput,
                           "--attack unconfirmed-target: solution B's key confirmation (A confirms "
                           "keys in its security mode procedure)");
    if (args.attack == "request-flood" && r.path == pc5::Path::direct)
        throw CommandError(kExitBadInput, "--attack request-flood needs a relay path");
    if ((args.attack == "tamper-request" || args.attack == "tamper-mac" ||
         args.attack == "replay" || a_state_attack(args.attack) || args.psk || args.reuse) &&
        is_b)
        throw CommandError(kExitBadInput,
                           "--attack/--psk/--reuse: this option exercises solution A only");
    if (args.attack == "relay-not-authorised-for-target" && !is_b)
        throw CommandError(kExitBadInput,
                           "--attack relay-not-authorised-for-target: a rogue solution B relay "
                           "that re-signs anyway (solution A's relay refuses itself: "
                           "unauthorised-relay)");
    if (args.attack == "tampering-relay" && !is_b)
        throw CommandError(kExitBadInput, "--attack tampering-relay: solution B's relay re-signs");
    if ((args.attack == "unauthorised-relay" || args.attack == "tampering-relay") &&
        r.path == pc5::Path::direct)
        throw CommandError(kExitBadInput, "--attack " + args.attack + " needs a relay path");
    if (args.seed) {
        r.seeded = std::make_unique<DeterministicRng>(args.seed);
        r.rng = r.seeded.get();
    }
    r.rng->fill(r.group_key);
    r.pf.emplace(
        take(creds::ProvisioningFunction::create(r.epoch - 24h, 24h * 365, "pc5sec CA", *r.rng)));
    if (args.attack == "foreign-ca")
        r.foreign.emplace(take(
            creds::ProvisioningFunction::create(r.epoch - 24h, 24h * 365, "foreign CA", *r.rng)));
    r.make_attacker();
    r.add_ue("alice", kSource, false);  // first: --attack revoked revokes her before the others
    r.add_ue("bob", kTarget, false);    // load the revocation list
    if (r.path != pc5::Path::direct) r.add_ue("relay-1", kRelay, true);
    r.hook();

    pc5::ConnectRequest req;
    req.target = "bob";
    req.path = r.path;
    if (r.path == pc5::Path::direct) {
        req.target_l2 = kTarget;
    } else {
        req.rsc = kRsc;
        req.relay = "relay-1";
        req.relay_l2 = kRelay;
    }
    auto& source = *r.ues.front();
    source.connect(req, r.net.now);
    r.run_for(120s);
    if (r.attacker) r.attacker->set_anchor(sim::Anchor::ready, r.net.now);
    // Rules timed from "ready" (forged-request-on-live-link, request-flood) act now; then the
    // links must still work: a keep-alive on each established link of the source.
    // stale-replay's replay comes 62 minutes after "ready": the ends keep their link alive
    // meanwhile, as a UE in use would, with a keep-alive every 10 minutes.
    auto keepalive = [&] {
        if (auto* a = r.ues.front()->a())
            for (const auto& l : a->links())
                (void)a->keepalive(l.id, r.net.now);
        if (auto* b = r.ues.front()->b())
            for (const auto& l : b->links())
                (void)b->send_keepalive(l.id, r.net.now);
    };
    if (r.attacker && r.attacker->uses(sim::Anchor::ready)) {
        const int rounds = args.attack == "stale-replay" ? 7 : 1;
        for (int i = 0; i < rounds; ++i) {
            const pc5::Time span = rounds > 1 ? pc5::Time(10min) : pc5::Time(60s);
            const pc5::Time until = r.net.now + span;
            r.run_for(span);
            if (rounds > 1) r.net.now = std::max(r.net.now, until);  // idle time passes too
            keepalive();
        }
        r.run_for(60s);
    }
    const bool cached_knrp = args.attack == "revoked-with-cached-knrp";
    if (args.reuse || cached_knrp || (r.attacker && r.attacker->uses(sim::Anchor::released))) {
        // Release everything, then: --reuse connects again (KNRP reuse, step 3 skipped);
        // --attack replay's rules send alice's recorded request again 2 s after the release;
        // revoked-with-cached-knrp revokes alice, then she asks again with her cached KNRP ID.
        for (auto& ue : r.ues)
            ue->release_all(r.net.now);
        if (r.attacker) r.attacker->set_anchor(sim::Anchor::released, r.net.now);
        r.run_for(10s);
        if (cached_knrp) r.revoke_source();
        if (args.reuse || cached_knrp) source.connect(req, r.net.now);
        r.run_for(120s);
    }

    // Report.
    nlohmann::json out;
    out["solution"] = pc5::name(r.solution);
    out["path"] = pc5::name(r.path);
    if (r.solution == pc5::Solution::b_literal)
        out["security_note"] = std::string(sigauth::kLiteralModeNote);
    out["attack"] = args.attack;
    out["links"] = nlohmann::json::array();
    bool source_ok = false;
    std::string table;
    table += fmt::format("{:<30} {:<18} {:<4} {:<12} {:<6} {:<9} {:<5} {:<6} {}\n", "link", "ends",
                         "kind", "state", "cause", "KNRP ID", "sess", "algs",
                         "fingerprints (NRPEK/NRPIK/KD)");
    for (const auto& [ue, events] : r.net.events)
        for (const auto& e : events) {
            nlohmann::json j;
            if (const auto* up = std::get_if<pc5::LinkEstablished>(&e)) {
                const auto& l = up->link;
                if (ue == "alice") source_ok = true;  // its most recent outcome counts
                auto fp = [&](const char* k) {
                    auto it = l.fingerprints.find(k);
                    return it == l.fingerprints.end() ? std::string("-") : it->second;
                };
                const std::string algs =
                    fmt::format("{}/{}", short_name(l.ciphering), short_name(l.integrity));
                table += fmt::format(
                    "{:<30} {:<18} {:<4} {:<12} {:<6} {:<9} {:<5} {:<6} {} {} {}{}\n", l.id,
                    l.local + ">" + l.peer, pc5::name(l.kind), "established", "-",
                    hex4(l.knrp_id.value, 8), hex4(l.knrp_sess_id.value, 4), algs, fp("NRPEK"),
                    fp("NRPIK"), fp("KD"), l.knrp_reused ? "  (KNRP reused)" : "");
                if (!l.security_note.empty())
                    table += fmt::format("{:<30} {}\n", "", l.security_note);
                j = {{"id", l.id},
                     {"ue", ue},
                     {"peer", l.peer},
                     {"kind", pc5::name(l.kind)},
                     {"solution", pc5::name(l.solution)},
                     {"state", "established"},
                     {"knrp_id", hex4(l.knrp_id.value, 8)},
                     {"knrp_sess_id", hex4(l.knrp_sess_id.value, 4)},
                     {"knrp_reused", l.knrp_reused},
                     {"algorithms", algs},
                     {"latency_ms",
                      std::chrono::duration<double, std::milli>(l.established - l.started).count()},
                     {"fingerprints", l.fingerprints}};
                if (!l.security_note.empty()) j["security_note"] = l.security_note;
            } else if (const auto* f = std::get_if<pc5::LinkFailed>(&e)) {
                if (ue == "alice" && a_state_attack(args.attack)) source_ok = false;
                table += fmt::format("{:<30} {:<18} {:<4} {:<12} #{:<5} {}\n",
                                     escape_text(f->id.empty() ? "-" : f->id),
                                     escape_text(f->local + ">" + f->peer), pc5::name(f->kind),
                                     f->by_peer ? "refused" : "failed",
                                     static_cast<unsigned>(f->cause), escape_text(f->reason));
                j = {{"id", valid_utf8(f->id)},
                     {"ue", ue},
                     {"peer", valid_utf8(f->peer)},
                     {"kind", pc5::name(f->kind)},
                     {"state", "failed"},
                     {"cause", static_cast<unsigned>(f->cause)},
                     {"cause_name", codec::code_point_name(codec::CodePointKind::cause,
                                                           static_cast<std::uint8_t>(f->cause))},
                     {"by_peer", f->by_peer},
                     {"reason", valid_utf8(f->reason)}};
            } else if (const auto* rel = std::get_if<pc5::LinkReleased>(&e)) {
                table += fmt::format("{:<30} {:<18} {:<4} {:<12} #{:<5} {}\n", rel->id,
                                     ue + ">" + rel->peer, "", "released",
                                     static_cast<unsigned>(rel->cause),
                                     rel->by_peer ? "by the peer" : "by this UE");
                j = {{"id", rel->id},
                     {"ue", ue},
                     {"peer", rel->peer},
                     {"state", "released"},
                     {"cause", static_cast<unsigned>(rel->cause)},
                     {"by_peer", rel->by_peer}};
            } else {
                continue;
            }
            out["links"].push_back(j);
        }
    std::uint64_t messages = 0, bytes = 0, retx = 0, forwarded = 0;
    pc5::CryptoOps ops;
    nlohmann::json drops = nlohmann::json::object();
    for (const auto& ue : r.ues) {
        const auto& c = ue->counters();
        for (const auto& [t, n] : c.sent_messages)
            messages += n;
        bytes += c.bytes_sent;
        retx += c.retransmissions;
        forwarded += c.frames_forwarded;
        ops += c.crypto;
        for (std::size_t i = 0; i < c.drops.size(); ++i)
            if (c.drops[i])
                drops[pc5::name(static_cast<pc5::DropReason>(i))] =
                    drops.value(pc5::name(static_cast<pc5::DropReason>(i)), 0) + c.drops[i];
    }
    out["messages"] = messages;
    out["bytes_on_air"] = bytes;
    out["retransmissions"] = retx;
    out["frames_forwarded"] = forwarded;
    out["drops"] = drops;
    out["crypto"] = {{"sign", ops.sign},
                     {"verify", ops.verify},
                     {"cert_verify", ops.cert_verify},
                     {"key_agreement", ops.key_agreement},
                     {"keygen", ops.keygen},
                     {"kdf", ops.kdf}};
    out["virtual_time_ms"] = std::chrono::duration<double, std::milli>(r.net.now).count();
    if (r.attacker) out["attacker"] = nlohmann::json::parse(r.attacker->json());
    if (!args.keylog.empty()) {
        std::string text = "# pc5sec key log (docs/keylog.md): these lines are secret keys\n";
        for (const auto& rec : r.keylog.records())
            text += pc5::format_key_log_line(rec) + "\n";
        take(creds::write_file(args.keylog, text, 0600));
    }
    if (args.json) {
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << fmt::format("solution {} via {}, attack {}\n\n", pc5::name(r.solution),
                                 pc5::name(r.path), args.attack);
        if (r.solution == pc5::Solution::b_literal)
            std::cout << "note: " << sigauth::kLiteralModeNote << "\n\n";
        std::cout << table << "\n"
                  << fmt::format(
                         "{} messages, {} bytes on air, {} retransmissions, {} frames "
                         "forwarded by the relay; drops {}\n",
                         messages, bytes, retx, forwarded, drops.dump())
                  << fmt::format(
                         "crypto: {} signatures, {} verifications, {} certificate "
                         "checks, {} key agreements, {} key pairs, {} KDF calls\n",
                         ops.sign, ops.verify, ops.cert_verify, ops.key_agreement, ops.keygen,
                         ops.kdf);
        if (r.attacker) std::cout << r.attacker->summary();
        if (!args.keylog.empty()) std::cout << "key log: " << args.keylog << "\n";
    }
    if (!source_ok) throw CommandError(kExitCheckFailed, "the source has no established link");
}

void register_establish(CLI::App& app) {
    auto args = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(
        "establish",
        "establish one link (solution A or B) between in-memory UEs, optionally under attack");
    cmd->add_option("--solution", args->solution, "A, B-literal or B-hardened")
        ->capture_default_str();
    cmd->add_option("--path", args->path,
                    "direct, l2 or l3 (default l3 for A, l2 for B; B always has a relay: l2 or l3)")
        ->capture_default_str();
    cmd->add_option("--attack", args->attack,
                    "none, tamper-request, tamper-mac, replay, foreign-ca, revoked, expired, "
                    "unauthorised-relay, tampering-relay, forged-request-on-live-link, "
                    "request-flood, revoked-with-cached-knrp, forged-reject, stale-replay, "
                    "target-not-authorised, unconfirmed-target, relay-not-authorised-for-target")
        ->capture_default_str();
    cmd->add_option("--source-integrity", args->source_integrity,
                    "source's signalling integrity policy: not-needed, preferred, required")
        ->capture_default_str();
    cmd->add_option("--target-integrity", args->target_integrity, "target's, likewise")
        ->capture_default_str();
    cmd->add_flag("--reuse", args->reuse, "release, then establish again reusing the KNRP (A)");
    cmd->add_flag("--psk", args->psk, "step 3 with a pre-shared group key instead of certificates");
    cmd->add_flag("--out-of-coverage", args->out_of_coverage,
                  "no provisioning function reachable (expired credentials are not renewed)");
    cmd->add_option("--keylog", args->keylog, "write the key log (docs/keylog.md) to FILE");
    cmd->add_option("--seed", args->seed, "deterministic keys and nonces (0: system RNG)");
    cmd->add_flag("--json", args->json, "one JSON object");
    cmd->callback([args] { run_establish(*args); });
}

}  // namespace

const CommandRegistrar kRegistrar{40, register_establish};

}  // namespace pc5sec::cli
