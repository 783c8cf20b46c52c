// `pc5sec evaluate [--out DIR] [--quick]`: the evaluation both seeds leave "TBD"
// (src/evaluation/, docs/evaluation.md). Writes DIR/evaluation.md, DIR/evaluation.html (the
// plots inline), DIR/evaluation/plots/ and DIR/evaluation/scenarios/ (the scenario file of every
// attack-matrix cell). `pc5sec evaluate --out docs` writes the repository's docs/evaluation.md.
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "evaluation/evaluation.hpp"

namespace pc5sec::cli {
const char* source_commit();  // generated (src/cli/CMakeLists.txt)

namespace {

// "x86_64, AMD EPYC, 2 cores": what the report says it ran on.
std::string machine() {
    std::string cpu;
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("model name")) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    utsname u{};
    uname(&u);
    return fmt::format("{}{}, {} cores", u.machine, cpu.empty() ? "" : ", " + cpu,
                       sysconf(_SC_NPROCESSORS_ONLN));
}

void register_evaluate(CLI::App& app) {
    auto out = std::make_shared<std::string>("pc5sec-evaluation");
    auto quick = std::make_shared<bool>(false);
    auto seed = std::make_shared<std::uint64_t>(1);
    auto* sub = app.add_subcommand(
        "evaluate",
        "the evaluation of solutions A and B from runs: cost table, attack matrix, security "
        "properties, sweeps and plots (evaluation.md and evaluation.html)");
    sub->add_option("--out", *out, "output directory")->capture_default_str();
    sub->add_flag("--quick", *quick, "a smaller study (same tables, fewer runs), under a minute");
    sub->add_option("--seed", *seed, "the seed of every run")->capture_default_str();
    sub->callback([out, quick, seed] {
        const auto t0 = std::chrono::steady_clock::now();
        evaluation::Options o;
        o.out = *out;
        o.quick = *quick;
        o.seed = *seed;
        o.commit = source_commit();
        o.machine = machine();
        const bool tty = isatty(STDERR_FILENO) != 0;
        o.progress = [tty](const std::string& step) {
            if (tty)
                std::cerr << "\r\033[K" << step << std::flush;
            else
                std::cerr << step << "\n";
        };
        const auto s = take(evaluation::evaluate(o));
        if (tty) std::cerr << "\r\033[K";
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        fmt::print(
            "pc5sec evaluate: {} runs in {:.1f} s\n  {}/evaluation.md\n  "
            "{}/evaluation.html (open it in a browser; the plots are inline)\n  "
            "{}/evaluation/plots/, {}/evaluation/scenarios/ (the scenario file of every cell of "
            "the attack matrix)\n",
            s.runs, secs, *out, *out, *out, *out);
        if (!s.plotted)
            fmt::print("  the plots were not drawn: {}; the tables and data files were written\n",
                       s.plot_note);
    });
}

}  // namespace

const CommandRegistrar kRegistrar{16, register_evaluate};

}  // namespace pc5sec::cli
