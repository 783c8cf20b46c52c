// [[attacker]] rules (docs/scenarios.md "The attacker"): read from TOML key by key and checked
// when the file is loaded, so that a rule that names an unknown IE, gives a value of the wrong
// size, can never match, edits what the attacker cannot read, or replays a record no rule makes
// is refused naming its key. The named attacks of `attack = NAME` are rule sets written here in
// the same TOML.
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "sim/ies.hpp"
#include "sim/toml_reader.hpp"

namespace pc5sec::sim {
namespace {

constexpr std::array<std::pair<RuleAction, const char*>, 8> kActions{{
    {RuleAction::drop, "drop"},
    {RuleAction::delay, "delay"},
    {RuleAction::duplicate, "duplicate"},
    {RuleAction::record, "record"},
    {RuleAction::replay, "replay"},
    {RuleAction::reflect, "reflect"},
    {RuleAction::modify, "modify"},
    {RuleAction::inject, "inject"},
}};

constexpr std::array<std::pair<Outcome, const char*>, 4> kOutcomes{{
    {Outcome::never_fired, "never-fired"},
    {Outcome::refused, "refused"},
    {Outcome::detected, "detected"},
    {Outcome::undetected, "undetected"},
}};

// One [[attacker]] table's reading context: its index, the scenario's names, what is known.
struct RuleReader {
    const Reader& r;
    std::string where;  // "attacker[N]"
    const std::vector<std::string>& ues;
    pc5::Solution solution;
    const std::vector<std::string>& compromised;

    std::string key(std::string_view k) const { return fmt::format("{}.{}", where, k); }
    bool is_ue(const std::string& n) const {
        return std::find(ues.begin(), ues.end(), n) != ues.end();
    }
    bool is_compromised(const std::string& n) const {
        return std::find(compromised.begin(), compromised.end(), n) != compromised.end();
    }

    Status ue_name(const toml::table& t, std::string_view table, std::string_view k,
                   std::string& out) const {
        PC5SEC_TRY(r.get(t, key(table), k, out));
        if (out == "any") out.clear();
        if (!out.empty() && !is_ue(out))
            return r.bad(fmt::format("{}.{}.{}", where, table, k),
                         fmt::format("no UE named \"{}\" in [[ue]]", out));
        return {};
    }

    // `as`: a UE's name, "random", or an L2 ID.
    Status sender(const toml::table& t, std::string_view table, AttackRule& rule) const {
        const auto* n = t.get("as");
        if (!n) return {};
        const std::string k = fmt::format("{}.{}.as", where, table);
        if (n->is_integer()) {
            const auto v = n->as_integer()->get();
            if (v <= 0 || v >= static_cast<std::int64_t>(pc5::kBroadcastL2Id))
                return r.bad(k, "a layer-2 ID is 1 .. 0xFFFFFE");
            rule.as_l2 = static_cast<pc5::L2Id>(v);
            return {};
        }
        if (!n->is_string()) return r.bad(k, "a UE's name, \"random\" or a layer-2 ID");
        const std::string s = n->as_string()->get();
        if (s == "random") {
            rule.as_random = true;
        } else if (is_ue(s)) {
            rule.as_ue = s;
        } else {
            return r.bad(k, fmt::format("no UE named \"{}\" in [[ue]] (or \"random\", or an "
                                        "L2 ID)",
                                        s));
        }
        return {};
    }

    // An IE value from TOML for `info` (the IE's shape in the message the rule handles).
    Status value(const toml::node& n, const std::string& k, const IeInfo& info,
                 IeValue& out) const {
        if (n.is_boolean()) {
            if (!info.presence) return r.bad(k, "true/false is for a presence-only IE");
            out.bytes = {static_cast<std::uint8_t>(n.as_boolean()->get() ? 1 : 0)};
            return {};
        }
        if (n.is_integer()) {
            const auto v = n.as_integer()->get();
            if (!info.size)
                return r.bad(k, "a variable-size IE takes hex (\"0x...\") or text, not a number");
            if (v < 0 || (info.size < 8 && static_cast<std::uint64_t>(v) >> (8 * info.size)))
                return r.bad(k, fmt::format("does not fit the IE's {} octets", info.size));
            for (std::size_t i = info.size; i-- > 0;)
                out.bytes.push_back(
                    i >= 8 ? 0
                           : static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i)));
            return {};
        }
        if (!n.is_string())
            return r.bad(k,
                         "a number, \"0x...\" octets, text, \"random\" or "
                         "\"record:NAME\"");
        const std::string s = n.as_string()->get();
        if (s == "random") {
            if (!info.size) return r.bad(k, "\"random\" needs a fixed-size IE");
            out.kind = IeValue::Kind::random;
            return {};
        }
        if (s.starts_with("record:")) {
            out.kind = IeValue::Kind::record;
            out.record = s.substr(7);
            return {};
        }
        if (s.starts_with("0x")) {
            auto b = from_hex(s, k);
            if (!b) return r.bad(k, "\"0x\" then hex octets");
            out.bytes = std::move(*b);
            return {};
        }
        if (info.size)
            return r.bad(k, fmt::format("a fixed-size IE of {} octets takes a number "
                                        "or \"0x...\" hex",
                                        info.size));
        out.bytes.assign(s.begin(), s.end());
        return {};
    }

    // set / add tables and the remove array of [modify] or [inject] against `type`.
    Status edits(const toml::table& t, std::string_view table, codec::MessageType type,
                 bool allow_remove, std::vector<IeEdit>& out) const {
        for (const char* op : {"set", "add"}) {
            const auto* n = t.get(op);
            if (!n) continue;
            const auto* tt = n->as_table();
            const std::string k = fmt::format("{}.{}.{}", where, table, op);
            if (!tt) return r.bad(k, "a table of IE = value");
            for (const auto& [ie, v] : *tt) {
                const std::string ik = fmt::format("{}.{}", k, ie.str());
                IeEdit e;
                e.op = op[0] == 's' ? IeEdit::Op::set : IeEdit::Op::add;
                e.ie = std::string(ie.str());
                PC5SEC_TRY(check_ie(ik, type, e.ie));
                const auto info = *ie_info(type, e.ie);
                PC5SEC_TRY(value(v, ik, info, e.value));
                if (e.value.kind == IeValue::Kind::bytes) {  // the codec takes it?
                    auto m = *blank_message(type);
                    if (auto ok = set_ie(m, e.ie, std::span<const std::uint8_t>(e.value.bytes));
                        !ok)
                        return r.bad(ik, ok.error().message);
                }
                out.push_back(std::move(e));
            }
        }
        if (const auto* n = t.get("remove")) {
            const std::string k = fmt::format("{}.{}.remove", where, table);
            const auto* arr = n->as_array();
            if (!arr || !allow_remove) return r.bad(k, "an array of IE names");
            for (const auto& x : *arr) {
                if (!x.is_string()) return r.bad(k, "an array of IE names");
                IeEdit e;
                e.op = IeEdit::Op::remove;
                e.ie = x.as_string()->get();
                PC5SEC_TRY(check_ie(k, type, e.ie));
                if (ie_info(type, e.ie)->mandatory)
                    return r.bad(k, fmt::format("{} is mandatory in {}: it cannot be removed", e.ie,
                                                codec::message_name(type)));
                out.push_back(std::move(e));
            }
        }
        return {};
    }

    Status check_ie(const std::string& k, codec::MessageType type, const std::string& ie) const {
        if (!known_ie(ie)) return r.bad(k, fmt::format("unknown IE \"{}\"", ie));
        if (!ie_info(type, ie))
            return r.bad(k, fmt::format("{} has no IE {}", codec::message_name(type), ie));
        return {};
    }

    Status message(const toml::table& t, std::string_view table, std::string_view k,
                   std::optional<codec::MessageType>& out) const {
        std::string text;
        PC5SEC_TRY(r.get(t, key(table), k, text));
        if (!t.contains(k)) return {};
        out = message_type_named(text);
        const std::string full = fmt::format("{}.{}.{}", where, table, k);
        if (!out)
            return r.bad(full,
                         fmt::format("unknown message type \"{}\" (docs/code-points.md)", text));
        if (bearers_of(*out, solution).empty())
            return r.bad(full, fmt::format("pc5sec never sends {} under solution {}", text,
                                           pc5::name(solution)));
        return {};
    }

    Status times(const toml::table& t, std::string_view table, AttackRule& rule) const {
        if (t.contains("at_ms")) {
            double at = 0;
            PC5SEC_TRY(r.get(t, key(table), "at_ms", at));
            rule.at_ms = at;
        }
        PC5SEC_TRY(r.get(t, key(table), "count", rule.count));
        PC5SEC_TRY(r.get(t, key(table), "interval_ms", rule.interval_ms));
        if (rule.count == 0 || rule.count > 100000)
            return r.bad(fmt::format("{}.{}.count", where, table), "1 .. 100000");
        if (!rule.at_ms && !rule.has_match)
            return r.bad(fmt::format("{}.{}.at_ms", where, table),
                         "a time, or a [match] that triggers it");
        PC5SEC_TRY(ue_name(t, table, "to", rule.send_to));
        return sender(t, table, rule);
    }

    Status match(const toml::table& t, AttackRule& rule) const {
        PC5SEC_TRY(r.only(t, key("match"),
                          {"from", "to", "lcid", "bearer", "message", "plane", "nth", "every",
                           "limit", "from_ms", "until_ms"}));
        rule.has_match = true;
        PC5SEC_TRY(ue_name(t, "match", "from", rule.from));
        PC5SEC_TRY(ue_name(t, "match", "to", rule.to));
        if (!rule.from.empty() && rule.from == rule.to)
            return r.bad(key("match.to"), "a UE never sends to itself: this never matches");
        if (t.contains("lcid")) {
            std::uint8_t l = 0;
            PC5SEC_TRY(r.get(t, key("match"), "lcid", l));
            if (l > 63) return r.bad(key("match.lcid"), "an LCID is 0 .. 63");
            rule.lcid = l;
        }
        if (t.contains("bearer")) {
            std::uint8_t b = 0;
            PC5SEC_TRY(r.get(t, key("match"), "bearer", b));
            if (b > 63) return r.bad(key("match.bearer"), "a bearer is 0 .. 63");
            rule.bearer = b;
        }
        PC5SEC_TRY(message(t, "match", "message", rule.message));
        std::string plane = "any";
        PC5SEC_TRY(r.get(t, key("match"), "plane", plane));
        if (plane == "signalling")
            rule.plane = Plane::signalling;
        else if (plane == "data")
            rule.plane = Plane::data;
        else if (plane != "any")
            return r.bad(key("match.plane"), "signalling, data or any");
        PC5SEC_TRY(r.get(t, key("match"), "nth", rule.nth));
        PC5SEC_TRY(r.get(t, key("match"), "every", rule.every));
        PC5SEC_TRY(r.get(t, key("match"), "limit", rule.limit));
        if (rule.every == 0) return r.bad(key("match.every"), "1 or more");
        PC5SEC_TRY(r.get(t, key("match"), "from_ms", rule.from_ms));
        if (t.contains("until_ms")) {
            PC5SEC_TRY(r.get(t, key("match"), "until_ms", rule.until_ms));
            if (rule.until_ms < rule.from_ms)
                return r.bad(key("match.until_ms"), "before from_ms: this never matches");
        }
        // Rules that can never match.
        if (rule.message) {
            if (rule.plane == Plane::data)
                return r.bad(key("match.plane"),
                             "a message type is signalling: plane = \"data\" never matches");
            const auto bearers = bearers_of(*rule.message, solution);
            if (rule.lcid && *rule.lcid != pc5::lcid::kEndToEnd &&
                std::find(bearers.begin(), bearers.end(), *rule.lcid) == bearers.end())
                return r.bad(key("match.lcid"),
                             fmt::format("{} is never sent on LCID {} (pc5sec sends it on {}, or "
                                         "on {} end to end through a relay)",
                                         codec::message_name(*rule.message), *rule.lcid,
                                         fmt::join(bearers, ", "), pc5::lcid::kEndToEnd));
            // The attacker's knowledge: a ciphered message is read only with a compromised
            // end's keys.
            if (!readable_without_keys(*rule.message, solution) && !is_compromised(rule.from) &&
                !is_compromised(rule.to))
                return r.bad(key("match.message"),
                             fmt::format("{} is ciphered under solution {}: the attacker cannot "
                                         "read it (make from or to a compromised UE)",
                                         codec::message_name(*rule.message), pc5::name(solution)));
        }
        if (rule.lcid && rule.plane == Plane::data &&
            (*rule.lcid < pc5::lcid::kFirstData || *rule.lcid > pc5::lcid::kLastData) &&
            *rule.lcid != pc5::lcid::kEndToEnd)
            return r.bad(key("match.lcid"), "data go on LCID 4 .. 19 (or 55): never matches");
        return {};
    }

    Status rule(const toml::table& t, AttackRule& rule) const {
        PC5SEC_TRY(r.only(t, where,
                          {"name", "action", "anchor", "delay_ms", "record", "expect",
                           "expect_cause", "match", "modify", "replay", "inject"}));
        PC5SEC_TRY(r.get(t, where, "name", rule.name));
        std::string action;
        PC5SEC_TRY(r.get(t, where, "action", action));
        if (!t.contains("action")) return r.bad(key("action"), "one of " + all_names(kActions));
        auto a = from_table(kActions, action);
        if (!a)
            return r.bad(key("action"),
                         fmt::format("\"{}\": one of {}", action, all_names(kActions)));
        rule.action = *a;
        std::string anchor = "start";
        PC5SEC_TRY(r.get(t, where, "anchor", anchor));
        if (anchor == "ready")
            rule.anchor = Anchor::ready;
        else if (anchor == "released")
            rule.anchor = Anchor::released;
        else if (anchor != "start")
            return r.bad(key("anchor"), "start, ready or released");
        if (const auto* m = t.get("match")) {
            if (!m->is_table()) return r.bad(key("match"), "a table");
            PC5SEC_TRY(match(*m->as_table(), rule));
        }
        // Each action's own keys.
        const auto* table = [&]() -> const toml::node* {
            for (const char* k : {"modify", "replay", "inject"})
                if (t.contains(k) && action != k) return t.get(k);
            return nullptr;
        }();
        if (table)
            for (const char* k : {"modify", "replay", "inject"})
                if (t.contains(k) && action != k)
                    return r.bad(key(k), fmt::format("belongs to action = \"{}\"", k));
        if (t.contains("delay_ms") && rule.action != RuleAction::delay)
            return r.bad(key("delay_ms"), "belongs to action = \"delay\"");
        if (t.contains("record") && rule.action != RuleAction::record)
            return r.bad(key("record"), "belongs to action = \"record\"");
        const bool on_match =
            rule.action != RuleAction::replay && rule.action != RuleAction::inject;
        if (on_match && !rule.has_match) return r.bad(key("match"), "this action needs a [match]");
        switch (rule.action) {
            case RuleAction::delay:
                PC5SEC_TRY(r.get(t, where, "delay_ms", rule.delay_ms));
                if (rule.delay_ms <= 0) return r.bad(key("delay_ms"), "a delay above 0");
                break;
            case RuleAction::record:
                PC5SEC_TRY(r.get(t, where, "record", rule.record));
                if (rule.record.empty()) return r.bad(key("record"), "the record's name");
                break;
            case RuleAction::modify:
                PC5SEC_TRY(modify(t, rule));
                break;
            case RuleAction::replay:
                PC5SEC_TRY(replay(t, rule));
                break;
            case RuleAction::inject:
                PC5SEC_TRY(inject(t, rule));
                break;
            default:
                break;
        }
        if (t.contains("expect")) {
            std::string e;
            PC5SEC_TRY(r.get(t, where, "expect", e));
            auto o = from_table(kOutcomes, e);
            if (!o) return r.bad(key("expect"), "refused, detected, undetected or never-fired");
            rule.expect = *o;
        }
        if (t.contains("expect_cause")) {
            std::uint8_t c = 0;
            PC5SEC_TRY(r.get(t, where, "expect_cause", c));
            if (rule.expect != Outcome::refused || c == 0)
                return r.bad(key("expect_cause"), "a PC5 cause (1 ..) with expect = \"refused\"");
            rule.expect_cause = c;
        }
        return {};
    }

    // The action's own table ([attacker.modify], ...).
    Result<const toml::table*> own(const toml::table& t, const char* action) const {
        const auto* n = t.get(action);
        if (!n || !n->is_table())
            return r.bad(key(action),
                         fmt::format("action = \"{0}\" needs an [attacker.{0}] table", action));
        return n->as_table();
    }

    Status modify(const toml::table& t, AttackRule& rule) const {
        auto table = own(t, "modify");
        if (!table) return std::move(table).error();
        const auto& m = **table;
        PC5SEC_TRY(r.only(m, key("modify"), {"set", "add", "remove", "flip_bits"}));
        if (m.contains("set") || m.contains("add") || m.contains("remove")) {
            if (!rule.message)
                return r.bad(key("modify"), "an IE edit needs match.message (which message)");
            if (!readable_without_keys(*rule.message, solution))
                return r.bad(key("modify"),
                             fmt::format("{} is ciphered: the attacker reads it with a "
                                         "compromised UE's keys but re-protecting an edit is not "
                                         "supported (flip_bits, or a rogue UE of solution B)",
                                         codec::message_name(*rule.message)));
            PC5SEC_TRY(edits(m, "modify", *rule.message, true, rule.edits));
        }
        if (const auto* f = m.get("flip_bits")) {
            const auto* arr = f->as_array();
            if (!arr || arr->empty())
                return r.bad(key("modify.flip_bits"), "an array of bit offsets");
            for (const auto& x : *arr) {
                if (!x.is_integer() || std::llabs(x.as_integer()->get()) > 8 * 9100)
                    return r.bad(key("modify.flip_bits"),
                                 "bit offsets: 0 is the first PDU bit (MSB), -1 the last");
                rule.flip_bits.push_back(x.as_integer()->get());
            }
        }
        if (rule.edits.empty() && rule.flip_bits.empty())
            return r.bad(key("modify"), "set, add, remove or flip_bits");
        return {};
    }

    Status replay(const toml::table& t, AttackRule& rule) const {
        auto table = own(t, "replay");
        if (!table) return std::move(table).error();
        const auto& m = **table;
        PC5SEC_TRY(
            r.only(m, key("replay"), {"record", "at_ms", "count", "interval_ms", "to", "as"}));
        PC5SEC_TRY(r.get(m, key("replay"), "record", rule.record));
        if (rule.record.empty()) return r.bad(key("replay.record"), "the record sent again");
        return times(m, "replay", rule);
    }

    Status inject(const toml::table& t, AttackRule& rule) const {
        auto table = own(t, "inject");
        if (!table) return std::move(table).error();
        const auto& m = **table;
        PC5SEC_TRY(
            r.only(m, key("inject"),
                   {"message", "from_record", "set", "add", "remove", "data", "size",
                    "knrp_sess_id", "lcid", "seq", "at_ms", "count", "interval_ms", "to", "as"}));
        PC5SEC_TRY(message(m, "inject", "message", rule.inject_message));
        PC5SEC_TRY(r.get(m, key("inject"), "from_record", rule.record));
        PC5SEC_TRY(r.get(m, key("inject"), "data", rule.inject_data));
        PC5SEC_TRY(r.get(m, key("inject"), "size", rule.data_size));
        PC5SEC_TRY(r.get(m, key("inject"), "knrp_sess_id", rule.knrp_sess_id));
        if (m.contains("lcid")) {
            std::uint8_t l = 0;
            PC5SEC_TRY(r.get(m, key("inject"), "lcid", l));
            if (l > 63) return r.bad(key("inject.lcid"), "an LCID is 0 .. 63");
            rule.send_lcid = l;
        }
        if (rule.inject_data == (rule.inject_message.has_value() || !rule.record.empty()))
            return r.bad(key("inject"),
                         "data = true, or a message (message = TYPE, from_record = NAME)");
        if (const auto* v = m.get("seq")) {
            if (rule.inject_data) return r.bad(key("inject.seq"), "a data PDU has no PC5-S seq");
            if (const auto* i = v->as_integer()) {
                if (i->get() < 0 || i->get() > 255)
                    return r.bad(key("inject.seq"), "a sequence number is 0 .. 255");
                rule.inject_seq = static_cast<std::uint8_t>(i->get());
            } else if (const auto* s = v->as_string(); s && s->get() == "sweep") {
                rule.inject_seq_sweep = true;
            } else if (s && s->get().rfind("record:", 0) == 0 && s->get().size() > 7) {
                rule.inject_seq_record = s->get().substr(7);
            } else {
                return r.bad(key("inject.seq"), "0 .. 255, \"sweep\" or \"record:NAME\"");
            }
        }
        if (rule.inject_data) {
            if (rule.data_size == 0 || rule.data_size > 9000)
                return r.bad(key("inject.size"), "1 .. 9000 octets");
            if (m.contains("set") || m.contains("add") || m.contains("remove"))
                return r.bad(key("inject"), "a data PDU has no IEs");
        } else if (rule.inject_message) {
            PC5SEC_TRY(edits(m, "inject", *rule.inject_message, true, rule.edits));
            if (rule.record.empty()) {  // built from nothing: it must encode
                auto msg = *blank_message(*rule.inject_message);
                std::vector<std::vector<std::uint8_t>> keep;
                for (const auto& e : rule.edits) {
                    const auto info = *ie_info(*rule.inject_message, e.ie);
                    keep.push_back(
                        e.value.kind == IeValue::Kind::bytes
                            ? e.value.bytes
                            : std::vector<std::uint8_t>(std::max<std::size_t>(info.size, 1), 1));
                    (void)set_ie(msg, e.ie,
                                 e.op == IeEdit::Op::remove
                                     ? std::nullopt
                                     : std::optional<std::span<const std::uint8_t>>(keep.back()));
                }
                if (auto b = codec::encode(msg); !b)
                    return r.bad(key("inject"),
                                 fmt::format("the message does not encode: {} (set its "
                                             "mandatory IEs, or use from_record)",
                                             b.error().describe()));
            }
        } else if (m.contains("set") || m.contains("add") || m.contains("remove")) {
            return r.bad(key("inject"), "IE edits need message = TYPE (the record's type)");
        }
        return times(m, "inject", rule);
    }
};

}  // namespace

const char* name(RuleAction a) noexcept {
    for (const auto& [v, n] : kActions)
        if (v == a) return n;
    return "?";
}

const char* name(Outcome o) noexcept {
    for (const auto& [v, n] : kOutcomes)
        if (v == o) return n;
    return "?";
}

Status read_rules(const Reader& r, const toml::node& node, const std::vector<std::string>& ues,
                  pc5::Solution solution, const std::vector<std::string>& compromised,
                  std::vector<AttackRule>& out) {
    const auto* arr = node.as_array();
    if (!arr) return r.bad("attacker", "must be an array of tables ([[attacker]])");
    const std::size_t first = out.size();
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string where = fmt::format("attacker[{}]", i);
        const auto* t = (*arr)[i].as_table();
        if (!t) return r.bad(where, "must be a table");
        AttackRule rule;
        RuleReader rr{r, where, ues, solution, compromised};
        PC5SEC_TRY(rr.rule(*t, rule));
        if (rule.name.empty()) rule.name = where;
        out.push_back(std::move(rule));
    }
    // Records: each replayed or copied one is made by a record rule; names are unique.
    std::set<std::string> records, names;
    for (std::size_t i = first; i < out.size(); ++i) {
        if (out[i].action == RuleAction::record && !records.insert(out[i].record).second)
            return r.bad(fmt::format("attacker[{}].record", i - first),
                         fmt::format("\"{}\" is recorded by an earlier rule too", out[i].record));
        if (!names.insert(out[i].name).second)
            return r.bad(fmt::format("attacker[{}].name", i - first),
                         fmt::format("\"{}\" names an earlier rule too", out[i].name));
    }
    for (std::size_t i = first; i < out.size(); ++i) {
        const auto& rule = out[i];
        const std::string where = fmt::format("attacker[{}]", i - first);
        if ((rule.action == RuleAction::replay || rule.action == RuleAction::inject) &&
            !rule.record.empty() && !records.count(rule.record))
            return r.bad(where + (rule.action == RuleAction::replay ? ".replay.record"
                                                                    : ".inject.from_record"),
                         fmt::format("no rule records \"{}\"", rule.record));
        if (!rule.inject_seq_record.empty() && !records.count(rule.inject_seq_record))
            return r.bad(where + ".inject.seq",
                         fmt::format("no rule records \"{}\"", rule.inject_seq_record));
        for (const auto& e : rule.edits)
            if (e.value.kind == IeValue::Kind::record && !records.count(e.value.record))
                return r.bad(where + "." +
                                 (rule.action == RuleAction::inject ? "inject" : "modify") + "." +
                                 e.ie,
                             fmt::format("no rule records \"{}\"", e.value.record));
    }
    return {};
}

Result<std::vector<AttackRule>> parse_rules(std::string_view text, std::string_view origin,
                                            const std::vector<std::string>& ues,
                                            pc5::Solution solution,
                                            const std::vector<std::string>& compromised) {
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
    PC5SEC_TRY(r.only(root, "", {"attacker"}));
    std::vector<AttackRule> out;
    if (const auto* n = root.get("attacker"))
        PC5SEC_TRY(read_rules(r, *n, ues, solution, compromised, out));
    return out;
}

// ---------------------------------------------------------------- the named attacks

NamedRules attack_rules(Attack a, const std::string& source, const std::string& target,
                        const std::string& relay) {
    // Where the source's frames go first: its relay, or the target on the direct path.
    const std::string next = relay.empty() ? target : relay;
    std::string text;
    NamedRules out;
    const pc5::Solution solution = a == Attack::tampering_relay || a == Attack::unconfirmed_target
                                       ? pc5::Solution::b_hardened
                                       : pc5::Solution::a;
    // The request the source sent first, for the attacks that send it again or copy it.
    const std::string record_request = fmt::format(
        "[[attacker]]\nname = \"record-request\"\naction = \"record\"\nrecord = \"request\"\n"
        "match = {{ from = \"{}\", message = \"establishment_request\", nth = 1 }}\n\n",
        source);
    switch (a) {
        case Attack::tamper_request:  // bidding down (TS 33.536 5.3.3.1.4): EA0, IA0/NIA1
            text = fmt::format(
                "[[attacker]]\nname = \"tamper-request\"\naction = \"modify\"\n"
                "match = {{ from = \"{}\", message = \"establishment_request\" }}\n"
                "modify = {{ set = {{ ue_security_capabilities = \"0x80c0\" }} }}\n",
                source);
            break;
        case Attack::tamper_mac:  // the last bit of the MAC-I
            text = fmt::format(
                "[[attacker]]\nname = \"tamper-mac\"\naction = \"modify\"\n"
                "match = {{ to = \"{}\", message = \"security_mode_command\" }}\n"
                "modify = {{ flip_bits = [-1] }}\n",
                source);
            break;
        case Attack::replay:
            text = record_request +
                   "[[attacker]]\nname = \"replay-request\"\naction = \"replay\"\n"
                   "anchor = \"released\"\nreplay = { record = \"request\", at_ms = 2000 }\n";
            break;
        case Attack::tamper_data:  // every 4th data PDU from the source, a payload bit
            text = fmt::format(
                "[[attacker]]\nname = \"tamper-data\"\naction = \"modify\"\n"
                "match = {{ from = \"{}\", plane = \"data\", every = 4 }}\n"
                "modify = {{ flip_bits = [100] }}\n",
                source);
            break;
        case Attack::replay_data:
            text = fmt::format(
                "[[attacker]]\nname = \"record-data\"\naction = \"record\"\nrecord = \"data\"\n"
                "match = {{ from = \"{}\", plane = \"data\", limit = 5 }}\n\n"
                "[[attacker]]\nname = \"replay-data\"\naction = \"replay\"\nanchor = \"ready\"\n"
                "replay = {{ record = \"data\", at_ms = 1000 }}\n",
                source);
            break;
        case Attack::inject_data:  // under KNRP-sess IDs and keys the attacker made up
            text = fmt::format(
                "[[attacker]]\nname = \"inject-data\"\naction = \"inject\"\nanchor = \"ready\"\n"
                "inject = {{ data = true, size = 40, knrp_sess_id = 0xBAD0, as = \"{}\", "
                "to = \"{}\", at_ms = 3.5, count = 5 }}\n",
                source, next);
            break;
        case Attack::tampering_relay:  // a rogue relay: its own engine signs what the rule made
            out.compromised = {relay};
            text = fmt::format(
                "[[attacker]]\nname = \"tampering-relay\"\naction = \"modify\"\n"
                "match = {{ from = \"{}\", message = \"establishment_request\" }}\n"
                "modify = {{ set = {{ relay_service_code = 0x00C003 }} }}\n",
                relay);
            break;
        case Attack::forged_request_on_live_link:  // no credentials: a copy, a fresh Nonce_1
            text = record_request +
                   "[[attacker]]\nname = \"forged-request\"\naction = \"inject\"\n"
                   "anchor = \"ready\"\n"
                   "inject = { message = \"establishment_request\", from_record = \"request\", "
                   "set = { nonce_1 = \"random\" }, at_ms = 50 }\n";
            break;
        case Attack::request_flood:  // fresh nonces from made-up L2 IDs
            text = record_request +
                   fmt::format(
                       "[[attacker]]\nname = \"request-flood\"\naction = \"inject\"\n"
                       "anchor = \"ready\"\n"
                       "inject = {{ message = \"establishment_request\", from_record = "
                       "\"request\", set = {{ nonce_1 = \"random\" }}, as = \"random\", to = "
                       "\"{}\", at_ms = 10, count = 50, interval_ms = 2 }}\n",
                       next);
            break;
        case Attack::forged_reject: {
            // During establishment: a reject in the next hop's name, to the source, as soon as
            // its request is heard. After it: every sequence number, in every UE's name, to
            // every UE of the path. Nobody holds a key that protects an ESTABLISHMENT REJECT.
            text = record_request +
                   fmt::format(
                       "[[attacker]]\nname = \"forged-reject-in-setup\"\n"
                       "action = \"inject\"\n"
                       "match = {{ from = \"{0}\", message = \"establishment_request\", "
                       "nth = 1 }}\n"
                       "inject = {{ message = \"establishment_reject\", set = {{ cause = 6 "
                       "}}, seq = \"record:request\", as = \"{1}\", to = \"{0}\" }}\n\n",
                       source, next);
            std::vector<std::pair<std::string, std::string>> pairs{{source, next}, {next, source}};
            if (!relay.empty()) pairs.insert(pairs.end(), {{target, relay}, {relay, target}});
            for (const auto& [as, to] : pairs)
                text += fmt::format(
                    "[[attacker]]\nname = \"forged-reject-{0}-to-{1}\"\naction = \"inject\"\n"
                    "anchor = \"ready\"\n"
                    "inject = {{ message = \"establishment_reject\", set = {{ cause = 6 }}, seq = "
                    "\"sweep\", as = \"{0}\", to = \"{1}\", at_ms = 10, count = 256, "
                    "interval_ms = 0.5 }}\n\n",
                    as, to);
            break;
        }
        case Attack::stale_replay:  // what reached the target first, again 62 minutes later
            text = fmt::format(
                "[[attacker]]\nname = \"record-at-target\"\naction = \"record\"\n"
                "record = \"at-target\"\n"
                "match = {{ to = \"{}\", message = \"establishment_request\", nth = 1 }}\n\n"
                "[[attacker]]\nname = \"stale-replay\"\naction = \"replay\"\n"
                "anchor = \"ready\"\nreplay = {{ record = \"at-target\", at_ms = 3720000 }}\n",
                target);
            break;
        case Attack::unconfirmed_target:  // B: what the source sends the target end to end
            text = fmt::format(
                "[[attacker]]\nname = \"drop-confirmation\"\naction = \"drop\"\n"
                "match = {{ from = \"{0}\", to = \"{1}\", lcid = {2}, bearer = {3} }}\n\n"
                "[[attacker]]\nname = \"drop-data\"\naction = \"drop\"\n"
                "match = {{ from = \"{0}\", to = \"{1}\", lcid = {2}, plane = \"data\" }}\n",
                next, target, pc5::lcid::kEndToEnd, pc5::lcid::kSrb2);
            break;
        case Attack::revoked_with_cached_knrp:  // the request that names the cached KNRP ID
            text = fmt::format(
                "[[attacker]]\nname = \"cached-knrp-request\"\naction = \"record\"\n"
                "record = \"cached\"\nanchor = \"released\"\n"
                "match = {{ from = \"{}\", message = \"establishment_request\", nth = 1 }}\n",
                source);
            break;
        default:
            return out;  // none, and the credential set-ups
    }
    std::vector<std::string> ues{source, target};
    if (!relay.empty()) ues.push_back(relay);
    auto rules =
        parse_rules(text, fmt::format("attack {}", name(a)), ues, solution, out.compromised);
    if (rules) out.rules = std::move(*rules);  // the texts above are tested (tests/sim)
    return out;
}

}  // namespace pc5sec::sim
