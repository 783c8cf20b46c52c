// `pc5sec simulate FILE|builtin:NAME` runs one scenario in the simulator; `pc5sec scenarios`
// lists the built-in ones (docs/scenarios.md). Also the helpers `pc5sec demo` shares
// (cli/sim_output.hpp).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/mpi.hpp"
#include "cli/sim_output.hpp"
#include "evaluation/evaluation.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/files.hpp"

namespace pc5sec::cli {

namespace {
// Resident memory of this process now, MiB.
double resident_mib() {
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}
}  // namespace

double peak_memory_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

namespace {
std::string duration_text(double s) {
    if (s < 0 || !std::isfinite(s)) return "?";
    const auto t = static_cast<long>(s + 0.5);
    return t >= 3600 ? fmt::format("{}h{:02}m", t / 3600, t / 60 % 60)
                     : fmt::format("{}m{:02}s", t / 60, t % 60);
}
}  // namespace

sim::Report run_with_progress(const sim::Scenario& scenario, const sim::Options& options,
                              std::string& stats, bool show_progress) {
    sim::Options o = options;
    const bool bar = show_progress || isatty(STDERR_FILENO) != 0;
    const auto start = std::chrono::steady_clock::now();
    if (bar)
        o.progress = [&scenario, start, shown = -1.0](const sim::Progress& p) mutable {
            const double f = std::clamp(p.fraction, 0.0, 1.0);
            const int width = 30, done = static_cast<int>(f * width);
            const double wall =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (f < 1 && wall - shown < 0.25) return;  // four times a second at most
            shown = wall;
            std::string zones =
                p.zones > 1 ? fmt::format(" zones {}/{}", p.zones_done, p.zones) : std::string();
            std::cerr << fmt::format(
                             "\r{:<20} [{}{}] {:3.0f}%{} | {} events, {} links, {:.1f} s "
                             "virtual | ETA {}   ",
                             scenario.name.substr(0, 20),
                             std::string(static_cast<std::size_t>(done), '#'),
                             std::string(static_cast<std::size_t>(width - done), '.'), f * 100,
                             zones, p.events, p.links, p.virtual_s,
                             f > 0 ? duration_text(wall * (1 - f) / f) : "?")
                      << std::flush;
        };
    const double before = resident_mib();
    auto r = sim::run(scenario, o);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (bar) std::cerr << "\r" << std::string(140, ' ') << "\r" << std::flush;
    auto report = take(std::move(r));
    // Peak memory per UE and per link: what the run added to the process at its peak, for a
    // population large enough that the program's own few MiB do not dominate.
    const double added = std::max(0.0, peak_memory_mib() - before) * 1024 * 1024;
    const std::size_t links = report.links_established + report.links_failed;
    stats = fmt::format("wall {:.2f} s, peak memory {:.0f} MiB", wall, peak_memory_mib());
    if (report.ues >= 100)
        stats += fmt::format(
            " ({:.0f} bytes per UE{})", added / static_cast<double>(report.ues),
            links ? fmt::format(", {:.0f} per link", added / static_cast<double>(links)) : "");
    return report;
}

void write_report(const std::string& dir, const sim::Report& report) {
    if (auto st = files::make_private_dirs(dir); !st)
        throw CommandError(kExitBadInput, fmt::format("--out: {}", st.error().describe()));
    const std::filesystem::path d(dir);
    if (!report.pcap.empty())
        take(creds::write_file(
            d / "capture.pcap",
            std::string_view(reinterpret_cast<const char*>(report.pcap.data()), report.pcap.size()),
            0644));
    if (!report.keylog.empty()) take(creds::write_file(d / "keylog.txt", report.keylog, 0600));
    take(creds::write_file(d / "metrics.json", report.json, 0644));
    for (const auto& [name, svg] : report.diagrams)
        take(creds::write_file(d / name, svg, 0644));
}

namespace {

std::string read_text(const std::string& path) {
    auto text = files::read_file(path);
    if (!text)
        throw CommandError(kExitBadInput,
                           fmt::format("the scenario file {}", text.error().describe()));
    return std::move(*text);
}

struct SimulateArgs {
    std::string scenario, out;
    bool json = false, no_files = false, progress = false;
    std::uint64_t seed = 0;
    std::optional<unsigned> threads;
};

void run_simulate(const SimulateArgs& a) {
    sim::Scenario s = a.scenario.starts_with("builtin:")
                          ? take(sim::builtin(a.scenario))
                          : take(sim::parse_scenario(read_text(a.scenario), a.scenario));
    if (a.seed) s.seed = a.seed;
    // Started by mpirun: this process is one rank; rank 0 writes what every rank ran.
    std::optional<mpi::Session> session;
    if (mpi::launched()) {
        try {
            session.emplace();
        } catch (const std::exception& e) {
            throw CommandError(kExitBadInput, e.what());
        }
    }
    const unsigned ranks = session ? session->ranks() : 1;
    sim::Options o;
    // --no-files: no capture, key log or diagrams are made, only the metrics.
    if (a.no_files) {
        o.capture = o.keylog = false;
        o.diagrams = 0;
    }
    sim::expand_scale(s);
    const std::string refusal = sim::partition_refusal(s);
    if (a.threads) {
        o.threads = *a.threads;  // more than one for an unpartitioned scenario: sim::run refuses
    } else if (refusal.empty()) {
        // Every core, shared by the ranks on this machine.
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        o.threads = std::max(1u, cores / (session ? std::max(1u, session->local_ranks()) : 1u));
    }
    if (session) {
        o.rank = session->rank();
        o.ranks = ranks;
        o.gather = [&session](std::vector<std::uint8_t> mine) {
            return session->gather(std::move(mine));
        };
    }
    const bool speaker = !session || session->rank() == 0;
    std::string stats;
    const auto r = run_with_progress(s, o, stats, a.progress && speaker);
    if (!speaker) return;  // rank 0 writes the merged results
    const std::string out = a.out.empty() ? "pc5sec-out/" + s.name : a.out;
    if (!a.no_files) write_report(out, r);
    if (a.json) {
        std::cout << r.json;
    } else {
        std::cout << r.summary;
        // An attack's outcome as the evaluation's attack matrix writes it (docs/evaluation.md),
        // so that a cell re-run from its scenario file can be compared with it.
        if (s.attack != sim::Attack::none || !s.attacker.empty())
            std::cout << "  attack outcome: " << evaluation::judge_attack(r.json).text << "\n";
        std::cout << "\n";
        if (!a.no_files)
            std::cout << fmt::format(
                "  wrote {0}/capture.pcap, {0}/keylog.txt, {0}/metrics.json and {1} sequence "
                "diagram(s)\n",
                out, r.diagrams.size());
    }
    if (ranks > 1)
        stats += fmt::format(", {} ranks x {} thread(s)", ranks, o.threads);
    else if (o.threads > 1)
        stats += fmt::format(", {} threads", o.threads);
    std::cerr << stats << "\n";
    if (!r.expectations_met)
        throw CommandError(kExitCheckFailed, "the scenario's [expect] did not hold");
}

void register_simulate(CLI::App& app) {
    auto a = std::make_shared<SimulateArgs>();
    auto* cmd = app.add_subcommand(
        "simulate", "run a scenario (TOML file or builtin:NAME) in the discrete-event simulator");
    cmd->add_option("scenario", a->scenario, "a scenario file, or builtin:NAME (pc5sec scenarios)")
        ->required();
    cmd->add_option("--out", a->out,
                    "where the capture, key log, metrics.json and diagrams go "
                    "(default pc5sec-out/<scenario>)");
    cmd->add_flag("--json", a->json,
                  "print the metrics JSON (docs/metrics.md) instead of the table");
    cmd->add_flag("--no-files", a->no_files, "write nothing to disk");
    cmd->add_option("--seed", a->seed, "override the scenario's seed");
    cmd->add_option("--threads", a->threads,
                    "threads that run the scenario's zones (default: every core, when its zones "
                    "can run apart; docs/scale.md)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--progress", a->progress,
                  "a progress bar on stderr even when it is not a terminal: events, links, "
                  "virtual time, ETA");
    cmd->callback([a] { run_simulate(*a); });

    auto show = std::make_shared<std::string>();
    auto* list = app.add_subcommand("scenarios", "list the built-in scenarios");
    list->add_option("--show", *show, "print the TOML of one built-in scenario");
    list->callback([show] {
        if (!show->empty()) {
            for (const auto& b : sim::builtin_scenarios())
                if (b.name == *show || "builtin:" + b.name == *show) {
                    std::cout << b.toml;
                    return;
                }
            throw CommandError(kExitBadInput, "--show: no built-in scenario " + *show);
        }
        for (const auto& b : sim::builtin_scenarios())
            std::cout << fmt::format("  builtin:{:<36} {}\n", b.name, b.summary);
        std::cout << "\nRun one: pc5sec simulate builtin:NAME; see its file: pc5sec scenarios "
                     "--show NAME\n";
    });
}

}  // namespace

const CommandRegistrar kRegistrar{15, register_simulate};

}  // namespace pc5sec::cli
