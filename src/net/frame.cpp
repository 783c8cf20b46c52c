// The UDP frame of docs/udp.md: one PC5 frame per datagram behind a 10-octet header.
#include <fmt/format.h>

#include "pc5sec/net.hpp"

namespace pc5sec::net {

pc5::Frame FrameView::to_frame() const {
    pc5::Frame f;
    f.src = src;
    f.dst = dst;
    f.lcid = lcid;
    f.pdu.assign(pdu.begin(), pdu.end());
    return f;
}

namespace {
constexpr std::uint8_t kLcidMask = 0x3F;

void put24(std::uint8_t* out, std::uint32_t v) {
    out[0] = static_cast<std::uint8_t>(v >> 16);
    out[1] = static_cast<std::uint8_t>(v >> 8);
    out[2] = static_cast<std::uint8_t>(v);
}
std::uint32_t get24(const std::uint8_t* in) {
    return static_cast<std::uint32_t>(in[0]) << 16 | static_cast<std::uint32_t>(in[1]) << 8 | in[2];
}
}  // namespace

Result<std::vector<std::uint8_t>> encode_frame(const pc5::Frame& frame) {
    if (frame.src > pc5::kMaxL2Id || frame.src == pc5::kBroadcastL2Id)
        return make_error(Errc::invalid_argument, "src",
                          fmt::format("layer-2 ID 0x{:x} is not a UE's 24-bit ID", frame.src));
    if (frame.dst > pc5::kMaxL2Id)
        return make_error(Errc::invalid_argument, "dst",
                          fmt::format("layer-2 ID 0x{:x} is above 24 bits", frame.dst));
    if (frame.lcid > kLcidMask)
        return make_error(Errc::invalid_argument, "lcid",
                          fmt::format("LCID {} is above 63", frame.lcid));
    if (frame.pdu.empty() || frame.pdu.size() > kMaxPdu)
        return make_error(Errc::invalid_argument, "pdu",
                          fmt::format("{} octets (1..{})", frame.pdu.size(), kMaxPdu));
    std::vector<std::uint8_t> out(kHeaderSize + frame.pdu.size());
    out[0] = kMagic[0];
    out[1] = kMagic[1];
    out[2] = kVersion;
    put24(&out[3], frame.src);
    put24(&out[6], frame.dst);
    out[9] = frame.lcid;
    std::copy(frame.pdu.begin(), frame.pdu.end(), out.begin() + kHeaderSize);
    return out;
}

Result<FrameView> decode_frame(std::span<const std::uint8_t> d) {
    if (d.size() < kHeaderSize)
        return make_error(
            Errc::malformed, "udp.header",
            fmt::format("{} octets, shorter than the {}-octet header", d.size(), kHeaderSize));
    if (d[0] != kMagic[0] || d[1] != kMagic[1])
        return make_error(
            Errc::malformed, "udp.magic",
            fmt::format("{:02x}{:02x}, not 5035 (\"P5\"): not a pc5sec frame", d[0], d[1]));
    if (d[2] != kVersion)
        return make_error(Errc::malformed, "udp.version",
                          fmt::format("version {}, this pc5sec speaks {}", d[2], kVersion));
    if ((d[9] & ~kLcidMask) != 0)
        return make_error(
            Errc::malformed, "udp.reserved",
            fmt::format("octet 9 is 0x{:02x}: the two bits before the LCID are set", d[9]));
    FrameView v;
    v.src = get24(&d[3]);
    v.dst = get24(&d[6]);
    v.lcid = d[9];
    if (v.src == pc5::kBroadcastL2Id)
        return make_error(Errc::malformed, "udp.src", "the broadcast ID is not a source");
    v.pdu = d.subspan(kHeaderSize);
    if (v.pdu.empty() || v.pdu.size() > kMaxPdu)
        return make_error(Errc::malformed, "udp.pdu",
                          fmt::format("{} octets (1..{})", v.pdu.size(), kMaxPdu));
    return v;
}

}  // namespace pc5sec::net
