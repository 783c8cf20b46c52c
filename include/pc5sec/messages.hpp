// PC5 signalling messages (TS 24.554, all prefixed PROSE DIRECT LINK) and pc5sec's UE-to-UE relay
// discovery messages: one struct per message, in 3GPP terms, plus the two containers the
// solutions carry (solution A Key_Est_Info, solution B Authentication_Info).
//
// Each struct lists its IEs once, in wire order, in `fields()`: the encoder, the decoder, the JSON
// and text printers and the Wireshark schema all walk that one list. Octet strings are views
// (`Octets`) into the decoded buffer or the caller's storage: a decoded message is valid only
// while the buffer it came from is. The code points come from code_points.hpp.
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

// A non-owning octet string that compares by content. Never empty on the wire.
struct Octets {
    std::span<const std::uint8_t> bytes;
    std::size_t size() const noexcept { return bytes.size(); }
    friend bool operator==(const Octets& a, const Octets& b) {
        return std::equal(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end());
    }
};

// UE security capabilities (TS 24.554; 3gpp-facts §3): octet 1 is the 5G-EA0..7 bitmap with bit 8
// = EA0, octet 2 the 5G-IA0..7 bitmap with bit 8 = IA0.
struct UeSecurityCapabilities {
    std::uint8_t ea = 0;
    std::uint8_t ia = 0;
    friend bool operator==(UeSecurityCapabilities, UeSecurityCapabilities) = default;
};

// UE PC5 unicast signalling security policy: integrity in bits 1-3, ciphering in bits 5-7.
struct SignallingSecurityPolicy {
    PolicyValue integrity = PolicyValue::not_needed;
    PolicyValue ciphering = PolicyValue::not_needed;
    friend bool operator==(SignallingSecurityPolicy, SignallingSecurityPolicy) = default;
};

// Selected security algorithms: ciphering in the high nibble, integrity in the low nibble.
struct SecurityAlgorithms {
    std::uint8_t ciphering = 0;  // NEA id 0..3
    std::uint8_t integrity = 0;  // NIA id 0..3
    friend bool operator==(SecurityAlgorithms, SecurityAlgorithms) = default;
};

struct Layer2Id {  // 24 bits
    std::uint32_t value = 0;
    friend bool operator==(Layer2Id, Layer2Id) = default;
};
struct RelayServiceCode {  // 24 bits
    std::uint32_t value = 0;
    friend bool operator==(RelayServiceCode, RelayServiceCode) = default;
};
// One half of a KNRP ID (16 bits, the provisional split of 3gpp-facts §2).
struct KnrpIdHalf {
    std::uint16_t value = 0;
    friend bool operator==(KnrpIdHalf, KnrpIdHalf) = default;
};

// ---- containers ----

// Solution A Key_Est_Info (seed 000 steps 2-3): version octet, method octet, then TLVs of tag (1),
// length (2), value. `certificate` requires a signature, and certificate and
// ephemeral_public_key together (an offer) or neither (the initiator's transcript signature);
// `psk` requires psk_identity and nonce.
struct KeyEstInfo {
    std::uint8_t version = kKeyEstInfoVersion;
    KeyEstMethod method = KeyEstMethod::certificate;
    std::optional<Octets> certificate;
    std::optional<Octets> ephemeral_public_key;
    std::optional<Octets> signature;
    std::optional<Octets> psk_identity;
    std::optional<Nonce> nonce;
    std::optional<Octets> user_info_id;
    friend bool operator==(const KeyEstInfo&, const KeyEstInfo&) = default;
};

// Solution B Authentication_Info (seed 001 steps 1, 3, 5, 7): version octet, then TLVs of tag (1),
// length (2), value. user_info_id, signature_algorithm and signature are mandatory; exactly one of
// public_key and certificate. nonce, ephemeral_public_key and selected_algorithms are optional
// (solution B: the hardened mode's nonce and ephemeral key, the target's algorithm choice).
// The signing_time item's 8 octets (big-endian), as sent and as signed.
inline std::array<std::uint8_t, 8> signing_time_octets(std::uint64_t ms) {
    std::array<std::uint8_t, 8> out{};
    for (int i = 7; i >= 0; --i, ms >>= 8)
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms);
    return out;
}

struct AuthenticationInfo {
    std::uint8_t version = kAuthInfoVersion;
    Octets user_info_id;
    std::optional<Octets> public_key;
    std::optional<Octets> certificate;
    SignatureAlgorithm signature_algorithm = SignatureAlgorithm::ecdsa_p256_sha256;
    Octets signature;
    std::optional<Nonce> nonce;
    std::optional<Octets> ephemeral_public_key;
    std::optional<SecurityAlgorithms> selected_algorithms;
    // Solution B hardened: when the signer signed, by its own clock (ms since the Unix epoch).
    std::optional<std::uint64_t> signing_time;
    friend bool operator==(const AuthenticationInfo&, const AuthenticationInfo&) = default;
};

// ---- messages ----
// Visitor calls: v (mandatory V), lv / lve (mandatory LV / LV-E), tv / tlv / tlve (optional),
// t1 (optional type 1, half octet), t2 (optional type 2, presence only).

#define PC5SEC_MESSAGE(Name, type)                                      \
    static constexpr MessageType kType = MessageType::type;             \
    std::uint8_t seq = 0; /* PC5 signalling sequence number, octet 2 */ \
    friend bool operator==(const Name&, const Name&) = default

struct DirectLinkEstablishmentRequest {
    PC5SEC_MESSAGE(DirectLinkEstablishmentRequest, establishment_request);
    Octets source_user_info;
    Octets prose_identifiers;
    UeSecurityCapabilities ue_security_capabilities;
    SignallingSecurityPolicy signalling_security_policy;
    std::optional<Octets> target_user_info;
    std::optional<KnrpId> knrp_id;
    std::optional<Nonce> nonce_1;
    std::optional<std::uint8_t> msb_knrp_sess_id;
    std::optional<KeyEstInfo> key_est_info;
    std::optional<Octets> u2u_relay_ue_user_info;
    std::optional<Layer2Id> target_end_ue_l2_id;
    std::optional<RelayIndication> relay_indication;
    std::optional<RelayServiceCode> relay_service_code;
    std::optional<Octets> multi_hop_path_info;
    std::optional<AuthenticationInfo> authentication_info;
    std::optional<AuthenticationInfo> relay_authentication_info;
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
    }
};

struct DirectLinkEstablishmentAccept {
    PC5SEC_MESSAGE(DirectLinkEstablishmentAccept, establishment_accept);
    Octets source_user_info;
    std::optional<KeyEstInfo> key_est_info;
    std::optional<RelayIndication> relay_indication;
    std::optional<AuthenticationInfo> authentication_info;
    std::optional<AuthenticationInfo> relay_authentication_info;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lv("source_user_info", m.source_user_info);
        f.tlve(Iei::key_est_info, m.key_est_info);
        f.t1(Iei::relay_indication, m.relay_indication);
        f.tlve(Iei::authentication_info, m.authentication_info);
        f.tlve(Iei::relay_authentication_info, m.relay_authentication_info);
    }
};

// The messages that carry only a PC5 signalling cause.
#define PC5SEC_CAUSE_MESSAGE(Name, type)                 \
    struct Name {                                        \
        PC5SEC_MESSAGE(Name, type);                      \
        Cause cause = Cause::protocol_error_unspecified; \
        template <class F, class M>                      \
        static void fields(F& f, M& m) {                 \
            f.v("cause", m.cause);                       \
        }                                                \
    }

PC5SEC_CAUSE_MESSAGE(DirectLinkEstablishmentReject, establishment_reject);
PC5SEC_CAUSE_MESSAGE(DirectLinkAuthenticationReject, authentication_reject);
PC5SEC_CAUSE_MESSAGE(DirectLinkSecurityModeReject, security_mode_reject);
PC5SEC_CAUSE_MESSAGE(DirectLinkReleaseRequest, release_request);
#undef PC5SEC_CAUSE_MESSAGE

struct DirectLinkAuthenticationRequest {
    PC5SEC_MESSAGE(DirectLinkAuthenticationRequest, authentication_request);
    KeyEstInfo key_est_info;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lve("key_est_info", m.key_est_info);
    }
};

struct DirectLinkAuthenticationResponse {
    PC5SEC_MESSAGE(DirectLinkAuthenticationResponse, authentication_response);
    KeyEstInfo key_est_info;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lve("key_est_info", m.key_est_info);
    }
};

struct DirectLinkAuthenticationFailure {
    PC5SEC_MESSAGE(DirectLinkAuthenticationFailure, authentication_failure);
    Cause cause = Cause::authentication_failure;
    std::optional<KeyEstInfo> key_est_info;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("cause", m.cause);
        f.tlve(Iei::key_est_info, m.key_est_info);
    }
};

// Seed 000 step 4: carries Nonce_2, the LSB of KNRP-sess ID, the MSB of KNRP ID (when a new KNRP
// was derived), the selected algorithms and the echoed capabilities and policy.
struct DirectLinkSecurityModeCommand {
    PC5SEC_MESSAGE(DirectLinkSecurityModeCommand, security_mode_command);
    SecurityAlgorithms selected_algorithms;
    UeSecurityCapabilities ue_security_capabilities;
    SignallingSecurityPolicy signalling_security_policy;
    Nonce nonce_2{};
    std::uint8_t lsb_knrp_sess_id = 0;
    std::optional<KnrpIdHalf> msb_knrp_id;
    std::optional<KeyEstInfo> key_est_info;
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

// Seed 000 step 5: carries the LSB of KNRP ID when a new KNRP was derived.
struct DirectLinkSecurityModeComplete {
    PC5SEC_MESSAGE(DirectLinkSecurityModeComplete, security_mode_complete);
    std::optional<KnrpIdHalf> lsb_knrp_id;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.tv(Iei::lsb_knrp_id, m.lsb_knrp_id);
    }
};

struct DirectLinkReleaseAccept {
    PC5SEC_MESSAGE(DirectLinkReleaseAccept, release_accept);
    template <class F, class M>
    static void fields(F&, M&) {}
};

struct DirectLinkRekeyingRequest {
    PC5SEC_MESSAGE(DirectLinkRekeyingRequest, rekeying_request);
    UeSecurityCapabilities ue_security_capabilities;
    Nonce nonce_1{};
    std::uint8_t msb_knrp_sess_id = 0;
    std::optional<KeyEstInfo> key_est_info;
    bool reauth_indication = false;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.lv("ue_security_capabilities", m.ue_security_capabilities);
        f.v("nonce_1", m.nonce_1);
        f.v("msb_knrp_sess_id", m.msb_knrp_sess_id);
        f.tlve(Iei::key_est_info, m.key_est_info);
        f.t2(Iei::reauth_indication, m.reauth_indication);
    }
};

struct DirectLinkRekeyingResponse {
    PC5SEC_MESSAGE(DirectLinkRekeyingResponse, rekeying_response);
    template <class F, class M>
    static void fields(F&, M&) {}
};

struct DirectLinkKeepaliveRequest {
    PC5SEC_MESSAGE(DirectLinkKeepaliveRequest, keepalive_request);
    std::uint32_t keepalive_counter = 0;
    std::optional<std::uint32_t> max_inactivity_period;  // seconds
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("keepalive_counter", m.keepalive_counter);
        f.tv(Iei::max_inactivity_period, m.max_inactivity_period);
    }
};

struct DirectLinkKeepaliveResponse {
    PC5SEC_MESSAGE(DirectLinkKeepaliveResponse, keepalive_response);
    std::uint32_t keepalive_counter = 0;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("keepalive_counter", m.keepalive_counter);
    }
};

// Model A: the relay announces its relay service code and user info ID.
struct U2uRelayDiscoveryAnnouncement {
    PC5SEC_MESSAGE(U2uRelayDiscoveryAnnouncement, u2u_relay_discovery_announcement);
    RelayServiceCode relay_service_code;
    Octets relay_user_info;
    std::optional<Octets> end_ue_user_info_list;
    std::optional<AuthenticationInfo> authentication_info;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("relay_service_code", m.relay_service_code);
        f.lv("relay_user_info", m.relay_user_info);
        f.tlv(Iei::end_ue_user_info_list, m.end_ue_user_info_list);
        f.tlve(Iei::authentication_info, m.authentication_info);
    }
};

// Model B: an end UE looks for a relay (and, optionally, a target UE behind it).
struct U2uRelayDiscoverySolicitation {
    PC5SEC_MESSAGE(U2uRelayDiscoverySolicitation, u2u_relay_discovery_solicitation);
    RelayServiceCode relay_service_code;
    Octets discoverer_user_info;
    std::optional<Octets> target_user_info;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("relay_service_code", m.relay_service_code);
        f.lv("discoverer_user_info", m.discoverer_user_info);
        f.tlv(Iei::target_user_info, m.target_user_info);
    }
};

struct U2uRelayDiscoveryResponse {
    PC5SEC_MESSAGE(U2uRelayDiscoveryResponse, u2u_relay_discovery_response);
    RelayServiceCode relay_service_code;
    Octets relay_user_info;
    std::optional<Octets> target_user_info;
    std::optional<AuthenticationInfo> authentication_info;
    template <class F, class M>
    static void fields(F& f, M& m) {
        f.v("relay_service_code", m.relay_service_code);
        f.lv("relay_user_info", m.relay_user_info);
        f.tlv(Iei::target_user_info, m.target_user_info);
        f.tlve(Iei::authentication_info, m.authentication_info);
    }
};

#undef PC5SEC_MESSAGE

using Message = std::variant<
    DirectLinkEstablishmentRequest, DirectLinkEstablishmentAccept, DirectLinkEstablishmentReject,
    DirectLinkAuthenticationRequest, DirectLinkAuthenticationResponse,
    DirectLinkAuthenticationReject, DirectLinkAuthenticationFailure, DirectLinkSecurityModeCommand,
    DirectLinkSecurityModeComplete, DirectLinkSecurityModeReject, DirectLinkReleaseRequest,
    DirectLinkReleaseAccept, DirectLinkRekeyingRequest, DirectLinkRekeyingResponse,
    DirectLinkKeepaliveRequest, DirectLinkKeepaliveResponse, U2uRelayDiscoveryAnnouncement,
    U2uRelayDiscoverySolicitation, U2uRelayDiscoveryResponse>;

MessageType message_type(const Message& m) noexcept;
std::uint8_t sequence_number(const Message& m) noexcept;
// "establishment_request", from the code-point table.
const char* message_name(MessageType t) noexcept;

}  // namespace pc5sec::codec
