#include "pc5sec/code_points.hpp"

#include <array>

#include <fmt/format.h>

#include "pc5sec/kdf.hpp"

namespace pc5sec::codec {
namespace {

using K = CodePointKind;
using S = CodePointStatus;

constexpr const char* kFacts3 = "3gpp-facts.md §3";
constexpr const char* kNs3Draft =
    "ns-3 nr-prose module only, citing TS 24.554 V0.4.0 (a 2021 draft); ns-3 writes it in "
    "decimal (3gpp-facts.md §8)";
constexpr const char* kMsgConfirmed = "3gpp-facts.md §3 (TS 38.508-1 4.7.4)";
constexpr const char* kNs3 =
    "ns-3 nr-prose module, citing TS 24.554 V0.4.0 (a 2021 draft; 3gpp-facts.md §3, §8)";
constexpr const char* kCause =
    "TS 24.554 Table 11.3.8.1 as ns-3 nr-prose cites it (3gpp-facts.md §3, §8)";
constexpr const char* kPc5sec = "pc5sec choice (3gpp-facts.md §3: provisional)";
constexpr const char* kAlg = "3gpp-facts.md §5 (TS 33.501 A.8, D)";
constexpr const char* kOwn = "pc5sec container format (docs/code-points.md)";
constexpr const char* kFc1 = "3gpp-facts.md §1 (TS 33.536 Annex A)";
constexpr const char* kFcOwn =
    "pc5sec's own, outside every FC allocation found (3gpp-facts.md §8; docs/code-points.md)";
constexpr const char* kDisc =
    "TS 24.554 11.2.1 octet layout (confirmed, 3gpp-facts.md §8); the U2U content-type code "
    "(Rel-18 11.2.1a) not found: pc5sec's choice";

#define MT(v, n, t, s, src)              \
    CodePoint {                          \
        K::message_type, v, n, t, s, src \
    }
#define IE(v, n, t, s, src)     \
    CodePoint {                 \
        K::iei, v, n, t, s, src \
    }
#define CA(v, n, t)                             \
    CodePoint {                                 \
        K::cause, v, n, t, S::code_only, kCause \
    }

constexpr CodePoint kTable[] = {
    MT(0x00, "reserved", "reserved", S::provisional, kPc5sec),
    MT(0x01, "establishment_request", "PROSE DIRECT LINK ESTABLISHMENT REQUEST", S::confirmed,
       kMsgConfirmed),
    MT(0x02, "establishment_accept", "PROSE DIRECT LINK ESTABLISHMENT ACCEPT", S::confirmed,
       kMsgConfirmed),
    MT(0x03, "establishment_reject", "PROSE DIRECT LINK ESTABLISHMENT REJECT", S::code_only, kNs3),
    MT(0x04, "modification_request", "PROSE DIRECT LINK MODIFICATION REQUEST (not implemented)",
       S::code_only, kNs3),
    MT(0x05, "modification_accept", "PROSE DIRECT LINK MODIFICATION ACCEPT (not implemented)",
       S::code_only, kNs3),
    MT(0x06, "modification_reject", "PROSE DIRECT LINK MODIFICATION REJECT (not implemented)",
       S::code_only, kNs3),
    MT(0x07, "release_request", "PROSE DIRECT LINK RELEASE REQUEST", S::code_only, kNs3),
    MT(0x08, "release_accept", "PROSE DIRECT LINK RELEASE ACCEPT", S::code_only, kNs3),
    MT(0x09, "authentication_request", "PROSE DIRECT LINK AUTHENTICATION REQUEST", S::provisional,
       kPc5sec),
    MT(0x0a, "authentication_response", "PROSE DIRECT LINK AUTHENTICATION RESPONSE", S::provisional,
       kPc5sec),
    MT(0x0b, "authentication_reject", "PROSE DIRECT LINK AUTHENTICATION REJECT", S::provisional,
       kPc5sec),
    MT(0x0c, "authentication_failure", "PROSE DIRECT LINK AUTHENTICATION FAILURE", S::provisional,
       kPc5sec),
    MT(0x0d, "security_mode_command", "PROSE DIRECT LINK SECURITY MODE COMMAND", S::provisional,
       kPc5sec),
    MT(0x0e, "security_mode_complete", "PROSE DIRECT LINK SECURITY MODE COMPLETE", S::provisional,
       kPc5sec),
    MT(0x0f, "security_mode_reject", "PROSE DIRECT LINK SECURITY MODE REJECT", S::provisional,
       kPc5sec),
    MT(0x10, "rekeying_request", "PROSE DIRECT LINK RE-KEYING REQUEST", S::provisional, kPc5sec),
    MT(0x11, "rekeying_response", "PROSE DIRECT LINK RE-KEYING RESPONSE", S::provisional, kPc5sec),
    MT(0x12, "keepalive_request", "PROSE DIRECT LINK KEEPALIVE REQUEST", S::provisional, kPc5sec),
    MT(0x13, "keepalive_response", "PROSE DIRECT LINK KEEPALIVE RESPONSE", S::provisional, kPc5sec),
    MT(0x14, "identifier_update_request",
       "PROSE DIRECT LINK IDENTIFIER UPDATE REQUEST (TS 24.554 7.2.4; value not found)",
       S::provisional, kPc5sec),
    MT(0x15, "identifier_update_accept",
       "PROSE DIRECT LINK IDENTIFIER UPDATE ACCEPT (TS 24.554 7.2.4; value not found)",
       S::provisional, kPc5sec),
    MT(0x16, "identifier_update_ack",
       "PROSE DIRECT LINK IDENTIFIER UPDATE ACK (TS 24.554 7.2.4; value not found)", S::provisional,
       kPc5sec),
    MT(0x17, "identifier_update_reject",
       "PROSE DIRECT LINK IDENTIFIER UPDATE REJECT (TS 24.554 7.2.4; value not found)",
       S::provisional, kPc5sec),
    MT(0x99, "u2u_relay_discovery_announcement",
       "UE-to-UE relay discovery announcement (restricted, content type 0110, Model A)",
       S::provisional, kDisc),
    MT(0x9a, "u2u_relay_discovery_response",
       "UE-to-UE relay discovery response (restricted, content type 0110, Model B)", S::provisional,
       kDisc),
    MT(0x9e, "u2u_relay_discovery_solicitation",
       "UE-to-UE relay discovery solicitation (restricted, content type 0111, Model B)",
       S::provisional, kDisc),

    IE(0x28, "target_user_info", "Target user info (TLV)", S::confirmed, kFacts3),
    IE(0x29, "u2u_relay_ue_user_info", "UE-to-UE relay UE user info (TLV)", S::provisional,
       kFacts3),
    IE(0x2a, "target_end_ue_l2_id", "Target end UE layer-2 ID (TV, 4)", S::provisional, kFacts3),
    IE(0x2b, "relay_service_code", "Relay service code (TV, 4)", S::provisional, kFacts3),
    IE(0x2c, "multi_hop_path_info", "Multi-hop path info (TLV)", S::provisional, kFacts3),
    IE(0x2e, "end_ue_user_info_list", "End UE user info list (TLV)", S::provisional, kPc5sec),
    IE(0x52, "knrp_id", "KNRP ID (TV, 5)", S::provisional, kNs3Draft),
    IE(0x53, "nonce_1", "Nonce_1 (TV, 17)", S::provisional, kNs3Draft),
    IE(0x54, "msb_knrp_sess_id", "MSB of KNRP-sess ID (TV, 2)", S::provisional, kNs3Draft),
    IE(0x57, "msb_knrp_id", "MSB of KNRP ID (TV, 3)", S::provisional, kPc5sec),
    IE(0x58, "lsb_knrp_id", "LSB of KNRP ID (TV, 3)", S::provisional, kPc5sec),
    IE(0x5b, "max_inactivity_period", "Maximum inactivity period (TV, 5)", S::provisional, kPc5sec),
    IE(0x5c, "identity_protection",
       "Identity protection of an SL-SRB0 message (TLV, 29): RSC, UTC-based counter, "
       "nonce, MIC (docs/discovery.md, request privacy)",
       S::provisional, kPc5sec),
    IE(0x74, "key_est_info", "Key establishment information container (TLV-E)", S::provisional,
       kNs3Draft),
    IE(0x75, "authentication_info", "Authentication_Info (solution B, TLV-E)", S::provisional,
       kPc5sec),
    IE(0x76, "relay_authentication_info", "Relay Authentication_Info (solution B, TLV-E)",
       S::provisional, kPc5sec),
    IE(0xa1, "reauth_indication", "Re-authentication indication (type 2, T)", S::provisional,
       kPc5sec),
    IE(0xb0, "relay_indication", "Relay indication (type 1, TV half octet; IEI B)", S::provisional,
       kFacts3),

    CodePoint{K::cause, 0, "reserved", "reserved", S::provisional, kPc5sec},
    CA(cause::kDirectCommunicationToTargetUeNotAllowed, "direct_communication_not_allowed",
       "direct communication to the target UE not allowed"),
    CA(cause::kDirectCommunicationToTargetUeNoLongerNeeded, "direct_communication_no_longer_needed",
       "direct communication to the target UE no longer needed"),
    CA(cause::kConflictOfLayer2Id, "l2_id_conflict",
       "conflict of layer-2 ID for unicast communication is detected"),
    CA(cause::kDirectConnectionNotAvailableAnymore, "direct_connection_not_available",
       "direct connection is not available anymore"),
    CA(cause::kLackOfResourcesForPc5UnicastLink, "lack_of_resources",
       "lack of resources for PC5 unicast link"),
    CA(cause::kAuthenticationFailure, "authentication_failure", "authentication failure"),
    CA(cause::kIntegrityFailure, "integrity_failure", "integrity failure"),
    CA(cause::kUeSecurityCapabilitiesMismatch, "ue_security_capabilities_mismatch",
       "UE security capabilities mismatch"),
    CA(cause::kLsbOfKnrpSessIdConflict, "lsb_knrp_sess_id_conflict",
       "LSB of KNRP-sess ID conflict"),
    CA(cause::kSignallingSecurityPolicyMismatch, "signalling_security_policy_mismatch",
       "UE PC5 unicast signalling security policy mismatch"),
    CA(cause::kRequiredServiceNotAllowed, "required_service_not_allowed",
       "required service not allowed"),
    CA(cause::kSecurityPolicyNotAligned, "security_policy_not_aligned",
       "security policy not aligned"),
    CA(cause::kCongestionSituation, "congestion", "congestion situation"),
    CA(cause::kAuthenticationSynchronisationError, "authentication_synchronisation_error",
       "authentication synchronisation error"),
    CA(cause::kSecurityProcedureFailureOfU2nRelay, "security_procedure_failure_u2n_relay",
       "security procedure failure of 5G ProSe UE-to-network relay"),
    CA(cause::kProtocolErrorUnspecified, "protocol_error_unspecified",
       "protocol error, unspecified"),

    CodePoint{K::algorithm, 0, "nea0_nia0", "NEA0 / NIA0 (null)", S::confirmed, kAlg},
    CodePoint{K::algorithm, 1, "nea1_nia1", "128-NEA1 / 128-NIA1 (SNOW 3G)", S::confirmed, kAlg},
    CodePoint{K::algorithm, 2, "nea2_nia2", "128-NEA2 / 128-NIA2 (AES)", S::confirmed, kAlg},
    CodePoint{K::algorithm, 3, "nea3_nia3", "128-NEA3 / 128-NIA3 (ZUC)", S::confirmed, kAlg},

    CodePoint{K::signalling_policy, 0, "not_needed",
              "not needed (3 bits; integrity bits 1-3, ciphering bits 5-7)", S::confirmed, kFacts3},
    CodePoint{K::signalling_policy, 1, "preferred", "preferred", S::provisional, kFacts3},
    CodePoint{K::signalling_policy, 2, "required", "required", S::provisional, kFacts3},

    CodePoint{K::relay_indication, 0, "direct", "direct link, no relay", S::provisional, kPc5sec},
    CodePoint{K::relay_indication, 1, "via_layer2_relay", "through a layer-2 UE-to-UE relay",
              S::provisional, kPc5sec},
    CodePoint{K::relay_indication, 2, "via_layer3_relay", "through a layer-3 UE-to-UE relay",
              S::provisional, kPc5sec},

    CodePoint{K::container_version, 1, "v1", "version 1 of Key_Est_Info and of Authentication_Info",
              S::provisional, kOwn},

    CodePoint{K::key_est_method, 1, "certificate", "certificate + signed ephemeral (EC)DH",
              S::provisional, kOwn},
    CodePoint{K::key_est_method, 2, "psk", "pre-shared key", S::provisional, kOwn},
    CodePoint{K::key_est_method, 3, "ephemeral",
              "a fresh ephemeral key alone, inside PC5-S protected end to end (solution B "
              "re-keying)",
              S::provisional, kOwn},

    CodePoint{K::key_est_tag, 0x01, "certificate", "certificate (DER)", S::provisional, kOwn},
    CodePoint{K::key_est_tag, 0x02, "ephemeral_public_key", "ephemeral public key", S::provisional,
              kOwn},
    CodePoint{K::key_est_tag, 0x03, "signature", "signature", S::provisional, kOwn},
    CodePoint{K::key_est_tag, 0x04, "psk_identity", "PSK identity", S::provisional, kOwn},
    CodePoint{K::key_est_tag, 0x05, "nonce", "nonce (16 octets)", S::provisional, kOwn},
    CodePoint{K::key_est_tag, 0x06, "user_info_id", "user info ID", S::provisional, kOwn},

    CodePoint{K::auth_info_tag, 0x01, "user_info_id", "User Info ID", S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x02, "public_key", "public key", S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x03, "certificate", "certificate (DER)", S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x04, "signature", "signature", S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x05, "signature_algorithm", "signature algorithm (1 octet)",
              S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x06, "nonce", "nonce (16 octets; solution B hardened)",
              S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x07, "ephemeral_public_key",
              "ephemeral X25519 public key (solution B hardened)", S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x08, "selected_algorithms",
              "selected security algorithms (1 octet, NEA high nibble, NIA low nibble)",
              S::provisional, kOwn},
    CodePoint{K::auth_info_tag, 0x09, "signing_time",
              "signing time (8 octets, ms since 1970-01-01 UTC; solution B hardened freshness)",
              S::provisional, kOwn},

    CodePoint{K::signature_algorithm, 1, "ecdsa_p256_sha256", "ECDSA P-256 with SHA-256",
              S::provisional, kOwn},
    CodePoint{K::signature_algorithm, 2, "ed25519", "Ed25519", S::provisional, kOwn},

    CodePoint{K::fc, fc::kNrpekNrpik, "nrpek_nrpik", "NRPEK / NRPIK from KNRP-sess (TS 33.536 A.3)",
              S::confirmed, kFc1},
    CodePoint{K::fc, fc::kKnrpSess, "knrp_sess",
              "KNRP-sess from KNRP, Nonce_1, Nonce_2 (TS 33.536 A.2)", S::confirmed, kFc1},
    CodePoint{K::fc, fc::kKnrpCertificate, "knrp_certificate",
              "solution A: KNRP from the certificate-signed ephemeral ECDH (TS 33.536 leaves it "
              "to the method)",
              S::provisional, kFcOwn},
    CodePoint{K::fc, fc::kKnrpPsk, "knrp_psk", "solution A: KNRP from a group key (PSK method)",
              S::provisional, kFcOwn},
    CodePoint{K::fc, fc::kKd, "kd", "solution B hardened: KD from the static and ephemeral ECDH",
              S::provisional, kFcOwn},
    CodePoint{K::fc, fc::kKdSess, "kd_sess", "solution B: KD-sess from KD and the freshness values",
              S::provisional, kFcOwn},
    CodePoint{K::fc, fc::kKdSessRekey, "kd_sess_rekey",
              "solution B re-keying: KD-sess' from KD and fresh nonces", S::provisional, kFcOwn},
    CodePoint{K::fc, fc::kKdHop, "kd_hop",
              "solution B layer-3 path: a hop's key from an ephemeral ECDH", S::provisional,
              kFcOwn},
    CodePoint{K::fc, fc::kRelayHopKey, "relay_hop_key",
              "solution B layer-3 path: the relay's ephemeral key from its hop seed",
              S::provisional, kFcOwn},
    CodePoint{K::fc, fc::kDiscoveryScrambling, "discovery_scrambling",
              "time-hash-bitsequence from DUSK (TS 33.303 A.5; its FC not read)", S::provisional,
              kFcOwn},
    CodePoint{K::fc, fc::kDiscoveryConfidentiality, "discovery_confidentiality",
              "message-specific confidentiality KEY from DUCK (TS 33.303 A.6; its FC not read)",
              S::provisional, kFcOwn},
    CodePoint{K::fc, fc::kRequestPrivacy, "request_privacy",
              "U2U establishment request identity keystream (DUCK, UTC-based counter, RSC, a "
              "fresh nonce): TS 33.503 A.5 with a fresh per-request input",
              S::provisional, kFcOwn},
};

#undef MT
#undef IE
#undef CA

}  // namespace

const char* status_name(CodePointStatus s) noexcept {
    switch (s) {
        case S::confirmed:
            return "confirmed";
        case S::code_only:
            return "code-only";
        case S::provisional:
            return "provisional";
    }
    return "?";
}

const char* kind_name(CodePointKind k) noexcept {
    switch (k) {
        case K::message_type:
            return "message type";
        case K::iei:
            return "IEI";
        case K::cause:
            return "PC5 signalling cause";
        case K::algorithm:
            return "algorithm identity";
        case K::signalling_policy:
            return "signalling security policy value";
        case K::relay_indication:
            return "relay indication";
        case K::container_version:
            return "container version";
        case K::key_est_method:
            return "Key_Est_Info method";
        case K::key_est_tag:
            return "Key_Est_Info tag";
        case K::auth_info_tag:
            return "Authentication_Info tag";
        case K::signature_algorithm:
            return "signature algorithm";
        case K::fc:
            return "KDF FC value";
    }
    return "?";
}

std::span<const CodePoint> code_point_table() noexcept {
    return kTable;
}

const CodePoint* find_code_point(CodePointKind kind, std::uint8_t value) noexcept {
    // An index built once: the codec looks names up for every IE it handles.
    static constexpr std::size_t kKinds = static_cast<std::size_t>(K::fc) + 1;
    static const auto index = [] {
        std::array<std::array<const CodePoint*, 256>, kKinds> idx{};
        for (const auto& row : kTable)
            idx[static_cast<std::size_t>(row.kind)][row.value] = &row;
        return idx;
    }();
    const auto k = static_cast<std::size_t>(kind);
    return k < kKinds ? index[k][value] : nullptr;
}

const char* code_point_name(CodePointKind kind, std::uint8_t value) noexcept {
    const CodePoint* row = find_code_point(kind, value);
    return row ? row->name : "unknown";
}

std::string code_points_markdown() {
    std::string out =
        "# PC5 signalling code points\n\n"
        "Generated by `pc5sec decode --code-points` from the one table in "
        "`src/codec/code_points.cpp`; do not edit by hand.\n\n"
        "- **confirmed**: read in the 3GPP text.\n"
        "- **code-only**: read in open-source code that follows the spec.\n"
        "- **provisional**: chosen by pc5sec; a later release can correct it in one place.\n\n"
        "IE formats follow TS 24.007: V, LV, LV-E, TV, TLV, TLV-E. When a decoder meets an IEI it "
        "does not know in the optional part of a message it skips it by this rule: an IEI with "
        "bit 8 set is a type 1 or type 2 IE, one octet long; an IEI 0x70..0x7F is TLV-E (2-octet "
        "length); any other IEI is TLV (1-octet length).\n\n"
        "Sources. A row marked *ns-3 ... V0.4.0* is backed only by NIST's ns-3 nr-prose module, "
        "which cites TS 24.554 V0.4.0, a 2021 draft: a later release may renumber it. ns-3 also "
        "writes several IEIs as decimal literals (`WriteU8 (74)` for the key establishment "
        "container, IEI 0x74), so the octets of ns-3's own pcaps are not these values: compare "
        "with ns-3 by meaning, not by bytes.\n\n"
        "Choices behind the provisional rows: message types without a public number follow "
        "ns-3's 1..8 in the order of TS 24.554 (0x09..0x17); the UE-to-UE relay discovery "
        "messages use the TS 24.554 11.2.1 one-octet discovery message type (restricted "
        "discovery, 10; content type 0110 announcement/response and 0111 solicitation, "
        "provisional since the Rel-18 U2U codes of 11.2.1a were not found; model bits 01 A, 10 B) "
        "and no sequence number, and travel on LCID 58 (SL-SRB4) with a UTC-based counter LSB "
        "and a MIC after them (docs/discovery.md); an IEI "
        "already named in 3gpp-facts.md §3 keeps that number, others take free numbers of the "
        "right format range (0x7x for TLV-E containers, 0xAx type 2, 0xBx type 1). A cause value "
        "not in the table is kept as it is (TS 24.007 lets a receiver treat it as #111); 0 is "
        "reserved. Containers (Key_Est_Info, Authentication_Info) start with a version octet; a "
        "version-1 reader skips item tags it does not know.\n\n"
        "KDF FC values (TS 33.220 B.2): pc5sec's own values lie outside every allocation found "
        "in the specs it cites: TS 33.501 0x69-0x79, 0x7B-0x7D, 0x83-0x84; TS 33.536 0x7E-0x7F; "
        "TS 33.503 0x88 (DCR confidentiality keystream) and 0x8A (KNRP of a U2N relay); TS "
        "33.533 0x8C-0x8E. The TS 33.220 registry itself was not read. The two discovery "
        "derivations of TS 33.303 A.5 and A.6 have 3GPP FC values that were not found: pc5sec "
        "uses 0xB5 and 0xB6 until they are read.\n";
    std::optional<CodePointKind> current;
    for (const auto& row : kTable) {
        if (row.kind != current) {
            current = row.kind;
            out += fmt::format(
                "\n## {}\n\n| value | name | meaning | status | source |\n"
                "|---|---|---|---|---|\n",
                kind_name(row.kind));
        }
        out += fmt::format("| 0x{:02x} ({}) | `{}` | {} | {} | {} |\n", row.value, row.value,
                           row.name, row.title, status_name(row.status), row.source);
    }
    return out;
}

}  // namespace pc5sec::codec
