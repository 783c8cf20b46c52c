// The UE-to-UE relay (seed 001 steps 2-3 and 6-7): it verifies what an end UE signed, signs the
// message with its own Authentication_Info and forwards it (written once, sign_and_forward);
// then it routes the end UEs' protected PDUs, which it cannot read: it never holds KD.
#include <algorithm>

#include <fmt/format.h>

#include "pc5sec/kdf.hpp"
#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

namespace {
template <class M>
constexpr MessageType type_of() {
    if constexpr (std::is_same_v<M, codec::DirectLinkEstablishmentRequest>)
        return MessageType::establishment_request;
    else
        return MessageType::establishment_accept;
}
}  // namespace

// Seed 001 steps 2-3 (SIGN1-relay) and 6-7 (SIGN2-relay): sign the message and the relay's own
// info, attach it. A misbehaving relay's Tamper hooks edit the message before it signs (only the
// end UE's signature can catch that) or after (the relay's own signature catches it).
template <class M>
std::optional<std::vector<std::uint8_t>> Engine::Impl::sign_and_forward(const ToForward<M>& in,
                                                                        Time now, Refusal& why) {
    constexpr MessageType type = type_of<M>();
    const auto& hook = [&]() -> const std::function<void(M&)>& {
        if constexpr (type == MessageType::establishment_request)
            return cfg.tamper.on_request;
        else
            return cfg.tamper.on_accept;
    }();
    M out = in.received;
    if (cfg.tamper.phase == Tamper::Phase::before_sign && hook) hook(out);
    auto body = wire::body(out);
    if (!body) {
        why = refuse(body.error(), Cause::protocol_error_unspecified, "body");
        return std::nullopt;
    }
    const auto& signer = out.authentication_info ? *out.authentication_info : in.signer;
    std::optional<wire::HardenedContext> ctx = in.context;
    if (ctx) {
        // A tampering relay signs what it forwards.
        if constexpr (type == MessageType::establishment_request) {
            if (out.nonce_1) ctx->nonce_1 = *out.nonce_1;
            if (out.target_user_info) ctx->target = std::string(as_string(*out.target_user_info));
            ctx->source = std::string(as_string(out.source_user_info));
            if (out.relay_service_code) ctx->rsc = out.relay_service_code->value;
        } else if (signer.nonce) {
            ctx->nonce_2 = *signer.nonce;
        }
    }
    // A rogue relay's key substitution (Tamper::substitute_end_keys): the end UE's key or
    // certificate replaced by the relay's own, and the end UE's signature made anew with it.
    codec::AuthenticationInfo substituted;
    std::vector<std::uint8_t> substituted_signature;  // the view's storage, until encoded
    if (cfg.tamper.substitute_end_keys && out.authentication_info) {
        const codec::AuthenticationInfo mine = own_info(now);
        substituted = *out.authentication_info;
        substituted.public_key = mine.public_key;
        substituted.certificate = mine.certificate;
        const auto tbs_end =
            wire::to_be_signed(cfg.mode, type,
                               type == MessageType::establishment_request ? wire::Signer::source
                                                                          : wire::Signer::target,
                               *body, substituted, ctx ? &*ctx : nullptr);
        auto sig = sign_tbs(tbs_end);
        if (!sig) {
            why = refuse(Cause::protocol_error_unspecified, "sign: substituted end UE signature");
            return std::nullopt;
        }
        substituted_signature = std::move(*sig);
        substituted.signature = octets(substituted_signature);
        out.authentication_info = substituted;
    }
    codec::AuthenticationInfo rinfo = own_info(now);
    if (in.hop_ephemeral)
        rinfo.ephemeral_public_key = octets(in.hop_ephemeral->public_key().encoded());
    const auto tbs = wire::to_be_signed(cfg.mode, type, wire::Signer::relay, *body, signer,
                                        ctx ? &*ctx : nullptr, signer.signature.bytes, &rinfo);
    auto sig = sign_tbs(tbs);
    if (!sig) {
        why = refuse(Cause::protocol_error_unspecified, type == MessageType::establishment_request
                                                            ? "sign: SIGN1-relay"
                                                            : "sign: SIGN2-relay");
        return std::nullopt;
    }
    rinfo.signature = octets(*sig);
    out.relay_authentication_info = rinfo;
    if (cfg.tamper.phase == Tamper::Phase::after_sign && hook) hook(out);
    auto pdu = codec::encode(out);
    if (!pdu) {
        why = refuse(pdu.error(), Cause::protocol_error_unspecified, "encode");
        return std::nullopt;
    }
    return std::move(*pdu);
}

// A retransmitted request (T5080) of a route this relay keeps: answered from the route (the
// request forwarded again while pending, the accept once routed), not signed again. A copy
// later than the request's retransmissions is not one: it goes to the table (and is refused as
// a clash, or as stale when hardened).
bool Engine::Impl::answer_retransmission(const pc5::Frame& f,
                                         const codec::DirectLinkEstablishmentRequest& m, Time now) {
    if (!m.authentication_info) return false;
    auto body = wire::body(m);
    if (!body) return false;
    const auto digest = wire::request_digest(*body, *m.authentication_info);
    for (auto& r : routes) {
        if (r.gone || r.source_l2 != f.src || r.seq != m.seq || r.request_digest != digest ||
            now - r.requested_at > retransmission_window())
            continue;
        if (r.reanswers >= reanswer_budget()) {
            drop(pc5::DropReason::duplicate,
                 "repeated request over the re-answer budget: not answered", r.id);
            return true;
        }
        r.reanswers++;
        counters.retransmissions++;
        ++r.establishment_frames;
        check_frame_bound(r.establishment_frames, r.id);
        if (r.state == State::pending)
            forward_to(r, true, MessageType::establishment_request, r.forwarded_request);
        else
            forward_to(r, false, MessageType::establishment_accept, r.forwarded_accept);
        drop(pc5::DropReason::duplicate, "retransmitted request", r.id);
        return true;
    }
    return false;
}

// A request that is signed and pending or routed already, heard again from another L2 ID: a
// replay (the source's retransmissions come from its own L2 ID, answer_retransmission). Dropped
// before its signatures are checked again, so a flood of one recorded request from fresh L2 IDs
// makes no route and costs no verification.
bool Engine::Impl::replayed_from_elsewhere(const pc5::Frame& f,
                                           const codec::DirectLinkEstablishmentRequest& m) {
    if (!m.authentication_info) return false;
    auto body = wire::body(m);
    if (!body) return false;
    const auto digest = wire::request_digest(*body, *m.authentication_info);
    for (const auto& r : routes)
        if (!r.gone && r.request_digest == digest && r.source_l2 != f.src) {
            drop(pc5::DropReason::replay,
                 fmt::format(
                     "request already heard from L2 ID 0x{:06x}: a replay from another L2 ID",
                     r.source_l2),
                 r.id);
            return true;
        }
    return false;
}

// Config::max_pending_routes: the oldest pending route goes to make room for a newer one.
void Engine::Impl::make_room_for_pending(Time now) {
    std::size_t pending = 0;
    Route* oldest = nullptr;
    for (auto& r : routes)
        if (!r.gone && r.state == State::pending) {
            ++pending;
            if (!oldest || r.requested_at < oldest->requested_at) oldest = &r;
        }
    if (pending < cfg.max_pending_routes || !oldest) return;
    failed(oldest->id, oldest->target,
           refuse(Cause::congestion,
                  "pending request pushed out by a newer one (Config::max_pending_routes)"),
           false, now);
    oldest->gone = true;
}

// Seed 001 steps 2-3.
Next Engine::Impl::on_request(Route& r, const pc5::Frame& f,
                              const codec::DirectLinkEstablishmentRequest& m, Time now) {
    const std::string source(as_string(m.source_user_info));
    Refusal why;
    auto reject = [&](Refusal refusal) {
        send_reject(f.src, m.seq, refusal.cause);
        failed("", source, refusal, false, now);
        return gone();
    };
    // Seed 001 step 1: the request carries the source's Authentication_Info.
    if (!m.authentication_info)
        return reject(refuse(Cause::authentication_failure,
                             "request without Authentication_Info (seed 001 step 1)"));
    if (m.relay_authentication_info)
        return reject(refuse(Cause::protocol_error_unspecified,
                             "a source must not send a relay Authentication_Info"));
    if (!m.target_user_info || !m.relay_service_code)
        return reject(refuse(Cause::protocol_error_unspecified,
                             "request without Target User Info or relay service code"));
    const std::string target(as_string(*m.target_user_info));
    const std::uint32_t rsc = m.relay_service_code->value;
    // docs/credentials.md: the relay serves only its configured RSCs.
    if (std::find(cfg.rscs.begin(), cfg.rscs.end(), rsc) == cfg.rscs.end())
        return reject(refuse(Cause::required_service_not_allowed,
                             fmt::format("relay does not serve rsc 0x{:06x}", rsc)));
    // Seed 001 step 0: the relay reaches the target it discovered.
    const auto dir = cfg.directory.find(target);
    if (dir == cfg.directory.end())
        return reject(refuse(Cause::direct_connection_not_available,
                             fmt::format("target '{}' is not in the relay's directory", target)));
    const auto& info = *m.authentication_info;
    // Seed 001 step 2: the relay checks the source's key (hardened: its certificate).
    auto src = check_info(info, now, why, "source");
    if (!src) return reject(why);
    // Seed 001 step 1: the Authentication_Info names the UE that sent the request.
    if (as_string(info.user_info_id) != source)
        return reject(
            refuse(Cause::authentication_failure, "source Authentication_Info names another UE"));
    std::optional<wire::HardenedContext> ctx;
    if (cfg.mode == Mode::hardened) {
        // Hardened: nonce, ephemeral key and this relay's identity must be in the request.
        if (!m.nonce_1 || !info.ephemeral_public_key)
            return reject(refuse(Cause::authentication_failure,
                                 "hardened request without Nonce_1 or ephemeral key"));
        if (!m.u2u_relay_ue_user_info || as_string(*m.u2u_relay_ue_user_info) != cfg.user_info)
            return reject(refuse(Cause::authentication_failure, "request names another relay"));
        // Hardened freshness: a request signed outside the window is stale (a replay).
        if (!check_fresh(info, now, why, "source")) return reject(why);
        // docs/credentials.md: an end UE may use a relay for this RSC (#11 if not).
        if (!cfg.tamper.ignore_authorisation) {
            if (auto st = creds::may_use_relay(*src->peer, *self, rsc, "source", "relay"); !st)
                return reject(
                    refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
        }
        ctx = wire::HardenedContext{source, target, cfg.user_info, rsc, *m.nonce_1, {}, {}};
    }
    auto body = wire::body(m);
    if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
    // Seed 001 step 2: verify SIGN-Source with the source's public key.
    const Signed s{MessageType::establishment_request, *body, info, nullptr, ctx ? &*ctx : nullptr};
    if (!check_signed_by(src->key, s, wire::Signer::source, why, "SIGN-Source")) return reject(why);
    const auto digest = wire::request_digest(*body, info);
    const std::uint32_t tag = link_tag(cfg.mode, info.signature.bytes, m.nonce_1);
    const KnrpSessId key_id = key_id_of(tag);
    // The relay routes protected PDUs by their SRAP header, and between the same two UEs by the
    // LSB of the KNRP-sess ID (re-keying changes the MSB): refuse a clash there (#9).
    for (const auto& o : routes)
        if (!o.gone && o.key_id.lsb() == key_id.lsb() &&
            ((o.source_l2 == f.src && o.target_l2 == dir->second) ||
             (o.source_l2 == dir->second && o.target_l2 == f.src)))
            return reject(refuse(Cause::lsb_knrp_sess_id_conflict,
                                 "KNRP-sess ID already routed for this UE"));

    if (!step0(now, why)) return reject(why);
    // The hops (docs/solution-b.md "The hops"): one to each end, keyed from this relay's
    // ephemeral key (signed into both messages it forwards) and each end's.
    const bool l3 = m.relay_indication == codec::RelayIndication::via_layer3_relay;
    std::optional<PrivateKey> hop_ephemeral;
    {
        if (!info.ephemeral_public_key)
            return reject(refuse(Cause::authentication_failure,
                                 "request without the source's ephemeral key (the hop's key)"));
        counters.crypto.keygen++;
        counters.crypto.kdf++;
        const auto raw = kdf(hop_seed->reveal(), fc::kRelayHopKey, {digest});
        auto e = PrivateKey::from_raw(kEphemeralKeyType, raw.reveal());
        if (!e) return reject(refuse(e.error(), Cause::protocol_error_unspecified, "keygen"));
        hop_ephemeral.emplace(std::move(*e));
    }
    // Seed 001 steps 2-3: sign the request and the relay's own user info; forward both.
    auto pdu = sign_and_forward(
        ToForward<codec::DirectLinkEstablishmentRequest>{m, info, ctx,
                                                         hop_ephemeral ? &*hop_ephemeral : nullptr},
        now, why);
    if (!pdu) return reject(why);
    // TS 38.351: each end UE has a local UE ID here, which the adaptation layer carries.
    const std::uint8_t source_local = local_id_of(f.src);
    const std::uint8_t target_local = local_id_of(dir->second);
    if (source_local == srap::kUnknownUeId || target_local == srap::kUnknownUeId)
        return reject(refuse(Cause::congestion, "no local UE ID left (255 end UEs routed)"));
    const auto& e = info.ephemeral_public_key->bytes;
    r.source_ephemeral.assign(e.begin(), e.end());
    r.hop_ephemeral = std::move(hop_ephemeral);
    r.source_local = source_local;
    r.target_local = target_local;
    r.l3 = l3;
    r.f1 = freshness(m.nonce_1, info.signature.bytes);
    r.tag = tag;

    r.source_l2 = f.src;
    r.target_l2 = dir->second;
    r.source = source;
    r.target = target;
    r.id = pc5::make_link_id(source, target, tag);
    r.seq = m.seq;
    r.rsc = rsc;
    r.key_id = key_id;
    r.request_digest = digest;
    if (cfg.mode == Mode::hardened)
        r.context =
            wire::HardenedContext{source, target, cfg.user_info, rsc, *m.nonce_1, {}, digest};
    r.forwarded_request = *pdu;
    r.requested_at = now;
    r.expires = now + retransmission_window();
    counters.frames_forwarded++;
    forward_to(r, true, MessageType::establishment_request, r.forwarded_request);
    return move_to(State::pending);
}

// Seed 001 steps 6-7.
Next Engine::Impl::on_accept(Route& r, const pc5::Frame&,
                             const codec::DirectLinkEstablishmentAccept& m, Time now) {
    Refusal why;
    // An accept that does not verify is unprotected and may be forged or corrupted on the air:
    // the route does not end. The source hears the refusal (a reject, which it notes and does
    // not believe at once: it asks again, and its retransmission draws the target's accept
    // again); the route waits for the genuine accept, and on_timeout tells the target if none
    // comes (it has installed keys).
    auto reject = [&](Refusal refusal) {
        drop(pc5::DropReason::unexpected, "accept refused: " + refusal.reason, r.id);
        if (r.rejects_passed < reanswer_budget()) {
            r.rejects_passed++;
            ++r.establishment_frames;
            check_frame_bound(r.establishment_frames, r.id);
            send_reject(r.source_l2, r.seq, refusal.cause);
        }
        r.last_refusal = std::move(refusal);
        return stay();
    };
    // Seed 001 step 5: the accept carries the target's Authentication_Info.
    if (!m.authentication_info || m.relay_authentication_info)
        return reject(refuse(Cause::authentication_failure,
                             "accept without the target's Authentication_Info alone"));
    const auto& tinfo = *m.authentication_info;
    // Seed 001 step 6: verify SIGN-Target with the target's key (hardened: certificate).
    auto tgt = check_info(tinfo, now, why, "target");
    if (!tgt) return reject(why);
    if (as_string(tinfo.user_info_id) != r.target || as_string(m.source_user_info) != r.target)
        return reject(refuse(Cause::authentication_failure,
                             "accept from another UE than the requested target"));
    std::optional<wire::HardenedContext> ctx = r.context;
    if (ctx && !cfg.tamper.ignore_authorisation) {
        // docs/credentials.md: the target must be an end UE (#1) that may be reached through
        // this relay for the RSC (#11).
        if (auto st = creds::may_be_peer(*tgt->peer, "target"); !st)
            return reject(
                refuse(st.error(), Cause::direct_communication_not_allowed, "authorisation"));
        if (auto st = creds::may_use_relay(*tgt->peer, *self, r.rsc, "target", "relay"); !st)
            return reject(refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
    }
    if (ctx) {
        if (!tinfo.nonce || !tinfo.ephemeral_public_key)
            return reject(refuse(Cause::authentication_failure,
                                 "hardened accept without nonce or ephemeral key"));
        ctx->nonce_2 = *tinfo.nonce;
    }
    auto body = wire::body(m);
    if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
    const Signed s{MessageType::establishment_accept, *body, tinfo, nullptr, ctx ? &*ctx : nullptr};
    if (!check_signed_by(tgt->key, s, wire::Signer::target, why, "SIGN-Target")) return reject(why);

    if (!step0(now, why)) return reject(why);
    // The two hops, keyed from this relay's ephemeral key and each end's.
    std::vector<Hop> hops;
    if (r.hop_ephemeral) {
        if (!tinfo.ephemeral_public_key || !tinfo.selected_algorithms)
            return reject(refuse(Cause::authentication_failure,
                                 "accept without the target's ephemeral key or algorithms (the "
                                 "hop's key)"));
        const auto f2 = freshness(tinfo.nonce, tinfo.signature.bytes);
        const auto hop_to = [&](const std::string& end, pc5::L2Id l2, bool source) {
            pc5::LinkSummary hs;
            hs.id = source ? pc5::make_link_id(end, cfg.user_info, r.tag)
                           : pc5::make_link_id(cfg.user_info, end, r.tag);
            hs.peer = end;
            hs.target = r.target;
            hs.initiator = !source;  // the source asked the relay; the relay asked the target
            hs.peer_l2 = l2;
            hs.started = r.requested_at;
            hs.ciphering = static_cast<CipheringAlgorithm>(tinfo.selected_algorithms->ciphering);
            hs.integrity = static_cast<IntegrityAlgorithm>(tinfo.selected_algorithms->integrity);
            return derive_hop(
                *r.hop_ephemeral,
                source ? std::span<const std::uint8_t>(r.source_ephemeral)
                       : std::span<const std::uint8_t>(tinfo.ephemeral_public_key->bytes),
                r.f1, f2, end, cfg.user_info, std::move(hs), now, why);
        };
        auto to_source = hop_to(r.source, r.source_l2, true);
        if (!to_source) return reject(why);
        auto to_target = hop_to(r.target, r.target_l2, false);
        if (!to_target) return reject(why);
        hops.push_back(std::move(*to_source));
        hops.push_back(std::move(*to_target));
    }
    // Seed 001 steps 6-7: sign the accept and the relay's own info; forward both.
    auto pdu = sign_and_forward(
        ToForward<codec::DirectLinkEstablishmentAccept>{
            m, tinfo, ctx, r.hop_ephemeral ? &*r.hop_ephemeral : nullptr},
        now, why);
    if (!pdu) return reject(why);
    r.forwarded_accept = *pdu;
    r.hops = std::move(hops);
    r.hop_ephemeral.reset();  // the hops have their keys: no longer needed
    for (const auto& h : r.hops)
        events.push_back(pc5::LinkEstablished{h.summary});
    // Refreshed by every frame it forwards. Hardened: a route no protected frame has used goes
    // with the target's key confirmation timeout (the source confirms at once).
    r.expires =
        now + (cfg.mode == Mode::hardened ? cfg.key_confirmation_timeout + retransmission_window()
                                          : cfg.route_idle_timeout);
    counters.frames_forwarded++;
    forward_to(r, false, MessageType::establishment_accept, r.forwarded_accept);
    return move_to(State::routed);
}

// An ESTABLISHMENT REJECT is unprotected (docs/solution-b.md "Unprotected rejects"): for a
// request still pending the relay passes it on to the other end and keeps its state.
Next Engine::Impl::pass_reject(Route& r, const pc5::Frame& f) {
    if (r.rejects_passed >= reanswer_budget()) {
        drop(pc5::DropReason::duplicate, "unprotected reject over the budget: not passed on", r.id);
        return stay();
    }
    r.rejects_passed++;
    counters.frames_forwarded++;
    forward_to(r, r.source_l2 == f.src, MessageType::establishment_reject, f.pdu);
    return stay();
}

// ... and a route it carries ignores it: anyone can forge one.
Next Engine::Impl::ignore_reject(Route& r) {
    drop(pc5::DropReason::unexpected,
         "unprotected reject for an established route (ignored: anyone can forge one)", r.id);
    return stay();
}

// TS 38.351: by the SRAP header only, the sender's local UE ID written in; the PDCP PDU inside
// stays opaque (the relay never holds KD).
Next Engine::Impl::forward_protected(Route& r, const pc5::Frame& f, Time now) {
    counters.frames_forwarded++;
    r.expires = now + cfg.route_idle_timeout;
    const int from = side_of(r, f.src, now);
    // From the end UE's new L2 ID while the relay waits for its ack: it has the new identifiers
    // (the ack was lost or is late), so they are in use.
    if (from >= 0 && static_cast<std::size_t>(from) < r.hops.size()) {
        auto& h = r.hops[from];
        if (h.state == State::hop_wait_ack && h.update && f.src == h.update->requester_l2)
            dispatch(h, FlowRole::relay, Input::of(Local::new_keys_used),
                     [&] { return on_hop_update_ack(r, from, nullptr, now); });
    }
    const bool from_source = from == 0;
    const std::size_t to = from_source ? 1 : 0;
    const pc5::L2Id src = to < r.hops.size() ? own_l2(r.hops[to]) : cfg.l2_id;
    pc5::Frame out{src, from_source ? r.target_l2 : r.source_l2, f.lcid, f.pdu};
    out.pdu[1] = from_source ? r.source_local : r.target_local;  // SRAP source local UE ID
    tx.push_back(std::move(out));
    counters.frames_sent++;
    counters.bytes_sent += f.pdu.size();
    return stay();
}

// A pending route whose request's retransmissions are over, or an idle route: forgotten. If the
// relay refused an accept for it and no genuine one came, the target hears that refusal now (it
// has installed keys; the source heard it at once).
Next Engine::Impl::on_timeout(Route& r, Time now) {
    if (r.state == State::pending && r.last_refusal) {
        send_reject(r.target_l2, r.seq, r.last_refusal->cause);
        failed(r.id, r.target, *r.last_refusal, false, now);
    }
    return gone();
}

}  // namespace pc5sec::sigauth
