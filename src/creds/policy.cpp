// policy.toml: security policies, algorithm preferences and optional group keys.
#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "ossl.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/policy.hpp"

namespace pc5sec {

std::vector<CipheringAlgorithm> default_ciphering_preference() {
    return {CipheringAlgorithm::nea2, CipheringAlgorithm::nea3, CipheringAlgorithm::nea1,
            CipheringAlgorithm::nea0};
}

std::vector<IntegrityAlgorithm> default_integrity_preference() {
    return {IntegrityAlgorithm::nia2, IntegrityAlgorithm::nia3, IntegrityAlgorithm::nia1};
}

std::string_view name(PolicyLevel p) noexcept {
    switch (p) {
        case PolicyLevel::not_needed:
            return "not-needed";
        case PolicyLevel::preferred:
            return "preferred";
        case PolicyLevel::required:
            return "required";
    }
    return "?";
}

Result<PolicyLevel> policy_level_from_name(std::string_view text, std::string_view field) {
    if (text == "not-needed") return PolicyLevel::not_needed;
    if (text == "preferred") return PolicyLevel::preferred;
    if (text == "required") return PolicyLevel::required;
    return make_error(Errc::invalid_argument, std::string(field),
                      fmt::format("'{}' is not one of not-needed, preferred, required", text));
}

Result<CipheringAlgorithm> ciphering_algorithm_from_name(std::string_view text,
                                                         std::string_view field) {
    static constexpr std::string_view kNames[] = {"nea0", "nea1", "nea2", "nea3"};
    for (std::size_t i = 0; i < 4; ++i)
        if (text == kNames[i]) return static_cast<CipheringAlgorithm>(i);
    return make_error(Errc::invalid_argument, std::string(field),
                      fmt::format("'{}' is not one of nea0, nea1, nea2, nea3", text));
}

Result<IntegrityAlgorithm> integrity_algorithm_from_name(std::string_view text,
                                                         std::string_view field) {
    static constexpr std::string_view kNames[] = {"nia0", "nia1", "nia2", "nia3"};
    for (std::size_t i = 0; i < 4; ++i)
        if (text == kNames[i]) return static_cast<IntegrityAlgorithm>(i);
    return make_error(Errc::invalid_argument, std::string(field),
                      fmt::format("'{}' is not one of nia0, nia1, nia2, nia3", text));
}

std::string_view short_name(CipheringAlgorithm a) noexcept {
    static constexpr std::string_view kNames[] = {"nea0", "nea1", "nea2", "nea3"};
    return kNames[static_cast<std::size_t>(a) & 3];
}
std::string_view short_name(IntegrityAlgorithm a) noexcept {
    static constexpr std::string_view kNames[] = {"nia0", "nia1", "nia2", "nia3"};
    return kNames[static_cast<std::size_t>(a) & 3];
}

namespace {

using creds::detail::at;

Status only_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                 std::string_view source, std::string_view prefix) {
    for (const auto& [k, v] : t) {
        (void)v;
        if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end())
            return make_error(Errc::malformed, at(source, fmt::format("{}{}", prefix, k.str())),
                              "unknown key (a typo must not silently weaken a policy)");
    }
    return {};
}

Status read_policy(const toml::table& root, std::string_view section, SecurityPolicy& out,
                   std::string_view source, bool* refuse_null_integrity = nullptr) {
    const auto* node = root.get(section);
    if (!node) return {};  // defaults
    const auto* t = node->as_table();
    if (!t) return make_error(Errc::malformed, at(source, section), "must be a table");
    if (refuse_null_integrity) {
        PC5SEC_TRY(only_keys(*t, {"integrity", "ciphering", "refuse_null_integrity"}, source,
                             fmt::format("{}.", section)));
        if (const auto* v = t->get("refuse_null_integrity")) {
            const auto b = v->value<bool>();
            if (!b || !v->is_boolean())
                return make_error(Errc::malformed,
                                  at(source, fmt::format("{}.refuse_null_integrity", section)),
                                  "must be true or false");
            *refuse_null_integrity = *b;
        }
    } else {
        PC5SEC_TRY(only_keys(*t, {"integrity", "ciphering"}, source, fmt::format("{}.", section)));
    }
    for (auto [key, level] :
         {std::pair{"integrity", &out.integrity}, std::pair{"ciphering", &out.ciphering}}) {
        const auto field = at(source, fmt::format("{}.{}", section, key));
        const auto* v = t->get(key);
        if (!v) continue;
        const auto s = v->value<std::string>();
        if (!s) return make_error(Errc::malformed, field, "must be a string");
        auto l = policy_level_from_name(*s, field);
        if (!l) return std::move(l).error();
        *level = *l;
    }
    return {};
}

template <class Alg, class Parse>
Status read_algorithms(const toml::table& t, std::string_view key, std::vector<Alg>& out,
                       std::string_view source, Parse parse) {
    const auto* node = t.get(key);
    if (!node) return {};
    const auto field = at(source, fmt::format("algorithms.{}", key));
    const auto* arr = node->as_array();
    if (!arr) return make_error(Errc::malformed, field, "must be an array of names");
    std::vector<Alg> list;
    for (const auto& e : *arr) {
        const auto s = e.value<std::string>();
        if (!s) return make_error(Errc::malformed, field, "must be an array of names");
        auto a = parse(*s, field);
        if (!a) return std::move(a).error();
        if (std::find(list.begin(), list.end(), *a) != list.end())
            return make_error(Errc::malformed, field, fmt::format("'{}' is listed twice", *s));
        list.push_back(*a);
    }
    if (list.empty()) return make_error(Errc::malformed, field, "must list at least one algorithm");
    out = std::move(list);
    return {};
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_quoted(std::string_view text) {
    std::string out = "\"";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

}  // namespace

Result<PolicyFile> PolicyFile::parse(std::string_view toml_text, std::string_view source) {
    toml::table root;
    try {
        root = toml::parse(toml_text, std::string(source));
    } catch (const toml::parse_error& e) {
        return make_error(Errc::malformed,
                          at(source, fmt::format("line {}", e.source().begin.line)),
                          std::string(e.description()));
    }
    PolicyFile p;
    PC5SEC_TRY(
        only_keys(root, {"signalling", "user_plane", "algorithms", "group_keys"}, source, ""));
    PC5SEC_TRY(read_policy(root, "signalling", p.signalling, source, &p.refuse_null_integrity));
    PC5SEC_TRY(read_policy(root, "user_plane", p.user_plane, source));
    if (const auto* node = root.get("algorithms")) {
        const auto* t = node->as_table();
        if (!t) return make_error(Errc::malformed, at(source, "algorithms"), "must be a table");
        PC5SEC_TRY(only_keys(*t, {"ciphering", "integrity"}, source, "algorithms."));
        PC5SEC_TRY(
            read_algorithms(*t, "ciphering", p.ciphering, source, ciphering_algorithm_from_name));
        PC5SEC_TRY(
            read_algorithms(*t, "integrity", p.integrity, source, integrity_algorithm_from_name));
    }
    // A policy that requires protection must offer a real algorithm for it.
    const bool needs_integrity = p.signalling.integrity == PolicyLevel::required ||
                                 p.user_plane.integrity == PolicyLevel::required;
    if (needs_integrity && std::all_of(p.integrity.begin(), p.integrity.end(),
                                       [](auto a) { return a == IntegrityAlgorithm::nia0; }))
        return make_error(Errc::malformed, at(source, "algorithms.integrity"),
                          "integrity is required but only NIA0 (null) is offered");
    const bool needs_ciphering = p.signalling.ciphering == PolicyLevel::required ||
                                 p.user_plane.ciphering == PolicyLevel::required;
    if (needs_ciphering && std::all_of(p.ciphering.begin(), p.ciphering.end(),
                                       [](auto a) { return a == CipheringAlgorithm::nea0; }))
        return make_error(Errc::malformed, at(source, "algorithms.ciphering"),
                          "ciphering is required but only NEA0 (null) is offered");
    if (const auto* node = root.get("group_keys")) {
        const auto* t = node->as_table();
        if (!t) return make_error(Errc::malformed, at(source, "group_keys"), "must be a table");
        for (const auto& [k, v] : *t) {
            const auto field = at(source, fmt::format("group_keys.{}", k.str()));
            auto s = v.value<std::string>();
            if (!s) return make_error(Errc::malformed, field, "must be a hex string");
            auto bytes = from_hex(*s, field);
            creds::detail::secure_wipe_string(*s);
            // from_hex's own message names the bad character, never the key: keep it.
            if (!bytes) return std::move(bytes).error();
            auto key = GroupKey::from_bytes(*bytes, field);
            std::fill(bytes->begin(), bytes->end(), 0);
            if (!key) return std::move(key).error();
            p.group_keys.emplace(std::string(k.str()), *key);
        }
    }
    return p;
}

Result<PolicyFile> PolicyFile::load(const std::filesystem::path& file) {
    auto text = creds::read_file(file);
    if (!text) return std::move(text).error();
    auto p = parse(*text, file.string());
    creds::detail::secure_wipe_string(*text);
    return p;
}

std::string PolicyFile::to_toml(bool include_group_keys) const {
    std::ostringstream out;
    out << "# pc5sec security policy (docs/credentials.md)\n";
    auto policy = [&](std::string_view section, const SecurityPolicy& p) {
        out << "\n[" << section << "]\n";
        out << "integrity = \"" << name(p.integrity) << "\"  # not-needed | preferred | required\n";
        out << "ciphering = \"" << name(p.ciphering) << "\"\n";
    };
    policy("signalling", signalling);
    if (refuse_null_integrity) out << "refuse_null_integrity = true  # departs from TS 33.536\n";
    policy("user_plane", user_plane);
    out << "\n[algorithms]  # most preferred first\nciphering = [";
    for (std::size_t i = 0; i < ciphering.size(); ++i)
        out << (i ? ", " : "") << '"' << short_name(ciphering[i]) << '"';
    out << "]\nintegrity = [";
    for (std::size_t i = 0; i < integrity.size(); ++i)
        out << (i ? ", " : "") << '"' << short_name(integrity[i]) << '"';
    out << "]\n";
    if (include_group_keys) out << group_keys_toml();
    return out.str();
}

std::string PolicyFile::group_keys_toml() const {
    if (group_keys.empty()) return {};
    std::string out = "\n[group_keys]  # pre-shared 256-bit group keys (PSK mode): secret\n";
    out.reserve(out.size() + group_keys.size() * 128);  // one buffer: fewer stale copies
    for (const auto& [n, k] : group_keys) {
        std::string hex = to_hex(k.reveal());
        out += toml_quoted(n);
        out += " = \"";
        out += hex;
        out += "\"\n";
        creds::detail::secure_wipe_string(hex);
    }
    return out;
}

}  // namespace pc5sec
