// Google Benchmark over the same workloads as `pc5sec bench` (src/bench/). Each workload's
// bytes or operations become the benchmark's counters; ratios are printed by `pc5sec bench`.
#include <benchmark/benchmark.h>

#include "bench/registry.hpp"

int main(int argc, char** argv) {
    static const auto workloads = pc5sec::bench::all_workloads();
    for (const auto& w : workloads) {
        benchmark::RegisterBenchmark(w.name.c_str(), [&w](benchmark::State& state) {
            if (w.measure_once) {  // a quantity, not a rate: one run per iteration, the last kept
                double value = 0;
                for (auto _ : state)
                    value = w.measure_once();
                state.counters[w.unit] = value;
                return;
            }
            double work = 0;
            for (auto _ : state)
                work += w.run_batch();
            state.counters[w.unit == "MB/s" ? "bytes_per_second" : "items_per_second"] =
                benchmark::Counter(work, benchmark::Counter::kIsRate);
        });
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
