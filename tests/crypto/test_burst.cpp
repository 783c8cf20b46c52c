// Randomised cross-checks: bursts against one-PDU calls, ipsec-mb against OpenSSL and against
// pc5sec's reference ZUC, at every length up to 9000 bytes and lengths that are not whole bytes.
#include <gtest/gtest.h>

#include "pc5sec/nea_nia.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec {
namespace {

struct Pdu {
    SecurityInput input;
    std::uint64_t bits;
    std::vector<std::uint8_t> data;
};

std::vector<Pdu> random_pdus(Rng& rng, std::size_t n, std::uint64_t max_bytes) {
    std::vector<Pdu> out;
    for (std::size_t i = 0; i < n; ++i) {
        Pdu p;
        p.input = {rng.next_u32(), static_cast<std::uint8_t>(rng.next_u8() % 32),
                   static_cast<std::uint8_t>(rng.next_u8() & 1)};
        p.bits = 1 + rng.next_u32() % (max_bytes * 8);
        p.data.resize((p.bits + 7) / 8);
        rng.fill(p.data);
        out.push_back(std::move(p));
    }
    return out;
}

TEST(Burst, CipherBurstMatchesSingleCallsForEveryAlgorithm) {
    DeterministicRng rng(7);
    const auto key = rng.bytes<16>();
    for (auto alg : {CipheringAlgorithm::nea0, CipheringAlgorithm::nea1, CipheringAlgorithm::nea2,
                     CipheringAlgorithm::nea3}) {
        SCOPED_TRACE(std::string(name(alg)));
        const auto ctx = *CipheringContext::create(alg, key);
        auto pdus = random_pdus(rng, 100, 9000);
        pdus.push_back(Pdu{{1, 2, 1}, 9000 * 8, std::vector<std::uint8_t>(9000, 0x3c)});
        pdus.push_back(Pdu{{1, 2, 1}, 0, {}});
        std::vector<std::vector<std::uint8_t>> outs(pdus.size());
        std::vector<CipherJob> jobs;
        for (std::size_t i = 0; i < pdus.size(); ++i) {
            outs[i].resize(pdus[i].data.size());
            jobs.push_back(CipherJob{&ctx, pdus[i].input, pdus[i].data.data(), outs[i].data(),
                                     pdus[i].bits, pdus[i].data.size(), outs[i].size()});
        }
        {
            const auto st = cipher_burst(jobs);
            ASSERT_TRUE(st) << st.error().describe();
        }
        for (std::size_t i = 0; i < pdus.size(); ++i) {
            std::vector<std::uint8_t> single(pdus[i].data.size());
            ASSERT_TRUE(ctx.apply(pdus[i].input, pdus[i].data, single, pdus[i].bits));
            ASSERT_EQ(outs[i], single) << "pdu " << i << " of " << pdus[i].bits << " bits";
        }
    }
}

TEST(Burst, IntegrityBurstMatchesSingleCallsAcrossMixedAlgorithms) {
    DeterministicRng rng(8);
    const auto key = rng.bytes<16>();
    std::vector<IntegrityContext> contexts;
    for (auto alg : {IntegrityAlgorithm::nia0, IntegrityAlgorithm::nia1, IntegrityAlgorithm::nia2,
                     IntegrityAlgorithm::nia3})
        contexts.push_back(*IntegrityContext::create(alg, key));
    auto pdus = random_pdus(rng, 200, 9000);
    std::vector<IntegrityJob> jobs;
    for (std::size_t i = 0; i < pdus.size(); ++i)
        jobs.push_back(IntegrityJob{&contexts[i % contexts.size()],
                                    pdus[i].input,
                                    pdus[i].data.data(),
                                    pdus[i].bits,
                                    pdus[i].data.size(),
                                    {}});
    {
        const auto st = integrity_burst(jobs);
        ASSERT_TRUE(st) << st.error().describe();
    }
    for (std::size_t i = 0; i < pdus.size(); ++i) {
        const auto single =
            contexts[i % contexts.size()].compute(pdus[i].input, pdus[i].data, pdus[i].bits);
        ASSERT_TRUE(single);
        ASSERT_EQ(jobs[i].mac, *single) << "pdu " << i;
    }
}

TEST(CrossBackend, Nea2AndNia2IpsecMbEqualsOpenSsl) {
    DeterministicRng rng(9);
    const auto key = rng.bytes<16>();
    const auto c_mb = *CipheringContext::create(CipheringAlgorithm::nea2, key, Backend::ipsec_mb);
    const auto c_os = *CipheringContext::create(CipheringAlgorithm::nea2, key, Backend::openssl);
    const auto i_mb = *IntegrityContext::create(IntegrityAlgorithm::nia2, key, Backend::ipsec_mb);
    const auto i_os = *IntegrityContext::create(IntegrityAlgorithm::nia2, key, Backend::openssl);
    for (const auto& p : random_pdus(rng, 300, 9000)) {
        std::vector<std::uint8_t> a(p.data.size()), b(p.data.size());
        ASSERT_TRUE(c_mb.apply(p.input, p.data, a, p.bits));
        ASSERT_TRUE(c_os.apply(p.input, p.data, b, p.bits));
        ASSERT_EQ(a, b) << p.bits << " bits";
        ASSERT_EQ(*i_mb.compute(p.input, p.data, p.bits), *i_os.compute(p.input, p.data, p.bits))
            << p.bits << " bits";
    }
}

TEST(CrossBackend, ZucIpsecMbEqualsReferenceUpToItsLimit) {
    DeterministicRng rng(10);
    const auto key = rng.bytes<16>();
    const auto c_mb = *CipheringContext::create(CipheringAlgorithm::nea3, key, Backend::ipsec_mb);
    const auto c_ref = *CipheringContext::create(CipheringAlgorithm::nea3, key, Backend::reference);
    const auto i_mb = *IntegrityContext::create(IntegrityAlgorithm::nia3, key, Backend::ipsec_mb);
    const auto i_ref = *IntegrityContext::create(IntegrityAlgorithm::nia3, key, Backend::reference);
    auto pdus = random_pdus(rng, 150, 8188);
    pdus.push_back(Pdu{{5, 6, 1}, 65504, std::vector<std::uint8_t>(8188, 0xa5)});  // at the limit
    for (const auto& p : pdus) {
        std::vector<std::uint8_t> a(p.data.size()), b(p.data.size());
        ASSERT_TRUE(c_mb.apply(p.input, p.data, a, p.bits));
        ASSERT_TRUE(c_ref.apply(p.input, p.data, b, p.bits));
        ASSERT_EQ(a, b) << p.bits << " bits";
        ASSERT_EQ(*i_mb.compute(p.input, p.data, p.bits), *i_ref.compute(p.input, p.data, p.bits))
            << p.bits << " bits";
    }
}

TEST(CrossBackend, ZucPastIpsecMbLimitRoundTripsAndDependsOnEveryBit) {
    DeterministicRng rng(11);
    const auto key = rng.bytes<16>();
    const auto c = *CipheringContext::create(CipheringAlgorithm::nea3, key);
    const auto i = *IntegrityContext::create(IntegrityAlgorithm::nia3, key);
    std::vector<std::uint8_t> data(9000);
    rng.fill(data);
    std::vector<std::uint8_t> enc(9000), dec(9000);
    ASSERT_TRUE(c.apply({3, 4, 0}, data, enc, 9000 * 8));
    ASSERT_TRUE(c.apply({3, 4, 0}, enc, dec, 9000 * 8));
    EXPECT_EQ(dec, data);
    // The first 8188 bytes of keystream equal ipsec-mb's (same COUNT/BEARER/DIRECTION).
    std::vector<std::uint8_t> head(8188);
    ASSERT_TRUE(c.apply({3, 4, 0}, std::span(data).first(8188), head, 8188 * 8));
    EXPECT_TRUE(std::equal(head.begin(), head.end(), enc.begin()));
    const auto mac = *i.compute({3, 4, 0}, data, 9000 * 8);
    data[8999] ^= 1;
    EXPECT_NE(*i.compute({3, 4, 0}, data, 9000 * 8), mac);
}

TEST(Directions, TheTwoDirectionsNeverShareAKeystream) {
    const std::vector<std::uint8_t> key(16, 0x42), zeros(64, 0);
    for (auto alg :
         {CipheringAlgorithm::nea1, CipheringAlgorithm::nea2, CipheringAlgorithm::nea3}) {
        const auto c = *CipheringContext::create(alg, key);
        std::vector<std::uint8_t> up(64), down(64);
        ASSERT_TRUE(c.apply({100, 1, 0}, zeros, up, 512));
        ASSERT_TRUE(c.apply({100, 1, 1}, zeros, down, 512));
        EXPECT_NE(up, down) << name(alg);
    }
}

}  // namespace
}  // namespace pc5sec

namespace pc5sec {
namespace {

TEST(Burst, Nia2HeadroomGivesTheSameMacAndRestoresTheOctets) {
    DeterministicRng rng(12);
    const auto key = rng.bytes<16>();
    const auto ctx = *IntegrityContext::create(IntegrityAlgorithm::nia2, key);
    // Three PDUs packed one after another, each with its own 8 octets of headroom before it.
    std::vector<std::uint8_t> buffer(3 * (8 + 300));
    rng.fill(buffer);
    const auto original = buffer;
    std::vector<IntegrityJob> jobs;
    for (std::size_t i = 0; i < 3; ++i)
        jobs.push_back(IntegrityJob{&ctx,
                                    {static_cast<std::uint32_t>(i), 3, 1},
                                    buffer.data() + i * 308 + 8,
                                    300 * 8 - i,
                                    300,
                                    {},
                                    true});
    ASSERT_TRUE(integrity_burst(jobs));
    EXPECT_EQ(buffer, original) << "the headroom octets were not restored";
    for (const auto& j : jobs)
        EXPECT_EQ(j.mac, *ctx.compute(j.input, {j.message, j.message_size}, j.length_bits));
}

}  // namespace
}  // namespace pc5sec
