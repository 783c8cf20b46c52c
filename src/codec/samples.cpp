// One message of every type, for golden vectors, captures, the fuzz corpus and benchmarks.
#include "pc5sec/codec.hpp"

namespace pc5sec::codec {
namespace {

template <std::size_t N>
constexpr std::array<std::uint8_t, N> ramp(std::uint8_t start) {
    std::array<std::uint8_t, N> a{};
    for (std::size_t i = 0; i < N; ++i)
        a[i] = static_cast<std::uint8_t>(start + i);
    return a;
}

constexpr std::array<std::uint8_t, 6> kSourceUser{'u', 'e', '-', 's', 'r', 'c'};
constexpr std::array<std::uint8_t, 6> kTargetUser{'u', 'e', '-', 't', 'g', 't'};
constexpr std::array<std::uint8_t, 5> kRelayUser{'r', 'e', 'l', 'a', 'y'};
constexpr std::array<std::uint8_t, 4> kProseIds{0x00, 0x00, 0x10, 0x01};
constexpr std::array<std::uint8_t, 6> kPathInfo{0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
constexpr std::array<std::uint8_t, 12> kEndUsers{'u', 'e', '-', 't', 'g', 't',
                                                 'u', 'e', '-', 'x', 'y', 'z'};
constexpr auto kCert = ramp<24>(0xc0);
constexpr auto kEphemeral = ramp<33>(0x02);
constexpr auto kSignature = ramp<64>(0x40);
constexpr std::array<std::uint8_t, 8> kPskId{'p', 's', 'k', '-', 'i', 'd', '-', '1'};
constexpr auto kPublicKey = ramp<32>(0x80);
constexpr auto kRelayKey = ramp<32>(0xa0);
constexpr Nonce kNonce1 = ramp<16>(0x10);
constexpr Nonce kNonce2 = ramp<16>(0x20);

Octets o(std::span<const std::uint8_t> s) {
    return Octets{s};
}

KeyEstInfo cert_kei() {
    KeyEstInfo k;
    k.method = KeyEstMethod::certificate;
    k.certificate = o(kCert);
    k.ephemeral_public_key = o(kEphemeral);
    k.signature = o(kSignature);
    k.nonce = kNonce1;
    k.user_info_id = o(kSourceUser);
    return k;
}

KeyEstInfo psk_kei() {
    KeyEstInfo k;
    k.method = KeyEstMethod::psk;
    k.psk_identity = o(kPskId);
    k.nonce = kNonce2;
    return k;
}

AuthenticationInfo auth(std::span<const std::uint8_t> user, std::span<const std::uint8_t> key,
                        bool certificate) {
    AuthenticationInfo a;
    a.user_info_id = o(user);
    if (certificate)
        a.certificate = o(key);
    else
        a.public_key = o(key);
    a.signature_algorithm =
        certificate ? SignatureAlgorithm::ecdsa_p256_sha256 : SignatureAlgorithm::ed25519;
    a.signature = o(kSignature);
    return a;
}

}  // namespace

std::vector<Message> sample_messages(bool full) {
    std::vector<Message> out;

    DirectLinkEstablishmentRequest req;
    req.seq = 1;
    req.source_user_info = o(kSourceUser);
    req.prose_identifiers = o(kProseIds);
    req.ue_security_capabilities = {0xf0, 0x70};  // EA0-3, IA1-3
    req.signalling_security_policy = {PolicyValue::required, PolicyValue::preferred};
    if (full) {
        req.target_user_info = o(kTargetUser);
        req.knrp_id = KnrpId{0x0a0b0c0d};
        req.nonce_1 = kNonce1;
        req.msb_knrp_sess_id = 0x5a;
        req.key_est_info = cert_kei();
        req.u2u_relay_ue_user_info = o(kRelayUser);
        req.target_end_ue_l2_id = Layer2Id{0x123456};
        req.relay_indication = RelayIndication::via_layer2_relay;
        req.relay_service_code = RelayServiceCode{0xabcdef};
        req.multi_hop_path_info = o(kPathInfo);
        req.authentication_info = auth(kSourceUser, kPublicKey, false);
        req.relay_authentication_info = auth(kRelayUser, kRelayKey, false);
    }
    out.emplace_back(req);

    DirectLinkEstablishmentAccept acc;
    acc.seq = 2;
    acc.source_user_info = o(kTargetUser);
    if (full) {
        acc.key_est_info = psk_kei();
        acc.relay_indication = RelayIndication::via_layer3_relay;
        acc.authentication_info = auth(kTargetUser, kCert, true);
        acc.relay_authentication_info = auth(kRelayUser, kRelayKey, false);
    }
    out.emplace_back(acc);

    out.emplace_back(DirectLinkEstablishmentReject{3, Cause::signalling_security_policy_mismatch});

    DirectLinkAuthenticationRequest areq;
    areq.seq = 4;
    areq.key_est_info = cert_kei();
    out.emplace_back(areq);
    DirectLinkAuthenticationResponse aresp;
    aresp.seq = 5;
    aresp.key_est_info = psk_kei();
    out.emplace_back(aresp);
    out.emplace_back(DirectLinkAuthenticationReject{6, Cause::authentication_failure});
    DirectLinkAuthenticationFailure afail;
    afail.seq = 7;
    afail.cause = Cause::authentication_synchronisation_error;
    if (full) afail.key_est_info = psk_kei();
    out.emplace_back(afail);

    DirectLinkSecurityModeCommand smc;
    smc.seq = 8;
    smc.selected_algorithms = {2, 2};
    smc.ue_security_capabilities = {0xf0, 0x70};
    smc.signalling_security_policy = {PolicyValue::required, PolicyValue::preferred};
    smc.nonce_2 = kNonce2;
    smc.lsb_knrp_sess_id = 0xa5;
    if (full) {
        smc.msb_knrp_id = KnrpIdHalf{0x0a0b};
        smc.key_est_info = cert_kei();
    }
    out.emplace_back(smc);
    DirectLinkSecurityModeComplete smcomp;
    smcomp.seq = 9;
    if (full) smcomp.lsb_knrp_id = KnrpIdHalf{0x0c0d};
    out.emplace_back(smcomp);
    out.emplace_back(DirectLinkSecurityModeReject{10, Cause::ue_security_capabilities_mismatch});

    out.emplace_back(DirectLinkReleaseRequest{11, Cause::direct_communication_no_longer_needed});
    out.emplace_back(DirectLinkReleaseAccept{12});

    DirectLinkRekeyingRequest rk;
    rk.seq = 13;
    rk.ue_security_capabilities = {0x70, 0x70};
    rk.nonce_1 = kNonce1;
    rk.msb_knrp_sess_id = 0x5b;
    if (full) {
        rk.key_est_info = psk_kei();
        rk.reauth_indication = true;
    }
    out.emplace_back(rk);
    out.emplace_back(DirectLinkRekeyingResponse{14});

    DirectLinkKeepaliveRequest ka;
    ka.seq = 15;
    ka.keepalive_counter = 42;
    if (full) ka.max_inactivity_period = 30;
    out.emplace_back(ka);
    out.emplace_back(DirectLinkKeepaliveResponse{16, 42});

    DirectLinkIdentifierUpdateRequest lu;
    lu.seq = 17;
    lu.new_l2_id = Layer2Id{0x3a5c7e};
    lu.msb_knrp_sess_id = 0x6d;
    lu.nonce_1 = kNonce1;
    out.emplace_back(lu);
    DirectLinkIdentifierUpdateAccept la;
    la.seq = 18;
    la.new_l2_id = Layer2Id{0x91b2d3};
    la.lsb_knrp_sess_id = 0x2e;
    la.nonce_2 = kNonce2;
    la.requester_new_l2_id = lu.new_l2_id;
    la.requester_msb_knrp_sess_id = lu.msb_knrp_sess_id;
    out.emplace_back(la);
    out.emplace_back(DirectLinkIdentifierUpdateAck{19, la.new_l2_id, la.lsb_knrp_sess_id});
    out.emplace_back(DirectLinkIdentifierUpdateReject{20, Cause::l2_id_conflict});

    U2uRelayDiscoveryAnnouncement ann;
    ann.relay_service_code = RelayServiceCode{0xabcdef};
    ann.relay_user_info = o(kRelayUser);
    if (full) {
        ann.end_ue_user_info_list = o(kEndUsers);
        ann.authentication_info = auth(kRelayUser, kRelayKey, false);
    }
    out.emplace_back(ann);
    U2uRelayDiscoverySolicitation sol;
    sol.relay_service_code = RelayServiceCode{0xabcdef};
    sol.discoverer_user_info = o(kSourceUser);
    if (full) sol.target_user_info = o(kTargetUser);
    out.emplace_back(sol);
    U2uRelayDiscoveryResponse dr;
    dr.relay_service_code = RelayServiceCode{0xabcdef};
    dr.relay_user_info = o(kRelayUser);
    if (full) {
        dr.target_user_info = o(kTargetUser);
        dr.authentication_info = auth(kRelayUser, kRelayKey, false);
    }
    out.emplace_back(dr);
    return out;
}

}  // namespace pc5sec::codec
