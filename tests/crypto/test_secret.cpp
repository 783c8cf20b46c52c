// Secrets never print, compare in constant time, and keep their bytes only in the object.
#include <gtest/gtest.h>

#include <sstream>

#include <fmt/format.h>

#include "pc5sec/keys.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec {
namespace {

TEST(Secret, PrintsRedactedThroughStreamsAndFmt) {
    std::array<std::uint8_t, 32> bytes{};
    bytes.fill(0xab);
    const Knrp k{bytes};
    std::ostringstream os;
    os << k;
    EXPECT_EQ(os.str(), "<redacted>");
    EXPECT_EQ(fmt::format("{}", k), "<redacted>");
    EXPECT_EQ(fmt::format("{}", Nrpek{}), "<redacted>");
    EXPECT_EQ(k.fingerprint().size(), 8u);
    EXPECT_EQ(k.fingerprint().find("abab"), std::string::npos);
}

TEST(Secret, EqualityAndSizes) {
    std::array<std::uint8_t, 16> a{}, b{};
    b[15] = 1;
    EXPECT_TRUE(Nrpik{a} == Nrpik{a});
    EXPECT_FALSE(Nrpik{a} == Nrpik{b});
    EXPECT_NE(Nrpik{a}.fingerprint(), Nrpik{b}.fingerprint());
    auto bad = Nrpek::from_bytes(std::vector<std::uint8_t>(32, 0), "nrpek");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().field, "nrpek");
}

TEST(Rng, DeterministicIsReproducibleAndSystemIsNot) {
    DeterministicRng a(1), b(1), c(2);
    EXPECT_EQ(a.bytes<32>(), b.bytes<32>());
    EXPECT_NE(a.bytes<32>(), c.bytes<32>());
    EXPECT_TRUE(a.deterministic());
    EXPECT_FALSE(system_rng().deterministic());
    EXPECT_NE(system_rng().bytes<32>(), system_rng().bytes<32>());
}

}  // namespace
}  // namespace pc5sec
