// Every bad input gets a clear error that names its field, and nothing is written.
#include <gtest/gtest.h>

#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"

namespace pc5sec {
namespace {

const std::vector<std::uint8_t> kKey(16, 0x2b);

void expect_error(const Error& e, Errc code, const std::string& field) {
    EXPECT_EQ(e.code, code) << e.describe();
    EXPECT_EQ(e.field, field) << e.describe();
    EXPECT_FALSE(e.message.empty());
}

TEST(BadInput, WrongKeySize) {
    for (std::size_t n : {0u, 15u, 17u, 32u}) {
        const std::vector<std::uint8_t> key(n, 1);
        auto c = CipheringContext::create(CipheringAlgorithm::nea2, key);
        ASSERT_FALSE(c);
        expect_error(c.error(), Errc::invalid_argument, "key");
        auto i = IntegrityContext::create(IntegrityAlgorithm::nia1, key);
        ASSERT_FALSE(i);
        expect_error(i.error(), Errc::invalid_argument, "key");
    }
    auto k = Knrp::from_bytes(std::vector<std::uint8_t>(31, 0));
    ASSERT_FALSE(k);
    EXPECT_NE(k.error().message.find("256 bits"), std::string::npos);
}

TEST(BadInput, BearerAndDirectionOutOfRange) {
    for (auto alg : {CipheringAlgorithm::nea0, CipheringAlgorithm::nea1, CipheringAlgorithm::nea2,
                     CipheringAlgorithm::nea3}) {
        auto c = *CipheringContext::create(alg, kKey);
        std::vector<std::uint8_t> data(8, 0x77), out(8, 0x55);
        auto st = c.apply({0, 32, 0}, data, out, 64);
        ASSERT_FALSE(st);
        expect_error(st.error(), Errc::invalid_argument, "bearer");
        st = c.apply({0, 0, 2}, data, out, 64);
        ASSERT_FALSE(st);
        expect_error(st.error(), Errc::invalid_argument, "direction");
        EXPECT_EQ(out, std::vector<std::uint8_t>(8, 0x55)) << "a rejected call wrote output";
    }
    auto i = *IntegrityContext::create(IntegrityAlgorithm::nia3, kKey);
    std::vector<std::uint8_t> data(8);
    auto m = i.compute({0, 40, 0}, data, 64);
    ASSERT_FALSE(m);
    expect_error(m.error(), Errc::invalid_argument, "bearer");
}

TEST(BadInput, UnknownAlgorithmId) {
    auto c = ciphering_algorithm_from_id(4, "--alg");
    ASSERT_FALSE(c);
    expect_error(c.error(), Errc::unsupported, "--alg");
    auto i = integrity_algorithm_from_id(15);
    ASSERT_FALSE(i);
    expect_error(i.error(), Errc::unsupported, "algorithm");
    auto ctx = CipheringContext::create(static_cast<CipheringAlgorithm>(9), kKey);
    ASSERT_FALSE(ctx);
}

TEST(BadInput, LengthLongerThanData) {
    auto c = *CipheringContext::create(CipheringAlgorithm::nea1, kKey);
    std::vector<std::uint8_t> data(4), out(8);
    auto st = c.apply({}, data, out, 33);
    ASSERT_FALSE(st);
    expect_error(st.error(), Errc::invalid_argument, "length");
    EXPECT_NE(st.error().message.find("longer than the data"), std::string::npos);
    auto i = *IntegrityContext::create(IntegrityAlgorithm::nia2, kKey);
    auto m = i.compute({}, data, 40);
    ASSERT_FALSE(m);
    expect_error(m.error(), Errc::invalid_argument, "length");
}

TEST(BadInput, LengthPastLargestPdu) {
    auto c = *CipheringContext::create(CipheringAlgorithm::nea2, kKey);
    std::vector<std::uint8_t> big(kMaxPduBytes + 8);
    auto st = c.apply({}, big, big, kMaxPduBits + 8);
    ASSERT_FALSE(st);
    expect_error(st.error(), Errc::invalid_argument, "length");
}

TEST(BadInput, OutputTooSmall) {
    auto c = *CipheringContext::create(CipheringAlgorithm::nea3, kKey);
    std::vector<std::uint8_t> data(16), out(15);
    auto st = c.apply({}, data, out, 128);
    ASSERT_FALSE(st);
    expect_error(st.error(), Errc::invalid_argument, "output");
}

TEST(BadInput, BackendWithoutTheAlgorithm) {
    auto c = CipheringContext::create(CipheringAlgorithm::nea1, kKey, Backend::openssl);
    ASSERT_FALSE(c);
    expect_error(c.error(), Errc::unsupported, "backend");
    auto i = IntegrityContext::create(IntegrityAlgorithm::nia2, kKey, Backend::reference);
    ASSERT_FALSE(i);
    expect_error(i.error(), Errc::unsupported, "backend");
}

TEST(BadInput, BurstWithOneBadJobWritesNothing) {
    auto c = *CipheringContext::create(CipheringAlgorithm::nea2, kKey);
    std::vector<std::uint8_t> in(64, 1), out_a(64, 0xaa), out_b(64, 0xbb);
    std::vector<CipherJob> jobs{
        CipherJob{&c, {1, 1, 0}, in.data(), out_a.data(), 512, in.size(), out_a.size()},
        CipherJob{&c, {1, 1, 3}, in.data(), out_b.data(), 512, in.size(), out_b.size()}};
    auto st = cipher_burst(jobs);
    ASSERT_FALSE(st);
    expect_error(st.error(), Errc::invalid_argument, "jobs[1].direction");
    EXPECT_EQ(out_a, std::vector<std::uint8_t>(64, 0xaa));
    EXPECT_EQ(out_b, std::vector<std::uint8_t>(64, 0xbb));

    auto i = *IntegrityContext::create(IntegrityAlgorithm::nia1, kKey);
    std::vector<IntegrityJob> ijobs{IntegrityJob{&i, {}, in.data(), 8 * 65, in.size(), {}}};
    auto ist = integrity_burst(ijobs);
    ASSERT_FALSE(ist);
    expect_error(ist.error(), Errc::invalid_argument, "jobs[0].length");
    std::vector<IntegrityJob> nulljob{IntegrityJob{}};
    ASSERT_FALSE(integrity_burst(nulljob));
}

}  // namespace
}  // namespace pc5sec
