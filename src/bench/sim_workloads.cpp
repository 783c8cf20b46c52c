// Benchmark workload of sim/: does the simulator grow linearly with the population? The same
// scenario at 1,000 and at 10,000 end UEs (pairs through layer-3 relays, solution A, with data);
// the ratio is wall(10k) / wall(1k), measured in the same run: about 10 when the cost per UE is
// flat (target <= 12). Capture, key log and diagrams are off: this measures the engines and the
// event loop.
#include <stdexcept>

#include "bench/registry.hpp"
#include "pc5sec/sim.hpp"

namespace pc5sec::bench {
namespace {

double run_scale(const char* name) {
    auto s = sim::builtin(name);
    if (!s) throw std::runtime_error(s.error().describe());
    sim::Options o;
    o.capture = false;
    o.keylog = false;
    o.diagrams = 0;
    auto r = sim::run(*s, o);
    if (!r || !r->expectations_met)
        throw std::runtime_error(std::string(name) + ": the scale scenario did not establish");
    return 1.0;  // one run
}

}  // namespace

std::vector<Workload> sim_workloads() {
    return {
        Workload{"sim-scale-1k", "runs/s", [] { return run_scale("scale-1k"); }, 1.0, "", "", false,
                 "builtin:scale-1k: 1,000 end UEs, 100 relays, one run"},
        Workload{"sim-scale-10k-vs-1k", "runs/s", [] { return run_scale("scale-10k"); }, 1.0,
                 "sim-scale-1k", "<=12", true,
                 "builtin:scale-10k; ratio = wall(10k) / wall(1k): about 10 is linear"},
    };
}

}  // namespace pc5sec::bench
