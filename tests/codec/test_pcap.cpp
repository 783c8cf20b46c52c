#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/pcap.hpp"

namespace pc5sec::pcap {
namespace {

TEST(Pcap, WritesAndReadsBackEveryMessageType) {
    PcapWriter w;
    const auto samples = codec::sample_messages(true);
    std::vector<std::vector<std::uint8_t>> encoded;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        encoded.push_back(*codec::encode(samples[i]));
        FrameHeader h{0x000a01,
                      0xfffffe,
                      static_cast<std::uint8_t>(i % 3),
                      static_cast<std::uint8_t>(i & 1),
                      2,
                      kFlagIntegrityProtected};
        ASSERT_TRUE(w.add(1000 * i + 5, h, encoded.back()).ok());
    }
    // Global header: magic a1b2c3d4 little-endian, version 2.4, link type 147.
    const auto& b = w.bytes();
    EXPECT_EQ(b[0], 0xd4);
    EXPECT_EQ(b[3], 0xa1);
    EXPECT_EQ(b[20], 147);
    // First record: 16-octet record header, then the 12-octet frame header.
    EXPECT_EQ(b[24 + 16], kFrameHeaderVersion);
    EXPECT_EQ(b[24 + 16 + 1], kFrameHeaderSize);
    EXPECT_EQ(b[24 + 16 + 2], 0x00);
    EXPECT_EQ(b[24 + 16 + 4], 0x01);

    auto frames = parse(b);
    ASSERT_TRUE(frames.ok()) << frames.error().describe();
    ASSERT_EQ(frames->size(), samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const auto& f = (*frames)[i];
        EXPECT_EQ(f.timestamp_us, 1000 * i + 5);
        EXPECT_EQ(f.header.receiver_l2_id, 0xfffffeu);
        EXPECT_EQ(f.header.hop, i % 3);
        EXPECT_EQ(f.message, encoded[i]);
        auto m = codec::decode(f.message);
        ASSERT_TRUE(m.ok());
        EXPECT_EQ(*m, samples[i]);
    }
}

TEST(Pcap, RefusesBadHeadersAndBadFiles) {
    PcapWriter w;
    const std::uint8_t msg[] = {0x08, 0x01};
    EXPECT_EQ(w.add(0, FrameHeader{0x1000000, 1, 0, 0, 0, 0}, msg).error().field, "sender_l2_id");
    EXPECT_EQ(w.add(0, FrameHeader{1, 1, 0, 3, 0, 0}, msg).error().field, "direction");
    ASSERT_TRUE(w.add(0, FrameHeader{1, 2, 0, 0, 0, 0}, msg).ok());

    auto bytes = w.bytes();
    auto cut = bytes;
    cut.resize(cut.size() - 5);
    EXPECT_EQ(parse(cut).error().field, "frame 1");
    auto wrong = bytes;
    wrong[20] = 1;  // Ethernet
    EXPECT_EQ(parse(wrong).error().code, Errc::unsupported);
    auto garbage = std::vector<std::uint8_t>(30, 0x42);
    EXPECT_EQ(parse(garbage).error().field, "pcap header");
    EXPECT_EQ(read_file("/nonexistent/x.pcap").error().code, Errc::io);
}

}  // namespace
}  // namespace pc5sec::pcap
