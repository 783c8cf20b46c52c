// What `pc5sec simulate` and `pc5sec demo` share: running a scenario with a progress bar on a
// terminal, and writing a report's files into an output directory.
#pragma once

#include <string>

#include "pc5sec/sim.hpp"

namespace pc5sec::cli {

// Runs `scenario`; on a terminal (stderr), a progress bar. Wall time and peak memory go to
// `stats` ("wall 1.23 s, peak memory 45 MiB (4700 bytes per UE, 9400 per link)": what the run
// added at its peak, per UE, from 100 UEs), never into the
// report's JSON. `show_progress`: the bar even when stderr is not a terminal.
sim::Report run_with_progress(const sim::Scenario& scenario, const sim::Options& options,
                              std::string& stats, bool show_progress = false);

// Writes DIR/capture.pcap, DIR/keylog.txt (0600), DIR/metrics.json and DIR/<diagram>.svg.
void write_report(const std::string& dir, const sim::Report& report);

// Peak resident memory of this process so far, MiB.
double peak_memory_mib();

}  // namespace pc5sec::cli
