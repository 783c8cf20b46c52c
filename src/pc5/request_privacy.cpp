// Identity privacy of the establishment request (pc5sec/request_privacy.hpp).
#include "pc5sec/request_privacy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pc5sec/code_points.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/secret.hpp"

namespace pc5sec::request_privacy {

namespace {

using codec::IeSpan;
using codec::MessageType;

constexpr auto kIei = static_cast<std::uint8_t>(codec::Iei::identity_protection);

std::array<std::uint8_t, 3> be24(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v)};
}
std::array<std::uint8_t, 4> be32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}
std::string hex_rsc(std::uint32_t rsc) {
    return fmt::format("0x{:06x}", rsc);
}

bool is_request(std::span<const std::uint8_t> b) {
    return !b.empty() && b[0] == static_cast<std::uint8_t>(MessageType::establishment_request);
}
bool is_concealable(std::span<const std::uint8_t> b) {
    return !b.empty() && conceals_message(static_cast<MessageType>(b[0]));
}
// "<message>.identity_protection", the field every error names.
std::string field_of(std::span<const std::uint8_t> b) {
    return fmt::format(
        "{}.identity_protection",
        b.empty() ? "message" : codec::code_point_name(codec::CodePointKind::message_type, b[0]));
}
// The identity_protection IE: a row of the message's layout (the request's), or an optional IE
// the layout does not list, led by its IEI (the other messages: it is only ever on the air).
struct IsProtection {
    std::span<const std::uint8_t> bytes;
    bool operator()(const IeSpan& s) const {
        if (s.layout) return s.layout->iei && *s.layout->iei == kIei;
        return s.offset < bytes.size() && bytes[s.offset] == kIei;
    }
};

// 128-NEA under KEY over the concealed values of `bytes` (the spans of `spans`, shifted by
// `shift` octets for those at or after `from`): one keystream over their concatenation. Its own
// inverse.
Status apply_keystream(std::span<std::uint8_t> bytes, const std::vector<IeSpan>& spans,
                       const discovery::Material& m, std::uint32_t counter, const Nonce& nonce,
                       std::size_t from = SIZE_MAX, std::size_t shift = 0) {
    std::vector<std::pair<std::size_t, std::size_t>> where;  // (offset, size)
    std::size_t total = 0;
    for (const auto& s : spans)
        if (s.layout && conceals(s.layout->name) && s.value_size > 0) {
            where.emplace_back(s.value_offset >= from ? s.value_offset - shift : s.value_offset,
                               s.value_size);
            total += s.value_size;
        }
    if (total == 0) return {};
    std::vector<std::uint8_t> joined;
    joined.reserve(total);
    for (auto [at, n] : where)
        joined.insert(joined.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at),
                      bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
    const auto key = keystream_key(m.duck, counter, m.rsc, nonce);
    auto ctx = CipheringContext::create(m.nea, key.reveal());
    if (!ctx) return std::move(ctx).error();
    PC5SEC_TRY(ctx->apply(SecurityInput{counter, 0, 0}, joined, joined, total * 8));
    std::size_t k = 0;
    for (auto [at, n] : where) {
        std::copy_n(joined.begin() + static_cast<std::ptrdiff_t>(k), n,
                    bytes.begin() + static_cast<std::ptrdiff_t>(at));
        k += n;
    }
    return {};
}

// The MIC over the request as its sender encoded it, then RSC and nonce.
Result<MacI> mic_of(std::span<const std::uint8_t> plain, const discovery::Material& m,
                    std::uint32_t counter, const Nonce& nonce) {
    std::vector<std::uint8_t> input(plain.begin(), plain.end());
    const auto rsc = be24(m.rsc);
    input.insert(input.end(), rsc.begin(), rsc.end());
    input.insert(input.end(), nonce.begin(), nonce.end());
    auto ctx = IntegrityContext::create(m.nia, m.duik.reveal());
    if (!ctx) return std::move(ctx).error();
    return ctx->compute(SecurityInput{counter, 0, 0}, input, input.size() * 8);
}

std::int64_t distance(std::uint32_t a, std::uint32_t b) {
    return std::abs(static_cast<std::int64_t>(static_cast<std::int32_t>(a - b)));
}

}  // namespace

bool conceals_message(codec::MessageType t) noexcept {
    return t == MessageType::establishment_request || t == MessageType::authentication_request ||
           t == MessageType::authentication_response || t == MessageType::establishment_accept;
}

bool conceals(std::string_view name) noexcept {
    return name == "source_user_info" || name == "target_user_info" ||
           name == "u2u_relay_ue_user_info" || name == "key_est_info" ||
           name == "authentication_info" || name == "relay_authentication_info";
}

Key128 keystream_key(const Duck& duck, std::uint32_t counter, std::uint32_t rsc,
                     const Nonce& nonce) {
    const auto p0 = be32(counter);
    const auto p1 = be24(rsc);
    const auto out = kdf(duck.reveal(), fc::kRequestPrivacy, {p0, p1, nonce});
    return *Key128::from_bytes(out.reveal().subspan<16, 16>());
}

Result<std::vector<std::uint8_t>> conceal(const discovery::Security& security,
                                          std::span<const std::uint8_t> plain, std::uint32_t rsc,
                                          discovery::UtcTime now, const Nonce& nonce) {
    if (!is_concealable(plain))
        return make_error(Errc::invalid_argument, field_of(plain),
                          "only an establishment request or accept, or an authentication "
                          "request or response, is concealed");
    auto spans = codec::ie_spans(plain);
    if (!spans) return std::move(spans).error();
    if (std::any_of(spans->begin(), spans->end(), IsProtection{plain}))
        return make_error(Errc::invalid_argument, field_of(plain),
                          "the message is concealed already");
    const discovery::Material* m = security.material(rsc);
    if (!m)
        return make_error(
            Errc::policy, field_of(plain),
            fmt::format("no material for RSC {}: its message cannot be concealed", hex_rsc(rsc)));
    PC5SEC_TRY(security.check_valid(rsc, now));
    const std::uint32_t counter = discovery::utc_counter(now);
    auto mic = mic_of(plain, *m, counter, nonce);
    if (!mic) return std::move(mic).error();
    std::vector<std::uint8_t> out(plain.begin(), plain.end());
    PC5SEC_TRY(apply_keystream(out, *spans, *m, counter, nonce));
    out.push_back(kIei);
    out.push_back(static_cast<std::uint8_t>(kValueSize));
    const auto r = be24(rsc);
    const auto c = be32(counter);
    out.insert(out.end(), r.begin(), r.end());
    out.insert(out.end(), c.begin(), c.end());
    out.insert(out.end(), nonce.begin(), nonce.end());
    out.insert(out.end(), mic->begin(), mic->end());
    return out;
}

Result<Revealed> reveal(const discovery::Security& security, std::span<const std::uint8_t> air,
                        discovery::UtcTime now, bool check_window) {
    if (!is_concealable(air)) return Revealed{};
    auto spans = codec::ie_spans(air);
    if (!spans) return Revealed{};  // in clear and malformed: the codec says what is wrong
    const std::string field = field_of(air);
    const auto it = std::find_if(spans->begin(), spans->end(), IsProtection{air});
    if (it == spans->end()) {
        // TS 33.503 6.1.3.2 refuses open discovery for a protected RSC; so does a request. (The
        // other messages name no RSC: their sender conceals them by its own link's RSC.)
        if (auto rsc = is_request(air) ? rsc_named(air) : std::nullopt;
            rsc && security.material(*rsc))
            return make_error(Errc::policy, field,
                              fmt::format("absent: a request in clear for RSC {}, whose requests "
                                          "this UE conceals, is refused (a downgrade)",
                                          hex_rsc(*rsc)));
        return Revealed{};
    }
    const IeSpan ie = *it;
    if (ie.value_size != kValueSize)
        return make_error(Errc::malformed, field,
                          fmt::format("{} octets, not {}", ie.value_size, kValueSize));
    const auto v = air.subspan(ie.value_offset, kValueSize);
    Revealed r;
    r.concealed = true;
    r.rsc = static_cast<std::uint32_t>(v[0] << 16 | v[1] << 8 | v[2]);
    r.counter = static_cast<std::uint32_t>(v[3]) << 24 | static_cast<std::uint32_t>(v[4]) << 16 |
                static_cast<std::uint32_t>(v[5]) << 8 | v[6];
    Nonce nonce{};
    std::copy_n(v.begin() + 7, kNonceSize, nonce.begin());
    MacI mic{};
    std::copy_n(v.begin() + 7 + kNonceSize, mic.size(), mic.begin());
    const discovery::Material* m = security.material(r.rsc);
    if (!m)
        return make_error(
            Errc::policy, field,
            fmt::format("no material for RSC {}: the message cannot be read here", hex_rsc(r.rsc)));
    PC5SEC_TRY(security.check_valid(r.rsc, now));
    if (check_window &&
        distance(r.counter, discovery::utc_counter(now)) > discovery::kMaxOffset.count())
        return make_error(
            Errc::verification_failed, field,
            fmt::format("replayed or delayed: counter {} is more than {} s from "
                        "ours ({})",
                        r.counter, discovery::kMaxOffset.count(), discovery::utc_counter(now)));
    // The request without the IE, as its sender encoded it, then its values revealed.
    const std::size_t end = ie.value_offset + ie.value_size;
    r.plain.reserve(air.size() - (end - ie.offset));
    r.plain.insert(r.plain.end(), air.begin(),
                   air.begin() + static_cast<std::ptrdiff_t>(ie.offset));
    r.plain.insert(r.plain.end(), air.begin() + static_cast<std::ptrdiff_t>(end), air.end());
    PC5SEC_TRY(apply_keystream(r.plain, *spans, *m, r.counter, nonce, end, end - ie.offset));
    auto expected = mic_of(r.plain, *m, r.counter, nonce);
    if (!expected) return std::move(expected).error();
    if (!detail::constant_time_equal(expected->data(), mic.data(), mic.size()))
        return make_error(Errc::verification_failed, field,
                          fmt::format("MIC: the message was not concealed under RSC {}'s "
                                      "material, or was altered on the way",
                                      hex_rsc(r.rsc)));
    return r;
}

bool concealed(std::span<const std::uint8_t> air) {
    if (!is_concealable(air)) return false;
    auto spans = codec::ie_spans(air);
    return spans && std::any_of(spans->begin(), spans->end(), IsProtection{air});
}

std::optional<std::uint32_t> rsc_named(std::span<const std::uint8_t> request) {
    auto spans = codec::ie_spans(request);
    if (!spans) return std::nullopt;
    for (const auto& s : *spans)
        if (s.layout && s.layout->iei &&
            *s.layout->iei == static_cast<std::uint8_t>(codec::Iei::relay_service_code) &&
            s.value_size == 3) {
            const auto v = request.subspan(s.value_offset, 3);
            return static_cast<std::uint32_t>(v[0] << 16 | v[1] << 8 | v[2]);
        }
    return std::nullopt;
}

pc5::DropReason drop_reason(const Error& e) noexcept {
    if (e.code == Errc::malformed || e.code == Errc::unsupported) return pc5::DropReason::malformed;
    if (e.code == Errc::policy && e.message.starts_with("no material"))
        return pc5::DropReason::not_for_us;
    if (e.message.starts_with("replayed")) return pc5::DropReason::replay;
    return pc5::DropReason::bad_mac;
}

}  // namespace pc5sec::request_privacy
