// Decoding is allocation-light: a good message, even the full establishment request with both
// containers, decodes without a single heap allocation (octet strings are views into the input).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "pc5sec/codec.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

// The replacements pair malloc with free. They stay out of line: inlined into gtest's
// `new TestClass`, GCC (-Wmismatched-new-delete, seen in the ASan build) would see a pointer from
// operator new reach free() and warn.
[[gnu::noinline]] void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace pc5sec::codec {
namespace {

TEST(CodecAllocation, DecodingAGoodMessageDoesNotAllocate) {
    for (const bool full : {true, false}) {
        for (const auto& m : sample_messages(full)) {
            const auto bytes = *encode(m);
            const long before = g_allocations.load();
            auto decoded = decode(bytes);
            const long after = g_allocations.load();
            ASSERT_TRUE(decoded.ok());
            EXPECT_EQ(after - before, 0) << message_name(message_type(m));
        }
    }
}

TEST(CodecAllocation, EncodingIntoAReservedBufferDoesNotAllocate) {
    const auto m = sample_messages(true).front();
    std::vector<std::uint8_t> out;
    out.reserve(kMaxMessageSize);
    const long before = g_allocations.load();
    ASSERT_TRUE(encode(m, out).ok());
    EXPECT_EQ(g_allocations.load() - before, 0);
}

}  // namespace
}  // namespace pc5sec::codec
