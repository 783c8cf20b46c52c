#include "bench/harness.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "pc5sec/rng.hpp"

namespace pc5sec::bench {

PayloadPool::PayloadPool(std::size_t bytes) : pool_(bytes) {
    system_rng().fill(pool_);
}

std::uint8_t* PayloadPool::next(std::size_t size) {
    if (size > pool_.size()) throw std::invalid_argument("payload larger than the pool");
    if (offset_ + size > pool_.size()) offset_ = 0;
    std::uint8_t* p = pool_.data() + offset_;
    // Step by size plus an odd amount so that slices do not align on the same boundaries.
    offset_ += size + 64;
    return p;
}

namespace {

constexpr int kRounds = 3;

double measure(const Workload& w, double min_seconds) {
    using clock = std::chrono::steady_clock;
    w.run_batch();  // warm up: first-touch, key schedules, lazy managers
    double work = 0;
    const auto start = clock::now();
    double elapsed = 0;
    do {
        work += w.run_batch();
        elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < min_seconds);
    return work / elapsed * w.unit_scale;
}

}  // namespace

std::vector<Workload> memory_rows(const std::string& prefix, std::pair<std::size_t, std::size_t> n,
                                  const std::string& target, const std::string& note,
                                  std::function<double(std::size_t)> measure) {
    std::vector<Workload> out;
    for (const std::size_t k : {n.first, n.second}) {
        Workload w{prefix + "-" + std::to_string(k),  "KiB", {}, 1.0, "", "", false,
                   fmt::format(fmt::runtime(note), k)};
        w.measure_once = [measure, k] { return measure(k); };
        out.push_back(std::move(w));
    }
    out[1].baseline = out[0].name;
    out[1].target = target;
    return out;
}

std::size_t heap_in_use() {
    return ::mallinfo2().uordblks;
}

std::optional<bool> target_met(const std::string& target, double value) {
    if (target.size() < 3) return std::nullopt;
    const std::string op = target.substr(0, 2);
    double bound = 0;
    try {
        bound = std::stod(target.substr(2));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (op == ">=") return value >= bound;
    if (op == "<=") return value <= bound;
    return std::nullopt;
}

std::vector<Row> run(const std::vector<Workload>& workloads, const Options& options,
                     const std::function<void(const Row&)>& on_row) {
    std::map<std::string, const Workload*> by_name;
    for (const auto& w : workloads)
        by_name[w.name] = &w;
    std::vector<Row> rows;
    for (const auto& w : workloads) {
        const bool wanted =
            options.filter.empty() || w.name.find(options.filter) != std::string::npos;
        if (!wanted) continue;
        Row row;
        row.name = w.name;
        row.unit = w.unit;
        row.note = w.note;
        row.target = w.target;
        if (w.measure_once) {
            auto worst_of = [](const Workload& x) {
                double worst = x.measure_once();
                for (int round = 1; round < kRounds; ++round)
                    worst = std::max(worst, x.measure_once());
                return worst;
            };
            row.value = worst_of(w);
            if (!w.baseline.empty()) {
                auto base = by_name.find(w.baseline);
                if (base == by_name.end() || !base->second->measure_once)
                    throw std::logic_error("benchmark " + w.name +
                                           " names no measured-once baseline " + w.baseline);
                const double base_value = worst_of(*base->second);
                row.ratio_of = w.baseline;
                // ratio_is_inverse: the baseline over this one (a speed-up from times).
                row.ratio = w.ratio_is_inverse ? (row.value > 0 ? base_value / row.value : 0.0)
                                               : (base_value > 0 ? row.value / base_value : 0.0);
                if (!w.target.empty()) row.met = target_met(w.target, *row.ratio);
            } else if (!w.target.empty()) {
                row.met = target_met(w.target, row.value);
            }
        } else if (!w.baseline.empty()) {
            auto base = by_name.find(w.baseline);
            if (base == by_name.end())
                throw std::logic_error("benchmark " + w.name + " names unknown baseline " +
                                       w.baseline);
            // The row and its baseline alternate for kRounds rounds and each keeps its best
            // round, so a burst of load on the machine hits both alike.
            double best = 0, best_base = 0;
            for (int round = 0; round < kRounds; ++round) {
                best_base = std::max(best_base, measure(*base->second, options.min_seconds));
                best = std::max(best, measure(w, options.min_seconds));
            }
            row.value = best;
            row.ratio_of = w.baseline;
            row.ratio = w.ratio_is_inverse ? best_base / best : best / best_base;
            if (!w.target.empty()) row.met = target_met(w.target, *row.ratio);
        } else {
            row.value = measure(w, options.min_seconds);
            if (!w.target.empty()) row.met = target_met(w.target, row.value);
        }
        if (on_row) on_row(row);
        rows.push_back(std::move(row));
    }
    return rows;
}

nlohmann::json to_json(const Row& row) {
    nlohmann::json j{{"name", row.name}, {"value", row.value}, {"unit", row.unit}};
    if (row.ratio) {
        j["ratio"] = *row.ratio;
        j["ratio_of"] = row.ratio_of;
    }
    if (!row.target.empty()) j["target"] = row.target;
    if (row.met) j["met"] = *row.met;
    if (!row.note.empty()) j["note"] = row.note;
    return j;
}

std::string format_table(const std::vector<Row>& rows) {
    std::string out = fmt::format("{:<40} {:>14} {:<8} {:>7}  {:<36} {}\n", "name", "value", "unit",
                                  "ratio", "ratio of", "target");
    for (const auto& r : rows) {
        const std::string ratio = r.ratio ? fmt::format("{:.2f}", *r.ratio) : "";
        std::string target = r.target;
        if (r.met) target += *r.met ? "  met" : "  MISSED";
        out += fmt::format("{:<40} {:>14.2f} {:<8} {:>7}  {:<36} {}\n", r.name, r.value, r.unit,
                           ratio, r.ratio_of, target);
    }
    return out;
}

}  // namespace pc5sec::bench
