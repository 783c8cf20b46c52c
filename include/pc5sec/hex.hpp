// Hex and integer text helpers shared by the CLI, tests and trace output.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"

namespace pc5sec {

// Lowercase hex, no separators.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Accepts upper or lower case, an optional "0x" prefix, and ignores ' ', ':' and '-' separators.
// `field` names the input in the error ("--key").
Result<std::vector<std::uint8_t>> from_hex(std::string_view text, std::string_view field = "hex");

// Decimal or 0x-hex unsigned integer not above `max`; the error names `field`.
Result<std::uint64_t> parse_uint(std::string_view text, std::string_view field, std::uint64_t max);

}  // namespace pc5sec
