#include "pc5sec/hex.hpp"

#include <charconv>

#include <fmt/format.h>

namespace pc5sec {

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.resize(bytes.size() * 2);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = kDigits[bytes[i] >> 4];
        out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
    }
    return out;
}

namespace {
int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

Result<std::vector<std::uint8_t>> from_hex(std::string_view text, std::string_view field) {
    if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 2);
    int high = -1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == ':' || c == '-' || c == '\n' || c == '\t') continue;
        const int v = nibble(c);
        if (v < 0)
            return make_error(Errc::malformed, std::string(field),
                              fmt::format("'{}' at offset {} is not a hex digit", c, i));
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | v));
            high = -1;
        }
    }
    if (high >= 0)
        return make_error(Errc::malformed, std::string(field),
                          "odd number of hex digits (each byte needs two)");
    return out;
}

Result<std::uint64_t> parse_uint(std::string_view text, std::string_view field, std::uint64_t max) {
    int base = 10;
    std::string_view digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        base = 16;
        digits.remove_prefix(2);
    }
    std::uint64_t value = 0;
    const auto* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
    if (digits.empty() || ec == std::errc::invalid_argument || ptr != end)
        return make_error(Errc::malformed, std::string(field),
                          fmt::format("'{}' is not a number (give decimal or 0x-hex)", text));
    if (ec == std::errc::result_out_of_range || value > max)
        return make_error(Errc::invalid_argument, std::string(field),
                          fmt::format("{} is out of range (maximum {})", text, max));
    return value;
}

}  // namespace pc5sec
