// A workload is one repeatable unit of work with a name; a row is its measured rate, and, when
// it names a baseline measured in the same run, the ratio to it and the target for that ratio.
// `pc5sec bench` runs the rows; bench/ wraps the same workloads in Google Benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace pc5sec::bench {

struct Workload {
    std::string name;  // "nea2-burst-1500"
    std::string unit;  // "MB/s", "ops/s", "msgs/s"
    // Runs one batch and returns the work it did, in the unit's numerator (bytes, operations).
    std::function<double()> run_batch;
    double unit_scale = 1.0;  // multiplies work-per-second into `unit` (1e-6 for MB/s)
    std::string baseline;     // the workload whose value is the ratio's denominator, or ""
    std::string target;       // for the ratio, ">=0.8" / "<=1.3"; or for the value if no baseline
    bool ratio_is_inverse = false;  // ratio = baseline time / this time (cost ratios)
    std::string note;
    // A quantity measured once, not a rate (a loss in percent, memory held): when set, the
    // row's value is what it returns, the worst (highest) of 3 runs, and `target` applies to it,
    // or, when `baseline` names another such row, to the ratio value / baseline's value;
    // run_batch is unused.
    std::function<double()> measure_once = {};
};

struct Row {
    std::string name;
    double value = 0;
    std::string unit;
    std::optional<double> ratio;
    std::string ratio_of;
    std::string target;
    std::optional<bool> met;  // whether the target holds in this run
    std::string note;
};

struct Options {
    double min_seconds = 0.15;  // per workload
    std::string filter;         // substring; empty runs all
};

// Measures each workload (its baseline too, even when filtered out) and returns rows in order.
std::vector<Row> run(const std::vector<Workload>& workloads, const Options& options,
                     const std::function<void(const Row&)>& on_row = {});

nlohmann::json to_json(const Row& row);
std::string format_table(const std::vector<Row>& rows);

// Bytes the allocator has handed out and not had back (glibc mallinfo2: in-use heap), for rows
// that measure memory.
std::size_t heap_in_use();

// Two memory rows measured once, "<prefix>-<small>" and "<prefix>-<large>" (KiB, from
// `measure(n)`), the larger with the smaller as its baseline and `target` on their ratio: what
// a bounded structure holds must not grow with n. `note` has one {} for n.
std::vector<Workload> memory_rows(const std::string& prefix, std::pair<std::size_t, std::size_t> n,
                                  const std::string& target, const std::string& note,
                                  std::function<double(std::size_t)> measure);

// Checks a target ("<=1.3", ">=0.8", ">=2000000") against a value.
std::optional<bool> target_met(const std::string& target, double value);

// A pool of random bytes that payloads rotate through, so no one buffer stays hot in the branch
// predictor or the cache (a repeated buffer flatters bit-serial code by up to 4x).
class PayloadPool {
  public:
    explicit PayloadPool(std::size_t bytes = 1 << 20);
    // The next `size`-byte slice; successive calls walk through the pool.
    std::uint8_t* next(std::size_t size);

  private:
    std::vector<std::uint8_t> pool_;
    std::size_t offset_ = 0;
};

}  // namespace pc5sec::bench
