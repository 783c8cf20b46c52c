// Internal: how each IE value type is checked, written, read, shown and named in the message
// layouts (codec::message_layouts). `read` gets a Reader over exactly the value and must consume
// all of it; errors carry an empty or relative field name that the caller prefixes.
#pragma once

#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pc5sec/codec.hpp"
#include "pc5sec/cursor.hpp"
#include "pc5sec/hex.hpp"

namespace pc5sec::codec::detail {

using nlohmann::json;

inline Error reserved(std::string field, unsigned value, const char* what) {
    return make_error(Errc::malformed, std::move(field),
                      fmt::format("reserved value 0x{:02x} for {}", value, what));
}

template <class T>
struct Traits;

template <>
struct Traits<std::uint8_t> {
    static constexpr std::size_t kSize = 1;
    static constexpr IeValue kValue = IeValue::u8;
    static Status check(std::uint8_t) { return {}; }
    static void write(Writer& w, std::uint8_t v) { w.u8(v); }
    static Result<std::uint8_t> read(Reader& r) { return r.u8(""); }
    static json to_json(std::uint8_t v) { return v; }
    static std::string text(std::uint8_t v) { return fmt::format("{} (0x{:02x})", v, v); }
};

template <>
struct Traits<std::uint32_t> {
    static constexpr std::size_t kSize = 4;
    static constexpr IeValue kValue = IeValue::u32;
    static Status check(std::uint32_t) { return {}; }
    static void write(Writer& w, std::uint32_t v) { w.u32(v); }
    static Result<std::uint32_t> read(Reader& r) { return r.u32(""); }
    static json to_json(std::uint32_t v) { return v; }
    static std::string text(std::uint32_t v) { return fmt::format("{}", v); }
};

template <>
struct Traits<KnrpId> {
    static constexpr std::size_t kSize = 4;
    static constexpr IeValue kValue = IeValue::u32;
    static Status check(KnrpId) { return {}; }
    static void write(Writer& w, KnrpId v) { w.u32(v.value); }
    static Result<KnrpId> read(Reader& r) {
        auto v = r.u32("");
        if (!v) return std::move(v).error();
        return KnrpId{*v};
    }
    static json to_json(KnrpId v) { return v.value; }
    static std::string text(KnrpId v) { return fmt::format("0x{:08x}", v.value); }
};

template <>
struct Traits<KnrpIdHalf> {
    static constexpr std::size_t kSize = 2;
    static constexpr IeValue kValue = IeValue::u16;
    static Status check(KnrpIdHalf) { return {}; }
    static void write(Writer& w, KnrpIdHalf v) { w.u16(v.value); }
    static Result<KnrpIdHalf> read(Reader& r) {
        auto v = r.u16("");
        if (!v) return std::move(v).error();
        return KnrpIdHalf{*v};
    }
    static json to_json(KnrpIdHalf v) { return v.value; }
    static std::string text(KnrpIdHalf v) { return fmt::format("0x{:04x}", v.value); }
};

template <class T>
struct Traits24 {
    static constexpr std::size_t kSize = 3;
    static constexpr IeValue kValue = IeValue::u24;
    static Status check(T v) {
        if (v.value > 0xffffff)
            return make_error(Errc::invalid_argument, "", "oversize: does not fit 24 bits");
        return {};
    }
    static void write(Writer& w, T v) { w.u24(v.value); }
    static Result<T> read(Reader& r) {
        auto v = r.u24("");
        if (!v) return std::move(v).error();
        return T{*v};
    }
    static json to_json(T v) { return v.value; }
    static std::string text(T v) { return fmt::format("0x{:06x}", v.value); }
};
template <>
struct Traits<Layer2Id> : Traits24<Layer2Id> {};
template <>
struct Traits<RelayServiceCode> : Traits24<RelayServiceCode> {};

template <>
struct Traits<Nonce> {
    static constexpr std::size_t kSize = 16;
    static constexpr IeValue kValue = IeValue::bytes;
    static Status check(const Nonce&) { return {}; }
    static void write(Writer& w, const Nonce& v) { w.bytes(v); }
    static Result<Nonce> read(Reader& r) {
        auto b = r.bytes(16, "");
        if (!b) return std::move(b).error();
        Nonce n{};
        std::copy(b->begin(), b->end(), n.begin());
        return n;
    }
    static json to_json(const Nonce& v) { return to_hex(v); }
    static std::string text(const Nonce& v) { return to_hex(v); }
};

template <>
struct Traits<Octets> {
    static constexpr std::size_t kSize = 0;
    static constexpr IeValue kValue = IeValue::bytes;
    static Status check(const Octets& v) {
        if (v.size() == 0) return make_error(Errc::invalid_argument, "", "empty octet string");
        return {};
    }
    static void write(Writer& w, const Octets& v) { w.bytes(v.bytes); }
    static Result<Octets> read(Reader& r) {
        if (r.empty()) return make_error(Errc::malformed, "", "empty octet string");
        auto b = r.bytes(r.remaining(), "");
        if (!b) return std::move(b).error();
        return Octets{*b};
    }
    static json to_json(const Octets& v) { return to_hex(v.bytes); }
    static std::string text(const Octets& v) {
        return fmt::format("{} ({} octets)", to_hex(v.bytes), v.size());
    }
};

template <>
struct Traits<UeSecurityCapabilities> {
    static constexpr std::size_t kSize = 2;
    static constexpr IeValue kValue = IeValue::uesc;
    static Status check(UeSecurityCapabilities) { return {}; }
    static void write(Writer& w, UeSecurityCapabilities v) {
        w.u8(v.ea);
        w.u8(v.ia);
    }
    static Result<UeSecurityCapabilities> read(Reader& r) {
        auto ea = r.u8("ea");
        if (!ea) return std::move(ea).error();
        auto ia = r.u8("ia");
        if (!ia) return std::move(ia).error();
        return UeSecurityCapabilities{*ea, *ia};
    }
    static json to_json(UeSecurityCapabilities v) { return json{{"ea", v.ea}, {"ia", v.ia}}; }
    static std::string text(UeSecurityCapabilities v) {
        std::string out = "EA:";
        for (int i = 0; i < 8; ++i)
            if (v.ea & (0x80 >> i)) out += fmt::format(" {}", i);
        out += ", IA:";
        for (int i = 0; i < 8; ++i)
            if (v.ia & (0x80 >> i)) out += fmt::format(" {}", i);
        return out;
    }
};

inline Status check_policy_value(PolicyValue p, const char* field) {
    if (static_cast<std::uint8_t>(p) > static_cast<std::uint8_t>(PolicyValue::required))
        return reserved(field, static_cast<unsigned>(p), "a signalling security policy");
    return {};
}

template <>
struct Traits<SignallingSecurityPolicy> {
    static constexpr std::size_t kSize = 1;
    static constexpr IeValue kValue = IeValue::policy;
    static Status check(SignallingSecurityPolicy v) {
        PC5SEC_TRY(check_policy_value(v.integrity, "integrity"));
        return check_policy_value(v.ciphering, "ciphering");
    }
    static void write(Writer& w, SignallingSecurityPolicy v) {
        w.u8(static_cast<std::uint8_t>(static_cast<unsigned>(v.ciphering) << 4 |
                                       static_cast<unsigned>(v.integrity)));
    }
    static Result<SignallingSecurityPolicy> read(Reader& r) {
        auto b = r.u8("");
        if (!b) return std::move(b).error();
        if (*b & 0x88) return reserved("", *b, "the spare bits 4 and 8 of the policy octet");
        SignallingSecurityPolicy p{static_cast<PolicyValue>(*b & 0x07),
                                   static_cast<PolicyValue>(*b >> 4 & 0x07)};
        PC5SEC_TRY(check(p));
        return p;
    }
    static json to_json(SignallingSecurityPolicy v) {
        return json{{"integrity", static_cast<unsigned>(v.integrity)},
                    {"ciphering", static_cast<unsigned>(v.ciphering)}};
    }
    static std::string text(SignallingSecurityPolicy v) {
        return fmt::format("integrity {}, ciphering {}",
                           code_point_name(CodePointKind::signalling_policy,
                                           static_cast<std::uint8_t>(v.integrity)),
                           code_point_name(CodePointKind::signalling_policy,
                                           static_cast<std::uint8_t>(v.ciphering)));
    }
};

template <>
struct Traits<SecurityAlgorithms> {
    static constexpr std::size_t kSize = 1;
    static constexpr IeValue kValue = IeValue::algs;
    static Status check(SecurityAlgorithms v) {
        if (v.ciphering > kMaxAlgorithmId) return reserved("ciphering", v.ciphering, "a NEA id");
        if (v.integrity > kMaxAlgorithmId) return reserved("integrity", v.integrity, "a NIA id");
        return {};
    }
    static void write(Writer& w, SecurityAlgorithms v) {
        w.u8(static_cast<std::uint8_t>(v.ciphering << 4 | v.integrity));
    }
    static Result<SecurityAlgorithms> read(Reader& r) {
        auto b = r.u8("");
        if (!b) return std::move(b).error();
        SecurityAlgorithms a{static_cast<std::uint8_t>(*b >> 4),
                             static_cast<std::uint8_t>(*b & 0x0f)};
        PC5SEC_TRY(check(a));
        return a;
    }
    static json to_json(SecurityAlgorithms v) {
        return json{{"ciphering", v.ciphering}, {"integrity", v.integrity}};
    }
    static std::string text(SecurityAlgorithms v) {
        return fmt::format("NEA{}, NIA{}", v.ciphering, v.integrity);
    }
};

template <>
struct Traits<Cause> {
    static constexpr std::size_t kSize = 1;
    static constexpr IeValue kValue = IeValue::cause;
    // 0 is reserved; other values not in the table are kept as they are (TS 24.007 lets a
    // receiver treat them as #111) so that a relay can forward them unchanged.
    static Status check(Cause v) {
        if (static_cast<std::uint8_t>(v) == 0) return reserved("", 0, "a PC5 signalling cause");
        return {};
    }
    static void write(Writer& w, Cause v) { w.u8(static_cast<std::uint8_t>(v)); }
    static Result<Cause> read(Reader& r) {
        auto b = r.u8("");
        if (!b) return std::move(b).error();
        PC5SEC_TRY(check(static_cast<Cause>(*b)));
        return static_cast<Cause>(*b);
    }
    static json to_json(Cause v) { return static_cast<unsigned>(v); }
    static std::string text(Cause v) {
        const auto n = static_cast<std::uint8_t>(v);
        return fmt::format("#{} {}", n, code_point_name(CodePointKind::cause, n));
    }
};

template <>
struct Traits<RelayIndication> {  // type 1: the low nibble of the IEI octet
    static constexpr std::size_t kSize = 0;
    static constexpr IeValue kValue = IeValue::relay_indication;
    static Status check(RelayIndication v) {
        if (static_cast<std::uint8_t>(v) >
            static_cast<std::uint8_t>(RelayIndication::via_layer3_relay))
            return reserved("", static_cast<unsigned>(v), "a relay indication");
        return {};
    }
    static json to_json(RelayIndication v) { return static_cast<unsigned>(v); }
    static std::string text(RelayIndication v) {
        return code_point_name(CodePointKind::relay_indication, static_cast<std::uint8_t>(v));
    }
};

template <>
struct Traits<KeyEstInfo> {
    static constexpr std::size_t kSize = 0;
    static constexpr IeValue kValue = IeValue::key_est_info;
    static Status check(const KeyEstInfo& v);
    static Status write_checked(Writer& w, const KeyEstInfo& v);
    static Result<KeyEstInfo> read(Reader& r);
    static json to_json(const KeyEstInfo& v);
    static std::string text(const KeyEstInfo& v);
};

template <>
struct Traits<AuthenticationInfo> {
    static constexpr std::size_t kSize = 0;
    static constexpr IeValue kValue = IeValue::authentication_info;
    static Status check(const AuthenticationInfo& v);
    static Status write_checked(Writer& w, const AuthenticationInfo& v);
    static Result<AuthenticationInfo> read(Reader& r);
    static json to_json(const AuthenticationInfo& v);
    static std::string text(const AuthenticationInfo& v);
};

// Prefixes an inner error's field with `prefix`.
inline Error relabel(Error e, const std::string& prefix) {
    e.field = e.field.empty() ? prefix : prefix + "." + e.field;
    return e;
}

}  // namespace pc5sec::codec::detail
