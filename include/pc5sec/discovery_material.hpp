// Discovery security material for one relay service code (step 0 of both solutions): what the
// provisioning function, playing the PKMF, writes into each bundle (discovery.toml) and what
// pc5sec/discovery.hpp protects UE-to-UE relay discovery with (TS 33.503 6.1.3.2, TS 33.303
// 6.1.3.4.3). Secret: the keys are SecretKeys, and discovery.toml is written with mode 0600.
#pragma once

#include <chrono>
#include <cstdint>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/keys.hpp"

namespace pc5sec::discovery {

using UtcTime = std::chrono::system_clock::time_point;

// The keys, the algorithms and the validity for one RSC. Out of coverage, material past
// `valid_until` is refused (it cannot be renewed there).
struct Material {
    std::uint32_t rsc = 0;
    Dusk dusk;  // scrambling
    Duik duik;  // integrity (the MIC)
    Duck duck;  // message-specific confidentiality
    CipheringAlgorithm nea = CipheringAlgorithm::nea2;
    IntegrityAlgorithm nia = IntegrityAlgorithm::nia2;
    UtcTime valid_from{};
    UtcTime valid_until{};
};

}  // namespace pc5sec::discovery
