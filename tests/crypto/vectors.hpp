// Loads the official 3GPP test sets kept in tests/vectors/*.toml.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/hex.hpp"

namespace pc5sec::test {

struct VectorSet {
    std::string name;
    std::vector<std::uint8_t> key;
    SecurityInput input;
    std::uint64_t length = 0;
    std::vector<std::uint8_t> in;   // plaintext or message
    std::vector<std::uint8_t> out;  // ciphertext or 4-octet MAC
};

inline std::vector<VectorSet> load_vectors(const std::string& file, bool integrity) {
    const auto table = toml::parse_file(std::string(PC5SEC_VECTORS_DIR) + "/" + file);
    std::vector<VectorSet> sets;
    for (const auto& node : *table["set"].as_array()) {
        const auto& t = *node.as_table();
        VectorSet v;
        v.name = t["name"].value<std::string>().value();
        v.key = from_hex(t["key"].value<std::string>().value()).value();
        v.input.count = static_cast<std::uint32_t>(t["count"].value<std::int64_t>().value());
        v.input.bearer = static_cast<std::uint8_t>(t["bearer"].value<std::int64_t>().value());
        v.input.direction = static_cast<std::uint8_t>(t["direction"].value<std::int64_t>().value());
        v.length = static_cast<std::uint64_t>(t["length"].value<std::int64_t>().value());
        v.in =
            from_hex(t[integrity ? "message" : "plaintext"].value<std::string>().value()).value();
        v.out = from_hex(t[integrity ? "mac" : "ciphertext"].value<std::string>().value()).value();
        sets.push_back(std::move(v));
    }
    return sets;
}

// Clears the bits past `bits` in the last byte, as pc5sec's output convention does.
inline std::vector<std::uint8_t> masked(std::vector<std::uint8_t> v, std::uint64_t bits) {
    v.resize((bits + 7) / 8);
    if (bits % 8) v.back() &= static_cast<std::uint8_t>(0xff00u >> (bits % 8));
    return v;
}

}  // namespace pc5sec::test
