// Identity privacy of the establishment request (pc5sec/request_privacy.hpp): the derivation
// recomputed from its definition with the bare primitives (kdf(), NEA, NIA); the weakness of a
// keystream without a fresh input shown and avoided; and what an attacker on the air can do with
// one frame: read it, forge it, flip a bit, replay it inside and outside the counter window,
// strip the protection (a downgrade), or send it under an RSC the receiver holds nothing for.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "../support/discovery_material.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/request_privacy.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec::request_privacy {
namespace {

using namespace std::chrono_literals;
using discovery::Material;
using discovery::Security;
using discovery::UtcTime;

constexpr std::uint32_t kRsc = 0x00A001;
const UtcTime kNow = UtcTime{} + std::chrono::seconds(1'793'491'234);

Material material(std::uint32_t rsc, std::uint64_t seed) {
    return test::discovery_material(rsc, seed, kNow);
}

codec::Octets octets(const std::string& s) {
    return codec::Octets{
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())};
}

const std::string kAlice = "alice", kBob = "bob", kRelay = "relay-1";
const std::vector<std::uint8_t> kKeyEst = {1, 1, 0x01, 0x00, 0x03, 'c', 'r', 't'};

// A relayed hop's request as solution A sends it: identities, Key_Est_Info, the RSC.
std::vector<std::uint8_t> request(const std::string& source = kAlice,
                                  const std::string& target = kBob) {
    codec::DirectLinkEstablishmentRequest m;
    m.seq = 7;
    m.source_user_info = octets(source);
    static const std::string prose = "ps";
    m.prose_identifiers = octets(prose);
    m.ue_security_capabilities = {0xf0, 0x70};
    m.signalling_security_policy = {codec::PolicyValue::required, codec::PolicyValue::preferred};
    m.target_user_info = octets(target);
    m.nonce_1 = Nonce{};
    m.u2u_relay_ue_user_info = octets(kRelay);
    m.relay_indication = codec::RelayIndication::via_layer3_relay;
    m.relay_service_code = codec::RelayServiceCode{kRsc};
    return codec::encode(m).value();
}

Nonce nonce(std::uint8_t fill) {
    Nonce n;
    n.fill(fill);
    return n;
}

bool contains(std::span<const std::uint8_t> hay, const std::string& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

TEST(RequestPrivacy, RoundTripHidesEveryIdentity) {
    Security s({material(kRsc, 1)});
    const auto plain = request();
    ASSERT_TRUE(contains(plain, kAlice) && contains(plain, kBob) && contains(plain, kRelay));
    const auto air = conceal(s, plain, kRsc, kNow, nonce(0x11)).value();
    EXPECT_TRUE(concealed(air));
    EXPECT_FALSE(concealed(plain));
    EXPECT_FALSE(contains(air, kAlice));
    EXPECT_FALSE(contains(air, kBob));
    EXPECT_FALSE(contains(air, kRelay));
    EXPECT_EQ(air.size(), plain.size() + 2 + kValueSize);  // only the IE is added
    EXPECT_EQ(rsc_named(air), kRsc);  // what a relay needs before reading stays in clear
    const auto r = reveal(s, air, kNow + 5s).value();
    EXPECT_TRUE(r.concealed);
    EXPECT_EQ(r.rsc, kRsc);
    EXPECT_EQ(r.counter, discovery::utc_counter(kNow));
    EXPECT_EQ(r.plain, plain);  // the octets the sender encoded (and signed)
    // A request in clear for an RSC the receiver holds nothing for passes as it is.
    Security none;
    auto clear = reveal(none, plain, kNow).value();
    EXPECT_FALSE(clear.concealed);
    EXPECT_TRUE(clear.plain.empty());
}

// The definition in pc5sec/request_privacy.hpp, step by step with kdf(), NEA and NIA alone.
TEST(RequestPrivacy, DerivationRecomputedFromItsDefinition) {
    const Material m = material(kRsc, 2);
    Security s({m});
    const auto plain = request();
    const Nonce n = nonce(0x5a);
    const auto air = conceal(s, plain, kRsc, kNow, n).value();

    const std::uint32_t counter = discovery::utc_counter(kNow);
    const std::uint8_t p0[4] = {
        static_cast<std::uint8_t>(counter >> 24), static_cast<std::uint8_t>(counter >> 16),
        static_cast<std::uint8_t>(counter >> 8), static_cast<std::uint8_t>(counter)};
    const std::uint8_t p1[3] = {0x00, 0xA0, 0x01};
    const auto k = kdf(m.duck.reveal(), 0xB7, {p0, p1, n});
    std::vector<std::uint8_t> key(k.reveal().begin() + 16, k.reveal().end());  // 128 LSBs
    // The concealed values, in wire order: source user info, target user info, relay user info.
    std::vector<std::uint8_t> values;
    for (const auto* id : {&kAlice, &kBob, &kRelay})
        values.insert(values.end(), id->begin(), id->end());
    auto nea = CipheringContext::create(m.nea, key).value();
    std::vector<std::uint8_t> ks(values.size());
    ASSERT_TRUE(nea.apply(SecurityInput{counter, 0, 0}, values, ks, values.size() * 8));
    std::vector<std::uint8_t> expected = plain;
    std::size_t k_at = 0;
    for (const auto* id : {&kAlice, &kBob, &kRelay}) {
        auto at = std::search(expected.begin(), expected.end(), id->begin(), id->end());
        ASSERT_NE(at, expected.end());
        std::copy_n(ks.begin() + static_cast<std::ptrdiff_t>(k_at), id->size(), at);
        k_at += id->size();
    }
    std::vector<std::uint8_t> mic_input = plain;
    mic_input.insert(mic_input.end(), std::begin(p1), std::end(p1));
    mic_input.insert(mic_input.end(), n.begin(), n.end());
    auto nia = IntegrityContext::create(m.nia, m.duik.reveal()).value();
    const auto mic =
        nia.compute(SecurityInput{counter, 0, 0}, mic_input, mic_input.size() * 8).value();
    expected.push_back(0x5c);
    expected.push_back(static_cast<std::uint8_t>(kValueSize));
    expected.insert(expected.end(), std::begin(p1), std::end(p1));
    expected.insert(expected.end(), std::begin(p0), std::end(p0));
    expected.insert(expected.end(), n.begin(), n.end());
    expected.insert(expected.end(), mic.begin(), mic.end());
    EXPECT_EQ(air, expected);
}

// TS 33.503 A.5's keystream has no fresh input: two requests in one counter period share it,
// and the XOR of the two on the air is the XOR of the identities, so knowing one request's
// identities (its own, say) reveals the other's. With the nonce the keystreams differ.
TEST(RequestPrivacy, TwoRequestsInOneCounterPeriodDoNotShareAKeystream) {
    Security s({material(kRsc, 3)});
    const auto a = request("alice", "bob");
    const auto b = request("carol", "eve");
    ASSERT_EQ(a.size(), b.size());
    auto xor_of = [](std::span<const std::uint8_t> x, std::span<const std::uint8_t> y) {
        std::vector<std::uint8_t> o(std::min(x.size(), y.size()));
        for (std::size_t i = 0; i < o.size(); ++i)
            o[i] = x[i] ^ y[i];
        return o;
    };
    const auto plain_xor = xor_of(a, b);
    // Without a fresh input (the same nonce for both: what A.5 amounts to), the leak is there.
    const auto n = static_cast<std::ptrdiff_t>(plain_xor.size());
    const auto a0 = conceal(s, a, kRsc, kNow, nonce(0)).value();
    const auto b0 = conceal(s, b, kRsc, kNow, nonce(0)).value();
    const auto air_xor0 = xor_of(a0, b0);
    EXPECT_EQ(std::vector(air_xor0.begin(), air_xor0.begin() + n), plain_xor);
    // With a fresh nonce per request it is not.
    const auto a1 = conceal(s, a, kRsc, kNow, nonce(1)).value();
    const auto b1 = conceal(s, b, kRsc, kNow, nonce(2)).value();
    const auto air_xor1 = xor_of(a1, b1);
    EXPECT_NE(std::vector(air_xor1.begin(), air_xor1.begin() + n), plain_xor);
}

// Step 3's answers (solution A's authentication request and response) carry a certificate and a
// user info ID in Key_Est_Info: concealed the same way, under the RSC of the sender's link (they
// name none in clear), and never refused for being in clear (a direct link's are).
TEST(RequestPrivacy, AnswersAreConcealedTooAndMayComeInClear) {
    Security s({material(kRsc, 12)});
    codec::DirectLinkAuthenticationRequest m;
    m.seq = 3;
    m.key_est_info.method = codec::KeyEstMethod::certificate;
    const std::vector<std::uint8_t> cert = {'c', 'e', 'r', 't', '-', 'r', 'e', 'l', 'a', 'y'};
    const std::vector<std::uint8_t> sig = {1, 2, 3, 4};
    const std::vector<std::uint8_t> eph(32, 7);
    m.key_est_info.certificate = codec::Octets{cert};
    m.key_est_info.ephemeral_public_key = codec::Octets{eph};
    m.key_est_info.signature = codec::Octets{sig};
    m.key_est_info.user_info_id = octets(kRelay);
    const auto plain = codec::encode(m).value();
    ASSERT_TRUE(conceals_message(codec::MessageType::authentication_request));
    const auto air = conceal(s, plain, kRsc, kNow, nonce(8)).value();
    EXPECT_TRUE(concealed(air));
    EXPECT_FALSE(contains(air, kRelay));
    EXPECT_FALSE(contains(air, "cert-relay"));
    const auto r = reveal(s, air, kNow).value();
    EXPECT_TRUE(r.concealed);
    EXPECT_EQ(r.plain, plain);
    auto flipped = air;
    flipped[6] ^= 0x01;  // inside Key_Est_Info
    auto bad = reveal(s, flipped, kNow);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().describe().find("authentication_request.identity_protection"),
              std::string::npos);
    auto clear = reveal(s, plain, kNow);  // no RSC named: no downgrade to refuse
    ASSERT_TRUE(clear);
    EXPECT_FALSE(clear->concealed);
    EXPECT_FALSE(conceals_message(codec::MessageType::security_mode_command));
}

TEST(RequestPrivacy, AForgedRequestIsRefusedBeforeItIsRead) {
    Security s({material(kRsc, 4)});
    Security outsider({material(kRsc, 99)});  // other keys for the same RSC
    const auto forged = conceal(outsider, request("mallory"), kRsc, kNow, nonce(7)).value();
    auto r = reveal(s, forged, kNow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::verification_failed);
    EXPECT_NE(r.error().describe().find("establishment_request.identity_protection"),
              std::string::npos);
    EXPECT_NE(r.error().describe().find("MIC"), std::string::npos);
    EXPECT_EQ(drop_reason(r.error()), pc5::DropReason::bad_mac);
}

TEST(RequestPrivacy, EverySingleBitFlippedIsRefused) {
    Security s({material(kRsc, 5)});
    const auto air = conceal(s, request(), kRsc, kNow, nonce(9)).value();
    for (std::size_t i = 0; i < air.size() * 8; ++i) {
        auto x = air;
        x[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
        auto r = reveal(s, x, kNow);
        // Refused; or, a flip that stops it being a concealed request for this RSC (the message
        // type, the IE's IEI, the RSC), passed on as it is for the codec and the engine to refuse.
        // Never a request taken as concealed with altered content.
        EXPECT_FALSE(r && r->concealed) << "bit " << i;
        if (r) {
            EXPECT_TRUE(x[0] != 0x01 || rsc_named(x) != kRsc) << "bit " << i;
        }
    }
}

TEST(RequestPrivacy, ReplayOutsideTheCounterWindowIsRefused) {
    Security s({material(kRsc, 6)});
    const auto air = conceal(s, request(), kRsc, kNow, nonce(3)).value();
    EXPECT_TRUE(reveal(s, air, kNow + discovery::kMaxOffset));
    auto late = reveal(s, air, kNow + discovery::kMaxOffset + 1s);
    ASSERT_FALSE(late);
    EXPECT_EQ(drop_reason(late.error()), pc5::DropReason::replay);
    EXPECT_TRUE(reveal(s, air, kNow + 1h, false));  // a capture reader: any time
}

TEST(RequestPrivacy, ARequestInClearForAProtectedRscIsADowngrade) {
    Security s({material(kRsc, 7)});
    auto r = reveal(s, request(), kNow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::policy);
    EXPECT_NE(r.error().describe().find("downgrade"), std::string::npos);
    EXPECT_EQ(drop_reason(r.error()), pc5::DropReason::bad_mac);
}

TEST(RequestPrivacy, NoMaterialExpiredMaterialAndBadInputNameTheField) {
    Security s({material(kRsc, 8)});
    Security other({material(0x00B002, 8)});
    const auto air = conceal(s, request(), kRsc, kNow, nonce(4)).value();
    auto unknown = reveal(other, air, kNow);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(drop_reason(unknown.error()), pc5::DropReason::not_for_us);
    auto no = conceal(other, request(), kRsc, kNow, nonce(4));
    ASSERT_FALSE(no);
    EXPECT_EQ(no.error().code, Errc::policy);
    auto expired = conceal(s, request(), kRsc, kNow + 48h, nonce(4));
    ASSERT_FALSE(expired);
    EXPECT_NE(expired.error().describe().find("valid_until"), std::string::npos);
    auto twice = conceal(s, air, kRsc, kNow, nonce(4));
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Errc::invalid_argument);
    codec::DirectLinkReleaseRequest rel;
    rel.cause = codec::Cause::direct_communication_no_longer_needed;
    auto not_request = conceal(s, codec::encode(rel).value(), kRsc, kNow, nonce(4));
    ASSERT_FALSE(not_request);
    // The IE's length wrong: malformed, naming it.
    auto bad = air;
    bad[bad.size() - kValueSize - 1] = static_cast<std::uint8_t>(kValueSize - 1);
    bad.pop_back();
    auto r = reveal(s, bad, kNow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::malformed);
    EXPECT_NE(r.error().describe().find("identity_protection"), std::string::npos);
}

TEST(RequestPrivacy, HostileBytesAreRefusedNeverCrash) {
    Security s({material(kRsc, 10)});
    const auto air = conceal(s, request(), kRsc, kNow, nonce(5)).value();
    DeterministicRng rng(11);
    for (std::size_t n = 0; n <= air.size(); ++n) {  // every truncation
        std::span<const std::uint8_t> cut(air.data(), n);
        (void)reveal(s, cut, kNow);
        (void)concealed(cut);
        (void)rsc_named(cut);
    }
    for (int i = 0; i < 500; ++i) {  // random octets after a request's type octet
        std::vector<std::uint8_t> x(1 + rng.next_u8() % 64);
        rng.fill(x);
        x[0] = 0x01;
        (void)reveal(s, x, kNow);
    }
}

}  // namespace
}  // namespace pc5sec::request_privacy
