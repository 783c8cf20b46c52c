#include "pc5sec/srap.hpp"

namespace pc5sec::srap {

Status append_header(const Header& h, std::vector<std::uint8_t>& out) {
    if (h.bearer > 31)
        return make_error(Errc::invalid_argument, "srap.bearer", "the bearer ID has 5 bits");
    out.push_back(static_cast<std::uint8_t>(0x80 | h.bearer));
    out.push_back(h.src_ue);
    out.push_back(h.dst_ue);
    return {};
}

Result<Header> parse_header(std::span<const std::uint8_t> pdu) {
    if (pdu.size() < kHeaderSize)
        return make_error(Errc::malformed, "srap.header", "an SRAP header has 3 octets");
    if ((pdu[0] & 0x80) == 0)
        return make_error(Errc::malformed, "srap.dc", "only data PDUs (D/C = 1) are relayed");
    if ((pdu[0] & 0x60) != 0)
        return make_error(Errc::malformed, "srap.reserved", "reserved bits must be zero");
    return Header{static_cast<std::uint8_t>(pdu[0] & 0x1F), pdu[1], pdu[2]};
}

}  // namespace pc5sec::srap
