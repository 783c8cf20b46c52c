// PC5-S end to end under keys from KD (LCID 55, BEARER 2, pdcp::SecurityContext) through the
// relay, which routes it and cannot read it: key confirmation (hardened), keep-alive with
// lost-peer detection and release (TS 24.554, reused as they are).
#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

void Engine::Impl::send_protected(Link& l, const codec::Message& m) {
    (void)send_protected(l, *l.ctx, m, true);
}

bool Engine::Impl::send_protected(Link& l, pdcp::SecurityContext& ctx, const codec::Message& m,
                                  bool cipher) {
    auto bytes = codec::encode(m);
    if (!bytes) return false;
    auto pdu = ctx.protect(kE2eBearer, *bytes, cipher);
    if (!pdu) return false;  // COUNT would wrap: nothing is sent
    // Through the relay's adaptation layer to the peer's local UE ID (TS 38.351; the relay
    // writes ours).
    send_srap(l.relay_l2, {kE2eBearer, srap::kUnknownUeId, l.remote_local_id},
              codec::message_type(m), *pdu, own_l2(l));
    if (cfg.capture) {
        auto c = std::make_shared<pc5::FrameCapture>();
        c->link_id = l.summary.id;
        c->from_initiator = l.summary.initiator;
        c->integrity = ctx.integrity() != IntegrityAlgorithm::nia0;
        c->ciphered = cipher && ctx.ciphering() != CipheringAlgorithm::nea0;
        c->via_relay = true;
        c->message = std::move(*bytes);
        tx.back().capture = std::move(c);
    }
    return true;
}

void Engine::Impl::receive_protected(const pc5::Frame& f, const srap::Header& s,
                                     std::span<const std::uint8_t> pdu, Time now) {
    auto h = pdcp::peek_header(pdu);
    if (!h) return drop(pc5::DropReason::malformed, h.error().describe());
    // The link: from the relay's L2 ID on its hop (or the one an update replaced, within the
    // grace), its KNRP-sess ID, and the far end's local UE ID, best matched: after the far end's
    // hop changed identifiers, its new local UE ID is taken once a PDU under it verifies.
    Link* found = nullptr;
    bool same_local = false;
    for (auto& l : links) {
        if (l.gone || !l.ctx) continue;
        const bool from_relay =
            l.relay_l2 == f.src || (l.hop && l.hop->retired_peer == f.src && l.hop->retired_peer &&
                                    now < l.hop->retired_until);
        if (!from_relay ||
            !(l.ctx->id() == h->knrp_sess_id || (l.rekey && l.rekey->next_id == h->knrp_sess_id)))
            continue;
        const bool local =
            l.remote_local_id == s.src_ue ||
            (l.previous_remote_local_id == s.src_ue && s.src_ue != srap::kUnknownUeId);
        if (!found || (local && !same_local)) {
            found = &l;
            same_local = local;
        }
    }
    if (!found) return drop(pc5::DropReason::unknown_session, "no link with this KNRP-sess ID");
    Link& l = *found;
    auto plain = l.ctx->unprotect(kE2eBearer, pdu);
    bool new_keys = false;
    if (!plain && l.rekey) {
        // Re-keying: the requester's command comes under the new keys, not ciphered; after it,
        // the responder hears the requester under the new keys.
        if (l.state == State::rekey_wait_command && try_rekey_command(l, pdu, now)) return;
        if (l.state == State::rekey_wait_complete && l.rekey->ctx &&
            l.rekey->next_id == h->knrp_sess_id) {
            if (auto p = l.rekey->ctx->unprotect(kE2eBearer, pdu)) {
                plain = std::move(p);
                new_keys = true;
            }
        }
    }
    if (!plain) {
        return drop(pdcp::drop_reason(l.ctx->last_rejection()), plain.error().describe(),
                    l.summary.id);
    }
    // It verified under keys from KD: a far end's new local UE ID (its hop's identifier update,
    // identifier_update.cpp) is believed now, not before; the user plane follows (LinkRekeyed).
    if (!same_local) {
        l.previous_remote_local_id = l.remote_local_id;
        l.remote_local_id = s.src_ue;
        if (!l.l3)
            events.push_back(pc5::LinkRekeyed{l.summary, false, true, own_l2(l), l.relay_l2});
    }
    auto decoded = codec::decode(*plain);
    if (!decoded) return drop(pc5::DropReason::malformed, decoded.error().describe(), l.summary.id);
    const auto type = codec::message_type(*decoded);
    counters.received_messages[type]++;
    // It verified under keys from KD: only the peer, which holds KD, could have sent it.
    l.last_alive = now;
    if (l.state == State::unconfirmed)
        dispatch(l, FlowRole::target, Input::of(Local::confirmed),
                 [&] { return on_confirmed(l, now); });
    if (new_keys && type != MessageType::security_mode_complete)
        dispatch(l, l.role(), Input::of(Local::new_keys_used),
                 [&] { return on_rekey_complete(l, now); });
    dispatch(l, l.role(), Input::e2e(type), [&] { return on_message(l, *decoded, now); });
}

// The protected messages of the link life (the rows say which state takes which).
Next Engine::Impl::on_message(Link& l, const codec::Message& m, Time now) {
    if (const auto* rr = std::get_if<codec::DirectLinkReleaseRequest>(&m)) {
        // TS 24.554 release: answer, report, wipe.
        codec::DirectLinkReleaseAccept ra;
        ra.seq = rr->seq;
        send_protected(l, ra);
        events.push_back(pc5::LinkReleased{l.summary.id, l.summary.peer, rr->cause, true, now});
        return gone();
    }
    if (std::holds_alternative<codec::DirectLinkReleaseAccept>(m)) return gone();
    if (const auto* rk = std::get_if<codec::DirectLinkRekeyingRequest>(&m))
        return on_rekeying_request(l, *rk, now);
    if (std::holds_alternative<codec::DirectLinkSecurityModeComplete>(m))
        return on_rekey_complete(l, now);
    if (const auto* ka = std::get_if<codec::DirectLinkKeepaliveRequest>(&m)) {
        codec::DirectLinkKeepaliveResponse resp;
        resp.seq = ka->seq;
        resp.keepalive_counter = ka->keepalive_counter;
        send_protected(l, resp);
        return stay();
    }
    if (const auto* kr = std::get_if<codec::DirectLinkKeepaliveResponse>(&m)) {
        if (l.awaiting == 0 || kr->keepalive_counter != l.awaiting) return stay();
        l.awaiting = 0;  // answered: the peer is there (and, first, holds KD-sess)
        l.answer_deadline = pc5::kNever;
        l.probe_tries = 0;
        if (l.state == State::confirming) return move_to(State::established);
    }
    return stay();
}

// A protected KEEPALIVE REQUEST end to end, waiting `wait` for its response. Hardened key
// confirmation, source side: the first one, right after step 8 (TS 24.554 keep-alive, reused: no
// new message), on t5080; then the liveness probes, on t5085.
void Engine::Impl::send_probe(Link& l, Time now, Time wait) {
    codec::DirectLinkKeepaliveRequest ka;
    ka.seq = rng->next_u8();
    ka.keepalive_counter = ++l.keepalive_counter;
    l.awaiting = ka.keepalive_counter;
    l.answer_wait = wait;
    l.answer_deadline = now + wait;
    send_protected(l, ka);
}

void Engine::Impl::send_confirmation(Link& l, Time now) {
    l.probe_tries = 0;
    send_probe(l, now, cfg.t5080);
}

Next Engine::Impl::send_keepalive(Link& l, Time) {
    codec::DirectLinkKeepaliveRequest ka;
    ka.seq = rng->next_u8();
    ka.keepalive_counter = ++l.keepalive_counter;
    send_protected(l, ka);
    return stay();
}

Time Engine::Impl::keepalive_due(const Link& l) const {
    if (cfg.keepalive_interval <= Time::zero() || l.state != State::established || l.awaiting)
        return pc5::kNever;
    return l.last_alive + cfg.keepalive_interval;
}

Time Engine::Impl::deadline(const Link& l) const {
    switch (l.state) {
        case State::wait_discovery:
            return l.discovering->deadline;
        case State::wait_accept:
            return l.attempt->next;
        case State::unconfirmed:
            return l.confirm_deadline;
        case State::confirming:
        case State::established:
            return std::min(l.awaiting ? l.answer_deadline : pc5::kNever, keepalive_due(l));
        case State::releasing:
            return l.release_deadline;
        case State::rekey_wait_command:
        case State::rekey_wait_complete:
            return l.rekey->deadline;
        default:
            return pc5::kNever;
    }
}

// A link's deadline passed: the handler of its state's timer row.
Next Engine::Impl::on_timeout(Link& l, Time now) {
    // wait-discovery and wait-accept: the source's timers (discovery.cpp, source.cpp).
    switch (l.state) {
        case State::wait_discovery:
            return on_discovery_timeout(l, now);
        case State::wait_accept:
            return on_request_timeout(l, now);
        case State::unconfirmed:
            return on_confirm_timeout(l, now);
        case State::releasing:
            return gone();  // no RELEASE ACCEPT: wiped anyway
        case State::rekey_wait_command:
        case State::rekey_wait_complete:
            return on_rekey_timeout(l, now);
        default:
            break;
    }
    if (l.awaiting != 0 && l.answer_deadline <= now) {
        if (l.probe_tries >= cfg.max_retransmissions) {
            // No answer to the key confirmation or to the keep-alive: the peer is lost.
            events.push_back(pc5::LinkReleased{l.summary.id, l.summary.peer,
                                               Cause::direct_connection_not_available, false, now});
            return gone();
        }
        l.probe_tries++;
        counters.retransmissions++;
        send_probe(l, now, l.answer_wait);
    } else if (keepalive_due(l) <= now) {
        l.probe_tries = 0;
        send_probe(l, now, cfg.t5085);
    }
    return stay();
}

// Releases one link: a protected RELEASE REQUEST, then only its security context is kept, for
// the release accept, until T5087 (TS 24.554).
Next Engine::Impl::start_release(Link& l, Cause cause, Time now) {
    codec::DirectLinkReleaseRequest rr;
    rr.seq = rng->next_u8();
    rr.cause = cause;
    send_protected(l, rr);
    events.push_back(pc5::LinkReleased{l.summary.id, l.summary.peer, rr.cause, false, now});
    l.awaiting = 0;
    l.answer_deadline = pc5::kNever;
    l.release_deadline = now + cfg.t5087;
    return move_to(State::releasing);
}

}  // namespace pc5sec::sigauth
