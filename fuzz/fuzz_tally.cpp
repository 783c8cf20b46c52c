// libFuzzer target for a rank's tally as rank 0 reads it (sim::Tally::deserialize, src/sim/
// tally.cpp, docs/scale.md): arbitrary octets in place of another rank's share.
// Invariants: never a crash or a leak; a refused share says "tally"; an accepted one serializes
// to octets that read back to the same octets again, and rank 0 makes a report of it (merging its
// capture records, whatever their lengths) without failing.
// Corpus: fuzz/corpus/tally/ (shares of two small runs, from tests/sim/test_zones.cpp with
// PC5SEC_TALLY_CORPUS set).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "sim/tally.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pc5sec::sim;
    auto t = Tally::deserialize(std::span<const std::uint8_t>(data, size));
    if (!t) {
        if (t.error().field != "tally") std::abort();
        return 0;
    }
    const auto once = t->serialize();
    auto again = Tally::deserialize(once);
    if (!again || again->serialize() != once) std::abort();
    Options o;
    o.diagrams = 0;
    (void)make_report(Scenario{}, o, *t);
    return 0;
}
