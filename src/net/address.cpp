// Addresses, layer-2 IDs and peers as the command line gives them (docs/udp.md).
#include <arpa/inet.h>

#include <charconv>

#include <fmt/format.h>

#include "pc5sec/net.hpp"

namespace pc5sec::net {

std::string Address::to_string() const {
    return fmt::format("{}.{}.{}.{}:{}", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF,
                       port);
}

Result<Address> parse_address(std::string_view text, std::string_view field) {
    const auto colon = text.rfind(':');
    auto bad = [&](std::string why) {
        return make_error(Errc::invalid_argument, std::string(field),
                          fmt::format("\"{}\": {}", text, why));
    };
    if (colon == std::string_view::npos) return bad("not ADDR:PORT (e.g. 127.0.0.1:5001)");
    const std::string host(text.substr(0, colon));
    const auto port_text = text.substr(colon + 1);
    in_addr a{};
    if (host.empty() || inet_pton(AF_INET, host.c_str(), &a) != 1)
        return bad(fmt::format("address \"{}\" is not an IPv4 address A.B.C.D", host));
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        port > 65535)
        return bad(fmt::format("port \"{}\" is not a number 0..65535", port_text));
    return Address{ntohl(a.s_addr), static_cast<std::uint16_t>(port)};
}

Result<pc5::L2Id> parse_l2_id(std::string_view text, std::string_view field) {
    auto bad = [&](std::string why) {
        return make_error(Errc::invalid_argument, std::string(field),
                          fmt::format("layer-2 ID \"{}\": {}", text, why));
    };
    auto digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
    if (digits.empty() || digits.size() > 6) return bad("1 to 6 hex digits (24 bits)");
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return bad("not hex");
    if (v == 0) return bad("0 is not a UE's ID");
    if (v == pc5::kBroadcastL2Id) return bad("0xffffff is the broadcast ID");
    return v;
}

std::string format_l2_id(pc5::L2Id id) {
    return fmt::format("0x{:06x}", id);
}

Result<Peer> parse_peer(std::string_view text, std::string_view field) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos)
        return make_error(Errc::invalid_argument, std::string(field),
                          fmt::format("\"{}\": not [NAME:]L2ID=ADDR:PORT "
                                      "(e.g. bob:0x00000b=127.0.0.1:5003)",
                                      text));
    Peer p;
    auto left = text.substr(0, eq);
    if (const auto colon = left.find(':'); colon != std::string_view::npos) {
        p.name = std::string(left.substr(0, colon));
        left = left.substr(colon + 1);
        if (p.name.empty())
            return make_error(Errc::invalid_argument, std::string(field),
                              fmt::format("\"{}\": the name before ':' is empty", text));
    }
    const std::string where = fmt::format("{} {}", field, text);
    auto l2 = parse_l2_id(left, where);
    if (!l2) return std::move(l2).error();
    p.l2 = *l2;
    auto addr = parse_address(text.substr(eq + 1), where);
    if (!addr) return std::move(addr).error();
    if (addr->port == 0)
        return make_error(Errc::invalid_argument, where, "port 0: a peer needs its real port");
    p.address = *addr;
    return p;
}

const char* name(UeRole r) noexcept {
    switch (r) {
        case UeRole::source:
            return "source";
        case UeRole::relay:
            return "relay";
        case UeRole::target:
            return "target";
    }
    return "?";
}

Result<UeRole> ue_role_from_name(std::string_view text, std::string_view field) {
    if (text == "source") return UeRole::source;
    if (text == "relay") return UeRole::relay;
    if (text == "target") return UeRole::target;
    return make_error(Errc::invalid_argument, std::string(field),
                      fmt::format("\"{}\": source, relay or target", text));
}

}  // namespace pc5sec::net
