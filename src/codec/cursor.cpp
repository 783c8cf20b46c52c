#include "pc5sec/cursor.hpp"

#include <fmt/format.h>

namespace pc5sec {

Status Reader::need(std::size_t n, std::string_view field) const {
    if (n > remaining())
        return make_error(Errc::malformed, std::string(field),
                          fmt::format("truncated: needs {} octets, {} left", n, remaining()));
    return {};
}

Result<std::uint8_t> Reader::u8(std::string_view field) {
    PC5SEC_TRY(need(1, field));
    return data_[pos_++];
}

Result<std::uint16_t> Reader::u16(std::string_view field) {
    PC5SEC_TRY(need(2, field));
    const auto v = static_cast<std::uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
}

Result<std::uint32_t> Reader::u24(std::string_view field) {
    PC5SEC_TRY(need(3, field));
    const std::uint32_t v =
        std::uint32_t{data_[pos_]} << 16 | std::uint32_t{data_[pos_ + 1]} << 8 | data_[pos_ + 2];
    pos_ += 3;
    return v;
}

Result<std::uint32_t> Reader::u32(std::string_view field) {
    PC5SEC_TRY(need(4, field));
    const std::uint32_t v = std::uint32_t{data_[pos_]} << 24 |
                            std::uint32_t{data_[pos_ + 1]} << 16 |
                            std::uint32_t{data_[pos_ + 2]} << 8 | data_[pos_ + 3];
    pos_ += 4;
    return v;
}

Result<std::span<const std::uint8_t>> Reader::bytes(std::size_t n, std::string_view field) {
    PC5SEC_TRY(need(n, field));
    auto out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
}

Result<Reader> Reader::sub(std::size_t n, std::string_view field) {
    auto b = bytes(n, field);
    if (!b) return std::move(b).error();
    return Reader(*b);
}

void Writer::u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
}

void Writer::u24(std::uint32_t v) {
    u8(static_cast<std::uint8_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
}

void Writer::u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
}

std::size_t Writer::length_placeholder(std::size_t octets) {
    const std::size_t at = out_.size();
    out_.resize(out_.size() + octets, 0);
    return at;
}

Status Writer::patch_length(std::size_t at, std::size_t octets, std::string_view field) {
    const std::size_t len = out_.size() - at - octets;
    const std::size_t max = octets == 1 ? 0xff : 0xffff;
    if (len > max)
        return make_error(
            Errc::invalid_argument, std::string(field),
            fmt::format("oversize: {} octets do not fit a {}-octet length", len, octets));
    if (octets == 2) {
        out_[at] = static_cast<std::uint8_t>(len >> 8);
        out_[at + 1] = static_cast<std::uint8_t>(len);
    } else {
        out_[at] = static_cast<std::uint8_t>(len);
    }
    return {};
}

}  // namespace pc5sec
