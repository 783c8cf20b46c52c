// The target (seed 001 steps 4-5): it verifies the source's and the relay's signatures, checks
// every party's authorisation (hardened), derives KD and signs the accept. Hardened, it keeps a
// replay cache and holds the link unconfirmed until the source shows it holds KD.
#include <algorithm>

#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

// Before the table: a repeat of a request this target refused lately gets the same reject (no
// second verification, no second report); a retransmitted request (T5080) of a link it just
// made gets the same accept again.
bool Engine::Impl::answer_retransmission(const pc5::Frame& f,
                                         const codec::DirectLinkEstablishmentRequest& m,
                                         const std::string& id,
                                         const std::array<std::uint8_t, 32>& digest, Time now) {
    std::erase_if(recent_rejects, [&](const RecentReject& r) { return r.until <= now; });
    for (auto& r : recent_rejects) {
        if (r.from != f.src || r.seq != m.seq || r.digest != digest) continue;
        if (r.reanswers >= reanswer_budget()) {
            drop(pc5::DropReason::duplicate, "repeated request over the re-answer budget", id);
            return true;
        }
        r.reanswers++;
        counters.retransmissions++;
        send_reject(f.src, m.seq, r.cause);
        drop(pc5::DropReason::duplicate, "retransmitted request: refused again", id);
        return true;
    }
    for (auto& l : links) {
        if (!l.gone && l.summary.id == id && l.request_digest == digest && !l.accept_pdu.empty() &&
            now - l.accepted_at <= retransmission_window()) {
            if (l.reanswers >= reanswer_budget()) {
                drop(pc5::DropReason::duplicate, "repeated request over the re-answer budget", id);
                return true;
            }
            l.reanswers++;
            counters.retransmissions++;
            ++l.establishment_frames;
            check_frame_bound(l.establishment_frames, l.summary.id);
            answer_rsc = m.relay_service_code ? m.relay_service_code->value : 0;
            send(f.src, pc5::lcid::kSrb0, MessageType::establishment_accept, l.accept_pdu);
            answer_rsc = 0;
            drop(pc5::DropReason::duplicate, "retransmitted request", id);
            return true;
        }
    }
    return false;
}

// Seed 001 steps 4-5.
Next Engine::Impl::on_request(Link& l, const pc5::Frame& f,
                              const codec::DirectLinkEstablishmentRequest& m, Time now) {
    const std::string source(as_string(m.source_user_info));
    const std::string& id = l.summary.id;
    Refusal why;
    // Seed 001 step 3: the request carries the source's and the relay's Authentication_Info.
    if (!m.authentication_info || !m.relay_authentication_info) {
        send_reject(f.src, m.seq, Cause::authentication_failure);
        failed(id, source,
               refuse(Cause::authentication_failure,
                      "request without both Authentication_Info (seed 001 step 3)"),
               false, now);
        return gone();
    }
    const auto& sinfo = *m.authentication_info;
    const auto& rinfo = *m.relay_authentication_info;
    auto body = wire::body(m);
    const auto digest = body ? wire::request_digest(*body, sinfo) : std::array<std::uint8_t, 32>{};
    // Refused: the reject is remembered, so a repeat gets it again (answer_retransmission).
    auto reject = [&](Refusal r) {
        if (recent_rejects.size() >= kRecentRejects) recent_rejects.pop_front();
        recent_rejects.push_back(
            RecentReject{f.src, m.seq, digest, r.cause, now + retransmission_window(), 0});
        send_reject(f.src, m.seq, r.cause);
        failed(id, source, r, false, now);
        return gone();
    };
    if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
    const std::uint32_t tag = link_tag(cfg.mode, sinfo.signature.bytes, m.nonce_1);
    std::string replay_key;
    if (cfg.mode == Mode::hardened) {
        if (!m.nonce_1 || !sinfo.ephemeral_public_key)
            return reject(refuse(Cause::authentication_failure,
                                 "hardened request without Nonce_1 or ephemeral key"));
        // Hardened replay cache: a Nonce_1 this source already used is refused (silently: the
        // sender is not who it claims, so a reject would only tell an attacker more).
        replay_key = source + '\0' + std::string(m.nonce_1->begin(), m.nonce_1->end());
        expire_replay_cache(now);
        if (replay_cache.count(replay_key)) {
            drop(pc5::DropReason::replay, "Nonce_1 already seen from this source (replay cache)",
                 id);
            return gone();
        }
    }
    // Seed 001 step 4: the source's key (hardened: certificate) and the relay's.
    auto src = check_info(sinfo, now, why, "source");
    if (!src) return reject(why);
    if (as_string(sinfo.user_info_id) != source)
        return reject(
            refuse(Cause::authentication_failure, "source Authentication_Info names another UE"));
    auto rel = check_info(rinfo, now, why, "relay");
    if (!rel) return reject(why);
    // The hop to the relay (docs/solution-b.md "The hops") is keyed from the relay's ephemeral
    // key, which SIGN1-relay covers.
    const bool l3 = m.relay_indication == codec::RelayIndication::via_layer3_relay;
    std::optional<wire::HardenedContext> ctx;
    std::uint32_t rsc = m.relay_service_code ? m.relay_service_code->value : 0;
    if (cfg.mode == Mode::hardened) {
        // docs/credentials.md: the source must be an end UE (#1) ...
        if (auto st = creds::may_be_peer(*src->peer, "source"); !st)
            return reject(
                refuse(st.error(), Cause::direct_communication_not_allowed, "authorisation"));
        // ... the relay must be the one the source named, and signed as ...
        if (!m.u2u_relay_ue_user_info ||
            as_string(*m.u2u_relay_ue_user_info) != rel->peer->user_info_id)
            return reject(
                refuse(Cause::authentication_failure, "the relay is not the one the source named"));
        if (!m.relay_service_code)
            return reject(refuse(Cause::protocol_error_unspecified,
                                 "hardened request without relay service code"));
        // ... and both authorised for the RSC (#11).
        if (auto st = creds::may_use_relay(*src->peer, *rel->peer, rsc, "source", "relay"); !st)
            return reject(refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
        // ... and this UE itself is authorised for the RSC (#11), as solution A's target checks
        // its own certificate.
        if (!self->authorisation.has_rsc(rsc))
            return reject(refuse(
                Cause::required_service_not_allowed,
                fmt::format("authorisation: own certificate: prose-authorisation.rscs: '{}' is "
                            "not authorised to use relay service code 0x{:06x}",
                            cfg.user_info, rsc)));
        // Hardened freshness: the source and the relay signed within the window.
        if (!check_fresh(sinfo, now, why, "source") || !check_fresh(rinfo, now, why, "relay"))
            return reject(why);
        ctx = wire::HardenedContext{
            source, cfg.user_info, rel->peer->user_info_id, rsc, *m.nonce_1, {}, {}};
    }
    // Seed 001 step 4: verify SIGN-Source and SIGN1-relay.
    const Signed s{MessageType::establishment_request, *body, sinfo, &rinfo, ctx ? &*ctx : nullptr};
    if (!check_signed_by(src->key, s, wire::Signer::source, why, "SIGN-Source") ||
        !check_signed_by(rel->key, s, wire::Signer::relay, why, "SIGN1-relay"))
        return reject(why);
    if (!rinfo.ephemeral_public_key || !sinfo.ephemeral_public_key)
        return reject(refuse(Cause::authentication_failure,
                             "request without the source's or the relay's ephemeral key (the "
                             "hop's key)"));

    // TS 33.536 5.3.3.1.2 (3gpp-facts §2), as solution A: a signalling policy mismatch is #10.
    const auto& mine = cfg.policy.signalling;
    const auto theirs_i = static_cast<PolicyLevel>(m.signalling_security_policy.integrity);
    const auto theirs_c = static_cast<PolicyLevel>(m.signalling_security_policy.ciphering);
    if (policy_mismatch(mine.integrity, theirs_i))
        return reject(refuse(Cause::signalling_security_policy_mismatch,
                             fmt::format("signalling integrity: ours {}, theirs {}",
                                         name(mine.integrity), name(theirs_i))));
    if (policy_mismatch(mine.ciphering, theirs_c))
        return reject(refuse(Cause::signalling_security_policy_mismatch,
                             fmt::format("signalling ciphering: ours {}, theirs {}",
                                         name(mine.ciphering), name(theirs_c))));
    // Algorithms: the first of ours that the source offered (TS 33.536 5.3.3.1.3). Integrity is
    // always active; ciphering is when neither policy says NOT NEEDED (else NEA0).
    const auto ea = m.ue_security_capabilities.ea, ia = m.ue_security_capabilities.ia;
    CipheringAlgorithm cipher = CipheringAlgorithm::nea0;
    std::optional<IntegrityAlgorithm> integ;
    if (policy_active(mine.ciphering, theirs_c)) {
        for (auto a : cfg.policy.ciphering)
            if (a != CipheringAlgorithm::nea0 && (ea & (0x80 >> static_cast<unsigned>(a)))) {
                cipher = a;
                break;
            }
        if (cipher == CipheringAlgorithm::nea0 &&
            (mine.ciphering == PolicyLevel::required || theirs_c == PolicyLevel::required))
            return reject(refuse(Cause::ue_security_capabilities_mismatch,
                                 "ciphering required but no common ciphering algorithm"));
    }
    for (auto a : cfg.policy.integrity)
        if (!integ && a != IntegrityAlgorithm::nia0 && (ia & (0x80 >> static_cast<unsigned>(a))))
            integ = a;
    if (!integ)
        return reject(refuse(Cause::ue_security_capabilities_mismatch,
                             "no common integrity algorithm (solution B always protects "
                             "integrity)"));
    const KnrpSessId key_id = key_id_of(tag);
    // Links through one relay are told apart by the peer's local UE ID, then the KNRP-sess ID.
    for (const auto& o : links)
        if (!o.gone && o.relay_l2 == f.src && o.remote_local_id == heard_srap->src_ue &&
            o.summary.knrp_sess_id.lsb() == key_id.lsb() && o.summary.id != id)
            return reject(refuse(Cause::lsb_knrp_sess_id_conflict,
                                 "KNRP-sess ID already in use with this source through this "
                                 "relay"));

    if (!step0(now, why)) return reject(why);
    // Seed 001 step 5: the accept with the target's Authentication_Info.
    std::optional<Nonce> n2;
    std::optional<PrivateKey> eph;
    std::optional<PublicKey> eph_peer;
    std::vector<std::uint8_t> eph_pub;
    if (cfg.mode == Mode::hardened) {
        auto pe = PublicKey::from_encoded(kEphemeralKeyType, sinfo.ephemeral_public_key->bytes);
        if (!pe)
            return reject(
                refuse(pe.error(), Cause::authentication_failure, "source ephemeral key"));
        eph_peer.emplace(std::move(*pe));
        n2 = rng->bytes<16>();
    }
    {
        counters.crypto.keygen++;
        auto e = PrivateKey::generate(kEphemeralKeyType, *rng);
        if (!e) return reject(refuse(e.error(), Cause::protocol_error_unspecified, "keygen"));
        eph.emplace(std::move(*e));
        eph_pub = eph->public_key().encoded();
    }
    codec::DirectLinkEstablishmentAccept acc;
    acc.seq = m.seq;
    acc.source_user_info = octets(cfg.user_info);
    acc.relay_indication =
        l3 ? codec::RelayIndication::via_layer3_relay : codec::RelayIndication::via_layer2_relay;
    auto abody = wire::body(acc);
    if (!abody) return reject(refuse(abody.error(), Cause::protocol_error_unspecified, "body"));
    codec::AuthenticationInfo tinfo = own_info(now);
    tinfo.nonce = n2;
    if (!eph_pub.empty()) tinfo.ephemeral_public_key = octets(eph_pub);
    tinfo.selected_algorithms = codec::SecurityAlgorithms{static_cast<std::uint8_t>(cipher),
                                                          static_cast<std::uint8_t>(*integ)};
    if (ctx) {
        ctx->nonce_2 = n2;
        ctx->request_digest = digest;
    }
    const auto tbs = wire::to_be_signed(cfg.mode, MessageType::establishment_accept,
                                        wire::Signer::target, *abody, tinfo, ctx ? &*ctx : nullptr);
    auto sig = sign_tbs(tbs);
    if (!sig) return reject(refuse(Cause::protocol_error_unspecified, "sign: SIGN-Target"));
    tinfo.signature = octets(*sig);
    acc.authentication_info = tinfo;
    auto pdu = codec::encode(acc);
    if (!pdu) return reject(refuse(pdu.error(), Cause::protocol_error_unspecified, "encode"));

    // Seed 001 step 4: KD from our private key and the source's public key.
    const auto f1 = freshness(m.nonce_1, sinfo.signature.bytes);
    const auto f2 = freshness(n2, *sig);
    auto keys = derive(src->key, eph ? &*eph : nullptr, eph_peer ? &*eph_peer : nullptr, f1, f2,
                       source, cfg.user_info, cipher, *integ, why);
    if (!keys) return reject(why);
    std::optional<Hop> hop;
    {
        const std::string relay(as_string(rinfo.user_info_id));
        pc5::LinkSummary hs;
        hs.id = pc5::make_link_id(relay, cfg.user_info, tag);
        hs.peer = relay;
        hs.target = cfg.user_info;
        hs.peer_l2 = f.src;
        hs.started = now;
        hs.ciphering = cipher;
        hs.integrity = *integ;
        hop = derive_hop(*eph, rinfo.ephemeral_public_key->bytes, f1, f2, cfg.user_info, relay,
                         std::move(hs), now, why);
        if (!hop) return reject(why);
    }
    // `l` is new, not yet kept: what fails before here leaves nothing. install_keys changes
    // it only when it succeeds.
    if (!install_keys(l, f.src, key_id, cipher, *integ, *keys, now, why)) return reject(why);
    l.hop = std::move(hop);
    l.l3 = l3;
    l.remote_local_id = heard_srap->src_ue;  // the source's, which the relay wrote (TS 38.351)

    // Commit: the link (it replaces one of the same id), the replay cache, the accept.
    l.summary.started = now;
    l.seq = m.seq;
    l.request_digest = digest;
    l.accept_pdu = *pdu;
    l.accepted_at = now;
    if (!replay_key.empty()) remember_nonce(replay_key, now);
    log_keys(l, *keys, m.nonce_1, n2);
    for (auto& o : links)
        if (o.summary.id == id) o.gone = true;  // a new link of the same id replaces it
    answer_rsc = m.relay_service_code ? m.relay_service_code->value : 0;  // as the request came
    send(f.src, pc5::lcid::kSrb0, MessageType::establishment_accept, std::move(*pdu));
    answer_rsc = 0;
    if (cfg.mode == Mode::literal) {
        report_hop(l);
        events.push_back(pc5::LinkEstablished{l.summary});
        return move_to(State::established);
    }
    // Key confirmation: established once a PDU from the source verifies (seed 001 has no third
    // message; docs/solution-b.md "Key confirmation").
    l.confirm_deadline = now + cfg.key_confirmation_timeout;
    return move_to(State::unconfirmed);
}

// An unprotected reject of our accept: noted for the report. Hardened, the unconfirmed link
// ends only by its timer; anyone can forge a reject.
Next Engine::Impl::note_reject(Link& l, const codec::DirectLinkEstablishmentReject& m) {
    l.reject_heard = m.cause;
    drop(pc5::DropReason::unexpected,
         "unprotected reject (ignored: anyone can forge one; an unconfirmed link ends by its key "
         "confirmation timer)",
         l.summary.id);
    return stay();
}

// Key confirmation: the source holds KD. Now the link is established.
Next Engine::Impl::on_confirmed(Link& l, Time now) {
    l.confirm_deadline = pc5::kNever;
    l.summary.established = now;
    auto summary = l.summary;
    report_hop(l);
    events.push_back(pc5::LinkEstablished{std::move(summary)});
    return move_to(State::established);
}

// No PDU from the source verified under keys from KD: wipe the link.
Next Engine::Impl::on_confirm_timeout(Link& l, Time now) {
    const Cause c = l.reject_heard.value_or(Cause::direct_connection_not_available);
    failed(l.summary.id, l.summary.peer,
           refuse(c, fmt::format("key confirmation: no protected PDU from the source within {} s{}",
                                 std::chrono::duration_cast<std::chrono::seconds>(
                                     cfg.key_confirmation_timeout)
                                     .count(),
                                 l.reject_heard ? " (an unprotected reject was heard)" : "")),
           false, now);
    return gone();
}

void Engine::Impl::expire_replay_cache(Time now) {
    while (!replay_order.empty() && (replay_order.front().expires <= now ||
                                     replay_order.size() > cfg.replay_cache_capacity)) {
        auto it = replay_cache.find(replay_order.front().key);
        if (it != replay_cache.end() && it->second == replay_order.front().expires)
            replay_cache.erase(it);
        replay_order.pop_front();
    }
}

void Engine::Impl::remember_nonce(const std::string& key_, Time now) {
    const Time expires = now + cfg.replay_cache_lifetime;
    replay_cache[key_] = expires;
    replay_order.push_back(ReplayEntry{key_, expires});
    expire_replay_cache(now);
}

}  // namespace pc5sec::sigauth
