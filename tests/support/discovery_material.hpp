// Tests of discovery and request privacy: an RSC's discovery material made from `seed` (other
// seeds, other keys), valid a day either side of `now`.
#pragma once

#include <chrono>
#include <cstdint>

#include "pc5sec/discovery_material.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec::test {

inline discovery::Material discovery_material(std::uint32_t rsc, std::uint64_t seed,
                                              discovery::UtcTime now) {
    using namespace std::chrono_literals;
    DeterministicRng rng(seed);
    discovery::Material m;
    m.rsc = rsc;
    rng.fill(m.dusk.reveal_mut());
    rng.fill(m.duik.reveal_mut());
    rng.fill(m.duck.reveal_mut());
    m.valid_from = now - 24h;
    m.valid_until = now + 24h;
    return m;
}

}  // namespace pc5sec::test
