// `pc5sec bench [--json] [--filter TEXT] [--min-time S]`: every benchmark row, with ratios to
// baselines measured in the same run.
#include <iostream>
#include <memory>

#include "bench/registry.hpp"
#include "cli/commands.hpp"

namespace pc5sec::cli {

namespace {
void register_bench(CLI::App& app) {
    struct Args {
        bool json = false;
        std::string filter;
        double min_time = 0.15;
        bool list = false;
    };
    auto args = std::make_shared<Args>();
    auto* sub = app.add_subcommand(
        "bench", "run the benchmark rows (ratios against baselines of the same run)");
    sub->add_flag("--json", args->json, "one JSON array of rows on stdout");
    sub->add_option("--filter", args->filter, "only rows whose name contains TEXT");
    sub->add_option("--min-time", args->min_time, "seconds per row (default 0.15)")
        ->check(CLI::Range(0.001, 60.0));
    sub->add_flag("--list", args->list, "list the row names and exit");
    sub->callback([args] {
        const auto workloads = bench::all_workloads();
        if (args->list) {
            for (const auto& w : workloads)
                std::cout << w.name << "\n";
            return;
        }
        bench::Options opts{args->min_time, args->filter};
        if (args->json) {
            const auto rows = bench::run(workloads, opts);
            nlohmann::json out = nlohmann::json::array();
            for (const auto& r : rows)
                out.push_back(bench::to_json(r));
            std::cout << out.dump(2) << "\n";
            return;
        }
        std::vector<bench::Row> rows;
        std::cout << bench::format_table({});
        bench::run(workloads, opts, [&](const bench::Row& r) {
            const std::string line = bench::format_table({r});
            std::cout << line.substr(line.find('\n') + 1) << std::flush;
            rows.push_back(r);
        });
        int missed = 0;
        for (const auto& r : rows)
            missed += r.met.has_value() && !*r.met;
        std::cout << "\n" << rows.size() << " rows, " << missed << " targets missed\n";
    });
}

}  // namespace

const CommandRegistrar kRegistrar{90, register_bench};

}  // namespace pc5sec::cli
