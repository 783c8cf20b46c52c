// Merging zones' tallies, carrying them between MPI ranks, and merging their captures
// (sim/tally.hpp).
#include "sim/tally.hpp"

#include <cstring>
#include <queue>

#include "pc5sec/pcap.hpp"

namespace pc5sec::sim {

namespace {

void add(pc5::CryptoOps& a, const pc5::CryptoOps& b) {
    a += b;
}
void add(std::array<AirCount, kAirKinds>& a, const std::array<AirCount, kAirKinds>& b) {
    for (std::size_t k = 0; k < kAirKinds; ++k) {
        a[k].frames += b[k].frames;
        a[k].bytes += b[k].bytes;
    }
}
void add(std::map<std::string, std::uint64_t>& a, const std::map<std::string, std::uint64_t>& b) {
    for (const auto& [k, v] : b)
        a[k] += v;
}

// ---- octets for MPI: little-endian integers, length-prefixed strings and sequences.
class Out {
  public:
    std::vector<std::uint8_t> bytes;
    void u(std::uint64_t v) {
        for (int i = 0; i < 8; ++i)
            bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void d(double v) {
        std::uint64_t x;
        std::memcpy(&x, &v, 8);
        u(x);
    }
    void t(pc5::Time v) { u(static_cast<std::uint64_t>(v.count())); }
    void s(std::string_view v) {
        u(v.size());
        bytes.insert(bytes.end(), v.begin(), v.end());
    }
    void b(std::span<const std::uint8_t> v) {
        u(v.size());
        bytes.insert(bytes.end(), v.begin(), v.end());
    }
    void ops(const pc5::CryptoOps& o) {
        for (auto v : {o.sign, o.verify, o.cert_verify, o.key_agreement, o.keygen, o.kdf})
            u(v);
    }
    void counts(const std::map<std::string, std::uint64_t>& m) {
        u(m.size());
        for (const auto& [k, v] : m) {
            s(k);
            u(v);
        }
    }
    void air(const std::array<AirCount, kAirKinds>& a) {
        for (const auto& c : a) {
            u(c.frames);
            u(c.bytes);
        }
    }
};

class In {
  public:
    explicit In(std::span<const std::uint8_t> b) : b_(b) {}
    bool ok() const { return ok_; }
    std::uint64_t u() {
        if (b_.size() < 8) return fail();
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v |= static_cast<std::uint64_t>(b_[static_cast<std::size_t>(i)]) << (8 * i);
        b_ = b_.subspan(8);
        return v;
    }
    double d() {
        const std::uint64_t x = u();
        double v;
        std::memcpy(&v, &x, 8);
        return v;
    }
    pc5::Time t() { return pc5::Time{static_cast<std::int64_t>(u())}; }
    std::string s() {
        const auto n = u();
        if (n > b_.size()) return fail(), std::string{};
        std::string v(b_.begin(), b_.begin() + static_cast<std::ptrdiff_t>(n));
        b_ = b_.subspan(n);
        return v;
    }
    std::vector<std::uint8_t> b() {
        const auto n = u();
        if (n > b_.size()) return fail(), std::vector<std::uint8_t>{};
        std::vector<std::uint8_t> v(b_.begin(), b_.begin() + static_cast<std::ptrdiff_t>(n));
        b_ = b_.subspan(n);
        return v;
    }
    pc5::CryptoOps ops() {
        pc5::CryptoOps o;
        for (auto* v : {&o.sign, &o.verify, &o.cert_verify, &o.key_agreement, &o.keygen, &o.kdf})
            *v = u();
        return o;
    }
    std::map<std::string, std::uint64_t> counts() {
        std::map<std::string, std::uint64_t> m;
        for (auto n = count(); n > 0; --n) {
            auto k = s();
            m[std::move(k)] = u();
        }
        return m;
    }
    void air(std::array<AirCount, kAirKinds>& a) {
        for (auto& c : a) {
            c.frames = u();
            c.bytes = u();
        }
    }
    // A count of items, each at least 8 octets: never more than what is left could hold.
    std::uint64_t count() {
        const auto n = u();
        return n <= b_.size() / 8 ? n : fail();
    }

  private:
    std::uint64_t fail() {
        ok_ = false;
        b_ = {};
        return 0;
    }
    std::span<const std::uint8_t> b_;
    bool ok_ = true;
};

constexpr std::uint64_t kMagic = 0x7063357461'6c6c79ull;  // "pc5tally"

}  // namespace

void Tally::merge(Tally&& o) {
    ues += o.ues;
    relays += o.relays;
    end_time = std::max(end_time, o.end_time);
    events += o.events;
    links.merge(o.links);  // link ids name their ends: no two zones share one
    pairs.insert(pairs.end(), std::make_move_iterator(o.pairs.begin()),
                 std::make_move_iterator(o.pairs.end()));
    for (const auto& [k, v] : o.messages) {
        messages[k].first += v.first;
        messages[k].second += v.second;
    }
    add(crypto, o.crypto);
    retransmissions += o.retransmissions;
    signalling_forwarded += o.signalling_forwarded;
    add(signalling_drops, o.signalling_drops);
    add(data_drops, o.data_drops);
    data_sent += o.data_sent;
    forwarded_l2 += o.forwarded_l2;
    forwarded_l3 += o.forwarded_l3;
    data_offered += o.data_offered;
    data_delivered += o.data_delivered;
    data_garbled += o.data_garbled;
    data_echoed += o.data_echoed;
    auto& m = medium;
    const auto& n = o.medium;
    m.frames += n.frames;
    m.bytes += n.bytes;
    m.lost += n.lost;
    m.duplicated += n.duplicated;
    m.reordered += n.reordered;
    m.corrupted += n.corrupted;
    m.undeliverable += n.undeliverable;
    m.injected += n.injected;
    m.tampered += n.tampered;
    m.crc_discarded += n.crc_discarded;
    m.link_retransmissions += n.link_retransmissions;
    add(air, o.air);
    for (std::size_t r = 0; r < kRoles; ++r) {
        add(air_by_role[r], o.air_by_role[r]);
        roles[r].ues += o.roles[r].ues;
        roles[r].pdcp += o.roles[r].pdcp;
        add(roles[r].crypto, o.roles[r].crypto);
        roles[r].cpu_us += o.roles[r].cpu_us;
        roles[r].longest_wait = std::max(roles[r].longest_wait, o.roles[r].longest_wait);
    }
    most_frames = std::max(most_frames, o.most_frames);
    over_bound.insert(over_bound.end(), o.over_bound.begin(), o.over_bound.end());
    auto& p = privacy;
    p.l2_ids += o.privacy.l2_ids;
    p.sess_ids += o.privacy.sess_ids;
    p.srap_ids += o.privacy.srap_ids;
    p.over += o.privacy.over;
    if (o.privacy.longest_s > p.longest_s) {
        p.longest_s = o.privacy.longest_s;
        p.longest = o.privacy.longest;
    }
    for (auto& f : o.privacy.failures)
        if (p.failures.size() < 8) p.failures.push_back(std::move(f));
    // A partitioned run has no attacker; an unpartitioned one has one tally.
    attacker |= o.attacker;
    for (auto& c : o.captures)
        captures.push_back(std::move(c));
    keylog += o.keylog;
    for (auto& k : o.long_term_keys)
        long_term_keys.push_back(std::move(k));
    processing |= o.processing;
    if (o.processing) costs = o.costs;
}

std::vector<std::uint8_t> Tally::serialize() const {
    Out w;
    w.u(kMagic);
    w.u(ues);
    w.u(relays);
    w.t(end_time);
    w.u(events);
    w.u(links.size());
    for (const auto& [id, r] : links) {
        w.s(r.id);
        w.s(r.initiator);
        w.s(r.peer);
        w.u(static_cast<std::uint64_t>(r.kind));
        w.u(static_cast<std::uint64_t>(r.solution));
        w.u(static_cast<std::uint64_t>(r.established) | static_cast<std::uint64_t>(r.failed) << 1 |
            static_cast<std::uint64_t>(r.released) << 2 |
            static_cast<std::uint64_t>(r.reused) << 3);
        w.u(r.rekeys);
        w.u(r.cause);
        w.s(r.reason);
        w.s(r.failed_at);
        w.u(r.knrp_id.value);
        w.u(r.knrp_sess_id.value);
        w.s(r.algorithms);
        w.s(r.security_note);
        w.d(r.latency_ms);
        w.u(r.fingerprints.size());
        for (const auto& [end, labels] : r.fingerprints) {
            w.s(end);
            w.u(labels.size());
            for (const auto& [label, value] : labels) {
                w.s(label);
                w.s(value);
            }
        }
    }
    w.u(pairs.size());
    for (const auto& p : pairs) {
        w.u(p.index);
        w.s(p.source);
        w.s(p.target);
        w.s(p.relay);
        w.u(static_cast<std::uint64_t>(p.settled) | static_cast<std::uint64_t>(p.ready) << 1);
        w.t(p.latency);
        w.u(p.delivered);
        w.u(p.echoed);
        w.s(p.diagram);
    }
    w.u(messages.size());
    for (const auto& [k, v] : messages) {
        w.s(k);
        w.u(v.first);
        w.u(v.second);
    }
    w.ops(crypto);
    w.u(retransmissions);
    w.u(signalling_forwarded);
    w.counts(signalling_drops);
    w.counts(data_drops);
    for (auto v : {data_sent, forwarded_l2, forwarded_l3, data_offered, data_delivered,
                   data_garbled, data_echoed})
        w.u(v);
    const auto& m = medium;
    for (auto v :
         {m.frames, m.bytes, m.lost, m.duplicated, m.reordered, m.corrupted, m.undeliverable,
          m.injected, m.tampered, m.crc_discarded, m.link_retransmissions})
        w.u(v);
    w.air(air);
    for (std::size_t r = 0; r < kRoles; ++r) {
        w.air(air_by_role[r]);
        w.u(roles[r].ues);
        w.u(roles[r].pdcp);
        w.ops(roles[r].crypto);
        w.d(roles[r].cpu_us);
        w.t(roles[r].longest_wait);
    }
    w.u(most_frames);
    w.u(over_bound.size());
    for (const auto& s : over_bound)
        w.s(s);
    for (auto v : {privacy.l2_ids, privacy.sess_ids, privacy.srap_ids, privacy.over})
        w.u(v);
    w.d(privacy.longest_s);
    w.s(privacy.longest);
    w.u(privacy.failures.size());
    for (const auto& s : privacy.failures)
        w.s(s);
    w.u(captures.size());
    for (const auto& c : captures)
        w.b(c);
    w.s(keylog);
    w.u(processing);
    for (auto v : {costs.sign_us, costs.verify_us, costs.cert_verify_us, costs.key_agreement_us,
                   costs.keygen_us, costs.kdf_us, costs.pdcp_us})
        w.d(v);
    return std::move(w.bytes);
}

Result<Tally> Tally::deserialize(std::span<const std::uint8_t> octets) {
    In r(octets);
    Tally t;
    if (r.u() != kMagic) return make_error(Errc::malformed, "tally", "not a pc5sec zone tally");
    t.ues = r.u();
    t.relays = r.u();
    t.end_time = r.t();
    t.events = r.u();
    for (auto n = r.count(); n > 0 && r.ok(); --n) {
        LinkRecord l;
        l.id = r.s();
        l.initiator = r.s();
        l.peer = r.s();
        // Enumerations within their values (another rank's octets may be damaged).
        const auto kind = r.u(), solution = r.u();
        if (kind > static_cast<std::uint64_t>(pc5::LinkKind::e2e) ||
            solution > static_cast<std::uint64_t>(pc5::Solution::b_hardened))
            return make_error(Errc::malformed, "tally", "a link's kind or solution is unknown");
        l.kind = static_cast<pc5::LinkKind>(kind);
        l.solution = static_cast<pc5::Solution>(solution);
        const auto flags = r.u();
        l.established = flags & 1;
        l.failed = flags & 2;
        l.released = flags & 4;
        l.reused = flags & 8;
        l.rekeys = static_cast<unsigned>(r.u());
        l.cause = static_cast<std::uint8_t>(r.u());
        l.reason = r.s();
        l.failed_at = r.s();
        l.knrp_id.value = static_cast<std::uint32_t>(r.u());
        l.knrp_sess_id.value = static_cast<std::uint16_t>(r.u());
        l.algorithms = r.s();
        l.security_note = r.s();
        l.latency_ms = r.d();
        for (auto e = r.count(); e > 0 && r.ok(); --e) {
            auto& labels = l.fingerprints[r.s()];
            for (auto k = r.count(); k > 0 && r.ok(); --k) {
                auto label = r.s();
                labels[std::move(label)] = r.s();
            }
        }
        auto id = l.id;
        t.links.emplace(std::move(id), std::move(l));
    }
    for (auto n = r.count(); n > 0 && r.ok(); --n) {
        Tally::PairResult p;
        p.index = r.u();
        p.source = r.s();
        p.target = r.s();
        p.relay = r.s();
        const auto flags = r.u();
        p.settled = flags & 1;
        p.ready = flags & 2;
        p.latency = r.t();
        p.delivered = r.u();
        p.echoed = r.u();
        p.diagram = r.s();
        t.pairs.push_back(std::move(p));
    }
    for (auto n = r.count(); n > 0 && r.ok(); --n) {
        auto k = r.s();
        auto& v = t.messages[std::move(k)];
        v.first = r.u();
        v.second = r.u();
    }
    t.crypto = r.ops();
    t.retransmissions = r.u();
    t.signalling_forwarded = r.u();
    t.signalling_drops = r.counts();
    t.data_drops = r.counts();
    for (auto* v : {&t.data_sent, &t.forwarded_l2, &t.forwarded_l3, &t.data_offered,
                    &t.data_delivered, &t.data_garbled, &t.data_echoed})
        *v = r.u();
    auto& m = t.medium;
    for (auto* v :
         {&m.frames, &m.bytes, &m.lost, &m.duplicated, &m.reordered, &m.corrupted, &m.undeliverable,
          &m.injected, &m.tampered, &m.crc_discarded, &m.link_retransmissions})
        *v = r.u();
    r.air(t.air);
    for (std::size_t k = 0; k < kRoles; ++k) {
        r.air(t.air_by_role[k]);
        t.roles[k].ues = r.u();
        t.roles[k].pdcp = r.u();
        t.roles[k].crypto = r.ops();
        t.roles[k].cpu_us = r.d();
        t.roles[k].longest_wait = r.t();
    }
    t.most_frames = static_cast<std::uint32_t>(r.u());
    for (auto n = r.count(); n > 0 && r.ok(); --n)
        t.over_bound.push_back(r.s());
    for (auto* v : {&t.privacy.l2_ids, &t.privacy.sess_ids, &t.privacy.srap_ids, &t.privacy.over})
        *v = r.u();
    t.privacy.longest_s = r.d();
    t.privacy.longest = r.s();
    for (auto n = r.count(); n > 0 && r.ok(); --n)
        t.privacy.failures.push_back(r.s());
    for (auto n = r.count(); n > 0 && r.ok(); --n)
        t.captures.push_back(r.b());
    t.keylog = r.s();
    t.processing = r.u() != 0;
    auto& c = t.costs;
    for (auto* v : {&c.sign_us, &c.verify_us, &c.cert_verify_us, &c.key_agreement_us, &c.keygen_us,
                    &c.kdf_us, &c.pdcp_us})
        *v = r.d();
    if (!r.ok()) return make_error(Errc::malformed, "tally", "truncated");
    return t;
}

std::vector<std::uint8_t> merge_captures(const std::vector<std::vector<std::uint8_t>>& parts) {
    std::vector<std::uint8_t> out = pcap::PcapWriter().bytes();  // the file header
    // Each part's records are in time order (PcapWriter, little-endian): a k-way merge by
    // (timestamp, part, position).
    const auto le32 = [](const std::uint8_t* p) {
        return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
               static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
    };
    struct Head {
        std::uint64_t ts;
        std::size_t part, at;
        bool operator>(const Head& o) const { return ts != o.ts ? ts > o.ts : part > o.part; }
    };
    std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
    const auto push = [&](std::size_t part, std::size_t at) {
        const auto& b = parts[part];
        if (at + 16 > b.size()) return;
        const std::uint8_t* p = b.data() + at;
        heads.push({static_cast<std::uint64_t>(le32(p)) * 1'000'000 + le32(p + 4), part, at});
    };
    std::size_t total = out.size();
    for (std::size_t i = 0; i < parts.size(); ++i) {
        total += parts[i].size();
        push(i, 0);
    }
    out.reserve(total);
    while (!heads.empty()) {
        const Head h = heads.top();
        heads.pop();
        const auto& b = parts[h.part];
        const std::size_t end = std::min(b.size(), h.at + 16 + le32(b.data() + h.at + 8));
        out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(h.at),
                   b.begin() + static_cast<std::ptrdiff_t>(end));
        push(h.part, end);
    }
    return out;
}

}  // namespace pc5sec::sim
