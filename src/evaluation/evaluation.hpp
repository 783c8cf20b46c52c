// The evaluation both seeds leave "TBD" (`pc5sec evaluate`, docs/evaluation.md): a study made of
// simulator runs. A cost table (messages, bytes, crypto and CPU per role, latency) for each
// solution and path, in and out of coverage, with and without key reuse; an attack matrix (every
// attack of examples/attacks/ and the named attacks, on every solution and path, each cell
// measured from a run whose scenario file is written next to the report); a property table
// derived from those outcomes, the captures and the key logs; sweeps over loss and over the
// sources one relay serves, plotted with gnuplot; and a reading of each table generated from
// its numbers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pc5sec/error.hpp"

namespace pc5sec::evaluation {

struct Options {
    std::filesystem::path out = "pc5sec-evaluation";
    bool quick = false;  // fewer pairs and sweep points: the same tables, in under a minute
    std::uint64_t seed = 1;
    std::string commit;   // what the report says it was produced from
    std::string machine;  // ... and on what
    // One line per step of the study (stderr in the CLI).
    std::function<void(const std::string&)> progress;
};

struct Summary {
    std::size_t runs = 0;
    bool plotted = false;            // gnuplot drew the plots
    std::string plot_note;           // why not, when it did not
    std::vector<std::string> files;  // what was written, relative to Options::out
};

// What one run's metrics.json (docs/metrics.md) says about the attack it staged, as the attack
// matrix writes it: "refused (#6)", "detected (3 dropped: bad-mac)", "detected end to end (...)",
// "undetected", "undetected (linked)" or "n/a (never fired)".
struct AttackOutcome {
    std::string text;
    bool stopped = false, undetected = false, applicable = true;
};
AttackOutcome judge_attack(const std::string& metrics_json);

// Runs the study and writes DIR/evaluation.md, DIR/evaluation.html (self-contained, the plots
// inline), DIR/evaluation/plots/ (SVG and their data files) and DIR/evaluation/scenarios/ (one
// scenario file per run of the attack matrix). Errors: the directory cannot be written.
Result<Summary> evaluate(const Options& options);

}  // namespace pc5sec::evaluation
