// Deciphering a capture with the key log alone (include/pc5sec/trace_decrypt.hpp). Independent
// of the user plane and the link engines on purpose: only the key log, the frame formats of
// docs/userplane.md / docs/pcap-format.md and the NEA/NIA contexts.
#include "pc5sec/trace_decrypt.hpp"

#include "pc5sec/discovery.hpp"
#include "pc5sec/request_privacy.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/count_window.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/keys.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/userplane.hpp"

namespace pc5sec::trace {

const char* name(PduKind k) noexcept {
    switch (k) {
        case PduKind::plaintext:
            return "plaintext";
        case PduKind::data:
            return "data";
        case PduKind::pc5s:
            return "pc5s";
        case PduKind::pc5s_clear:
            return "pc5s_clear";
        case PduKind::other:
            return "other";
    }
    return "?";
}

const char* name(Verdict v) noexcept {
    switch (v) {
        case Verdict::none:
            return "none";
        case Verdict::opened:
            return "opened";
        case Verdict::mac_bad:
            return "mac_bad";
        case Verdict::no_key:
            return "no_key";
        case Verdict::malformed:
            return "malformed";
    }
    return "?";
}

const char* name(MacCheck m) noexcept {
    switch (m) {
        case MacCheck::ok:
            return "ok";
        case MacCheck::bad:
            return "bad";
        case MacCheck::none:
            return "none";
        case MacCheck::zero:
            return "zero";
    }
    return "?";
}

const char* name(DirectionFrom d) noexcept {
    switch (d) {
        case DirectionFrom::mac:
            return "mac-i";
        case DirectionFrom::sender:
            return "sender";
        case DirectionFrom::header:
            return "header";
        case DirectionFrom::undecidable:
            return "undecidable";
    }
    return "?";
}

namespace {

constexpr std::size_t kDataHeader = 5;  // docs/userplane.md: KNRP-sess ID, D/C|R|SN (18 bits)
constexpr std::size_t kPdcpHeader = 4;  // include/pc5sec/pdcp.hpp: KNRP-sess ID, R|SN (12 bits)
constexpr std::size_t kMac = 4;         // MAC-I, 32 bits
constexpr std::size_t kSrapHeader = 3;  // include/pc5sec/srap.hpp
constexpr unsigned kDataSnBits = 18;
constexpr unsigned kPdcpSnBits = 12;
constexpr std::uint8_t kSrbSecurityMode = 1;  // SL-SRB1: the security mode command is not ciphered
constexpr std::uint8_t kSolutionBBearer = 2;  // sigauth's end-to-end PC5-S (SRAP bearer 2)
constexpr std::size_t kNoKeySet = static_cast<std::size_t>(-1);  // KNRP-sess ID 0

// One link's keys under one KNRP-sess ID, from the key log.
struct KeySet {
    std::string link_id;
    std::optional<std::uint16_t> id;
    std::optional<CipheringAlgorithm> ciphering;
    std::optional<IntegrityAlgorithm> integrity;
    std::optional<Nrpek> nrpek;
    std::optional<Nrpik> nrpik;
    std::optional<CipheringContext> cipher;  // built when ciphering != NEA0
    std::optional<IntegrityContext> integ;   // built when integrity != NIA0
    bool usable = false;
};

Error keylog_error(const pc5::KeyLogRecord& r, std::string message) {
    return make_error(Errc::malformed, fmt::format("key log {} {}", r.label, r.link_id),
                      std::move(message));
}

// Hex of a key-log value; the error never quotes the value (it may be a key).
Result<std::vector<std::uint8_t>> keylog_hex(const pc5::KeyLogRecord& r, std::size_t size) {
    auto b = from_hex(r.value);
    if (!b || b->size() != size)
        return keylog_error(r, fmt::format("expected {} hex digits", size * 2));
    return std::move(*b);
}

// Groups the key log's lines into key sets. Each end of a link writes KNRP_SESS_ID, ALGS,
// NRPEK, NRPIK; a re-keyed link writes them again under the same link id (docs/keylog.md). A
// line repeating the current set's value (the other end's copy) is skipped; a new value starts
// the next key set of the link.
Result<std::vector<KeySet>> key_sets(std::span<const pc5::KeyLogRecord> records) {
    std::vector<KeySet> sets;
    std::map<std::string, std::size_t> current;
    auto open = [&](const std::string& link) -> KeySet& {
        auto it = current.find(link);
        if (it == current.end()) {
            sets.emplace_back().link_id = link;
            it = current.emplace(link, sets.size() - 1).first;
        }
        return sets[it->second];
    };
    auto next = [&](const std::string& link) -> KeySet& {
        sets.emplace_back().link_id = link;
        current[link] = sets.size() - 1;
        return sets.back();
    };
    for (const auto& r : records) {
        if (r.label == "KNRP_SESS_ID") {
            auto b = keylog_hex(r, 2);
            if (!b) return b.error();
            const auto id = static_cast<std::uint16_t>((*b)[0] << 8 | (*b)[1]);
            KeySet* k = &open(r.link_id);
            if (k->id && *k->id == id) continue;
            if (k->id) k = &next(r.link_id);
            k->id = id;
        } else if (r.label == "ALGS") {
            const auto sp = r.value.find(' ');
            if (sp == std::string::npos)
                return keylog_error(r, "expected \"<ciphering-id> <integrity-id>\"");
            auto c = parse_uint(r.value.substr(0, sp), "ciphering", 15);
            auto i = parse_uint(r.value.substr(sp + 1), "integrity", 15);
            if (!c || !i) return keylog_error(r, "expected \"<ciphering-id> <integrity-id>\"");
            auto ca = ciphering_algorithm_from_id(*c, "ciphering");
            auto ia = integrity_algorithm_from_id(*i, "integrity");
            if (!ca) return keylog_error(r, ca.error().describe());
            if (!ia) return keylog_error(r, ia.error().describe());
            KeySet* k = &open(r.link_id);
            if (k->ciphering && *k->ciphering == *ca && *k->integrity == *ia) continue;
            if (k->ciphering) k = &next(r.link_id);
            k->ciphering = *ca;
            k->integrity = *ia;
        } else if (r.label == "NRPEK" || r.label == "NRPIK") {
            auto b = keylog_hex(r, 16);
            if (!b) return b.error();
            const std::span<const std::uint8_t, 16> bytes(b->data(), 16);
            KeySet* k = &open(r.link_id);
            if (r.label == "NRPEK") {
                Nrpek key(bytes);
                if (k->nrpek && *k->nrpek == key) continue;
                if (k->nrpek) k = &next(r.link_id);
                k->nrpek = key;
            } else {
                Nrpik key(bytes);
                if (k->nrpik && *k->nrpik == key) continue;
                if (k->nrpik) k = &next(r.link_id);
                k->nrpik = key;
            }
            detail::secure_wipe(b->data(), b->size());  // the key's copy
        }
    }
    for (auto& k : sets) {
        // A set can open PDUs when it has its ID, its algorithms and the keys they need.
        if (!k.id || !k.ciphering || !k.integrity) continue;
        if (*k.ciphering != CipheringAlgorithm::nea0) {
            if (!k.nrpek) continue;
            auto c = CipheringContext::create(*k.ciphering, *k.nrpek);
            if (!c) return make_error(Errc::malformed, "key log NRPEK " + k.link_id, "unusable");
            k.cipher.emplace(std::move(*c));
        }
        if (*k.integrity != IntegrityAlgorithm::nia0) {
            if (!k.nrpik) continue;
            auto i = IntegrityContext::create(*k.integrity, *k.nrpik);
            if (!i) return make_error(Errc::malformed, "key log NRPIK " + k.link_id, "unusable");
            k.integ.emplace(std::move(*i));
        }
        k.usable = true;
    }
    return sets;
}

// What one trial of (key set, DIRECTION, ciphering on/off) gave.
struct Trial {
    enum class Result : std::uint8_t { verified, bad, no_mac, failed } result = Result::failed;
    std::vector<std::uint8_t> payload;
    std::optional<Error> error;  // failed: the crypto refused the input (a length)
};

class Decipherer {
  public:
    explicit Decipherer(std::vector<KeySet> sets) : sets_(std::move(sets)) {}

    DecipheredFrame frame(const pcap::Frame& f, std::size_t index) {
        DecipheredFrame out;
        out.index = index;
        if ((f.header.flags & pcap::kFlagOnAir) == 0) {
            learn(f.header.hop, f.header.sender_l2_id, f.header.direction);
            return out;
        }
        // A version-2 header's DIRECTION also tells who sent as which end of the link (for
        // frames of the same hop whose header does not say: a relay's forwarded copies).
        if (auto d = direction_of(f)) learn(f.header.hop, f.header.sender_l2_id, *d);
        out.kind = PduKind::other;  // until the LCID / SRAP bearer says more
        const auto& m = f.message;
        const std::uint8_t lcid = f.header.lcid;
        if (lcid >= pc5::lcid::kFirstData && lcid <= pc5::lcid::kLastData) {
            // 3gpp-facts §4: on a hop or direct link BEARER is the 5 LSBs of the LCID.
            open_data(f, m, static_cast<std::uint8_t>(lcid & 0x1F), out);
        } else if (lcid == pc5::lcid::kEndToEnd) {
            end_to_end(f, out);
        } else if (lcid == pc5::lcid::kSrb1 || lcid == pc5::lcid::kSrb2) {
            open_pdcp(f, m, lcid, out);
        } else if (lcid == pc5::lcid::kSrb0) {
            open_srb0(f, m, out);  // never PDCP-protected (3gpp-facts §4)
        } else if (lcid == pc5::lcid::kDiscovery) {
            open_discovery(f, out);
        } else {
            out.kind = PduKind::other;
            out.body = m;
        }
        return out;
    }

    // Discovery material from the key log (DUSK / DUIK / DUCK / DISCOVERY_ALGS per RSC).
    void set_discovery(std::vector<discovery::Material> materials) {
        discovery_ = discovery::Security(std::move(materials));
    }

  private:
    using StateKey = std::tuple<std::size_t, std::uint8_t, std::uint8_t, bool>;

    // LCID 58: open discovery read as it is; restricted opened with the key log's material at
    // the frame's time (pc5sec/discovery.hpp). A counter and MIC opened twice: replayed.
    void open_discovery(const pcap::Frame& f, DecipheredFrame& out) {
        const auto& m = f.message;
        DiscoveryFrame d;
        out.kind = PduKind::other;
        out.body = m;
        if (m.size() < 1 + discovery::kTrailerSize + 1) {
            out.verdict = Verdict::malformed;
            out.error = make_error(Errc::malformed, "discovery",
                                   fmt::format("truncated: {} octets", m.size()));
            return;
        }
        d.counter_lsb = m[m.size() - discovery::kTrailerSize];
        std::copy(m.end() - 4, m.end(), d.mic.begin());
        d.restricted = discovery::restricted_on_air(m[0]);
        const auto at = discovery::UtcTime{} + std::chrono::microseconds(f.timestamp_us);
        auto opened = discovery_.open(m, at, false);
        if (opened) {
            d.opened = true;
            d.rsc = opened->rsc;
            d.counter = opened->counter;
            if (d.restricted) d.replayed = !discovery_seen_.insert({opened->counter, d.mic}).second;
            out.kind = PduKind::pc5s_clear;
            out.message = std::move(opened->plain);
        } else {
            d.why = opened.error().describe();
            out.verdict =
                opened.error().code == Errc::malformed || opened.error().code == Errc::unsupported
                    ? Verdict::malformed
                : discovery_.materials().empty() ? Verdict::no_key
                                                 : Verdict::mac_bad;
            if (out.verdict == Verdict::malformed) out.error = opened.error();
        }
        out.discovery = std::move(d);
    }

    discovery::Security discovery_;
    std::set<std::pair<std::uint32_t, std::array<std::uint8_t, 4>>> discovery_seen_;

    // SL-SRB0: the message as it is, or a concealed establishment request revealed with the key
    // log's material at any time (pc5sec/request_privacy.hpp).
    void open_srb0(const pcap::Frame& f, std::span<const std::uint8_t> m, DecipheredFrame& out) {
        out.kind = PduKind::pc5s_clear;
        if (!request_privacy::concealed(m)) {
            out.message.assign(m.begin(), m.end());
            return;
        }
        out.concealed = true;
        const auto at = discovery::UtcTime{} + std::chrono::microseconds(f.timestamp_us);
        auto r = request_privacy::reveal(discovery_, m, at, false);
        if (r && r->concealed) {
            out.message = std::move(r->plain);
            return;
        }
        out.kind = PduKind::other;
        out.body.assign(m.begin(), m.end());
        out.concealed_why = r ? "not concealed" : r.error().describe();
        out.verdict = r && !discovery_.materials().empty()      ? Verdict::mac_bad
                      : !r && r.error().code == Errc::malformed ? Verdict::malformed
                      : discovery_.materials().empty() || (!r && r.error().code == Errc::policy)
                          ? Verdict::no_key
                          : Verdict::mac_bad;
        if (out.verdict == Verdict::malformed) out.error = r.error();
    }

    // LCID 55: the relay's adaptation layer, SRAP (TS 38.351), in both solutions.
    void end_to_end(const pcap::Frame& f, DecipheredFrame& out) {
        const auto& m = f.message;
        DecipheredFrame srap = out;
        if (read_srap(m, srap)) {
            const auto inner = std::span(m).subspan(kSrapHeader);
            const std::uint8_t bearer = srap.srap->bearer;
            if (bearer >= pc5::lcid::kFirstData) {
                // 3gpp-facts §4: end to end, BEARER is the SRAP bearer ID of the data bearer.
                open_data(f, inner, bearer, srap);
            } else if (bearer == pc5::lcid::kSrb1 || bearer == pc5::lcid::kSrb2) {
                // 3gpp-facts §4: end to end, BEARER = 1/2 for SL-SRB1/2.
                open_pdcp(f, inner, bearer, srap);
            } else if (bearer == pc5::lcid::kSrb0) {
                // SL-SRB0: the message in clear (whether it decodes, the decoder tells).
                open_srb0(f, inner, srap);
            } else {
                srap.kind = PduKind::other;  // SRAP bearer 3: PC5-RRC
                srap.body.assign(inner.begin(), inner.end());
            }
        }
        out = std::move(srap);
    }

    static bool read_srap(std::span<const std::uint8_t> m, DecipheredFrame& out) {
        // TS 38.351 as include/pc5sec/srap.hpp frames it: D/C | R R | bearer ID, two local IDs.
        if (m.size() < kSrapHeader) {
            malformed(out, "srap.header",
                      fmt::format("an SRAP header has {} octets, got {}", kSrapHeader, m.size()));
            return false;
        }
        if ((m[0] & 0x80) == 0) {
            malformed(out, "srap.dc", "D/C is 0: only data PDUs are relayed (TS 38.351)");
            return false;
        }
        if ((m[0] & 0x60) != 0) {
            malformed(out, "srap.reserved", "reserved bits must be zero (TS 38.351)");
            return false;
        }
        out.srap = srap::Header{static_cast<std::uint8_t>(m[0] & 0x1F), m[1], m[2]};
        out.srap_dc = true;
        return true;
    }

    static void malformed(DecipheredFrame& out, std::string field, std::string why) {
        out.verdict = Verdict::malformed;
        out.error = make_error(Errc::malformed, std::move(field), std::move(why));
    }

    // A data PDU (docs/userplane.md, TS 38.323 6.2.2.2 with an 18-bit SN).
    void open_data(const pcap::Frame& f, std::span<const std::uint8_t> pdu, std::uint8_t bearer,
                   DecipheredFrame& out) {
        out.kind = PduKind::data;
        out.bearer = bearer;
        if (pdu.size() < kDataHeader) {
            malformed(out, "data.header",
                      fmt::format("a data PDU has a {}-octet header (TS 38.323 6.2.2.2), got {}",
                                  kDataHeader, pdu.size()));
            return;
        }
        out.knrp_sess_id = static_cast<std::uint16_t>(pdu[0] << 8 | pdu[1]);
        out.dc = (pdu[2] & 0x80) != 0;
        out.sn = static_cast<std::uint32_t>(pdu[2] & 0x03) << 16 |
                 static_cast<std::uint32_t>(pdu[3]) << 8 | pdu[4];
        out.body.assign(pdu.begin() + kDataHeader, pdu.end());
        if (!out.dc)  // TS 38.323 6.3.7: D/C = 0 is a control PDU, never a protected data PDU
            return malformed(out, "data.dc", "D/C is 0: not a data PDU (TS 38.323 6.3.7)");
        if ((pdu[2] & 0x7C) != 0)  // TS 38.323 6.3.8: R bits are zero
            return malformed(out, "data.reserved", "reserved bits must be zero (TS 38.323 6.3.8)");
        open(f, pdu.first(kDataHeader), bearer, false, out);
        // Solution B through a layer-3 relay: the end-to-end PDU inside the hop's IPv6 packet.
        if (carried_depth_ > 0 || out.verdict != Verdict::opened || out.openings.size() != 1 ||
            out.openings[0].mac == MacCheck::bad)
            return;
        auto ip = userplane::parse_l3_packet(out.openings[0].payload);
        if (!ip || ip->dst_port != userplane::kL3ProtectedPort) return;
        DecipheredFrame inner;
        inner.index = out.index;
        inner.kind = PduKind::data;
        ++carried_depth_;
        open_data(f, ip->data, bearer, inner);
        --carried_depth_;
        out.carried.push_back(std::move(inner));
    }

    // A PDCP-protected PC5-S PDU (include/pc5sec/pdcp.hpp, TS 38.323 6.2.2 with a 12-bit SN).
    void open_pdcp(const pcap::Frame& f, std::span<const std::uint8_t> pdu, std::uint8_t bearer,
                   DecipheredFrame& out) {
        out.kind = PduKind::pc5s;
        out.bearer = bearer;
        if (pdu.size() < kPdcpHeader + kMac) {
            malformed(out, "pdcp.header",
                      fmt::format("a protected PC5-S PDU has at least {} octets (header and "
                                  "MAC-I, TS 38.323 6.2.2), got {}",
                                  kPdcpHeader + kMac, pdu.size()));
            return;
        }
        out.knrp_sess_id = static_cast<std::uint16_t>(pdu[0] << 8 | pdu[1]);
        out.sn = static_cast<std::uint32_t>(pdu[2] & 0x0F) << 8 | pdu[3];
        out.body.assign(pdu.begin() + kPdcpHeader, pdu.end());
        if ((pdu[2] & 0xF0) != 0)  // TS 38.323 6.3.8: R bits are zero
            return malformed(out, "pdcp.reserved", "reserved bits must be zero (TS 38.323 6.3.8)");
        open(f, pdu.first(kPdcpHeader), bearer, true, out);
    }

    // Deciphers `body` and checks its MAC-I under one (key set, DIRECTION, COUNT, ciphering).
    static Trial trial(const KeySet* k, std::span<const std::uint8_t> header,
                       std::span<const std::uint8_t> body, const SecurityInput& in, bool cipher,
                       bool has_mac, const char* field) {
        Trial t;
        std::vector<std::uint8_t> plain(body.begin(), body.end());
        if (cipher && k && k->cipher) {  // TS 38.323 5.8: payload and MAC-I are ciphered
            if (auto st = k->cipher->apply(in, plain, plain, plain.size() * 8); !st) {
                t.error = make_error(Errc::malformed, std::string(field) + ".length",
                                     st.error().describe());
                return t;
            }
        }
        if (!has_mac) {
            t.result = Trial::Result::no_mac;
            t.payload = std::move(plain);
            return t;
        }
        MacI mac{};
        std::copy(plain.end() - kMac, plain.end(), mac.begin());
        plain.resize(plain.size() - kMac);
        if (k && k->integ) {
            // TS 38.323 5.9: the MAC-I covers the header and the payload (before ciphering).
            std::vector<std::uint8_t> msg(header.begin(), header.end());
            msg.insert(msg.end(), plain.begin(), plain.end());
            auto st = k->integ->verify(in, msg, msg.size() * 8, mac);
            if (!st && st.error().code != Errc::verification_failed) {
                t.error = make_error(Errc::malformed, std::string(field) + ".length",
                                     st.error().describe());
                return t;
            }
            t.result = st ? Trial::Result::verified : Trial::Result::bad;
        } else {
            // TS 33.501 D.1: NIA0's MAC-I is 32 zero bits.
            t.result = mac == MacI{} ? Trial::Result::verified : Trial::Result::bad;
        }
        t.payload = std::move(plain);
        return t;
    }

    std::uint32_t& rx_deliv(std::size_t set, std::uint8_t bearer, std::uint8_t dir, bool pdcp) {
        return rx_[StateKey{set, bearer, dir, pdcp}];
    }

    // A receiver's RX_DELIV after it accepted `count` (TS 38.323 5.2.2.2, the highest + 1).
    void accept(std::size_t set, std::uint8_t bearer, std::uint8_t dir, bool pdcp,
                std::uint32_t count) {
        auto& r = rx_deliv(set, bearer, dir, pdcp);
        if (count >= r && count != UINT32_MAX) r = count + 1;
    }

    Opening opening(std::size_t set, std::uint32_t count, std::uint8_t dir, bool deciphered,
                    MacCheck mac, std::vector<std::uint8_t> payload) const {
        Opening o;
        if (set != kNoKeySet) {
            o.link_id = sets_[set].link_id;
            o.ciphering = *sets_[set].ciphering;
            o.integrity = *sets_[set].integrity;
        }
        o.count = count;
        o.direction = dir;
        o.deciphered = deciphered;
        o.mac = mac;
        o.payload = std::move(payload);
        return o;
    }

    // Finds the key set, DIRECTION and COUNT that open the PDU.
    void open(const pcap::Frame& f, std::span<const std::uint8_t> header, std::uint8_t bearer,
              bool pdcp, DecipheredFrame& out) {
        const char* field = pdcp ? "pdcp" : "data";
        const unsigned sn_bits = pdcp ? kPdcpSnBits : kDataSnBits;
        std::vector<std::size_t> candidates;
        if (out.knrp_sess_id != 0) {
            for (std::size_t i = 0; i < sets_.size(); ++i)
                if (sets_[i].usable && *sets_[i].id == out.knrp_sess_id) candidates.push_back(i);
            if (candidates.empty()) {  // 3gpp-facts §4: the KNRP-sess ID selects the keys
                out.verdict = Verdict::no_key;
                return;
            }
        } else {
            // KNRP-sess ID 0 is no security (3gpp-facts §2): a data PDU is clear with no MAC-I;
            // PC5-S keeps a zero MAC-I (TS 33.501 D.1), unless the key log has a set for it.
            for (std::size_t i = 0; i < sets_.size(); ++i)
                if (sets_[i].usable && *sets_[i].id == 0 && pdcp) candidates.push_back(i);
            if (candidates.empty()) candidates.push_back(kNoKeySet);
        }
        // Trials: each key set, ciphering on (then off for SL-SRB1, whose security mode command
        // is not ciphered, and for data whose policy turned ciphering off), DIRECTION 0 and 1,
        // or only the DIRECTION a version-2 frame header gives.
        const std::optional<std::uint8_t> header_dir = direction_of(f);
        std::optional<std::size_t> no_mac_set;  // a set under which DIRECTION is not decidable
        bool no_mac_cipher = false;             // ... and whether it deciphers
        bool tried = false;
        for (const std::size_t s : candidates) {
            const KeySet* k = s == kNoKeySet ? nullptr : &sets_[s];
            const bool has_cipher = k && k->cipher;
            // A data PDU has a MAC-I only when integrity is on: never with NIA0 or ID 0 (docs/
            // userplane.md); a PC5-S PDU always has one (include/pc5sec/pdcp.hpp).
            const bool has_mac = pdcp || (k && k->integ);
            if (has_mac && out.body.size() < kMac) continue;
            tried = true;
            std::vector<bool> ciphers;
            if (has_cipher) ciphers.push_back(true);
            // Solution B's re-keying command travels end to end integrity-only (SRAP bearer 2:
            // docs/solution-b.md "Re-keying").
            if (!has_cipher || !pdcp || bearer == kSrbSecurityMode || bearer == kSolutionBBearer)
                ciphers.push_back(false);
            const bool mac_tells = k && k->integ;
            for (const bool cipher : ciphers) {
                // Without NIA the zero MAC-I depends on DIRECTION only through the keystream.
                const bool direction_matters = mac_tells || (cipher && has_cipher && has_mac);
                if (!direction_matters) {
                    Trial t = trial(k, header, out.body, SecurityInput{0, bearer, 0}, cipher,
                                    has_mac, field);
                    if (t.error) {
                        out.verdict = Verdict::malformed;
                        out.error = t.error;
                        return;
                    }
                    if (t.result != Trial::Result::bad) {
                        no_mac_set = s;
                        no_mac_cipher = cipher && has_cipher;
                        break;
                    }
                    continue;
                }
                for (std::uint8_t d = 0; d < 2; ++d) {
                    if (header_dir && *header_dir != d) continue;  // the frame header says
                    const std::uint32_t count = ::pc5sec::pdcp::receive_count(
                        rx_deliv(s, bearer, d, pdcp), out.sn, sn_bits);
                    Trial t = trial(k, header, out.body, SecurityInput{count, bearer, d}, cipher,
                                    has_mac, field);
                    if (t.error) {
                        out.verdict = Verdict::malformed;
                        out.error = t.error;
                        return;
                    }
                    if (t.result != Trial::Result::verified) continue;
                    // TS 33.536 5.3.3.1.4: the MAC-I verified under this DIRECTION and COUNT.
                    accept(s, bearer, d, pdcp, count);
                    out.verdict = Verdict::opened;
                    out.direction_from = header_dir ? DirectionFrom::header : DirectionFrom::mac;
                    out.openings.push_back(opening(s, count, d, cipher && has_cipher,
                                                   mac_tells ? MacCheck::ok : MacCheck::zero,
                                                   std::move(t.payload)));
                    out.openings.back().replayed =
                        !opened_
                             .insert({StateKey{s, bearer, d, pdcp}, count, f.header.sender_l2_id,
                                      f.header.receiver_l2_id})
                             .second;
                    learn(f.header.hop, f.header.sender_l2_id, d);
                    return;
                }
            }
            if (no_mac_set) break;
        }
        if (!tried) {  // TS 38.323 6.3.4: the MAC-I has 32 bits
            malformed(out, std::string(field) + ".mac_i",
                      fmt::format("{} octets after the header: too short for the 4-octet MAC-I",
                                  out.body.size()));
            return;
        }
        const auto d = header_dir ? header_dir : infer(f);
        out.direction_from = header_dir ? DirectionFrom::header
                             : d        ? DirectionFrom::sender
                                        : DirectionFrom::undecidable;
        if (no_mac_set) {
            // No MAC-I decides DIRECTION: which UE sent it, or both decipherings.
            const std::size_t s = *no_mac_set;
            const KeySet* k = s == kNoKeySet ? nullptr : &sets_[s];
            const bool has_mac = pdcp || (k && k->integ);
            out.verdict = Verdict::opened;
            for (std::uint8_t dir = 0; dir < 2; ++dir) {
                if (d && *d != dir) continue;
                const std::uint32_t count =
                    ::pc5sec::pdcp::receive_count(rx_deliv(s, bearer, dir, pdcp), out.sn, sn_bits);
                Trial t = trial(k, header, out.body, SecurityInput{count, bearer, dir},
                                no_mac_cipher, has_mac, field);
                accept(s, bearer, dir, pdcp, count);
                out.openings.push_back(opening(s, count, dir, no_mac_cipher,
                                               has_mac ? MacCheck::zero : MacCheck::none,
                                               std::move(t.payload)));
            }
            return;
        }
        // No trial verified (TS 33.536 5.3.3.1.4: a receiver discards the PDU). Shown deciphered
        // under the sender's DIRECTION, or both, with the MAC-I BAD.
        std::size_t s = candidates.front();
        for (const std::size_t c : candidates)
            if (c != kNoKeySet && (pdcp || sets_[c].integ) && out.body.size() >= kMac) {
                s = c;
                break;
            }
        const KeySet* k = s == kNoKeySet ? nullptr : &sets_[s];
        const bool has_mac = (pdcp || (k && k->integ)) && out.body.size() >= kMac;
        const bool cipher = k && k->cipher;
        out.verdict = Verdict::mac_bad;
        for (std::uint8_t dir = 0; dir < 2; ++dir) {
            if (d && *d != dir) continue;
            const std::uint32_t count =
                ::pc5sec::pdcp::receive_count(rx_deliv(s, bearer, dir, pdcp), out.sn, sn_bits);
            Trial t = trial(k, header, out.body, SecurityInput{count, bearer, dir}, cipher, has_mac,
                            field);
            out.openings.push_back(
                opening(s, count, dir, cipher, MacCheck::bad, std::move(t.payload)));
        }
    }

    // Which end sent a frame, from what the plaintext PC5-S frames said (3gpp-facts §4: DIRECTION
    // 0 for the link's initiator) and from PDUs whose MAC-I already decided it.
    void learn(std::uint8_t hop, pc5::L2Id sender, std::uint8_t dir) {
        if (hop == 0 || dir > 1) return;
        by_hop_[hop][dir].insert(sender);
        global_[dir].insert(sender);
    }

    // A version-2 frame header carries the PDU's DIRECTION (docs/pcap-format.md); a relay's
    // forwarded copy, or a version-1 capture, does not.
    static std::optional<std::uint8_t> direction_of(const pcap::Frame& f) {
        if (f.header.version >= 2 && f.header.direction <= 1) return f.header.direction;
        return std::nullopt;
    }

    std::optional<std::uint8_t> infer(const pcap::Frame& f) const {
        auto pick =
            [&](const std::array<std::set<pc5::L2Id>, 2>& s) -> std::optional<std::uint8_t> {
            const bool s0 = s[0].contains(f.header.sender_l2_id);
            const bool s1 = s[1].contains(f.header.sender_l2_id);
            if (s0 != s1) return s0 ? 0 : 1;
            // A frame to the UE that only ever sends as the peer comes from the initiator.
            const bool r0 = s[0].contains(f.header.receiver_l2_id);
            const bool r1 = s[1].contains(f.header.receiver_l2_id);
            if (r0 != r1) return r1 ? 0 : 1;
            return std::nullopt;
        };
        if (auto it = by_hop_.find(f.header.hop); f.header.hop != 0 && it != by_hop_.end())
            if (auto d = pick(it->second)) return d;
        return pick(global_);
    }

    std::vector<KeySet> sets_;
    unsigned carried_depth_ = 0;  // one end-to-end PDU inside a hop's, never deeper
    std::map<StateKey, std::uint32_t> rx_;
    std::map<std::uint8_t, std::array<std::set<pc5::L2Id>, 2>> by_hop_;
    // Every (key set, bearer, DIRECTION, PC5-S?) COUNT whose MAC-I verified, with the frame's
    // sender and receiver L2 IDs: a second one is a replay (Opening::replayed).
    std::set<std::tuple<StateKey, std::uint32_t, pc5::L2Id, pc5::L2Id>> opened_;
    std::array<std::set<pc5::L2Id>, 2> global_;
};

}  // namespace

struct CaptureDecipherer::Impl {
    Decipherer d;
    std::size_t index = 0;
};

Result<CaptureDecipherer> CaptureDecipherer::create(std::span<const pc5::KeyLogRecord> keylog) {
    auto sets = key_sets(keylog);
    if (!sets) return sets.error();
    auto materials = discovery::materials_from_key_log(keylog);
    if (!materials) return materials.error();
    auto impl = std::make_unique<Impl>(Impl{Decipherer(std::move(*sets)), 0});
    impl->d.set_discovery(std::move(*materials));
    return CaptureDecipherer(std::move(impl));
}
CaptureDecipherer::CaptureDecipherer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CaptureDecipherer::CaptureDecipherer(CaptureDecipherer&&) noexcept = default;
CaptureDecipherer& CaptureDecipherer::operator=(CaptureDecipherer&&) noexcept = default;
CaptureDecipherer::~CaptureDecipherer() = default;

DecipheredFrame CaptureDecipherer::frame(const pcap::Frame& f) {
    return impl_->d.frame(f, ++impl_->index);
}

Result<std::vector<DecipheredFrame>> decipher_capture(std::span<const pcap::Frame> frames,
                                                      std::span<const pc5::KeyLogRecord> keylog) {
    auto d = CaptureDecipherer::create(keylog);
    if (!d) return d.error();
    std::vector<DecipheredFrame> out;
    out.reserve(frames.size());
    for (const auto& f : frames)
        out.push_back(d->frame(f));
    return out;
}

}  // namespace pc5sec::trace
