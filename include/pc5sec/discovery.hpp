// UE-to-UE relay discovery (seed 000 step 1; seed 001 step 0 "the source has selected a relay"),
// one machinery for both link engines and the UDP driver: TS 24.554's U2U RELAY DISCOVERY
// ANNOUNCEMENT (Model A), SOLICITATION and RESPONSE (Model B) on LCID 63, to and from the
// broadcast L2 ID. Not protected, as in 3GPP (docs/solution-a.md, "Known gaps"): a relay that
// lies is refused later, by solution A's step 3 or solution B's signatures in steps 4 and 8.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pc5sec/pc5.hpp"

namespace pc5sec::discovery {

// Model A: relays announce, a source listens. Model B: a source solicits, relays answer.
enum class Model : std::uint8_t { a, b };
const char* name(Model m) noexcept;  // "A", "B"

// The source's solicitation for `rsc`, naming itself and the target, to the broadcast ID.
std::optional<pc5::Frame> solicitation(pc5::L2Id self, std::uint32_t rsc,
                                       std::string_view discoverer, std::string_view target);

// A relay's announcement of `rsc` (Model A), to the broadcast ID.
std::optional<pc5::Frame> announcement(pc5::L2Id self, std::uint32_t rsc, std::string_view relay);

// A relay's answer to `f`, or nothing: only to a solicitation for an RSC it `serves`, naming no
// target or a target in its `directory` (TS 23.304 Model B).
std::optional<pc5::Frame> answer(const pc5::Frame& f, pc5::L2Id self, std::string_view relay,
                                 const std::function<bool(std::uint32_t)>& serves,
                                 const std::map<std::string, pc5::L2Id>& directory);

// How many solicitations a relay answers: at most `per_second` in each one-second window (issue
// 17: a flood of solicitations draws a bounded number of answers). One per relay.
class AnswerBudget {
  public:
    // Whether one more answer fits in the window that holds `now` (and counts it if so).
    bool take(pc5::Time now, unsigned per_second) noexcept {
        if (now >= window_end_) {
            window_end_ = now + std::chrono::seconds(1);
            used_ = 0;
        }
        if (used_ >= per_second) return false;
        ++used_;
        return true;
    }

  private:
    pc5::Time window_end_{};
    unsigned used_ = 0;
};

// A relay heard: from its announcement (Model A) or its response (Model B).
struct RelayHeard {
    std::uint32_t rsc = 0;
    std::string relay;  // its User Info ID, as it claims
    pc5::L2Id l2 = 0;   // where the frame came from
};
std::optional<RelayHeard> relay_heard(const pc5::Frame& f);

// A response to a solicitation of ours for `rsc`: the relay's user info ID.
std::optional<std::string> relay_of(const pc5::Frame& f, std::uint32_t rsc);

}  // namespace pc5sec::discovery
