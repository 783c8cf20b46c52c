// A UE's security policy file (policy.toml), provisioned next to its credentials: signalling
// and user-plane security policies, algorithms in order of preference, and optional pre-shared
// group keys for a PSK mode. Group keys are secrets: SecretKey, never printed.
//
//   [signalling]                 # PC5 signalling security policy
//   integrity = "required"       # "not-needed" | "preferred" | "required"
//   ciphering = "preferred"
//   [user_plane]
//   integrity = "preferred"
//   ciphering = "preferred"
//   [algorithms]                 # most preferred first
//   ciphering = ["nea2", "nea3", "nea1", "nea0"]
//   integrity = ["nia2", "nia3", "nia1"]
//   [group_keys]                 # optional: name = 256-bit key in hex
//   fleet-a = "00112233..."
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/algorithms.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/secret.hpp"

namespace pc5sec {

namespace tags {
struct GroupKey {
    static constexpr const char* kName = "group key";
};
}  // namespace tags
using GroupKey = SecretKey<32, tags::GroupKey>;  // a pre-shared 256-bit group key (PSK mode)

enum class PolicyLevel : std::uint8_t { not_needed = 0, preferred = 1, required = 2 };
std::string_view name(PolicyLevel p) noexcept;  // "not-needed", "preferred", "required"
Result<PolicyLevel> policy_level_from_name(std::string_view text, std::string_view field);

// TS 33.536 5.3.3.1.2 (3gpp-facts §2): NOT NEEDED against REQUIRED is a mismatch (#10), and a
// protection is active only when neither side says NOT NEEDED. Both solutions check with these.
constexpr bool policy_mismatch(PolicyLevel ours, PolicyLevel theirs) noexcept {
    return (ours == PolicyLevel::not_needed && theirs == PolicyLevel::required) ||
           (ours == PolicyLevel::required && theirs == PolicyLevel::not_needed);
}
constexpr bool policy_active(PolicyLevel ours, PolicyLevel theirs) noexcept {
    return ours != PolicyLevel::not_needed && theirs != PolicyLevel::not_needed;
}

struct SecurityPolicy {
    PolicyLevel integrity = PolicyLevel::required;
    PolicyLevel ciphering = PolicyLevel::preferred;
    friend bool operator==(const SecurityPolicy&, const SecurityPolicy&) = default;
};

Result<CipheringAlgorithm> ciphering_algorithm_from_name(std::string_view text,
                                                         std::string_view field);  // "nea2"
Result<IntegrityAlgorithm> integrity_algorithm_from_name(std::string_view text,
                                                         std::string_view field);  // "nia2"
std::string_view short_name(CipheringAlgorithm a) noexcept;                        // "nea2"
std::string_view short_name(IntegrityAlgorithm a) noexcept;                        // "nia2"

std::vector<CipheringAlgorithm> default_ciphering_preference();
std::vector<IntegrityAlgorithm> default_integrity_preference();

struct PolicyFile {
    SecurityPolicy signalling{PolicyLevel::required, PolicyLevel::preferred};
    SecurityPolicy user_plane{PolicyLevel::preferred, PolicyLevel::preferred};
    // nea2, nea3, nea1, nea0 and nia2, nia3, nia1. Built out of line: GCC 12 reports a false
    // -Wmaybe-uninitialized when these initializer lists are inlined into callers.
    std::vector<CipheringAlgorithm> ciphering = default_ciphering_preference();
    std::vector<IntegrityAlgorithm> integrity = default_integrity_preference();
    std::map<std::string, GroupKey> group_keys;
    // [signalling] refuse_null_integrity = true: refuse NIA0 even where the policy says
    // PREFERRED, when this UE holds credentials for the peer (docs/solution-a.md, "Downgrade
    // under PREFERRED"). Departs from TS 33.536; off by default.
    bool refuse_null_integrity = false;

    // `source` names the file in errors: "creds/alice/policy.toml: signalling.integrity".
    // Unknown keys are refused (a typo must not silently weaken a policy). Group key values never
    // appear in an error.
    static Result<PolicyFile> parse(std::string_view toml_text, std::string_view source);
    static Result<PolicyFile> load(const std::filesystem::path& file);
    // The TOML text. Group keys are written only when `include_group_keys` (the provisioning
    // function writing a UE's own file); otherwise they are left out.
    std::string to_toml(bool include_group_keys) const;
    // Only the [group_keys] table (secret: the caller writes it with mode 0600); "" if none.
    std::string group_keys_toml() const;
};

}  // namespace pc5sec
