// The discovery fuzz targets' material: fixed keys from `seed`, valid a day either side of kNow.
#pragma once

#include <chrono>
#include <cstdint>

#include "pc5sec/discovery_material.hpp"

namespace pc5sec::fuzz {

inline const discovery::UtcTime kNow = discovery::UtcTime{} + std::chrono::seconds(1'793'491'234);

inline discovery::Material material(std::uint32_t rsc, std::uint8_t seed) {
    using namespace std::chrono_literals;
    discovery::Material m;
    m.rsc = rsc;
    for (auto& b : m.dusk.reveal_mut())
        b = seed;
    for (auto& b : m.duik.reveal_mut())
        b = static_cast<std::uint8_t>(seed + 1);
    for (auto& b : m.duck.reveal_mut())
        b = static_cast<std::uint8_t>(seed + 2);
    m.valid_from = kNow - 24h;
    m.valid_until = kNow + 24h;
    return m;
}

}  // namespace pc5sec::fuzz
