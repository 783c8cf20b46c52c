// One bounds-checked reader and one writer for all wire-format code: no raw pointer arithmetic
// in message code. A read past the end returns an Errc::malformed error naming the field.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"

namespace pc5sec {

class Reader {
  public:
    explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}

    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    std::size_t position() const noexcept { return pos_; }
    bool empty() const noexcept { return remaining() == 0; }
    // The next octet without consuming it; call only when !empty().
    std::uint8_t peek() const noexcept { return empty() ? 0 : data_[pos_]; }

    Result<std::uint8_t> u8(std::string_view field);
    Result<std::uint16_t> u16(std::string_view field);  // big-endian
    Result<std::uint32_t> u24(std::string_view field);
    Result<std::uint32_t> u32(std::string_view field);
    // `n` octets as a view into the input.
    Result<std::span<const std::uint8_t>> bytes(std::size_t n, std::string_view field);
    // A reader over the next `n` octets, which this reader skips.
    Result<Reader> sub(std::size_t n, std::string_view field);

  private:
    Status need(std::size_t n, std::string_view field) const;
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
};

class Writer {
  public:
    explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v);
    void u24(std::uint32_t v);  // the low 24 bits
    void u32(std::uint32_t v);
    void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

    std::size_t size() const noexcept { return out_.size(); }
    // Writes a zero placeholder of 1 or 2 octets and returns its position for patch_length().
    std::size_t length_placeholder(std::size_t octets);
    // Fills the placeholder with the number of octets written after it; fails if they do not fit.
    Status patch_length(std::size_t at, std::size_t octets, std::string_view field);

  private:
    std::vector<std::uint8_t>& out_;
};

}  // namespace pc5sec
