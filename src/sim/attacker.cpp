// The attacker's rules at run time (include/pc5sec/sim.hpp, docs/scenarios.md "The
// attacker"): one mechanism for the simulator and `pc5sec establish --attack`. A frame reaching
// its receiver passes every rule in order; a rule that matches acts on it (drop, delay,
// duplicate, record, replay, reflect, modify, inject). What it reads is what an eavesdropper
// reads: unprotected PC5-S, the integrity-only Security Mode Command, and the headers of
// everything else; a compromised UE's frames too (their keys are the attacker's). Its
// randomness comes from the scenario's seed.
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <random>

#include <nlohmann/json.hpp>

#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/request_privacy.hpp"
#include "pc5sec/sim.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/userplane.hpp"
#include "sim/ies.hpp"
#include "sim/world.hpp"

namespace pc5sec::sim {

namespace {

pc5::Time from_ms(double ms) {
    return pc5::Time{static_cast<std::int64_t>(std::llround(ms * 1e6))};
}

// What the attacker sees of a frame.
struct View {
    bool data = false;
    std::size_t off = 0;      // where the PDU after an SRAP header starts
    std::uint8_t bearer = 0;  // the LCID, or the SRAP bearer end to end
    enum class Body : std::uint8_t { none, plain, smc, keyed } body = Body::none;
    std::vector<std::uint8_t> bytes;  // the message's octets (msg views into them)
    std::optional<codec::Message> msg;
    // The RSC its identities were concealed under on the air (pc5sec/request_privacy.hpp): an
    // edit of it goes out concealed under the same RSC.
    std::optional<std::uint32_t> concealed_rsc;
};

}  // namespace

Outcome RuleStats::outcome() const {
    // Every firing an edit that could not be made: the rule changed nothing.
    if (!fired || edit_errors >= fired) return Outcome::never_fired;
    if (!refused.empty()) return Outcome::refused;
    if (!dropped.empty()) return Outcome::detected;
    return Outcome::undetected;
}

struct Attacker::State {
    AttackerSetup setup;
    std::mt19937_64 rng;
    // The RSCs' discovery material, if it holds it (AttackerSetup::holds_rsc_material); mutable:
    // opening discovery keeps a replay cache (never used here: replays are read too).
    std::vector<discovery::Material> rsc_material;
    mutable discovery::Security material;
    std::map<std::string, std::vector<pc5::Frame>> records;
    std::map<pc5::L2Id, std::string> names;
    std::vector<std::optional<pc5::L2Id>> from, to;
    std::array<std::optional<pc5::Time>, 3> anchors;
    pc5::Time clock{};                 // the time of the frame or timer being handled
    std::vector<std::uint32_t> timed;  // emissions done per time-driven rule
    std::vector<bool> rogue;           // applied by a rogue UE's own engine
    std::vector<std::pair<pc5::Frame, std::size_t>> own;  // emitted, not yet delivered
    std::deque<std::vector<std::uint8_t>> scratch;        // octets edited messages view

    bool compromised(pc5::L2Id l2) const {
        auto it = names.find(l2);
        return it != names.end() && std::find(setup.compromised.begin(), setup.compromised.end(),
                                              it->second) != setup.compromised.end();
    }

    View view(const pc5::Frame& f) const {
        View v;
        v.data = userplane::carries_data(f);
        v.bearer = f.lcid;
        if (f.lcid == pc5::lcid::kEndToEnd) {  // the relay's adaptation layer (both solutions)
            auto h = srap::parse_header(f.pdu);
            if (!h) return v;
            v.bearer = h->bearer;
            v.off = srap::kHeaderSize;
        }
        if (v.data) return v;
        const auto pdu = std::span(f.pdu).subspan(std::min(v.off, f.pdu.size()));
        if (v.bearer == pc5::lcid::kDiscovery) {
            // Open discovery reads as it is; restricted discovery is scrambled and ciphered
            // under material the attacker holds only as an insider of the RSC
            // (pc5sec/discovery.hpp).
            if (auto o = material.open(pdu, utc_now(), false)) {
                v.bytes = std::move(o->plain);
                v.body = View::Body::plain;
            }
        } else if (v.bearer == pc5::lcid::kSrb0) {
            // A concealed request reads only with the RSC's material
            // (pc5sec/request_privacy.hpp); without it, its octets are all the attacker has.
            auto r = request_privacy::reveal(material, pdu, utc_now(), false);
            if (r && r->concealed) {
                v.bytes = std::move(r->plain);
                v.concealed_rsc = r->rsc;
            } else
                v.bytes.assign(pdu.begin(), pdu.end());
            v.body = View::Body::plain;
        } else if (v.bearer == pc5::lcid::kSrb1 && pdu.size() > pdcp::kOverhead) {
            // Integrity only: the Security Mode Command's message between header and MAC-I.
            v.bytes.assign(pdu.begin() + pdcp::kHeaderSize, pdu.end() - pdcp::kMacSize);
            v.body = View::Body::smc;
        }
        if (v.body != View::Body::none) {
            if (auto m = codec::decode(v.bytes)) v.msg = std::move(*m);
            if (v.body == View::Body::smc &&
                (!v.msg ||
                 codec::message_type(*v.msg) != codec::MessageType::security_mode_command)) {
                v.msg.reset();  // a ciphered message: not readable
                v.body = View::Body::none;
            }
        }
        // A compromised end's keys open its ciphered frames (the plaintext that end holds).
        if (!v.msg && f.capture && !f.capture->message.empty() &&
            (compromised(f.src) || compromised(f.dst))) {
            v.bytes = f.capture->message;
            if (auto m = codec::decode(v.bytes)) {
                v.msg = std::move(*m);
                v.body = View::Body::keyed;
            }
        }
        return v;
    }

    discovery::UtcTime utc_now() const {
        return setup.wall_epoch.value_or(kEpoch) +
               std::chrono::duration_cast<creds::Clock::duration>(clock);
    }

    // A replayed establishment request: an insider of the RSC replays the request, not its
    // octets. It reveals it and conceals it again under the current UTC-based counter (and a
    // fresh nonce), as any UE of the RSC can; the counter window would drop the old octets
    // (pc5sec/request_privacy.hpp). An outsider replays the octets as recorded.
    void refresh(pc5::Frame& f) {
        std::size_t off = 0;
        if (f.lcid == pc5::lcid::kEndToEnd) {
            auto h = srap::parse_header(f.pdu);
            if (!h || h->bearer != pc5::lcid::kSrb0) return;
            off = srap::kHeaderSize;
        } else if (f.lcid != pc5::lcid::kSrb0) {
            return;
        }
        const auto pdu = std::span<const std::uint8_t>(f.pdu).subspan(off);
        if (!request_privacy::concealed(pdu)) return;
        auto r = request_privacy::reveal(material, pdu, utc_now(), false);
        if (!r || !r->concealed) return;  // not the attacker's to read
        request_privacy::Nonce nonce{};
        for (auto& x : nonce)
            x = static_cast<std::uint8_t>(rng());
        auto again = request_privacy::conceal(material, r->plain, r->rsc, utc_now(), nonce);
        if (!again) return;
        f.pdu.resize(off);
        f.pdu.insert(f.pdu.end(), again->begin(), again->end());
    }

    // A message's octets for the air, as a UE with the attacker's material sends them: discovery
    // restricted under the RSC's material if held, else open (pc5sec/discovery.hpp); a request
    // concealed under the RSC it names if the material is held (pc5sec/request_privacy.hpp);
    // any other as the codec encodes it.
    Result<std::vector<std::uint8_t>> on_air(const codec::Message& m,
                                             std::optional<std::uint32_t> concealed_rsc = {}) {
        if (auto rsc = discovery::rsc_of(m)) return material.seal(m, *rsc, utc_now());
        auto bytes = codec::encode(m);
        if (!bytes || !request_privacy::conceals_message(codec::message_type(m))) return bytes;
        // A request by the RSC it names; an answer as the message it replaces was.
        auto rsc = codec::message_type(m) == codec::MessageType::establishment_request
                       ? request_privacy::rsc_named(*bytes)
                       : concealed_rsc;
        if (!rsc || !material.material(*rsc)) return bytes;
        request_privacy::Nonce nonce{};
        for (auto& x : nonce)
            x = static_cast<std::uint8_t>(rng());
        return request_privacy::conceal(material, *bytes, *rsc, utc_now(), nonce);
    }

    // The octets an edit sets: given, fresh random, or from a recorded frame's same IE.
    std::optional<std::span<const std::uint8_t>> value_of(const AttackRule& rule, const IeEdit& e) {
        if (e.op == IeEdit::Op::remove) return std::nullopt;
        if (e.value.kind == IeValue::Kind::bytes) return std::span(e.value.bytes);
        if (e.value.kind == IeValue::Kind::random) {
            const auto type = rule.message ? *rule.message : *rule.inject_message;
            auto& b = scratch.emplace_back(ie_info(type, e.ie)->size);
            for (auto& x : b)
                x = static_cast<std::uint8_t>(rng());
            return std::span<const std::uint8_t>(b);
        }
        for (const auto& f : records[e.value.record]) {
            const View v = view(f);
            if (!v.msg) continue;
            if (auto got = ie_value(*v.msg, e.ie))
                return std::span<const std::uint8_t>(scratch.emplace_back(std::move(*got)));
        }
        return std::nullopt;  // the record holds no such IE (yet): removed
    }

    Status apply(const AttackRule& rule, codec::Message& m) {
        for (const auto& e : rule.edits)
            PC5SEC_TRY(set_ie(m, e.ie, value_of(rule, e)));
        return {};
    }

    pc5::L2Id random_l2() {
        for (;;) {
            const auto l2 = static_cast<pc5::L2Id>(rng() % 0xFFFFFE + 1);
            if (!names.count(l2)) return l2;
        }
    }

    // The source L2 ID and receiver of a replayed or injected frame.
    void address(const AttackRule& rule, pc5::Frame& f) {
        if (!rule.send_to.empty()) f.dst = setup.ues.at(rule.send_to);
        if (!rule.as_ue.empty()) f.src = setup.ues.at(rule.as_ue);
        if (rule.as_l2) f.src = *rule.as_l2;
        if (rule.as_random) f.src = random_l2();
    }

    // The n-th frame an inject rule makes (nullopt while its record is still empty).
    std::optional<pc5::Frame> build(const AttackRule& rule, std::uint32_t n,
                                    const pc5::Frame* trigger) {
        pc5::Frame f;
        if (trigger) {
            f.src = trigger->src;
            f.dst = trigger->dst;
        }
        if (rule.inject_data) {
            f.lcid = rule.send_lcid.value_or(setup.data_bearer);
            f.pdu.resize(userplane::kHeaderSize + rule.data_size + userplane::kMacSize);
            for (auto& x : f.pdu)
                x = static_cast<std::uint8_t>(rng());
            userplane::write_header(
                {KnrpSessId{static_cast<std::uint16_t>(rule.knrp_sess_id + n)}, n}, f.pdu.data());
        } else {
            // From a recorded frame (its addresses, channel and message), or from nothing.
            std::optional<View> base;
            const pc5::Frame* from = nullptr;
            for (const auto& r : records[rule.record]) {
                base = view(r);
                from = &r;
                if (base->msg && base->body == View::Body::plain) break;
                base.reset();
            }
            if (!rule.record.empty() && !base) return std::nullopt;
            auto m = base ? *base->msg : *blank_message(*rule.inject_message);
            if (!apply(rule, m)) return std::nullopt;
            std::optional<std::uint8_t> seq = rule.inject_seq;
            if (rule.inject_seq_sweep) seq = static_cast<std::uint8_t>(n);
            if (!rule.inject_seq_record.empty()) {
                for (const auto& r : records[rule.inject_seq_record])
                    if (auto v = view(r); v.msg) {
                        seq = std::visit([](const auto& x) { return x.seq; }, *v.msg);
                        break;
                    }
                if (!seq) return std::nullopt;  // the record is still empty
            }
            if (seq) std::visit([&](auto& x) { x.seq = *seq; }, m);
            auto bytes = on_air(m, base ? base->concealed_rsc : std::nullopt);
            scratch.clear();
            if (!bytes) return std::nullopt;
            if (from) {
                if (!trigger) {
                    f.src = from->src;
                    f.dst = from->dst;
                }
                f.lcid = from->lcid;
                f.pdu.assign(from->pdu.begin(), from->pdu.begin() + base->off);
            } else {
                const auto bearers = bearers_of(codec::message_type(m), setup.solution);
                f.lcid = rule.send_lcid.value_or(bearers.empty() ? pc5::lcid::kSrb0 : bearers[0]);
            }
            f.pdu.insert(f.pdu.end(), bytes->begin(), bytes->end());
        }
        address(rule, f);
        if (!f.src) f.src = random_l2();
        return f;
    }

    void flip(const AttackRule& rule, pc5::Frame& f) {
        const auto bits = static_cast<std::int64_t>(f.pdu.size() * 8);
        for (auto b : rule.flip_bits) {
            const std::int64_t at = b < 0 ? bits + b : b;
            if (at < 0 || at >= bits) continue;  // beyond this frame
            f.pdu[static_cast<std::size_t>(at / 8)] ^= static_cast<std::uint8_t>(0x80 >> (at % 8));
        }
    }
};

Attacker::Attacker(std::vector<AttackRule> rules, AttackerSetup setup)
    : rules_(std::move(rules)), stats_(rules_.size()), st_(std::make_unique<State>()) {
    st_->setup = std::move(setup);
    st_->rng.seed(st_->setup.seed ^ 0xa77ac4e5a77ac4e5ull);
    for (const auto& [n, l2] : st_->setup.ues)
        st_->names[l2] = n;
    auto l2_of = [&](const std::string& n) -> std::optional<pc5::L2Id> {
        if (n.empty()) return std::nullopt;
        auto it = st_->setup.ues.find(n);
        return it == st_->setup.ues.end() ? std::optional<pc5::L2Id>(0) : it->second;
    };
    st_->anchors[static_cast<std::size_t>(Anchor::start)] = pc5::Time{0};
    for (const auto& r : rules_) {
        st_->from.push_back(l2_of(r.from));
        st_->to.push_back(l2_of(r.to));
        st_->timed.push_back(0);
        const auto& c = st_->setup.compromised;
        // A rogue UE of solution B runs its own engine: rules on its requests go into its hook.
        st_->rogue.push_back(
            st_->setup.solution != pc5::Solution::a && r.action == RuleAction::modify &&
            !r.from.empty() && std::find(c.begin(), c.end(), r.from) != c.end() &&
            r.message == codec::MessageType::establishment_request && r.flip_bits.empty());
    }
}

void Attacker::learn(const discovery::Material& m) {
    if (!st_->setup.holds_rsc_material) return;
    st_->rsc_material.push_back(m);
    st_->material = discovery::Security(st_->rsc_material);
}

Attacker::~Attacker() = default;
Attacker::Attacker(Attacker&&) noexcept = default;
Attacker& Attacker::operator=(Attacker&&) noexcept = default;

Attacker::Verdict Attacker::on_frame(pc5::Time now, pc5::Frame& f, std::vector<Emit>& out) {
    Verdict verdict;
    auto& st = *st_;
    st.clock = now;
    // The attacker's own frames: delivered as sent, judged for their rule.
    for (auto it = st.own.begin(); it != st.own.end(); ++it)
        if (it->first.src == f.src && it->first.dst == f.dst && it->first.lcid == f.lcid &&
            it->first.pdu == f.pdu) {
            verdict.rule = it->second;
            st.own.erase(it);
            return verdict;
        }
    std::optional<View> v;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& rule = rules_[i];
        auto& s = stats_[i];
        if (!rule.has_match || st.rogue[i]) continue;
        if (rule.action == RuleAction::replay && rule.at_ms) continue;
        if (rule.action == RuleAction::inject && rule.at_ms) continue;
        const auto& anchor = st.anchors[static_cast<std::size_t>(rule.anchor)];
        if (!anchor || now < *anchor + from_ms(rule.from_ms)) continue;
        if (rule.until_ms >= 0 && now > *anchor + from_ms(rule.until_ms)) continue;
        if (st.from[i] && f.src != *st.from[i]) continue;
        if (st.to[i] && f.dst != *st.to[i]) continue;
        if (rule.lcid && f.lcid != *rule.lcid) continue;
        if (!v) v = st.view(f);
        if (rule.bearer && v->bearer != *rule.bearer) continue;
        if (rule.plane == Plane::data && !v->data) continue;
        if (rule.plane == Plane::signalling && v->data) continue;
        if (rule.message && (!v->msg || codec::message_type(*v->msg) != *rule.message)) continue;
        const std::uint64_t k = ++s.matched;
        if (rule.nth && k != rule.nth) continue;
        if ((k - 1) % rule.every != 0) continue;
        if (rule.limit && s.fired >= rule.limit) continue;
        ++s.fired;
        if (!s.first) s.first = now;
        auto emit = [&](pc5::Frame copy, pc5::Time at) {
            st.own.emplace_back(copy, i);
            out.push_back({at, std::move(copy), i});
            ++injected_;
        };
        switch (rule.action) {
            case RuleAction::drop:
                verdict.deliver = false;
                verdict.rule = i;
                return verdict;
            case RuleAction::delay:
                emit(f, now + from_ms(rule.delay_ms));
                verdict.deliver = false;
                return verdict;
            case RuleAction::duplicate:
                emit(f, now);
                break;
            case RuleAction::record:
                st.records[rule.record].push_back(f);
                break;
            case RuleAction::replay:
                for (std::uint32_t n = 0; n < rule.count; ++n)
                    for (auto copy : st.records[rule.record]) {
                        st.address(rule, copy);
                        st.refresh(copy);
                        emit(std::move(copy), now + from_ms(rule.interval_ms * n));
                    }
                break;
            case RuleAction::reflect: {
                pc5::Frame back = f;
                std::swap(back.src, back.dst);
                emit(std::move(back), now);
                break;
            }
            case RuleAction::inject:
                for (std::uint32_t n = 0; n < rule.count; ++n)
                    if (auto made = st.build(rule, n, &f))
                        emit(std::move(*made), now + from_ms(rule.interval_ms * n));
                break;
            case RuleAction::modify: {
                if (!rule.edits.empty() && v->msg) {
                    auto m = *v->msg;
                    std::vector<std::uint8_t> bytes;
                    if (auto ok = st.apply(rule, m); ok) {
                        if (auto b = st.on_air(m, v->concealed_rsc)) bytes = std::move(*b);
                    }
                    // An edit that changes nothing (an IE this message does not carry, removed)
                    // could not be made either: the frame goes on as it was.
                    const auto before = codec::encode(*v->msg), after = codec::encode(m);
                    const bool same = before && after && *before == *after;
                    if (bytes.empty() || (same && rule.flip_bits.empty())) {
                        ++s.edit_errors;
                    } else if (v->body == View::Body::plain) {
                        f.pdu.resize(v->off);
                        f.pdu.insert(f.pdu.end(), bytes.begin(), bytes.end());
                    } else if (v->body == View::Body::smc) {  // the MAC-I stays as it was
                        std::vector<std::uint8_t> pdu(f.pdu.begin(),
                                                      f.pdu.begin() + v->off + pdcp::kHeaderSize);
                        pdu.insert(pdu.end(), bytes.begin(), bytes.end());
                        pdu.insert(pdu.end(), f.pdu.end() - pdcp::kMacSize, f.pdu.end());
                        f.pdu = std::move(pdu);
                    }
                    st.scratch.clear();
                }
                st.flip(rule, f);
                verdict.altered = true;
                verdict.rule = i;
                ++tampered_;
                v.reset();  // later rules see the changed frame
                break;
            }
        }
    }
    return verdict;
}

void Attacker::set_anchor(Anchor a, pc5::Time at) {
    auto& slot = st_->anchors[static_cast<std::size_t>(a)];
    if (!slot) slot = at;
}

bool Attacker::uses(Anchor a) const {
    return std::any_of(rules_.begin(), rules_.end(),
                       [&](const AttackRule& r) { return r.anchor == a; });
}

pc5::Time Attacker::next_due() const {
    pc5::Time next = pc5::kNever;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& r = rules_[i];
        const auto& anchor = st_->anchors[static_cast<std::size_t>(r.anchor)];
        if (!r.at_ms || !anchor || st_->timed[i] >= r.count) continue;
        next = std::min(next, *anchor + from_ms(*r.at_ms + r.interval_ms * st_->timed[i]));
    }
    return next;
}

void Attacker::due(pc5::Time now, std::vector<Emit>& out) {
    auto& st = *st_;
    st.clock = now;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& r = rules_[i];
        const auto& anchor = st.anchors[static_cast<std::size_t>(r.anchor)];
        if (!r.at_ms || !anchor) continue;
        while (st.timed[i] < r.count &&
               *anchor + from_ms(*r.at_ms + r.interval_ms * st.timed[i]) <= now) {
            const std::uint32_t n = st.timed[i]++;
            std::vector<pc5::Frame> frames;
            if (r.action == RuleAction::replay) {
                for (auto copy : st.records[r.record]) {
                    st.address(r, copy);
                    st.refresh(copy);
                    frames.push_back(std::move(copy));
                }
            } else if (auto made = st.build(r, n, nullptr)) {
                frames.push_back(std::move(*made));
            }
            if (frames.empty()) continue;  // nothing recorded to send
            ++stats_[i].fired;
            if (!stats_[i].first) stats_[i].first = now;
            for (auto& f : frames) {
                st.own.emplace_back(f, i);
                out.push_back({now, std::move(f), i});
                ++injected_;
            }
        }
    }
}

bool Attacker::rogue(const std::string& ue) const {
    for (std::size_t i = 0; i < rules_.size(); ++i)
        if (st_->rogue[i] && rules_[i].from == ue) return true;
    return false;
}

bool Attacker::edit_own(pc5::Time now, const std::string& ue,
                        codec::DirectLinkEstablishmentRequest& request) {
    bool any = false;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& r = rules_[i];
        if (!st_->rogue[i] || r.from != ue) continue;
        const auto& anchor = st_->anchors[static_cast<std::size_t>(r.anchor)];
        if (!anchor || now < *anchor + from_ms(r.from_ms)) continue;
        if (r.until_ms >= 0 && now > *anchor + from_ms(r.until_ms)) continue;
        const std::uint64_t k = ++stats_[i].matched;
        if ((r.nth && k != r.nth) || (k - 1) % r.every != 0 ||
            (r.limit && stats_[i].fired >= r.limit))
            continue;
        codec::Message m = request;
        if (!st_->apply(r, m)) {
            ++stats_[i].edit_errors;
            continue;
        }
        // The engine encodes the request right after this hook, while the octets live.
        request = std::get<codec::DirectLinkEstablishmentRequest>(m);
        ++stats_[i].fired;
        if (!stats_[i].first) stats_[i].first = now;
        ++tampered_;
        any = true;
    }
    return any;
}

void Attacker::judged(std::size_t rule, const std::string* dropped_as) {
    if (rule >= stats_.size()) return;
    if (dropped_as)
        ++stats_[rule].dropped[*dropped_as];
    else
        ++stats_[rule].accepted;
}

void Attacker::link_failed(pc5::Time now, std::uint8_t cause) {
    for (auto& s : stats_)
        if (s.first && *s.first <= now) ++s.refused[cause];
}

namespace {

std::string outcome_text(const AttackRule& r, const RuleStats& s) {
    const auto o = s.outcome();
    std::string t = name(o);
    if (o == Outcome::refused) {
        std::vector<std::string> causes;
        for (const auto& [c, n] : s.refused)
            causes.push_back(fmt::format("#{}", c));
        t += " " + fmt::format("{}", fmt::join(causes, ","));
    } else if (o == Outcome::detected) {
        std::vector<std::string> why;
        for (const auto& [d, n] : s.dropped)
            why.push_back(fmt::format("{} {}", n, d));
        t += fmt::format(" (dropped: {})", fmt::join(why, ", "));
    }
    (void)r;
    return t;
}

}  // namespace

std::vector<std::string> Attacker::failed_expectations() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& r = rules_[i];
        const auto& s = stats_[i];
        if (!r.expect) continue;
        const bool cause_ok = !r.expect_cause || s.refused.count(*r.expect_cause);
        if (s.outcome() != *r.expect || !cause_ok)
            out.push_back(
                fmt::format("expected rule {} {}{}, it was {}", r.name, name(*r.expect),
                            r.expect_cause ? fmt::format(" #{}", *r.expect_cause) : std::string(),
                            outcome_text(r, s)));
    }
    return out;
}

std::string Attacker::json() const {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& r = rules_[i];
        const auto& s = stats_[i];
        nlohmann::ordered_json x;
        x["rule"] = r.name;
        x["action"] = name(r.action);
        x["fired"] = s.fired;
        x["first_fired_ms"] =
            s.first ? nlohmann::ordered_json(
                          std::round(std::chrono::duration<double, std::milli>(*s.first).count() *
                                     1000.0) /
                          1000.0)
                    : nlohmann::ordered_json(nullptr);
        nlohmann::ordered_json refused = nlohmann::ordered_json::object();
        for (const auto& [c, n] : s.refused)
            refused[std::to_string(c)] = n;
        x["victims"] = {{"refused", refused}, {"dropped", s.dropped}, {"accepted", s.accepted}};
        x["edit_errors"] = s.edit_errors;
        x["outcome"] = name(s.outcome());
        x["expected"] =
            r.expect ? nlohmann::ordered_json(name(*r.expect)) : nlohmann::ordered_json(nullptr);
        if (r.expect_cause) x["expected_cause"] = *r.expect_cause;
        j.push_back(std::move(x));
    }
    return j.dump();
}

std::string Attacker::summary() const {
    std::string t;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& r = rules_[i];
        const auto& s = stats_[i];
        t += fmt::format(
            "  attacker {} ({}): fired {} times -> {}{}\n", r.name, name(r.action), s.fired,
            outcome_text(r, s),
            r.expect
                ? fmt::format(" (expected {}{})", name(*r.expect),
                              r.expect_cause ? fmt::format(" #{}", *r.expect_cause) : std::string())
                : std::string());
    }
    return t;
}

}  // namespace pc5sec::sim
