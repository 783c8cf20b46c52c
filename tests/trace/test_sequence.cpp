// trace::render_svg (include/pc5sec/trace.hpp): the sequence diagram fits its text (long notes
// wrap, never truncated; the canvas is as wide as its longest line), shows the attacker rule, the
// seed step, dropped frames and the count of data PDUs left out, keeps protected arrows solid
// and unprotected ones dashed, escapes every string, and is deterministic.
#include <gtest/gtest.h>

#include <string>

#include "pc5sec/trace.hpp"

using namespace pc5sec;
using namespace pc5sec::trace;
using namespace std::chrono_literals;

namespace {

Diagram three_lanes() {
    Diagram d;
    d.title = "alice - relay - bob";
    d.subtitle = "solution A";
    d.lanes = {"alice", "relay", "bob"};
    return d;
}

DiagramArrow arrow(pc5::Time at, std::string from, std::string to, std::string label) {
    DiagramArrow a;
    a.at = at;
    a.from = std::move(from);
    a.to = std::move(to);
    a.label = std::move(label);
    return a;
}

// Plain string scanning (GCC 12 warns falsely inside std::regex under the sanitizers).
int svg_width(const std::string& svg) {
    const auto tag = svg.find("<svg ");
    const auto at = svg.find(" width=\"", tag);
    EXPECT_NE(at, std::string::npos);
    return at == std::string::npos ? 0 : std::stoi(svg.substr(at + 8));
}

// The text of every <tspan> in the SVG, in order.
std::vector<std::string> tspans(const std::string& svg) {
    std::vector<std::string> out;
    for (auto at = svg.find("<tspan"); at != std::string::npos; at = svg.find("<tspan", at + 1)) {
        const auto open = svg.find('>', at), close = svg.find("</tspan>", at);
        if (open == std::string::npos || close == std::string::npos) break;
        out.push_back(svg.substr(open + 1, close - open - 1));
    }
    return out;
}

// The renderer's estimate: 0.6 of the font size per character (ASCII), a tenth more in bold.
int estimate(std::size_t chars, int font_size, bool bold = false) {
    const int w = static_cast<int>((chars * static_cast<std::size_t>(font_size) * 3 + 4) / 5);
    return bold ? (w * 11 + 9) / 10 : w;
}

// The <line> elements of arrows (the lifelines have stroke #999).
std::vector<std::string> arrow_lines(const std::string& svg) {
    std::vector<std::string> out;
    for (auto at = svg.find("<line "); at != std::string::npos; at = svg.find("<line ", at + 1)) {
        const auto end = svg.find("/>", at);
        if (end == std::string::npos) break;
        const std::string line = svg.substr(at, end + 2 - at);
        if (line.find("marker-end=") != std::string::npos) out.push_back(line);
    }
    return out;
}

}  // namespace

TEST(SequenceSvg, LongNoteAppearsInFullAcrossLines) {
    Diagram d = three_lanes();
    std::string note;
    for (int i = 0; note.size() < 300; ++i)
        note += (note.empty() ? "" : " ") + ("word" + std::to_string(i));
    note.resize(300);
    ASSERT_EQ(note.size(), 300u);
    d.notes.push_back({10ms, "bob", note, true});
    const std::string svg = render_svg(d);
    const auto lines = tspans(svg);
    ASSERT_GT(lines.size(), 1u);  // wrapped, not one 300-character line
    std::string joined;
    std::size_t longest = 0;
    for (const auto& line : lines) {
        EXPECT_LE(line.size(), 90u);
        longest = std::max(longest, line.size());
        joined += (joined.empty() ? "" : " ") + line;
    }
    EXPECT_EQ(joined, note);
    // The note starts 12 px right of bob's lifeline, which is right of alice's and relay's.
    EXPECT_GE(svg_width(svg), 2 * 260 + estimate(longest, 11));
}

TEST(SequenceSvg, LongWordIsCutNotTruncated) {
    Diagram d = three_lanes();
    const std::string note(300, 'x');
    d.notes.push_back({10ms, "alice", note, false});
    const std::string svg = render_svg(d);
    std::string joined;
    for (const auto& line : tspans(svg)) {
        EXPECT_LE(line.size(), 90u);
        joined += line;
    }
    EXPECT_EQ(joined, note);
    EXPECT_GE(svg_width(svg), estimate(90, 11));
}

TEST(SequenceSvg, LongTitleFits) {
    Diagram d = three_lanes();
    d.title = std::string(200, 'T');
    const std::string svg = render_svg(d);
    EXPECT_NE(svg.find(d.title), std::string::npos);
    EXPECT_GE(svg_width(svg), 12 + estimate(200, 16, true));
    d.title = "t";
    d.subtitle = std::string(200, 's');
    const std::string svg2 = render_svg(d);
    EXPECT_GE(svg_width(svg2), 12 + estimate(200, 12));
}

TEST(SequenceSvg, LongLabelWidensTheCanvas) {
    Diagram d = three_lanes();
    const std::string label(150, 'L');
    d.arrows.push_back(arrow(1ms, "relay", "bob", label));
    const std::string svg = render_svg(d);
    EXPECT_NE(svg.find(label), std::string::npos);
    EXPECT_GE(svg_width(svg), estimate(150, 12));
}

TEST(SequenceSvg, AttackerRuleIsShownEscaped) {
    Diagram d = three_lanes();
    auto a = arrow(1ms, "alice", "relay", "DIRECT_COMMUNICATION_REQUEST");
    a.rule = "drop-req<&>";
    d.arrows.push_back(a);
    const std::string svg = render_svg(d);
    EXPECT_NE(svg.find("drop-req&lt;&amp;&gt;"), std::string::npos);
    EXPECT_NE(svg.find("attacker"), std::string::npos);
    EXPECT_EQ(svg.find("drop-req<"), std::string::npos);
    // No rule: no attacker text on the rows (the legend mentions it once).
    d.arrows[0].rule.clear();
    const std::string clean = render_svg(d);
    EXPECT_EQ(clean.find("attacker: "), std::string::npos);
}

TEST(SequenceSvg, StepIsShown) {
    Diagram d = three_lanes();
    auto a = arrow(1ms, "alice", "relay", "DIRECT LINK ESTABLISHMENT REQUEST");
    a.step = "step 4";
    d.arrows.push_back(a);
    const std::string svg = render_svg(d);
    EXPECT_NE(svg.find("step 4"), std::string::npos);
    EXPECT_NE(svg.find("[step 4] DIRECT LINK ESTABLISHMENT REQUEST"), std::string::npos);
}

TEST(SequenceSvg, ElidedDataPdus) {
    Diagram d = three_lanes();
    d.arrows.push_back(arrow(1ms, "alice", "bob", "data SN 0"));
    d.elided = 7;
    EXPECT_NE(render_svg(d).find("7 more data PDUs not shown"), std::string::npos);
    d.elided = 1;
    const std::string one = render_svg(d);
    EXPECT_NE(one.find("1 more data PDU not shown"), std::string::npos);
    EXPECT_EQ(one.find("PDUs not shown"), std::string::npos);
    d.elided = 0;
    EXPECT_EQ(render_svg(d).find("not shown"), std::string::npos);
}

TEST(SequenceSvg, DroppedIsDistinctFromDelivered) {
    Diagram d = three_lanes();
    d.arrows.push_back(arrow(1ms, "alice", "relay", "DIRECT_COMMUNICATION_ACCEPT"));
    const std::string delivered = render_svg(d);
    d.arrows[0].fate = DiagramArrow::Fate::dropped;
    const std::string dropped = render_svg(d);
    EXPECT_NE(dropped, delivered);
    EXPECT_NE(dropped.find("(dropped)"), std::string::npos);
    EXPECT_EQ(delivered.find("(dropped)"), std::string::npos);
    const auto dl = arrow_lines(dropped), ok = arrow_lines(delivered);
    ASSERT_EQ(dl.size(), 1u);
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_NE(dl[0].find("url(#cross)"), std::string::npos);
    EXPECT_NE(ok[0].find("url(#arrow)"), std::string::npos);
    // Lost stops halfway; dropped reaches the receiver.
    d.arrows[0].fate = DiagramArrow::Fate::lost;
    const auto lost = arrow_lines(render_svg(d));
    ASSERT_EQ(lost.size(), 1u);
    EXPECT_NE(lost[0], dl[0]);
}

TEST(SequenceSvg, Deterministic) {
    Diagram d = three_lanes();
    auto a = arrow(1ms, "alice", "relay", "DIRECT_COMMUNICATION_REQUEST");
    a.step = "step 1";
    a.rule = "tamper";
    a.detail = "LCID 0, 80 octets";
    d.arrows.push_back(a);
    d.arrows.push_back(arrow(2ms, "relay", "*", "discovery"));
    d.notes.push_back({3ms, "bob", std::string(250, 'n') + " \xff\xfe end", true});
    d.elided = 3;
    EXPECT_EQ(render_svg(d), render_svg(d));
}

TEST(SequenceSvg, ProtectedSolidUnprotectedDashed) {
    Diagram d = three_lanes();
    auto p = arrow(1ms, "alice", "relay", "protected");
    p.protected_pdu = true;
    d.arrows.push_back(p);
    d.arrows.push_back(arrow(2ms, "relay", "bob", "clear"));
    const auto lines = arrow_lines(render_svg(d));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].find("stroke-dasharray"), std::string::npos);
    EXPECT_NE(lines[1].find("stroke-dasharray"), std::string::npos);
}

TEST(SequenceSvg, StandaloneAndEscaped) {
    Diagram d = three_lanes();
    d.lanes.push_back("<evil lane & \"name\">");
    d.arrows.push_back(arrow(1ms, "alice", "<evil lane & \"name\">", "lbl\x01<script>"));
    d.notes.push_back({2ms, "alice", "line one\nline two <b>", false});
    const std::string svg = render_svg(d);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.find("<b>"), std::string::npos);
    EXPECT_NE(svg.find("&lt;evil lane &amp; &quot;name&quot;&gt;"), std::string::npos);
    EXPECT_EQ(svg.rfind("</svg>\n"), svg.size() - 7);
    const auto lines = tspans(svg);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "line one");
    EXPECT_EQ(lines[1], "line two &lt;b&gt;");
}
