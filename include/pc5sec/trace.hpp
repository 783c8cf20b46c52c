// What a driver writes down about a run (design.md "trace/"): the capture of every frame put on
// the air (docs/pcap-format.md) and the sequence diagram of each establishment (SVG). The
// simulator and the UDP daemon both use it; it never sees a key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pc5sec/error.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/pcap.hpp"

namespace pc5sec::trace {

// Records frames into a pcap exactly as they go on the air (frame header version 2): protected
// PC5-S, data, SRAP-framed PDUs, forwarded copies, all flagged pcap::kFlagOnAir; LCID 0 and
// discovery messages, which travel in clear, unflagged. Plaintext that no radio carried is never
// written: `pc5sec decode --pcap F --keylog K` (or Wireshark with the key log) opens the rest.
//   - A frame with a FrameCapture (its engine or user plane had capture on) gives its link's
//     hop number, DIRECTION and protection flags.
//   - Any other frame (a relay's forwarded copy, discovery) has DIRECTION
//     pcap::kDirectionUnknown and the hop number of `link_id` when the driver knows it.
// Each link id gets the frame header's "hop" number in order of first appearance (1, 2, ...);
// 0 is a frame of no known link.
class CaptureRecorder {
  public:
    // `epoch_us`: unix microseconds of driver time 0 (the pcap's timestamps).
    explicit CaptureRecorder(std::uint64_t epoch_us = 0) : epoch_us_(epoch_us) {}
    // One frame put on the air at `now`. `link_id` names the link of a frame without a
    // FrameCapture when the driver knows it (a data PDU it protected): it sets the hop number.
    void record(pc5::Time now, const pc5::Frame& frame, const std::string& link_id = {});
    std::size_t frames() const noexcept { return frames_; }
    // The hop number given to each link id.
    const std::map<std::string, std::uint8_t>& hops() const noexcept { return hops_; }
    const std::vector<std::uint8_t>& bytes() const noexcept { return writer_.bytes(); }
    Status save(const std::string& path) const { return writer_.save(path); }

  private:
    std::uint8_t hop_of(const std::string& link_id);
    std::uint64_t epoch_us_;
    pcap::PcapWriter writer_;
    std::map<std::string, std::uint8_t> hops_;
    std::size_t frames_ = 0;
};

// A sequence diagram of one establishment (seed 001 refers to such a figure): one lane per UE,
// one arrow per frame, notes for what the UEs concluded. Rendered as a standalone SVG.
struct DiagramArrow {
    pc5::Time at{};
    std::string from, to;  // lane names; `to` "*" for a broadcast
    std::string label;     // "DIRECT_COMMUNICATION_REQUEST", "data SN 3", ...
    std::string detail;    // a second, smaller line (LCID, size, protection)
    // The seed step the message implements ("step 4", "TS 24.554 7.2.4"), drawn in front of the
    // label as "[step 4] DIRECT_COMMUNICATION_REQUEST"; empty if none.
    std::string step;
    // The attacker rule that touched this frame (tampered, injected, dropped, delayed...); drawn
    // as a red dot on the arrow and the red text "attacker: <rule>" under it. Empty if none.
    std::string rule;
    // delivered: arrow head at the receiver. lost (on the radio): the line stops halfway with a
    // red cross. corrupted: delivered, drawn orange. dropped (by an attacker, or refused by the
    // receiver): the line reaches the receiver and ends in a cross, labelled "(dropped)".
    enum class Fate : std::uint8_t { delivered, lost, corrupted, dropped } fate = Fate::delivered;
    bool protected_pdu = false;  // integrity protected (drawn solid) or not (dashed)
};
struct DiagramNote {
    pc5::Time at{};
    std::string lane;
    std::string text;  // never truncated: long text wraps over several lines (~90 characters)
    bool failure = false;
};
struct Diagram {
    std::string title, subtitle;
    std::vector<std::string> lanes;
    std::vector<DiagramArrow> arrows;
    std::vector<DiagramNote> notes;
    // How many further data PDUs were not drawn; nonzero adds a last row "N more data PDUs not
    // shown".
    std::size_t elided = 0;
};
// The SVG text (UTF-8, self-contained, no script). Every string is XML-escaped (invalid UTF-8
// shown as \xNN). The canvas and the lane spacing are sized from the text drawn (a fixed width
// per character), so nothing is clipped; the same Diagram always gives the same bytes.
std::string render_svg(const Diagram& diagram);

}  // namespace pc5sec::trace
