// A receiver's COUNT (TS 38.323 5.2.2.2) and its replay window (TS 33.536 5.3.3.1.4): one
// implementation for every PDCP-style PDU pc5sec opens, parameterised by the SN length (PC5-S of
// both solutions: 12 bits, pdcp.hpp; user-plane data: 18 bits, userplane.hpp) and the window
// size.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace pc5sec::pdcp {

/// The largest COUNT (never sent: COUNT must not repeat under one key).
inline constexpr std::uint32_t kMaxCount = 0xFFFFFFFFu;

/// The COUNT a received SN of `sn_bits` bits (1..31) stands for, given RX_DELIV (TS 38.323
/// 5.2.2.2: the HFN that puts the SN within Window_Size = half the SN space of SN(RX_DELIV)).
/// Overflow guard: at the largest HFN the estimate never wraps to HFN 0 (which would open a
/// replay of the first COUNTs under the key).
constexpr std::uint32_t receive_count(std::uint32_t rx_deliv, std::uint32_t sn,
                                      unsigned sn_bits) noexcept {
    const std::uint32_t modulus = std::uint32_t{1} << sn_bits;
    const std::uint32_t window = modulus / 2;
    const std::uint32_t max_hfn = kMaxCount >> sn_bits;
    sn &= modulus - 1;
    const std::uint32_t deliv_sn = rx_deliv & (modulus - 1);
    std::uint32_t hfn = rx_deliv >> sn_bits;
    if (static_cast<std::int64_t>(sn) < static_cast<std::int64_t>(deliv_sn) - window) {
        if (hfn < max_hfn) ++hfn;
    } else if (sn >= deliv_sn + window && hfn > 0) {
        --hfn;
    }
    return hfn << sn_bits | sn;
}

/// What a replay window says of a COUNT.
enum class CountCheck : std::uint8_t {
    fresh,    ///< not seen, and not below the window: it may be accepted
    replay,   ///< seen already
    too_old,  ///< below the window: it cannot be told from a replay, so it is refused as one
};

/// Which COUNTs a receiver has seen: `Size` COUNTs below the highest (a multiple of 64).
template <std::uint32_t Size>
class BasicReplayWindow {
    static_assert(Size > 0 && Size % 64 == 0, "the window is whole 64-bit words");

  public:
    /// Whether `count` may be accepted (it changes nothing).
    CountCheck check(std::uint32_t count) const noexcept {
        if (!any_ || count > highest_) return CountCheck::fresh;
        const std::uint32_t behind = highest_ - count;
        if (behind >= Size) return CountCheck::too_old;
        return (seen_[behind / 64] >> (behind % 64) & 1u) ? CountCheck::replay : CountCheck::fresh;
    }
    /// Marks `count` as seen (after its MAC-I verified).
    void accept(std::uint32_t count) noexcept {
        if (!any_ || count > highest_) {
            const std::uint32_t shift = any_ ? count - highest_ : Size;
            if (shift >= Size) {
                seen_.fill(0);
            } else {
                const std::size_t words = shift / 64, bits = shift % 64;
                for (std::size_t i = kWords; i-- > 0;) {
                    std::uint64_t v = i >= words ? seen_[i - words] << bits : 0;
                    if (bits && i >= words + 1) v |= seen_[i - words - 1] >> (64 - bits);
                    seen_[i] = v;
                }
            }
            seen_[0] |= 1;
            highest_ = count;
            any_ = true;
            return;
        }
        const std::uint32_t behind = highest_ - count;
        if (behind < Size) seen_[behind / 64] |= std::uint64_t{1} << (behind % 64);
    }
    /// The highest COUNT accepted, if any.
    std::optional<std::uint32_t> highest() const noexcept {
        if (!any_) return std::nullopt;
        return highest_;
    }

  private:
    static constexpr std::size_t kWords = Size / 64;
    bool any_ = false;
    std::uint32_t highest_ = 0;
    std::array<std::uint64_t, kWords> seen_{};  // bit i (word i/64): highest_ - i was seen
};

}  // namespace pc5sec::pdcp
