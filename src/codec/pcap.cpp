#include "pc5sec/pcap.hpp"

#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "pc5sec/cursor.hpp"
#include "pc5sec/files.hpp"

namespace pc5sec::pcap {
namespace {

constexpr std::uint32_t kMagic = 0xa1b2c3d4;  // microsecond timestamps
constexpr std::uint32_t kSnapLen = 65535;

void le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void le16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}

}  // namespace

PcapWriter::PcapWriter() {
    le32(bytes_, kMagic);
    le16(bytes_, 2);
    le16(bytes_, 4);
    le32(bytes_, 0);  // thiszone
    le32(bytes_, 0);  // sigfigs
    le32(bytes_, kSnapLen);
    le32(bytes_, kLinkTypeUser0);
}

Status PcapWriter::add(std::uint64_t timestamp_us, const FrameHeader& h,
                       std::span<const std::uint8_t> message) {
    if (h.sender_l2_id > 0xffffff)
        return make_error(Errc::invalid_argument, "sender_l2_id", "a layer-2 ID is 24 bits");
    if (h.receiver_l2_id > 0xffffff)
        return make_error(Errc::invalid_argument, "receiver_l2_id", "a layer-2 ID is 24 bits");
    if (h.direction > kDirectionUnknown)
        return make_error(Errc::invalid_argument, "direction", "must be 0, 1 or 2 (unknown)");
    const std::size_t len = kFrameHeaderSize + message.size();
    if (len > kSnapLen)
        return make_error(Errc::invalid_argument, "message", "oversize: over the snap length");
    le32(bytes_, static_cast<std::uint32_t>(timestamp_us / 1000000));
    le32(bytes_, static_cast<std::uint32_t>(timestamp_us % 1000000));
    le32(bytes_, static_cast<std::uint32_t>(len));
    le32(bytes_, static_cast<std::uint32_t>(len));
    Writer w(bytes_);
    w.u8(kFrameHeaderVersion);
    w.u8(static_cast<std::uint8_t>(kFrameHeaderSize));
    w.u24(h.sender_l2_id);
    w.u24(h.receiver_l2_id);
    w.u8(h.hop);
    w.u8(h.direction);
    w.u8(h.lcid);
    w.u8(h.flags);
    w.bytes(message);
    return {};
}

Status PcapWriter::save(const std::string& path) const {
    // Replaced atomically (pc5sec/files.hpp): a reader never sees half a capture.
    return files::write_file(
        path, std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()), 0644);
}

Result<std::vector<Frame>> parse(std::span<const std::uint8_t> file) {
    Reader r(file);
    if (r.remaining() < 24)
        return make_error(Errc::malformed, "pcap header", "truncated: under 24 octets");
    auto magic_be = *r.u32("");
    bool little;
    if (magic_be == 0xd4c3b2a1)
        little = true;
    else if (magic_be == kMagic)
        little = false;
    else
        return make_error(Errc::malformed, "pcap header",
                          fmt::format("not a microsecond pcap file (magic 0x{:08x})", magic_be));
    auto rd32 = [&](Reader& rr) -> std::uint32_t {
        const std::uint32_t v = *rr.u32("");
        return little ? __builtin_bswap32(v) : v;
    };
    (void)r.bytes(16, "");  // version, thiszone, sigfigs, snaplen
    const std::uint32_t linktype = rd32(r);
    if (linktype != kLinkTypeUser0)
        return make_error(Errc::unsupported, "pcap header",
                          fmt::format("link type {} is not USER0 (147)", linktype));
    std::vector<Frame> frames;
    while (!r.empty()) {
        const std::string name = fmt::format("frame {}", frames.size() + 1);
        if (r.remaining() < 16) return make_error(Errc::malformed, name, "truncated record header");
        Frame f;
        const std::uint64_t sec = rd32(r);
        const std::uint64_t usec = rd32(r);
        f.timestamp_us = sec * 1000000 + usec;
        const std::uint32_t incl = rd32(r);
        (void)rd32(r);
        if (incl > r.remaining())
            return make_error(
                Errc::malformed, name,
                fmt::format("length past the end: {} octets, {} left", incl, r.remaining()));
        Reader fr = *r.sub(incl, "");
        if (fr.remaining() < kFrameHeaderSize)
            return make_error(Errc::malformed, name + ".header", "truncated: under 12 octets");
        const std::uint8_t version = *fr.u8("");
        const std::uint8_t hlen = *fr.u8("");
        if (version < 1 || version > kFrameHeaderVersion)
            return make_error(Errc::unsupported, name + ".header",
                              fmt::format("frame header version {} (only 1 to {})", version,
                                          kFrameHeaderVersion));
        if (hlen < kFrameHeaderSize || hlen > incl)
            return make_error(Errc::malformed, name + ".header",
                              fmt::format("bad header length {}", hlen));
        f.header.version = version;
        f.header.sender_l2_id = *fr.u24("");
        f.header.receiver_l2_id = *fr.u24("");
        f.header.hop = *fr.u8("");
        f.header.direction = *fr.u8("");
        f.header.lcid = *fr.u8("");
        f.header.flags = *fr.u8("");
        (void)fr.bytes(hlen - kFrameHeaderSize, "");  // a later version's extra header octets
        auto msg = *fr.bytes(fr.remaining(), "");
        f.message.assign(msg.begin(), msg.end());
        frames.push_back(std::move(f));
    }
    return frames;
}

Result<std::vector<Frame>> read_file(const std::string& path) {
    auto text = files::read_file(path, files::kMaxCapture);
    if (!text) return std::move(text).error();
    auto frames =
        parse(std::span(reinterpret_cast<const std::uint8_t*>(text->data()), text->size()));
    if (!frames) {
        Error e = std::move(frames).error();
        e.field = path + ": " + e.field;
        return e;
    }
    return frames;
}

}  // namespace pc5sec::pcap
