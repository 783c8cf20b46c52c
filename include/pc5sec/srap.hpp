// The sidelink relay adaptation header (SRAP, TS 38.351) as pc5sec frames it on the two hops of
// a layer-2 UE-to-UE relay (3gpp-facts §4): the relay routes end-to-end PDUs by it and never
// sees an end-to-end key.
//
//   octet 1   D/C (1 = data, always) | R R | bearer ID (5 bits): 1..3 = SL-SRB1..3, 0 = SL-SRB0,
//             4..31 = the 5 LSBs of the PC5 config index of a data bearer
//   octet 2   local UE ID of the source end UE (8 bits)
//   octet 3   local UE ID of the destination end UE (8 bits); 0 = not known yet: the relay
//             resolves it from the Target User Info of the SL-SRB0 establishment request
//
// The relay assigns each end UE a local UE ID (1..255) when their per-hop link is set up.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pc5sec/error.hpp"

namespace pc5sec::srap {

inline constexpr std::size_t kHeaderSize = 3;
inline constexpr std::uint8_t kUnknownUeId = 0;

struct Header {
    std::uint8_t bearer = 0;  // 5 bits
    std::uint8_t src_ue = 0;
    std::uint8_t dst_ue = 0;
    friend bool operator==(Header, Header) = default;
};

// Errc::invalid_argument naming "srap.bearer" when the bearer ID does not fit 5 bits.
Status append_header(const Header& h, std::vector<std::uint8_t>& out);
// Errc::malformed naming "srap.header" (too short) or "srap.dc" / "srap.reserved".
Result<Header> parse_header(std::span<const std::uint8_t> pdu);

}  // namespace pc5sec::srap
