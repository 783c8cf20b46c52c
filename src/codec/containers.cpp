// Solution A Key_Est_Info and solution B Authentication_Info: versioned containers of
// tag (1) / length (2) / value items. A decoder skips tags it does not know (a later minor
// revision may add some) and refuses duplicates, empty items and missing mandatory items.
#include <bitset>

#include "values.hpp"

namespace pc5sec::codec {
namespace detail {
namespace {

struct Item {
    std::uint8_t tag;
    std::span<const std::uint8_t> value;
};

// Walks the TLV items, refusing duplicates and lengths past the end. `fn(item)` returns Status.
template <class Fn>
Status walk_items(Reader& r, CodePointKind kind, Fn&& fn) {
    std::bitset<256> seen;
    while (!r.empty()) {
        auto tag = r.u8("tag");
        if (!tag) return std::move(tag).error();
        const char* name = code_point_name(kind, *tag);
        auto len = r.u16("");
        if (!len) return relabel(std::move(len).error(), std::string(name) + ".length");
        if (*len > r.remaining())
            return make_error(
                Errc::malformed, std::string(name) + ".length",
                fmt::format("length past the end: tag 0x{:02x} length {}, {} octets left", *tag,
                            *len, r.remaining()));
        if (seen[*tag])
            return make_error(Errc::malformed, name,
                              fmt::format("duplicate IE: tag 0x{:02x} appears twice", *tag));
        seen[*tag] = true;
        auto value = r.bytes(*len, "");
        if (!value) return relabel(std::move(value).error(), name);
        if (*len == 0) return make_error(Errc::malformed, name, "empty octet string");
        PC5SEC_TRY(fn(Item{*tag, *value}));
    }
    return {};
}

void put_item(Writer& w, std::uint8_t tag, std::span<const std::uint8_t> value) {
    w.u8(tag);
    w.u16(static_cast<std::uint16_t>(value.size()));
    w.bytes(value);
}

Status check_octets(const std::optional<Octets>& o, const char* field) {
    if (!o) return {};
    if (o->size() == 0) return make_error(Errc::invalid_argument, field, "empty octet string");
    if (o->size() > 0xffff)
        return make_error(Errc::invalid_argument, field, "oversize: over 65535 octets");
    return {};
}

Error missing(const char* field, const char* why) {
    return make_error(Errc::malformed, field, fmt::format("missing mandatory IE ({})", why));
}

template <class T>
std::uint8_t u8_of(T v) {
    return static_cast<std::uint8_t>(v);
}

}  // namespace

Status Traits<KeyEstInfo>::check(const KeyEstInfo& v) {
    if (v.version != kKeyEstInfoVersion)
        return make_error(Errc::unsupported, "version",
                          fmt::format("container version {} is not supported (only {})", v.version,
                                      kKeyEstInfoVersion));
    PC5SEC_TRY(check_octets(v.certificate, "certificate"));
    PC5SEC_TRY(check_octets(v.ephemeral_public_key, "ephemeral_public_key"));
    PC5SEC_TRY(check_octets(v.signature, "signature"));
    PC5SEC_TRY(check_octets(v.psk_identity, "psk_identity"));
    PC5SEC_TRY(check_octets(v.user_info_id, "user_info_id"));
    switch (v.method) {
        case KeyEstMethod::certificate:
            // An offer (establishment request, authentication request) carries the certificate
            // and the ephemeral key; the initiator's final transcript signature (authentication
            // response) carries only the signature. Every certificate Key_Est_Info is signed.
            if (!v.signature) return missing("signature", "method certificate");
            if (v.certificate && !v.ephemeral_public_key)
                return missing("ephemeral_public_key", "method certificate with a certificate");
            if (v.ephemeral_public_key && !v.certificate)
                return missing("certificate", "method certificate with an ephemeral key");
            return {};
        case KeyEstMethod::psk:
            if (!v.psk_identity) return missing("psk_identity", "method psk");
            if (!v.nonce) return missing("nonce", "method psk");
            return {};
        case KeyEstMethod::ephemeral:
            // Solution B re-keying: the message that carries it is protected under keys from KD,
            // which authenticate the key; a certificate or signature would add nothing.
            if (!v.ephemeral_public_key) return missing("ephemeral_public_key", "method ephemeral");
            if (v.certificate || v.signature || v.psk_identity)
                return make_error(Errc::malformed, "method",
                                  "method ephemeral carries the ephemeral key alone");
            return {};
    }
    return reserved("method", u8_of(v.method), "a Key_Est_Info method");
}

Status Traits<KeyEstInfo>::write_checked(Writer& w, const KeyEstInfo& v) {
    if (auto st = check(v); !st) {
        Error e = std::move(st).error();
        if (e.code == Errc::malformed) e.code = Errc::invalid_argument;
        return e;
    }
    w.u8(v.version);
    w.u8(u8_of(v.method));
    if (v.certificate) put_item(w, u8_of(KeyEstTag::certificate), v.certificate->bytes);
    if (v.ephemeral_public_key)
        put_item(w, u8_of(KeyEstTag::ephemeral_public_key), v.ephemeral_public_key->bytes);
    if (v.signature) put_item(w, u8_of(KeyEstTag::signature), v.signature->bytes);
    if (v.psk_identity) put_item(w, u8_of(KeyEstTag::psk_identity), v.psk_identity->bytes);
    if (v.nonce) put_item(w, u8_of(KeyEstTag::nonce), *v.nonce);
    if (v.user_info_id) put_item(w, u8_of(KeyEstTag::user_info_id), v.user_info_id->bytes);
    return {};
}

Result<KeyEstInfo> Traits<KeyEstInfo>::read(Reader& r) {
    KeyEstInfo out;
    auto version = r.u8("version");
    if (!version) return std::move(version).error();
    out.version = *version;
    if (out.version != kKeyEstInfoVersion)
        return make_error(Errc::unsupported, "version",
                          fmt::format("container version {} is not supported (only {})",
                                      out.version, kKeyEstInfoVersion));
    auto method = r.u8("method");
    if (!method) return std::move(method).error();
    out.method = static_cast<KeyEstMethod>(*method);
    if (!find_code_point(CodePointKind::key_est_method, *method))
        return reserved("method", *method, "a Key_Est_Info method");
    PC5SEC_TRY(walk_items(r, CodePointKind::key_est_tag, [&](const Item& it) -> Status {
        switch (static_cast<KeyEstTag>(it.tag)) {
            case KeyEstTag::certificate:
                out.certificate = Octets{it.value};
                break;
            case KeyEstTag::ephemeral_public_key:
                out.ephemeral_public_key = Octets{it.value};
                break;
            case KeyEstTag::signature:
                out.signature = Octets{it.value};
                break;
            case KeyEstTag::psk_identity:
                out.psk_identity = Octets{it.value};
                break;
            case KeyEstTag::user_info_id:
                out.user_info_id = Octets{it.value};
                break;
            case KeyEstTag::nonce: {
                if (it.value.size() != 16)
                    return make_error(Errc::malformed, "nonce.length",
                                      fmt::format("a nonce is 16 octets, got {}", it.value.size()));
                Nonce n{};
                std::copy(it.value.begin(), it.value.end(), n.begin());
                out.nonce = n;
                break;
            }
            default:
                break;  // unknown tag: skipped
        }
        return {};
    }));
    PC5SEC_TRY(check(out));
    return out;
}

json Traits<KeyEstInfo>::to_json(const KeyEstInfo& v) {
    json j{{"version", v.version}, {"method", u8_of(v.method)}};
    if (v.certificate) j["certificate"] = to_hex(v.certificate->bytes);
    if (v.ephemeral_public_key) j["ephemeral_public_key"] = to_hex(v.ephemeral_public_key->bytes);
    if (v.signature) j["signature"] = to_hex(v.signature->bytes);
    if (v.psk_identity) j["psk_identity"] = to_hex(v.psk_identity->bytes);
    if (v.nonce) j["nonce"] = to_hex(*v.nonce);
    if (v.user_info_id) j["user_info_id"] = to_hex(v.user_info_id->bytes);
    return j;
}

std::string Traits<KeyEstInfo>::text(const KeyEstInfo& v) {
    std::string out = fmt::format("Key_Est_Info v{}, method {}", v.version,
                                  code_point_name(CodePointKind::key_est_method, u8_of(v.method)));
    auto line = [&](const char* n, const std::optional<Octets>& o) {
        if (o) out += fmt::format("\n      {}: {}", n, Traits<Octets>::text(*o));
    };
    line("certificate", v.certificate);
    line("ephemeral_public_key", v.ephemeral_public_key);
    line("signature", v.signature);
    line("psk_identity", v.psk_identity);
    if (v.nonce) out += fmt::format("\n      nonce: {}", to_hex(*v.nonce));
    line("user_info_id", v.user_info_id);
    return out;
}

Status Traits<AuthenticationInfo>::check(const AuthenticationInfo& v) {
    if (v.version != kAuthInfoVersion)
        return make_error(Errc::unsupported, "version",
                          fmt::format("container version {} is not supported (only {})", v.version,
                                      kAuthInfoVersion));
    if (v.user_info_id.size() == 0) return missing("user_info_id", "always");
    if (v.signature.size() == 0) return missing("signature", "always");
    PC5SEC_TRY(check_octets(v.user_info_id, "user_info_id"));
    PC5SEC_TRY(check_octets(v.signature, "signature"));
    PC5SEC_TRY(check_octets(v.public_key, "public_key"));
    PC5SEC_TRY(check_octets(v.certificate, "certificate"));
    if (v.public_key.has_value() == v.certificate.has_value())
        return make_error(Errc::malformed, "public_key",
                          v.public_key ? "both a public key and a certificate: send exactly one"
                                       : "missing mandatory IE (a public key or a certificate)");
    if (!find_code_point(CodePointKind::signature_algorithm, u8_of(v.signature_algorithm)))
        return reserved("signature_algorithm", u8_of(v.signature_algorithm),
                        "a signature algorithm");
    PC5SEC_TRY(check_octets(v.ephemeral_public_key, "ephemeral_public_key"));
    if (v.selected_algorithms) {
        if (auto st = Traits<SecurityAlgorithms>::check(*v.selected_algorithms); !st)
            return relabel(std::move(st).error(), "selected_algorithms");
    }
    return {};
}

Status Traits<AuthenticationInfo>::write_checked(Writer& w, const AuthenticationInfo& v) {
    if (auto st = check(v); !st) {
        Error e = std::move(st).error();
        if (e.code == Errc::malformed) e.code = Errc::invalid_argument;
        return e;
    }
    w.u8(v.version);
    put_item(w, u8_of(AuthInfoTag::user_info_id), v.user_info_id.bytes);
    if (v.public_key) put_item(w, u8_of(AuthInfoTag::public_key), v.public_key->bytes);
    if (v.certificate) put_item(w, u8_of(AuthInfoTag::certificate), v.certificate->bytes);
    const std::uint8_t alg = u8_of(v.signature_algorithm);
    put_item(w, u8_of(AuthInfoTag::signature_algorithm), std::span<const std::uint8_t>(&alg, 1));
    put_item(w, u8_of(AuthInfoTag::signature), v.signature.bytes);
    if (v.nonce) put_item(w, u8_of(AuthInfoTag::nonce), *v.nonce);
    if (v.ephemeral_public_key)
        put_item(w, u8_of(AuthInfoTag::ephemeral_public_key), v.ephemeral_public_key->bytes);
    if (v.selected_algorithms) {
        const std::uint8_t algs = static_cast<std::uint8_t>(v.selected_algorithms->ciphering << 4 |
                                                            v.selected_algorithms->integrity);
        put_item(w, u8_of(AuthInfoTag::selected_algorithms),
                 std::span<const std::uint8_t>(&algs, 1));
    }
    if (v.signing_time) {
        const auto t = signing_time_octets(*v.signing_time);
        put_item(w, u8_of(AuthInfoTag::signing_time), t);
    }
    return {};
}

Result<AuthenticationInfo> Traits<AuthenticationInfo>::read(Reader& r) {
    AuthenticationInfo out;
    auto version = r.u8("version");
    if (!version) return std::move(version).error();
    out.version = *version;
    if (out.version != kAuthInfoVersion)
        return make_error(Errc::unsupported, "version",
                          fmt::format("container version {} is not supported (only {})",
                                      out.version, kAuthInfoVersion));
    bool have_alg = false;
    PC5SEC_TRY(walk_items(r, CodePointKind::auth_info_tag, [&](const Item& it) -> Status {
        switch (static_cast<AuthInfoTag>(it.tag)) {
            case AuthInfoTag::user_info_id:
                out.user_info_id = Octets{it.value};
                break;
            case AuthInfoTag::public_key:
                out.public_key = Octets{it.value};
                break;
            case AuthInfoTag::certificate:
                out.certificate = Octets{it.value};
                break;
            case AuthInfoTag::signature:
                out.signature = Octets{it.value};
                break;
            case AuthInfoTag::signature_algorithm:
                if (it.value.size() != 1)
                    return make_error(Errc::malformed, "signature_algorithm.length",
                                      fmt::format("is 1 octet, got {}", it.value.size()));
                out.signature_algorithm = static_cast<SignatureAlgorithm>(it.value[0]);
                have_alg = true;
                break;
            case AuthInfoTag::nonce: {
                if (it.value.size() != 16)
                    return make_error(Errc::malformed, "nonce.length",
                                      fmt::format("a nonce is 16 octets, got {}", it.value.size()));
                Nonce n{};
                std::copy(it.value.begin(), it.value.end(), n.begin());
                out.nonce = n;
                break;
            }
            case AuthInfoTag::ephemeral_public_key:
                out.ephemeral_public_key = Octets{it.value};
                break;
            case AuthInfoTag::selected_algorithms:
                if (it.value.size() != 1)
                    return make_error(Errc::malformed, "selected_algorithms.length",
                                      fmt::format("is 1 octet, got {}", it.value.size()));
                out.selected_algorithms =
                    SecurityAlgorithms{static_cast<std::uint8_t>(it.value[0] >> 4),
                                       static_cast<std::uint8_t>(it.value[0] & 0x0f)};
                break;
            case AuthInfoTag::signing_time: {
                if (it.value.size() != 8)
                    return make_error(Errc::malformed, "signing_time.length",
                                      fmt::format("is 8 octets, got {}", it.value.size()));
                std::uint64_t t = 0;
                for (auto b : it.value)
                    t = t << 8 | b;
                out.signing_time = t;
                break;
            }
            default:
                break;  // unknown tag: skipped
        }
        return {};
    }));
    if (!have_alg) return missing("signature_algorithm", "always");
    PC5SEC_TRY(check(out));
    return out;
}

json Traits<AuthenticationInfo>::to_json(const AuthenticationInfo& v) {
    json j{{"version", v.version},
           {"user_info_id", to_hex(v.user_info_id.bytes)},
           {"signature_algorithm", u8_of(v.signature_algorithm)},
           {"signature", to_hex(v.signature.bytes)}};
    if (v.public_key) j["public_key"] = to_hex(v.public_key->bytes);
    if (v.certificate) j["certificate"] = to_hex(v.certificate->bytes);
    if (v.nonce) j["nonce"] = to_hex(*v.nonce);
    if (v.ephemeral_public_key) j["ephemeral_public_key"] = to_hex(v.ephemeral_public_key->bytes);
    if (v.selected_algorithms)
        j["selected_algorithms"] = Traits<SecurityAlgorithms>::to_json(*v.selected_algorithms);
    if (v.signing_time) j["signing_time"] = *v.signing_time;  // ms since 1970-01-01 UTC
    return j;
}

std::string Traits<AuthenticationInfo>::text(const AuthenticationInfo& v) {
    std::string out = fmt::format("Authentication_Info v{}\n      user_info_id: {}", v.version,
                                  Traits<Octets>::text(v.user_info_id));
    if (v.public_key) out += "\n      public_key: " + Traits<Octets>::text(*v.public_key);
    if (v.certificate) out += "\n      certificate: " + Traits<Octets>::text(*v.certificate);
    out += fmt::format(
        "\n      signature_algorithm: {}",
        code_point_name(CodePointKind::signature_algorithm, u8_of(v.signature_algorithm)));
    out += "\n      signature: " + Traits<Octets>::text(v.signature);
    if (v.nonce) out += fmt::format("\n      nonce: {}", to_hex(*v.nonce));
    if (v.ephemeral_public_key)
        out += "\n      ephemeral_public_key: " + Traits<Octets>::text(*v.ephemeral_public_key);
    if (v.selected_algorithms)
        out += "\n      selected_algorithms: " +
               Traits<SecurityAlgorithms>::text(*v.selected_algorithms);
    if (v.signing_time)
        out += fmt::format("\n      signing_time: {} ms since 1970-01-01 UTC", *v.signing_time);
    return out;
}

}  // namespace detail

Result<KeyEstInfo> decode_key_est_info(std::span<const std::uint8_t> bytes) {
    Reader r(bytes);
    auto out = detail::Traits<KeyEstInfo>::read(r);
    if (!out) return detail::relabel(std::move(out).error(), "key_est_info");
    return out;
}

Status encode_key_est_info(const KeyEstInfo& info, std::vector<std::uint8_t>& out) {
    const std::size_t before = out.size();
    Writer w(out);
    if (auto st = detail::Traits<KeyEstInfo>::write_checked(w, info); !st) {
        out.resize(before);
        return detail::relabel(std::move(st).error(), "key_est_info");
    }
    return {};
}

Result<AuthenticationInfo> decode_authentication_info(std::span<const std::uint8_t> bytes) {
    Reader r(bytes);
    auto out = detail::Traits<AuthenticationInfo>::read(r);
    if (!out) return detail::relabel(std::move(out).error(), "authentication_info");
    return out;
}

Status encode_authentication_info(const AuthenticationInfo& info, std::vector<std::uint8_t>& out) {
    const std::size_t before = out.size();
    Writer w(out);
    if (auto st = detail::Traits<AuthenticationInfo>::write_checked(w, info); !st) {
        out.resize(before);
        return detail::relabel(std::move(st).error(), "authentication_info");
    }
    return {};
}

}  // namespace pc5sec::codec
