// UE-to-UE relay discovery, Model A and Model B, and its protection (pc5sec/discovery.hpp).
#include "pc5sec/discovery.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/secret.hpp"

namespace pc5sec::discovery {

namespace {

using codec::MessageType;

// Replay cache: opened restricted messages, at most this many (older ones fall out, and a
// message older than the window is refused by its counter anyway).
constexpr std::size_t kSeenMax = 1024;

codec::Octets octets_of(std::string_view s) {
    return codec::Octets{
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())};
}
std::string string_of(const codec::Octets& o) {
    return {o.bytes.begin(), o.bytes.end()};
}
std::array<std::uint8_t, 4> be32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}
std::string hex_rsc(std::uint32_t rsc) {
    return fmt::format("0x{:06x}", rsc);
}

}  // namespace

std::optional<std::uint32_t> rsc_of(const codec::Message& m) {
    return std::visit(
        [](const auto& x) -> std::optional<std::uint32_t> {
            using M = std::decay_t<decltype(x)>;
            if constexpr (codec::is_discovery(M::kType))
                return x.relay_service_code.value;
            else
                return std::nullopt;
        },
        m);
}

namespace {

// A restricted discovery type octet as the air carries it: TS 33.503's scrambling XORs 0xFFFF
// into the first 16 bits, so its first octet is the complement of the type.
bool is_restricted_type(std::uint8_t octet) {
    return codec::is_discovery(static_cast<MessageType>(octet));
}

// XOR (0xFFFF || time-hash-bitsequence) into the first L + 16 bits of `pdu` (TS 33.303
// 6.1.3.4.3.5 step 3 as TS 33.503 6.1.3.2 changes it). Its own inverse.
void scramble(std::span<std::uint8_t> pdu, const Dusk& dusk, std::uint32_t counter) {
    const std::size_t l_octets = std::min<std::size_t>(pdu.size() - 2, 32);
    pdu[0] ^= 0xFF;
    pdu[1] ^= 0xFF;
    const auto ks = time_hash_bitsequence(dusk, counter, l_octets);
    for (std::size_t i = 0; i < l_octets; ++i)
        pdu[2 + i] ^= ks[i];
}

// 128-NEA over the message-specific part (octets 1 .. size - trailer) (TS 33.503 A.7).
Status cipher(std::span<std::uint8_t> pdu, const Material& m, std::uint32_t counter,
              const MacI& mic) {
    const std::size_t len = pdu.size() - 1 - kTrailerSize;
    if (len == 0) return {};
    const auto key = confidentiality_key(m.duck, counter, mic);
    auto ctx = CipheringContext::create(m.nea, key.reveal());
    if (!ctx) return std::move(ctx).error();
    auto part = pdu.subspan(1, len);
    return ctx->apply(SecurityInput{counter, 0, 0}, part, part, len * 8);
}

// 128-NIA over the message type, the message-specific part and the counter LSB (TS 33.503 A.6).
Result<MacI> mic_of(std::span<const std::uint8_t> plain_with_lsb, const Material& m,
                    std::uint32_t counter) {
    auto ctx = IntegrityContext::create(m.nia, m.duik.reveal());
    if (!ctx) return std::move(ctx).error();
    return ctx->compute(SecurityInput{counter, 0, 0}, plain_with_lsb, plain_with_lsb.size() * 8);
}

std::int64_t distance(std::uint32_t a, std::uint32_t b) {
    return std::abs(static_cast<std::int64_t>(static_cast<std::int32_t>(a - b)));
}

// The counter whose LSB is `lsb` nearest `mine`.
std::uint32_t counter_from_lsb(std::uint32_t mine, std::uint8_t lsb) {
    const std::uint32_t base = (mine & ~0xFFu) | lsb;
    std::uint32_t best = base;
    for (std::uint32_t c : {base - 0x100u, base + 0x100u})
        if (distance(c, mine) < distance(best, mine)) best = c;
    return best;
}

}  // namespace

const char* name(Model m) noexcept {
    return m == Model::a ? "A" : "B";
}

bool restricted_on_air(std::uint8_t first_octet) noexcept {
    return is_restricted_type(static_cast<std::uint8_t>(~first_octet));
}

std::uint32_t utc_counter(UtcTime t) noexcept {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(s));
}

std::vector<std::uint8_t> time_hash_bitsequence(const Dusk& dusk, std::uint32_t counter,
                                                std::size_t octets) {
    const auto p0 = be32(counter & ~0xFu);  // TS 33.303 A.5: the 4 LSBs set to 0
    const auto out = kdf(dusk.reveal(), fc::kScrambling, {p0});
    octets = std::min<std::size_t>(octets, 32);
    const auto bytes = out.reveal();
    return {bytes.end() - static_cast<std::ptrdiff_t>(octets), bytes.end()};  // the L LSBs
}

Key128 confidentiality_key(const Duck& duck, std::uint32_t counter, const MacI& mic) {
    const auto p0 = be32(counter);
    const auto out = kdf(duck.reveal(), fc::kConfidentiality, {p0, mic});
    return *Key128::from_bytes(out.reveal().subspan<16, 16>());
}

Status check_materials(const std::vector<Material>& materials) {
    for (std::size_t i = 0; i < materials.size(); ++i) {
        const auto rsc = materials[i].rsc;
        if (rsc == 0 || rsc > 0xFFFFFF)
            return make_error(Errc::invalid_argument, "discovery_material",
                              fmt::format("RSC {} is not 1..0xffffff", rsc));
        for (std::size_t j = 0; j < i; ++j)
            if (materials[j].rsc == rsc)
                return make_error(Errc::invalid_argument, "discovery_material",
                                  fmt::format("two materials for RSC {}", hex_rsc(rsc)));
    }
    return {};
}

pc5::DropReason drop_reason(const Error& e) noexcept {
    if (e.code == Errc::malformed || e.code == Errc::unsupported) return pc5::DropReason::malformed;
    if (e.message.starts_with("replayed")) return pc5::DropReason::replay;
    return pc5::DropReason::bad_mac;
}

Result<codec::Message> Opened::message() const {
    return codec::decode(plain);
}

Security::Security(std::vector<Material> material) : material_(std::move(material)) {}

const Material* Security::material(std::uint32_t rsc) const noexcept {
    for (const auto& m : material_)
        if (m.rsc == rsc) return &m;
    return nullptr;
}

Status Security::check_valid(std::uint32_t rsc, UtcTime now) const {
    const Material* m = material(rsc);
    if (!m) return {};
    if (now >= m->valid_until)
        return make_error(Errc::policy,
                          fmt::format("discovery material for RSC {}: valid_until", hex_rsc(rsc)),
                          "the material has expired: out of coverage it cannot be renewed "
                          "(provision the UE again in coverage)");
    if (now < m->valid_from)
        return make_error(Errc::policy,
                          fmt::format("discovery material for RSC {}: valid_from", hex_rsc(rsc)),
                          "the material is not valid yet");
    return {};
}

Result<std::vector<std::uint8_t>> Security::seal(const codec::Message& msg, std::uint32_t rsc,
                                                 UtcTime now) const {
    auto encoded = codec::encode(msg);
    if (!encoded) return std::move(encoded).error();
    std::vector<std::uint8_t> pdu = std::move(*encoded);
    const std::uint32_t counter = utc_counter(now);
    const Material* m = material(rsc);
    if (!m) {
        // Open discovery: discovery type 01, counter LSB, MIC all zero (no DUIK).
        pdu[0] = static_cast<std::uint8_t>((pdu[0] & ~kDiscoveryTypeMask) | kOpen);
        pdu.push_back(static_cast<std::uint8_t>(counter));
        pdu.insert(pdu.end(), 4, 0);
        return pdu;
    }
    PC5SEC_TRY(check_valid(rsc, now));
    pdu.push_back(static_cast<std::uint8_t>(counter));
    auto mic = mic_of(pdu, *m, counter);
    if (!mic) return std::move(mic).error();
    pdu.insert(pdu.end(), mic->begin(), mic->end());
    PC5SEC_TRY(cipher(pdu, *m, counter, *mic));
    scramble(pdu, m->dusk, counter);
    return pdu;
}

Result<Opened> Security::open(std::span<const std::uint8_t> pdu, UtcTime now, bool drop_replays) {
    if (pdu.size() < 1 + kTrailerSize + 1)
        return make_error(Errc::malformed, "discovery message",
                          fmt::format("truncated: {} octets, at least {} (message type, a field, "
                                      "UTC-based counter LSB and MIC)",
                                      pdu.size(), 2 + kTrailerSize));
    const std::uint8_t first = pdu[0];
    if (is_restricted_type(static_cast<std::uint8_t>(~first)))
        return open_restricted(pdu, now, drop_replays);
    const auto as_restricted =
        static_cast<std::uint8_t>((first & ~kDiscoveryTypeMask) | kRestricted);
    if ((first & kDiscoveryTypeMask) != kOpen || !is_restricted_type(as_restricted))
        return make_error(Errc::unsupported, "discovery message.message_type",
                          fmt::format("0x{:02x} is no UE-to-UE relay discovery message type, open "
                                      "or restricted (TS 24.554 11.2.1)",
                                      first));
    Opened o;
    o.plain.assign(pdu.begin(), pdu.end() - kTrailerSize);
    o.plain[0] = as_restricted;
    o.counter = utc_counter(now);
    auto msg = o.message();
    if (!msg) return std::move(msg).error();
    o.rsc = *rsc_of(*msg);
    if (material(o.rsc))
        return make_error(Errc::policy, "discovery message.discovery_type",
                          fmt::format("open discovery for RSC {}, whose discovery this UE "
                                      "protects: refused (a downgrade)",
                                      hex_rsc(o.rsc)));
    return o;
}

Result<Opened> Security::open_restricted(std::span<const std::uint8_t> pdu, UtcTime now,
                                         bool drop_replays) {
    const std::uint32_t mine = utc_counter(now);
    const auto window = static_cast<std::int64_t>(kMaxOffset.count());
    std::optional<Error> expired;
    bool in_window = false;
    for (const auto& m : material_) {
        if (auto st = check_valid(m.rsc, now); !st) {
            if (!expired) expired = std::move(st).error();
            continue;
        }
        // The scrambling blocks the sender's counter may lie in: ours and the window's ends.
        std::vector<std::uint32_t> blocks;
        for (std::int64_t d : {std::int64_t{0}, -window, window}) {
            const auto b = static_cast<std::uint32_t>(mine + static_cast<std::uint32_t>(d)) & ~0xFu;
            if (std::find(blocks.begin(), blocks.end(), b) == blocks.end()) blocks.push_back(b);
        }
        for (std::uint32_t block : blocks) {
            std::vector<std::uint8_t> x(pdu.begin(), pdu.end());
            scramble(x, m.dusk, block);
            const std::size_t n = x.size();
            const std::uint32_t counter = counter_from_lsb(mine, x[n - kTrailerSize]);
            if ((counter & ~0xFu) != block || distance(counter, mine) > window) continue;
            in_window = true;
            MacI mic{};
            std::copy(x.end() - 4, x.end(), mic.begin());
            if (auto st = cipher(x, m, counter, mic); !st) return std::move(st).error();
            auto want = mic_of(std::span<const std::uint8_t>(x).first(n - 4), m, counter);
            if (!want || !detail::constant_time_equal(want->data(), mic.data(), mic.size()))
                continue;  // compared in constant time, as every MAC-I is
            Opened o;
            o.plain.assign(x.begin(), x.end() - kTrailerSize);
            o.restricted = true;
            o.counter = counter;
            auto msg = o.message();
            if (!msg) return std::move(msg).error();
            const auto rsc = rsc_of(*msg);
            if (!rsc || *rsc != m.rsc)
                return make_error(Errc::verification_failed, "discovery message.relay_service_code",
                                  fmt::format("protected under RSC {}'s material but names "
                                              "another RSC",
                                              hex_rsc(m.rsc)));
            o.rsc = *rsc;
            if (!drop_replays) return o;
            // Replay inside the window: the same counter and MIC opened before.
            while (!seen_.empty() &&
                   (distance(seen_.front().counter, mine) > window || seen_.size() >= kSeenMax))
                seen_.pop_front();
            for (const auto& s : seen_)
                if (s.counter == counter && s.mic == mic)
                    return make_error(Errc::verification_failed, "discovery message.MIC",
                                      fmt::format("replayed: counter {} and this MIC were "
                                                  "opened before",
                                                  counter));
            seen_.push_back(Seen{counter, mic});
            return o;
        }
    }
    if (expired && material_.size() == 1) return std::move(*expired);
    if (material_.empty())
        return make_error(Errc::verification_failed, "discovery message",
                          "restricted discovery, and this UE holds no discovery material: it "
                          "can neither read nor check it");
    return make_error(Errc::verification_failed, "discovery message.MIC",
                      fmt::format("no discovery material of this UE opens it within the UTC-based "
                                  "counter window of ±{} s{}: forged, replayed from outside the "
                                  "window, or another RSC's",
                                  window, in_window ? " (MIC mismatch)" : ""));
}

void log_material(pc5::KeyLogSink& sink, const Material& m) {
    const std::string id = fmt::format("rsc-0x{:06x}", m.rsc);
    sink.bytes("DUSK", id, m.dusk.reveal());
    sink.bytes("DUIK", id, m.duik.reveal());
    sink.bytes("DUCK", id, m.duck.reveal());
    sink.record(pc5::KeyLogRecord{
        "DISCOVERY_ALGS", id,
        fmt::format("{} {}", static_cast<unsigned>(m.nea), static_cast<unsigned>(m.nia))});
}

Result<std::vector<Material>> materials_from_key_log(std::span<const pc5::KeyLogRecord> records) {
    struct Partial {
        Material m;
        unsigned have = 0;  // bits: DUSK, DUIK, DUCK, ALGS
    };
    std::map<std::uint32_t, Partial> by_rsc;
    for (const auto& r : records) {
        const unsigned bit = r.label == "DUSK"             ? 1
                             : r.label == "DUIK"           ? 2
                             : r.label == "DUCK"           ? 4
                             : r.label == "DISCOVERY_ALGS" ? 8
                                                           : 0;
        if (!bit) continue;
        const std::string field = fmt::format("key log {} (a discovery record)", r.label);
        std::uint32_t rsc = 0;
        if (!r.link_id.starts_with("rsc-0x") || r.link_id.size() != 12)
            return make_error(Errc::malformed, field, "its id must be rsc-0x<6 hex digits>");
        auto v = parse_uint(r.link_id.substr(4), field, 0xFFFFFF);
        if (!v || *v == 0) return make_error(Errc::malformed, field, "an RSC is 1..0xffffff");
        rsc = static_cast<std::uint32_t>(*v);
        auto& p = by_rsc[rsc];
        p.m.rsc = rsc;
        p.have |= bit;
        if (bit == 8) {
            unsigned c = 0, i = 0;
            if (std::sscanf(r.value.c_str(), "%u %u", &c, &i) != 2 || c < 1 || c > 3 || i < 1 ||
                i > 3)
                return make_error(Errc::malformed, field, "must be \"<nea 1-3> <nia 1-3>\"");
            p.m.nea = static_cast<CipheringAlgorithm>(c);
            p.m.nia = static_cast<IntegrityAlgorithm>(i);
            continue;
        }
        auto bytes = from_hex(r.value, field);
        if (!bytes) return make_error(Errc::malformed, field, "not hex");
        Status st;
        if (bit == 1) {
            auto k = Dusk::from_bytes(*bytes, field);
            if (k)
                p.m.dusk = *k;
            else
                st = std::move(k).error();
        } else if (bit == 2) {
            auto k = Duik::from_bytes(*bytes, field);
            if (k)
                p.m.duik = *k;
            else
                st = std::move(k).error();
        } else {
            auto k = Duck::from_bytes(*bytes, field);
            if (k)
                p.m.duck = *k;
            else
                st = std::move(k).error();
        }
        std::fill(bytes->begin(), bytes->end(), 0);
        if (!st) return make_error(Errc::malformed, field, "wrong length");
    }
    std::vector<Material> out;
    for (auto& [rsc, p] : by_rsc) {
        if (p.have != 15)
            return make_error(Errc::malformed, fmt::format("key log rsc-0x{:06x}", rsc),
                              "discovery material needs DUSK, DUIK, DUCK and DISCOVERY_ALGS");
        p.m.valid_from = UtcTime{};
        p.m.valid_until = UtcTime::max();
        out.push_back(std::move(p.m));
    }
    return out;
}

Result<pc5::Frame> frame(const Security& security, UtcTime now, pc5::L2Id self, pc5::L2Id dst,
                         std::uint32_t rsc, const codec::Message& m) {
    auto pdu = security.seal(m, rsc, now);
    if (!pdu) return std::move(pdu).error();
    return pc5::Frame{self, dst, pc5::lcid::kDiscovery, std::move(*pdu), nullptr};
}

Result<pc5::Frame> solicitation(const Security& security, UtcTime now, pc5::L2Id self,
                                std::uint32_t rsc, std::string_view discoverer,
                                std::string_view target) {
    codec::U2uRelayDiscoverySolicitation s;
    s.relay_service_code = codec::RelayServiceCode{rsc};
    s.discoverer_user_info = octets_of(discoverer);
    s.target_user_info = octets_of(target);
    return frame(security, now, self, pc5::kBroadcastL2Id, rsc, s);
}

Result<pc5::Frame> announcement(const Security& security, UtcTime now, pc5::L2Id self,
                                std::uint32_t rsc, std::string_view relay) {
    codec::U2uRelayDiscoveryAnnouncement a;
    a.relay_service_code = codec::RelayServiceCode{rsc};
    a.relay_user_info = octets_of(relay);
    return frame(security, now, self, pc5::kBroadcastL2Id, rsc, a);
}

std::optional<Result<pc5::Frame>> answer(const Security& security, UtcTime now,
                                         const codec::Message& in, pc5::L2Id from, pc5::L2Id self,
                                         std::string_view relay,
                                         const std::function<bool(std::uint32_t)>& serves,
                                         const std::map<std::string, pc5::L2Id>& directory) {
    const auto* s = std::get_if<codec::U2uRelayDiscoverySolicitation>(&in);
    if (!s || !serves(s->relay_service_code.value)) return std::nullopt;
    // A relay answers only when it can reach the target (TS 23.304 6.3.2.x, Model B).
    if (s->target_user_info && !directory.contains(string_of(*s->target_user_info)))
        return std::nullopt;
    codec::U2uRelayDiscoveryResponse r;
    r.relay_service_code = s->relay_service_code;
    r.relay_user_info = octets_of(relay);
    r.target_user_info = s->target_user_info;
    return frame(security, now, self, from, s->relay_service_code.value, r);
}

std::optional<RelayHeard> relay_heard(const codec::Message& m, pc5::L2Id from) {
    if (const auto* a = std::get_if<codec::U2uRelayDiscoveryAnnouncement>(&m))
        return RelayHeard{a->relay_service_code.value, string_of(a->relay_user_info), from};
    if (const auto* r = std::get_if<codec::U2uRelayDiscoveryResponse>(&m))
        return RelayHeard{r->relay_service_code.value, string_of(r->relay_user_info), from};
    return std::nullopt;
}

}  // namespace pc5sec::discovery
