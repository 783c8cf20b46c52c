// libFuzzer target for scenario files (docs/scenarios.md): whatever the text, parse_scenario
// returns a scenario whose cross-references hold, or an error that names the file and key.
// Corpus: fuzz/corpus/scenario/ (the examples, every built-in, a processing table).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "pc5sec/sim.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pc5sec;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto s = sim::parse_scenario(text, "fuzz.toml");
    if (!s) {
        if (s.error().field.rfind("fuzz.toml", 0) != 0) std::abort();  // must name the file
        return 0;
    }
    // An accepted scenario names only UEs it has, and at least one establishment.
    std::set<std::string> names;
    for (const auto& u : s->ues)
        names.insert(u.name);
    if (s->connects.empty()) std::abort();
    for (const auto& c : s->connects)
        if (!names.count(c.source) || !names.count(c.target)) std::abort();
    if (s->medium.loss >= 1 || s->medium.corrupt > 1) std::abort();
    // The processing model: a known profile, a positive factor, finite costs.
    if (!(s->processing.factor > 0) || s->processing.factor > 1e6) std::abort();
    bool known = s->processing.profile == "none" || s->processing.profile == "measured";
    for (const auto& p : sim::device_profiles())
        known |= p.name == s->processing.profile;
    if (!known) std::abort();
    if (s->processing.costs && s->processing.profile == "measured") std::abort();
    return 0;
}
