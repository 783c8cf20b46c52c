// What a simulation reports (docs/metrics.md): the JSON metrics, the readable summary, the
// sequence diagrams, and whether the scenario's [expect] held. Nothing here depends on the wall
// clock, so two runs of one seeded scenario give identical JSON.
#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/text.hpp"
#include "sim/world.hpp"

namespace pc5sec::sim {

namespace {

// Milliseconds rounded to the microsecond: stable text in JSON.
double ms3(pc5::Time t) {
    return std::round(ms(t) * 1000.0) / 1000.0;
}

// The first `n` octets of `s`, not cutting a UTF-8 sequence.
std::string clip(const std::string& s, std::size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n;
    return s.substr(0, n);
}

const char* cause_name(std::uint8_t c) {
    return codec::code_point_name(codec::CodePointKind::cause, c);
}

std::string label_of(const pc5::Frame& f, bool data) {
    if (const auto m = message_of(f)) {  // "establishment_request" -> "ESTABLISHMENT REQUEST"
        std::string n = codec::message_name(*m);
        for (auto& c : n)
            c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return n;
    }
    if (data) {
        const std::size_t at = f.lcid == pc5::lcid::kEndToEnd ? srap::kHeaderSize : 0;
        if (f.pdu.size() > at)
            if (auto h = userplane::parse_header(std::span(f.pdu).subspan(at)))
                return fmt::format("data SN {}", h->sn);
        return "data PDU";
    }
    return f.lcid == pc5::lcid::kEndToEnd ? "end-to-end PDU (relayed)" : "protected PC5-S";
}

// A JSON array of objects as text, element by element, as nlohmann::json's dump(2) writes it at
// the top level's first depth; `put` replaces the top-level value `"MARK"` with it.
class ArrayText {
  public:
    void add(const nlohmann::ordered_json& element) {
        text_ += text_.empty() ? "[\n    " : ",\n    ";
        const std::string e =
            element.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        for (const char c : e) {
            text_ += c;
            if (c == '\n') text_ += "    ";
        }
    }
    void put(std::string& json, const char* mark) {
        if (text_.empty())
            text_ = "[]";
        else
            text_ += "\n  ]";
        // The key starts its own line: no string value before it can hold a raw newline.
        const std::string needle = fmt::format("\n  \"{}\": \"{}\"", mark + 1, mark);
        const auto at = json.find(needle);
        if (at == std::string::npos) throw std::logic_error("report: no place for an array");
        const std::size_t value = at + needle.size() - std::strlen(mark) - 2;
        json.replace(value, std::strlen(mark) + 2, text_);
        text_ = {};
        text_.shrink_to_fit();
    }

  private:
    std::string text_;
};
// The marks' first character is skipped for the key: "@links" marks "links".
constexpr const char* kLinksMark = "@links";
constexpr const char* kEstablishmentsMark = "@establishments";

// The most establishment-phase frames one link may send (issue 17).
std::uint32_t frame_bound(const Scenario& s) {
    return s.solution == pc5::Solution::a ? link::establishment_frame_bound(link::Timers{})
                                          : sigauth::establishment_frame_bound(sigauth::Config{});
}
// How long an identifier may stay on the air with a privacy timer: T5090 and the update that
// replaces it (its messages go under the old identifiers, and may be repeated for
// t_identifier_update x (max_retransmissions + 1)).
double privacy_limit_s(const Scenario& s) {
    const link::Timers t{};
    return s.privacy_timer_s + ms(t.t_identifier_update * (t.max_retransmissions + 1)) / 1000.0;
}

}  // namespace

namespace {
// A link id is "<initiator>><peer>#<tag>" (pc5::make_link_id): its two ends, initiator first.
std::optional<std::pair<std::string, std::string>> ends_of(const std::string& id) {
    const auto gt = id.find('>'), hash = id.rfind('#');
    if (gt == std::string::npos || hash == std::string::npos || hash < gt) return std::nullopt;
    return std::pair{id.substr(0, gt), id.substr(gt + 1, hash - gt - 1)};
}
}  // namespace

void World::record_link(const Ue& u, const pc5::LinkSummary& l, bool rekeyed) {
    auto& r = links[l.id];
    r.id = l.id;
    r.kind = l.kind;
    r.solution = l.solution;
    if (l.initiator) {
        r.initiator = l.local;
        r.peer = l.peer;
        r.latency_ms = ms3(l.established - l.started);
    } else if (r.initiator.empty()) {
        r.initiator = l.peer;
        r.peer = l.local;
    }
    r.established = true;
    r.reused |= l.knrp_reused;
    r.rekeys += rekeyed;
    r.knrp_id = l.knrp_id;
    r.knrp_sess_id = l.knrp_sess_id;
    r.algorithms = fmt::format("{}/{}", short_name(l.ciphering), short_name(l.integrity));
    r.fingerprints[u.spec.name] = l.fingerprints;
    auto& ue = *ues[by_name.at(u.spec.name)];
    ue.links_by_peer[l.peer] = l.id;
    if (l.kind == pc5::LinkKind::hop && !l.target.empty() && l.target != l.peer)
        ue.hops_by_target[l.target] = l.id;
    if (!l.security_note.empty()) r.security_note = l.security_note;
}

void World::record_failure(const Ue& u, const pc5::LinkFailed& f) {
    const std::string id =
        f.id.empty() ? fmt::format("{}>{}#failed-{}", f.local, f.peer, ++failures_without_id)
                     : f.id;
    auto& r = links[id];
    r.id = id;
    r.kind = f.kind;
    r.solution = f.solution;
    if (r.initiator.empty()) {
        const auto ends = ends_of(f.id);
        r.initiator = ends ? ends->first : f.local;
        r.peer = ends ? ends->second : f.peer;
    }
    if (!r.failed) {  // the first failure is the cause; the peer's echo of it adds nothing
        r.failed = true;
        r.cause = static_cast<std::uint8_t>(f.cause);
        r.reason = f.reason;
        r.failed_at = u.spec.name;
    }
}

void World::note(std::size_t ue, std::string text, bool failure) {
    for (auto pi : ues[ue]->pairs) {
        auto& p = pairs[pi];
        if (!p.diagram || (p.settled && now > p.ready_at + std::chrono::seconds(1))) continue;
        p.diagram->notes.push_back({now, ues[ue]->spec.name, text, failure});
    }
}

std::uint64_t World::diagram_arrow(std::size_t from, std::optional<std::size_t> to,
                                   const pc5::Frame& f, DiagramArrow::Fate fate) {
    const bool data = userplane::carries_data(f);
    std::uint64_t tag = 0;
    for (auto pi : ues[from]->pairs) {
        auto& p = pairs[pi];
        if (!p.diagram) continue;
        const auto& lanes = p.diagram->lanes;
        if (to && std::find(lanes.begin(), lanes.end(), ues[*to]->spec.name) == lanes.end())
            continue;
        // After the pair is ready: its first few data PDUs only; the rest are counted.
        if (p.settled &&
            (!data || now > p.ready_at + std::chrono::milliseconds(static_cast<std::int64_t>(
                                             scenario.traffic.interval_ms * 3 + 20)))) {
            p.diagram->elided += data;
            continue;
        }
        if (p.diagram->arrows.size() >= 80) {
            p.diagram->elided += data;
            continue;
        }
        DiagramArrow a;
        a.at = now;
        a.from = ues[from]->spec.name;
        a.to = to ? ues[*to]->spec.name : "*";
        a.label = label_of(f, data);
        a.step = seed_step(from, f);
        a.detail = fmt::format("LCID {}, {} octets{}", f.lcid, f.pdu.size(),
                               f.capture && f.capture->ciphered ? ", ciphered" : "");
        a.fate = fate;
        // A relay's forwarded frame (SRAP, LCID 55) keeps the protection it carries: PC5-S
        // under PDCP on SL-SRB1..3, data on the data bearers.
        std::optional<std::uint8_t> bearer;
        if (f.lcid == pc5::lcid::kEndToEnd)
            if (const auto h = srap::parse_header(f.pdu)) bearer = h->bearer;
        a.protected_pdu = (f.capture && f.capture->integrity) ||
                          (data && scenario.solution != pc5::Solution::b_literal) ||
                          f.lcid == pc5::lcid::kSrb1 || f.lcid == pc5::lcid::kSrb2 ||
                          (bearer && *bearer >= pc5::lcid::kSrb1 && *bearer <= pc5::lcid::kSrb3);
        if (!tag) tag = ++next_arrow;
        arrows[tag].emplace_back(pi, p.diagram->arrows.size());
        p.diagram->arrows.push_back(std::move(a));
    }
    return tag;
}

void World::mark_arrows(std::uint64_t tag, const std::string& rule, bool dropped) {
    const auto it = arrows.find(tag);
    if (it == arrows.end()) return;
    for (const auto& [pi, k] : it->second) {
        auto& a = pairs[pi].diagram->arrows[k];
        a.rule = rule;
        if (dropped) a.fate = DiagramArrow::Fate::dropped;
    }
}

// The seed step a frame implements (seed 000 for solution A, seed 001 for B), for the diagrams.
std::string World::seed_step(std::size_t from, const pc5::Frame& f) const {
    const auto type = message_of(f);
    if (f.lcid == pc5::lcid::kDiscovery)
        return scenario.solution == pc5::Solution::a ? "step 1" : "step 0";
    if (!type) return {};
    using T = codec::MessageType;
    const bool relay = ues[from]->spec.relay;
    if (scenario.solution == pc5::Solution::a) {
        switch (*type) {
            case T::establishment_request:
                return "step 2";
            case T::authentication_request:
            case T::authentication_response:
                return "step 3";
            case T::security_mode_command:
                return "step 4";
            case T::security_mode_complete:
            case T::establishment_accept:
                return "step 5";
            case T::identifier_update_request:
            case T::identifier_update_accept:
            case T::identifier_update_ack:
                return "TS 24.554 7.2.4";
            default:
                return {};
        }
    }
    switch (*type) {
        case T::establishment_request:
            return relay ? "steps 2-3" : "step 1";
        case T::establishment_accept:
            return relay ? "steps 6-7" : "steps 4-5";
        case T::keepalive_request:
        case T::keepalive_response:
            return establishing(from) ? "key confirmation" : "";
        case T::identifier_update_request:
        case T::identifier_update_accept:
        case T::identifier_update_ack:
            return "TS 24.554 7.2.4";
        default:
            return {};
    }
}

Tally World::tally() const {
    Tally t;
    for (const auto& u : ues)
        ++(u->spec.relay ? t.relays : t.ues);
    t.end_time = end_time;
    t.events = events;
    t.links = links;
    t.pairs.reserve(pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        const auto& p = pairs[i];
        Tally::PairResult r;
        r.index = pair_index.empty() ? i : pair_index[i];
        r.source = ues[p.source]->spec.name;
        r.target = ues[p.target]->spec.name;
        r.relay = p.relay ? ues[*p.relay]->spec.name : "";
        r.settled = p.settled;
        r.ready = p.ready;
        r.latency = p.settled ? p.ready_at - p.started : pc5::Time{};
        r.delivered = p.delivered;
        r.echoed = p.echoed;
        if (p.diagram) r.diagram = trace::render_svg(*p.diagram);
        t.pairs.push_back(std::move(r));
    }
    for (const auto& u : ues) {
        const auto& c = u->engine->counters();
        for (const auto& [type, n] : c.sent_messages) {
            auto& m = t.messages[codec::message_name(type)];
            m.first += n;
            auto b = c.sent_bytes.find(type);
            m.second += b == c.sent_bytes.end() ? 0 : b->second;
        }
        t.crypto += c.crypto;
        t.retransmissions += c.retransmissions;
        t.signalling_forwarded += c.frames_forwarded;
        for (std::size_t i = 0; i < c.drops.size(); ++i)
            if (c.drops[i])
                t.signalling_drops[pc5::name(static_cast<pc5::DropReason>(i))] += c.drops[i];
        const auto& d = u->up->counters();
        t.data_sent += d.sent;
        t.forwarded_l2 += d.forwarded_l2;
        t.forwarded_l3 += d.forwarded_l3;
        for (std::size_t i = 0; i < d.drops.size(); ++i)
            if (d.drops[i]) t.data_drops[pc5::name(static_cast<pc5::DropReason>(i))] += d.drops[i];
        // Per role: the UEs, their crypto operations, and the CPU time the processing model
        // charged them.
        auto& role = t.roles[u->role];
        ++role.ues;
        role.crypto += c.crypto;
        role.pdcp += u->pdcp_ops();
        role.cpu_us += u->cpu_us;
        role.longest_wait = std::max(role.longest_wait, u->longest_wait);
    }
    t.data_offered = data_offered;
    t.data_delivered = data_delivered;
    t.data_garbled = data_garbled;
    t.data_echoed = data_echoed;
    t.medium = medium;
    t.air = air;
    t.air_by_role = air_by_role;
    // Every run, whatever [expect] says: no link of solution A sent more establishment-phase
    // frames than link::establishment_frame_bound (issue 17: no livelock).
    // Solution B's engines likewise against sigauth::establishment_frame_bound.
    const std::uint32_t bound = frame_bound(scenario);
    for (const auto& ue : ues) {
        if (!ue->a && !ue->b) continue;
        t.most_frames = std::max(t.most_frames, ue->a ? ue->a->max_establishment_frames()
                                                      : ue->b->max_establishment_frames());
        for (const auto& id :
             ue->a ? ue->a->links_over_frame_bound() : ue->b->links_over_frame_bound())
            t.over_bound.push_back(
                fmt::format("link {} at {}: more than {} establishment-phase frames (a livelock)",
                            escape_text(id), escape_text(ue->spec.name), bound));
    }
    // With a privacy timer: no identifier an observer can link stayed on the air longer than
    // T5090 and the update that replaces it.
    if (scenario.privacy_timer_s > 0) {
        auto& pv = t.privacy;
        const double limit = privacy_limit_s(scenario);
        auto check = [&](const Seen& seen, const std::string& what) {
            const double span = ms(seen.last - seen.first) / 1000.0;
            if (span > pv.longest_s) {
                pv.longest_s = span;
                pv.longest = what;
            }
            if (span > limit && ++pv.over <= 8)
                pv.failures.push_back(fmt::format(
                    "{} on the air for {:.3f} s, longer than T5090 ({} s) and its update", what,
                    span, scenario.privacy_timer_s));
        };
        for (const auto& [id, seen] : l2_seen)
            check(seen, fmt::format("L2 ID {:06x}", id));
        for (const auto& [key, seen] : sess_seen)
            check(seen, fmt::format("KNRP-sess ID {:04x} of {}", key.second,
                                    escape_text(ues[key.first]->spec.name)));
        for (const auto& [key, seen] : srap_seen)
            check(seen, fmt::format("SRAP local UE ID {} of {}", key.second,
                                    escape_text(ues[key.first]->spec.name)));
        pv.l2_ids = l2_seen.size();
        pv.sess_ids = sess_seen.size();
        pv.srap_ids = srap_seen.size();
    }
    if (attacker) {
        t.attacker = true;
        t.attacker_json = attacker->json();
        t.attacker_summary = attacker->summary();
        t.attacker_failed = attacker->failed_expectations();
    }
    if (options.capture) {
        const auto& b = capture.bytes();
        const std::size_t header = pcap::PcapWriter().bytes().size();
        t.captures.emplace_back(b.begin() + static_cast<std::ptrdiff_t>(std::min(header, b.size())),
                                b.end());
    }
    if (options.keylog)
        for (const auto& rec : keylog.records())
            t.keylog += pc5::format_key_log_line(rec) + "\n";
    for (const auto& u : ues)
        if (u->long_term) t.long_term_keys.emplace_back(u->spec.name, *u->long_term);
    t.processing = processing;
    t.costs = costs;
    return t;
}

Report make_report(const Scenario& s, const Options& options, const Tally& t) {
    nlohmann::ordered_json j;
    // docs/metrics.md "Versions": 2 added `air`, `roles`, `processing` and the latency
    // percentiles, and latency includes the processing model's time.
    j["version"] = 2;
    j["scenario"] = s.name;
    j["description"] = s.description;
    j["solution"] = pc5::name(s.solution);
    j["path"] = pc5::name(s.path);
    j["attack"] = name(s.attack);
    j["seed"] = s.seed;
    if (s.solution == pc5::Solution::b_literal)
        j["security_note"] = std::string(sigauth::kLiteralModeNote);
    j["ues"] = t.ues;
    j["relays"] = t.relays;
    j["virtual_time_ms"] = ms3(t.end_time);

    Report out;
    out.ues = t.ues + t.relays;
    // The two long arrays are written as text one element at a time and put in place after the
    // dump (a million links as JSON values would hold gigabytes at once).
    j["links"] = kLinksMark;
    ArrayText links_text;
    for (const auto& [id, r] : t.links) {
        nlohmann::ordered_json l;
        // Ids, ends and reasons may carry a peer's octets (a corrupted user info ID): the JSON
        // gets them as valid UTF-8, any other octet as the text \xNN.
        l["id"] = valid_utf8(id);
        l["a"] = valid_utf8(r.initiator);
        l["b"] = valid_utf8(r.peer);
        l["kind"] = pc5::name(r.kind);
        l["solution"] = pc5::name(r.solution);
        const bool ok = r.established && !r.failed;
        l["state"] = ok ? "established" : "failed";
        l["cause"] = ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.cause);
        if (!ok) {
            l["cause_name"] = cause_name(r.cause);
            l["reason"] = valid_utf8(r.reason);
            l["failed_at"] = r.failed_at;
        }
        l["knrp_id"] = fmt::format("{:08x}", r.knrp_id.value);
        l["knrp_sess_id"] = fmt::format("{:04x}", r.knrp_sess_id.value);
        l["algorithms"] = r.algorithms;
        l["latency_ms"] = r.latency_ms;
        l["knrp_reused"] = r.reused;
        if (!r.security_note.empty()) l["security_note"] = valid_utf8(r.security_note);
        l["rekeys"] = r.rekeys;
        l["released"] = r.released;
        // Each end's key fingerprints: equal at both ends when they hold the same keys.
        nlohmann::ordered_json fp = nlohmann::ordered_json::object();
        for (const auto& [end, labels] : r.fingerprints)
            fp[end] = labels;
        l["fingerprints"] = fp;
        bool agree = r.fingerprints.size() == 2;
        if (agree) {
            const auto& x = r.fingerprints.begin()->second;
            const auto& y = std::next(r.fingerprints.begin())->second;
            for (const auto& [label, v] : x)
                if (auto it = y.find(label); it != y.end() && it->second != v) agree = false;
        }
        l["keys_agree"] = agree;
        links_text.add(l);
        ok ? ++out.links_established : ++out.links_failed;
    }

    j["establishments"] = kEstablishmentsMark;
    ArrayText establishments_text;
    double latency_sum = 0;
    std::size_t ready = 0;
    std::uint64_t delivered_min = ~0ull;
    for (const auto& p : t.pairs) {
        nlohmann::ordered_json e;
        e["source"] = p.source;
        e["target"] = p.target;
        e["relay"] = p.relay;
        e["state"] = p.ready ? "established" : "failed";
        e["latency_ms"] = ms3(p.latency);
        e["delivered"] = p.delivered;
        e["echoes"] = p.echoed;
        establishments_text.add(e);
        if (p.ready) {
            ++ready;
            latency_sum += ms(p.latency);
            delivered_min = std::min(delivered_min, p.delivered);
        }
    }

    const auto& messages = t.messages;
    const auto& ops = t.crypto;
    const auto& data_drops = t.data_drops;
    const auto& medium = t.medium;
    const auto& air = t.air;
    std::uint64_t msg_count = 0, msg_bytes = 0;
    auto& jm = j["messages"] = nlohmann::ordered_json::object();
    for (const auto& [n, cb] : messages) {
        jm[n] = {{"count", cb.first}, {"bytes", cb.second}};
        msg_count += cb.first;
        msg_bytes += cb.second;
    }
    j["messages_total"] = {{"count", msg_count}, {"bytes", msg_bytes}};
    j["retransmissions"] = t.retransmissions;
    j["signalling_frames_forwarded"] = t.signalling_forwarded;
    j["signalling_drops"] = t.signalling_drops;
    j["crypto"] = {{"sign", ops.sign},
                   {"verify", ops.verify},
                   {"cert_verify", ops.cert_verify},
                   {"key_agreement", ops.key_agreement},
                   {"keygen", ops.keygen},
                   {"kdf", ops.kdf}};
    std::uint64_t dropped = 0;
    for (const auto& [k, v] : data_drops)
        dropped += v;
    j["data"] = {{"offered", t.data_offered},
                 {"sent", t.data_sent},
                 {"delivered", t.data_delivered},
                 {"delivered_garbled", t.data_garbled},
                 {"echoes_received", t.data_echoed},
                 {"dropped", dropped},
                 {"drops", data_drops},
                 {"forwarded_l2", t.forwarded_l2},
                 {"forwarded_l3", t.forwarded_l3}};
    j["medium"] = {{"frames", medium.frames},
                   {"bytes", medium.bytes},
                   {"lost", medium.lost},
                   {"link_retransmissions", medium.link_retransmissions},
                   {"duplicated", medium.duplicated},
                   {"reordered", medium.reordered},
                   {"corrupted", medium.corrupted},
                   {"crc_discarded", medium.crc_discarded},
                   {"undeliverable", medium.undeliverable},
                   {"attacker_injected", medium.injected},
                   {"attacker_tampered", medium.tampered}};
    // Every frame on the air, once, by kind and by the sender's role.
    const auto air_json = [](const std::array<AirCount, kAirKinds>& by_kind) {
        nlohmann::ordered_json o;
        std::uint64_t frames = 0, bytes = 0;
        for (const auto& c : by_kind) {
            frames += c.frames;
            bytes += c.bytes;
        }
        o["frames"] = frames;
        o["bytes"] = bytes;
        auto& k = o["by_kind"] = nlohmann::ordered_json::object();
        for (std::size_t i = 0; i < kAirKinds; ++i)
            k[name(static_cast<AirKind>(i))] = {{"frames", by_kind[i].frames},
                                                {"bytes", by_kind[i].bytes}};
        return o;
    };
    static constexpr std::array<const char*, kRoles> kRoleNames{"source", "relay", "target"};
    j["air"] = air_json(air);
    auto& jr = j["air"]["by_role"] = nlohmann::ordered_json::object();
    for (std::size_t r = 0; r < kRoles; ++r)
        jr[kRoleNames[r]] = air_json(t.air_by_role[r]);
    auto& jroles = j["roles"] = nlohmann::ordered_json::object();
    for (std::size_t r = 0; r < kRoles; ++r) {
        const auto& o = t.roles[r].crypto;
        jroles[kRoleNames[r]] = {{"ues", t.roles[r].ues},
                                 {"crypto",
                                  {{"sign", o.sign},
                                   {"verify", o.verify},
                                   {"cert_verify", o.cert_verify},
                                   {"key_agreement", o.key_agreement},
                                   {"keygen", o.keygen},
                                   {"kdf", o.kdf},
                                   {"pdcp", t.roles[r].pdcp}}},
                                 {"cpu_ms", std::round(t.roles[r].cpu_us) / 1000.0},
                                 {"longest_wait_ms", ms3(t.roles[r].longest_wait)}};
    }
    {
        const auto& p = s.processing;
        nlohmann::ordered_json jp;
        jp["profile"] = p.costs ? "table" : p.profile;
        jp["factor"] = p.factor;
        jp["reproducible"] = p.profile != "measured" || p.costs;
        const auto& costs = t.costs;
        if (t.processing)
            jp["costs_us"] = {{"sign", costs.sign_us},
                              {"verify", costs.verify_us},
                              {"cert_verify", costs.cert_verify_us},
                              {"key_agreement", costs.key_agreement_us},
                              {"keygen", costs.keygen_us},
                              {"kdf", costs.kdf_us},
                              {"pdcp", costs.pdcp_us}};
        j["processing"] = jp;
    }
    const double mean_latency = ready ? latency_sum / static_cast<double>(ready) : 0.0;
    std::vector<double> latencies;
    for (const auto& p : t.pairs)
        if (p.ready) latencies.push_back(ms(p.latency));
    std::sort(latencies.begin(), latencies.end());
    // The nearest-rank percentile.
    const auto percentile = [&](double q) {
        if (latencies.empty()) return 0.0;
        const auto rank =
            static_cast<std::size_t>(std::ceil(q * static_cast<double>(latencies.size())));
        return std::round(latencies[std::max<std::size_t>(rank, 1) - 1] * 1000.0) / 1000.0;
    };
    const std::size_t pairs = t.pairs.size();
    j["establishment"] = {{"pairs", pairs},
                          {"established", ready},
                          {"failed", pairs - ready},
                          {"mean_latency_ms", std::round(mean_latency * 1000.0) / 1000.0},
                          {"median_latency_ms", percentile(0.5)},
                          {"p95_latency_ms", percentile(0.95)}};

    // [expect]
    const auto& x = s.expect;
    auto fail = [&](std::string why) {
        out.expectations_met = false;
        out.failed_expectations.push_back(std::move(why));
    };
    if (x.established) {
        if (*x.established && ready != pairs)
            fail(fmt::format("expected every source established, {} of {} are", ready, pairs));
        if (!*x.established && ready != 0)
            fail(fmt::format("expected no source established, {} are", ready));
    }
    if (x.cause) {
        bool seen = false;
        for (const auto& [id, r] : t.links)
            seen |= r.failed && r.cause == *x.cause;
        if (!seen) fail(fmt::format("expected a link failed with cause #{}", *x.cause));
    }
    if (x.delivered_min && ready && delivered_min < *x.delivered_min)
        fail(fmt::format("expected at least {} PDUs delivered per pair, one got {}",
                         *x.delivered_min, delivered_min));
    for (const auto& [reason, n] : x.drops_min) {
        auto it = data_drops.find(reason);
        const std::uint64_t got = it == data_drops.end() ? 0 : it->second;
        if (got < n)
            fail(fmt::format("expected at least {} data drops '{}', got {}", n, reason, got));
    }
    // Every run, whatever [expect] says: no link of solution A sent more establishment-phase
    // frames than link::establishment_frame_bound (issue 17: no livelock).
    // Solution B's engines likewise against sigauth::establishment_frame_bound.
    for (const auto& why : t.over_bound)
        fail(why);
    j["establishment"]["frames_per_link"] = {{"max", t.most_frames}, {"bound", frame_bound(s)}};
    // With a privacy timer: no identifier an observer can link stayed on the air longer than
    // T5090 and the update that replaces it (its messages go under the old identifiers, and
    // may be repeated for t_identifier_update x (max_retransmissions + 1)).
    if (s.privacy_timer_s > 0) {
        const auto& pv = t.privacy;
        for (const auto& why : pv.failures)
            fail(why);
        j["privacy"] = {{"t5090_s", s.privacy_timer_s},
                        {"limit_s", privacy_limit_s(s)},
                        {"l2_ids", pv.l2_ids},
                        {"knrp_sess_ids", pv.sess_ids},
                        {"srap_local_ids", pv.srap_ids},
                        {"longest_s", std::round(pv.longest_s * 1000.0) / 1000.0},
                        {"longest", pv.longest},
                        {"over_limit", pv.over}};
    }
    if (t.attacker) {
        for (const auto& why : t.attacker_failed)
            fail(why);
        j["attacker"] = nlohmann::ordered_json::parse(t.attacker_json);
    }
    j["expectations"] = {{"met", out.expectations_met}, {"failed", out.failed_expectations}};
    // Every string above is valid UTF-8; should one not be, it is replaced (U+FFFD) rather than
    // the report lost.
    out.json = j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    links_text.put(out.json, kLinksMark);
    establishments_text.put(out.json, kEstablishmentsMark);

    // The readable summary.
    std::string& text = out.summary;
    text += fmt::format("scenario {}: solution {} via {}, attack {}, seed {}\n  {}\n\n", s.name,
                        pc5::name(s.solution), pc5::name(s.path), name(s.attack), s.seed,
                        s.description);
    if (s.solution == pc5::Solution::b_literal)
        text += fmt::format("  note: {}\n\n", sigauth::kLiteralModeNote);
    text += fmt::format("  {:<34} {:<22} {:<4} {:<11} {:<6} {:<8} {:<4} {:<9} {:>8}  {}\n", "link",
                        "ends", "kind", "state", "cause", "KNRP ID", "sess", "algs", "latency",
                        "keys (NRPEK/NRPIK fingerprints)");
    std::size_t shown = 0;
    for (const auto& [raw_id, r] : t.links) {
        if (++shown > 12) break;
        const std::string id = escape_text(raw_id);
        const bool ok = r.established && !r.failed;
        std::string keys = "-";
        if (!r.fingerprints.empty()) {
            const auto& f = r.fingerprints.begin()->second;
            auto get = [&](const char* k) {
                auto it = f.find(k);
                return it == f.end() ? std::string("-") : it->second;
            };
            keys = get("NRPEK") + "/" + get("NRPIK");
            if (f.count("KD")) keys += " KD " + get("KD");
        }
        text += fmt::format(
            "  {:<34} {:<22} {:<4} {:<11} {:<6} {:<8} {:<4} {:<9} {:>6.1f}ms  {}\n", clip(id, 34),
            escape_text(r.initiator + ">" + r.peer), pc5::name(r.kind),
            ok ? "established" : "failed", ok ? "-" : fmt::format("#{}", r.cause),
            fmt::format("{:08x}", r.knrp_id.value), fmt::format("{:04x}", r.knrp_sess_id.value),
            r.algorithms, r.latency_ms, ok ? keys : clip(escape_text(r.reason), 50));
    }
    if (t.links.size() > 12) text += fmt::format("  ... and {} more links\n", t.links.size() - 12);
    std::uint64_t air_frames = 0, air_bytes = 0;
    std::string air_kinds;
    for (std::size_t k = 0; k < kAirKinds; ++k) {
        air_frames += air[k].frames;
        air_bytes += air[k].bytes;
        if (air[k].frames)
            air_kinds += fmt::format("{}{} {}", air_kinds.empty() ? "" : ", ", air[k].frames,
                                     name(static_cast<AirKind>(k)));
    }
    text += fmt::format("\n  on the air: {} frames, {} bytes ({})\n", air_frames, air_bytes,
                        air_kinds.empty() ? "none" : air_kinds);
    if (t.processing)
        text += fmt::format(
            "  processing ({} profile): CPU source {:.2f} ms, relay {:.2f} ms, target {:.2f} ms\n",
            s.processing.costs ? "table" : s.processing.profile,
            t.roles[kSourceRole].cpu_us / 1000.0, t.roles[kRelayRole].cpu_us / 1000.0,
            t.roles[kTargetRole].cpu_us / 1000.0);
    text += fmt::format(
        "  establishments {}/{} (mean {:.1f} ms virtual) | messages {} ({} bytes), "
        "{} retransmissions\n  crypto: {} signatures, {} verifications, {} certificate checks, "
        "{} key agreements, {} KDF calls\n  data: {} offered, {} delivered{}, {} dropped{} | "
        "medium: "
        "{} frames, {} lost, {} corrupted{}, {} injected by the attacker\n",
        ready, pairs, mean_latency, msg_count, msg_bytes, t.retransmissions, ops.sign, ops.verify,
        ops.cert_verify, ops.key_agreement, ops.kdf, t.data_offered, t.data_delivered,
        s.traffic.echo ? fmt::format(" ({} echoes back)", t.data_echoed) : "", dropped,
        data_drops.empty() ? ""
                           : " " + escape_text(nlohmann::json(data_drops)
                                                   .dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace)),
        medium.frames, medium.lost, medium.corrupted,
        medium.crc_discarded
            ? fmt::format(" ({} transmissions discarded by CRC)", medium.crc_discarded)
            : "",
        medium.injected);
    if (t.attacker) text += t.attacker_summary;
    text += out.expectations_met
                ? "  expectations: met\n"
                : "  expectations NOT met: " +
                      escape_text(fmt::format("{}", fmt::join(out.failed_expectations, "; "))) +
                      "\n";

    if (options.capture) out.pcap = merge_captures(t.captures);
    if (options.keylog)
        out.keylog = "# pc5sec key log (docs/keylog.md): these lines are secret keys\n" + t.keylog;
    out.long_term_keys = t.long_term_keys;
    std::size_t n = 0;
    for (const auto& p : t.pairs)
        if (!p.diagram.empty())
            out.diagrams.emplace_back(fmt::format("seq-{:02}-{}-{}.svg", ++n, p.source, p.target),
                                      p.diagram);
    return out;
}

}  // namespace pc5sec::sim
