// The capture recorder (include/pc5sec/trace.hpp, docs/pcap-format.md).
#include "pc5sec/trace.hpp"

#include "pc5sec/request_privacy.hpp"

namespace pc5sec::trace {

std::uint8_t CaptureRecorder::hop_of(const std::string& link_id) {
    if (link_id.empty()) return 0;
    if (auto it = hops_.find(link_id); it != hops_.end()) return it->second;
    // The frame header has one octet for it; past 255 links the number wraps (1..255).
    const auto n = static_cast<std::uint8_t>(hops_.size() % 255 + 1);
    hops_.emplace(link_id, n);
    return n;
}

void CaptureRecorder::record(pc5::Time now, const pc5::Frame& frame, const std::string& link_id) {
    const auto us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now).count());
    pcap::FrameHeader h;
    h.sender_l2_id = frame.src & pc5::kMaxL2Id;
    h.receiver_l2_id = frame.dst & pc5::kMaxL2Id;
    h.lcid = frame.lcid;
    // What went on the air, never the PC5-S before protection: a capture alone shows what an
    // eavesdropper sees, and with the key log everything (docs/pcap-format.md).
    // SL-SRB0 frames carry their message unprotected: the PDU is the message, except one whose
    // identities are concealed (pc5sec/request_privacy.hpp), on
    // the air as its protection left it. Discovery (LCID 58) is on the air as its protection left
    // it too (pc5sec/discovery.hpp).
    const bool plain = frame.lcid == pc5::lcid::kSrb0 && !request_privacy::concealed(frame.pdu);
    h.flags = plain ? 0 : pcap::kFlagOnAir;
    h.direction = pcap::kDirectionUnknown;
    if (const auto& c = frame.capture) {  // the sender's link: hop number, DIRECTION, protection
        h.hop = hop_of(c->link_id);
        if (!c->link_id.empty()) h.direction = c->from_initiator ? 0 : 1;
        h.flags |= static_cast<std::uint8_t>((c->integrity ? pcap::kFlagIntegrityProtected : 0) |
                                             (c->ciphered ? pcap::kFlagCiphered : 0) |
                                             (c->via_relay ? pcap::kFlagViaRelay : 0));
    } else {
        h.hop = hop_of(link_id);
    }
    // Only an L2 ID past 24 bits makes add() fail, and both are masked above.
    frames_ += writer_.add(epoch_us_ + us, h, frame.pdu).ok();
}

}  // namespace pc5sec::trace
