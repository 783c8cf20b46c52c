// The evaluation's document (src/evaluation/): sections of text, tables and plots, rendered as
// Markdown and as a self-contained HTML page (render.cpp). The study (evaluation.cpp) fills it
// from its runs only.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pc5sec::evaluation {

struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    // Per cell, a relative link (the scenario file that produced it); empty: none.
    std::vector<std::vector<std::string>> links;
};

// A gnuplot plot: its data file (whitespace-separated columns, '#' comments) and the plot
// command that draws it into an SVG of the same name.
struct Plot {
    std::string name;  // file stem under evaluation/plots/: NAME.dat, NAME.gp, NAME.svg
    std::string title, xlabel, ylabel;
    std::string data;
    std::string plot_command;  // "plot 'NAME.dat' using 1:2 with linespoints title 'A', ..."
    std::string extra;         // more gnuplot settings (logscale, histogram style)
};

struct Section {
    std::string heading;
    std::vector<std::string> paragraphs;  // the reading: generated from the numbers
    std::optional<Table> table;
    std::vector<Plot> plots;
};

struct Document {
    std::string title;
    std::vector<std::string> preamble;  // commit, machine, profile, seed
    std::vector<Section> sections;
};

// Attack rule files compiled in (examples/attacks/*.toml): file name, TOML text.
const std::vector<std::pair<std::string, std::string>>& attack_files();

std::string to_markdown(const Document& d);
// `svgs`: each plot's SVG by name, inlined; a plot without one shows its data table.
std::string to_html(const Document& d,
                    const std::vector<std::pair<std::string, std::string>>& svgs);
// Writes evaluation/plots/NAME.dat and NAME.gp under `dir` and runs gnuplot on each. False (and
// `why`) when gnuplot is not there or failed; the data files are written either way.
bool draw_plots(const std::filesystem::path& dir, const std::vector<Plot>& plots, std::string& why);

}  // namespace pc5sec::evaluation
