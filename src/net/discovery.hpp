// Relay discovery for solution B (seed 001 step 0: "the source has selected a relay"). The
// sigauth engine takes the relay it is given; the UDP driver finds it with the same Model B
// messages solution A's engine uses (TS 24.554 U2U RELAY DISCOVERY SOLICITATION / RESPONSE on
// LCID 63), not protected, like solution A's (docs/solution-a.md, "Known gaps"): a relay that
// lies is refused by the signatures in steps 4 and 8.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pc5sec/pc5.hpp"

namespace pc5sec::net::discovery {

// The source's solicitation for `rsc`, naming itself and the target, to the broadcast ID.
std::optional<pc5::Frame> solicitation(pc5::L2Id self, std::uint32_t rsc,
                                       const std::string& discoverer, const std::string& target);

// A relay's answer to `f` (a solicitation), or nothing: it answers only for an RSC it serves
// and a target in its directory (TS 23.304 Model B, as solution A's relay does).
std::optional<pc5::Frame> answer(const pc5::Frame& f, pc5::L2Id self, const std::string& relay,
                                 const std::vector<std::uint32_t>& rscs,
                                 const std::map<std::string, pc5::L2Id>& directory);

// A response to a solicitation of ours for `rsc`: the relay's user info ID.
std::optional<std::string> relay_of(const pc5::Frame& f, std::uint32_t rsc);

}  // namespace pc5sec::net::discovery
