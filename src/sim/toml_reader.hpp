// Internal: reading TOML tables key by key (scenario.cpp, rules.cpp): unknown keys refused,
// every error naming "origin: table.key".
#pragma once

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"
#include "pc5sec/sim.hpp"

namespace pc5sec::sim {

// Limits of scenario values (docs/scenarios.md, "Limits"): every number is finite, and a time
// in milliseconds (a key ending in "_ms") is at most one day of virtual time.
inline constexpr double kMaxMs = 86'400'000;

struct Reader {
    std::string origin;

    Error bad(std::string_view key, std::string message) const {
        return make_error(Errc::invalid_argument, fmt::format("{}: {}", origin, key),
                          std::move(message));
    }

    Status only(const toml::table& t, std::string_view where,
                std::initializer_list<std::string_view> keys) const {
        for (const auto& [k, v] : t) {
            (void)v;
            if (std::find(keys.begin(), keys.end(), k.str()) == keys.end())
                return bad(
                    where.empty() ? std::string(k.str()) : fmt::format("{}.{}", where, k.str()),
                    "unknown key (docs/scenarios.md lists the keys)");
        }
        return {};
    }

    template <typename T>
    Status get(const toml::table& t, std::string_view where, std::string_view key, T& out) const {
        const auto* node = t.get(key);
        if (!node) return {};
        const std::string full =
            where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
        if constexpr (std::is_same_v<T, bool>) {
            if (!node->is_boolean()) return bad(full, "must be true or false");
            out = node->as_boolean()->get();
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!node->is_string()) return bad(full, "must be a string");
            out = node->as_string()->get();
        } else if constexpr (std::is_same_v<T, double>) {
            if (node->is_integer())
                out = static_cast<double>(node->as_integer()->get());
            else if (node->is_floating_point())
                out = node->as_floating_point()->get();
            else
                return bad(full, "must be a number");
            if (std::isnan(out) || !(out >= 0)) return bad(full, "must not be negative");
            if (std::isinf(out)) return bad(full, "must be a finite number");
            if (key.ends_with("_ms") && out > kMaxMs)
                return bad(full,
                           fmt::format("at most {:.0f} ms (one day of virtual time)", kMaxMs));
        } else {
            if (!node->is_integer()) return bad(full, "must be an integer");
            const auto v = node->as_integer()->get();
            if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max())
                return bad(full, fmt::format("must be 0 .. {}", std::numeric_limits<T>::max()));
            out = static_cast<T>(v);
        }
        return {};
    }

    Status probability(const toml::table& t, std::string_view key, double& out) const {
        PC5SEC_TRY(get(t, "medium", key, out));
        if (out > 1) return bad(fmt::format("medium.{}", key), "a probability is 0 .. 1");
        return {};
    }
};

// Names of enum values by table (kAttacks, kActions, ...): the value of a name, and the list.
template <class T, std::size_t N>
std::optional<T> from_table(const std::array<std::pair<T, const char*>, N>& table,
                            std::string_view text) {
    for (const auto& [v, n] : table)
        if (text == n) return v;
    return std::nullopt;
}

template <class T, std::size_t N>
std::string all_names(const std::array<std::pair<T, const char*>, N>& table) {
    std::string out;
    for (const auto& [v, n] : table)
        out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

// [[attacker]] tables (rules.cpp): `node` is the root's "attacker" value, checked against the
// scenario's UE names, solution and compromised UEs.
Status read_rules(const Reader& r, const toml::node& node, const std::vector<std::string>& ues,
                  pc5::Solution solution, const std::vector<std::string>& compromised,
                  std::vector<AttackRule>& out);

}  // namespace pc5sec::sim
