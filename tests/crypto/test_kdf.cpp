// The TS 33.220 KDF and the TS 33.536 key hierarchy, against the cross-check vector of
// 3gpp-facts.md §1 and an independent HMAC computation.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <numeric>

#include "pc5sec/hash.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"

namespace pc5sec {
namespace {

Knrp sample_knrp() {
    std::array<std::uint8_t, 32> k{};
    std::iota(k.begin(), k.end(), 0x00);
    return Knrp{k};
}
Nonce nonce_from(std::uint8_t first) {
    Nonce n{};
    std::iota(n.begin(), n.end(), first);
    return n;
}

TEST(Kdf, KnrpSessCrossCheckVector) {
    const KnrpSess sess = derive_knrp_sess(sample_knrp(), nonce_from(0x10), nonce_from(0x20));
    EXPECT_EQ(to_hex(sess.reveal()),
              "098d8784bdaccc3e9a3dc6ea3a6c1f99f291f4bdb37ecd87fbd86a833a22e735");
}

TEST(Kdf, NrpekNrpikCrossCheckVectors) {
    const KnrpSess sess = derive_knrp_sess(sample_knrp(), nonce_from(0x10), nonce_from(0x20));
    const struct {
        int alg;
        const char* nrpek;
        const char* nrpik;
    } expected[] = {
        {1, "d080f679bd48ab2fb493bbfcb959cd6d", "e9e5143b7cd1c75c4fb4db9bdc00a874"},
        {2, "008fdb67f92b79bb8deed45659bc5cd9", "1b0ef1e0691d8762bf984a76aa80097b"},
        {3, "e4bcbca9d3c6e5425e4588ef3639cde8", "b5228159b9cc86269fcc0c324b02adf0"},
    };
    for (const auto& e : expected) {
        SCOPED_TRACE(e.alg);
        EXPECT_EQ(to_hex(derive_nrpek(sess, static_cast<CipheringAlgorithm>(e.alg)).reveal()),
                  e.nrpek);
        EXPECT_EQ(to_hex(derive_nrpik(sess, static_cast<IntegrityAlgorithm>(e.alg)).reveal()),
                  e.nrpik);
    }
}

TEST(Kdf, MatchesHandBuiltS) {
    // S = FC || P0 || L0 || P1 || L1, built by hand and fed to OpenSSL's one-shot HMAC.
    const std::vector<std::uint8_t> key(32, 0x42);
    const std::vector<std::uint8_t> p0{0xaa, 0xbb, 0xcc}, p1{};
    const std::vector<std::uint8_t> s{0x55, 0xaa, 0xbb, 0xcc, 0x00, 0x03, 0x00, 0x00};
    unsigned char md[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), s.data(), s.size(), md, &len);
    const KdfOutput out = kdf(key, 0x55, {p0, p1});
    EXPECT_EQ(to_hex(out.reveal()), to_hex(std::span<const std::uint8_t>(md, 32)));
}

TEST(Kdf, DifferentInputsGiveDifferentKeys) {
    const Knrp knrp = sample_knrp();
    const KnrpSess a = derive_knrp_sess(knrp, nonce_from(0x10), nonce_from(0x20));
    const KnrpSess b = derive_knrp_sess(knrp, nonce_from(0x10), nonce_from(0x21));
    EXPECT_FALSE(a == b);
    EXPECT_FALSE(derive_nrpek(a, CipheringAlgorithm::nea2).reveal()[0] ==
                     derive_nrpik(a, IntegrityAlgorithm::nia2).reveal()[0] &&
                 derive_nrpek(a, CipheringAlgorithm::nea2).fingerprint() ==
                     derive_nrpik(a, IntegrityAlgorithm::nia2).fingerprint());
}

TEST(KeyIds, KnrpIdAndSessIdHalves) {
    const auto id = KnrpId::from_parts(0xabcd, 0x1234);
    EXPECT_EQ(id.value, 0xabcd1234u);
    EXPECT_EQ(id.msb(), 0xabcd);
    EXPECT_EQ(id.lsb(), 0x1234);
    const auto sid = KnrpSessId::from_parts(0x12, 0x34);
    EXPECT_EQ(sid.value, 0x1234);
    EXPECT_EQ(sid.msb(), 0x12);
    EXPECT_EQ(sid.lsb(), 0x34);
}

}  // namespace
}  // namespace pc5sec

TEST(Sha256, Fips180Vectors) {
    // FIPS 180-2 Appendix B.1 ("abc") and the empty string, hashed in parts.
    auto span_of = [](const std::string& s) {
        return std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    };
    EXPECT_EQ(pc5sec::to_hex(pc5sec::sha256({span_of("a"), span_of("bc")})),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(pc5sec::to_hex(pc5sec::sha256({})),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
