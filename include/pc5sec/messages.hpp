/// @file
/// PC5 signalling messages (TS 24.554, all prefixed PROSE DIRECT LINK) and pc5sec's UE-to-UE relay
/// discovery messages: one struct per message, in 3GPP terms, plus the two containers the
/// solutions carry (solution A Key_Est_Info, solution B Authentication_Info).
///
/// Each struct lists its IEs once, in wire order, in `fields()`: the encoder, the decoder, the JSON
/// and text printers and the Wireshark schema all walk that one list. Octet strings are views
/// (`Octets`) into the decoded buffer or the caller's storage: a decoded message is valid only
/// while the buffer it came from is. The code points come from code_points.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "pc5sec/code_points.hpp"
#include "pc5sec/keys.hpp"

namespace pc5sec::codec {

/// A non-owning octet string that compares by content. Never empty on the wire.
struct Octets {
    std::span<const std::uint8_t> bytes;  ///< the octets (a view)
    /// The number of octets.
    std::size_t size() const noexcept { return bytes.size(); }
    /// Same content.
    friend bool operator==(const Octets& a, const Octets& b) {
        return std::equal(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end());
    }
};

/// UE security capabilities (TS 24.554; 3gpp-facts §3): octet 1 is the 5G-EA0..7 bitmap with
/// bit 8 = EA0, octet 2 the 5G-IA0..7 bitmap with bit 8 = IA0.
struct UeSecurityCapabilities {
    std::uint8_t ea = 0;  ///< octet 1: the 5G-EA0..7 bitmap, bit 8 = EA0
    std::uint8_t ia = 0;  ///< octet 2: the 5G-IA0..7 bitmap, bit 8 = IA0
    /// Equal values.
    friend bool operator==(UeSecurityCapabilities, UeSecurityCapabilities) = default;
};

/// UE PC5 unicast signalling security policy: integrity in bits 1-3, ciphering in bits 5-7.
struct SignallingSecurityPolicy {
    PolicyValue integrity = PolicyValue::not_needed;  ///< bits 1-3
    PolicyValue ciphering = PolicyValue::not_needed;  ///< bits 5-7
    /// Equal values.
    friend bool operator==(SignallingSecurityPolicy, SignallingSecurityPolicy) = default;
};

/// Selected security algorithms: ciphering in the high nibble, integrity in the low nibble.
struct SecurityAlgorithms {
    std::uint8_t ciphering = 0;  ///< NEA id 0..3
    std::uint8_t integrity = 0;  ///< NIA id 0..3
    /// Equal values.
    friend bool operator==(SecurityAlgorithms, SecurityAlgorithms) = default;
};

/// A layer-2 ID (24 bits).
struct Layer2Id {             // 24 bits
    std::uint32_t value = 0;  ///< the 24-bit value
    /// Equal values.
    friend bool operator==(Layer2Id, Layer2Id) = default;
};
/// A relay service code (24 bits).
struct RelayServiceCode {     // 24 bits
    std::uint32_t value = 0;  ///< the 24-bit value
    /// Equal values.
    friend bool operator==(RelayServiceCode, RelayServiceCode) = default;
};
/// One half of a KNRP ID (16 bits, the provisional split of 3gpp-facts §2).
struct KnrpIdHalf {
    std::uint16_t value = 0;  ///< the 16-bit half
    /// Equal values.
    friend bool operator==(KnrpIdHalf, KnrpIdHalf) = default;
};

// ---- containers ----

/// Solution A Key_Est_Info (seed 000 steps 2-3): version octet, method octet, then TLVs of tag (1),
/// length (2), value. `certificate` requires a signature, and certificate and
/// ephemeral_public_key together (an offer) or neither (the initiator's transcript signature);
/// `psk` requires psk_identity and nonce.
struct KeyEstInfo {
    std::uint8_t version = kKeyEstInfoVersion;        ///< the version octet
    KeyEstMethod method = KeyEstMethod::certificate;  ///< the method octet
    std::optional<Octets> certificate;                ///< certificate (DER)
    std::optional<Octets> ephemeral_public_key;       ///< ephemeral public key
    std::optional<Octets> signature;                  ///< signature
    std::optional<Octets> psk_identity;               ///< PSK identity
    std::optional<Nonce> nonce;                       ///< nonce (16 octets)
    std::optional<Octets> user_info_id;               ///< user info ID
    /// Equal fields.
    friend bool operator==(const KeyEstInfo&, const KeyEstInfo&) = default;
};

/// The signing_time item's 8 octets (big-endian), as sent and as signed.
inline std::array<std::uint8_t, 8> signing_time_octets(std::uint64_t ms) {
    std::array<std::uint8_t, 8> out{};
    for (int i = 7; i >= 0; --i, ms >>= 8)
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms);
    return out;
}

/// Solution B Authentication_Info (seed 001 steps 1, 3, 5, 7): version octet, then TLVs of tag
/// (1), length (2), value. user_info_id, signature_algorithm and signature are mandatory; exactly
/// one of public_key and certificate. nonce, ephemeral_public_key and selected_algorithms are
/// optional (solution B: the hardened mode's nonce and ephemeral key, the target's algorithm
/// choice).
struct AuthenticationInfo {
    std::uint8_t version = kAuthInfoVersion;  ///< the version octet
    Octets user_info_id;                      ///< User Info ID
    std::optional<Octets> public_key;         ///< public key
    std::optional<Octets> certificate;        ///< certificate (DER)
    /// signature algorithm (1 octet)
    SignatureAlgorithm signature_algorithm = SignatureAlgorithm::ecdsa_p256_sha256;
    Octets signature;            ///< signature
    std::optional<Nonce> nonce;  ///< nonce (16 octets; solution B hardened)
    /// ephemeral X25519 public key (solution B hardened)
    std::optional<Octets> ephemeral_public_key;
    /// selected security algorithms (1 octet, NEA high nibble, NIA low nibble)
    std::optional<SecurityAlgorithms> selected_algorithms;
    /// Solution B hardened: when the signer signed, by its own clock (ms since the Unix epoch).
    std::optional<std::uint64_t> signing_time;
    /// Equal fields.
    friend bool operator==(const AuthenticationInfo&, const AuthenticationInfo&) = default;
};

// ---- messages ----
// Visitor calls: v (mandatory V), lv / lve (mandatory LV / LV-E), tv / tlv / tlve (optional),
// t1 (optional type 1, half octet), t2 (optional type 2, presence only).

/// The members every message struct has: kType (its message type), seq (the PC5 signalling
/// sequence number, octet 2) and ==.
#define PC5SEC_MESSAGE(Name, type)                                      \
    static constexpr MessageType kType = MessageType::type;             \
    std::uint8_t seq = 0; /* PC5 signalling sequence number, octet 2 */ \
    friend bool operator==(const Name&, const Name&) = default

/// PROSE DIRECT LINK ESTABLISHMENT REQUEST.
struct DirectLinkEstablishmentRequest {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkEstablishmentRequest, establishment_request);
    Octets source_user_info;                          ///< Source user info (mandatory, LV)
    Octets prose_identifiers;                         ///< ProSe identifiers (mandatory, LV)
    UeSecurityCapabilities ue_security_capabilities;  ///< UE security capabilities (mandatory, LV)
    /// Signalling security policy (mandatory, V)
    SignallingSecurityPolicy signalling_security_policy;
    std::optional<Octets> target_user_info;        ///< Target user info (optional, TLV)
    std::optional<KnrpId> knrp_id;                 ///< KNRP ID (optional, TV, 5)
    std::optional<Nonce> nonce_1;                  ///< Nonce_1 (optional, TV, 17)
    std::optional<std::uint8_t> msb_knrp_sess_id;  ///< MSB of KNRP-sess ID (optional, TV, 2)
    /// Key establishment information container (optional, TLV-E)
    std::optional<KeyEstInfo> key_est_info;
    std::optional<Octets> u2u_relay_ue_user_info;  ///< UE-to-UE relay UE user info (optional, TLV)
    std::optional<Layer2Id> target_end_ue_l2_id;   ///< Target end UE layer-2 ID (optional, TV, 4)
    /// Relay indication (optional, type 1, TV half octet; IEI B)
    std::optional<RelayIndication> relay_indication;
    std::optional<RelayServiceCode> relay_service_code;  ///< Relay service code (optional, TV, 4)
    std::optional<Octets> multi_hop_path_info;           ///< Multi-hop path info (optional, TLV)
    /// Authentication_Info (optional, solution B, TLV-E)
    std::optional<AuthenticationInfo> authentication_info;
    /// Relay Authentication_Info (optional, solution B, TLV-E)
    std::optional<AuthenticationInfo> relay_authentication_info;
    /// Identity protection (optional, TLV, pc5sec's own): present on the air when the
    /// identities are concealed (pc5sec/request_privacy.hpp adds and removes it, never the
    /// engines' messages)
    std::optional<Octets> identity_protection;
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lv("source_user_info", m.source_user_info);
        f.lv("prose_identifiers", m.prose_identifiers);
        f.lv("ue_security_capabilities", m.ue_security_capabilities);
        f.v("signalling_security_policy", m.signalling_security_policy);
        f.tlv(Iei::target_user_info, m.target_user_info);
        f.tv(Iei::knrp_id, m.knrp_id);
        f.tv(Iei::nonce_1, m.nonce_1);
        f.tv(Iei::msb_knrp_sess_id, m.msb_knrp_sess_id);
        f.tlve(Iei::key_est_info, m.key_est_info);
        f.tlv(Iei::u2u_relay_ue_user_info, m.u2u_relay_ue_user_info);
        f.tv(Iei::target_end_ue_l2_id, m.target_end_ue_l2_id);
        f.t1(Iei::relay_indication, m.relay_indication);
        f.tv(Iei::relay_service_code, m.relay_service_code);
        f.tlv(Iei::multi_hop_path_info, m.multi_hop_path_info);
        f.tlve(Iei::authentication_info, m.authentication_info);
        f.tlve(Iei::relay_authentication_info, m.relay_authentication_info);
        f.tlv(Iei::identity_protection, m.identity_protection);
    }
};

/// PROSE DIRECT LINK ESTABLISHMENT ACCEPT.
struct DirectLinkEstablishmentAccept {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkEstablishmentAccept, establishment_accept);
    Octets source_user_info;  ///< Source user info (mandatory, LV)
    /// Key establishment information container (optional, TLV-E)
    std::optional<KeyEstInfo> key_est_info;
    /// Relay indication (optional, type 1, TV half octet; IEI B)
    std::optional<RelayIndication> relay_indication;
    /// Authentication_Info (optional, solution B, TLV-E)
    std::optional<AuthenticationInfo> authentication_info;
    /// Relay Authentication_Info (optional, solution B, TLV-E)
    std::optional<AuthenticationInfo> relay_authentication_info;
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lv("source_user_info", m.source_user_info);
        f.tlve(Iei::key_est_info, m.key_est_info);
        f.t1(Iei::relay_indication, m.relay_indication);
        f.tlve(Iei::authentication_info, m.authentication_info);
        f.tlve(Iei::relay_authentication_info, m.relay_authentication_info);
    }
};

/// The messages that carry only a PC5 signalling cause.
#define PC5SEC_CAUSE_MESSAGE(Name, type)                 \
    struct Name {                                        \
        PC5SEC_MESSAGE(Name, type);                      \
        Cause cause = Cause::protocol_error_unspecified; \
        template <class F, class M>                      \
        static void fields(F& f, M& m) {                 \
            f.v("cause", m.cause);                       \
        }                                                \
    }

/// PROSE DIRECT LINK ESTABLISHMENT REJECT.
PC5SEC_CAUSE_MESSAGE(DirectLinkEstablishmentReject, establishment_reject);
/// PROSE DIRECT LINK AUTHENTICATION REJECT.
PC5SEC_CAUSE_MESSAGE(DirectLinkAuthenticationReject, authentication_reject);
/// PROSE DIRECT LINK SECURITY MODE REJECT.
PC5SEC_CAUSE_MESSAGE(DirectLinkSecurityModeReject, security_mode_reject);
/// PROSE DIRECT LINK RELEASE REQUEST.
PC5SEC_CAUSE_MESSAGE(DirectLinkReleaseRequest, release_request);

/// PROSE DIRECT LINK AUTHENTICATION REQUEST.
struct DirectLinkAuthenticationRequest {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkAuthenticationRequest, authentication_request);
    KeyEstInfo key_est_info;  ///< Key establishment information container (mandatory, LV-E)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lve("key_est_info", m.key_est_info);
    }
};

/// PROSE DIRECT LINK AUTHENTICATION RESPONSE.
struct DirectLinkAuthenticationResponse {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkAuthenticationResponse, authentication_response);
    KeyEstInfo key_est_info;  ///< Key establishment information container (mandatory, LV-E)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lve("key_est_info", m.key_est_info);
    }
};

/// PROSE DIRECT LINK AUTHENTICATION FAILURE.
struct DirectLinkAuthenticationFailure {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkAuthenticationFailure, authentication_failure);
    Cause cause = Cause::authentication_failure;  ///< PC5 signalling cause (mandatory, V)
    /// Key establishment information container (optional, TLV-E)
    std::optional<KeyEstInfo> key_est_info;
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("cause", m.cause);
        f.tlve(Iei::key_est_info, m.key_est_info);
    }
};

/// PROSE DIRECT LINK SECURITY MODE COMMAND.
/// Seed 000 step 4: carries Nonce_2, the LSB of KNRP-sess ID, the MSB of KNRP ID (when a new KNRP
/// was derived), the selected algorithms and the echoed capabilities and policy.
struct DirectLinkSecurityModeCommand {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkSecurityModeCommand, security_mode_command);
    SecurityAlgorithms selected_algorithms;  ///< Selected security algorithms (mandatory, V)
    UeSecurityCapabilities ue_security_capabilities;  ///< UE security capabilities (mandatory, LV)
    /// Signalling security policy (mandatory, V)
    SignallingSecurityPolicy signalling_security_policy;
    Nonce nonce_2{};                        ///< Nonce_2 (mandatory, V)
    std::uint8_t lsb_knrp_sess_id = 0;      ///< LSB of KNRP-sess ID (mandatory, V)
    std::optional<KnrpIdHalf> msb_knrp_id;  ///< MSB of KNRP ID (optional, TV, 3)
    /// Key establishment information container (optional, TLV-E)
    std::optional<KeyEstInfo> key_est_info;
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("selected_algorithms", m.selected_algorithms);
        f.lv("ue_security_capabilities", m.ue_security_capabilities);
        f.v("signalling_security_policy", m.signalling_security_policy);
        f.v("nonce_2", m.nonce_2);
        f.v("lsb_knrp_sess_id", m.lsb_knrp_sess_id);
        f.tv(Iei::msb_knrp_id, m.msb_knrp_id);
        f.tlve(Iei::key_est_info, m.key_est_info);
    }
};

/// PROSE DIRECT LINK SECURITY MODE COMPLETE.
/// Seed 000 step 5: carries the LSB of KNRP ID when a new KNRP was derived.
struct DirectLinkSecurityModeComplete {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkSecurityModeComplete, security_mode_complete);
    std::optional<KnrpIdHalf> lsb_knrp_id;  ///< LSB of KNRP ID (optional, TV, 3)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.tv(Iei::lsb_knrp_id, m.lsb_knrp_id);
    }
};

/// PROSE DIRECT LINK RELEASE ACCEPT.
struct DirectLinkReleaseAccept {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkReleaseAccept, release_accept);
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F&, M&) {}
};

/// PROSE DIRECT LINK RE-KEYING REQUEST.
struct DirectLinkRekeyingRequest {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkRekeyingRequest, rekeying_request);
    UeSecurityCapabilities ue_security_capabilities;  ///< UE security capabilities (mandatory, LV)
    Nonce nonce_1{};                                  ///< Nonce_1 (mandatory, V)
    std::uint8_t msb_knrp_sess_id = 0;                ///< MSB of KNRP-sess ID (mandatory, V)
    /// Key establishment information container (optional, TLV-E)
    std::optional<KeyEstInfo> key_est_info;
    bool reauth_indication = false;  ///< Re-authentication indication (optional, type 2, T)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lv("ue_security_capabilities", m.ue_security_capabilities);
        f.v("nonce_1", m.nonce_1);
        f.v("msb_knrp_sess_id", m.msb_knrp_sess_id);
        f.tlve(Iei::key_est_info, m.key_est_info);
        f.t2(Iei::reauth_indication, m.reauth_indication);
    }
};

/// PROSE DIRECT LINK RE-KEYING RESPONSE.
struct DirectLinkRekeyingResponse {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkRekeyingResponse, rekeying_response);
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F&, M&) {}
};

/// PROSE DIRECT LINK KEEPALIVE REQUEST.
struct DirectLinkKeepaliveRequest {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkKeepaliveRequest, keepalive_request);
    std::uint32_t keepalive_counter = 0;  ///< Keep-alive counter (mandatory, V)
    /// Maximum inactivity period (optional, TV, 5); seconds
    std::optional<std::uint32_t> max_inactivity_period;
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("keepalive_counter", m.keepalive_counter);
        f.tv(Iei::max_inactivity_period, m.max_inactivity_period);
    }
};

/// PROSE DIRECT LINK KEEPALIVE RESPONSE.
struct DirectLinkKeepaliveResponse {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkKeepaliveResponse, keepalive_response);
    std::uint32_t keepalive_counter = 0;  ///< Keep-alive counter (mandatory, V)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("keepalive_counter", m.keepalive_counter);
    }
};

/// PROSE DIRECT LINK IDENTIFIER UPDATE REQUEST (TS 24.554 7.2.4, TS 33.536): the sender's new
/// layer-2 ID for the link, with the MSB of the new KNRP-sess ID and a fresh Nonce_1 (the new
/// session key, so that PDCP COUNTs restart under a key never used before). Sent under the
/// link's current keys and L2 IDs.
struct DirectLinkIdentifierUpdateRequest {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkIdentifierUpdateRequest, identifier_update_request);
    Layer2Id new_l2_id;                 ///< the sender's new layer-2 ID (mandatory, V, 3)
    std::uint8_t msb_knrp_sess_id = 0;  ///< MSB of the new KNRP-sess ID (mandatory, V)
    Nonce nonce_1{};                    ///< Nonce_1 (mandatory, V)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("new_l2_id", m.new_l2_id);
        f.v("msb_knrp_sess_id", m.msb_knrp_sess_id);
        f.v("nonce_1", m.nonce_1);
    }
};

/// PROSE DIRECT LINK IDENTIFIER UPDATE ACCEPT: the responder's new layer-2 ID, the LSB of the
/// new KNRP-sess ID and Nonce_2, with the requester's new identifiers echoed (TS 24.554 7.2.4.3).
struct DirectLinkIdentifierUpdateAccept {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkIdentifierUpdateAccept, identifier_update_accept);
    Layer2Id new_l2_id;                 ///< the responder's new layer-2 ID (mandatory, V, 3)
    std::uint8_t lsb_knrp_sess_id = 0;  ///< LSB of the new KNRP-sess ID (mandatory, V)
    Nonce nonce_2{};                    ///< Nonce_2 (mandatory, V)
    Layer2Id requester_new_l2_id;       ///< echo of the request's (mandatory, V, 3)
    std::uint8_t requester_msb_knrp_sess_id = 0;  ///< echo of the request's MSB (mandatory, V)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("new_l2_id", m.new_l2_id);
        f.v("lsb_knrp_sess_id", m.lsb_knrp_sess_id);
        f.v("nonce_2", m.nonce_2);
        f.v("requester_new_l2_id", m.requester_new_l2_id);
        f.v("requester_msb_knrp_sess_id", m.requester_msb_knrp_sess_id);
    }
};

/// PROSE DIRECT LINK IDENTIFIER UPDATE ACK: the responder's new identifiers echoed; both ends
/// use the new ones from here (TS 24.554 7.2.4.4).
struct DirectLinkIdentifierUpdateAck {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(DirectLinkIdentifierUpdateAck, identifier_update_ack);
    Layer2Id responder_new_l2_id;                 ///< echo of the accept's (mandatory, V, 3)
    std::uint8_t responder_lsb_knrp_sess_id = 0;  ///< echo of the accept's LSB (mandatory, V)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("responder_new_l2_id", m.responder_new_l2_id);
        f.v("responder_lsb_knrp_sess_id", m.responder_lsb_knrp_sess_id);
    }
};

/// PROSE DIRECT LINK IDENTIFIER UPDATE REJECT (TS 24.554 7.2.4.5): #3 when the new layer-2 ID
/// conflicts, #14 for an update the responder cannot take now.
PC5SEC_CAUSE_MESSAGE(DirectLinkIdentifierUpdateReject, identifier_update_reject);

/// UE-to-UE relay discovery announcement (Model A).
/// Model A: the relay announces its relay service code and user info ID.
struct U2uRelayDiscoveryAnnouncement {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(U2uRelayDiscoveryAnnouncement, u2u_relay_discovery_announcement);
    RelayServiceCode relay_service_code;          ///< Relay service code (mandatory, V)
    Octets relay_user_info;                       ///< Relay user info (mandatory, LV)
    std::optional<Octets> end_ue_user_info_list;  ///< End UE user info list (optional, TLV)
    /// Authentication_Info (optional, solution B, TLV-E)
    std::optional<AuthenticationInfo> authentication_info;
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("relay_service_code", m.relay_service_code);
        f.lv("relay_user_info", m.relay_user_info);
        f.tlv(Iei::end_ue_user_info_list, m.end_ue_user_info_list);
        f.tlve(Iei::authentication_info, m.authentication_info);
    }
};

/// UE-to-UE relay discovery solicitation (Model B).
/// Model B: an end UE looks for a relay (and, optionally, a target UE behind it).
struct U2uRelayDiscoverySolicitation {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(U2uRelayDiscoverySolicitation, u2u_relay_discovery_solicitation);
    RelayServiceCode relay_service_code;     ///< Relay service code (mandatory, V)
    Octets discoverer_user_info;             ///< Discoverer user info (mandatory, LV)
    std::optional<Octets> target_user_info;  ///< Target user info (optional, TLV)
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("relay_service_code", m.relay_service_code);
        f.lv("discoverer_user_info", m.discoverer_user_info);
        f.tlv(Iei::target_user_info, m.target_user_info);
    }
};

/// UE-to-UE relay discovery response (Model B).
struct U2uRelayDiscoveryResponse {
    /// kType (the message type), seq (the sequence number, octet 2) and ==.
    PC5SEC_MESSAGE(U2uRelayDiscoveryResponse, u2u_relay_discovery_response);
    RelayServiceCode relay_service_code;     ///< Relay service code (mandatory, V)
    Octets relay_user_info;                  ///< Relay user info (mandatory, LV)
    std::optional<Octets> target_user_info;  ///< Target user info (optional, TLV)
    /// Authentication_Info (optional, solution B, TLV-E)
    std::optional<AuthenticationInfo> authentication_info;
    /// The IEs in wire order, for the visitor `f` (the visitor calls above).
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("relay_service_code", m.relay_service_code);
        f.lv("relay_user_info", m.relay_user_info);
        f.tlv(Iei::target_user_info, m.target_user_info);
        f.tlve(Iei::authentication_info, m.authentication_info);
    }
};

#undef PC5SEC_CAUSE_MESSAGE
#undef PC5SEC_MESSAGE

/// Any PC5 signalling or UE-to-UE relay discovery message.
using Message = std::variant<
    DirectLinkEstablishmentRequest, DirectLinkEstablishmentAccept, DirectLinkEstablishmentReject,
    DirectLinkAuthenticationRequest, DirectLinkAuthenticationResponse,
    DirectLinkAuthenticationReject, DirectLinkAuthenticationFailure, DirectLinkSecurityModeCommand,
    DirectLinkSecurityModeComplete, DirectLinkSecurityModeReject, DirectLinkReleaseRequest,
    DirectLinkReleaseAccept, DirectLinkRekeyingRequest, DirectLinkRekeyingResponse,
    DirectLinkKeepaliveRequest, DirectLinkKeepaliveResponse, DirectLinkIdentifierUpdateRequest,
    DirectLinkIdentifierUpdateAccept, DirectLinkIdentifierUpdateAck,
    DirectLinkIdentifierUpdateReject, U2uRelayDiscoveryAnnouncement, U2uRelayDiscoverySolicitation,
    U2uRelayDiscoveryResponse>;

/// The message's type.
MessageType message_type(const Message& m) noexcept;
/// The message's PC5 signalling sequence number (octet 2).
std::uint8_t sequence_number(const Message& m) noexcept;
/// The message type's name: "establishment_request", from the code-point table.
const char* message_name(MessageType t) noexcept;

}  // namespace pc5sec::codec
