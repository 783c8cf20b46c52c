// Seed 000 steps 2-5 on one link, both sides, and what follows on an established link:
// re-keying, keep-alive and release. Each check names the clause or seed step it enforces.
#include <fmt/format.h>

#include "link/impl.hpp"
#include "pc5sec/pc5_cause.hpp"

namespace pc5sec::link {

namespace {

using MT = codec::MessageType;

codec::Cause cause_of(const Error& e, codec::Cause fallback) {
    return e.pc5_cause ? static_cast<codec::Cause>(*e.pc5_cause) : fallback;
}
std::uint32_t tag_of(const Nonce& n) {
    return static_cast<std::uint32_t>(n[0]) << 24 | static_cast<std::uint32_t>(n[1]) << 16 |
           static_cast<std::uint32_t>(n[2]) << 8 | n[3];
}

// The ProSe identifier the requests carry (TS 24.554: the ProSe application identifiers).
constexpr std::string_view kProseIdentifier = "pc5sec.u2u";

// TS 33.536 5.3.3.1.2 / 3gpp-facts §2: NOT NEEDED against REQUIRED is a mismatch.
bool mismatch(PolicyLevel a, codec::PolicyValue b) {
    auto bb = static_cast<PolicyLevel>(b);
    return (a == PolicyLevel::not_needed && bb == PolicyLevel::required) ||
           (a == PolicyLevel::required && bb == PolicyLevel::not_needed);
}
bool active(PolicyLevel a, codec::PolicyValue b) {
    return a != PolicyLevel::not_needed && static_cast<PolicyLevel>(b) != PolicyLevel::not_needed;
}
bool has_ea(codec::UeSecurityCapabilities c, CipheringAlgorithm a) {
    return (c.ea >> (7 - static_cast<unsigned>(a)) & 1u) != 0;
}
bool has_ia(codec::UeSecurityCapabilities c, IntegrityAlgorithm a) {
    return (c.ia >> (7 - static_cast<unsigned>(a)) & 1u) != 0;
}

}  // namespace

codec::UeSecurityCapabilities capabilities_of(const PolicyFile& p) {
    codec::UeSecurityCapabilities c{0x80, 0x80};  // EA0 and IA0 (bit 8), for null security
    for (auto a : p.ciphering)
        c.ea |= static_cast<std::uint8_t>(0x80 >> static_cast<unsigned>(a));
    for (auto a : p.integrity)
        c.ia |= static_cast<std::uint8_t>(0x80 >> static_cast<unsigned>(a));
    return c;
}

codec::SignallingSecurityPolicy policy_of(const PolicyFile& p) {
    return {static_cast<codec::PolicyValue>(p.signalling.integrity),
            static_cast<codec::PolicyValue>(p.signalling.ciphering)};
}

// ---------------------------------------------------------------- initiator, step 2

void Engine::Impl::send_request(Link& link, pc5::Time now) {
    // Step 0 FFS answered: credentials must be valid now; renewed in coverage, else no link (#6).
    if (auto st = config.credentials->ensure_fresh(wall(now), config.in_coverage); !st) {
        fail(link, cause_of(st.error(), codec::Cause::authentication_failure),
             st.error().describe(), false, now, false);
        return;
    }
    auto& hs = link.hs;
    hs = Handshake{};
    hs.nonce_1 = random.bytes<16>();
    do
        hs.msb_sess = random.next_u8();
    while (hs.msb_sess == 0);  // KNRP-sess ID 0 means "no security" (3gpp-facts §2)
    hs.sent_caps = capabilities_of(config.policy);
    hs.sent_policy = policy_of(config.policy);
    link.id = pc5::make_link_id(config.user_info, link.target, tag_of(hs.nonce_1));
    if (link.kind == pc5::LinkKind::hop &&
        link.relay_indication != codec::RelayIndication::direct && config.role == UeRole::end_ue)
        link.id = pc5::make_link_id(config.user_info, link.peer.empty() ? "relay" : link.peer,
                                    tag_of(hs.nonce_1));

    codec::DirectLinkEstablishmentRequest m;
    m.source_user_info = codec::Octets{bytes_of(config.user_info)};
    m.prose_identifiers = codec::Octets{bytes_of(kProseIdentifier)};
    m.ue_security_capabilities = hs.sent_caps;
    m.signalling_security_policy = hs.sent_policy;
    m.target_user_info = codec::Octets{bytes_of(link.target)};
    m.nonce_1 = hs.nonce_1;
    m.msb_knrp_sess_id = hs.msb_sess;
    if (link.relay_indication != codec::RelayIndication::direct) {
        m.relay_indication = link.relay_indication;
        if (link.kind == pc5::LinkKind::hop) {
            m.relay_service_code = codec::RelayServiceCode{link.rsc};
            const std::string& relay = config.role == UeRole::relay ? config.user_info : link.peer;
            if (!relay.empty()) m.u2u_relay_ue_user_info = codec::Octets{bytes_of(relay)};
        }
    }
    std::vector<std::uint8_t> signature;
    if (config.policy.signalling.integrity != PolicyLevel::not_needed) {
        // Seed 000 step 2: a KNRP ID when we hold a KNRP for the peer ...
        for (const auto& [k, v] : knrp_cache)
            if (k.first == link.peer && !link.peer.empty()) {
                m.knrp_id = KnrpId{k.second};
                hs.offered_knrp_id = true;
            }
        // ... and Key_Est_Info whenever the signalling integrity policy is not NOT NEEDED.
        if (config.method == AuthMethod::certificate) {
            auto eph = PrivateKey::generate(KeyType::x25519, *rng);
            if (!eph) {
                fail(link, codec::Cause::protocol_error_unspecified, eph.error().describe(), false,
                     now, false);
                return;
            }
            ++counters.crypto.keygen;
            hs.ephemeral = std::move(*eph);
        }
        auto signed_part =
            config.method == AuthMethod::certificate
                ? offer_signed_part(config.user_info, link.target, hs.nonce_1,
                                    hs.ephemeral->public_key().encoded(), hs.sent_caps,
                                    hs.sent_policy, hs.msb_sess, link.rsc)
                : std::vector<std::uint8_t>{};
        auto offer = make_offer(link, signature, signed_part);
        if (!offer) {
            fail(link, codec::Cause::protocol_error_unspecified, offer.error().describe(), false,
                 now, false);
            return;
        }
        m.key_est_info = *offer;
    }
    link.state = State::wait_peer;
    send(link, m, now, true);
    if (link.last_request) hs.request_bytes = link.last_request->message;
    arm(link, now, config.timers.t5080);  // T5080 (TS 24.554, code-only 8 s)
}

// ---------------------------------------------------------------- responder, step 2

void Engine::Impl::on_request(const Route& route, const codec::DirectLinkEstablishmentRequest& m,
                              std::span<const std::uint8_t> bytes, pc5::Time now) {
    if (Link* old = find_by_route(route)) {
        if (old->side == Side::responder && m.nonce_1 && old->hs.nonce_1 == *m.nonce_1 &&
            old->state != State::established) {
            // TS 24.554: a retransmitted request (T5080 ran out at the initiator): answer again.
            drop(old, pc5::DropReason::duplicate, "establishment request retransmitted");
            if (old->last_answer)
                resend(*old, *old->last_answer);
            else if (old->last_request)
                resend(*old, *old->last_request);
            return;
        }
        if (old->state == State::established && m.nonce_1 && old->hs.nonce_1 == *m.nonce_1) {
            drop(old, pc5::DropReason::replay, "establishment request of an existing link");
            return;
        }
        // A new request from the same peer replaces the old link (its keys are wiped).
        wipe(*old);
        remove_link(*old);
    }
    auto owned = std::make_unique<Link>();
    Link& link = *owned;
    link.side = Side::responder;
    link.route = route;
    link.kind = route.end_to_end ? pc5::LinkKind::e2e : pc5::LinkKind::hop;
    link.peer = string_of(m.source_user_info);
    link.target = m.target_user_info ? string_of(*m.target_user_info) : config.user_info;
    link.relay_indication = m.relay_indication.value_or(codec::RelayIndication::direct);
    link.rsc = m.relay_service_code ? m.relay_service_code->value : 0;
    link.started = now;
    link.state = State::wait_peer;
    link.hs.request_bytes.assign(bytes.begin(), bytes.end());
    if (m.nonce_1) link.hs.nonce_1 = *m.nonce_1;
    link.id = pc5::make_link_id(link.peer, config.user_info, tag_of(link.hs.nonce_1));
    if (link.kind == pc5::LinkKind::hop && config.role == UeRole::relay &&
        link.relay_indication != codec::RelayIndication::direct)
        link.local_id = assign_local_id();
    Link& l = add_link(std::move(owned));
    l.last_rx = std::make_pair(MT::establishment_request, m.seq);
    auto reject = [&](codec::Cause c, std::string why) {
        fail(l, c, std::move(why), false, now, true);
    };

    // TS 24.554: Nonce_1 and the MSB of the KNRP-sess ID are mandatory for a secured link.
    if (!m.nonce_1 || !m.msb_knrp_sess_id || *m.msb_knrp_sess_id == 0)
        return reject(codec::Cause::protocol_error_unspecified,
                      "establishment_request.nonce_1 / msb_knrp_sess_id missing or zero");
    l.hs.msb_sess = *m.msb_knrp_sess_id;
    // Who is being asked for? A relay serves named targets of an RSC it is authorised for
    // (KI#3, #11); an end UE answers only for itself (#1).
    const bool relayed_hop =
        l.kind == pc5::LinkKind::hop && l.relay_indication != codec::RelayIndication::direct;
    if (l.target != config.user_info) {
        if (!(relayed_hop && config.role == UeRole::relay))
            return reject(codec::Cause::direct_communication_not_allowed,
                          fmt::format("target user info \"{}\" is not this UE", l.target));
        if (!may_relay(l.rsc))
            return reject(codec::Cause::required_service_not_allowed,
                          fmt::format("{}: prose-authorisation: not a relay for RSC 0x{:06x}",
                                      config.user_info, l.rsc));
    } else if (relayed_hop && config.role == UeRole::relay) {
        return reject(codec::Cause::direct_communication_not_allowed,
                      "a relay is not the target of a relayed link");
    }
    // TS 33.536 5.3.3.1.2 (3gpp-facts §2): signalling policy mismatch -> #10.
    const auto& mine = config.policy.signalling;
    const auto& theirs = m.signalling_security_policy;
    if (mismatch(mine.integrity, theirs.integrity))
        return reject(codec::Cause::signalling_security_policy_mismatch,
                      fmt::format("signalling integrity: ours {}, theirs {}", name(mine.integrity),
                                  name(static_cast<PolicyLevel>(theirs.integrity))));
    if (mismatch(mine.ciphering, theirs.ciphering))
        return reject(codec::Cause::signalling_security_policy_mismatch,
                      fmt::format("signalling ciphering: ours {}, theirs {}", name(mine.ciphering),
                                  name(static_cast<PolicyLevel>(theirs.ciphering))));
    l.hs.peer_caps = m.ue_security_capabilities;
    l.hs.peer_policy = theirs;
    l.security_active = active(mine.integrity, theirs.integrity);
    // Step 4 preparation: algorithms by our preference among the peer's capabilities.
    l.integrity = IntegrityAlgorithm::nia0;
    l.ciphering = CipheringAlgorithm::nea0;
    if (l.security_active) {
        bool found = false;
        for (auto a : config.policy.integrity)
            if (a != IntegrityAlgorithm::nia0 && has_ia(m.ue_security_capabilities, a)) {
                l.integrity = a;
                found = true;
                break;
            }
        if (!found)  // TS 33.536 5.3.3.1.2: no common integrity algorithm -> #8
            return reject(codec::Cause::ue_security_capabilities_mismatch,
                          "no common non-null integrity algorithm");
        if (active(mine.ciphering, theirs.ciphering)) {
            for (auto a : config.policy.ciphering)
                if (a != CipheringAlgorithm::nea0 && has_ea(m.ue_security_capabilities, a)) {
                    l.ciphering = a;
                    break;
                }
            if (l.ciphering == CipheringAlgorithm::nea0 &&
                (mine.ciphering == PolicyLevel::required ||
                 static_cast<PolicyLevel>(theirs.ciphering) == PolicyLevel::required))
                return reject(codec::Cause::ue_security_capabilities_mismatch,
                              "ciphering required but no common ciphering algorithm");
        }
    } else if (mine.ciphering == PolicyLevel::required) {
        return reject(codec::Cause::signalling_security_policy_mismatch,
                      "ciphering required but integrity not activated");
    }
    if (auto st = config.credentials->ensure_fresh(wall(now), config.in_coverage); !st)
        return reject(cause_of(st.error(), codec::Cause::authentication_failure),
                      st.error().describe());
    if (relayed_hop && config.role == UeRole::relay)
        start_second_hop(l, now);  // the relay starts hop 2 when hop 1 names a target
    if (!l.security_active) {      // null integrity: both policies allow it (TS 33.536 5.3.3.1.2)
        send_security_mode_command(l, now);
        return;
    }
    // Seed 000 step 2/3: a known KNRP ID for this peer skips step 3.
    if (m.knrp_id) {
        auto it = knrp_cache.find({l.peer, m.knrp_id->value});
        if (it != knrp_cache.end()) {
            l.knrp = it->second;
            l.knrp_id = *m.knrp_id;
            l.knrp_reused = true;
            send_security_mode_command(l, now);
            return;
        }
        // Unknown KNRP ID: fall back to full authentication (seed 000 step 3).
    }
    if (!m.key_est_info)  // step 3 is mandatory now, and needs the initiator's Key_Est_Info
        return reject(codec::Cause::authentication_failure,
                      "establishment_request.key_est_info missing and no known KNRP ID");
    const auto& kei = *m.key_est_info;
    if (kei.method == codec::KeyEstMethod::psk) {
        if (!kei.psk_identity || !kei.nonce)
            return reject(codec::Cause::authentication_failure, "key_est_info: psk incomplete");
        l.hs.psk_nonce_peer = *kei.nonce;
        l.hs.psk_nonce_ours = random.bytes<16>();
        auto knrp = derive_knrp_psk(string_of(*kei.psk_identity), l.hs.psk_nonce_peer,
                                    l.hs.psk_nonce_ours, l.peer, config.user_info);
        if (!knrp) return reject(codec::Cause::authentication_failure, knrp.error().describe());
        l.hs.new_knrp = std::move(*knrp);
        send_security_mode_command(l, now);
        return;
    }
    // Certificate method: verify the offer, then send our half (step 3).
    if (!kei.certificate || !kei.ephemeral_public_key || !kei.signature)
        return reject(codec::Cause::authentication_failure, "key_est_info: not an offer");
    auto peer = verify_certificate(kei.certificate->bytes, now);
    if (!peer) return reject(codec::Cause::authentication_failure, peer.error().describe());
    if (peer->user_info_id != l.peer)  // the certificate must be the requester's (#6)
        return reject(codec::Cause::authentication_failure,
                      fmt::format("certificate subject \"{}\" is not source user info \"{}\"",
                                  peer->user_info_id, l.peer));
    if (auto st = authorise(l, *peer); !st)
        return reject(cause_of(st.error(), codec::Cause::authentication_failure),
                      st.error().describe());
    auto eph = PublicKey::from_encoded(KeyType::x25519, kei.ephemeral_public_key->bytes);
    if (!eph)
        return reject(codec::Cause::authentication_failure,
                      "key_est_info.ephemeral_public_key: " + eph.error().message);
    auto signed_part = offer_signed_part(l.peer, l.target, l.hs.nonce_1, eph->encoded(),
                                         m.ue_security_capabilities, theirs, l.hs.msb_sess, l.rsc);
    ++counters.crypto.verify;
    if (auto st = verify(peer->public_key, signed_part, kei.signature->bytes); !st)
        return reject(codec::Cause::authentication_failure,
                      "key_est_info.signature: the offer's signature does not verify");
    l.hs.peer = std::move(*peer);
    l.hs.peer_ephemeral = std::move(*eph);
    auto mine_eph = PrivateKey::generate(KeyType::x25519, *rng);
    if (!mine_eph)
        return reject(codec::Cause::protocol_error_unspecified, mine_eph.error().describe());
    ++counters.crypto.keygen;
    l.hs.ephemeral = std::move(*mine_eph);
    auto to_sign = peer_signed_part(l.hs.request_bytes, l.hs.ephemeral->public_key().encoded(),
                                    l.peer, config.user_info);
    auto sig = sign(key(), to_sign);
    if (!sig) return reject(codec::Cause::protocol_error_unspecified, sig.error().describe());
    ++counters.crypto.sign;
    codec::DirectLinkAuthenticationRequest ar;
    ar.key_est_info.method = codec::KeyEstMethod::certificate;
    ar.key_est_info.certificate = codec::Octets{certificate().der()};
    ar.key_est_info.ephemeral_public_key = codec::Octets{l.hs.ephemeral->public_key().encoded()};
    ar.key_est_info.signature = codec::Octets{*sig};
    ar.key_est_info.user_info_id = codec::Octets{bytes_of(config.user_info)};
    l.state = State::wait_auth_response;
    send(l, ar, now, true);
    l.hs.auth_request_bytes = l.last_request->message;
    arm(l, now, config.timers.t_auth);
}

// ---------------------------------------------------------------- initiator, step 3

void Engine::Impl::on_auth_request(Link& link, const codec::DirectLinkAuthenticationRequest& m,
                                   std::span<const std::uint8_t> bytes, pc5::Time now) {
    auto failure = [&](codec::Cause c, std::string why) {
        // TS 24.554: the initiator answers a failed authentication with AUTHENTICATION FAILURE.
        codec::DirectLinkAuthenticationFailure f;
        f.cause = c;
        send(link, f, now, false);
        fail(link, c, std::move(why), false, now, false);
    };
    const auto& kei = m.key_est_info;
    if (config.method != AuthMethod::certificate ||
        kei.method != codec::KeyEstMethod::certificate || !kei.certificate ||
        !kei.ephemeral_public_key || !link.hs.ephemeral)
        return failure(codec::Cause::authentication_failure,
                       "authentication_request.key_est_info: not a certificate offer");
    auto peer = verify_certificate(kei.certificate->bytes, now);
    if (!peer) return failure(codec::Cause::authentication_failure, peer.error().describe());
    if (link.requested_by_us() && link.state == State::rekey_wait_peer &&
        peer->user_info_id != link.peer)
        return failure(codec::Cause::authentication_failure, "re-authentication by another UE");
    if (auto st = authorise(link, *peer); !st)
        return failure(cause_of(st.error(), codec::Cause::authentication_failure),
                       st.error().describe());
    if (link.peer.empty()) link.peer = peer->user_info_id;  // a relay found by address only
    auto eph = PublicKey::from_encoded(KeyType::x25519, kei.ephemeral_public_key->bytes);
    if (!eph)
        return failure(
            codec::Cause::authentication_failure,
            "authentication_request.key_est_info.ephemeral_public_key: " + eph.error().message);
    // Step 3: the peer's signature covers our whole request, its ephemeral key, both names.
    ++counters.crypto.verify;
    if (!verify(peer->public_key,
                peer_signed_part(link.hs.request_bytes, eph->encoded(), config.user_info,
                                 peer->user_info_id),
                kei.signature->bytes))
        return failure(codec::Cause::authentication_failure,
                       "authentication_request.key_est_info.signature does not verify");
    link.hs.peer = std::move(*peer);
    link.hs.peer_ephemeral = std::move(*eph);
    link.hs.auth_request_bytes.assign(bytes.begin(), bytes.end());
    auto to_sign = initiator_signed_part(link.hs.request_bytes, link.hs.auth_request_bytes,
                                         config.user_info, link.peer);
    auto sig = sign(key(), to_sign);
    if (!sig) return failure(codec::Cause::protocol_error_unspecified, sig.error().describe());
    ++counters.crypto.sign;
    auto knrp = derive_knrp_certificate(link);
    if (!knrp) return failure(codec::Cause::authentication_failure, knrp.error().describe());
    link.hs.new_knrp = std::move(*knrp);
    codec::DirectLinkAuthenticationResponse resp;
    resp.key_est_info.method = codec::KeyEstMethod::certificate;
    resp.key_est_info.signature = codec::Octets{*sig};
    resp.key_est_info.user_info_id = codec::Octets{bytes_of(config.user_info)};
    if (link.state == State::wait_peer) link.state = State::wait_smc;
    send(link, resp, now, false);
    // The peer retransmits its command; we only supervise (on_timeout).
    arm(link, now, config.timers.t_smc * (config.timers.max_retransmissions + 1));
}

// ---------------------------------------------------------------- responder, step 3

void Engine::Impl::on_auth_response(Link& link, const codec::DirectLinkAuthenticationResponse& m,
                                    pc5::Time now) {
    auto reject = [&](std::string why) {
        codec::DirectLinkAuthenticationReject r;
        r.cause = codec::Cause::authentication_failure;
        send(link, r, now, false);
        fail(link, codec::Cause::authentication_failure, std::move(why), false, now, false);
    };
    if (!link.hs.peer || m.key_est_info.method != codec::KeyEstMethod::certificate ||
        !m.key_est_info.signature)
        return reject("authentication_response.key_est_info: no signature");
    // Step 3: the initiator's signature over the whole transcript (request + our request).
    ++counters.crypto.verify;
    if (!verify(link.hs.peer->public_key,
                initiator_signed_part(link.hs.request_bytes, link.hs.auth_request_bytes, link.peer,
                                      config.user_info),
                m.key_est_info.signature->bytes))
        return reject("authentication_response.key_est_info.signature does not verify");
    auto knrp = derive_knrp_certificate(link);
    if (!knrp) return reject(knrp.error().describe());
    link.hs.new_knrp = std::move(*knrp);
    send_security_mode_command(link, now);
}

// Step 4 keys (TS 33.536 A.2-A.3): KNRP-sess from the link's Nonce_1 and `nonce_2`, NRPEK and
// NRPIK for the selected algorithms, and the PDCP context they key. Without a KNRP (null
// integrity) the context runs NEA0/NIA0 under KNRP-sess ID 0.
Result<pdcp::SecurityContext> Engine::Impl::security_context(
    const Link& link, KnrpSessId id, CipheringAlgorithm c, IntegrityAlgorithm i, const Knrp* knrp,
    const Nonce& nonce_2, std::optional<KnrpSess>& sess, Link::KeyFingerprints& fingerprints) {
    const bool initiator = link.side == Side::initiator;
    if (!knrp) return pdcp::SecurityContext::create(id, c, i, nullptr, nullptr, initiator);
    sess = derive_knrp_sess(*knrp, link.hs.nonce_1, nonce_2);
    auto ek = derive_nrpek(*sess, c);
    auto ik = derive_nrpik(*sess, i);
    counters.crypto.kdf += 3;
    fingerprints = {ek.fingerprint(), ik.fingerprint()};
    return pdcp::SecurityContext::create(id, c, i, &ek, &ik, initiator);
}

// ---------------------------------------------------------------- responder, step 4

void Engine::Impl::send_security_mode_command(Link& link, pc5::Time now) {
    auto& hs = link.hs;
    const bool rekeying =
        link.state == State::established || link.state == State::rekey_wait_smc_complete;
    hs.nonce_2 = random.bytes<16>();
    // The LSB of the KNRP-sess ID: never giving 0, nor the ID in use (TS 33.536 5.3.3.1.3).
    const std::uint16_t current = link.security ? link.security->id().value : 0;
    do
        hs.lsb_sess = random.next_u8();
    while (KnrpSessId::from_parts(hs.msb_sess, hs.lsb_sess).value == 0 ||
           KnrpSessId::from_parts(hs.msb_sess, hs.lsb_sess).value == current);
    codec::DirectLinkSecurityModeCommand smc;
    smc.ue_security_capabilities = hs.peer_caps;  // echoed: bidding down is detected
    smc.signalling_security_policy = hs.peer_policy;
    smc.nonce_2 = hs.nonce_2;
    smc.lsb_knrp_sess_id = hs.lsb_sess;
    const Knrp* knrp = hs.new_knrp ? &*hs.new_knrp : link.knrp ? &*link.knrp : nullptr;
    KnrpId knrp_id = link.knrp_id;
    if (hs.new_knrp) {  // seed 000 step 4: the peer chooses the MSB of the new KNRP ID
        std::uint16_t msb = 0;
        do
            msb = random.next_u16();
        while (msb == 0);
        smc.msb_knrp_id = codec::KnrpIdHalf{msb};
        knrp_id = KnrpId::from_parts(msb, 0);
    }
    std::string psk_identity_storage;
    if (hs.new_knrp && config.method == AuthMethod::psk) {
        psk_identity_storage = config.psk_identity;
        codec::KeyEstInfo kei;
        kei.method = codec::KeyEstMethod::psk;
        kei.psk_identity = codec::Octets{bytes_of(psk_identity_storage)};
        kei.nonce = hs.psk_nonce_ours;
        kei.user_info_id = codec::Octets{bytes_of(config.user_info)};
        smc.key_est_info = kei;
    }
    const auto id =
        link.security_active ? KnrpSessId::from_parts(hs.msb_sess, hs.lsb_sess) : KnrpSessId{0};
    CipheringAlgorithm c = link.security_active ? link.ciphering : CipheringAlgorithm::nea0;
    IntegrityAlgorithm i = link.security_active ? link.integrity : IntegrityAlgorithm::nia0;
    smc.selected_algorithms =
        codec::SecurityAlgorithms{algorithm_identity_octet(c), algorithm_identity_octet(i)};
    if (link.security_active && !knrp) {
        fail(link, codec::Cause::protocol_error_unspecified, "no KNRP for step 4", false, now,
             true);
        return;
    }
    std::optional<KnrpSess> sess;
    Link::KeyFingerprints fingerprints;
    auto ctx = security_context(link, id, c, i, link.security_active ? knrp : nullptr, hs.nonce_2,
                                sess, fingerprints);
    if (!ctx) {
        fail(link, codec::Cause::protocol_error_unspecified, ctx.error().describe(), false, now,
             true);
        return;
    }
    if (rekeying) {
        link.next_security = std::move(*ctx);
        link.next_knrp_sess = std::move(sess);
        if (hs.new_knrp) link.next_knrp = *hs.new_knrp;
        link.next_knrp_id = knrp_id;
        link.next_ciphering = c;
        link.next_integrity = i;
        link.next_fingerprints = std::move(fingerprints);
        link.state = State::rekey_wait_smc_complete;
    } else {
        link.security = std::move(*ctx);
        link.knrp_sess = std::move(sess);
        if (hs.new_knrp) link.knrp = *hs.new_knrp;
        link.knrp_id = knrp_id;
        link.ciphering = c;
        link.integrity = i;
        link.fingerprints = std::move(fingerprints);
        link.state = State::wait_smc_complete;
    }
    // Step 4: integrity-protected with the new NRPIK, not ciphered (3gpp-facts §4).
    send(link, smc, now, true);
    arm(link, now, config.timers.t_smc);
}

// ---------------------------------------------------------------- initiator, step 4 -> 5

void Engine::Impl::on_security_mode_command(Link& link,
                                            const codec::DirectLinkSecurityModeCommand& m,
                                            std::span<const std::uint8_t> pdu, pc5::Time now) {
    auto& hs = link.hs;
    const bool rekeying = link.state == State::rekey_wait_peer;
    const IntegrityAlgorithm i = static_cast<IntegrityAlgorithm>(m.selected_algorithms.integrity);
    const CipheringAlgorithm c = static_cast<CipheringAlgorithm>(m.selected_algorithms.ciphering);
    const bool null_security = i == IntegrityAlgorithm::nia0;
    // Which KNRP: a new one (step 3 ran, or PSK), or the one whose KNRP ID we offered.
    std::optional<Knrp> knrp;
    bool is_new = false;
    if (!null_security) {
        if (m.msb_knrp_id) {
            if (m.key_est_info && m.key_est_info->method == codec::KeyEstMethod::psk &&
                m.key_est_info->nonce) {
                auto k = derive_knrp_psk(config.psk_identity, hs.psk_nonce_ours,
                                         *m.key_est_info->nonce, config.user_info, link.peer);
                if (!k) {
                    drop(&link, pc5::DropReason::unexpected, k.error().describe());
                    return;
                }
                knrp = std::move(*k);
            } else if (hs.new_knrp) {
                knrp = *hs.new_knrp;
            }
            is_new = true;
        } else if (rekeying && !hs.reauth && link.knrp) {
            knrp = *link.knrp;
        } else if (!rekeying && hs.offered_knrp_id) {
            for (const auto& [k, v] : knrp_cache)
                if (k.first == link.peer) {
                    knrp = v;
                    link.knrp_id = KnrpId{k.second};
                }
            link.knrp_reused = knrp.has_value();
        }
        if (!knrp) {  // a command for keys we never agreed: not from our peer
            drop(&link, pc5::DropReason::unexpected, "security mode command names no known KNRP");
            return;
        }
    }
    const auto header = pdcp::peek_header(pdu);
    const auto id =
        null_security ? KnrpSessId{0} : KnrpSessId::from_parts(hs.msb_sess, m.lsb_knrp_sess_id);
    if (!header || header->knrp_sess_id != id) {
        drop(&link, pc5::DropReason::unknown_session,
             "KNRP-sess ID is not ours + the command's LSB");
        return;
    }
    std::optional<KnrpSess> sess;
    Link::KeyFingerprints fingerprints;
    auto ctx = security_context(link, id, c, i, null_security ? nullptr : &*knrp, m.nonce_2, sess,
                                fingerprints);
    if (!ctx) {
        drop(&link, pc5::DropReason::malformed, ctx.error().describe());
        return;
    }
    // Step 4: the MAC-I under the new NRPIK must verify; otherwise the command is dropped
    // (TS 33.536 5.3.3.1.4) and no key is installed.
    if (auto opened = ctx->unprotect(pc5::lcid::kSrb1, pdu, false); !opened) {
        drop(&link,
             opened.error().field == "pdcp.count" ? pc5::DropReason::replay
                                                  : pc5::DropReason::bad_mac,
             opened.error().describe());
        return;
    }
    link.last_rx = std::make_pair(MT::security_mode_command, m.seq);
    hs.nonce_2 = m.nonce_2;
    hs.lsb_sess = m.lsb_knrp_sess_id;
    auto reject = [&](codec::Cause cause, std::string why) {
        codec::DirectLinkSecurityModeReject r;
        r.cause = cause;
        r.seq = link.tx_seq++;
        if (auto b = codec::encode(r)) {  // protected with the keys the command proved
            send_with(link, &*ctx, pc5::lcid::kSrb1, true, *b);
            ++counters.sent_messages[MT::security_mode_reject];
        }
        if (rekeying) {
            link.state = State::established;
            link.deadline = pc5::kNever;
            drop(&link, pc5::DropReason::unexpected, why);
            return;
        }
        fail(link, cause, std::move(why), false, now, false);
    };
    // TS 33.536 5.3.3.1.3: the echo must be what we sent (bidding down), the algorithms ours.
    if (!(m.ue_security_capabilities == hs.sent_caps))
        return reject(
            codec::Cause::ue_security_capabilities_mismatch,
            "security_mode_command.ue_security_capabilities: echo differs (bidding down)");
    if (!rekeying && !(m.signalling_security_policy == hs.sent_policy))
        return reject(
            codec::Cause::security_policy_not_aligned,
            "security_mode_command.signalling_security_policy: echo differs (bidding down)");
    if (!has_ea(hs.sent_caps, c) || !has_ia(hs.sent_caps, i))
        return reject(codec::Cause::ue_security_capabilities_mismatch,
                      "security_mode_command.selected_algorithms: not among our capabilities");
    if (null_security && config.policy.signalling.integrity == PolicyLevel::required)
        return reject(codec::Cause::security_policy_not_aligned,
                      "integrity REQUIRED but NIA0 selected");
    if (c == CipheringAlgorithm::nea0 &&
        config.policy.signalling.ciphering == PolicyLevel::required)
        return reject(codec::Cause::security_policy_not_aligned,
                      "ciphering REQUIRED but NEA0 selected");
    // Step 5: choose the LSB of a new KNRP ID, keep the KNRP for reuse, answer.
    codec::DirectLinkSecurityModeComplete done;
    KnrpId knrp_id = link.knrp_id;
    if (is_new) {
        std::uint16_t lsb = 0;
        do
            lsb = random.next_u16();
        while (lsb == 0);
        knrp_id = KnrpId::from_parts(m.msb_knrp_id->value, lsb);
        done.lsb_knrp_id = codec::KnrpIdHalf{lsb};
    }
    if (rekeying) {
        link.previous_security = std::move(link.security);
        link.security = std::move(*ctx);
        link.knrp_sess = std::move(sess);
        if (is_new) link.knrp = std::move(knrp);
    } else {
        link.security = std::move(*ctx);
        link.knrp_sess = std::move(sess);
        link.knrp = std::move(knrp);
        link.security_active = !null_security;
        link.state = State::wait_accept;
    }
    link.ciphering = c;
    link.integrity = i;
    link.fingerprints = std::move(fingerprints);
    link.knrp_id = knrp_id;
    if (is_new && link.knrp) {
        for (auto it = knrp_cache.begin(); it != knrp_cache.end();)
            it = it->first.first == link.peer ? knrp_cache.erase(it) : std::next(it);
        knrp_cache.insert_or_assign({link.peer, knrp_id.value}, *link.knrp);
    }
    send(link, done, now, false);
    if (!rekeying)  // the peer repeats its command if our complete is lost; we supervise
        arm(link, now, config.timers.t_smc * (config.timers.max_retransmissions + 1));
}

// ---------------------------------------------------------------- responder, step 5

void Engine::Impl::on_security_mode_complete(Link& link,
                                             const codec::DirectLinkSecurityModeComplete& m,
                                             pc5::Time now) {
    const bool rekeying = link.state == State::rekey_wait_smc_complete;
    const bool is_new = rekeying ? link.next_knrp.has_value() : link.hs.new_knrp.has_value();
    if (is_new) {
        // Seed 000 step 5: the initiator's LSB completes the KNRP ID.
        if (!m.lsb_knrp_id || m.lsb_knrp_id->value == 0) {
            fail(link, codec::Cause::protocol_error_unspecified,
                 "security_mode_complete.lsb_knrp_id missing", false, now, !rekeying);
            return;
        }
        KnrpId& id = rekeying ? link.next_knrp_id : link.knrp_id;
        id = KnrpId::from_parts(id.msb(), m.lsb_knrp_id->value);
        const Knrp& k = rekeying ? *link.next_knrp : *link.knrp;
        for (auto it = knrp_cache.begin(); it != knrp_cache.end();)
            it = it->first.first == link.peer ? knrp_cache.erase(it) : std::next(it);
        knrp_cache.insert_or_assign({link.peer, id.value}, k);
    }
    link.hs.new_knrp.reset();
    if (rekeying) {
        link.previous_security = std::move(link.security);
        link.security = std::move(link.next_security);
        link.next_security.reset();
        link.knrp_sess = std::move(link.next_knrp_sess);
        if (link.next_knrp) link.knrp = std::move(link.next_knrp);
        link.next_knrp.reset();
        link.knrp_id = link.next_knrp_id;
        link.ciphering = link.next_ciphering;
        link.integrity = link.next_integrity;
        link.fingerprints = std::move(link.next_fingerprints);
        codec::DirectLinkRekeyingResponse r;
        link.state = State::established;
        link.deadline = pc5::kNever;
        send(link, r, now, false);
        log_keys(link);
        emit(pc5::LinkRekeyed{summary(link), link.hs.reauth});
        return;
    }
    finish_responder(link, now);
}

void Engine::Impl::finish_responder(Link& link, pc5::Time now) {
    const bool relayed_hop = link.kind == pc5::LinkKind::hop &&
                             link.relay_indication != codec::RelayIndication::direct &&
                             config.role == UeRole::relay;
    if (relayed_hop) {
        on_first_hop_up(link, now);  // holds the accept until hop 2 is up
        return;
    }
    codec::DirectLinkEstablishmentAccept a;
    a.source_user_info = codec::Octets{bytes_of(config.user_info)};
    if (link.relay_indication != codec::RelayIndication::direct)
        a.relay_indication = link.relay_indication;
    send(link, a, now, false);
    establish(link, now);
}

// ---------------------------------------------------------------- re-keying

void Engine::Impl::on_rekeying_request(Link& link, const codec::DirectLinkRekeyingRequest& m,
                                       std::span<const std::uint8_t> bytes, pc5::Time now) {
    auto& hs = link.hs;
    hs = Handshake{};
    hs.nonce_1 = m.nonce_1;
    hs.msb_sess = m.msb_knrp_sess_id;
    hs.peer_caps = m.ue_security_capabilities;
    hs.peer_policy = policy_of(config.policy);
    hs.request_bytes.assign(bytes.begin(), bytes.end());
    link.rekey_initiator = false;
    if (m.msb_knrp_sess_id == 0) {
        drop(&link, pc5::DropReason::malformed, "rekeying_request.msb_knrp_sess_id is 0");
        return;
    }
    if (m.reauth_indication) {
        hs.reauth = true;
        link.state = State::rekey_wait_smc_complete;
        if (!m.key_est_info) {
            drop(&link, pc5::DropReason::malformed, "rekeying_request.key_est_info missing");
            link.state = State::established;
            return;
        }
        const auto& kei = *m.key_est_info;
        if (kei.method == codec::KeyEstMethod::psk && kei.nonce && kei.psk_identity) {
            hs.psk_nonce_peer = *kei.nonce;
            hs.psk_nonce_ours = random.bytes<16>();
            auto k = derive_knrp_psk(string_of(*kei.psk_identity), hs.psk_nonce_peer,
                                     hs.psk_nonce_ours, link.peer, config.user_info);
            if (!k) {
                drop(&link, pc5::DropReason::unexpected, k.error().describe());
                link.state = State::established;
                return;
            }
            hs.new_knrp = std::move(*k);
            send_security_mode_command(link, now);
            return;
        }
        auto peer = kei.certificate ? verify_certificate(kei.certificate->bytes, now)
                                    : Result<creds::VerifiedPeer>(make_error(
                                          Errc::malformed, "key_est_info.certificate", "missing"));
        std::optional<PublicKey> eph;
        if (peer && kei.ephemeral_public_key) {
            auto e = PublicKey::from_encoded(KeyType::x25519, kei.ephemeral_public_key->bytes);
            if (e) eph = std::move(*e);
        }
        ++counters.crypto.verify;
        if (!peer || peer->user_info_id != link.peer || !eph || !kei.signature ||
            !verify(peer->public_key,
                    offer_signed_part(link.peer, config.user_info, hs.nonce_1, eph->encoded(),
                                      m.ue_security_capabilities, codec::SignallingSecurityPolicy{},
                                      hs.msb_sess, 0),
                    kei.signature->bytes)) {
            // Re-authentication failed: the link keeps its current keys (TS 33.536 5.3.3.2).
            codec::DirectLinkAuthenticationReject r;
            r.cause = codec::Cause::authentication_failure;
            link.state = State::established;
            send(link, r, now, false);
            drop(&link, pc5::DropReason::unexpected, "re-authentication offer refused");
            return;
        }
        hs.peer = std::move(*peer);
        hs.peer_ephemeral = std::move(*eph);
        auto mine = PrivateKey::generate(KeyType::x25519, *rng);
        if (!mine) return;
        ++counters.crypto.keygen;
        hs.ephemeral = std::move(*mine);
        auto sig =
            sign(key(), peer_signed_part(hs.request_bytes, hs.ephemeral->public_key().encoded(),
                                         link.peer, config.user_info));
        if (!sig) return;
        ++counters.crypto.sign;
        codec::DirectLinkAuthenticationRequest ar;
        ar.key_est_info.method = codec::KeyEstMethod::certificate;
        ar.key_est_info.certificate = codec::Octets{certificate().der()};
        ar.key_est_info.ephemeral_public_key = codec::Octets{hs.ephemeral->public_key().encoded()};
        ar.key_est_info.signature = codec::Octets{*sig};
        ar.key_est_info.user_info_id = codec::Octets{bytes_of(config.user_info)};
        send(link, ar, now, true);
        hs.auth_request_bytes = link.last_request->message;
        arm(link, now, config.timers.t_auth);
        return;
    }
    // New nonces, same KNRP: a new KNRP-sess (TS 33.536 5.3.3.2).
    send_security_mode_command(link, now);
}

}  // namespace pc5sec::link
