// include/pc5sec/text.hpp: escaping of peer-supplied text at the point it becomes output.
#include "pc5sec/text.hpp"

#include <cstdint>

#include <fmt/format.h>

namespace pc5sec {

namespace {

// The length of the well-formed UTF-8 sequence at `s[i]` (RFC 3629 Table 3), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
    const auto at = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
    const std::uint8_t c = at(i);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    std::uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;  // no overlong forms
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;  // no overlong forms
        if (c == 0xF4) hi = 0x8F;  // at most U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (at(i + 1) < lo || at(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
    return n;
}

void append_hex(std::string& out, char c) {
    out += fmt::format("\\x{:02x}", static_cast<unsigned>(static_cast<std::uint8_t>(c)));
}

}  // namespace

std::string escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        const auto u = static_cast<std::uint8_t>(c);
        if (c == '\\') {
            out += "\\\\";
            ++i;
        } else if (u >= 0x20 && u < 0x7F) {
            out += c;
            ++i;
        } else if (const auto n = u >= 0x80 ? utf8_sequence(text, i) : 0;
                   n > 1 &&
                   !(n == 2 && u == 0xC2 && static_cast<std::uint8_t>(text[i + 1]) < 0xA0)) {
            out.append(text.substr(i, n));
            i += n;
        } else {
            append_hex(out, c);  // a control character, DEL, a C1 control or a stray octet
            ++i;
        }
    }
    return out;
}

std::string valid_utf8(std::string_view text) {
    if (is_valid_utf8(text)) return std::string(text);
    std::string out;
    out.reserve(text.size() + 8);
    for (std::size_t i = 0; i < text.size();) {
        if (const auto n = utf8_sequence(text, i); n > 0) {
            out.append(text.substr(i, n));
            i += n;
        } else {
            append_hex(out, text[i]);
            ++i;
        }
    }
    return out;
}

bool is_valid_utf8(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size();) {
        const auto n = utf8_sequence(text, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string escape_xml(std::string_view raw) {
    const std::string s = valid_utf8(raw);
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += static_cast<unsigned char>(c) < 0x20 && c != '\t' ? '?' : c;
        }
    }
    return out;
}

}  // namespace pc5sec
