// Every official test set of the six algorithms (tests/vectors/, each citing its clause), on
// every backend that offers the algorithm, one PDU at a time and in a burst.
#include <gtest/gtest.h>

#include "pc5sec/nea_nia.hpp"
#include "vectors.hpp"

namespace pc5sec {
namespace {

using test::load_vectors;
using test::masked;

struct CipherCase {
    const char* file;
    CipheringAlgorithm alg;
    std::vector<Backend> backends;
    std::size_t expected_sets;
};

struct MacCase {
    const char* file;
    IntegrityAlgorithm alg;
    std::vector<Backend> backends;
    std::size_t expected_sets;
};

void PrintTo(const CipherCase& c, std::ostream* os) {
    *os << c.file;
}
void PrintTo(const MacCase& c, std::ostream* os) {
    *os << c.file;
}

class NeaVectors : public ::testing::TestWithParam<CipherCase> {};
class NiaVectors : public ::testing::TestWithParam<MacCase> {};

TEST_P(NeaVectors, AllOfficialSetsOnEveryBackend) {
    const auto& c = GetParam();
    const auto sets = load_vectors(c.file, false);
    ASSERT_EQ(sets.size(), c.expected_sets) << "a test set went missing from " << c.file;
    for (Backend b : c.backends) {
        for (const auto& v : sets) {
            SCOPED_TRACE(v.name + " on " + std::string(name(b)));
            auto ctx = CipheringContext::create(c.alg, v.key, b);
            ASSERT_TRUE(ctx) << ctx.error().describe();
            std::vector<std::uint8_t> out(v.in.size());
            ASSERT_TRUE(ctx->apply(v.input, v.in, out, v.length));
            EXPECT_EQ(out, masked(v.out, v.length));
            // NEA is its own inverse: deciphering gives the plaintext back (over LENGTH bits).
            std::vector<std::uint8_t> back(out.size());
            ASSERT_TRUE(ctx->apply(v.input, out, back, v.length));
            EXPECT_EQ(back, masked(v.in, v.length));
            // In place.
            std::vector<std::uint8_t> inplace = v.in;
            ASSERT_TRUE(ctx->apply(v.input, inplace, inplace, v.length));
            EXPECT_EQ(inplace, masked(v.out, v.length));
        }
    }
}

TEST_P(NeaVectors, AllOfficialSetsInOneBurst) {
    const auto& c = GetParam();
    const auto sets = load_vectors(c.file, false);
    std::vector<CipheringContext> contexts;
    contexts.reserve(sets.size());
    for (const auto& v : sets)
        contexts.push_back(*CipheringContext::create(c.alg, v.key));
    std::vector<std::vector<std::uint8_t>> outs;
    std::vector<CipherJob> jobs;
    for (const auto& v : sets)
        outs.emplace_back(v.in.size(), 0xee);
    for (std::size_t i = 0; i < sets.size(); ++i)
        jobs.push_back(CipherJob{&contexts[i], sets[i].input, sets[i].in.data(), outs[i].data(),
                                 sets[i].length, sets[i].in.size(), outs[i].size()});
    ASSERT_TRUE(cipher_burst(jobs));
    for (std::size_t i = 0; i < sets.size(); ++i) {
        SCOPED_TRACE(sets[i].name);
        EXPECT_EQ(outs[i], masked(sets[i].out, sets[i].length));
    }
}

TEST_P(NiaVectors, AllOfficialSetsOnEveryBackend) {
    const auto& c = GetParam();
    const auto sets = load_vectors(c.file, true);
    ASSERT_EQ(sets.size(), c.expected_sets) << "a test set went missing from " << c.file;
    for (Backend b : c.backends) {
        for (const auto& v : sets) {
            SCOPED_TRACE(v.name + " on " + std::string(name(b)));
            auto ctx = IntegrityContext::create(c.alg, v.key, b);
            ASSERT_TRUE(ctx) << ctx.error().describe();
            auto mac = ctx->compute(v.input, v.in, v.length);
            ASSERT_TRUE(mac);
            EXPECT_EQ(std::vector<std::uint8_t>(mac->begin(), mac->end()), v.out);
            MacI expected{};
            std::copy(v.out.begin(), v.out.end(), expected.begin());
            EXPECT_TRUE(ctx->verify(v.input, v.in, v.length, expected));
            // One flipped bit inside LENGTH must change the MAC.
            auto flipped = v.in;
            flipped[0] ^= 0x80;
            const auto bad = ctx->verify(v.input, flipped, v.length, expected);
            ASSERT_FALSE(bad);
            EXPECT_EQ(bad.error().code, Errc::verification_failed);
            EXPECT_EQ(bad.error().pc5_cause, std::optional<std::uint8_t>(7));
        }
    }
}

TEST_P(NiaVectors, AllOfficialSetsInOneBurst) {
    const auto& c = GetParam();
    const auto sets = load_vectors(c.file, true);
    std::vector<IntegrityContext> contexts;
    contexts.reserve(sets.size());
    for (const auto& v : sets)
        contexts.push_back(*IntegrityContext::create(c.alg, v.key));
    std::vector<IntegrityJob> jobs;
    for (std::size_t i = 0; i < sets.size(); ++i)
        jobs.push_back(IntegrityJob{
            &contexts[i], sets[i].input, sets[i].in.data(), sets[i].length, sets[i].in.size(), {}});
    ASSERT_TRUE(integrity_burst(jobs));
    for (std::size_t i = 0; i < sets.size(); ++i) {
        SCOPED_TRACE(sets[i].name);
        EXPECT_EQ(std::vector<std::uint8_t>(jobs[i].mac.begin(), jobs[i].mac.end()), sets[i].out);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Official, NeaVectors,
    ::testing::Values(
        CipherCase{"nea1.toml", CipheringAlgorithm::nea1, {Backend::ipsec_mb}, 6},
        CipherCase{"nea2.toml", CipheringAlgorithm::nea2, {Backend::ipsec_mb, Backend::openssl}, 6},
        CipherCase{
            "nea3.toml", CipheringAlgorithm::nea3, {Backend::ipsec_mb, Backend::reference}, 5}),
    [](const auto& info) { return std::string(info.param.file).substr(0, 4); });

INSTANTIATE_TEST_SUITE_P(
    Official, NiaVectors,
    ::testing::Values(
        MacCase{"nia1.toml", IntegrityAlgorithm::nia1, {Backend::ipsec_mb}, 7},
        MacCase{"nia2.toml", IntegrityAlgorithm::nia2, {Backend::ipsec_mb, Backend::openssl}, 8},
        MacCase{"nia3.toml", IntegrityAlgorithm::nia3, {Backend::ipsec_mb, Backend::reference}, 5}),
    [](const auto& info) { return std::string(info.param.file).substr(0, 4); });

TEST(NullAlgorithms, Nea0CopiesAndNia0IsZero) {
    const std::vector<std::uint8_t> key(16, 0x11), data{0xde, 0xad, 0xbe, 0xef, 0xff};
    auto nea0 = CipheringContext::create(CipheringAlgorithm::nea0, key);
    ASSERT_TRUE(nea0);
    std::vector<std::uint8_t> out(5);
    ASSERT_TRUE(nea0->apply({1, 2, 1}, data, out, 36));
    EXPECT_EQ(out, (std::vector<std::uint8_t>{0xde, 0xad, 0xbe, 0xef, 0xf0}));
    auto nia0 = IntegrityContext::create(IntegrityAlgorithm::nia0, key);
    ASSERT_TRUE(nia0);
    EXPECT_EQ(*nia0->compute({1, 2, 1}, data, 40), (MacI{0, 0, 0, 0}));
}

}  // namespace
}  // namespace pc5sec
