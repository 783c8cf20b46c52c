// What solution A's and solution B's flow tables share (src/link/flow.cpp, src/sigauth/flow.cpp;
// design.md "a protocol flow is a table"): what a handler asks of the one dispatcher, the rule
// by which a row allows a move, and the per-row counters the test that walks a table reads
// (tests/support/flow_coverage.hpp). Internal to the engines, not public API.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace pc5sec::flow {

// A handler stays, or the thing is gone (failed, released or expired; its keys wiped).
struct Stay {};
struct Gone {};
inline constexpr Stay stay() noexcept {
    return {};
}
inline constexpr Gone gone() noexcept {
    return {};
}

// What a handler asks of the dispatcher: stay, move to a state the row allows, or nothing more
// because the thing is gone.
template <class State>
struct Next {
    enum class Kind : std::uint8_t { stay, move, gone } kind = Kind::stay;
    State state{};
    constexpr Next() = default;
    constexpr Next(Stay) noexcept {}  // NOLINT(google-explicit-constructor): `return stay();`
    constexpr Next(Gone) noexcept : kind(Kind::gone) {}  // NOLINT(google-explicit-constructor)
    constexpr Next(Kind k, State s) noexcept : kind(k), state(s) {}
};
template <class State>
constexpr Next<State> move_to(State s) noexcept {
    return {Next<State>::Kind::move, s};
}

// Whether `row` lets a thing in state `from` move to `to`: one of the row's next states, or
// staying where the row allows that.
template <class Row, class State>
constexpr bool allows(const Row& row, State from, State to) noexcept {
    if (row.stay && to == from) return true;
    for (std::uint8_t i = 0; i < row.next_count; ++i)
        if (row.next[i] == to) return true;
    return false;
}

// How often each row of an N-row table was taken in this process.
template <std::size_t N>
class RowHits {
  public:
    void add(std::size_t row) noexcept { hits_[row].fetch_add(1, std::memory_order_relaxed); }
    std::span<const std::uint64_t> snapshot() noexcept {
        for (std::size_t i = 0; i < N; ++i)
            view_[i] = hits_[i].load(std::memory_order_relaxed);
        return view_;
    }

  private:
    std::array<std::atomic<std::uint64_t>, N> hits_{};
    std::array<std::uint64_t, N> view_{};
};

}  // namespace pc5sec::flow
