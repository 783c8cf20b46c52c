// The ONE code-point table of pc5sec's PC5 signalling codec: message types, IEIs, PC5 signalling
// causes, algorithm identities, policy values, relay indications and container tags. Every row
// says whether it is confirmed (read in the 3GPP text), code-only (read in open-source code that
// follows the spec) or provisional (chosen by pc5sec; see shared/reference/3gpp-facts.md), and
// where it comes from. Nothing else in pc5sec hard-codes these numbers: use the enums below, and
// `code_point_table()` for the status and source (docs/code-points.md is generated from it).
#pragma once

#include <cstdint>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include "pc5sec/pc5_cause.hpp"

namespace pc5sec::codec {

enum class CodePointStatus : std::uint8_t { confirmed, code_only, provisional };
const char* status_name(CodePointStatus s) noexcept;

enum class CodePointKind : std::uint8_t {
    message_type,
    iei,
    cause,
    algorithm,
    signalling_policy,
    relay_indication,
    container_version,
    key_est_method,
    key_est_tag,
    auth_info_tag,
    signature_algorithm,
};
const char* kind_name(CodePointKind k) noexcept;

// PC5 signalling message types (octet 1). Value 0 is reserved.
enum class MessageType : std::uint8_t {
    reserved = 0x00,
    establishment_request = 0x01,
    establishment_accept = 0x02,
    establishment_reject = 0x03,
    modification_request = 0x04,  // known, not implemented by pc5sec
    modification_accept = 0x05,
    modification_reject = 0x06,
    release_request = 0x07,
    release_accept = 0x08,
    authentication_request = 0x09,
    authentication_response = 0x0a,
    authentication_reject = 0x0b,
    authentication_failure = 0x0c,
    security_mode_command = 0x0d,
    security_mode_complete = 0x0e,
    security_mode_reject = 0x0f,
    rekeying_request = 0x10,
    rekeying_response = 0x11,
    keepalive_request = 0x12,
    keepalive_response = 0x13,
    u2u_relay_discovery_announcement = 0x20,  // Model A
    u2u_relay_discovery_solicitation = 0x21,  // Model B
    u2u_relay_discovery_response = 0x22,      // Model B
};

// Information element identifiers. Type 1 IEIs are the high nibble (value in the low nibble);
// the enum holds the nibble shifted into place (0xB0 = IEI B).
enum class Iei : std::uint8_t {
    target_user_info = 0x28,
    u2u_relay_ue_user_info = 0x29,
    target_end_ue_l2_id = 0x2a,
    relay_service_code = 0x2b,
    multi_hop_path_info = 0x2c,
    end_ue_user_info_list = 0x2e,
    knrp_id = 0x52,
    nonce_1 = 0x53,
    msb_knrp_sess_id = 0x54,
    msb_knrp_id = 0x57,
    lsb_knrp_id = 0x58,
    max_inactivity_period = 0x5b,
    key_est_info = 0x74,
    authentication_info = 0x75,
    relay_authentication_info = 0x76,
    reauth_indication = 0xa1,  // type 2
    relay_indication = 0xb0,   // type 1, IEI in the high nibble
};

// PC5 signalling protocol causes (TS 24.554 Table 11.3.8.1 via ns-3), numbered from
// pc5_cause.hpp. 0 is reserved.
enum class Cause : std::uint8_t {
    direct_communication_not_allowed = cause::kDirectCommunicationToTargetUeNotAllowed,
    direct_communication_no_longer_needed = cause::kDirectCommunicationToTargetUeNoLongerNeeded,
    l2_id_conflict = cause::kConflictOfLayer2Id,
    direct_connection_not_available = cause::kDirectConnectionNotAvailableAnymore,
    lack_of_resources = cause::kLackOfResourcesForPc5UnicastLink,
    authentication_failure = cause::kAuthenticationFailure,
    integrity_failure = cause::kIntegrityFailure,
    ue_security_capabilities_mismatch = cause::kUeSecurityCapabilitiesMismatch,
    lsb_knrp_sess_id_conflict = cause::kLsbOfKnrpSessIdConflict,
    signalling_security_policy_mismatch = cause::kSignallingSecurityPolicyMismatch,
    required_service_not_allowed = cause::kRequiredServiceNotAllowed,
    security_policy_not_aligned = cause::kSecurityPolicyNotAligned,
    congestion = cause::kCongestionSituation,
    authentication_synchronisation_error = cause::kAuthenticationSynchronisationError,
    protocol_error_unspecified = cause::kProtocolErrorUnspecified,
};

// 4-bit algorithm identities (TS 33.501 A.8 / D): NEA0..3 and NIA0..3. 4..15 are reserved.
inline constexpr std::uint8_t kMaxAlgorithmId = 3;

// Signalling security policy: integrity in bits 1-3, ciphering in bits 5-7 (provisional).
enum class PolicyValue : std::uint8_t { not_needed = 0, preferred = 1, required = 2 };

// Relay indication (type 1 IE, low nibble).
enum class RelayIndication : std::uint8_t {
    direct = 0,
    via_layer2_relay = 1,
    via_layer3_relay = 2
};

// Versions of pc5sec's containers (the first octet of each container).
inline constexpr std::uint8_t kKeyEstInfoVersion = 1;
inline constexpr std::uint8_t kAuthInfoVersion = 1;

// Key_Est_Info (solution A) credential methods and TLV tags (pc5sec's own container format).
// 3: a fresh ephemeral key alone, under keys an existing KD already protects (solution B's
// re-keying, docs/solution-b.md): no certificate, no signature.
enum class KeyEstMethod : std::uint8_t { certificate = 1, psk = 2, ephemeral = 3 };
enum class KeyEstTag : std::uint8_t {
    certificate = 0x01,
    ephemeral_public_key = 0x02,
    signature = 0x03,
    psk_identity = 0x04,
    nonce = 0x05,
    user_info_id = 0x06,
};

// Authentication_Info (solution B) TLV tags and signature algorithms.
enum class AuthInfoTag : std::uint8_t {
    user_info_id = 0x01,
    public_key = 0x02,
    certificate = 0x03,
    signature = 0x04,
    signature_algorithm = 0x05,
    // Solution B hardened mode (docs/solution-b.md): pc5sec's own, provisional.
    nonce = 0x06,                 // 16 octets: the signer's nonce (Nonce_2 in the accept)
    ephemeral_public_key = 0x07,  // X25519, 32 octets: the signer's ephemeral ECDH key
    selected_algorithms = 0x08,   // 1 octet: NEA id (high nibble), NIA id (low nibble)
    signing_time = 0x09,  // 8 octets: the signer's clock, ms since 1970-01-01 UTC (hardened)
};
enum class SignatureAlgorithm : std::uint8_t { ecdsa_p256_sha256 = 1, ed25519 = 2 };

struct CodePoint {
    CodePointKind kind;
    std::uint8_t value;
    const char* name;   // snake_case, as in JSON output and Wireshark field names
    const char* title;  // the 3GPP name
    CodePointStatus status;
    const char* source;
};

// Every row, grouped by kind.
std::span<const CodePoint> code_point_table() noexcept;
// The row of (kind, value), or nullptr.
const CodePoint* find_code_point(CodePointKind kind, std::uint8_t value) noexcept;
// Its name, or "unknown".
const char* code_point_name(CodePointKind kind, std::uint8_t value) noexcept;

// docs/code-points.md, generated from the table.
std::string code_points_markdown();

}  // namespace pc5sec::codec
