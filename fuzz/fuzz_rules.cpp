// libFuzzer target for attacker rule sets ([[attacker]], docs/scenarios.md): whatever the text,
// parse_rules refuses it naming "fuzz.toml: ..." or accepts rules that then run in a short
// simulation of alice, bob and relay-1 without crashing or looping (the run ends by virtual time).
// Corpus: fuzz/corpus/rules/ (the [[attacker]] tables of examples/attacks and the named attacks).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pc5sec/sim.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pc5sec;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto rules =
        sim::parse_rules(text, "fuzz.toml", {"alice", "bob", "relay-1"}, pc5::Solution::a, {"bob"});
    if (!rules) {
        if (rules.error().field.rfind("fuzz.toml", 0) != 0) std::abort();  // must name the file
        return 0;
    }
    std::uint64_t frames = 0;
    for (const auto& r : *rules) {
        if (r.action != sim::RuleAction::record && r.name.empty()) std::abort();
        frames += r.count;
    }
    if (frames > 200) return 0;  // a flood of thousands: valid, but slow to run here
    auto s = sim::builtin("a-l3").value();
    s.attacker = std::move(*rules);
    s.compromised = {"bob"};
    s.duration_s = 5;
    s.traffic.pdus = 4;
    s.expect = {};
    sim::Options o;
    o.capture = false;
    o.keylog = false;
    o.diagrams = 0;
    auto r = sim::run(s, o);
    if (!r) std::abort();  // a checked rule never makes a scenario fail to run
    return 0;
}
