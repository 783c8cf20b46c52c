// The source (seed 001 steps 1 and 8): it signs the request, verifies the accept the relay
// brings back, derives KD and (hardened) confirms it to the target.
#include <algorithm>

#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

void Engine::Impl::connect(const pc5::ConnectRequest& req, Time now) {
    Link l;
    l.summary.initiator = true;
    l.summary.peer = req.target;
    dispatch(l, FlowRole::source, Input::of(Local::connect), [&] {
        return req.relay_l2 ? send_request(l, req, now) : start_discovery(l, req, now);
    });
    if (l.state != State::idle && !l.gone) links.push_back(std::move(l));
}

std::optional<Refusal> Engine::Impl::check_connect(const pc5::ConnectRequest& req, Time now) {
    if (cfg.role != Role::end_ue)
        return refuse(Cause::protocol_error_unspecified, "connect: a relay does not start links");
    if (req.target.empty() || req.target.size() > 255)
        return refuse(Cause::protocol_error_unspecified,
                      "connect: target user info must be 1..255 octets");
    if (req.rsc > creds::kMaxRsc)
        return refuse(Cause::protocol_error_unspecified, "connect: rsc over 24 bits");
    Refusal why;
    if (!step0(now, why)) return why;
    // docs/credentials.md: may this UE use a relay for this RSC at all?
    if (cfg.mode == Mode::hardened && (!self->authorisation.has_role(creds::Role::end_ue) ||
                                       !self->authorisation.has_rsc(req.rsc)))
        return refuse(Cause::required_service_not_allowed,
                      fmt::format("connect: own certificate does not allow rsc 0x{:06x}", req.rsc));
    if (!cfg.rscs.empty() && std::find(cfg.rscs.begin(), cfg.rscs.end(), req.rsc) == cfg.rscs.end())
        return refuse(Cause::required_service_not_allowed,
                      fmt::format("connect: rsc 0x{:06x} not configured", req.rsc));
    return std::nullopt;
}

// Seed 001 steps 0-1.
Next Engine::Impl::send_request(Link& l, const pc5::ConnectRequest& req, Time now) {
    const std::string target = req.target;
    auto fail_now = [&](Refusal r) {
        failed("", target, r, false, now);
        return gone();
    };
    if (auto why = check_connect(req, now)) return fail_now(*why);
    // Seed 001 step 0: the source has selected a relay (given, or found by discovery).
    if (!req.relay_l2)
        return fail_now(refuse(Cause::protocol_error_unspecified,
                               "connect: no relay_l2 (solution B always goes through a UE-to-UE "
                               "relay)"));
    const std::string relay = req.relay.value_or("");
    // Hardened: the relay's identity is signed, so the source must know it.
    if (cfg.mode == Mode::hardened && (relay.empty() || relay.size() > 255))
        return fail_now(refuse(Cause::protocol_error_unspecified,
                               "connect: hardened mode needs the relay's user info "
                               "(ConnectRequest::relay)"));

    // The link's KNRP-sess ID comes from Nonce_1 (hardened) or SIGN-Source (literal), so the
    // source cannot pick its LSB the way TS 33.536 lets an initiator: it draws the request again
    // while the LSB clashes with one of its own links to this target through this relay, which
    // the relay and the target would refuse with #9 (relay.cpp, target.cpp).
    auto lsb_in_use = [&](std::uint32_t tag) {
        const auto lsb = key_id_of(tag).lsb();
        for (const auto& o : links) {
            if (o.gone || &o == &l || o.relay_l2 != *req.relay_l2 || o.summary.peer != target)
                continue;
            const auto used =
                o.attempt ? key_id_of(o.attempt->tag).lsb() : o.summary.knrp_sess_id.lsb();
            if (used == lsb) return true;
        }
        return false;
    };
    constexpr int kDraws = 8;  // 256 LSBs: eight clashes in a row mean the LSBs are used up
    Attempt a;
    codec::DirectLinkEstablishmentRequest m;
    // The message holds views: what they show lives until it is encoded, after the loop.
    std::vector<std::uint8_t> eph_pub, sig;
    const std::uint8_t prose_id[3] = {static_cast<std::uint8_t>(req.rsc >> 16),
                                      static_cast<std::uint8_t>(req.rsc >> 8),
                                      static_cast<std::uint8_t>(req.rsc)};
    for (int draw = 1;; ++draw) {
        a = Attempt{};
        a.relay = relay;
        a.rsc = req.rsc;
        a.l3 = req.path == pc5::Path::l3;
        const std::uint8_t seq = rng->next_u8();
        if (cfg.mode == Mode::hardened) a.nonce_1 = rng->bytes<16>();
        // Hardened: for KD's forward secrecy; both modes: for the hop's key
        // (docs/solution-b.md "The hops").
        {
            counters.crypto.keygen++;
            auto eph = PrivateKey::generate(kEphemeralKeyType, *rng);
            if (!eph)
                return fail_now(refuse(eph.error(), Cause::protocol_error_unspecified, "keygen"));
            a.ephemeral.emplace(std::move(*eph));
            eph_pub = a.ephemeral->public_key().encoded();
        }

        m = codec::DirectLinkEstablishmentRequest{};
        m.seq = seq;
        m.source_user_info = octets(cfg.user_info);
        m.prose_identifiers = octets(prose_id);
        m.ue_security_capabilities = {ea_bitmap(cfg.policy.ciphering),
                                      ia_bitmap(cfg.policy.integrity)};
        // policy.toml's signalling security policy, as solution A's request carries it.
        m.signalling_security_policy = {
            static_cast<codec::PolicyValue>(cfg.policy.signalling.integrity),
            static_cast<codec::PolicyValue>(cfg.policy.signalling.ciphering)};
        m.target_user_info = octets(target);
        m.relay_indication = a.l3 ? codec::RelayIndication::via_layer3_relay
                                  : codec::RelayIndication::via_layer2_relay;
        m.relay_service_code = codec::RelayServiceCode{req.rsc};
        if (!relay.empty()) m.u2u_relay_ue_user_info = octets(relay);
        m.nonce_1 = a.nonce_1;
        // A rogue end UE (the simulator's compromised UE): the attacker's edits of its own
        // request, which it then signs as it is.
        if (cfg.tamper.on_request && cfg.tamper.phase == Tamper::Phase::before_sign)
            cfg.tamper.on_request(m);
        auto body = wire::body(m);
        if (!body)
            return fail_now(refuse(body.error(), Cause::protocol_error_unspecified, "request"));

        // Seed 001 step 1: Authentication_Info = User Info ID, public key (or certificate),
        // SIGN-Source.
        codec::AuthenticationInfo info = own_info(now);
        if (!eph_pub.empty()) info.ephemeral_public_key = octets(eph_pub);
        std::optional<wire::HardenedContext> ctx;
        if (cfg.mode == Mode::hardened)
            ctx = wire::HardenedContext{cfg.user_info, target, relay, a.rsc, *a.nonce_1, {}, {}};
        const auto tbs =
            wire::to_be_signed(cfg.mode, MessageType::establishment_request, wire::Signer::source,
                               *body, info, ctx ? &*ctx : nullptr);
        auto signed_tbs = sign_tbs(tbs);
        if (!signed_tbs)
            return fail_now(refuse(Cause::protocol_error_unspecified, "sign: SIGN-Source"));
        sig = std::move(*signed_tbs);
        info.signature = octets(sig);
        m.authentication_info = info;
        a.source_signature = sig;
        a.request_digest = wire::request_digest(*body, info);
        a.tag = link_tag(cfg.mode, a.source_signature, a.nonce_1);
        if (!lsb_in_use(a.tag)) break;
        if (draw == kDraws)
            return fail_now(refuse(Cause::lsb_knrp_sess_id_conflict,
                                   "connect: no free KNRP-sess ID LSB with this target through "
                                   "this relay"));
    }
    auto pdu = codec::encode(m);
    if (!pdu) return fail_now(refuse(pdu.error(), Cause::protocol_error_unspecified, "request"));

    a.pdu = *pdu;
    a.next = now + cfg.t5080;
    l.summary.id = pc5::make_link_id(cfg.user_info, target, a.tag);
    l.summary.started = now;
    l.relay_l2 = *req.relay_l2;
    l.seq = m.seq;
    l.attempt.emplace(std::move(a));
    send(l.relay_l2, pc5::lcid::kSrb0, MessageType::establishment_request, std::move(*pdu));
    return move_to(State::wait_accept);
}

// Seed 001 step 8.
Next Engine::Impl::on_accept(Link& l, const codec::DirectLinkEstablishmentAccept& m, Time now) {
    Attempt& p = *l.attempt;
    const std::string& target = l.summary.peer;
    Refusal why;
    // An accept that does not verify is unprotected and may be forged or corrupted on the air:
    // it is noted and dropped, and the source waits for the genuine one (unverified_answer).
    auto reject = [&](Refusal r) { return unverified_answer(l, std::move(r), false); };
    // Seed 001 step 7: the accept carries the target's and the relay's Authentication_Info.
    if (!m.authentication_info || !m.relay_authentication_info)
        return reject(refuse(Cause::authentication_failure,
                             "accept without both Authentication_Info (seed 001 step 7)"));
    const auto& tinfo = *m.authentication_info;
    const auto& rinfo = *m.relay_authentication_info;
    // Seed 001 step 8: the target's key (hardened: certificate) ...
    auto tgt = check_info(tinfo, now, why, "target");
    if (!tgt) return reject(why);
    // ... belongs to the target we asked for.
    if (as_string(tinfo.user_info_id) != target || as_string(m.source_user_info) != target)
        return reject(refuse(Cause::authentication_failure,
                             "accept from another UE than the requested target"));
    auto rel = check_info(rinfo, now, why, "relay");
    if (!rel) return reject(why);
    std::optional<wire::HardenedContext> ctx;
    std::optional<PublicKey> eph_peer;
    if (cfg.mode == Mode::hardened) {
        if (auto st = creds::check_target_user_info(*tgt->peer, target, "target"); !st)
            return reject(refuse(st.error(), Cause::authentication_failure, "target"));
        if (auto st = creds::may_be_peer(*tgt->peer, "target"); !st)
            return reject(
                refuse(st.error(), Cause::direct_communication_not_allowed, "authorisation"));
        if (rel->peer->user_info_id != p.relay)
            return reject(refuse(Cause::authentication_failure,
                                 "accept signed by another relay than the one selected"));
        // The relay serves the RSC, and the target may be reached through it for it (#11).
        if (auto st = creds::may_use_relay(*tgt->peer, *rel->peer, p.rsc, "target", "relay"); !st)
            return reject(refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
        if (!tinfo.nonce || !tinfo.ephemeral_public_key)
            return reject(refuse(Cause::authentication_failure,
                                 "hardened accept without nonce or ephemeral key"));
        auto pe = PublicKey::from_encoded(kEphemeralKeyType, tinfo.ephemeral_public_key->bytes);
        if (!pe)
            return reject(
                refuse(pe.error(), Cause::authentication_failure, "target ephemeral key"));
        eph_peer.emplace(std::move(*pe));
        ctx = wire::HardenedContext{cfg.user_info, target,       p.relay,         p.rsc,
                                    *p.nonce_1,    *tinfo.nonce, p.request_digest};
    }
    auto body = wire::body(m);
    if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
    // Seed 001 step 8: verify SIGN-Target and SIGN2-relay.
    const Signed s{MessageType::establishment_accept, *body, tinfo, &rinfo, ctx ? &*ctx : nullptr};
    if (!check_signed_by(tgt->key, s, wire::Signer::target, why, "SIGN-Target") ||
        !check_signed_by(rel->key, s, wire::Signer::relay, why, "SIGN2-relay"))
        return reject(why);
    // The path the request asked for, echoed by the target (signed: checked after the signatures,
    // so that a change on the way is a signature failure); the layer-3 path needs the relay's
    // ephemeral key for the hop.
    const auto path =
        p.l3 ? codec::RelayIndication::via_layer3_relay : codec::RelayIndication::via_layer2_relay;
    if (m.relay_indication != path)
        return reject(refuse(Cause::protocol_error_unspecified,
                             "accept for another path than the request's (relay indication)"));
    if (!rinfo.ephemeral_public_key)
        return reject(refuse(Cause::authentication_failure,
                             "accept without the relay's ephemeral key (the hop's key)"));
    // The target's algorithm choice must be one we offered.
    if (!tinfo.selected_algorithms)
        return reject(
            refuse(Cause::ue_security_capabilities_mismatch, "accept without selected algorithms"));
    const auto c = static_cast<CipheringAlgorithm>(tinfo.selected_algorithms->ciphering);
    const auto i = static_cast<IntegrityAlgorithm>(tinfo.selected_algorithms->integrity);
    const auto& offered_c = cfg.policy.ciphering;
    const auto& offered_i = cfg.policy.integrity;
    if (std::find(offered_c.begin(), offered_c.end(), c) == offered_c.end() ||
        std::find(offered_i.begin(), offered_i.end(), i) == offered_i.end() ||
        i == IntegrityAlgorithm::nia0)
        return reject(refuse(Cause::ue_security_capabilities_mismatch,
                             "selected algorithms were not offered"));

    // Seed 001 step 8: KD from our private key and the target's public key.
    const auto f1 = freshness(p.nonce_1, p.source_signature);
    const auto f2 = freshness(tinfo.nonce, tinfo.signature.bytes);
    auto keys = derive(tgt->key, p.ephemeral ? &*p.ephemeral : nullptr,
                       eph_peer ? &*eph_peer : nullptr, f1, f2, cfg.user_info, target, c, i, why);
    if (!keys) return reject(why);
    // The hop to the relay, from the ephemeral key the relay signed into the accept (SIGN2-relay,
    // verified above).
    std::optional<Hop> hop;
    {
        const std::string relay(as_string(rinfo.user_info_id));
        pc5::LinkSummary hs;
        hs.id = pc5::make_link_id(cfg.user_info, relay, p.tag);
        hs.peer = relay;
        hs.target = target;
        hs.initiator = true;
        hs.peer_l2 = l.relay_l2;
        hs.started = l.summary.started;
        hs.ciphering = c;
        hs.integrity = i;
        hop = derive_hop(*p.ephemeral, rinfo.ephemeral_public_key->bytes, f1, f2, cfg.user_info,
                         relay, std::move(hs), now, why);
        if (!hop) return reject(why);
    }
    if (!install_keys(l, l.relay_l2, key_id_of(p.tag), c, i, *keys, now, why)) return reject(why);
    log_keys(l, *keys, p.nonce_1, tinfo.nonce);
    l.hop = std::move(hop);
    l.l3 = p.l3;
    l.remote_local_id = heard_srap->src_ue;  // the target's, which the relay wrote (TS 38.351)
    report_hop(l);
    events.push_back(pc5::LinkEstablished{l.summary});
    l.attempt.reset();  // the request, its ephemeral key and nonce: no longer needed
    if (cfg.mode == Mode::literal) return move_to(State::established);
    // Hardened key confirmation: show the target at once that this UE holds KD.
    send_confirmation(l, now);
    return move_to(State::confirming);
}

// An ESTABLISHMENT REJECT is unprotected: anyone on the air can send `03 <seq> <cause>` under
// any L2 ID (docs/solution-b.md "Unprotected rejects").
Next Engine::Impl::on_reject(Link& l, const codec::DirectLinkEstablishmentReject& m, Time) {
    return unverified_answer(
        l, refuse(m.cause, fmt::format("rejected with cause #{}", static_cast<unsigned>(m.cause))),
        true);
}

// An answer to the request that cannot be believed: a reject (unprotected) or an accept that
// does not verify. It never ends the attempt (issue 17: a genuine answer could still complete
// it): the first makes the source send the request again at once, each one is noted, and the
// attempt goes on waiting for T5080 (on_request_timeout reports the last one).
Next Engine::Impl::unverified_answer(Link& l, Refusal r, bool by_peer) {
    Attempt& p = *l.attempt;
    const std::string what = by_peer ? "unprotected reject" : "accept refused";
    drop(pc5::DropReason::unexpected,
         fmt::format("{}: {}{}", what, r.reason,
                     p.asked_again ? "" : "; the request sent again to hear the genuine answer"),
         l.summary.id);
    p.last_refusal = std::move(r);
    p.refused_by_peer = by_peer;
    if (!p.asked_again) {
        p.asked_again = true;
        counters.retransmissions++;
        send(l.relay_l2, pc5::lcid::kSrb0, MessageType::establishment_request, p.pdu);
    }
    return stay();
}

// TS 24.554 T5080: the request again, `max_retransmissions` times; then the attempt fails with
// the last answer it could not believe (a peer's reject, or its own refusal of an accept, which
// the relay and the target then hear), or #4 if it heard none.
Next Engine::Impl::on_request_timeout(Link& l, Time now) {
    Attempt& p = *l.attempt;
    if (p.retransmissions >= cfg.max_retransmissions) {
        if (!p.last_refusal) {
            failed(l.summary.id, l.summary.peer,
                   refuse(Cause::direct_connection_not_available,
                          fmt::format("T5080 expired {} times: no accept", p.retransmissions + 1)),
                   false, now);
            return gone();
        }
        Refusal r = std::move(*p.last_refusal);
        r.reason +=
            fmt::format(" (the last answer heard; T5080 expired {} times)", p.retransmissions + 1);
        if (!p.refused_by_peer) send_reject(l.relay_l2, l.seq, r.cause);
        failed(l.summary.id, l.summary.peer, r, p.refused_by_peer, now);
        return gone();
    }
    p.retransmissions++;
    p.next = now + cfg.t5080;
    counters.retransmissions++;
    send(l.relay_l2, pc5::lcid::kSrb0, MessageType::establishment_request, p.pdu);
    return stay();
}

Next Engine::Impl::abandon(Link& l, Time now) {
    failed(l.summary.id, l.summary.peer,
           refuse(Cause::direct_communication_no_longer_needed, "released"), false, now);
    return gone();
}

}  // namespace pc5sec::sigauth
