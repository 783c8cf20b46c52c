// RFC 8032 (Ed25519) and RFC 7748 (X25519) vectors, ECDSA P-256 round trips and tampering,
// ECDH agreement, deterministic key generation and PEM round trips.
#include <gtest/gtest.h>

#include "pc5sec/asymmetric.hpp"
#include "pc5sec/hex.hpp"

namespace pc5sec {
namespace {

std::vector<std::uint8_t> h(const char* s) {
    return from_hex(s).value();
}

TEST(Ed25519, Rfc8032Section7_1Tests1And2) {
    const struct {
        const char *secret, *pub, *msg, *sig;
    } vectors[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
         "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
         "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    };
    for (const auto& v : vectors) {
        const auto key = PrivateKey::from_raw(KeyType::ed25519, h(v.secret));
        ASSERT_TRUE(key);
        EXPECT_EQ(to_hex(key->public_key().encoded()), v.pub);
        const auto sig = sign(*key, h(v.msg));
        ASSERT_TRUE(sig);
        EXPECT_EQ(to_hex(*sig), v.sig);
        const auto pub = PublicKey::from_encoded(KeyType::ed25519, h(v.pub));
        ASSERT_TRUE(pub);
        EXPECT_TRUE(verify(*pub, h(v.msg), h(v.sig)));
        auto bad = h(v.sig);
        bad[10] ^= 1;
        EXPECT_FALSE(verify(*pub, h(v.msg), bad));
    }
}

TEST(X25519, Rfc7748Section6_1) {
    const auto alice = *PrivateKey::from_raw(
        KeyType::x25519, h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    const auto bob = *PrivateKey::from_raw(
        KeyType::x25519, h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    EXPECT_EQ(to_hex(alice.public_key().encoded()),
              "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    EXPECT_EQ(to_hex(bob.public_key().encoded()),
              "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const auto k1 = key_agreement(alice, bob.public_key());
    const auto k2 = key_agreement(bob, alice.public_key());
    ASSERT_TRUE(k1);
    ASSERT_TRUE(k2);
    EXPECT_EQ(to_hex(k1->reveal()),
              "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    EXPECT_TRUE(*k1 == *k2);
}

TEST(X25519, Rfc7748Section5_2FirstVector) {
    const auto scalar = *PrivateKey::from_raw(
        KeyType::x25519, h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
    const auto u = *PublicKey::from_encoded(
        KeyType::x25519, h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
    EXPECT_EQ(to_hex(key_agreement(scalar, u)->reveal()),
              "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

TEST(X25519, LowOrderPeerIsRefused) {
    const auto mine = *PrivateKey::generate(KeyType::x25519);
    const auto zero = *PublicKey::from_encoded(KeyType::x25519, std::vector<std::uint8_t>(32, 0));
    const auto r = key_agreement(mine, zero);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "peer public key");
}

TEST(EcdsaP256, RoundTripAndTamperedSignatureRejected) {
    const auto key = *PrivateKey::generate(KeyType::p256);
    EXPECT_EQ(key.public_key().encoded().size(), 65u);
    const std::vector<std::uint8_t> msg{'P', 'C', '5'};
    const auto sig = *sign(key, msg);
    EXPECT_TRUE(verify(key.public_key(), msg, sig));
    auto tampered = sig;
    tampered[tampered.size() - 1] ^= 0x01;
    const auto bad = verify(key.public_key(), msg, tampered);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::verification_failed);
    EXPECT_EQ(bad.error().field, "signature");
    auto other_msg = msg;
    other_msg[0] = 'Q';
    EXPECT_FALSE(verify(key.public_key(), other_msg, sig));
    const auto other_key = *PrivateKey::generate(KeyType::p256);
    EXPECT_FALSE(verify(other_key.public_key(), msg, sig));
    EXPECT_FALSE(verify(key.public_key(), msg, {}));
}

TEST(EcdhP256, BothSidesAgree) {
    const auto a = *PrivateKey::generate(KeyType::p256);
    const auto b = *PrivateKey::generate(KeyType::p256);
    EXPECT_TRUE(*key_agreement(a, b.public_key()) == *key_agreement(b, a.public_key()));
    const auto x = *PrivateKey::generate(KeyType::x25519);
    const auto mixed = key_agreement(a, x.public_key());
    ASSERT_FALSE(mixed);
    EXPECT_EQ(mixed.error().field, "key");
}

TEST(Keys, DeterministicGenerationAndPemRoundTrip) {
    for (KeyType t : {KeyType::p256, KeyType::ed25519, KeyType::x25519}) {
        DeterministicRng r1(42), r2(42);
        const auto k1 = *PrivateKey::generate(t, r1);
        const auto k2 = *PrivateKey::generate(t, r2);
        EXPECT_EQ(k1.public_key(), k2.public_key()) << name(t);
        const auto back = PrivateKey::from_pem(k1.to_pem_secret());
        ASSERT_TRUE(back);
        EXPECT_EQ(back->public_key(), k1.public_key());
        const auto pub = PublicKey::from_pem(k1.public_key().to_pem());
        ASSERT_TRUE(pub);
        EXPECT_EQ(*pub, k1.public_key());
    }
}

TEST(Keys, MalformedPublicKeysAreRefused) {
    auto off_curve = std::vector<std::uint8_t>(65, 0x01);
    off_curve[0] = 0x04;
    auto r = PublicKey::from_encoded(KeyType::p256, off_curve);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "public key");
    EXPECT_FALSE(PublicKey::from_encoded(KeyType::p256, std::vector<std::uint8_t>(33, 2)));
    EXPECT_FALSE(PublicKey::from_encoded(KeyType::ed25519, std::vector<std::uint8_t>(31, 0)));
    EXPECT_FALSE(
        PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"));
    EXPECT_FALSE(PrivateKey::from_pem("garbage"));
    EXPECT_FALSE(PrivateKey::from_raw(KeyType::p256, std::vector<std::uint8_t>(32, 0xff)));
    EXPECT_FALSE(PrivateKey::from_raw(KeyType::p256, std::vector<std::uint8_t>(32, 0x00)));
    EXPECT_FALSE(sign(*PrivateKey::generate(KeyType::x25519), std::vector<std::uint8_t>{1}));
}

}  // namespace
}  // namespace pc5sec
