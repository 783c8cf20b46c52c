// The study of `pc5sec evaluate` (src/evaluation/evaluation.hpp, docs/evaluation.md). Every
// figure and every cell comes from a simulator run made here; nothing is typed in.
#include "evaluation/evaluation.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "evaluation/document.hpp"
#include "pc5sec/files.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/sim.hpp"
#include "pc5sec/text.hpp"
#include "pc5sec/trace_decrypt.hpp"

namespace pc5sec::evaluation {
namespace {

using json = nlohmann::json;

// The solutions and paths compared: every column of the attack matrix and property table.
struct Config {
    std::string label, slug, solution, path;
    bool a() const { return solution == "A"; }
    bool relayed() const { return path != "direct"; }
};
const std::vector<Config>& configs() {
    static const std::vector<Config> c{
        {"A direct", "a-direct", "A", "direct"},
        {"A-l3", "a-l3", "A", "l3"},
        {"A-l2", "a-l2", "A", "l2"},
        {"B-literal l2", "b-literal-l2", "B-literal", "l2"},
        {"B-literal l3", "b-literal-l3", "B-literal", "l3"},
        {"B-hardened l2", "b-hardened-l2", "B-hardened", "l2"},
        {"B-hardened l3", "b-hardened-l3", "B-hardened", "l3"},
    };
    return c;
}

constexpr std::array<const char*, 3> kRoles{"source", "relay", "target"};
// The kinds of frames of an establishment (docs/metrics.md "air"); data and the attacker's
// are not an establishment's.
constexpr std::array<const char*, 6> kKinds{"establishment",  "discovery",  "forwarding",
                                            "retransmission", "keep-alive", "maintenance"};

struct Run {
    json j;
    sim::Report report;
};

class Study {
  public:
    Study(const Options& o, Summary& s) : o_(o), summary_(s) {}

    void step(const std::string& what) const {
        if (o_.progress) o_.progress(what);
    }

    Result<Run> run(const std::string& toml, const std::string& origin, bool files = false) {
        auto s = sim::parse_scenario(toml, origin);
        if (!s) return std::move(s).error();
        sim::Options opt;
        opt.capture = files;
        opt.keylog = files;
        opt.diagrams = 0;
        opt.measured_costs = measured_;
        opt.export_long_term_keys = files;
        auto r = sim::run(*s, opt);
        if (!r) return std::move(r).error();
        ++summary_.runs;
        Run out{json::parse(r->json), std::move(*r)};
        return out;
    }

    const Options& o_;
    Summary& summary_;
    sim::CostTable measured_ = sim::measure_costs();
};

std::string head(const std::string& name, const std::string& description, const Config& c,
                 std::uint64_t seed, const std::string& extra = "") {
    return fmt::format(
        "name = \"{}\"\ndescription = \"{}\"\nsolution = \"{}\"\npath = \"{}\"\nseed = {}\n{}\n",
        name, description, c.solution, c.path, seed, extra);
}

// `pairs` source/target pairs. Each pair in its own zone with its own relay, found by discovery
// (`discovery`) or named; or every pair through one relay (`shared`), `spread_ms` apart.
std::string population(const Config& c, std::size_t pairs, bool shared, bool discovery, bool ooc,
                       double spread_ms = 0) {
    const std::string cov = ooc ? "in_coverage = false\n" : "";
    std::string t;
    if (c.relayed() && shared)
        t += fmt::format("[[ue]]\nname = \"relay-1\"\nrelay = true\nzone = 1\n{}\n", cov);
    for (std::size_t i = 1; i <= pairs; ++i) {
        const std::size_t zone = shared ? 1 : i;
        t += fmt::format(
            "[[ue]]\nname = \"src-{0}\"\nzone = {1}\n{2}\n[[ue]]\nname = \"dst-{0}\"\nzone = "
            "{1}\n{2}\n",
            i, zone, cov);
        if (c.relayed() && !shared)
            t += fmt::format("[[ue]]\nname = \"relay-{}\"\nrelay = true\nzone = {}\n{}\n", i, zone,
                             cov);
        t += fmt::format("[[connect]]\nsource = \"src-{0}\"\ntarget = \"dst-{0}\"\n", i);
        if (c.relayed())
            t += shared      ? "relay = \"relay-1\"\n"
                 : discovery ? "relay = \"auto\"\n"
                             : fmt::format("relay = \"relay-{}\"\n", i);
        t += fmt::format("at_ms = {}\n\n", spread_ms * static_cast<double>(i - 1));
    }
    return t;
}

double num(const json& j) {
    return j.is_number() ? j.get<double>() : 0.0;
}
std::string fixed(double v, int digits = 1) {
    return fmt::format("{:.{}f}", v, digits);
}
// Per establishment: whole numbers as such, fractions with one decimal.
std::string per(double v) {
    return std::abs(v - std::round(v)) < 1e-9 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
}

// ---------------------------------------------------------------- the cost table

struct Cost {
    std::string label;
    const Config* config = nullptr;
    bool ooc = false, reuse = false;
    std::size_t pairs = 0, established = 0;
    std::map<std::string, double> frames, bytes;  // per establishment, by kind
    double total_frames = 0, total_bytes = 0;
    // Per establishment, by role: sign, verify (signatures and certificate chains), key
    // agreement, KDF; and CPU ms under the default profile.
    std::array<std::array<double, 4>, 3> ops{};
    std::array<double, 3> cpu{};
    // Latency, ms: median and p95 under the default, measured and slow (wearable) profiles.
    std::array<double, 6> latency{};
};

// The establishments' latencies of a run: the pairs' (connect to usable at both ends), or with
// KNRP reuse the re-established links' (request to established at the initiator).
std::vector<double> latencies(const json& j, bool reused_links) {
    std::vector<double> v;
    if (reused_links) {
        for (const auto& l : j["links"])
            if (l["knrp_reused"].get<bool>() && l["state"] == "established")
                v.push_back(num(l["latency_ms"]));
    } else {
        for (const auto& e : j["establishments"])
            if (e["state"] == "established") v.push_back(num(e["latency_ms"]));
    }
    std::sort(v.begin(), v.end());
    return v;
}
double percentile(const std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::max<std::size_t>(rank, 1) - 1];
}

Result<std::vector<Cost>> cost_study(Study& st, std::size_t pairs) {
    std::vector<Cost> rows;
    for (const auto& c : configs())
        for (int variant = 0; variant < 3; ++variant) {
            const bool ooc = variant == 1, reuse = variant == 2;
            if (reuse && !c.a()) continue;  // solution B has no KNRP to reuse
            Cost row;
            row.label = c.label + (ooc ? ", out of coverage" : reuse ? ", KNRP reused" : "");
            row.config = &c;
            row.ooc = ooc;
            row.reuse = reuse;
            st.step("cost: " + row.label);
            const auto body = population(c, pairs, false, true, ooc);
            std::array<json, 3> profile_runs;
            std::array<const char*, 3> profiles{"default", "measured", "wearable"};
            json base;
            for (std::size_t p = 0; p < 3; ++p) {
                const std::string toml =
                    head("cost-" + c.slug, row.label, c, st.o_.seed,
                         fmt::format("duration_s = 120\n{}", reuse ? "reuse = true\n" : "")) +
                    body +
                    fmt::format("[traffic]\npdus = 0\n\n[processing]\nprofile = \"{}\"\n",
                                profiles[p]);
                auto r = st.run(toml, "cost-" + c.slug);
                if (!r) return std::move(r).error();
                profile_runs[p] = std::move(r->j);
                if (reuse && p == 0) {  // the same without reuse, to subtract
                    auto b = st.run(
                        head("cost-" + c.slug, row.label, c, st.o_.seed, "duration_s = 120\n") +
                            body + "[traffic]\npdus = 0\n",
                        "cost-" + c.slug);
                    if (!b) return std::move(b).error();
                    base = std::move(b->j);
                }
            }
            const json& j = profile_runs[0];
            row.pairs = pairs;
            row.established = j["establishment"]["established"].get<std::size_t>();
            const double n = static_cast<double>(pairs);
            const auto minus = [&](const json& a, const json& b) {
                return reuse ? num(a) - num(b) : num(a);
            };
            for (const char* k : kKinds) {
                const auto& a = j["air"]["by_kind"][k];
                const json zero = {{"frames", 0}, {"bytes", 0}};
                const auto& b = reuse ? base["air"]["by_kind"][k] : zero;
                row.frames[k] = minus(a["frames"], b["frames"]) / n;
                row.bytes[k] = minus(a["bytes"], b["bytes"]) / n;
                row.total_frames += row.frames[k];
                row.total_bytes += row.bytes[k];
            }
            for (std::size_t r = 0; r < 3; ++r) {
                const auto& a = j["roles"][kRoles[r]];
                const json& b = reuse ? base["roles"][kRoles[r]] : a;
                const auto op = [&](const char* name) {
                    return (num(a["crypto"][name]) - (reuse ? num(b["crypto"][name]) : 0.0)) / n;
                };
                row.ops[r] = {op("sign"), op("verify") + op("cert_verify"), op("key_agreement"),
                              op("kdf")};
                row.cpu[r] = (num(a["cpu_ms"]) - (reuse ? num(b["cpu_ms"]) : 0.0)) / n;
            }
            for (std::size_t p = 0; p < 3; ++p) {
                const auto v = latencies(profile_runs[p], reuse);
                row.latency[2 * p] = percentile(v, 0.5);
                row.latency[2 * p + 1] = percentile(v, 0.95);
            }
            rows.push_back(std::move(row));
        }
    return rows;
}

// ---------------------------------------------------------------- the attack matrix

struct Cell {
    std::string text;  // "refused (#6)", "detected (3 dropped: bad-mac)", "undetected", "n/a ..."
    std::string file;  // the scenario file, relative to the output directory
    bool stopped = false, undetected = false, applicable = true;
};

struct Attack {
    std::string name, what, origin;  // origin: "named" or examples/attacks/FILE
    bool needs_relay = false;        // an attack by or on the relay (n/a on the direct path)
    std::function<Result<std::string>(const Config&, std::uint64_t)> toml;
};

// The three UEs of an attack scenario: alice, bob, and relay-1 on a relayed path.
std::string trio(const Config& c, bool ooc) {
    const std::string cov = ooc ? "in_coverage = false\n" : "";
    std::string t = fmt::format(
        "[[ue]]\nname = \"alice\"\nl2 = 0x00000A\n{0}\n[[ue]]\nname = \"bob\"\nl2 = "
        "0x00000B\n{0}\n",
        cov);
    if (c.relayed())
        t += fmt::format("[[ue]]\nname = \"relay-1\"\nl2 = 0x000050\nrelay = true\n{}\n", cov);
    t += "[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\n";
    if (c.relayed()) t += "relay = \"relay-1\"\n";
    return t + "\n[traffic]\npdus = 20\n";
}

// A rule file of examples/attacks/ on another solution and path: its [expect] and the rules'
// expectations (written for the file's own solution) are left out.
Result<std::string> retarget(const std::string& file, const std::string& text, const Config& c,
                             std::uint64_t seed) {
    toml::table root;
    try {
        root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        return make_error(Errc::malformed, file, std::string(e.description()));
    }
    root.insert_or_assign("solution", c.solution);
    root.insert_or_assign("path", c.path);
    root.insert_or_assign("seed", static_cast<std::int64_t>(seed));
    root.erase("expect");
    if (auto* rules = root.get_as<toml::array>("attacker"))
        for (auto& r : *rules)
            if (auto* t = r.as_table()) {
                t->erase("expect");
                t->erase("expect_cause");
            }
    std::string relay;
    if (auto* ues = root.get_as<toml::array>("ue"))
        for (auto& u : *ues)
            if (auto* t = u.as_table();
                t && t->get_as<bool>("relay") && t->get_as<bool>("relay")->get() && relay.empty())
                if (auto* n = t->get_as<std::string>("name")) relay = n->get();
    if (auto* connects = root.get_as<toml::array>("connect"))
        for (auto& cn : *connects)
            if (auto* t = cn.as_table()) {
                if (!c.relayed()) {
                    t->erase("relay");
                } else if (!t->contains("relay")) {
                    if (relay.empty()) {
                        relay = "relay-1";
                        toml::table r{{"name", "relay-1"}, {"relay", true}};
                        root.get_as<toml::array>("ue")->push_back(std::move(r));
                    }
                    t->insert_or_assign("relay", relay);
                }
            }
    std::ostringstream out;
    out << "# From examples/attacks/" << file << " (pc5sec evaluate): solution and path set to "
        << c.solution << " " << c.path << "; the file's expectations left out.\n"
        << root << "\n";
    return out.str();
}

std::vector<Attack> attacks() {
    std::vector<Attack> out;
    // The named attacks (attack = NAME): the medium attacks and the credential set-ups.
    struct Named {
        const char* name;
        const char* what;
        const char* extra;
        bool ooc;
        bool needs_relay = false;
    };
    static const Named named[] = {
        {"tamper-request", "downgrade: the request's security capabilities bid down", "", false},
        {"tamper-mac", "a bit of the Security Mode Command's MAC-I flipped", "", false},
        {"replay", "an old establishment request replayed after release", "", false},
        {"foreign-ca", "identity spoofing: the target's certificate from another CA", "", false},
        {"revoked", "the source's certificate revoked", "", false},
        {"expired", "the source's certificate expired, out of coverage", "", true},
        {"unauthorised-relay", "the relay not authorised for the RSC", "", false, true},
        {"tampering-relay", "a compromised relay changes what it forwards", "", false, true},
        {"tamper-data", "a data PDU's bit flipped on the air", "", false},
        {"replay-data", "data PDUs replayed", "", false},
        {"inject-data", "data PDUs under a key the attacker made up", "", false},
        {"forged-request-on-live-link", "a request with a live link's L2 IDs, no credentials", "",
         false},
        {"request-flood", "flood: 50 requests from made-up L2 IDs at the relay", "", false},
        {"revoked-with-cached-knrp", "the source revoked, then back with its cached KNRP", "",
         false},
        {"forged-reject", "unprotected rejects forged in every UE's name", "", false},
        {"stale-replay", "the request replayed 62 minutes later (after any cache lifetime)",
         "duration_s = 3800\n", false},
        {"target-not-authorised", "the target not authorised for the RSC", "", false, true},
        {"unconfirmed-target", "the source's key confirmation never reaches the target", "", false},
        {"key-substitution",
         "literal-mode man in the middle: a rogue relay signs as each end UE with its own key", "",
         false, true},
        {"relay-not-authorised-for-target", "a rogue relay re-signs without authorisation", "",
         false},
    };
    for (const auto& a : named)
        out.push_back({a.name, a.what, "named", a.needs_relay,
                       [a](const Config& c, std::uint64_t seed) -> Result<std::string> {
                           return head(std::string("attack-") + a.name, a.what, c, seed,
                                       fmt::format("attack = \"{}\"\n{}", a.name, a.extra)) +
                                  trio(c, a.ooc);
                       }});
    for (const auto& [file, text] : attack_files()) {
        // A rule file named like a named attack keeps its own row (and scenario files).
        std::string name = file.substr(0, file.size() - 5);
        for (const auto& a : named)
            if (name == a.name) name += "-rules";
        // Its leading comment's first sentence says what it does.
        std::string what;
        for (std::size_t at = 0; at < text.size() && text.compare(at, 2, "# ") == 0;) {
            const auto end = text.find('\n', at);
            what += (what.empty() ? "" : " ") + text.substr(at + 2, end - at - 2);
            if (end == std::string::npos) break;
            at = end + 1;
        }
        if (const auto stop = what.find(". "); stop != std::string::npos) what.resize(stop + 1);
        if (what.size() > 200) what = what.substr(0, what.rfind(' ', 197)) + "...";
        out.push_back({name, what, "examples/attacks/" + file, false,
                       [file, text](const Config& c, std::uint64_t seed) {
                           return retarget(file, text, c, seed);
                       }});
    }
    return out;
}

// What a run says about its attack: from the attacker's rules when any fired, else from the
// links (a credential set-up: refused with a cause, or linked).
Cell judge(const json& j) {
    Cell c;
    std::uint64_t fired = 0, undetected = 0, dropped = 0;
    std::set<std::string> reasons;
    std::set<unsigned> causes;
    bool has_rules = j.contains("attacker");
    if (has_rules)
        for (const auto& r : j["attacker"]) {
            // A rule that only records (for a later replay) acts on nothing: the victims
            // rightly take the genuine frames it saw.
            if (r["fired"].get<std::uint64_t>() == 0 || r["action"] == "record") continue;
            // Every edit refused by the codec (an IE the other solution's message lacks): the
            // frames went on unchanged, the rule did nothing.
            if (r["edit_errors"].get<std::uint64_t>() >= r["fired"].get<std::uint64_t>()) continue;
            ++fired;
            const std::string o = r["outcome"];
            if (o == "undetected") ++undetected;
            for (const auto& [cause, n] : r["victims"]["refused"].items())
                causes.insert(static_cast<unsigned>(std::stoul(cause)));
            for (const auto& [why, n] : r["victims"]["dropped"].items()) {
                dropped += n.get<std::uint64_t>();
                reasons.insert(why);
            }
        }
    std::set<unsigned> link_causes;
    for (const auto& l : j["links"])
        if (l["state"] == "failed" && l["cause"].is_number())
            link_causes.insert(l["cause"].get<unsigned>());
    const auto cause_text = [](const std::set<unsigned>& s) {
        std::string t;
        for (auto x : s)
            t += (t.empty() ? "#" : ", #") + std::to_string(x);
        return t;
    };
    // A relay of layer 2 forwards what it cannot check (end-to-end protected): the rule's frames
    // count as accepted there, and the far end drops them. Data PDUs dropped at the end UEs, and
    // none delivered garbled, are that detection.
    std::uint64_t e2e_dropped = 0;
    std::string e2e_why;
    for (const auto& [why, n] : j["data"]["drops"].items()) {
        e2e_dropped += n.get<std::uint64_t>();
        e2e_why += (e2e_why.empty() ? "" : ", ") + why;
    }
    if (fired && undetected && e2e_dropped && j["data"]["delivered_garbled"] == 0) {
        c.text = fmt::format("detected end to end ({} dropped: {})", e2e_dropped, e2e_why);
        c.stopped = true;
        return c;
    }
    if (fired) {
        if (undetected) {
            c.text = "undetected";
            c.undetected = true;
        } else if (!causes.empty()) {
            c.text = "refused (" + cause_text(causes) + ")";
            c.stopped = true;
        } else {
            std::string why;
            for (const auto& r : reasons)
                why += (why.empty() ? "" : ", ") + r;
            c.text = fmt::format("detected ({} dropped{})", dropped, why.empty() ? "" : ": " + why);
            c.stopped = true;
        }
        return c;
    }
    if (!link_causes.empty()) {
        c.text = "refused (" + cause_text(link_causes) + ")";
        c.stopped = true;
        return c;
    }
    if (has_rules) {
        c.text = "n/a (never fired)";
        c.applicable = false;
        return c;
    }
    c.text = "undetected (linked)";
    c.undetected = true;
    return c;
}

// ---------------------------------------------------------------- the property runs

struct PropertyRun {
    std::size_t data_frames = 0, relay_opened = 0;  // data PDUs; opened with the relay's keys
    std::size_t relay_keys = 0;                     // keys the relay holds (per pair)
    std::size_t identities = 0, certificates = 0;   // in clear on the air
    std::size_t fs_links = 0, fs_opened = 0;        // links with keys; recomputed from a key
};

bool has_plaintext(const trace::DecipheredFrame& f) {
    static const std::string marker = "pc5sec data";
    for (const auto& o : f.openings)
        if (std::search(o.payload.begin(), o.payload.end(), marker.begin(), marker.end()) !=
            o.payload.end())
            return true;
    for (const auto& c : f.carried)
        if (has_plaintext(c)) return true;
    return false;
}

bool is_key_label(const std::string& l) {
    return l == "KNRP" || l == "KNRP_SESS" || l == "NRPEK" || l == "NRPIK" || l == "KD" ||
           l == "KD_SESS" || l == "KD_HOP";
}

std::pair<std::string, std::string> ends(const std::string& id) {
    const auto gt = id.find('>'), hash = id.rfind('#');
    if (gt == std::string::npos || hash == std::string::npos || hash < gt) return {};
    return {id.substr(0, gt), id.substr(gt + 1, hash - gt - 1)};
}

Result<PropertyRun> property_run(Study& st, const Config& c) {
    const std::string toml =
        head("properties-" + c.slug, "one pair, 20 data PDUs", c, st.o_.seed) + trio(c, false);
    auto r = st.run(toml, "properties-" + c.slug, true);
    if (!r) return std::move(r).error();
    PropertyRun p;
    auto frames = pcap::parse(r->report.pcap);
    if (!frames) return std::move(frames).error();
    auto records = pc5::parse_key_log(r->report.keylog);
    if (!records) return std::move(records).error();
    // Identity privacy: what an observer without keys reads.
    const auto seen = trace::observe_capture(*frames);
    p.identities = seen.identities.size();
    p.certificates = seen.certificates_in_clear;
    // The relay's keys alone: which data PDUs they open.
    std::vector<pc5::KeyLogRecord> relays;
    std::set<std::pair<std::string, std::string>> relay_keys;
    for (const auto& rec : *records) {
        const auto [a, b] = ends(rec.link_id);
        if (a != "relay-1" && b != "relay-1") continue;
        relays.push_back(rec);
        if (is_key_label(rec.label)) relay_keys.insert({rec.label, rec.link_id});
    }
    p.relay_keys = relay_keys.size();
    auto opened = trace::decipher_capture(*frames, relays);
    if (!opened) return std::move(opened).error();
    for (const auto& f : *opened)
        if (f.kind == trace::PduKind::data) {
            ++p.data_frames;
            p.relay_opened += has_plaintext(f);
        }
    // Forward secrecy: each end's long-term key compromised after the run. With it and the
    // peer's public key (on the air: its certificate, or seed 001's raw key) the attacker
    // computes the static Diffie-Hellman secret, the only secret of a derivation that uses no
    // ephemeral key; a link is opened when that secret is one of the link's keys (seed 001
    // literal: KD = the ECDH output). The key log only checks the result.
    std::map<std::string, const PrivateKey*> keys;
    for (const auto& [name, key] : r->report.long_term_keys)
        keys[name] = &key;
    std::map<std::string, std::set<std::string>> link_keys;
    for (const auto& rec : *records)
        if (is_key_label(rec.label)) link_keys[rec.link_id].insert(rec.value);
    for (const auto& [id, values] : link_keys) {
        ++p.fs_links;
        const auto [a, b] = ends(id);
        const auto ka = keys.find(a), kb = keys.find(b);
        if (ka == keys.end() || kb == keys.end()) continue;
        bool open = false;
        for (const auto& [mine, peer] :
             {std::pair{ka->second, kb->second}, {kb->second, ka->second}})
            if (mine->type() == peer->type() && mine->type() != KeyType::ed25519)
                if (auto z = key_agreement(*mine, peer->public_key()))
                    open |= values.count(to_hex(z->reveal())) > 0;
        p.fs_opened += open;
    }
    return p;
}

// ---------------------------------------------------------------- the sweeps

struct Point {
    double x = 0, success = 0, median = 0, p95 = 0;
    std::string failure;  // the most frequent failure of the run's links: "#13 (reason)"
};

std::string most_frequent_failure(const json& j) {
    std::map<std::string, std::size_t> n;
    for (const auto& l : j["links"])
        if (l["state"] == "failed" && l["cause"].is_number())
            ++n[fmt::format("#{} ({})", l["cause"].get<unsigned>(),
                            escape_text(l.value("reason", std::string())))];
    const auto it = std::max_element(
        n.begin(), n.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    return it == n.end() ? std::string() : it->first;
}

Result<std::vector<Point>> sweep_loss(Study& st, const Config& c, const std::vector<double>& losses,
                                      std::size_t pairs) {
    std::vector<Point> out;
    for (double loss : losses) {
        const std::string toml = head("loss-" + c.slug, "establishment under loss", c, st.o_.seed,
                                      "duration_s = 120\n") +
                                 population(c, pairs, false, false, false) +
                                 fmt::format("[traffic]\npdus = 0\n\n[medium]\nloss = {}\n", loss);
        auto r = st.run(toml, "loss-" + c.slug);
        if (!r) return std::move(r).error();
        const auto v = latencies(r->j, false);
        out.push_back(
            {loss * 100,
             100.0 * num(r->j["establishment"]["established"]) / static_cast<double>(pairs),
             percentile(v, 0.5), percentile(v, 0.95), most_frequent_failure(r->j)});
    }
    return out;
}

Result<std::vector<Point>> sweep_sources(Study& st, const Config& c,
                                         const std::vector<std::size_t>& sources) {
    std::vector<Point> out;
    for (auto n : sources) {
        const std::string toml =
            head("sources-" + c.slug, "sources of one relay", c, st.o_.seed, "duration_s = 120\n") +
            population(c, n, true, false, false, 1.0) + "[traffic]\npdus = 0\n";
        auto r = st.run(toml, "sources-" + c.slug);
        if (!r) return std::move(r).error();
        const auto v = latencies(r->j, false);
        out.push_back({static_cast<double>(n),
                       100.0 * num(r->j["establishment"]["established"]) / static_cast<double>(n),
                       percentile(v, 0.5), percentile(v, 0.95), most_frequent_failure(r->j)});
    }
    return out;
}

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

}  // namespace

AttackOutcome judge_attack(const std::string& metrics_json) {
    const auto c = judge(json::parse(metrics_json));
    return {c.text, c.stopped, c.undetected, c.applicable};
}

// ---------------------------------------------------------------- the sections

using Cells = std::map<std::pair<std::string, std::string>, Cell>;  // (attack, config slug)

// The cost table: frames and bytes on the air per establishment, by kind.
Section air_section(const std::vector<Cost>& costs) {
    Section s;
    s.heading = "Cost per establishment: frames and bytes on the air";
    Table t;
    t.columns = {"configuration", "established"};
    for (const char* k : kKinds)
        t.columns.push_back(std::string(k) + " frames (bytes)");
    t.columns.push_back("frames");
    t.columns.push_back("bytes");
    for (const auto& r : costs) {
        std::vector<std::string> row{r.label, fmt::format("{}/{}", r.established, r.pairs)};
        for (const char* k : kKinds)
            row.push_back(fmt::format("{} ({})", per(r.frames.at(k)), per(r.bytes.at(k))));
        row.push_back(per(r.total_frames));
        row.push_back(per(r.total_bytes));
        t.rows.push_back(std::move(row));
    }
    // The reading.
    std::vector<const Cost*> base;
    for (const auto& r : costs)
        if (!r.ooc && !r.reuse) base.push_back(&r);
    const auto cheapest = *std::min_element(
        base.begin(), base.end(), [](auto* a, auto* b) { return a->total_bytes < b->total_bytes; });
    const auto dearest = *std::max_element(
        base.begin(), base.end(), [](auto* a, auto* b) { return a->total_bytes < b->total_bytes; });
    s.paragraphs.push_back(fmt::format(
        "In coverage, the cheapest establishment on the air is {} ({} frames, {} bytes); the "
        "dearest is {} ({} frames, {} bytes, {:.1f}x the bytes).",
        cheapest->label, per(cheapest->total_frames), per(cheapest->total_bytes), dearest->label,
        per(dearest->total_frames), per(dearest->total_bytes),
        dearest->total_bytes / std::max(1.0, cheapest->total_bytes)));
    std::string relayed;
    for (const auto* r : base)
        if (r->config->relayed())
            relayed += fmt::format("{}{} {} bytes", relayed.empty() ? "" : "; ", r->label,
                                   per(r->total_bytes));
    s.paragraphs.push_back(
        "Through a relay, every frame the relay forwards or re-signs is "
        "counted (forwarding): " +
        relayed + ".");
    for (const auto& r : costs)
        if (r.reuse)
            for (const auto* b : base)
                if (b->config == r.config)
                    s.paragraphs.push_back(fmt::format(
                        "{}: a re-establishment that reuses the KNRP costs {} bytes (release "
                        "included), {:.0f} % of a full one ({} bytes).",
                        r.config->label, per(r.total_bytes),
                        100.0 * r.total_bytes / std::max(1.0, b->total_bytes),
                        per(b->total_bytes)));
    // In and out of coverage.
    std::string same, differ;
    for (const auto& r : costs)
        if (r.ooc)
            for (const auto* b : base)
                if (b->config == r.config)
                    (std::abs(b->total_bytes - r.total_bytes) < 1e-9 ? same : differ) +=
                        ((std::abs(b->total_bytes - r.total_bytes) < 1e-9 ? same : differ).empty()
                             ? ""
                             : ", ") +
                        r.config->label;
    if (!same.empty())
        s.paragraphs.push_back(
            "Out of coverage, with valid credentials, an establishment costs what it costs in "
            "coverage (" +
            same +
            "): step 0 needs the network only to renew a certificate or fetch a revocation "
            "list, never during the establishment.");
    if (!differ.empty())
        s.paragraphs.push_back("Out of coverage costs differ for: " + differ + ".");
    s.table = std::move(t);
    // Bytes by kind, in coverage.
    Plot p;
    p.name = "bytes-by-kind";
    p.title = "Bytes on the air per establishment, by kind (in coverage)";
    p.xlabel = "";
    p.ylabel = "bytes per establishment";
    p.data = "# configuration";
    for (const char* k : kKinds)
        p.data += std::string(" ") + k;
    p.data += "\n";
    for (const auto* r : base) {
        p.data += quoted(r->label);
        for (const char* k : kKinds)
            p.data += " " + fixed(r->bytes.at(k));
        p.data += "\n";
    }
    p.extra =
        "set style data histograms\nset style histogram rowstacked\nset style fill solid "
        "border -1\nset boxwidth 0.7\nset xtics rotate by -20\nset yrange [0:*]";
    p.plot_command = fmt::format("plot '{}.dat' using 2:xtic(1) title '{}'", p.name, kKinds[0]);
    for (std::size_t k = 1; k < kKinds.size(); ++k)
        p.plot_command += fmt::format(", '' using {} title '{}'", k + 2, kKinds[k]);
    s.plots.push_back(std::move(p));
    return s;
}

// The cost table: crypto operations and CPU per establishment, by role.
Section crypto_section(const std::vector<Cost>& costs) {
    Section s;
    s.heading = "Cost per establishment: crypto operations and CPU by role";
    s.paragraphs.push_back(
        "Operations per establishment: sign / verify (signatures and certificate chains) / "
        "key agreement / KDF, counted by the engines; CPU is the default profile's cost of "
        "every operation counted, NEA/NIA included (docs/scenarios.md \"Processing time\").");
    Table t;
    t.columns = {"configuration"};
    for (const char* r : kRoles)
        t.columns.push_back(std::string(r) + " sign/verify/DH/KDF");
    for (const char* r : kRoles)
        t.columns.push_back(std::string(r) + " CPU ms");
    for (const auto& r : costs) {
        std::vector<std::string> row{r.label};
        for (std::size_t k = 0; k < 3; ++k)
            row.push_back(fmt::format("{}/{}/{}/{}", per(r.ops[k][0]), per(r.ops[k][1]),
                                      per(r.ops[k][2]), per(r.ops[k][3])));
        for (std::size_t k = 0; k < 3; ++k)
            row.push_back(fixed(r.cpu[k], 3));
        t.rows.push_back(std::move(row));
    }
    const Cost* busiest = nullptr;
    const Cost* lightest = nullptr;
    for (const auto& r : costs)
        if (!r.ooc && !r.reuse && r.config->relayed()) {
            if (!busiest || r.cpu[1] > busiest->cpu[1]) busiest = &r;
            if (!lightest || r.cpu[1] < lightest->cpu[1]) lightest = &r;
        }
    if (busiest && lightest)
        s.paragraphs.push_back(fmt::format(
            "The relay works hardest in {} ({:.3f} ms of CPU per establishment) and least in "
            "{} ({:.3f} ms): {:.1f}x.",
            busiest->label, busiest->cpu[1], lightest->label, lightest->cpu[1],
            busiest->cpu[1] / std::max(1e-9, lightest->cpu[1])));
    s.table = std::move(t);
    return s;
}

// The cost table: latency under the three profiles.
Section latency_section(const std::vector<Cost>& costs) {
    Section s;
    s.heading = "Establishment latency";
    s.paragraphs.push_back(
        "From the source's connect until the link is usable at both ends (both hold the keys, "
        "and where the solution confirms keys the confirmation has arrived), radio delay 2 "
        "ms per hop and the processing model's time; with KNRP reuse, request to established "
        "at the initiator. Milliseconds of virtual time, median / 95th percentile.");
    Table t;
    t.columns = {"configuration", "default median",  "default p95", "measured median",
                 "measured p95",  "wearable median", "wearable p95"};
    for (const auto& r : costs) {
        std::vector<std::string> row{r.label};
        for (double v : r.latency)
            row.push_back(fixed(v));
        t.rows.push_back(std::move(row));
    }
    const Cost* fastest = nullptr;
    for (const auto& r : costs)
        if (!r.ooc && !r.reuse && (!fastest || r.latency[0] < fastest->latency[0])) fastest = &r;
    std::string slow;
    for (const auto& r : costs)
        if (!r.ooc && !r.reuse)
            slow += fmt::format("{}{} {:.1f}x", slow.empty() ? "" : ", ", r.label,
                                r.latency[4] / std::max(1e-9, r.latency[0]));
    s.paragraphs.push_back(
        fmt::format("Fastest in coverage (default profile): {} at {:.1f} ms median. On a wearable "
                    "(20x the CPU cost) the medians grow: {}.",
                    fastest->label, fastest->latency[0], slow));
    s.table = std::move(t);
    return s;
}

// The attack matrix: every attack on every solution and path, a scenario file per cell.
Result<Section> attack_section(Study& st, const std::vector<Attack>& list, Cells& cells) {
    Section s;
    s.heading = "Attack matrix";
    Table t;
    t.columns = {"attack", "what (from)"};
    for (const auto& c : configs())
        t.columns.push_back(c.label);
    std::map<std::string, std::array<std::size_t, 3>> tally;  // stopped, undetected, n/a
    for (const auto& a : list) {
        st.step("attack: " + a.name);
        std::vector<std::string> row{a.name, a.what + " (" + a.origin + ")"}, links{"", ""};
        for (const auto& c : configs()) {
            Cell cell;
            auto toml = !c.relayed() && a.needs_relay
                            ? Result<std::string>(make_error(
                                  Errc::unsupported, a.name,
                                  "the direct path has no relay (nor relay service code)"))
                            : a.toml(c, st.o_.seed);
            const std::string file =
                fmt::format("evaluation/scenarios/attack-{}--{}.toml", a.name, c.slug);
            if (!toml) {
                cell.text = "n/a: " + toml.error().message;
                cell.applicable = false;
            } else {
                auto r = st.run(*toml, file);
                if (!r) {
                    cell.text = "n/a: " + r.error().message;
                    cell.applicable = false;
                } else {
                    cell = judge(r->j);
                    PC5SEC_TRY(files::write_file(
                        st.o_.out / file,
                        fmt::format("# pc5sec evaluate, attack matrix: {} on {} (measured: "
                                    "{}).\n# Run it again: pc5sec simulate {}\n{}",
                                    a.name, c.label, cell.text,
                                    std::filesystem::path(file).filename().string(), *toml),
                        0644));
                    st.summary_.files.push_back(file);
                    cell.file = file;
                }
            }
            auto& n = tally[c.slug];
            n[cell.stopped ? 0 : cell.undetected ? 1 : 2]++;
            row.push_back(cell.text.size() > 70 ? cell.text.substr(0, 67) + "..." : cell.text);
            links.push_back(cell.file);
            cells[{a.name, c.slug}] = std::move(cell);
        }
        t.rows.push_back(std::move(row));
        t.links.push_back(std::move(links));
    }
    s.paragraphs.push_back(fmt::format(
        "{} attacks x {} solutions and paths. Each cell is what its run measured: refused "
        "(a link failed with the PC5 cause), detected (the attack's frames dropped and "
        "counted), undetected (accepted, or a link came up), or n/a (the attack does not "
        "apply: it never fired, or the scenario cannot be set up). Each links to the "
        "scenario file that produced it: `pc5sec simulate FILE` runs it again and prints the "
        "same outcome on its `attack outcome` line. The attacks "
        "are the named attacks (`attack = NAME`) and the rule files of examples/attacks/.",
        list.size(), configs().size()));
    std::string line;
    for (const auto& c : configs()) {
        const auto& n = tally[c.slug];
        line += fmt::format("{}{}: {} stopped, {} undetected, {} n/a", line.empty() ? "" : "; ",
                            c.label, n[0], n[1], n[2]);
    }
    s.paragraphs.push_back(line + ".");
    for (const auto& c : configs()) {
        std::string undetected;
        for (const auto& a : list)
            if (cells[{a.name, c.slug}].undetected)
                undetected += (undetected.empty() ? "" : ", ") + a.name;
        if (!undetected.empty())
            s.paragraphs.push_back(fmt::format("Undetected against {}: {}.", c.label, undetected));
    }
    s.table = std::move(t);
    return s;
}

// The security properties, derived from the attack matrix and from runs of one pair.
Result<Section> property_section(Study& st, const Cells& cells) {
    Section s;
    s.heading = "Security properties";
    s.paragraphs.push_back(
        "Each cell is derived from the attack matrix above (the attacks named) or from a run "
        "of one pair with 20 data PDUs: its capture, its key log, and its UEs' long-term "
        "keys handed to the study after the run.");
    std::map<std::string, PropertyRun> pr;
    for (const auto& c : configs()) {
        st.step("properties: " + c.label);
        auto p = property_run(st, c);
        if (!p) return std::move(p).error();
        pr[c.slug] = *p;
    }
    Table t;
    t.columns = {"property"};
    for (const auto& c : configs())
        t.columns.push_back(c.label);
    // A property that holds when every applicable attack of `names` was stopped.
    const auto from_attacks = [&](const std::string& property,
                                  const std::vector<std::string>& names) {
        std::vector<std::string> row{property};
        for (const auto& c : configs()) {
            std::string failed;
            std::size_t applicable = 0;
            for (const auto& n : names) {
                const auto it = cells.find({n, c.slug});
                if (it == cells.end() || !it->second.applicable) continue;
                ++applicable;
                if (!it->second.stopped) failed += (failed.empty() ? "" : ", ") + n;
            }
            row.push_back(!applicable      ? "n/a"
                          : failed.empty() ? fmt::format("yes ({} attacks stopped)", applicable)
                                           : "no: " + failed + " undetected");
        }
        t.rows.push_back(std::move(row));
    };
    from_attacks("mutual authentication of end UEs",
                 {"foreign-ca", "revoked", "expired", "key-substitution"});
    from_attacks("authentication and authorisation of the relay",
                 {"unauthorised-relay", "relay-not-authorised-for-target"});
    {
        std::vector<std::string> row{"end-to-end confidentiality and integrity against the relay"};
        for (const auto& c : configs()) {
            const auto& p = pr[c.slug];
            // A relay that changes what it forwards, or that signs as the end UEs (then each
            // end's KD is one it can compute), breaks it as surely as keys that open the data.
            bool tamper_ok = true;
            std::string broken;
            for (const char* a : {"tampering-relay", "key-substitution"}) {
                const auto it = cells.find({a, c.slug});
                if (it != cells.end() && it->second.applicable && !it->second.stopped) {
                    tamper_ok = false;
                    broken += std::string(broken.empty() ? "" : ", ") + a;
                }
            }
            if (!c.relayed())
                row.push_back("n/a");
            else
                row.push_back(fmt::format("{}: the relay's keys open {} of {} data PDUs{}",
                                          p.relay_opened == 0 && tamper_ok ? "yes" : "no",
                                          p.relay_opened, p.data_frames,
                                          tamper_ok ? "" : "; " + broken + " undetected"));
        }
        t.rows.push_back(std::move(row));
    }
    {
        std::vector<std::string> row{"forward secrecy (long-term keys compromised after the run)"};
        for (const auto& c : configs()) {
            const auto& p = pr[c.slug];
            row.push_back(fmt::format("{}: {} of {} links' keys recomputed",
                                      p.fs_opened ? "no" : "yes", p.fs_opened, p.fs_links));
        }
        t.rows.push_back(std::move(row));
    }
    from_attacks("replay protection",
                 {"replay", "replay-data", "stale-replay", "auth-request-replay",
                  "discovery-replayed-response", "request-outsider-stale-replay-b-literal"});
    from_attacks("key confirmation", {"tamper-mac", "unconfirmed-target"});
    from_attacks("resistance to state exhaustion before authentication",
                 {"request-flood", "b-flood-relay"});
    {
        std::vector<std::string> row{"identity privacy on the air"};
        for (const auto& c : configs()) {
            const auto& p = pr[c.slug];
            row.push_back(fmt::format("{}: {} identities, {} certificates in clear",
                                      p.identities == 0 && p.certificates == 0 ? "yes" : "no",
                                      p.identities, p.certificates));
        }
        t.rows.push_back(std::move(row));
    }
    {
        std::vector<std::string> row{"keys the relay holds per pair"};
        for (const auto& c : configs())
            row.push_back(c.relayed() ? std::to_string(pr[c.slug].relay_keys) : "n/a");
        t.rows.push_back(std::move(row));
    }
    std::string fs_fails, fs_holds;
    for (const auto& c : configs())
        (pr[c.slug].fs_opened ? fs_fails : fs_holds) +=
            (pr[c.slug].fs_opened ? (fs_fails.empty() ? "" : ", ")
                                  : (fs_holds.empty() ? "" : ", ")) +
            c.label;
    s.paragraphs.push_back(fmt::format(
        "Forward secrecy, computed: from a long-term private key and the peer's public key "
        "the study recomputes the static Diffie-Hellman secret and finds it among the keys of "
        "{} (their session keys open); it finds none for {}.",
        fs_fails.empty() ? "no configuration" : fs_fails,
        fs_holds.empty() ? "no configuration" : fs_holds));
    s.table = std::move(t);
    return s;
}

// Establishment under loss: success and latency, 0 to 30 %.
Result<Section> loss_section(Study& st, std::size_t pairs) {
    Section s;
    s.heading = "Establishment under loss";
    const std::vector<double> losses =
        st.o_.quick ? std::vector<double>{0, 0.3}
                    : std::vector<double>{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3};
    const std::vector<std::string> chosen{"a-direct", "a-l3", "a-l2", "b-literal-l2",
                                          "b-hardened-l2"};
    Table t;
    t.columns = {"configuration"};
    // The first and the last point (the plots and their data files have every one): the
    // same columns in the quick study and the full one.
    for (double l : {losses.front(), losses.back()}) {
        t.columns.push_back(fmt::format("{:.0f} % loss: established", l * 100));
        t.columns.push_back(fmt::format("{:.0f} % loss: median / p95 ms", l * 100));
    }
    std::string dat = "# loss%";
    std::vector<std::vector<Point>> series;
    for (const auto& c : configs()) {
        if (std::find(chosen.begin(), chosen.end(), c.slug) == chosen.end()) continue;
        st.step("loss sweep: " + c.label);
        auto pts = sweep_loss(st, c, losses, pairs);
        if (!pts) return std::move(pts).error();
        std::vector<std::string> row{c.label};
        for (const auto* p : {&pts->front(), &pts->back()}) {
            row.push_back(fmt::format("{:.0f} %", p->success));
            row.push_back(fmt::format("{:.1f} / {:.1f}", p->median, p->p95));
        }
        t.rows.push_back(std::move(row));
        series.push_back(*pts);
        dat += fmt::format(" \"{0} established %\" \"{0} median ms\"", c.label);
    }
    dat += "\n";
    for (std::size_t i = 0; i < losses.size(); ++i) {
        dat += fixed(losses[i] * 100, 0);
        for (const auto& ser : series)
            dat += fmt::format(" {:.1f} {:.2f}", ser[i].success, ser[i].median);
        dat += "\n";
    }
    std::string worst;
    for (std::size_t k = 0; k < series.size(); ++k)
        worst += fmt::format("{}{} {:.0f} %", worst.empty() ? "" : ", ", t.rows[k][0],
                             series[k].back().success);
    s.paragraphs.push_back(fmt::format(
        "{} pairs per point, RLC AM on the signalling bearers (docs/scenarios.md "
        "\"Link-layer retransmission\"). At {:.0f} % loss the share of pairs established: {}.",
        pairs, losses.back() * 100, worst));
    Plot success, latency;
    success.name = "loss-success";
    success.title = "Establishments that succeed against loss";
    success.xlabel = "loss per transmission (%)";
    success.ylabel = "established (%)";
    success.data = dat;
    success.extra = "set yrange [0:105]";
    latency.name = "loss-latency";
    latency.title = "Median establishment latency against loss";
    latency.xlabel = "loss per transmission (%)";
    latency.ylabel = "median latency (ms, virtual)";
    latency.data = dat;
    latency.extra = "set yrange [0:*]";
    for (std::size_t k = 0; k < series.size(); ++k) {
        success.plot_command += fmt::format(
            "{}'loss-success.dat' using 1:{} with linespoints "
            "title '{}'",
            k ? ", " : "plot ", 2 + 2 * k, t.rows[k][0]);
        latency.plot_command += fmt::format(
            "{}'loss-latency.dat' using 1:{} with linespoints "
            "title '{}'",
            k ? ", " : "plot ", 3 + 2 * k, t.rows[k][0]);
    }
    s.plots.push_back(std::move(success));
    s.plots.push_back(std::move(latency));
    s.table = std::move(t);
    return s;
}

// One relay serving many sources: latency with the processing model on.
Result<Section> sources_section(Study& st) {
    Section s;
    s.heading = "One relay serving many sources";
    const std::vector<std::size_t> sources =
        st.o_.quick ? std::vector<std::size_t>{1, 50, 200}
                    : std::vector<std::size_t>{1, 10, 25, 50, 100, 150, 200};
    const std::vector<std::string> chosen{"a-l3", "a-l2", "b-literal-l2", "b-hardened-l2"};
    Table t;
    t.columns = {"configuration"};
    t.columns.push_back(fmt::format("{} source: median / p95 ms", sources.front()));
    t.columns.push_back(fmt::format("{} sources: median / p95 ms", sources.back()));
    t.columns.push_back(fmt::format("{} sources: pairs up", sources.back()));
    t.columns.push_back("most sources measured with every pair up");
    std::string dat = "# sources";
    std::vector<std::vector<Point>> series;
    for (const auto& c : configs()) {
        if (std::find(chosen.begin(), chosen.end(), c.slug) == chosen.end()) continue;
        st.step("sources sweep: " + c.label);
        auto pts = sweep_sources(st, c, sources);
        if (!pts) return std::move(pts).error();
        std::vector<std::string> row{c.label};
        row.push_back(fmt::format("{:.1f} / {:.1f}", pts->front().median, pts->front().p95));
        row.push_back(fmt::format("{:.1f} / {:.1f}", pts->back().median, pts->back().p95));
        row.push_back(fmt::format("{:.0f} %", pts->back().success));
        double most = 0;
        for (const auto& p : *pts)
            if (p.success >= 100) most = p.x;
        row.push_back(fmt::format("{:.0f}", most));
        t.rows.push_back(std::move(row));
        series.push_back(*pts);
        dat += fmt::format(" \"{0} median ms\" \"{0} p95 ms\"", c.label);
    }
    dat += "\n";
    for (std::size_t i = 0; i < sources.size(); ++i) {
        dat += std::to_string(sources[i]);
        for (const auto& ser : series)
            dat += fmt::format(" {:.2f} {:.2f}", ser[i].median, ser[i].p95);
        dat += "\n";
    }
    std::string growth;
    for (std::size_t k = 0; k < series.size(); ++k)
        growth += fmt::format("{}{} {:.1f} ms ({:.1f}x one source)", growth.empty() ? "" : ", ",
                              t.rows[k][0], series[k].back().median,
                              series[k].back().median / std::max(1e-9, series[k].front().median));
    s.paragraphs.push_back(fmt::format(
        "Every source asks 1 ms after the previous one, through one relay, with the default "
        "profile: the relay does one thing at a time, so requests queue. With {} sources the "
        "median latency is: {}.",
        sources.back(), growth));
    for (std::size_t k = 0; k < series.size(); ++k)
        for (const auto& pt : series[k])
            if (pt.success < 100) {
                s.paragraphs.push_back(fmt::format(
                    "{} from {:.0f} sources on: {:.0f} % of the pairs came up; the failures "
                    "were mostly {}.",
                    t.rows[k][0], pt.x, pt.success, pt.failure));
                break;
            }
    Plot p;
    p.name = "sources-latency";
    p.title = "Establishment latency against the sources one relay serves";
    p.xlabel = "sources through one relay";
    p.ylabel = "latency (ms, virtual)";
    p.data = dat;
    p.extra = "set yrange [0:*]";
    for (std::size_t k = 0; k < series.size(); ++k)
        p.plot_command += fmt::format(
            "{0}'sources-latency.dat' using 1:{1} with linespoints linecolor {5} title '{2} "
            "median', '' using 1:{3} with lines dashtype 2 linecolor {5} title '{4} p95'",
            k ? ", " : "plot ", 2 + 2 * k, t.rows[k][0], 3 + 2 * k, t.rows[k][0], k + 1);
    s.plots.push_back(std::move(p));
    s.table = std::move(t);
    return s;
}

// ---------------------------------------------------------------- the study

Result<Summary> evaluate(const Options& o) {
    Summary summary;
    Study st(o, summary);
    const bool quick = o.quick;
    const std::size_t pairs = quick ? 3 : 20;
    std::error_code ec;
    std::filesystem::create_directories(o.out / "evaluation" / "scenarios", ec);
    if (ec)
        return make_error(Errc::io, o.out.string(),
                          "cannot create the output directory: " + ec.message());

    Document doc;
    doc.title = "pc5sec evaluation: solutions A and B of TR 33.740 Key Issue #2";
    doc.preamble = {
        fmt::format("Produced by `pc5sec evaluate{}` from commit `{}` on {}, seed {}. Every "
                    "figure and cell below comes from a simulator run of this study; the reading "
                    "next to each table is generated from its numbers.",
                    quick ? " --quick" : "", o.commit.empty() ? "unknown" : o.commit,
                    o.machine.empty() ? "an unknown machine" : o.machine, o.seed),
        fmt::format(
            "Processing model (docs/scenarios.md \"Processing time\"): the `default` profile is "
            "a fixed table measured once with `pc5sec bench` ({}), so its latencies are "
            "reproducible. The `measured` profile timed the operations on this machine in this "
            "run (sign {:.1f} us, verify {:.1f} us, certificate check {:.1f} us, ECDH {:.1f} us, "
            "key pair {:.1f} us, KDF {:.2f} us, NEA/NIA per PDU {:.2f} us): its latencies are "
            "not reproducible. `wearable` is the default table x20 (an assumption).",
            sim::device_profiles().front().source, st.measured_.sign_us, st.measured_.verify_us,
            st.measured_.cert_verify_us, st.measured_.key_agreement_us, st.measured_.keygen_us,
            st.measured_.kdf_us, st.measured_.pdcp_us),
        fmt::format("{} establishments per cost row ({} mode), each pair with its own relay found "
                    "by discovery; a frame counts once wherever it is sent from "
                    "(docs/metrics.md \"air\").",
                    pairs, quick ? "quick" : "full"),
    };

    // ---- costs
    auto costs = cost_study(st, pairs);
    if (!costs) return std::move(costs).error();
    doc.sections.push_back(air_section(*costs));
    doc.sections.push_back(crypto_section(*costs));
    doc.sections.push_back(latency_section(*costs));

    // ---- the attack matrix
    const auto list = attacks();
    Cells cells;
    {
        auto s = attack_section(st, list, cells);
        if (!s) return std::move(s).error();
        doc.sections.push_back(std::move(*s));
    }

    // ---- properties
    {
        auto s = property_section(st, cells);
        if (!s) return std::move(s).error();
        doc.sections.push_back(std::move(*s));
    }

    // ---- sweeps
    {
        auto s = loss_section(st, pairs);
        if (!s) return std::move(s).error();
        doc.sections.push_back(std::move(*s));
    }
    {
        auto s = sources_section(st);
        if (!s) return std::move(s).error();
        doc.sections.push_back(std::move(*s));
    }

    // ---- write
    std::vector<Plot> plots;
    for (const auto& s : doc.sections)
        for (const auto& p : s.plots)
            plots.push_back(p);
    std::string why;
    summary.plotted = draw_plots(o.out, plots, why);
    if (!summary.plotted) {
        summary.plot_note = why;
        doc.preamble.push_back("The plots were not drawn: " + why +
                               ". Their data files are under evaluation/plots/.");
    }
    std::vector<std::pair<std::string, std::string>> svgs;
    for (const auto& p : plots) {
        summary.files.push_back("evaluation/plots/" + p.name + ".dat");
        std::ifstream in(o.out / "evaluation" / "plots" / (p.name + ".svg"));
        if (!in) continue;
        std::ostringstream text;
        text << in.rdbuf();
        svgs.emplace_back(p.name, text.str());
        summary.files.push_back("evaluation/plots/" + p.name + ".svg");
    }
    PC5SEC_TRY(files::write_file(o.out / "evaluation.md", to_markdown(doc), 0644));
    PC5SEC_TRY(files::write_file(o.out / "evaluation.html", to_html(doc, svgs), 0644));
    summary.files.push_back("evaluation.md");
    summary.files.push_back("evaluation.html");
    return summary;
}

}  // namespace pc5sec::evaluation
