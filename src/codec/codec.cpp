// The message codec: one visitor per job (encode, decode the mandatory part, decode one optional
// IE, JSON, text, Wireshark schema) over each message's `fields()` list.
#include "pc5sec/codec.hpp"

#include <cstdint>

#include "values.hpp"

namespace pc5sec::codec {

using detail::json;
using detail::relabel;
using detail::Traits;

namespace {

std::uint8_t u8_of(Iei iei) {
    return static_cast<std::uint8_t>(iei);
}
const char* iei_name(Iei iei) {
    return code_point_name(CodePointKind::iei, u8_of(iei));
}

std::string path(const char* msg, const char* name) {
    return std::string(msg) + "." + name;
}

template <class T>
concept Container = requires(Writer& w, const T& v) {
    Traits<T>::write_checked(w, v);
};

// ---------------- encoder ----------------

struct Encoder {
    Writer& w;
    const char* msg;
    std::optional<Error> err;

    template <class T>
    void put(const T& v, const char* name) {
        Status st;
        if constexpr (Container<T>) {
            st = Traits<T>::write_checked(w, v);
        } else {
            st = Traits<T>::check(v);
            if (st) Traits<T>::write(w, v);
        }
        if (!st) {
            Error e = relabel(std::move(st).error(), path(msg, name));
            if (e.code == Errc::malformed) e.code = Errc::invalid_argument;
            err = std::move(e);
        }
    }
    template <class T>
    void length_prefixed(const T& v, const char* name, std::size_t octets) {
        const std::size_t at = w.length_placeholder(octets);
        put(v, name);
        if (err) return;
        if (auto st = w.patch_length(at, octets, ""); !st)
            err = relabel(std::move(st).error(), path(msg, name));
    }
    template <class T>
    void v(const char* name, const T& x) {
        if (!err) put(x, name);
    }
    template <class T>
    void lv(const char* name, const T& x) {
        if (!err) length_prefixed(x, name, 1);
    }
    template <class T>
    void lve(const char* name, const T& x) {
        if (!err) length_prefixed(x, name, 2);
    }
    template <class T>
    void tv(Iei iei, const std::optional<T>& x) {
        if (err || !x) return;
        w.u8(u8_of(iei));
        put(*x, iei_name(iei));
    }
    template <class T>
    void tlv(Iei iei, const std::optional<T>& x) {
        if (err || !x) return;
        w.u8(u8_of(iei));
        length_prefixed(*x, iei_name(iei), 1);
    }
    template <class T>
    void tlve(Iei iei, const std::optional<T>& x) {
        if (err || !x) return;
        w.u8(u8_of(iei));
        length_prefixed(*x, iei_name(iei), 2);
    }
    void t1(Iei iei, const std::optional<RelayIndication>& x) {
        if (err || !x) return;
        if (auto st = Traits<RelayIndication>::check(*x); !st) {
            Error e = relabel(std::move(st).error(), path(msg, iei_name(iei)));
            e.code = Errc::invalid_argument;
            err = std::move(e);
            return;
        }
        w.u8(static_cast<std::uint8_t>(u8_of(iei) | static_cast<std::uint8_t>(*x)));
    }
    void t2(Iei iei, bool x) {
        if (!err && x) w.u8(u8_of(iei));
    }
};

// ---------------- decoder ----------------

Error missing_mandatory(const char* msg, const char* name) {
    return make_error(Errc::malformed, path(msg, name),
                      "missing mandatory IE: the message ends before it");
}
Error truncated(std::string field, std::size_t need, std::size_t left) {
    return make_error(Errc::malformed, std::move(field),
                      fmt::format("truncated: needs {} octets, {} left", need, left));
}
Error past_end(std::string field, std::size_t len, std::size_t left) {
    return make_error(Errc::malformed, std::move(field),
                      fmt::format("length past the end: length {}, {} octets left", len, left));
}

// Reads a value of exactly `len` octets from `r` into `out`.
template <class T>
std::optional<Error> read_value(Reader& r, std::size_t len, T& out, const char* msg,
                                const char* name) {
    if (Traits<T>::kSize != 0 && len != Traits<T>::kSize)
        return make_error(Errc::malformed, path(msg, name) + ".length",
                          fmt::format("must be {}, got {}", Traits<T>::kSize, len));
    auto sub = r.sub(len, "");
    if (!sub) return truncated(path(msg, name), len, r.remaining());
    auto v = Traits<T>::read(*sub);
    if (!v) return relabel(std::move(v).error(), path(msg, name));
    out = std::move(*v);
    return std::nullopt;
}

// Reads a 1- or 2-octet length and checks it against what is left. `field()` names it; it is
// called only on error, so a good message costs no string building.
template <class FieldFn>
std::optional<Error> read_length(Reader& r, std::size_t octets, std::size_t& len, FieldFn&& field) {
    if (r.remaining() < octets) return truncated(field(), octets, r.remaining());
    len = octets == 1 ? *r.u8("") : *r.u16("");
    if (len > r.remaining()) return past_end(field(), len, r.remaining());
    return std::nullopt;
}

struct MandatoryDecoder {
    Reader& r;
    const char* msg;
    std::optional<Error> err;

    template <class T>
    void v(const char* name, T& x) {
        if (err) return;
        if (r.empty()) {
            err = missing_mandatory(msg, name);
            return;
        }
        if (r.remaining() < Traits<T>::kSize) {
            err = truncated(path(msg, name), Traits<T>::kSize, r.remaining());
            return;
        }
        err = read_value(r, Traits<T>::kSize, x, msg, name);
    }
    template <class T>
    void prefixed(const char* name, T& x, std::size_t octets) {
        if (err) return;
        if (r.empty()) {
            err = missing_mandatory(msg, name);
            return;
        }
        std::size_t len = 0;
        err = read_length(r, octets, len, [&] { return path(msg, name) + ".length"; });
        if (!err) err = read_value(r, len, x, msg, name);
    }
    template <class T>
    void lv(const char* name, T& x) {
        prefixed(name, x, 1);
    }
    template <class T>
    void lve(const char* name, T& x) {
        prefixed(name, x, 2);
    }
    template <class T>
    void tv(Iei, std::optional<T>&) {}
    template <class T>
    void tlv(Iei, std::optional<T>&) {}
    template <class T>
    void tlve(Iei, std::optional<T>&) {}
    void t1(Iei, std::optional<RelayIndication>&) {}
    void t2(Iei, bool&) {}
};

// Decodes the one optional IE whose IEI octet was just read, if the message has it.
struct OptionalDecoder {
    Reader& r;
    const char* msg;
    std::uint8_t iei;
    std::uint32_t& seen;
    bool matched = false;
    unsigned index = 0;
    std::optional<Error> err;

    bool take(bool match, Iei which) {
        const unsigned i = index++;
        if (matched || !match) return false;
        matched = true;
        if (seen & (1u << i)) {
            err = make_error(Errc::malformed, path(msg, iei_name(which)),
                             fmt::format("duplicate IE: ie 0x{:02x} appears twice", iei));
            return false;
        }
        seen |= 1u << i;
        return true;
    }
    template <class T>
    void v(const char*, T&) {}
    template <class T>
    void lv(const char*, T&) {}
    template <class T>
    void lve(const char*, T&) {}
    template <class T>
    void tv(Iei id, std::optional<T>& x) {
        if (!take(iei == u8_of(id), id)) return;
        if (r.remaining() < Traits<T>::kSize) {
            err = truncated(path(msg, iei_name(id)), Traits<T>::kSize, r.remaining());
            return;
        }
        x.emplace();
        err = read_value(r, Traits<T>::kSize, *x, msg, iei_name(id));
    }
    template <class T>
    void prefixed(Iei id, std::optional<T>& x, std::size_t octets) {
        if (!take(iei == u8_of(id), id)) return;
        std::size_t len = 0;
        err = read_length(r, octets, len, [&] { return path(msg, iei_name(id)) + ".length"; });
        if (err) return;
        x.emplace();
        err = read_value(r, len, *x, msg, iei_name(id));
    }
    template <class T>
    void tlv(Iei id, std::optional<T>& x) {
        prefixed(id, x, 1);
    }
    template <class T>
    void tlve(Iei id, std::optional<T>& x) {
        prefixed(id, x, 2);
    }
    void t1(Iei id, std::optional<RelayIndication>& x) {
        if (!take((iei & 0xf0) == u8_of(id), id)) return;
        const auto value = static_cast<RelayIndication>(iei & 0x0f);
        if (auto st = Traits<RelayIndication>::check(value); !st) {
            err = relabel(std::move(st).error(), path(msg, iei_name(id)));
            return;
        }
        x = value;
    }
    void t2(Iei id, bool& x) {
        if (take(iei == u8_of(id), id)) x = true;
    }
};

// Skips an optional IE this message does not know (TS 24.007 11.2.4, rule in codec.hpp).
std::optional<Error> skip_unknown(Reader& r, std::uint8_t iei, const char* msg) {
    if (iei & 0x80) return std::nullopt;  // type 1 or 2: the IEI octet was the whole IE
    const std::size_t octets = (iei & 0xf0) == 0x70 ? 2 : 1;
    std::size_t len = 0;
    if (auto e = read_length(r, octets, len,
                             [&] { return fmt::format("{}.ie 0x{:02x} length", msg, iei); }))
        return e;
    (void)r.bytes(len, "");
    return std::nullopt;
}

template <class M>
Result<Message> decode_body(Reader& r, std::uint8_t seq) {
    M m;
    m.seq = seq;
    const char* msg = message_name(M::kType);
    MandatoryDecoder md{r, msg, std::nullopt};
    M::fields(md, m);
    if (md.err) return std::move(*md.err);
    std::uint32_t seen = 0;
    while (!r.empty()) {
        const std::uint8_t iei = *r.u8("");
        OptionalDecoder od{r, msg, iei, seen, false, 0, std::nullopt};
        M::fields(od, m);
        if (od.err) return std::move(*od.err);
        if (!od.matched)
            if (auto e = skip_unknown(r, iei, msg)) return std::move(*e);
    }
    return Message{std::move(m)};
}

template <std::size_t I = 0>
Result<Message> decode_as(std::uint8_t type, Reader& r, std::uint8_t seq) {
    if constexpr (I < std::variant_size_v<Message>) {
        using M = std::variant_alternative_t<I, Message>;
        if (static_cast<std::uint8_t>(M::kType) == type) return decode_body<M>(r, seq);
        return decode_as<I + 1>(type, r, seq);
    } else {
        if (type == static_cast<std::uint8_t>(MessageType::reserved))
            return detail::reserved("message_type", type, "a message type");
        if (const CodePoint* row = find_code_point(CodePointKind::message_type, type))
            return make_error(Errc::unsupported, "message_type",
                              fmt::format("unknown message type 0x{:02x}: {} is not implemented",
                                          type, row->title));
        return make_error(Errc::unsupported, "message_type",
                          fmt::format("unknown message type 0x{:02x}", type));
    }
}

// ---------------- JSON, text, schema ----------------

struct JsonWriter {
    json& j;
    template <class T>
    void v(const char* name, const T& x) {
        j[name] = Traits<T>::to_json(x);
    }
    template <class T>
    void lv(const char* name, const T& x) {
        v(name, x);
    }
    template <class T>
    void lve(const char* name, const T& x) {
        v(name, x);
    }
    template <class T>
    void tv(Iei id, const std::optional<T>& x) {
        if (x) j[iei_name(id)] = Traits<T>::to_json(*x);
    }
    template <class T>
    void tlv(Iei id, const std::optional<T>& x) {
        tv(id, x);
    }
    template <class T>
    void tlve(Iei id, const std::optional<T>& x) {
        tv(id, x);
    }
    void t1(Iei id, const std::optional<RelayIndication>& x) { tv(id, x); }
    void t2(Iei id, bool x) {
        if (x) j[iei_name(id)] = true;
    }
};

struct TextWriter {
    std::string& out;
    template <class T>
    void line(const char* name, const T& x, const char* tag) {
        out += fmt::format("  {}{}: {}\n", name, tag, Traits<T>::text(x));
    }
    template <class T>
    void v(const char* name, const T& x) {
        line(name, x, "");
    }
    template <class T>
    void lv(const char* name, const T& x) {
        line(name, x, "");
    }
    template <class T>
    void lve(const char* name, const T& x) {
        line(name, x, "");
    }
    template <class T>
    void tv(Iei id, const std::optional<T>& x) {
        if (!x) return;
        const CodePoint* row = find_code_point(CodePointKind::iei, u8_of(id));
        const bool prov = row && row->status == CodePointStatus::provisional;
        out += fmt::format("  {} [ie 0x{:02x}{}]: {}\n", iei_name(id), u8_of(id),
                           prov ? ", provisional" : "", Traits<T>::text(*x));
    }
    template <class T>
    void tlv(Iei id, const std::optional<T>& x) {
        tv(id, x);
    }
    template <class T>
    void tlve(Iei id, const std::optional<T>& x) {
        tv(id, x);
    }
    void t1(Iei id, const std::optional<RelayIndication>& x) { tv(id, x); }
    void t2(Iei id, bool x) {
        if (x) out += fmt::format("  {} [ie 0x{:02x}]: present\n", iei_name(id), u8_of(id));
    }
};

struct LayoutWriter {
    std::vector<IeLayout>& out;
    template <class T>
    void mandatory(IeFormat f, const char* name) {
        out.push_back(IeLayout{f, std::nullopt, name, Traits<T>::kValue, Traits<T>::kSize});
    }
    template <class T>
    void optional(IeFormat f, Iei id) {
        out.push_back(IeLayout{f, u8_of(id), iei_name(id), Traits<T>::kValue, Traits<T>::kSize});
    }
    template <class T>
    void v(const char* name, const T&) {
        mandatory<T>(IeFormat::v, name);
    }
    template <class T>
    void lv(const char* name, const T&) {
        mandatory<T>(IeFormat::lv, name);
    }
    template <class T>
    void lve(const char* name, const T&) {
        mandatory<T>(IeFormat::lve, name);
    }
    template <class T>
    void tv(Iei id, const std::optional<T>&) {
        optional<T>(IeFormat::tv, id);
    }
    template <class T>
    void tlv(Iei id, const std::optional<T>&) {
        optional<T>(IeFormat::tlv, id);
    }
    template <class T>
    void tlve(Iei id, const std::optional<T>&) {
        optional<T>(IeFormat::tlve, id);
    }
    void t1(Iei id, const std::optional<RelayIndication>&) {
        optional<RelayIndication>(IeFormat::t1, id);
    }
    void t2(Iei id, bool) {
        out.push_back(IeLayout{IeFormat::t2, u8_of(id), iei_name(id), IeValue::flag, 0});
    }
};

}  // namespace

const char* message_name(MessageType t) noexcept {
    return code_point_name(CodePointKind::message_type, static_cast<std::uint8_t>(t));
}

MessageType message_type(const Message& m) noexcept {
    return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::kType; }, m);
}

std::uint8_t sequence_number(const Message& m) noexcept {
    return std::visit([](const auto& x) { return x.seq; }, m);
}

Result<Message> decode(std::span<const std::uint8_t> bytes) {
    if (bytes.size() > kMaxMessageSize)
        return make_error(
            Errc::malformed, "message",
            fmt::format("oversize: {} octets, the maximum is {}", bytes.size(), kMaxMessageSize));
    Reader r(bytes);
    if (bytes.empty())
        return make_error(Errc::malformed, "message_type", "truncated message: no octets");
    const std::uint8_t type = *r.u8("");
    // A discovery message has no sequence number (TS 24.554 11.2.1).
    if (is_discovery(static_cast<MessageType>(type))) return decode_as(type, r, 0);
    if (r.empty())
        return make_error(Errc::malformed, "sequence_number",
                          "truncated message: it ends after the message type");
    const std::uint8_t seq = *r.u8("");
    return decode_as(type, r, seq);
}

Status encode(const Message& message, std::vector<std::uint8_t>& out) {
    const std::size_t before = out.size();
    Writer w(out);
    std::optional<Error> err = std::visit(
        [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            w.u8(static_cast<std::uint8_t>(M::kType));
            if constexpr (!is_discovery(M::kType)) w.u8(m.seq);
            Encoder e{w, message_name(M::kType), std::nullopt};
            M::fields(e, m);
            return std::move(e.err);
        },
        message);
    if (!err && out.size() - before > kMaxMessageSize)
        err = make_error(Errc::invalid_argument, message_name(message_type(message)),
                         fmt::format("oversize: {} octets, the maximum is {}", out.size() - before,
                                     kMaxMessageSize));
    if (err) {
        out.resize(before);
        return std::move(*err);
    }
    return {};
}

Result<std::vector<std::uint8_t>> encode(const Message& message) {
    std::vector<std::uint8_t> out;
    PC5SEC_TRY(encode(message, out));
    return out;
}

json to_json(const Message& message, std::span<const std::uint8_t> bytes) {
    json j;
    std::visit(
        [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            j["msg_type"] = static_cast<unsigned>(M::kType);
            j["msg_name"] = message_name(M::kType);
            if constexpr (!is_discovery(M::kType)) j["seq"] = m.seq;
            JsonWriter jw{j};
            M::fields(jw, m);
        },
        message);
    j["hex"] = to_hex(bytes);
    return j;
}

std::string to_text(const Message& message) {
    std::string out;
    std::visit(
        [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            const auto* row =
                find_code_point(CodePointKind::message_type, static_cast<std::uint8_t>(M::kType));
            out += fmt::format("{} (type 0x{:02x}, {})", row->title,
                               static_cast<unsigned>(M::kType), status_name(row->status));
            if constexpr (!is_discovery(M::kType)) out += fmt::format(", seq {}", m.seq);
            out += '\n';
            TextWriter tw{out};
            M::fields(tw, m);
        },
        message);
    return out;
}

const char* name(IeFormat f) noexcept {
    switch (f) {
        case IeFormat::v:
            return "v";
        case IeFormat::lv:
            return "lv";
        case IeFormat::lve:
            return "lve";
        case IeFormat::tv:
            return "tv";
        case IeFormat::tlv:
            return "tlv";
        case IeFormat::tlve:
            return "tlve";
        case IeFormat::t1:
            return "t1";
        case IeFormat::t2:
            return "t2";
    }
    return "unknown";
}

const char* name(IeValue v) noexcept {
    switch (v) {
        case IeValue::u8:
            return "u8";
        case IeValue::u16:
            return "u16";
        case IeValue::u24:
            return "u24";
        case IeValue::u32:
            return "u32";
        case IeValue::bytes:
            return "bytes";
        case IeValue::uesc:
            return "uesc";
        case IeValue::policy:
            return "policy";
        case IeValue::algs:
            return "algs";
        case IeValue::cause:
            return "cause";
        case IeValue::relay_indication:
            return "relay_indication";
        case IeValue::flag:
            return "flag";
        case IeValue::key_est_info:
            return "key_est_info";
        case IeValue::authentication_info:
            return "authentication_info";
    }
    return "unknown";
}

std::vector<MessageLayout> message_layouts() {
    std::vector<MessageLayout> out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                using M = std::variant_alternative_t<I, Message>;
                MessageLayout l{M::kType, {}};
                LayoutWriter lw{l.ies};
                const M m{};
                M::fields(lw, m);
                out.push_back(std::move(l));
            }(),
            ...);
    }
    (std::make_index_sequence<std::variant_size_v<Message>>{});
    return out;
}

namespace {
const MessageLayout* layout_of(MessageType t) {
    static const std::vector<MessageLayout> layouts = message_layouts();
    for (const auto& l : layouts)
        if (l.type == t) return &l;
    return nullptr;
}
}  // namespace

Result<std::vector<IeSpan>> ie_spans(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return make_error(Errc::malformed, "message", "empty");
    const auto type = static_cast<MessageType>(bytes[0]);
    const MessageLayout* layout = layout_of(type);
    if (!layout)
        return make_error(Errc::unsupported, "message.message_type",
                          fmt::format("0x{:02x} is not a message type pc5sec knows", bytes[0]));
    const std::string msg = message_name(type);
    std::size_t at = is_discovery(type) ? 1 : 2;
    if (bytes.size() < at) return make_error(Errc::malformed, msg + ".seq", "truncated");
    std::vector<IeSpan> out;
    // A length of `n` octets at `at`, then the value; the span, or an error naming `name`.
    auto length_value = [&](const IeLayout* l, std::size_t start, std::size_t len_at, std::size_t n,
                            const std::string& name) -> Status {
        if (bytes.size() < len_at + n)
            return make_error(Errc::malformed, msg + "." + name + ".length", "truncated");
        const std::size_t len =
            n == 1 ? bytes[len_at]
                   : static_cast<std::size_t>(bytes[len_at] << 8 | bytes[len_at + 1]);
        if (bytes.size() - (len_at + n) < len)
            return make_error(
                Errc::malformed, msg + "." + name,
                fmt::format("{} octets past the end", len - (bytes.size() - len_at - n)));
        out.push_back(IeSpan{l, start, len_at + n, len});
        at = len_at + n + len;
        return {};
    };
    for (const auto& ie : layout->ies) {  // the mandatory IEs, in order
        if (ie.iei) break;
        if (ie.format == IeFormat::v) {
            if (bytes.size() - at < ie.size)
                return make_error(Errc::malformed, msg + "." + ie.name, "truncated");
            out.push_back(IeSpan{&ie, at, at, ie.size});
            at += ie.size;
        } else {
            PC5SEC_TRY(length_value(&ie, at, at, ie.format == IeFormat::lv ? 1 : 2, ie.name));
        }
    }
    while (at < bytes.size()) {  // the optional IEs, each led by its IEI
        const std::uint8_t b = bytes[at];
        const IeLayout* known = nullptr;
        for (const auto& ie : layout->ies)
            if (ie.iei && ((ie.format == IeFormat::t1 && (b & 0xF0) == *ie.iei) || *ie.iei == b))
                known = &ie;
        const std::string name = known ? std::string(known->name) : fmt::format("ie 0x{:02x}", b);
        if (b & 0x80) {  // type 1 or 2: the IEI octet alone
            out.push_back(IeSpan{known, at, at + 1, 0});
            ++at;
        } else if (known && known->format == IeFormat::tv) {
            if (bytes.size() - at - 1 < known->size)
                return make_error(Errc::malformed, msg + "." + name, "truncated");
            out.push_back(IeSpan{known, at, at + 1, known->size});
            at += 1 + known->size;
        } else {
            PC5SEC_TRY(length_value(known, at, at + 1, (b & 0xF0) == 0x70 ? 2 : 1, name));
        }
    }
    return out;
}

}  // namespace pc5sec::codec
