/// @file
/// The ONE code-point table of pc5sec's PC5 signalling codec: message types, IEIs, PC5 signalling
/// causes, algorithm identities, policy values, relay indications and container tags. Every row
/// says whether it is confirmed (read in the 3GPP text), code-only (read in open-source code that
/// follows the spec) or provisional (chosen by pc5sec; see shared/reference/3gpp-facts.md), and
/// where it comes from. Nothing else in pc5sec hard-codes these numbers: use the enums below, and
/// `code_point_table()` for the status and source (docs/code-points.md is generated from it).
#pragma once

#include <cstdint>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include "pc5sec/pc5_cause.hpp"

namespace pc5sec::codec {

/// Whether a code point is confirmed, code-only or provisional.
enum class CodePointStatus : std::uint8_t {
    confirmed,   ///< read in the 3GPP text
    code_only,   ///< read in open-source code that follows the spec
    provisional  ///< chosen by pc5sec; see shared/reference/3gpp-facts.md
};
/// The status's name: "confirmed", "code-only", "provisional".
const char* status_name(CodePointStatus s) noexcept;

/// Which table a code point belongs to.
enum class CodePointKind : std::uint8_t {
    message_type,         ///< message type
    iei,                  ///< IEI
    cause,                ///< PC5 signalling cause
    algorithm,            ///< algorithm identity
    signalling_policy,    ///< signalling security policy value
    relay_indication,     ///< relay indication
    container_version,    ///< container version
    key_est_method,       ///< Key_Est_Info method
    key_est_tag,          ///< Key_Est_Info tag
    auth_info_tag,        ///< Authentication_Info tag
    signature_algorithm,  ///< signature algorithm
    fc,                   ///< KDF FC value (TS 33.220 B.2) used by pc5sec
};
/// The kind's name ("message type", "IEI", ...).
const char* kind_name(CodePointKind k) noexcept;

/// PC5 signalling message types (octet 1). Value 0 is reserved.
enum class MessageType : std::uint8_t {
    reserved = 0x00,                 ///< reserved
    establishment_request = 0x01,    ///< PROSE DIRECT LINK ESTABLISHMENT REQUEST
    establishment_accept = 0x02,     ///< PROSE DIRECT LINK ESTABLISHMENT ACCEPT
    establishment_reject = 0x03,     ///< PROSE DIRECT LINK ESTABLISHMENT REJECT
    modification_request = 0x04,     ///< PROSE DIRECT LINK MODIFICATION REQUEST (not implemented);
                                     ///< known, not implemented by pc5sec
    modification_accept = 0x05,      ///< PROSE DIRECT LINK MODIFICATION ACCEPT (not implemented)
    modification_reject = 0x06,      ///< PROSE DIRECT LINK MODIFICATION REJECT (not implemented)
    release_request = 0x07,          ///< PROSE DIRECT LINK RELEASE REQUEST
    release_accept = 0x08,           ///< PROSE DIRECT LINK RELEASE ACCEPT
    authentication_request = 0x09,   ///< PROSE DIRECT LINK AUTHENTICATION REQUEST
    authentication_response = 0x0a,  ///< PROSE DIRECT LINK AUTHENTICATION RESPONSE
    authentication_reject = 0x0b,    ///< PROSE DIRECT LINK AUTHENTICATION REJECT
    authentication_failure = 0x0c,   ///< PROSE DIRECT LINK AUTHENTICATION FAILURE
    security_mode_command = 0x0d,    ///< PROSE DIRECT LINK SECURITY MODE COMMAND
    security_mode_complete = 0x0e,   ///< PROSE DIRECT LINK SECURITY MODE COMPLETE
    security_mode_reject = 0x0f,     ///< PROSE DIRECT LINK SECURITY MODE REJECT
    rekeying_request = 0x10,         ///< PROSE DIRECT LINK RE-KEYING REQUEST
    rekeying_response = 0x11,        ///< PROSE DIRECT LINK RE-KEYING RESPONSE
    keepalive_request = 0x12,        ///< PROSE DIRECT LINK KEEPALIVE REQUEST
    keepalive_response = 0x13,       ///< PROSE DIRECT LINK KEEPALIVE RESPONSE
    /// PROSE DIRECT LINK IDENTIFIER UPDATE REQUEST (TS 24.554 7.2.4)
    identifier_update_request = 0x14,
    identifier_update_accept = 0x15,  ///< PROSE DIRECT LINK IDENTIFIER UPDATE ACCEPT
    identifier_update_ack = 0x16,     ///< PROSE DIRECT LINK IDENTIFIER UPDATE ACK
    identifier_update_reject = 0x17,  ///< PROSE DIRECT LINK IDENTIFIER UPDATE REJECT
    // UE-to-UE relay discovery: the one-octet "ProSe direct discovery PC5 message type" of
    // TS 24.554 11.2.1 (bits 8-7 discovery type, 10 restricted; bits 6-3 content type, U2U
    // codes provisional; bits 2-1 model). No sequence number follows. Open discovery (bits 8-7
    // 01) is the same message with the discovery type changed (discovery::kOpen).
    u2u_relay_discovery_announcement = 0x99,  ///< UE-to-UE relay discovery announcement (Model A)
    u2u_relay_discovery_solicitation = 0x9e,  ///< UE-to-UE relay discovery solicitation (Model B)
    u2u_relay_discovery_response = 0x9a,      ///< UE-to-UE relay discovery response (Model B)
};

/// Whether `t` is a discovery message type (TS 24.554 11.2.1 header: no sequence number).
constexpr bool is_discovery(MessageType t) noexcept {
    return t == MessageType::u2u_relay_discovery_announcement ||
           t == MessageType::u2u_relay_discovery_solicitation ||
           t == MessageType::u2u_relay_discovery_response;
}

/// Information element identifiers. Type 1 IEIs are the high nibble (value in the low nibble);
/// the enum holds the nibble shifted into place (0xB0 = IEI B).
enum class Iei : std::uint8_t {
    target_user_info = 0x28,        ///< Target user info (TLV)
    u2u_relay_ue_user_info = 0x29,  ///< UE-to-UE relay UE user info (TLV)
    target_end_ue_l2_id = 0x2a,     ///< Target end UE layer-2 ID (TV, 4)
    relay_service_code = 0x2b,      ///< Relay service code (TV, 4)
    multi_hop_path_info = 0x2c,     ///< Multi-hop path info (TLV)
    end_ue_user_info_list = 0x2e,   ///< End UE user info list (TLV)
    knrp_id = 0x52,                 ///< KNRP ID (TV, 5)
    nonce_1 = 0x53,                 ///< Nonce_1 (TV, 17)
    msb_knrp_sess_id = 0x54,        ///< MSB of KNRP-sess ID (TV, 2)
    msb_knrp_id = 0x57,             ///< MSB of KNRP ID (TV, 3)
    lsb_knrp_id = 0x58,             ///< LSB of KNRP ID (TV, 3)
    max_inactivity_period = 0x5b,   ///< Maximum inactivity period (TV, 5)
    /// Identity protection of an SL-SRB0 message (TLV, 29: RSC, UTC-based counter,
    /// nonce, MIC; pc5sec/request_privacy.hpp)
    identity_protection = 0x5c,
    key_est_info = 0x74,               ///< Key establishment information container (TLV-E)
    authentication_info = 0x75,        ///< Authentication_Info (solution B, TLV-E)
    relay_authentication_info = 0x76,  ///< Relay Authentication_Info (solution B, TLV-E)
    reauth_indication = 0xa1,          ///< Re-authentication indication (type 2, T)
    /// Relay indication (type 1, TV half octet; IEI B); type 1, IEI in the high nibble
    relay_indication = 0xb0,
};

/// PC5 signalling protocol causes (TS 24.554 Table 11.3.8.1 via ns-3), numbered from
/// pc5_cause.hpp. 0 is reserved.
enum class Cause : std::uint8_t {
    /// direct communication to the target UE not allowed
    direct_communication_not_allowed = cause::kDirectCommunicationToTargetUeNotAllowed,
    /// direct communication to the target UE no longer needed
    direct_communication_no_longer_needed = cause::kDirectCommunicationToTargetUeNoLongerNeeded,
    /// conflict of layer-2 ID for unicast communication is detected
    l2_id_conflict = cause::kConflictOfLayer2Id,
    /// direct connection is not available anymore
    direct_connection_not_available = cause::kDirectConnectionNotAvailableAnymore,
    /// lack of resources for PC5 unicast link
    lack_of_resources = cause::kLackOfResourcesForPc5UnicastLink,
    /// authentication failure
    authentication_failure = cause::kAuthenticationFailure,
    /// integrity failure
    integrity_failure = cause::kIntegrityFailure,
    /// UE security capabilities mismatch
    ue_security_capabilities_mismatch = cause::kUeSecurityCapabilitiesMismatch,
    /// LSB of KNRP-sess ID conflict
    lsb_knrp_sess_id_conflict = cause::kLsbOfKnrpSessIdConflict,
    /// UE PC5 unicast signalling security policy mismatch
    signalling_security_policy_mismatch = cause::kSignallingSecurityPolicyMismatch,
    /// required service not allowed
    required_service_not_allowed = cause::kRequiredServiceNotAllowed,
    /// security policy not aligned
    security_policy_not_aligned = cause::kSecurityPolicyNotAligned,
    /// congestion situation
    congestion = cause::kCongestionSituation,
    /// authentication synchronisation error
    authentication_synchronisation_error = cause::kAuthenticationSynchronisationError,
    /// security procedure failure of 5G ProSe UE-to-network relay (not sent by pc5sec)
    security_procedure_failure_u2n_relay = cause::kSecurityProcedureFailureOfU2nRelay,
    /// protocol error, unspecified
    protocol_error_unspecified = cause::kProtocolErrorUnspecified,
};

/// 4-bit algorithm identities (TS 33.501 A.8 / D): NEA0..3 and NIA0..3. 4..15 are reserved.
inline constexpr std::uint8_t kMaxAlgorithmId = 3;

/// Signalling security policy: integrity in bits 1-3, ciphering in bits 5-7 (provisional).
enum class PolicyValue : std::uint8_t {
    not_needed = 0,  ///< not needed (3 bits; integrity bits 1-3, ciphering bits 5-7)
    preferred = 1,   ///< preferred
    required = 2     ///< required
};

/// Relay indication (type 1 IE, low nibble).
enum class RelayIndication : std::uint8_t {
    direct = 0,            ///< direct link, no relay
    via_layer2_relay = 1,  ///< through a layer-2 UE-to-UE relay
    via_layer3_relay = 2   ///< through a layer-3 UE-to-UE relay
};

// Versions of pc5sec's containers (the first octet of each container).
/// The version of pc5sec's Key_Est_Info container (its first octet).
inline constexpr std::uint8_t kKeyEstInfoVersion = 1;
/// The version of pc5sec's Authentication_Info container (its first octet).
inline constexpr std::uint8_t kAuthInfoVersion = 1;

/// Key_Est_Info (solution A) credential methods (pc5sec's own container format).
/// 3: a fresh ephemeral key alone, under keys an existing KD already protects (solution B's
/// re-keying, docs/solution-b.md): no certificate, no signature.
enum class KeyEstMethod : std::uint8_t {
    certificate = 1,  ///< certificate + signed ephemeral (EC)DH
    psk = 2,          ///< pre-shared key
    ephemeral = 3  ///< a fresh ephemeral key alone, inside PC5-S protected end to end (solution B
                   ///< re-keying)
};
/// Key_Est_Info (solution A) TLV tags (pc5sec's own container format).
enum class KeyEstTag : std::uint8_t {
    certificate = 0x01,           ///< certificate (DER)
    ephemeral_public_key = 0x02,  ///< ephemeral public key
    signature = 0x03,             ///< signature
    psk_identity = 0x04,          ///< PSK identity
    nonce = 0x05,                 ///< nonce (16 octets)
    user_info_id = 0x06,          ///< user info ID
};

/// Authentication_Info (solution B) TLV tags.
enum class AuthInfoTag : std::uint8_t {
    user_info_id = 0x01,         ///< User Info ID
    public_key = 0x02,           ///< public key
    certificate = 0x03,          ///< certificate (DER)
    signature = 0x04,            ///< signature
    signature_algorithm = 0x05,  ///< signature algorithm (1 octet)
    // Solution B hardened mode (docs/solution-b.md): pc5sec's own, provisional.
    nonce = 0x06,                 ///< 16 octets: the signer's nonce (Nonce_2 in the accept)
    ephemeral_public_key = 0x07,  ///< X25519, 32 octets: the signer's ephemeral ECDH key
    selected_algorithms = 0x08,   ///< 1 octet: NEA id (high nibble), NIA id (low nibble)
    signing_time = 0x09,  ///< 8 octets: the signer's clock, ms since 1970-01-01 UTC (hardened)
};
/// Authentication_Info (solution B) signature algorithms.
enum class SignatureAlgorithm : std::uint8_t {
    ecdsa_p256_sha256 = 1,  ///< ECDSA P-256 with SHA-256
    ed25519 = 2             ///< Ed25519
};

/// One row of the code-point table.
struct CodePoint {
    CodePointKind kind;      ///< the table it belongs to
    std::uint8_t value;      ///< the code point
    const char* name;        ///< snake_case, as in JSON output and Wireshark field names
    const char* title;       ///< the 3GPP name
    CodePointStatus status;  ///< confirmed, code-only or provisional
    const char* source;      ///< where it comes from
};

/// Every row, grouped by kind.
std::span<const CodePoint> code_point_table() noexcept;
/// The row of (kind, value), or nullptr.
const CodePoint* find_code_point(CodePointKind kind, std::uint8_t value) noexcept;
/// Its name, or "unknown".
const char* code_point_name(CodePointKind kind, std::uint8_t value) noexcept;

/// docs/code-points.md, generated from the table.
std::string code_points_markdown();

}  // namespace pc5sec::codec
