// Sequence diagrams as SVG (include/pc5sec/trace.hpp): lanes left to right, time downwards, one
// row per arrow or note (rows, not a time scale: a 2 ms radio hop and an 8 s retransmission
// timer both stay readable; the time of each row is printed on the left).
//
// Layout is computed from the text, with a fixed width estimate per character (no font metrics,
// so the same Diagram always gives the same bytes): the lanes are spaced so that the labels of an
// arrow fit between its ends, notes wrap at kWrap characters (never truncated) and their rows grow
// with them, and the canvas is as wide as the rightmost text drawn.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/text.hpp"
#include "pc5sec/trace.hpp"

namespace pc5sec::trace {
namespace {

constexpr int kLeft = 90;          // the time column
constexpr int kTop = 90;           // title, subtitle and lane heads
constexpr int kRow = 34;           // an arrow row with one line under the arrow, a one-line note
constexpr int kLineGap = 12;       // a further line under an arrow
constexpr int kNoteLine = 14;      // one line of a note
constexpr int kMinLaneGap = 260;   // between lifelines, unless the text needs more
constexpr int kMaxLaneGap = 640;   // beyond it a long label spills over lanes; the canvas grows
constexpr int kMinLaneBox = 140;   // lane head box
constexpr int kMargin = 20;        // right of the rightmost text
constexpr std::size_t kWrap = 90;  // note characters per line
constexpr std::uint64_t kMaxPx = 10'000'000;  // text width estimates stop here (no overflow)

// Names and labels may carry a peer's octets: invalid UTF-8 becomes the text \xNN first.
std::string escape(std::string_view raw) {
    return escape_xml(raw);
}

std::string ms(pc5::Time t) {
    return fmt::format("{:.1f} ms", std::chrono::duration<double, std::milli>(t).count());
}

// Width units of one code point starting with octet `lead` (valid UTF-8): 1, or 2 for those of
// three or four octets (CJK, symbols), which may be drawn wide.
int units_of(unsigned char lead) {
    return lead >= 0xE0 ? 2 : 1;
}
bool starts_code_point(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
}

// Width units of text as drawn (after valid_utf8: invalid octets are drawn as \xNN).
std::size_t units(std::string_view valid) {
    std::size_t n = 0;
    for (char c : valid)
        if (starts_code_point(c))
            n += static_cast<std::size_t>(units_of(static_cast<unsigned char>(c)));
    return n;
}

// The estimated width in pixels: 0.6 of the font size per unit (7.2 px at 12 px), a tenth more in
// bold. Integer arithmetic, rounded up; capped at kMaxPx.
int px(std::size_t n, int font_size, bool bold = false) {
    std::uint64_t w = (n * static_cast<std::uint64_t>(font_size) * 3 + 4) / 5;
    if (bold) w = (w * 11 + 9) / 10;
    return static_cast<int>(std::min<std::uint64_t>(w, kMaxPx));
}
int text_px(std::string_view raw, int font_size, bool bold = false) {
    return px(units(valid_utf8(raw)), font_size, bold);
}

// Splits valid UTF-8 at line feeds, then greedily at spaces so that no line exceeds `max` units;
// a word longer than a line is cut at a code point boundary. Only the space or line feed where a
// line breaks is dropped: every other character is kept.
std::vector<std::string> wrap(std::string_view valid, std::size_t max) {
    std::vector<std::string> lines;
    // Cuts the front of cur into lines of `max` units while the rest is longer than a line.
    auto cut_long = [&](std::string& cur) {
        std::size_t from = 0, n = 0, total = 0;
        for (std::size_t i = 0; i < cur.size(); ++i)
            if (starts_code_point(cur[i]))
                total += static_cast<std::size_t>(units_of(static_cast<unsigned char>(cur[i])));
        for (std::size_t i = 0; i < cur.size() && total > max;) {
            std::size_t j = i + 1;
            while (j < cur.size() && !starts_code_point(cur[j]))
                ++j;
            const auto u = static_cast<std::size_t>(units_of(static_cast<unsigned char>(cur[i])));
            if (n + u > max && i > from) {
                lines.push_back(cur.substr(from, i - from));
                from = i;
                total -= n;
                n = 0;
            }
            n += u;
            i = j;
        }
        cur.erase(0, from);
    };
    std::size_t start = 0;
    while (true) {
        const auto nl = valid.find('\n', start);
        const auto para = valid.substr(start, nl == std::string_view::npos ? nl : nl - start);
        std::string cur;
        bool started = false;
        std::size_t w = 0;
        while (true) {
            const auto sp = para.find(' ', w);
            const auto word = para.substr(w, sp == std::string_view::npos ? sp : sp - w);
            if (!started) {
                cur = std::string(word);
                started = true;
            } else if (units(cur) + 1 + units(word) <= max) {
                cur += ' ';
                cur += word;
            } else {
                lines.push_back(std::move(cur));
                cur = std::string(word);
            }
            cut_long(cur);
            if (sp == std::string_view::npos) break;
            w = sp + 1;
        }
        lines.push_back(std::move(cur));
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    // A trailing line feed gives no empty last line.
    while (lines.size() > 1 && lines.back().empty())
        lines.pop_back();
    return lines;
}

std::string label_of(const DiagramArrow& a) {
    std::string label = a.step.empty() ? a.label : fmt::format("[{}] {}", a.step, a.label);
    switch (a.fate) {
        case DiagramArrow::Fate::delivered:
            break;
        case DiagramArrow::Fate::lost:
            label += " (lost)";
            break;
        case DiagramArrow::Fate::corrupted:
            label += " (corrupted)";
            break;
        case DiagramArrow::Fate::dropped:
            label += " (dropped)";
            break;
    }
    return label;
}

std::string rule_of(const DiagramArrow& a) {
    return "attacker: " + a.rule;
}

std::string elided_text(std::size_t n) {
    return n == 1 ? std::string("1 more data PDU not shown")
                  : fmt::format("{} more data PDUs not shown", n);
}

constexpr std::string_view kLegend[] = {
    "solid: integrity protected; dashed: not protected; red cross halfway: lost on the radio; "
    "cross at the receiver: dropped (by an attacker or the receiver).",
    "orange: corrupted; red dot and \"attacker:\": an attacker rule touched the frame. Rows are in "
    "time order, not to scale.",
};

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

    auto lane_index = [&](const std::string& name) {
        auto it = std::find(d.lanes.begin(), d.lanes.end(), name);
        return it == d.lanes.end() ? 0 : static_cast<int>(it - d.lanes.begin());
    };

    // Lane heads as wide as their names; lifelines far enough apart for the heads and for the
    // text of each arrow between its ends (a broadcast spans half a gap), up to kMaxLaneGap.
    std::vector<int> box;
    for (const auto& lane : d.lanes)
        box.push_back(std::max(kMinLaneBox, text_px(lane, 12, true) + 20));
    int gap = kMinLaneGap;
    for (std::size_t i = 1; i < box.size(); ++i)
        gap = std::max(gap, (box[i - 1] + box[i]) / 2 + 20);
    for (const auto& a : d.arrows) {
        int need = text_px(label_of(a), 12);
        need = std::max(need, text_px(a.detail, 9));
        if (!a.rule.empty()) need = std::max(need, text_px(rule_of(a), 10));
        need += 30;
        if (a.to == "*") {
            gap = std::max(gap, std::min(kMaxLaneGap, 2 * need));
        } else {
            const int span = std::abs(lane_index(a.to) - lane_index(a.from));
            if (span > 0) gap = std::max(gap, std::min(kMaxLaneGap, (need + span - 1) / span));
        }
    }
    const int first_x = std::max(kLeft + 40, (box.empty() ? kMinLaneBox : box.front()) / 2 + 10);
    auto lane_x = [&](const std::string& name) { return first_x + lane_index(name) * gap; };

    // The rightmost pixel drawn so far.
    int right = box.empty() ? first_x + kMinLaneBox / 2
                            : first_x + static_cast<int>(box.size() - 1) * gap + box.back() / 2;
    // Text centred on cx: moved right if it would reach into the time column.
    auto centre = [&](int cx, int w) {
        cx = std::max(cx, kLeft + (w + 1) / 2);
        right = std::max(right, cx + (w + 1) / 2);
        return cx;
    };

    std::string body;
    int y = kTop + 10;
    for (const auto& r : rows) {
        body += fmt::format("<text x=\"8\" y=\"{}\" fill=\"#777\" font-size=\"10\">{}</text>\n",
                            y + 4, ms(r.at));
        if (r.note) {
            const int x = lane_x(r.note->lane);
            const auto lines = wrap(valid_utf8(r.note->text), kWrap);
            int longest = 0;
            for (const auto& line : lines)
                longest = std::max(longest, px(units(line), 11));
            const int w = longest + 16;
            const int n = static_cast<int>(lines.size());
            body += fmt::format(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{}\" "
                "stroke=\"{}\"/>\n<text font-size=\"11\">",
                x + 6, y - 12, w, n * kNoteLine + 6, r.note->failure ? "#fde8e8" : "#e8f6e8",
                r.note->failure ? "#c00" : "#282");
            for (int i = 0; i < n; ++i)
                body +=
                    fmt::format("<tspan x=\"{}\" y=\"{}\">{}</tspan>", x + 12,
                                y + 2 + i * kNoteLine, escape(lines[static_cast<std::size_t>(i)]));
            body += "</text>\n";
            right = std::max(right, x + 6 + w);
            y += std::max(kRow, n * kNoteLine + 20);
            continue;
        }
        const auto& a = *r.arrow;
        const int x1 = lane_x(a.from);
        const bool broadcast = a.to == "*";
        int x2 = broadcast ? x1 + gap / 2 : lane_x(a.to);
        if (x2 == x1) x2 = x1 + 40;
        const bool lost = a.fate == DiagramArrow::Fate::lost;
        const bool dropped = a.fate == DiagramArrow::Fate::dropped;
        // A lost frame stops halfway with a cross; a dropped one reaches the receiver, which
        // never takes it: a cross at the end.
        const int end = lost ? (x1 + x2) / 2 : x2;
        const char* colour = a.fate == DiagramArrow::Fate::corrupted ? "#c60"
                             : lost                                  ? "#c00"
                             : dropped                               ? "#909"
                                                                     : "#333";
        body += fmt::format(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{} "
            "marker-end=\"url(#{})\"/>\n",
            x1, y, end, y, colour, a.protected_pdu ? "" : " stroke-dasharray=\"6 3\"",
            lost || dropped ? "cross" : "arrow");
        right = std::max(right, std::max(x1, end) + 6);
        const int mid = (x1 + x2) / 2;
        const std::string label = label_of(a);
        const int lw = text_px(label, 12);
        body +=
            fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
                        centre(mid, lw), y - 5, colour, escape(label));
        int below = y + 11;
        if (!a.detail.empty()) {
            body += fmt::format(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\" "
                "font-size=\"9\">{}</text>\n",
                centre(mid, text_px(a.detail, 9)), below, escape(a.detail));
            below += kLineGap;
        }
        if (!a.rule.empty()) {
            const std::string text = rule_of(a);
            body += fmt::format(
                "<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"#c00\" stroke=\"white\"/>\n"
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c00\" font-size=\"10\" "
                "font-weight=\"bold\">{}</text>\n",
                (x1 + end) / 2, y, centre(mid, text_px(text, 10, true)), below, escape(text));
            below += kLineGap;
        }
        y += std::max(kRow, below - y + 11);
    }
    if (d.elided > 0) {
        const std::string text = elided_text(d.elided);
        const int w = text_px(text, 12);
        body +=
            fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#555\" font-style=\"italic\">{}</text>\n",
                        kLeft, y + 4, escape(text));
        right = std::max(right, kLeft + w);
        y += kRow;
    }

    const int bottom = y + 20;
    int width = right + kMargin;
    width = std::max(width, 12 + text_px(d.title, 16, true) + kMargin);
    width = std::max(width, 12 + text_px(d.subtitle, 12) + kMargin);
    for (auto line : kLegend)
        width = std::max(width, 12 + text_px(line, 10) + kMargin);
    const int height = bottom + 44;

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
    for (std::size_t i = 0; i < d.lanes.size(); ++i) {
        const int x = first_x + static_cast<int>(i) * gap;
        s += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"26\" rx=\"4\" fill=\"#eef3fb\" "
            "stroke=\"#345\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" "
            "font-weight=\"bold\">{}</text>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" "
            "stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
            x - box[i] / 2, kTop - 36, box[i], x, kTop - 18, escape(d.lanes[i]), x, kTop - 10, x,
            bottom);
    }
    s += body;
    for (std::size_t i = 0; i < std::size(kLegend); ++i)
        s += fmt::format("<text x=\"12\" y=\"{}\" fill=\"#777\" font-size=\"10\">{}</text>\n",
                         bottom + 22 + static_cast<int>(i) * 14, escape(kLegend[i]));
    s += "</svg>\n";
    return s;
}

}  // namespace pc5sec::trace
