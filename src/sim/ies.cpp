#include "sim/ies.hpp"

#include <fmt/format.h>

#include <utility>

#include "codec/values.hpp"
#include "pc5sec/codec.hpp"

namespace pc5sec::sim {
namespace {

using codec::Iei;
using codec::MessageType;
template <class T>
using Tr = codec::detail::Traits<T>;

const char* iei_name(Iei i) {
    return codec::code_point_name(codec::CodePointKind::iei, static_cast<std::uint8_t>(i));
}

template <class T>
Result<T> read_value(std::span<const std::uint8_t> bytes) {
    if constexpr (std::is_same_v<T, codec::RelayIndication>) {
        if (bytes.size() != 1 || bytes[0] > 2)
            return make_error(Errc::invalid_argument, "", "a relay indication is 0, 1 or 2");
        return static_cast<codec::RelayIndication>(bytes[0]);
    } else {
        if (Tr<T>::kSize && bytes.size() != Tr<T>::kSize)
            return make_error(Errc::invalid_argument, "",
                              fmt::format("{} octets, got {}", Tr<T>::kSize, bytes.size()));
        pc5sec::Reader r(bytes);
        auto v = Tr<T>::read(r);
        if (!v) return std::move(v).error();
        if (!r.empty())
            return make_error(Errc::invalid_argument, "",
                              fmt::format("{} octets too many", r.remaining()));
        if (auto ok = Tr<T>::check(*v); !ok) return ok.error();
        return v;
    }
}

template <class T>
std::vector<std::uint8_t> write_value(const T& x) {
    std::vector<std::uint8_t> out;
    if constexpr (std::is_same_v<T, codec::RelayIndication>) {
        out.push_back(static_cast<std::uint8_t>(x));
    } else {
        pc5sec::Writer w(out);
        if constexpr (std::is_same_v<T, codec::KeyEstInfo> ||
                      std::is_same_v<T, codec::AuthenticationInfo>)
            (void)Tr<T>::write_checked(w, x);
        else
            Tr<T>::write(w, x);
    }
    return out;
}

template <class T>
constexpr std::size_t size_of() {
    if constexpr (std::is_same_v<T, codec::RelayIndication>)
        return 1;
    else
        return Tr<T>::kSize;
}

// Walks a message's fields (the codec's own list) and acts on the one named `want`.
struct Access {
    enum class Mode : std::uint8_t { info, set, get } mode = Mode::info;
    std::string_view want;
    std::optional<std::span<const std::uint8_t>> value;  // set: nullopt removes
    std::optional<IeInfo> info;
    Status status;
    std::optional<std::vector<std::uint8_t>> out;

    // Sets `x` from `value`, or records why it cannot.
    template <class T>
    void take(T& x) {
        auto v = read_value<T>(*value);
        if (!v)
            status = std::move(v).error();
        else
            x = *v;
    }
    template <class T>
    void mandatory(const char* n, T& x) {
        if (want != n) return;
        info = IeInfo{true, size_of<T>(), false};
        if (mode == Mode::get) out = write_value(x);
        if (mode != Mode::set) return;
        if (!value) {
            status = make_error(Errc::invalid_argument, "", "a mandatory IE cannot be removed");
            return;
        }
        take(x);
    }
    template <class T>
    void optional(Iei i, std::optional<T>& x) {
        if (want != iei_name(i)) return;
        info = IeInfo{false, size_of<T>(), false};
        if (mode == Mode::get && x) out = write_value(*x);
        if (mode != Mode::set) return;
        if (!value) {
            x.reset();
            return;
        }
        T v{};
        take(v);
        if (status) x = v;
    }
    template <class T>
    void v(const char* n, T& x) {
        mandatory(n, x);
    }
    template <class T>
    void lv(const char* n, T& x) {
        mandatory(n, x);
    }
    template <class T>
    void lve(const char* n, T& x) {
        mandatory(n, x);
    }
    template <class T>
    void tv(Iei i, std::optional<T>& x) {
        optional(i, x);
    }
    template <class T>
    void tlv(Iei i, std::optional<T>& x) {
        optional(i, x);
    }
    template <class T>
    void tlve(Iei i, std::optional<T>& x) {
        optional(i, x);
    }
    void t1(Iei i, std::optional<codec::RelayIndication>& x) { optional(i, x); }
    void t2(Iei i, bool& x) {
        if (want != iei_name(i)) return;
        info = IeInfo{false, 1, true};
        if (mode == Mode::get && x) out = std::vector<std::uint8_t>{1};
        if (mode != Mode::set) return;
        if (value && (value->size() != 1 || (*value)[0] > 1))
            status = make_error(Errc::invalid_argument, "", "presence only: true or false");
        else
            x = value && (*value)[0] == 1;
    }
};

void walk(codec::Message& m, Access& a) {
    std::visit([&](auto& msg) { std::decay_t<decltype(msg)>::fields(a, msg); }, m);
}

template <std::size_t... I>
std::optional<codec::Message> blank(MessageType t, std::index_sequence<I...>) {
    std::optional<codec::Message> out;
    ((std::variant_alternative_t<I, codec::Message>::kType == t
          ? (void)out.emplace(std::in_place_index<I>)
          : void()),
     ...);
    return out;
}

}  // namespace

std::optional<codec::Message> blank_message(MessageType type) {
    return blank(type, std::make_index_sequence<std::variant_size_v<codec::Message>>{});
}

std::optional<MessageType> message_type_named(std::string_view name) {
    for (const auto& c : codec::code_point_table())
        if (c.kind == codec::CodePointKind::message_type && name == c.name && c.value != 0)
            return static_cast<MessageType>(c.value);
    return std::nullopt;
}

std::optional<IeInfo> ie_info(MessageType type, std::string_view ie) {
    auto m = blank_message(type);
    if (!m) return std::nullopt;
    Access a;
    a.want = ie;
    walk(*m, a);
    return a.info;
}

bool known_ie(std::string_view ie) {
    for (const auto& c : codec::code_point_table())
        if (c.kind == codec::CodePointKind::message_type && c.value != 0 &&
            ie_info(static_cast<MessageType>(c.value), ie))
            return true;
    return false;
}

Status set_ie(codec::Message& m, std::string_view ie,
              std::optional<std::span<const std::uint8_t>> value) {
    Access a;
    a.mode = Access::Mode::set;
    a.want = ie;
    a.value = value;
    walk(m, a);
    if (!a.info)
        return make_error(
            Errc::invalid_argument, "",
            fmt::format("{} has no IE {}", codec::message_name(codec::message_type(m)), ie));
    return a.status;
}

std::optional<std::vector<std::uint8_t>> ie_value(const codec::Message& m, std::string_view ie) {
    Access a;
    a.mode = Access::Mode::get;
    a.want = ie;
    auto copy = m;
    walk(copy, a);
    return a.out;
}

std::vector<std::uint8_t> bearers_of(MessageType type, pc5::Solution solution) {
    using namespace pc5::lcid;
    switch (type) {
        case MessageType::u2u_relay_discovery_announcement:
        case MessageType::u2u_relay_discovery_solicitation:
        case MessageType::u2u_relay_discovery_response:
            return {kDiscovery};
        case MessageType::establishment_request:
        case MessageType::establishment_reject:
            return {kSrb0};
        case MessageType::establishment_accept:
            // Solution A: after the security mode command, ciphered (TS 33.536 5.3.3.1.4).
            return solution == pc5::Solution::a ? std::vector<std::uint8_t>{kSrb2}
                                                : std::vector<std::uint8_t>{kSrb0};
        case MessageType::modification_request:
        case MessageType::modification_accept:
        case MessageType::modification_reject:
        case MessageType::reserved:
            return {};  // pc5sec sends none
        default:
            break;
    }
    if (solution != pc5::Solution::a) {
        // Solution B: release and keep-alive under KD-sess, end to end (seed 001).
        switch (type) {
            case MessageType::release_request:
            case MessageType::release_accept:
            case MessageType::keepalive_request:
            case MessageType::keepalive_response:
                return {kSrb2};
            default:
                return {};
        }
    }
    switch (type) {
        case MessageType::authentication_request:
        case MessageType::authentication_response:
        case MessageType::authentication_reject:
        case MessageType::authentication_failure:
            return {kSrb0};  // before any security context (seed 000 step 3)
        case MessageType::security_mode_command:
        case MessageType::security_mode_complete:
            return {kSrb1};
        case MessageType::security_mode_reject:
            return {kSrb0, kSrb2};  // first establishment in clear; re-keying under the keys
        default:
            return {kSrb2};
    }
}

bool readable_without_keys(MessageType type, pc5::Solution solution) {
    for (auto b : bearers_of(type, solution))
        if (b == pc5::lcid::kSrb0 || b == pc5::lcid::kDiscovery ||
            (b == pc5::lcid::kSrb1 && type == MessageType::security_mode_command))
            return true;
    return false;
}

}  // namespace pc5sec::sim
