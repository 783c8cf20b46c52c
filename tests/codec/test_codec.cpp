// Round trips (all optional IEs present, all absent, randomised), golden vectors, containers.
#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "golden.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec::codec {
namespace {

std::string hex_of(const Message& m) {
    auto bytes = encode(m);
    EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().describe());
    return bytes.ok() ? to_hex(*bytes) : "";
}

TEST(CodecRoundTrip, EveryMessageWithAllAndNoOptionalIes) {
    for (const bool full : {true, false}) {
        const auto samples = sample_messages(full);
        ASSERT_EQ(samples.size(), std::variant_size_v<Message>);
        std::set<MessageType> types;
        for (const auto& m : samples) {
            types.insert(message_type(m));
            const auto bytes = encode(m);
            ASSERT_TRUE(bytes.ok()) << bytes.error().describe();
            const auto back = decode(*bytes);
            ASSERT_TRUE(back.ok())
                << message_name(message_type(m)) << ": " << back.error().describe();
            EXPECT_EQ(*back, m) << message_name(message_type(m));
            // And re-encoding the decoded message gives the same octets.
            EXPECT_EQ(hex_of(*back), to_hex(*bytes));
        }
        EXPECT_EQ(types.size(), std::variant_size_v<Message>) << "one sample per message type";
    }
}

TEST(CodecRoundTrip, FullSamplesReallyCarryOptionalIes) {
    const auto full = sample_messages(true);
    const auto bare = sample_messages(false);
    const auto& req = std::get<DirectLinkEstablishmentRequest>(full[0]);
    EXPECT_TRUE(req.key_est_info && req.authentication_info && req.relay_authentication_info &&
                req.relay_indication && req.target_end_ue_l2_id && req.relay_service_code &&
                req.u2u_relay_ue_user_info && req.nonce_1 && req.knrp_id && req.msb_knrp_sess_id);
    const auto& bare_req = std::get<DirectLinkEstablishmentRequest>(bare[0]);
    EXPECT_FALSE(bare_req.key_est_info || bare_req.nonce_1 || bare_req.target_user_info);
    EXPECT_GT(hex_of(full[0]).size(), hex_of(bare[0]).size());
}

TEST(CodecGolden, EveryMessageTypeMatchesItsVector) {
    std::vector<Message> all = sample_messages(true);
    for (auto& m : sample_messages(false))
        all.push_back(m);
    ASSERT_EQ(all.size(), kGolden.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        const std::string golden(kGolden[i]);
        EXPECT_EQ(hex_of(all[i]), golden)
            << "vector " << i + 1 << " " << message_name(message_type(all[i]));
        const auto bytes = from_hex(golden);
        ASSERT_TRUE(bytes.ok());
        const auto m = decode(*bytes);
        ASSERT_TRUE(m.ok()) << m.error().describe();
        EXPECT_EQ(*m, all[i]);
    }
}

TEST(CodecGolden, HandCheckedEstablishmentRequestAndSecurityModeCommand) {
    // PROSE DIRECT LINK ESTABLISHMENT REQUEST, seq 1, source user info "ue-src" (LV), ProSe
    // identifiers 00001001 (LV), UE security capabilities EA0-3/IA1-3 (LV 2), signalling policy
    // integrity REQUIRED (bits 1-3 = 2) and ciphering PREFERRED (bits 5-7 = 1).
    EXPECT_EQ(hex_of(sample_messages(false)[0]),
              "01"
              "01"
              "06"
              "75652d737263"
              "04"
              "00001001"
              "02"
              "f070"
              "12");
    // SECURITY MODE COMMAND, seq 8: NEA2/NIA2, capabilities echoed, policy echoed, Nonce_2,
    // LSB of KNRP-sess ID 0xa5, then the MSB of KNRP ID 0x0a0b (IEI 0x57) when present.
    DirectLinkSecurityModeCommand smc =
        std::get<DirectLinkSecurityModeCommand>(sample_messages(false)[7]);
    smc.msb_knrp_id = KnrpIdHalf{0x0a0b};
    EXPECT_EQ(hex_of(smc),
              "0d08"
              "22"
              "02f070"
              "12"
              "202122232425262728292a2b2c2d2e2f"
              "a5"
              "570a0b");
}

// ---- randomised round trips ----

struct Filler {
    Rng& rng;
    std::deque<std::vector<std::uint8_t>>& store;

    std::uint32_t below(std::uint32_t n) { return rng.next_u32() % n; }
    bool coin() { return rng.next_u8() & 1; }
    Octets octets(std::size_t max) {
        auto& v = store.emplace_back(1 + below(static_cast<std::uint32_t>(max)));
        rng.fill(v);
        return Octets{v};
    }
    void fill(std::uint8_t& x, std::size_t) { x = rng.next_u8(); }
    void fill(std::uint32_t& x, std::size_t) { x = rng.next_u32(); }
    void fill(KnrpId& x, std::size_t) { x.value = rng.next_u32(); }
    void fill(KnrpIdHalf& x, std::size_t) { x.value = static_cast<std::uint16_t>(rng.next_u32()); }
    void fill(Layer2Id& x, std::size_t) { x.value = rng.next_u32() & 0xffffff; }
    void fill(RelayServiceCode& x, std::size_t) { x.value = rng.next_u32() & 0xffffff; }
    void fill(Nonce& x, std::size_t) { rng.fill(x); }
    void fill(Octets& x, std::size_t max) { x = octets(max); }
    void fill(UeSecurityCapabilities& x, std::size_t) { x = {rng.next_u8(), rng.next_u8()}; }
    void fill(SignallingSecurityPolicy& x, std::size_t) {
        x = {static_cast<PolicyValue>(below(3)), static_cast<PolicyValue>(below(3))};
    }
    void fill(SecurityAlgorithms& x, std::size_t) {
        x = {static_cast<std::uint8_t>(below(4)), static_cast<std::uint8_t>(below(4))};
    }
    void fill(Cause& x, std::size_t) { x = static_cast<Cause>(1 + below(255)); }
    void fill(RelayIndication& x, std::size_t) { x = static_cast<RelayIndication>(below(3)); }
    void fill(KeyEstInfo& x, std::size_t) {
        x = KeyEstInfo{};
        x.method = coin() ? KeyEstMethod::certificate : KeyEstMethod::psk;
        auto maybe = [&](std::optional<Octets>& o, bool must) {
            if (must || coin()) o = octets(300);
        };
        const bool cert = x.method == KeyEstMethod::certificate;
        maybe(x.certificate, cert);
        maybe(x.ephemeral_public_key, cert);
        maybe(x.signature, cert);
        maybe(x.psk_identity, !cert);
        if (!cert || coin()) {
            x.nonce.emplace();
            rng.fill(*x.nonce);
        }
        maybe(x.user_info_id, false);
    }
    void fill(AuthenticationInfo& x, std::size_t) {
        x = AuthenticationInfo{};
        x.user_info_id = octets(40);
        if (coin())
            x.public_key = octets(100);
        else
            x.certificate = octets(600);
        x.signature_algorithm =
            coin() ? SignatureAlgorithm::ed25519 : SignatureAlgorithm::ecdsa_p256_sha256;
        x.signature = octets(80);
    }

    template <class T>
    void v(const char*, T& x) {
        fill(x, 0);
    }
    template <class T>
    void lv(const char*, T& x) {
        fill(x, 255);
    }
    template <class T>
    void lve(const char*, T& x) {
        fill(x, 2000);
    }
    template <class T>
    void opt(std::optional<T>& x, std::size_t max) {
        if (coin()) {
            x.emplace();
            fill(*x, max);
        } else {
            x.reset();
        }
    }
    template <class T>
    void tv(Iei, std::optional<T>& x) {
        opt(x, 0);
    }
    template <class T>
    void tlv(Iei, std::optional<T>& x) {
        opt(x, 255);
    }
    template <class T>
    void tlve(Iei, std::optional<T>& x) {
        opt(x, 2000);
    }
    void t1(Iei, std::optional<RelayIndication>& x) { opt(x, 0); }
    void t2(Iei, bool& x) { x = coin(); }
};

template <std::size_t I = 0>
Message random_message(std::size_t index, Filler& f) {
    if constexpr (I + 1 < std::variant_size_v<Message>) {
        if (index != I) return random_message<I + 1>(index, f);
    }
    using M = std::variant_alternative_t<I, Message>;
    M m;
    m.seq = f.rng.next_u8();
    if constexpr (is_discovery(M::kType)) m.seq = 0;  // no sequence number (TS 24.554 11.2.1)
    M::fields(f, m);
    return m;
}

TEST(CodecRoundTrip, RandomisedMessages) {
    DeterministicRng rng(20261122);
    std::deque<std::vector<std::uint8_t>> store;
    Filler f{rng, store};
    int encoded = 0;
    for (int i = 0; i < 4000; ++i) {
        store.clear();
        const Message m = random_message(i % std::variant_size_v<Message>, f);
        auto bytes = encode(m);
        if (!bytes.ok()) {
            // Only oversize may refuse a random valid message.
            EXPECT_NE(bytes.error().message.find("oversize"), std::string::npos)
                << bytes.error().describe();
            continue;
        }
        ++encoded;
        auto back = decode(*bytes);
        ASSERT_TRUE(back.ok()) << back.error().describe() << " hex " << to_hex(*bytes);
        ASSERT_EQ(*back, m) << to_hex(*bytes);
    }
    EXPECT_GT(encoded, 3000);
}

TEST(CodecRoundTrip, OptionalIesInAnyOrderAndUnknownOnesSkipped) {
    // KEEPALIVE REQUEST with, before the known optional IE: an unknown TLV (0x3f), an unknown
    // TLV-E (0x7e), an unknown type 1 (0x9-) and type 2 (0xa5).
    const auto bytes = *from_hex(
        "1201"
        "00000007"
        "3f03aabbcc"
        "7e0002ddee"
        "93"
        "a5"
        "5b0000001e");
    const auto m = decode(bytes);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    const auto& ka = std::get<DirectLinkKeepaliveRequest>(*m);
    EXPECT_EQ(ka.keepalive_counter, 7u);
    ASSERT_TRUE(ka.max_inactivity_period);
    EXPECT_EQ(*ka.max_inactivity_period, 30u);
    // Re-encoding drops what was skipped.
    EXPECT_EQ(hex_of(*m), "1201000000075b0000001e");
}

TEST(CodecContainers, KeyEstInfoAndAuthenticationInfoRoundTripOnTheirOwn) {
    const auto samples = sample_messages(true);
    const auto& req = std::get<DirectLinkEstablishmentRequest>(samples[0]);
    std::vector<std::uint8_t> buf;
    ASSERT_TRUE(encode_key_est_info(*req.key_est_info, buf).ok());
    EXPECT_EQ(buf[0], kKeyEstInfoVersion);
    auto kei = decode_key_est_info(buf);
    ASSERT_TRUE(kei.ok()) << kei.error().describe();
    EXPECT_EQ(*kei, *req.key_est_info);

    std::vector<std::uint8_t> abuf;
    ASSERT_TRUE(encode_authentication_info(*req.relay_authentication_info, abuf).ok());
    EXPECT_EQ(abuf[0], kAuthInfoVersion);
    auto ai = decode_authentication_info(abuf);
    ASSERT_TRUE(ai.ok()) << ai.error().describe();
    EXPECT_EQ(*ai, *req.relay_authentication_info);
}

TEST(CodecContainers, UnknownTagInsideAContainerIsSkipped) {
    // Authentication_Info v1: user info "u", unknown tag 0x7f, algorithm Ed25519, public key, sig.
    const auto bytes = *from_hex(
        "01"
        "01000175"
        "7f000299aa"
        "05000102"
        "020002beef"
        "04000151");
    auto ai = decode_authentication_info(bytes);
    ASSERT_TRUE(ai.ok()) << ai.error().describe();
    EXPECT_EQ(ai->signature_algorithm, SignatureAlgorithm::ed25519);
    EXPECT_EQ(to_hex(ai->public_key->bytes), "beef");
}

TEST(CodecJson, CarriesNamesValuesAndHex) {
    const auto m = sample_messages(true)[7];  // security mode command
    const auto bytes = *encode(m);
    const auto j = to_json(m, bytes);
    EXPECT_EQ(j["msg_type"], 0x0d);
    EXPECT_EQ(j["msg_name"], "security_mode_command");
    EXPECT_EQ(j["seq"], 8);
    EXPECT_EQ(j["nonce_2"], "202122232425262728292a2b2c2d2e2f");
    EXPECT_EQ(j["lsb_knrp_sess_id"], 0xa5);
    EXPECT_EQ(j["msb_knrp_id"], 0x0a0b);
    EXPECT_EQ(j["selected_algorithms"]["ciphering"], 2);
    EXPECT_EQ(j["key_est_info"]["method"], 1);
    EXPECT_EQ(j["hex"], to_hex(bytes));
    const auto text = to_text(m);
    EXPECT_NE(text.find("SECURITY MODE COMMAND"), std::string::npos);
    EXPECT_NE(text.find("provisional"), std::string::npos);
}

TEST(CodecCodePoints, TableIsConsistentAndDocsAreCurrent) {
    std::set<std::pair<CodePointKind, std::uint8_t>> seen;
    for (const auto& row : code_point_table()) {
        EXPECT_TRUE(seen.insert({row.kind, row.value}).second)
            << kind_name(row.kind) << " " << int(row.value) << " twice";
        EXPECT_NE(std::string(row.source), "");
    }
    // Every FC value pc5sec derives with (pc5sec::fc, the one place they are written) has its
    // own row, and the table names no other: two derivations never share an FC (0xB2-0xB4 once
    // did, solution B's and discovery's).
    const std::map<std::uint8_t, std::string> fcs = {
        {fc::kKnrpSess, "knrp_sess"},
        {fc::kNrpekNrpik, "nrpek_nrpik"},
        {fc::kKnrpCertificate, "knrp_certificate"},
        {fc::kKnrpPsk, "knrp_psk"},
        {fc::kKd, "kd"},
        {fc::kKdSess, "kd_sess"},
        {fc::kKdSessRekey, "kd_sess_rekey"},
        {fc::kKdHop, "kd_hop"},
        {fc::kRelayHopKey, "relay_hop_key"},
        {fc::kDiscoveryScrambling, "discovery_scrambling"},
        {fc::kDiscoveryConfidentiality, "discovery_confidentiality"},
        {fc::kRequestPrivacy, "request_privacy"}};
    EXPECT_EQ(fcs.size(), 12u) << "two FC constants share a value";
    std::size_t fc_rows = 0;
    for (const auto& row : code_point_table())
        if (row.kind == CodePointKind::fc) {
            ++fc_rows;
            ASSERT_TRUE(fcs.contains(row.value)) << "FC row 0x" << std::hex << int(row.value);
            EXPECT_EQ(fcs.at(row.value), row.name);
        }
    EXPECT_EQ(fc_rows, fcs.size());
    EXPECT_EQ(find_code_point(CodePointKind::message_type, 0x01)->status,
              CodePointStatus::confirmed);
    EXPECT_EQ(find_code_point(CodePointKind::iei, 0x28)->status, CodePointStatus::confirmed);
    EXPECT_EQ(find_code_point(CodePointKind::iei, 0x53)->status, CodePointStatus::provisional);
    EXPECT_EQ(find_code_point(CodePointKind::cause, 111)->status, CodePointStatus::code_only);
    // Every message type pc5sec implements has a row; every IEI a message uses has a row.
    for (const auto& m : sample_messages(true))
        EXPECT_NE(find_code_point(CodePointKind::message_type,
                                  static_cast<std::uint8_t>(message_type(m))),
                  nullptr);
    // The message layouts (what the Wireshark plugin registers and dissects from): every IEI
    // has a row, every message type is in the table, names are unique within a message.
    const auto layouts = message_layouts();
    EXPECT_EQ(layouts.size(), sample_messages(true).size());
    for (const auto& l : layouts) {
        EXPECT_NE(find_code_point(CodePointKind::message_type, static_cast<std::uint8_t>(l.type)),
                  nullptr);
        std::set<std::string> names;
        for (const auto& ie : l.ies) {
            EXPECT_TRUE(names.insert(ie.name).second) << message_name(l.type) << "." << ie.name;
            EXPECT_EQ(ie.iei.has_value(), ie.format != IeFormat::v && ie.format != IeFormat::lv &&
                                              ie.format != IeFormat::lve);
            if (ie.iei) {
                EXPECT_NE(find_code_point(CodePointKind::iei, *ie.iei), nullptr)
                    << "IEI 0x" << std::hex << unsigned(*ie.iei) << " without a table row";
            }
        }
    }

    std::ifstream doc(std::string(PC5SEC_SOURCE_DIR) + "/docs/code-points.md");
    std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, code_points_markdown())
        << "regenerate: pc5sec decode --code-points > docs/code-points.md";
}

}  // namespace
}  // namespace pc5sec::codec

namespace pc5sec::codec {
namespace {

// TS 24.554 Table 11.3.8.1 as the ns-3 ProSe model cites it (3gpp-facts §8): cause #15, which
// pc5sec does not send (it names the UE-to-network relay), is known to the codec, the JSON and the
// dissector, code-only.
TEST(CodecCodePoints, Cause15IsKnownAndCodeOnly) {
    DirectLinkReleaseRequest r;
    r.seq = 3;
    r.cause = Cause::security_procedure_failure_u2n_relay;
    auto bytes = encode(r);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(to_hex(*bytes), "07030f");
    auto back = decode(*bytes);
    ASSERT_TRUE(back) << back.error().describe();
    EXPECT_EQ(std::get<DirectLinkReleaseRequest>(*back).cause, r.cause);
    EXPECT_EQ(to_json(*back, *bytes)["cause"], 15);
    const auto* row = find_code_point(CodePointKind::cause, 15);
    ASSERT_NE(row, nullptr);
    EXPECT_STREQ(row->name, "security_procedure_failure_u2n_relay");
    EXPECT_EQ(row->status, CodePointStatus::code_only);
    EXPECT_EQ(find_code_point(CodePointKind::cause, 16), nullptr);
}

}  // namespace
}  // namespace pc5sec::codec
