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

// TS 33.536 5.3.3.1.2 / 3gpp-facts §2 (pc5sec/policy.hpp), against a peer's IE.
bool mismatch(PolicyLevel a, codec::PolicyValue b) {
    return policy_mismatch(a, static_cast<PolicyLevel>(b));
}
bool active(PolicyLevel a, codec::PolicyValue b) {
    return policy_active(a, static_cast<PolicyLevel>(b));
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

Next Engine::Impl::send_request(Link& link, pc5::Time now) {
    // Step 0 FFS answered: credentials must be valid now; renewed in coverage, else no link (#6).
    if (auto st = config.credentials->ensure_fresh(wall(now), config.in_coverage); !st) {
        fail(link, cause_of(st.error(), codec::Cause::authentication_failure),
             st.error().describe(), false, now, false);
        return gone();
    }
    auto& hs = link.hs;
    hs = Handshake{};
    hs.nonce_1 = random.bytes<16>();
    hs.msb_sess = fresh_msb(link);
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
        // Seed 000 step 2: a KNRP ID when we hold a KNRP for the peer whose credential still
        // holds (checked now: CRL, validity, authorisation; otherwise it is wiped).
        if (!link.peer.empty())
            if (auto* cached = usable_knrp(link, link.peer, std::nullopt, now)) {
                m.knrp_id = KnrpId{cached->first.second};
                hs.offered_knrp_id = true;
            }
        // ... and Key_Est_Info whenever the signalling integrity policy is not NOT NEEDED.
        if (config.method == AuthMethod::certificate) {
            auto eph = PrivateKey::generate(KeyType::x25519, *rng);
            if (!eph) {
                fail(link, codec::Cause::protocol_error_unspecified, eph.error().describe(), false,
                     now, false);
                return gone();
            }
            ++counters.crypto.keygen;
            hs.ephemeral = std::move(*eph);
        }
        auto signed_part = config.method == AuthMethod::certificate
                               ? offer_signed_part(config.user_info, link.target, hs.nonce_1,
                                                   hs.ephemeral->public_key().encoded(),
                                                   hs.sent_caps, hs.sent_policy, hs.msb_sess,
                                                   link.kind == pc5::LinkKind::e2e ? 0 : link.rsc)
                               : std::vector<std::uint8_t>{};
        auto offer = make_offer(link, signature, signed_part);
        if (!offer) {
            fail(link, codec::Cause::protocol_error_unspecified, offer.error().describe(), false,
                 now, false);
            return gone();
        }
        m.key_est_info = *offer;
    }
    send(link, m, now, true);
    if (link.last_request) hs.request_bytes = link.last_request->message;
    arm(link, now, config.timers.t5080);  // T5080 (TS 24.554, code-only 8 s)
    return move_to(State::wait_peer);
}

// ---------------------------------------------------------------- responder, step 2

void Engine::Impl::on_request(const Route& route, const codec::DirectLinkEstablishmentRequest& m,
                              std::span<const std::uint8_t> bytes, pc5::Time now) {
    // A link is identified as TS 24.554 7.2.2.6.2 does: the peer's layer-2 ID and user info, and
    // for pc5sec also the target user info and the RSC. A request is never allowed to touch a
    // link before it is authenticated: a request for the same link starts a new one next to it,
    // which replaces the old one only once it is authenticated ("after the new one succeeds");
    // a request for another target is another link.
    const std::string peer = string_of(m.source_user_info);
    const std::string target =
        m.target_user_info ? string_of(*m.target_user_info) : config.user_info;
    const std::uint32_t rsc = m.relay_service_code ? m.relay_service_code->value : 0;
    Link* same = nullptr;
    Link* differing = nullptr;
    for (auto& o : links) {
        if (o->side != Side::responder || !same_route(o->route, route) || o->peer != peer ||
            o->target != target || o->rsc != rsc)
            continue;
        if (m.nonce_1 && o->hs.nonce_1 == *m.nonce_1 && o->state == State::wait_auth_response &&
            !o->authenticated && !std::ranges::equal(bytes, o->hs.request_bytes)) {
            // Issue 17: another copy of the request this half-open link answered, with other
            // octets. Step 3 signs the whole request, so if the first copy was the corrupted
            // one the initiator can never verify our answer, and re-sending it would bind the
            // attempt to it until T5080 runs out. The newer copy is answered as a new request;
            // the earlier exchange is kept, so a response to either one still verifies.
            differing = o.get();
            break;
        }
        if (m.nonce_1 && o->hs.nonce_1 == *m.nonce_1 && o->state != State::established) {
            // TS 24.554: a retransmitted request (T5080 ran out at the initiator): answer again.
            drop(o.get(), pc5::DropReason::duplicate, "establishment request retransmitted");
            if (o->last_answer)
                (void)reanswer(*o, *o->last_answer, MT::establishment_request);
            else if (o->last_request)
                (void)reanswer(*o, *o->last_request, MT::establishment_request);
            return;
        }
        if (m.nonce_1 && o->hs.nonce_1 == *m.nonce_1) {
            drop(o.get(), pc5::DropReason::replay, "establishment request of an existing link");
            return;
        }
        if (!same || o->state == State::established) same = o.get();
    }
    std::optional<Handshake::Earlier> earlier;
    if (differing) {
        drop(differing, pc5::DropReason::unexpected,
             "establishment request: a copy with this Nonce_1 but other octets; answered anew "
             "(the earlier exchange kept)");
        earlier = Handshake::Earlier{std::move(differing->hs.request_bytes),
                                     std::move(differing->hs.auth_request_bytes),
                                     std::move(differing->hs.ephemeral)};
        if (same == differing) same = nullptr;
        const std::string id = differing->id;
        auto gone_link = take(*differing);  // quietly: the attempt goes on in the new link
        wipe(*gone_link);
        forget_first_hop(id, now);
    }
    make_room_for_half_open(now);
    auto owned = std::make_unique<Link>();
    owned->side = Side::responder;
    owned->route = route;
    owned->kind = route.end_to_end ? pc5::LinkKind::e2e : pc5::LinkKind::hop;
    owned->peer = peer;
    owned->target = target;
    owned->relay_indication = m.relay_indication.value_or(codec::RelayIndication::direct);
    owned->rsc = rsc;
    owned->conceal_rsc = rx_concealed_rsc;  // its answers go concealed as its request came
    owned->started = now;
    owned->replaces = same ? same->id : std::string{};
    owned->hs.request_bytes.assign(bytes.begin(), bytes.end());
    if (m.nonce_1) owned->hs.nonce_1 = *m.nonce_1;
    owned->id = pc5::make_link_id(owned->peer, config.user_info, tag_of(owned->hs.nonce_1));
    // The id's tag is Nonce_1's first 4 octets, sent in clear: a forged or bit-flipped request
    // can share it with a link this UE holds (another Nonce_1, same tag). The new one gets a
    // distinct id, so that nothing it does (its failure) is reported under the other's (issue
    // 17, found by fuzz_engines).
    if (find(owned->id)) {
        const std::string base = owned->id;
        for (unsigned n = 2; find(owned->id); ++n)
            owned->id = fmt::format("{}~{}", base, n);
    }
    if (owned->kind == pc5::LinkKind::hop && config.role == UeRole::relay &&
        owned->relay_indication != codec::RelayIndication::direct)
        owned->local_id = assign_local_id();
    owned->hs.earlier = std::move(earlier);
    Link& l = add_link(std::move(owned));
    l.last_rx = std::make_pair(MT::establishment_request, m.seq);
    dispatch(l, Input::of(MT::establishment_request), now,
             [&] { return accept_request(l, m, now); });
}

Next Engine::Impl::accept_request(Link& l, const codec::DirectLinkEstablishmentRequest& m,
                                  pc5::Time now) {
    auto reject = [&](codec::Cause c, std::string why) {
        fail(l, c, std::move(why), false, now, true);
        return gone();
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
    const bool relay_hop = relayed_hop && config.role == UeRole::relay;
    if (l.target != config.user_info) {
        if (!relay_hop)
            return reject(codec::Cause::direct_communication_not_allowed,
                          fmt::format("target user info \"{}\" is not this UE", l.target));
        if (!may_relay(l.rsc))
            return reject(codec::Cause::required_service_not_allowed,
                          fmt::format("{}: prose-authorisation: not a relay for RSC 0x{:06x}",
                                      config.user_info, l.rsc));
    } else if (relay_hop) {
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
    if (!l.security_active) {
        // Seed 000 step 3 / KI#3: a relay serves only sources it authenticated and found
        // authorised for the RSC; null integrity authenticates nobody.
        if (relay_hop)
            return reject(codec::Cause::security_policy_not_aligned,
                          "relay: null integrity authenticates no source (seed 000 step 3, KI#3)");
        const auto note = null_integrity_note(static_cast<PolicyLevel>(theirs.integrity));
        if (refuses_null_integrity(l))
            return reject(codec::Cause::security_policy_not_aligned,
                          note + "; refused (Config::refuse_null_integrity)");
        l.security_note = note;
    }
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
    // Null integrity: both policies allow it (TS 33.536 5.3.3.1.2).
    if (!l.security_active) return send_security_mode_command(l, now);
    // Seed 000 step 2/3: a known KNRP ID for this peer skips step 3, if the credential that
    // made it still holds now (CRL, validity, authorisation) and it is younger than
    // Config::knrp_lifetime. A revoked or expired peer's KNRP is wiped and refused with #6.
    if (m.knrp_id) {
        std::optional<std::span<const std::uint8_t>> offered_certificate;
        if (m.key_est_info && m.key_est_info->certificate)
            offered_certificate = m.key_est_info->certificate->bytes;
        auto it = knrp_cache.find({l.peer, m.knrp_id->value});
        if (it != knrp_cache.end()) {
            Error why;
            if (!recheck_knrp(l, it, offered_certificate, now, why)) {
                if (why.pc5_cause)
                    return reject(cause_of(why, codec::Cause::authentication_failure),
                                  "cached KNRP: " + why.describe());
                // A new certificate or an old KNRP: full authentication (step 3).
            } else {
                l.knrp = it->second.knrp;
                l.knrp_id = *m.knrp_id;
                l.knrp_reused = true;
                l.peer_certificate = it->second.peer_certificate;
                return send_security_mode_command(l, now);
            }
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
        return send_security_mode_command(l, now);
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
    l.peer_certificate = std::make_shared<const std::vector<std::uint8_t>>(
        kei.certificate->bytes.begin(), kei.certificate->bytes.end());
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
    send(l, ar, now, true);
    l.hs.auth_request_bytes = l.last_request->message;
    arm(l, now, config.timers.t_auth);
    return move_to(State::wait_auth_response);
}

// ---------------------------------------------------------------- initiator, step 3

Next Engine::Impl::on_auth_request(Link& link, const codec::DirectLinkAuthenticationRequest& m,
                                   std::span<const std::uint8_t> bytes, pc5::Time now) {
    // What does not verify under the key of the certificate it carries is not from a peer: it
    // is dropped and counted, and the link waits for the genuine answer (an attacker's frame
    // never ends it). Nor does a request we must refuse (#6, #11): it came unprotected, and a
    // bit-flipped copy of the genuine one looks the same (a certificate that no longer verifies
    // under the CA). We say so (AUTHENTICATION FAILURE, TS 24.554, within reanswer_budget) and
    // wait for another copy until T5080 runs out; then the link fails with this cause
    // (docs/solution-a.md, "Unprotected rejects").
    auto forged = [&](pc5::DropReason r, std::string why) {
        drop(&link, r, "authentication_request." + why);
        return stay();
    };
    auto failure = [&](codec::Cause c, std::string why) {
        if (link.reanswers < reanswer_budget(config.timers)) {
            ++link.reanswers;
            codec::DirectLinkAuthenticationFailure f;
            f.cause = c;
            send(link, f, now, false);
        }
        link.unconfirmed_reject = c;
        link.refusal = why;
        drop(&link, pc5::DropReason::unexpected,
             "authentication_request refused, waiting for another copy: " + why);
        return stay();
    };
    const auto& kei = m.key_est_info;
    if (config.method != AuthMethod::certificate ||
        kei.method != codec::KeyEstMethod::certificate || !kei.certificate ||
        !kei.ephemeral_public_key || !kei.signature || !link.hs.ephemeral)
        return forged(pc5::DropReason::malformed, "key_est_info: not a certificate offer");
    const creds::Certificate* cert = parse_certificate(kei.certificate->bytes);
    if (!cert) return forged(pc5::DropReason::malformed, "key_est_info.certificate: not X.509");
    auto eph = PublicKey::from_encoded(KeyType::x25519, kei.ephemeral_public_key->bytes);
    if (!eph)
        return forged(pc5::DropReason::malformed,
                      "key_est_info.ephemeral_public_key: " + eph.error().message);
    // Step 3: the peer's signature covers our whole request, its ephemeral key, both names.
    ++counters.crypto.verify;
    if (!verify(cert->public_key(),
                peer_signed_part(link.hs.request_bytes, eph->encoded(), config.user_info,
                                 cert->subject()),
                kei.signature->bytes))
        return forged(pc5::DropReason::bad_mac,
                      "key_est_info.signature does not verify (not an answer to our request)");
    // An answer signed by another UE than the one we asked (a UE in range with credentials of
    // its own) is not our peer's: dropped, and the link waits; if nothing else comes, it ends
    // with #6 and this reason.
    if (!link.peer.empty() && cert->subject() != link.peer) {
        if (!link.unconfirmed_reject) {
            link.unconfirmed_reject = codec::Cause::authentication_failure;
            link.refusal =
                fmt::format("answered by \"{}\", not \"{}\" (#6)", cert->subject(), link.peer);
        }
        return forged(pc5::DropReason::unexpected,
                      fmt::format("key_est_info.certificate: \"{}\" is not the peer \"{}\"",
                                  cert->subject(), link.peer));
    }
    auto peer = verify_certificate(kei.certificate->bytes, now);
    if (!peer) return failure(codec::Cause::authentication_failure, peer.error().describe());
    if (auto st = authorise(link, *peer); !st)
        return failure(cause_of(st.error(), codec::Cause::authentication_failure),
                       st.error().describe());
    if (link.peer.empty()) link.peer = peer->user_info_id;  // a relay found by address only
    link.hs.peer = std::move(*peer);
    link.hs.peer_ephemeral = std::move(*eph);
    link.hs.auth_request_bytes.assign(bytes.begin(), bytes.end());
    link.peer_certificate = std::make_shared<const std::vector<std::uint8_t>>(
        kei.certificate->bytes.begin(), kei.certificate->bytes.end());
    auto to_sign = initiator_signed_part(link.hs.request_bytes, link.hs.auth_request_bytes,
                                         config.user_info, link.peer);
    auto sig = sign(key(), to_sign);
    if (!sig) return failure(codec::Cause::protocol_error_unspecified, sig.error().describe());
    ++counters.crypto.sign;
    auto knrp = derive_knrp_certificate(link);
    if (!knrp) return failure(codec::Cause::authentication_failure, knrp.error().describe());
    link.hs.new_knrp = std::move(*knrp);
    link.authenticated = link.state != State::rekey_wait_peer || link.authenticated;
    codec::DirectLinkAuthenticationResponse resp;
    resp.key_est_info.method = codec::KeyEstMethod::certificate;
    resp.key_est_info.signature = codec::Octets{*sig};
    resp.key_est_info.user_info_id = codec::Octets{bytes_of(config.user_info)};
    send(link, resp, now, false);
    // The peer retransmits its command (and its authentication request if our response is
    // lost, which we answer again); we only supervise both (on_timeout).
    arm(link, now,
        (config.timers.t_auth + config.timers.t_smc) * (config.timers.max_retransmissions + 1));
    return move_to(link.state == State::rekey_wait_peer ? State::rekey_wait_peer : State::wait_smc);
}

// ---------------------------------------------------------------- responder, step 3

Next Engine::Impl::on_auth_response(Link& link, const codec::DirectLinkAuthenticationResponse& m,
                                    pc5::Time now) {
    // Only the initiator's key can sign the transcript: anything else is dropped and counted,
    // and the link waits for the genuine response (a forged one never ends it).
    if (!link.hs.peer || m.key_est_info.method != codec::KeyEstMethod::certificate ||
        !m.key_est_info.signature) {
        drop(&link, pc5::DropReason::malformed,
             "authentication_response.key_est_info: no signature");
        return stay();
    }
    // Step 3: the initiator's signature over the whole transcript (request + our request).
    auto signed_by_initiator = [&](const std::vector<std::uint8_t>& request,
                                   const std::vector<std::uint8_t>& auth_request) {
        ++counters.crypto.verify;
        return verify(link.hs.peer->public_key,
                      initiator_signed_part(request, auth_request, link.peer, config.user_info),
                      m.key_est_info.signature->bytes);
    };
    if (!signed_by_initiator(link.hs.request_bytes, link.hs.auth_request_bytes)) {
        // The answer to an earlier copy of the request (on_request): that exchange goes on.
        auto& e = link.hs.earlier;
        if (!e || !signed_by_initiator(e->request_bytes, e->auth_request_bytes)) {
            drop(&link, pc5::DropReason::bad_mac,
                 "authentication_response.key_est_info.signature does not verify");
            return stay();
        }
        link.hs.request_bytes = std::move(e->request_bytes);
        link.hs.auth_request_bytes = std::move(e->auth_request_bytes);
        link.hs.ephemeral = std::move(e->ephemeral);
    }
    link.hs.earlier.reset();
    auto knrp = derive_knrp_certificate(link);
    if (!knrp) {
        codec::DirectLinkAuthenticationReject r;
        r.cause = codec::Cause::authentication_failure;
        send(link, r, now, false);
        fail(link, codec::Cause::authentication_failure, knrp.error().describe(), false, now,
             false);
        return gone();
    }
    link.hs.new_knrp = std::move(*knrp);
    authenticated(link, now);  // seed 000 step 3 done: the source is authenticated
    return send_security_mode_command(link, now);
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

Next Engine::Impl::send_security_mode_command(Link& link, pc5::Time now) {
    auto& hs = link.hs;
    const bool rekeying =
        link.state == State::established || link.state == State::rekey_wait_smc_complete;
    hs.nonce_2 = random.bytes<16>();
    // The LSB of the KNRP-sess ID: never giving 0, nor an ID in use on this route (TS 33.536
    // 5.3.3.1.3; several links to one peer are told apart by it).
    int tries = 0;
    do
        hs.lsb_sess = random.next_u8();
    while ((KnrpSessId::from_parts(hs.msb_sess, hs.lsb_sess).value == 0 ||
            session_in_use(link.route, KnrpSessId::from_parts(hs.msb_sess, hs.lsb_sess))) &&
           ++tries < 1024);
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
        return gone();
    }
    std::optional<KnrpSess> sess;
    Link::KeyFingerprints fingerprints;
    auto ctx = security_context(link, id, c, i, link.security_active ? knrp : nullptr, hs.nonce_2,
                                sess, fingerprints);
    if (!ctx) {
        fail(link, codec::Cause::protocol_error_unspecified, ctx.error().describe(), false, now,
             true);
        return gone();
    }
    if (rekeying) {
        link.next_security = std::move(*ctx);
        link.next_knrp_sess = std::move(sess);
        if (hs.new_knrp) link.next_knrp = *hs.new_knrp;
        link.next_knrp_id = knrp_id;
        link.next_ciphering = c;
        link.next_integrity = i;
        link.next_fingerprints = std::move(fingerprints);
    } else {
        link.security = std::move(*ctx);
        link.knrp_sess = std::move(sess);
        if (hs.new_knrp) link.knrp = *hs.new_knrp;
        link.knrp_id = knrp_id;
        link.ciphering = c;
        link.integrity = i;
        link.fingerprints = std::move(fingerprints);
    }
    // Step 4: integrity-protected with the new NRPIK, not ciphered (3gpp-facts §4).
    send(link, smc, now, true);
    arm(link, now, config.timers.t_smc);
    return move_to(rekeying ? State::rekey_wait_smc_complete : State::wait_smc_complete);
}

// ---------------------------------------------------------------- initiator, step 4 -> 5

Next Engine::Impl::on_security_mode_command(Link& link,
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
                    return stay();
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
                    knrp = v.knrp;
                    link.knrp_id = KnrpId{k.second};
                    link.peer_certificate = v.peer_certificate;
                }
            link.knrp_reused = knrp.has_value();
        }
        if (!knrp) {  // a command for keys we never agreed: not from our peer
            drop(&link, pc5::DropReason::unexpected, "security mode command names no known KNRP");
            return stay();
        }
    }
    const auto header = pdcp::peek_header(pdu);
    const auto id =
        null_security ? KnrpSessId{0} : KnrpSessId::from_parts(hs.msb_sess, m.lsb_knrp_sess_id);
    if (!header || header->knrp_sess_id != id) {
        drop(&link, pc5::DropReason::unknown_session,
             "KNRP-sess ID is not ours + the command's LSB");
        return stay();
    }
    std::optional<KnrpSess> sess;
    Link::KeyFingerprints fingerprints;
    auto ctx = security_context(link, id, c, i, null_security ? nullptr : &*knrp, m.nonce_2, sess,
                                fingerprints);
    if (!ctx) {
        drop(&link, pc5::DropReason::malformed, ctx.error().describe());
        return stay();
    }
    // Step 4: the MAC-I under the new NRPIK must verify; otherwise the command is dropped
    // (TS 33.536 5.3.3.1.4) and no key is installed.
    if (auto opened = ctx->unprotect(pc5::lcid::kSrb1, pdu, false); !opened) {
        drop(&link, pdcp::drop_reason(ctx->last_rejection()), opened.error().describe());
        return stay();
    }
    link.last_rx = std::make_pair(MT::security_mode_command, m.seq);
    hs.nonce_2 = m.nonce_2;
    hs.lsb_sess = m.lsb_knrp_sess_id;
    auto reject = [&](codec::Cause cause, std::string why) -> Next {
        if (null_security) {
            // A command under NIA0 proves nothing: whoever sent it, it is dropped and counted,
            // and the link waits for a command it can verify (an attacker's never ends it). If
            // none comes, the link ends with this cause when its timer runs out.
            if (!link.unconfirmed_reject) {
                link.unconfirmed_reject = cause;
                link.refusal = why;
            }
            drop(&link, pc5::DropReason::unexpected, "null-integrity command refused: " + why);
            return stay();
        }
        codec::DirectLinkSecurityModeReject r;
        r.cause = cause;
        r.seq = link.tx_seq++;
        if (auto b = codec::encode(r)) {
            if (rekeying && link.security)
                // Re-keying: under the keys both ends hold now, on SL-SRB2, so that a forged
                // reject cannot cancel a re-keying (the peer's current keys prove it is ours).
                send_with(link, &*link.security, pc5::lcid::kSrb2, true, *b);
            else
                // First establishment: SL-SRB1 carries only the command and the complete (TS
                // 38.331 5.8.1), and no key is agreed yet: in clear on SL-SRB0, where the peer
                // takes it as an unprotected reject (on_unprotected_reject).
                send_with(link, nullptr, pc5::lcid::kSrb0, false, *b);
            ++counters.sent_messages[MT::security_mode_reject];
        }
        if (rekeying) {
            link.deadline = pc5::kNever;
            drop(&link, pc5::DropReason::unexpected, why);
            return move_to(State::established);
        }
        fail(link, cause, std::move(why), false, now, false);
        return gone();
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
    if (null_security) {
        const auto note = null_integrity_note(PolicyLevel::not_needed);
        if (refuses_null_integrity(link))
            return reject(codec::Cause::security_policy_not_aligned,
                          note + "; refused (Config::refuse_null_integrity)");
        link.security_note = note;
    } else {
        authenticated(link, now);  // the command verified under a KNRP only the peer holds
    }
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
    }
    link.ciphering = c;
    link.integrity = i;
    link.fingerprints = std::move(fingerprints);
    link.knrp_id = knrp_id;
    if (is_new && link.knrp) cache_knrp(link, knrp_id, *link.knrp, now);
    send(link, done, now, false);
    if (rekeying) {
        link.rekey_switched = true;
        arm(link, now, config.timers.t_rekey);  // the complete again until the response comes
        return move_to(State::rekey_wait_peer);
    }
    // The peer repeats its command if our complete is lost; if its ACCEPT is lost, our
    // COMPLETE goes again every t_smc until accept_wait ends (on_timeout).
    arm(link, now, config.timers.t_smc);
    link.supervision_end = now + accept_wait(link);
    return move_to(State::wait_accept);
}

// ---------------------------------------------------------------- responder, step 5

Next Engine::Impl::on_security_mode_complete(Link& link,
                                             const codec::DirectLinkSecurityModeComplete& m,
                                             pc5::Time now) {
    const bool rekeying = link.state == State::rekey_wait_smc_complete;
    // TS 33.536 5.3.3.2: the re-keying's complete is protected under the new keys. A complete
    // under the current ones is a stale copy (of an earlier re-keying, repeated or replayed):
    // taking it would switch this end to keys the peer never confirmed.
    if (rekeying && (!link.next_security || rx_knrp_sess_id != link.next_security->id())) {
        drop(
            &link, pc5::DropReason::unexpected,
            fmt::format("security_mode_complete under KNRP-sess ID {:04x}, not the re-keying's new "
                        "keys: a stale copy",
                        rx_knrp_sess_id.value));
        return stay();
    }
    const bool is_new = rekeying ? link.next_knrp.has_value() : link.hs.new_knrp.has_value();
    if (is_new) {
        // Seed 000 step 5: the initiator's LSB completes the KNRP ID.
        if (!m.lsb_knrp_id || m.lsb_knrp_id->value == 0) {
            fail(link, codec::Cause::protocol_error_unspecified,
                 "security_mode_complete.lsb_knrp_id missing", false, now, !rekeying);
            return gone();
        }
        KnrpId& id = rekeying ? link.next_knrp_id : link.knrp_id;
        id = KnrpId::from_parts(id.msb(), m.lsb_knrp_id->value);
        cache_knrp(link, id, rekeying ? *link.next_knrp : *link.knrp, now);
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
        link.deadline = pc5::kNever;
        send(link, r, now, false);
        log_keys(link);
        emit(pc5::LinkRekeyed{summary(link), link.hs.reauth});
        return move_to(State::established);
    }
    // Step 5: the complete verified under the new keys (a reused KNRP or PSK authenticates the
    // peer here; the certificate method did at step 3).
    if (link.security_active) authenticated(link, now);
    return finish_responder(link, now);
}

Next Engine::Impl::finish_responder(Link& link, pc5::Time now) {
    const bool relayed_hop = link.kind == pc5::LinkKind::hop &&
                             link.relay_indication != codec::RelayIndication::direct &&
                             config.role == UeRole::relay;
    if (relayed_hop) return on_first_hop_up(link, now);  // the accept waits for hop 2
    send_accept(link, now);
    return move_to(State::established);
}

void Engine::Impl::send_accept(Link& link, pc5::Time now) {
    codec::DirectLinkEstablishmentAccept a;
    a.source_user_info = codec::Octets{bytes_of(config.user_info)};
    if (link.relay_indication != codec::RelayIndication::direct)
        a.relay_indication = link.relay_indication;
    send(link, a, now, false);
}

// ---------------------------------------------------------------- re-keying

Next Engine::Impl::on_rekeying_request(Link& link, const codec::DirectLinkRekeyingRequest& m,
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
        return stay();
    }
    // Re-keying checks the peer's credential again, as a reuse of its KNRP does: a revoked or
    // expired peer loses the link (#6) and its KNRP.
    if (auto st = recheck_peer(link, now); !st) return release_for(link, st.error(), now);
    if (m.reauth_indication) {
        hs.reauth = true;
        if (!m.key_est_info) {
            drop(&link, pc5::DropReason::malformed, "rekeying_request.key_est_info missing");
            return stay();
        }
        const auto& kei = *m.key_est_info;
        if (kei.method == codec::KeyEstMethod::psk && kei.nonce && kei.psk_identity) {
            hs.psk_nonce_peer = *kei.nonce;
            hs.psk_nonce_ours = random.bytes<16>();
            auto k = derive_knrp_psk(string_of(*kei.psk_identity), hs.psk_nonce_peer,
                                     hs.psk_nonce_ours, link.peer, config.user_info);
            if (!k) {
                drop(&link, pc5::DropReason::unexpected, k.error().describe());
                return stay();
            }
            hs.new_knrp = std::move(*k);
            return send_security_mode_command(link, now);
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
            send(link, r, now, false);
            drop(&link, pc5::DropReason::unexpected, "re-authentication offer refused");
            return stay();
        }
        hs.peer = std::move(*peer);
        hs.peer_ephemeral = std::move(*eph);
        auto mine = PrivateKey::generate(KeyType::x25519, *rng);
        if (!mine) return stay();
        ++counters.crypto.keygen;
        hs.ephemeral = std::move(*mine);
        auto sig =
            sign(key(), peer_signed_part(hs.request_bytes, hs.ephemeral->public_key().encoded(),
                                         link.peer, config.user_info));
        if (!sig) return stay();
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
        return move_to(State::rekey_wait_smc_complete);
    }
    // New nonces, same KNRP: a new KNRP-sess (TS 33.536 5.3.3.2).
    return send_security_mode_command(link, now);
}

}  // namespace pc5sec::link
