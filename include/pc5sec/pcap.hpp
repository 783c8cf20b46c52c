// A tiny pcap writer and reader for PC5 captures (docs/pcap-format.md). Link type 147 (USER0).
// Each frame is a 12-octet pc5sec frame header, then the PDU exactly as it went on the air:
//   0 version (2) | 1 header length (12) | 2-4 sender layer-2 ID | 5-7 receiver layer-2 ID |
//   8 hop / link id | 9 direction | 10 LCID | 11 flags
// Version 2 (pc5sec's UEs and simulator write nothing else): the frame holds what went on the
// air, and the direction is the PDU's DIRECTION. Version 1 (still read) held PC5-S before
// protection unless flagged kFlagOnAir, and its direction was meaningful only for that plaintext.
// pc5sec's Wireshark plugin (src/wireshark/, docs/wireshark.md) dissects and deciphers them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pc5sec/error.hpp"

namespace pc5sec::pcap {

inline constexpr std::uint32_t kLinkTypeUser0 = 147;
inline constexpr std::uint8_t kFrameHeaderVersion = 2;
// The header's direction when the writer does not know the PDU's DIRECTION: a relay's
// forwarded copy of an end-to-end PDU, discovery.
inline constexpr std::uint8_t kDirectionUnknown = 2;
inline constexpr std::size_t kFrameHeaderSize = 12;

// Frame header flags.
inline constexpr std::uint8_t kFlagIntegrityProtected = 0x01;  // the link applied NIA
inline constexpr std::uint8_t kFlagCiphered = 0x02;            // the link applied NEA
inline constexpr std::uint8_t kFlagViaRelay = 0x04;            // the hop is one of a relayed path
// The message is a protected or framed PDU exactly as it went on the air (LCID 1, 2 a PDCP PDU,
// 4..19 a data PDU, 55 an SRAP-framed PDU), not a PC5-S message in clear. Off for LCID 0 and
// discovery (a message in clear, as on the air) and for version 1's plaintext PC5-S frames.
inline constexpr std::uint8_t kFlagOnAir = 0x08;

struct FrameHeader {
    std::uint32_t sender_l2_id = 0;    // 24 bits
    std::uint32_t receiver_l2_id = 0;  // 24 bits
    std::uint8_t hop = 0;              // link id; 0 direct, 1 source-relay, 2 relay-target, ...
    // The PDU's DIRECTION: 0 sent by the UE that initiated the link, 1 by its peer (3gpp-facts
    // §4); kDirectionUnknown when the writer did not know it (version 1: meaningful only for
    // plaintext PC5-S frames).
    std::uint8_t direction = 0;
    std::uint8_t lcid = 0;  // TS 38.321: 0 unprotected PC5-S, 1 security mode, 2 protected
    std::uint8_t flags = 0;
    std::uint8_t version = kFrameHeaderVersion;  // as read; the writer writes kFrameHeaderVersion
    friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

struct Frame {
    std::uint64_t timestamp_us = 0;
    FrameHeader header;
    std::vector<std::uint8_t> message;
};

// Builds a capture in memory; `save` writes it out.
class PcapWriter {
  public:
    PcapWriter();
    // Fails (invalid_argument) for an L2 ID over 24 bits or a direction other than 0, 1 or
    // kDirectionUnknown.
    Status add(std::uint64_t timestamp_us, const FrameHeader& header,
               std::span<const std::uint8_t> message);
    const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }
    Status save(const std::string& path) const;

  private:
    std::vector<std::uint8_t> bytes_;
};

// Parses a capture written by PcapWriter (either byte order, microsecond timestamps, link type
// 147). Errors name the frame: "frame 3.header".
Result<std::vector<Frame>> parse(std::span<const std::uint8_t> file);
Result<std::vector<Frame>> read_file(const std::string& path);

}  // namespace pc5sec::pcap
