// One negative test per decoder error, each checking the error kind and the field it names; and
// the encoder's refusals.
#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"

namespace pc5sec::codec {
namespace {

Error decode_error(std::string_view hex) {
    const auto bytes = from_hex(hex);
    EXPECT_TRUE(bytes.ok());
    auto m = decode(*bytes);
    EXPECT_FALSE(m.ok()) << "decoded " << hex;
    return m.ok() ? Error{} : m.error();
}

void expect(const Error& e, Errc code, std::string_view field, std::string_view words) {
    EXPECT_EQ(e.code, code) << e.describe();
    EXPECT_EQ(e.field, field) << e.describe();
    EXPECT_NE(e.message.find(words), std::string::npos) << e.describe();
}

TEST(CodecDecodeErrors, TruncatedMessage) {
    expect(decode_error(""), Errc::malformed, "message_type", "truncated message");
    expect(decode_error("01"), Errc::malformed, "sequence_number", "truncated message");
    // A TV IE cut short: Nonce_1 with 3 of its 16 octets.
    expect(decode_error("01010675652d737263040000100102f07012"
                        "53010203"),
           Errc::malformed, "establishment_request.nonce_1", "truncated");
    // A mandatory V cut short: keepalive counter with 2 of 4 octets.
    expect(decode_error("12010000"), Errc::malformed, "keepalive_request.keepalive_counter",
           "truncated");
}

TEST(CodecDecodeErrors, LengthPastTheEnd) {
    expect(decode_error("0101"
                        "09"
                        "75652d"),
           Errc::malformed, "establishment_request.source_user_info.length", "length past the end");
    expect(decode_error("01010675652d737263040000100102f07012"
                        "2810aabb"),
           Errc::malformed, "establishment_request.target_user_info.length", "length past the end");
    // An unknown optional IE whose length runs past the end.
    expect(decode_error("0e09"
                        "3f05aa"),
           Errc::malformed, "security_mode_complete.ie 0x3f length", "length past the end");
    // Inside a container: Key_Est_Info item length past the end.
    expect(decode_error("0904"
                        "0005"
                        "0101"
                        "01ff00"),
           Errc::malformed, "authentication_request.key_est_info.certificate.length",
           "length past the end");
}

TEST(CodecDecodeErrors, DuplicateIe) {
    expect(decode_error("0e09"
                        "580001"
                        "580002"),
           Errc::malformed, "security_mode_complete.lsb_knrp_id", "duplicate IE");
    // Two type 1 relay indications with different values are still the same IE.
    expect(decode_error("02020675652d746774"
                        "b1"
                        "b2"),
           Errc::malformed, "establishment_accept.relay_indication", "duplicate IE");
    // A duplicate tag inside Authentication_Info.
    expect(decode_error("99abcdef0172"
                        "750010"
                        "01"
                        "01000175"
                        "01000176"
                        "05000101"
                        "04000151"),
           Errc::malformed, "u2u_relay_discovery_announcement.authentication_info.user_info_id",
           "duplicate IE");
}

TEST(CodecDecodeErrors, MissingMandatoryIe) {
    expect(decode_error("0101"), Errc::malformed, "establishment_request.source_user_info",
           "missing mandatory IE");
    expect(decode_error("0101"
                        "0675652d737263"
                        "0400001001"
                        "02f070"),
           Errc::malformed, "establishment_request.signalling_security_policy",
           "missing mandatory IE");
    expect(decode_error("0303"), Errc::malformed, "establishment_reject.cause",
           "missing mandatory IE");
    // Key_Est_Info with method certificate but no signature.
    expect(decode_error("0904"
                        "000e"
                        "0101"
                        "010001c0"
                        "02000102"
                        "06000175"),
           Errc::malformed, "authentication_request.key_est_info.signature",
           "missing mandatory IE");
    // A certificate without its ephemeral key (an offer must carry both).
    expect(decode_error("0904"
                        "000e"
                        "0101"
                        "010001c0"
                        "03000102"
                        "06000175"),
           Errc::malformed, "authentication_request.key_est_info.ephemeral_public_key",
           "missing mandatory IE");
    // Authentication_Info without a public key or certificate.
    expect(decode_error("99abcdef0172"
                        "75000d"
                        "01"
                        "01000175"
                        "05000101"
                        "04000151"),
           Errc::malformed, "u2u_relay_discovery_announcement.authentication_info.public_key",
           "missing mandatory IE");
}

TEST(CodecDecodeErrors, ReservedValue) {
    expect(decode_error("0001"), Errc::malformed, "message_type", "reserved value");
    expect(decode_error("030300"), Errc::malformed, "establishment_reject.cause", "reserved value");
    // Signalling policy integrity = 3 is reserved.
    expect(decode_error("0101"
                        "0675652d737263"
                        "0400001001"
                        "02f070"
                        "03"),
           Errc::malformed, "establishment_request.signalling_security_policy.integrity",
           "reserved value");
    // Selected algorithms NEA4.
    expect(decode_error("0d08"
                        "42"
                        "02f070"
                        "12"
                        "202122232425262728292a2b2c2d2e2f"
                        "a5"),
           Errc::malformed, "security_mode_command.selected_algorithms.ciphering",
           "reserved value");
    // Relay indication 0xf.
    expect(decode_error("02020675652d746774"
                        "bf"),
           Errc::malformed, "establishment_accept.relay_indication", "reserved value");
    // Key_Est_Info method 9.
    expect(decode_error("0904"
                        "0002"
                        "0109"),
           Errc::malformed, "authentication_request.key_est_info.method", "reserved value");
}

TEST(CodecDecodeErrors, UnknownMessageType) {
    expect(decode_error("7f01"), Errc::unsupported, "message_type", "unknown message type 0x7f");
    expect(decode_error("0401"), Errc::unsupported, "message_type", "not implemented");
}

TEST(CodecDecodeErrors, Oversize) {
    std::string hex =
        "0e09"
        "7e"
        "2328";  // unknown TLV-E, 9000 octets: message over 9000
    hex += std::string(9000 * 2, 'a');
    expect(decode_error(hex), Errc::malformed, "message", "oversize");
}

TEST(CodecDecodeErrors, WrongFixedLengthAndEmptyValue) {
    expect(decode_error("0101"
                        "0675652d737263"
                        "0400001001"
                        "03f07000"
                        "12"),
           Errc::malformed, "establishment_request.ue_security_capabilities.length", "must be 2");
    expect(decode_error("0101"
                        "00"),
           Errc::malformed, "establishment_request.source_user_info", "empty octet string");
}

TEST(CodecDecodeErrors, UnsupportedContainerVersion) {
    expect(decode_error("0904"
                        "0002"
                        "0201"),
           Errc::unsupported, "authentication_request.key_est_info.version", "version 2");
}

TEST(CodecDecodeErrors, TrailingTypeOneAfterLastIeIsSkippedNotFatal) {
    // Sanity for the negative tests above: the same bytes without the fault decode.
    EXPECT_TRUE(decode(*from_hex("0e09"
                                 "580001"))
                    .ok());
    EXPECT_TRUE(decode(*from_hex("02020675652d746774"
                                 "b1"))
                    .ok());
}

// ---- encoder refusals ----

TEST(CodecEncodeErrors, RefusesInvalidMessagesAndLeavesOutputAlone) {
    std::vector<std::uint8_t> out{0xee};
    DirectLinkEstablishmentRequest req;  // empty source user info
    auto st = encode(Message{req}, out);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
    EXPECT_EQ(st.error().field, "establishment_request.source_user_info");
    EXPECT_EQ(out, std::vector<std::uint8_t>{0xee}) << "no half-built output";

    DirectLinkEstablishmentReject rej{1, static_cast<Cause>(0)};
    EXPECT_EQ(encode(Message{rej}).error().field, "establishment_reject.cause");

    DirectLinkSecurityModeCommand smc;
    smc.selected_algorithms = {0, 9};
    EXPECT_EQ(encode(Message{smc}).error().field,
              "security_mode_command.selected_algorithms.integrity");

    std::vector<std::uint8_t> big(300, 1);
    DirectLinkEstablishmentRequest r2 =
        std::get<DirectLinkEstablishmentRequest>(sample_messages(false)[0]);
    r2.source_user_info = Octets{big};
    auto e2 = encode(Message{r2});
    ASSERT_FALSE(e2.ok());
    EXPECT_EQ(e2.error().field, "establishment_request.source_user_info");
    EXPECT_NE(e2.error().message.find("oversize"), std::string::npos);

    DirectLinkAuthenticationRequest areq;
    areq.key_est_info.method = KeyEstMethod::psk;  // no psk identity
    EXPECT_EQ(encode(Message{areq}).error().field,
              "authentication_request.key_est_info.psk_identity");

    U2uRelayDiscoveryAnnouncement ann =
        std::get<U2uRelayDiscoveryAnnouncement>(sample_messages(true)[20]);
    ann.relay_service_code.value = 0x1000000;
    EXPECT_EQ(encode(Message{ann}).error().field,
              "u2u_relay_discovery_announcement.relay_service_code");
    ann = std::get<U2uRelayDiscoveryAnnouncement>(sample_messages(true)[20]);
    ann.authentication_info->certificate = ann.authentication_info->public_key;  // both
    EXPECT_EQ(encode(Message{ann}).error().field,
              "u2u_relay_discovery_announcement.authentication_info.public_key");

    std::vector<std::uint8_t> huge(9100, 2);
    DirectLinkEstablishmentRequest r3 =
        std::get<DirectLinkEstablishmentRequest>(sample_messages(false)[0]);
    KeyEstInfo kei;
    kei.method = KeyEstMethod::psk;
    kei.psk_identity = Octets{huge};
    kei.nonce = Nonce{};
    r3.key_est_info = kei;
    auto e3 = encode(Message{r3});
    ASSERT_FALSE(e3.ok());
    EXPECT_NE(e3.error().message.find("oversize"), std::string::npos) << e3.error().describe();
}

}  // namespace
}  // namespace pc5sec::codec

namespace pc5sec::codec {
namespace {

// Many malformed inputs in process: truncations and 1-3 octet mutations of every sample. Each
// must give a value or an error naming a field; what decodes must re-encode and decode the same.
TEST(CodecDecodeErrors, MutatedSamplesNeverCrashAndStayConsistent) {
    std::vector<std::vector<std::uint8_t>> seeds;
    for (const bool full : {true, false})
        for (const auto& m : sample_messages(full))
            seeds.push_back(*encode(m));
    std::uint32_t state = 12345;
    auto next = [&] { return state = state * 1103515245u + 12345u, state >> 8; };
    std::size_t decoded = 0, refused = 0;
    for (const auto& seed : seeds) {
        for (std::size_t n = 0; n < seed.size(); ++n) {
            auto r = decode(std::span(seed).first(n));
            ASSERT_FALSE(r.ok() && n < 2);
            if (!r.ok()) {
                EXPECT_FALSE(r.error().field.empty());
            }
        }
        for (int i = 0; i < 2000; ++i) {
            auto m = seed;
            const int edits = 1 + next() % 3;
            for (int k = 0; k < edits; ++k)
                m[next() % m.size()] = static_cast<std::uint8_t>(next());
            auto r = decode(m);
            if (!r.ok()) {
                ++refused;
                EXPECT_FALSE(r.error().field.empty()) << r.error().describe();
                EXPECT_TRUE(r.error().code == Errc::malformed ||
                            r.error().code == Errc::unsupported);
                continue;
            }
            ++decoded;
            auto again = encode(*r);
            ASSERT_TRUE(again.ok()) << again.error().describe() << " for " << to_hex(m);
            auto back = decode(*again);
            ASSERT_TRUE(back.ok()) << back.error().describe();
            EXPECT_EQ(*back, *r);
        }
    }
    EXPECT_GT(decoded, 1000u);
    EXPECT_GT(refused, 1000u);
}

}  // namespace
}  // namespace pc5sec::codec
