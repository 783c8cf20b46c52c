// Sequence diagrams as SVG (include/pc5sec/trace.hpp): lanes left to right, time downwards, one
// row per arrow or note (rows, not a time scale: a 2 ms radio hop and an 8 s retransmission
// timer both stay readable; the time of each row is printed on the left).
#include <fmt/format.h>

#include <algorithm>

#include "pc5sec/text.hpp"
#include "pc5sec/trace.hpp"

namespace pc5sec::trace {
namespace {

constexpr int kLaneGap = 260, kLeft = 90, kTop = 90, kRow = 34;

// Names and labels may carry a peer's octets: invalid UTF-8 becomes the text \xNN first.
std::string escape(std::string_view raw) {
    const std::string s = valid_utf8(raw);
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                // Control characters are not allowed in XML 1.0 text.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
                    out += '?';
                else
                    out += c;
        }
    }
    return out;
}

std::string ms(pc5::Time t) {
    return fmt::format("{:.1f} ms", std::chrono::duration<double, std::milli>(t).count());
}

}  // namespace

std::string render_svg(const Diagram& d) {
    struct Row {
        pc5::Time at;
        const DiagramArrow* arrow;
        const DiagramNote* note;
    };
    std::vector<Row> rows;
    for (const auto& a : d.arrows)
        rows.push_back({a.at, &a, nullptr});
    for (const auto& n : d.notes)
        rows.push_back({n.at, nullptr, &n});
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& x, const Row& y) { return x.at < y.at; });
    auto lane_x = [&](const std::string& name) {
        auto it = std::find(d.lanes.begin(), d.lanes.end(), name);
        const auto i = it == d.lanes.end() ? 0 : it - d.lanes.begin();
        return kLeft + 40 + static_cast<int>(i) * kLaneGap;
    };
    const int width = kLeft + 80 +
                      static_cast<int>(std::max<std::size_t>(d.lanes.size(), 1) - 1) * kLaneGap +
                      120;
    const int height = kTop + static_cast<int>(rows.size()) * kRow + 60;

    std::string s = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
        "viewBox=\"0 0 {0} {1}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        "<title>{2}</title>\n"
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
        "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">"
        "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#333\"/></marker>"
        "<marker id=\"cross\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"10\" "
        "markerHeight=\"10\"><path d=\"M 1 1 L 9 9 M 9 1 L 1 9\" stroke=\"#c00\" "
        "stroke-width=\"2\"/></marker></defs>\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"12\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{2}</text>\n"
        "<text x=\"12\" y=\"44\" fill=\"#555\">{3}</text>\n",
        width, height, escape(d.title), escape(d.subtitle));
    const int bottom = height - 30;
    for (const auto& lane : d.lanes) {
        const int x = lane_x(lane);
        s += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"140\" height=\"26\" rx=\"4\" fill=\"#eef3fb\" "
            "stroke=\"#345\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" "
            "font-weight=\"bold\">{}</text>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" "
            "stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
            x - 70, kTop - 36, x, kTop - 18, escape(lane), x, kTop - 10, x, bottom);
    }
    int y = kTop + 10;
    for (const auto& r : rows) {
        s += fmt::format("<text x=\"8\" y=\"{}\" fill=\"#777\" font-size=\"10\">{}</text>\n", y + 4,
                         ms(r.at));
        if (r.note) {
            const int x = lane_x(r.note->lane);
            const int w = static_cast<int>(std::min<std::size_t>(r.note->text.size(), 60) * 6 + 16);
            s += fmt::format(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"20\" rx=\"3\" fill=\"{}\" "
                "stroke=\"{}\"/>\n<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n",
                x + 6, y - 12, w, r.note->failure ? "#fde8e8" : "#e8f6e8",
                r.note->failure ? "#c00" : "#282", x + 12, y + 2, escape(r.note->text));
        } else {
            const auto& a = *r.arrow;
            const int x1 = lane_x(a.from);
            const bool broadcast = a.to == "*";
            int x2 = broadcast ? x1 + kLaneGap / 2 : lane_x(a.to);
            if (x2 == x1) x2 = x1 + 40;
            const bool lost = a.fate == DiagramArrow::Fate::lost;
            // A lost frame stops halfway with a cross.
            const int end = lost ? (x1 + x2) / 2 : x2;
            const char* colour = a.fate == DiagramArrow::Fate::corrupted ? "#c60"
                                 : lost                                  ? "#c00"
                                                                         : "#333";
            s += fmt::format(
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
                "stroke-width=\"1.5\"{} "
                "marker-end=\"url(#{})\"/>\n",
                x1, y, end, y, colour, a.protected_pdu ? "" : " stroke-dasharray=\"6 3\"",
                lost ? "cross" : "arrow");
            const int mid = (x1 + x2) / 2;
            std::string label = a.label;
            if (lost) label += " (lost)";
            if (a.fate == DiagramArrow::Fate::corrupted) label += " (corrupted)";
            s += fmt::format(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", mid,
                y - 5, colour, escape(label));
            if (!a.detail.empty())
                s += fmt::format(
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\" "
                    "font-size=\"9\">{}</text>\n",
                    mid, y + 11, escape(a.detail));
        }
        y += kRow;
    }
    s += fmt::format(
        "<text x=\"12\" y=\"{}\" fill=\"#777\" font-size=\"10\">solid: integrity protected; "
        "dashed: not protected; red cross: lost on the radio. Rows are in time order, not to "
        "scale.</text>\n</svg>\n",
        height - 8);
    return s;
}

}  // namespace pc5sec::trace
