// The UDP frame of docs/udp.md (round trip, every reject path) and the command-line parsers.
#include <gtest/gtest.h>

#include <thread>

#include "pc5sec/net.hpp"

using namespace pc5sec;
using namespace pc5sec::net;

namespace {

pc5::Frame frame(pc5::L2Id src, pc5::L2Id dst, std::uint8_t lcid, std::size_t n) {
    pc5::Frame f;
    f.src = src;
    f.dst = dst;
    f.lcid = lcid;
    f.pdu.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        f.pdu[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return f;
}

std::string field_of(const Error& e) {
    return e.field;
}

}  // namespace

TEST(UdpFrame, RoundTripKeepsEveryField) {
    struct Case {
        pc5::L2Id src, dst;
        std::uint8_t lcid;
        std::size_t n;
    };
    for (const auto& [src, dst, lcid, n] :
         {Case{0x00000A, 0x000050, 0, 1}, Case{0xABCDEF, 0xFFFFFF, 63, 100},
          Case{0x000001, 0xFFFFFE, 55, kMaxPdu}}) {
        auto f = frame(src, dst, lcid, n);
        auto d = encode_frame(f);
        ASSERT_TRUE(d) << d.error().describe();
        ASSERT_EQ(d->size(), kHeaderSize + f.pdu.size());
        auto v = decode_frame(*d);
        ASSERT_TRUE(v) << v.error().describe();
        EXPECT_EQ(v->src, f.src);
        EXPECT_EQ(v->dst, f.dst);
        EXPECT_EQ(v->lcid, f.lcid);
        auto back = v->to_frame();
        EXPECT_EQ(back.pdu, f.pdu);
    }
}

TEST(UdpFrame, HeaderIsAsDocumented) {
    auto d = encode_frame(frame(0x0A0B0C, 0x000050, 4, 2));
    ASSERT_TRUE(d);
    const std::vector<std::uint8_t> want = {0x50, 0x35, 0x01, 0x0A, 0x0B, 0x0C,
                                            0x00, 0x00, 0x50, 0x04, 0x01, 0x08};
    EXPECT_EQ(*d, want);
}

TEST(UdpFrame, EncoderRefusesWhatCannotBeSent) {
    EXPECT_EQ(field_of(encode_frame(frame(0x1000000, 1, 0, 1)).error()), "src");
    EXPECT_EQ(field_of(encode_frame(frame(0xFFFFFF, 1, 0, 1)).error()), "src");
    EXPECT_EQ(field_of(encode_frame(frame(1, 0x1000000, 0, 1)).error()), "dst");
    EXPECT_EQ(field_of(encode_frame(frame(1, 2, 64, 1)).error()), "lcid");
    EXPECT_EQ(field_of(encode_frame(frame(1, 2, 0, 0)).error()), "pdu");
    EXPECT_EQ(field_of(encode_frame(frame(1, 2, 0, kMaxPdu + 1)).error()), "pdu");
}

TEST(UdpFrame, DecoderRejectsEachMalformedPart) {
    const auto good = *encode_frame(frame(0x0A, 0x50, 4, 8));
    auto reject = [](std::vector<std::uint8_t> d) {
        auto v = decode_frame(d);
        EXPECT_FALSE(v);
        if (v) return std::string();
        EXPECT_EQ(v.error().code, Errc::malformed);
        EXPECT_FALSE(v.error().message.empty());
        return v.error().field;
    };
    EXPECT_EQ(reject({}), "udp.header");
    EXPECT_EQ(reject({good.begin(), good.begin() + kHeaderSize - 1}), "udp.header");
    auto d = good;
    d[0] = 'X';
    EXPECT_EQ(reject(d), "udp.magic");
    d = good;
    d[1] = 0;
    EXPECT_EQ(reject(d), "udp.magic");
    d = good;
    d[2] = 2;
    EXPECT_EQ(reject(d), "udp.version");
    d = good;
    d[9] |= 0x40;
    EXPECT_EQ(reject(d), "udp.reserved");
    d = good;
    d[3] = d[4] = d[5] = 0xFF;
    EXPECT_EQ(reject(d), "udp.src");
    EXPECT_EQ(reject({good.begin(), good.begin() + kHeaderSize}), "udp.pdu");
    d = good;
    d.resize(kHeaderSize + kMaxPdu + 1, 0);
    EXPECT_EQ(reject(d), "udp.pdu");
}

TEST(UdpFrame, BroadcastDestinationIsAccepted) {
    auto d = encode_frame(frame(0x0A, pc5::kBroadcastL2Id, pc5::lcid::kDiscovery, 3));
    ASSERT_TRUE(d);
    auto v = decode_frame(*d);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->dst, pc5::kBroadcastL2Id);
}

TEST(Parsers, Addresses) {
    auto a = parse_address("127.0.0.1:5001", "--bind");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->ip, 0x7F000001u);
    EXPECT_EQ(a->port, 5001);
    EXPECT_EQ(a->to_string(), "127.0.0.1:5001");
    EXPECT_TRUE(parse_address("0.0.0.0:0", "--bind"));
    for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":5000", "localhost:5000",
                            "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:50x", "1.2.3:4"}) {
        auto r = parse_address(bad, "--bind");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().field, "--bind");
    }
}

TEST(Parsers, Layer2Ids) {
    EXPECT_EQ(*parse_l2_id("0x00000A", "--l2-id"), 0x0Au);
    EXPECT_EQ(*parse_l2_id("a", "--l2-id"), 0x0Au);
    EXPECT_EQ(*parse_l2_id("ABCDEF", "--l2-id"), 0xABCDEFu);
    EXPECT_EQ(format_l2_id(0x0A), "0x00000a");
    for (const char* bad : {"", "0x", "0x1234567", "xyz", "0", "0xffffff", "12 ", "-1"}) {
        auto r = parse_l2_id(bad, "--l2-id");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().field, "--l2-id");
    }
}

TEST(Parsers, Peers) {
    auto p = parse_peer("bob:0x00000b=127.0.0.1:5003");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->name, "bob");
    EXPECT_EQ(p->l2, 0x0Bu);
    EXPECT_EQ(p->address.port, 5003);
    auto q = parse_peer("0x000050=127.0.0.1:5002");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->name, "");
    EXPECT_EQ(q->l2, 0x50u);
    for (const char* bad : {"", "bob", "0x0b", ":0x0b=127.0.0.1:1", "bob:=127.0.0.1:1",
                            "bob:0x0b=127.0.0.1", "bob:0x0b=127.0.0.1:0", "bob:zz=127.0.0.1:1"}) {
        auto r = parse_peer(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().field.find("peers"), std::string::npos) << r.error().field;
    }
}

TEST(Parsers, Roles) {
    EXPECT_EQ(*ue_role_from_name("relay"), UeRole::relay);
    EXPECT_EQ(std::string(name(UeRole::target)), "target");
    EXPECT_EQ(ue_role_from_name("server").error().field, "role");  // the caller may name its flag
    EXPECT_EQ(ue_role_from_name("server", "--role").error().field, "--role");
}

TEST(Socket, SendsAndReceivesOnLoopback) {
    auto a = UdpSocket::bind({0x7F000001, 0});
    auto b = UdpSocket::bind({0x7F000001, 0});
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->local().port, 0);
    const std::vector<std::uint8_t> msg = {1, 2, 3};
    ASSERT_TRUE(a->send_to(b->local(), msg));
    std::vector<std::uint8_t> buf(16);
    std::optional<UdpSocket::Received> r;
    for (int i = 0; i < 1000 && !r; ++i) {
        r = b->receive(buf);
        if (!r) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size, 3u);
    EXPECT_EQ(r->from, a->local());
    EXPECT_FALSE(b->receive(buf));  // nothing more: non-blocking
    // The port is taken: a second bind names the bind address.
    auto c = UdpSocket::bind(b->local());
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().field, "bind");
}
