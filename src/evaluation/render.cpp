// The evaluation's document as Markdown and as one self-contained HTML page, and its plots drawn
// by gnuplot (Debian gnuplot-nox, SVG terminal).
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "evaluation/document.hpp"
#include "pc5sec/files.hpp"
#include "pc5sec/text.hpp"

namespace pc5sec::evaluation {
namespace {

// Markdown table cells: no raw '|' or line break.
std::string md_cell(const std::string& s) {
    std::string out;
    for (char c : valid_utf8(s)) {
        if (c == '|')
            out += "\\|";
        else if (c == '\n')
            out += ' ';
        else
            out += c;
    }
    return out;
}

std::string html_escape(std::string_view raw) {
    return escape_xml(raw);
}

// `code` spans of the generated text shown as <code> in HTML.
std::string html_text(const std::string& s) {
    std::string out, e = html_escape(s);
    bool open = false;
    for (char c : e) {
        if (c == '`') {
            out += open ? "</code>" : "<code>";
            open = !open;
        } else {
            out += c;
        }
    }
    if (open) out += "</code>";
    return out;
}

}  // namespace

std::string to_markdown(const Document& d) {
    std::string out = "# " + d.title + "\n\n";
    for (const auto& p : d.preamble)
        out += p + "\n\n";
    for (const auto& s : d.sections) {
        out += "## " + s.heading + "\n\n";
        for (const auto& p : s.paragraphs)
            out += p + "\n\n";
        if (s.table) {
            const auto& t = *s.table;
            out += "|";
            for (const auto& c : t.columns)
                out += " " + md_cell(c) + " |";
            out += "\n|";
            for (std::size_t i = 0; i < t.columns.size(); ++i)
                out += i == 0 ? "---|" : "---:|";
            out += "\n";
            for (std::size_t r = 0; r < t.rows.size(); ++r) {
                out += "|";
                for (std::size_t c = 0; c < t.rows[r].size(); ++c) {
                    const std::string link =
                        r < t.links.size() && c < t.links[r].size() ? t.links[r][c] : "";
                    out += " " +
                           (link.empty() ? md_cell(t.rows[r][c])
                                         : fmt::format("[{}]({})", md_cell(t.rows[r][c]), link)) +
                           " |";
                }
                out += "\n";
            }
            out += "\n";
        }
        for (const auto& p : s.plots)
            out += fmt::format(
                "![{}](evaluation/plots/{}.svg) (data: "
                "[evaluation/plots/{}.dat](evaluation/plots/{}.dat))\n\n",
                p.title, p.name, p.name, p.name);
    }
    return out;
}

std::string to_html(const Document& d,
                    const std::vector<std::pair<std::string, std::string>>& svgs) {
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
        html_escape(d.title) +
        "</title>\n<style>\nbody{font-family:sans-serif;max-width:1400px;margin:2em auto;"
        "padding:0 1em;color:#222}\ntable{border-collapse:collapse;margin:1em 0;font-size:13px}"
        "\nth,td{border:1px solid #bbb;padding:3px 6px;text-align:right}\nth{background:#eee}"
        "\ntd:first-child,th:first-child{text-align:left}\n.stopped{background:#e6f4e6}"
        "\n.undetected{background:#fbe3e3}\n.na{color:#888}\n.plot{margin:1em 0}"
        "\ncode{background:#f3f3f3;padding:0 2px}\n</style></head><body>\n";
    out += "<h1>" + html_escape(d.title) + "</h1>\n";
    for (const auto& p : d.preamble)
        out += "<p>" + html_text(p) + "</p>\n";
    for (const auto& s : d.sections) {
        out += "<h2>" + html_escape(s.heading) + "</h2>\n";
        for (const auto& p : s.paragraphs)
            out += "<p>" + html_text(p) + "</p>\n";
        if (s.table) {
            const auto& t = *s.table;
            out += "<table>\n<tr>";
            for (const auto& c : t.columns)
                out += "<th>" + html_escape(c) + "</th>";
            out += "</tr>\n";
            for (std::size_t r = 0; r < t.rows.size(); ++r) {
                out += "<tr>";
                for (std::size_t c = 0; c < t.rows[r].size(); ++c) {
                    const auto& v = t.rows[r][c];
                    const char* cls = v.starts_with("refused") || v.starts_with("detected")
                                          ? " class=\"stopped\""
                                      : v.starts_with("undetected") ? " class=\"undetected\""
                                      : v.starts_with("n/a")        ? " class=\"na\""
                                                                    : "";
                    const std::string link =
                        r < t.links.size() && c < t.links[r].size() ? t.links[r][c] : "";
                    out += fmt::format("<td{}>{}</td>", c == 0 ? "" : cls,
                                       link.empty() ? html_escape(v)
                                                    : "<a href=\"" + html_escape(link) + "\">" +
                                                          html_escape(v) + "</a>");
                }
                out += "</tr>\n";
            }
            out += "</table>\n";
        }
        for (const auto& p : s.plots) {
            std::string svg;
            for (const auto& [name, text] : svgs)
                if (name == p.name) svg = text;
            out += "<div class=\"plot\">";
            if (!svg.empty()) {
                // The SVG inline, without its XML prolog.
                const auto at = svg.find("<svg");
                out += at == std::string::npos ? "" : svg.substr(at);
            } else {
                out += "<p><b>" + html_escape(p.title) +
                       "</b> (not drawn: gnuplot is not installed; its data:)</p><pre>" +
                       html_escape(p.data) + "</pre>";
            }
            out += "</div>\n";
        }
    }
    out += "</body></html>\n";
    return out;
}

bool draw_plots(const std::filesystem::path& dir, const std::vector<Plot>& plots,
                std::string& why) {
    const auto plots_dir = dir / "evaluation" / "plots";
    std::error_code ec;
    std::filesystem::create_directories(plots_dir, ec);
    bool ok = true;
    for (const auto& p : plots) {
        const std::string script = fmt::format(
            "# Drawn by `pc5sec evaluate` with gnuplot: gnuplot {0}.gp\n"
            "set terminal svg size 860,480 dynamic enhanced font 'sans,12' background '#ffffff'\n"
            "set output '{0}.svg'\nset title \"{1}\" noenhanced\nset xlabel \"{2}\" noenhanced\n"
            "set ylabel \"{3}\" noenhanced\nset grid\nset key outside right top noenhanced\n"
            "{4}\n{5}\n",
            p.name, p.title, p.xlabel, p.ylabel, p.extra, p.plot_command);
        if (auto s = files::write_file(plots_dir / (p.name + ".dat"), p.data, 0644); !s) {
            why = s.error().message;
            return false;
        }
        if (auto s = files::write_file(plots_dir / (p.name + ".gp"), script, 0644); !s) {
            why = s.error().message;
            return false;
        }
    }
    if (plots_dir.string().find('\'') != std::string::npos) {
        why = "the output directory's name has a quote, which the gnuplot command line cannot take";
        return false;
    }
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
        why = "gnuplot is not installed (Debian: apt-get install gnuplot-nox, or scripts/setup)";
        return false;
    }
    for (const auto& p : plots) {
        const std::string cmd = fmt::format("cd '{}' && gnuplot '{}.gp' 2>'{}.log'",
                                            plots_dir.string(), p.name, p.name);
        if (std::system(cmd.c_str()) != 0) {
            why = fmt::format("gnuplot failed on evaluation/plots/{}.gp (see its .log)", p.name);
            ok = false;
        } else {
            std::filesystem::remove(plots_dir / (p.name + ".log"));
        }
    }
    return ok;
}

}  // namespace pc5sec::evaluation
