// Protected UE-to-UE relay discovery (pc5sec/discovery.hpp): the derivations recomputed from the
// spec text with the bare primitives (kdf(), NEA, NIA), and what an attacker on the air can do
// with one frame: read it, forge it, flip a bit, replay it inside and outside the counter
// window, downgrade it to open discovery; and expired material refused, naming the field.
#include <gtest/gtest.h>

#include <algorithm>

#include "../support/discovery_material.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec::discovery {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kRsc = 0x00A001;
const UtcTime kNow = UtcTime{} + std::chrono::seconds(1'793'491'234);

Material material(std::uint32_t rsc, std::uint64_t seed) {
    return test::discovery_material(rsc, seed, kNow);
}

std::vector<std::uint8_t> announcement_pdu(Security& s, UtcTime at, std::uint32_t rsc = kRsc) {
    return announcement(s, at, 0x000050, rsc, "relay-1").value().pdu;
}

std::array<std::uint8_t, 4> be32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// Each step of the protection as TS 33.303 6.1.3.4.3 and TS 33.503 6.1.3.2 / A.6 / A.7 give it,
// done here with kdf(), NEA and NIA alone, must give the PDU the module sends.
TEST(DiscoverySecurity, DerivationsRecomputedFromTheSpecText) {
    const Material m = material(kRsc, 1);
    Security s({m});
    const auto pdu = announcement_pdu(s, kNow);

    codec::U2uRelayDiscoveryAnnouncement a;
    a.relay_service_code = codec::RelayServiceCode{kRsc};
    const std::string relay = "relay-1";
    a.relay_user_info = codec::Octets{std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(relay.data()), relay.size())};
    auto plain = codec::encode(a).value();  // message type 0x99 and the message-specific part
    ASSERT_EQ(plain[0], 0x99);              // restricted (10), content type 0110, Model A (01)
    const std::uint32_t counter = utc_counter(kNow);
    EXPECT_EQ(counter, 1'793'491'234u);
    plain.push_back(static_cast<std::uint8_t>(counter));  // UTC-based counter LSB

    // 1. MIC: NIA under DUIK, COUNT = the UTC-based counter, BEARER 0, DIRECTION 0 (A.6).
    auto nia = IntegrityContext::create(m.nia, m.duik.reveal()).value();
    const MacI mic = nia.compute(SecurityInput{counter, 0, 0}, plain, plain.size() * 8).value();
    std::vector<std::uint8_t> expect = plain;
    expect.insert(expect.end(), mic.begin(), mic.end());

    // 2. Confidentiality: KEY = the 128 LSBs of KDF(DUCK, FC, P0 counter, P1 MIC); NEA with
    //    COUNT = the counter, BEARER 0, DIRECTION 0 over the message-specific part (A.7).
    const auto p0 = be32(counter);
    const auto k = kdf(m.duck.reveal(), fc::kConfidentiality, {p0, mic});
    auto nea = CipheringContext::create(m.nea, k.reveal().subspan(16, 16)).value();
    const std::size_t part = expect.size() - 1 - kTrailerSize;
    std::span<std::uint8_t> body(expect.data() + 1, part);
    ASSERT_TRUE(nea.apply(SecurityInput{counter, 0, 0}, body, body, part * 8).ok());

    // 3. Scrambling: time-hash-bitsequence = the L LSBs of KDF(DUSK, FC, P0 = counter with its 4
    //    LSBs 0), L = min(message bits - 16, 256); XOR (0xFFFF || it) into the first L + 16 bits.
    const auto block = be32(counter & ~0xFu);
    const auto t = kdf(m.dusk.reveal(), fc::kScrambling, {block});
    const std::size_t l = std::min<std::size_t>(expect.size() - 2, 32);
    expect[0] ^= 0xFF;
    expect[1] ^= 0xFF;
    for (std::size_t i = 0; i < l; ++i)
        expect[2 + i] ^= t.reveal()[32 - l + i];

    EXPECT_EQ(pdu, expect);
    EXPECT_TRUE(restricted_on_air(pdu[0]));
}

TEST(DiscoverySecurity, TheHolderOfTheMaterialOpensIt) {
    Security relay({material(kRsc, 1)});
    Security source({material(kRsc, 1)});
    const auto pdu = announcement_pdu(relay, kNow);
    auto o = source.open(pdu, kNow + 3s);
    ASSERT_TRUE(o.ok()) << o.error().describe();
    EXPECT_TRUE(o->restricted);
    EXPECT_EQ(o->rsc, kRsc);
    EXPECT_EQ(o->counter, utc_counter(kNow));
    auto m = o->message();
    ASSERT_TRUE(m.ok());
    auto heard = relay_heard(*m, 0x50);
    ASSERT_TRUE(heard);
    EXPECT_EQ(heard->relay, "relay-1");
}

// An observer without the material reads neither the RSC nor the relay's name: no field of the
// message appears in clear on the air.
TEST(DiscoverySecurity, UnreadableWithoutTheMaterial) {
    Security relay({material(kRsc, 1)});
    const auto pdu = announcement_pdu(relay, kNow);
    const std::string air(pdu.begin(), pdu.end());
    EXPECT_EQ(air.find("relay-1"), std::string::npos);
    EXPECT_FALSE(codec::decode(pdu).ok());
    Security none;
    auto o = none.open(pdu, kNow);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().code, Errc::verification_failed);
    Security other({material(kRsc, 2)});  // another PKMF's material for the same RSC
    EXPECT_FALSE(other.open(pdu, kNow).ok());
    EXPECT_EQ(drop_reason(other.open(pdu, kNow).error()), pc5::DropReason::bad_mac);
}

// A forger without the material cannot make one the source accepts; nor can one bit flipped
// anywhere in a genuine one pass.
TEST(DiscoverySecurity, ForgedAndFlippedAreRefused) {
    Security attacker({material(kRsc, 99)});  // its own made-up material
    Security source({material(kRsc, 1)});
    EXPECT_FALSE(source.open(announcement_pdu(attacker, kNow), kNow).ok());
    Security relay({material(kRsc, 1)});
    const auto pdu = announcement_pdu(relay, kNow);
    for (std::size_t bit = 0; bit < pdu.size() * 8; ++bit) {
        auto flipped = pdu;
        flipped[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
        Security fresh({material(kRsc, 1)});
        EXPECT_FALSE(fresh.open(flipped, kNow).ok()) << "bit " << bit;
    }
}

// A replay inside the window is dropped by the replay cache; one from outside it cannot be
// descrambled under the receiver's counter and fails.
TEST(DiscoverySecurity, ReplaysAreDropped) {
    Security relay({material(kRsc, 1)});
    Security source({material(kRsc, 1)});
    const auto pdu = announcement_pdu(relay, kNow);
    ASSERT_TRUE(source.open(pdu, kNow).ok());
    auto again = source.open(pdu, kNow + 2s);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(drop_reason(again.error()), pc5::DropReason::replay);
    Security later({material(kRsc, 1)});
    auto old = later.open(pdu, kNow + kMaxOffset + 60s);
    ASSERT_FALSE(old.ok());
    EXPECT_NE(old.error().message.find("window"), std::string::npos) << old.error().describe();
    // Still opens within the window at a receiver that has not seen it (clocks drift).
    Security drift({material(kRsc, 1)});
    EXPECT_TRUE(drift.open(pdu, kNow + kMaxOffset - 1s).ok());
    EXPECT_TRUE(Security({material(kRsc, 1)}).open(pdu, kNow - kMaxOffset + 1s).ok());
}

// Open discovery for an RSC whose discovery this UE protects is a downgrade: refused. For an RSC
// it has no material for, open discovery is read (the first wave's behaviour).
TEST(DiscoverySecurity, OpenDiscoveryForAProtectedRscIsRefused) {
    Security none;
    const auto open = announcement_pdu(none, kNow);
    EXPECT_EQ(open[0] & kDiscoveryTypeMask, kOpen);
    Security source({material(kRsc, 1)});
    auto o = source.open(open, kNow);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().field, "discovery message.discovery_type");
    auto other = source.open(announcement_pdu(none, kNow, 0x00B002), kNow);
    ASSERT_TRUE(other.ok()) << other.error().describe();
    EXPECT_FALSE(other->restricted);
}

TEST(DiscoverySecurity, ExpiredMaterialIsRefusedNamingTheField) {
    auto m = material(kRsc, 1);
    m.valid_until = kNow - 1s;
    Security s({m});
    auto st = s.check_valid(kRsc, kNow);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().field, "discovery material for RSC 0x00a001: valid_until");
    auto f = announcement(s, kNow, 0x50, kRsc, "relay-1");
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().field, "discovery material for RSC 0x00a001: valid_until");
    auto o = s.open(
        announcement_pdu(*std::make_unique<Security>(std::vector{material(kRsc, 1)}), kNow), kNow);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.error().field, "discovery material for RSC 0x00a001: valid_until");
}

TEST(DiscoverySecurity, MaterialsAreCheckedAndGoThroughTheKeyLog) {
    EXPECT_FALSE(check_materials({material(kRsc, 1), material(kRsc, 2)}).ok());
    EXPECT_FALSE(check_materials({material(0, 1)}).ok());
    EXPECT_TRUE(check_materials({material(kRsc, 1), material(0x00B002, 2)}).ok());
    pc5::KeyLogCollector log;
    log_material(log, material(kRsc, 1));
    auto back = materials_from_key_log(log.records());
    ASSERT_TRUE(back.ok()) << back.error().describe();
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0].dusk, material(kRsc, 1).dusk);
    EXPECT_EQ((*back)[0].duik, material(kRsc, 1).duik);
    EXPECT_EQ((*back)[0].duck, material(kRsc, 1).duck);
    auto records = log.records();
    records.pop_back();  // DISCOVERY_ALGS missing
    auto partial = materials_from_key_log(records);
    ASSERT_FALSE(partial.ok());
    EXPECT_EQ(partial.error().message.find(records[0].value), std::string::npos);  // no key
}

// Truncated or garbage PDUs never crash and are malformed, not opened.
TEST(DiscoverySecurity, HostileBytesAreRefused) {
    Security s({material(kRsc, 1)});
    DeterministicRng rng(7);
    for (std::size_t n = 0; n < 64; ++n) {
        std::vector<std::uint8_t> junk(n);
        rng.fill(junk);
        EXPECT_FALSE(s.open(junk, kNow).ok());
    }
}

}  // namespace
}  // namespace pc5sec::discovery
