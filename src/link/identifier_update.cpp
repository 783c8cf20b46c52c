// The link identifier update of an established link (TS 24.554 7.2.4; TS 33.536 5.3.3.1.2's
// privacy requirement; docs/solution-a.md, "Link identifier update"):
//
//   requester                                         responder
//   REQUEST (new L2 ID, MSB of the new KNRP-sess ID, Nonce_1)   ->
//            <-  ACCEPT (new L2 ID, LSB, Nonce_2, the request's L2 ID and MSB echoed)
//   ACK (the accept's L2 ID and LSB echoed)                      ->
//   both: the new L2 IDs, and the new KNRP-sess = KDF(KNRP, Nonce_1, Nonce_2) with its new ID
//
// All three travel under the link's current keys and L2 IDs, so only the peer can ask for or
// answer an update, and an observer cannot tell which new identifiers follow which old ones:
// every identifier on the air changes at once (the L2 IDs in the MAC header, the KNRP-sess ID
// in the PDCP header; PDCP COUNTs restart under a key never used before, so no keystream is
// used twice). The ends' own L2 IDs for new links and discovery stay as they were.
#include <algorithm>

#include <fmt/format.h>

#include "link/impl.hpp"
#include "pc5sec/srap.hpp"

namespace pc5sec::link {

using MT = codec::MessageType;

pc5::Time identifier_grace(const Timers& t) noexcept {
    const pc5::Time spent = t.t_identifier_update * (t.max_retransmissions + 2);
    return std::max(t.identifier_grace, spent);
}

pc5::L2Id Engine::Impl::fresh_l2_id() {
    for (int tries = 0;; ++tries) {
        const auto b = random.bytes<3>();
        const pc5::L2Id id = static_cast<pc5::L2Id>(b[0]) << 16 | b[1] << 8 | b[2];
        if (id == 0 || id == pc5::kBroadcastL2Id) continue;
        if (!owns_l2(id, now_) || tries > 1024) return id;
    }
}

bool Engine::Impl::owns_l2(pc5::L2Id id, pc5::Time now) const {
    if (id == config.l2_id) return true;
    for (const auto& l : links) {
        if (l->route.own == id) return true;
        if (l->id_update && l->id_update->own == id) return true;
        if (l->retired_route && l->retired_route->own == id && now < l->retired_until) return true;
    }
    return false;
}

bool Engine::Impl::on_route(const Link& link, const Route& route, pc5::Time now) const {
    if (route.end_to_end && link.route.end_to_end && link.previous_remote_local_id != 0 &&
        route.remote_local_id == link.previous_remote_local_id &&
        link.route.neighbour == route.neighbour)
        return true;
    return same_route(link.route, route) ||
           (link.retired_route && now < link.retired_until &&
            same_route(*link.retired_route, route)) ||
           (link.state == State::identifier_update_wait_ack && link.id_update &&
            link.id_update->peer != 0 && !route.end_to_end && !link.route.end_to_end &&
            link.id_update->peer == route.neighbour);
}

void Engine::Impl::arm_privacy_timer(Link& link, pc5::Time now) {
    // The end that set the link up runs T5090; the other answers (both may ask at any time).
    link.privacy_deadline = config.timers.t5090 > pc5::Time{0} && link.side == Side::initiator
                                ? now + config.timers.t5090
                                : pc5::kNever;
}

namespace {

// TS 24.554 7.2.4: a new L2 ID must be one a UE may use; an end-to-end link through a layer-2
// relay has none of its own (its L2 IDs are the hops'), so it sends 0.
bool usable_new_l2(const Link& link, pc5::L2Id id) {
    return link.kind == pc5::LinkKind::e2e ? id == 0 : id != 0 && id != pc5::kBroadcastL2Id;
}

}  // namespace

bool Engine::Impl::derive_update_keys(Link& link, const Link::IdentifierUpdate& u,
                                      const Nonce& nonce_2) {
    auto ctx = security_context(link, KnrpSessId::from_parts(u.msb, u.lsb), link.ciphering,
                                link.integrity, link.knrp ? &*link.knrp : nullptr, nonce_2,
                                link.next_knrp_sess, link.next_fingerprints);
    if (!ctx) {
        drop(&link, pc5::DropReason::unexpected, ctx.error().describe());
        return false;
    }
    link.next_security = std::move(*ctx);
    return true;
}

Next Engine::Impl::start_identifier_update(Link& link, pc5::Time now) {
    link.privacy_deadline = pc5::kNever;
    auto& hs = link.hs;
    hs = Handshake{};
    hs.nonce_1 = random.bytes<16>();
    hs.msb_sess = link.security_active ? fresh_msb(link) : 0;
    Link::IdentifierUpdate u;
    u.own = link.kind == pc5::LinkKind::e2e ? 0 : fresh_l2_id();  // e2e: the hop's L2 IDs
    u.msb = hs.msb_sess;
    link.id_update = u;
    codec::DirectLinkIdentifierUpdateRequest r;
    r.new_l2_id = codec::Layer2Id{u.own};
    r.msb_knrp_sess_id = u.msb;
    r.nonce_1 = hs.nonce_1;
    send(link, r, now, true);
    arm(link, now, config.timers.t_identifier_update);
    return move_to(State::identifier_update_wait_accept);
}

Next Engine::Impl::on_identifier_update_request(Link& link,
                                                const codec::DirectLinkIdentifierUpdateRequest& m,
                                                pc5::Time now) {
    if (link.state == State::identifier_update_wait_accept) {
        // Both ends asked at once: the link's initiator keeps its request, which the other end
        // answers (it drops ours, as we drop its).
        if (link.side == Side::initiator) {
            drop(&link, pc5::DropReason::unexpected,
                 "identifier_update_request while ours is under way: the peer answers ours");
            return stay();
        }
        abandon_identifier_update(link, now, "");
    }
    const bool e2e = link.kind == pc5::LinkKind::e2e;
    const pc5::L2Id peer_new = m.new_l2_id.value;
    if (!usable_new_l2(link, peer_new)) {
        drop(&link, pc5::DropReason::malformed,
             fmt::format("identifier_update_request.new_l2_id {:06x} {}", peer_new,
                         e2e ? "on an end-to-end link (must be 0)" : "is not a unicast L2 ID"));
        return stay();
    }
    if (link.security_active != (m.msb_knrp_sess_id != 0)) {
        drop(&link, pc5::DropReason::malformed,
             link.security_active ? "identifier_update_request.msb_knrp_sess_id is 0"
                                  : "identifier_update_request.msb_knrp_sess_id on a link "
                                    "without security");
        return stay();
    }
    // TS 24.554 7.2.4.5: #3 when the new L2 ID is one this UE already talks to on another link.
    bool conflict = false;
    for (const auto& l : links)
        conflict =
            conflict ||
            (l.get() != &link && !e2e &&
             (l->route.neighbour == peer_new || (l->id_update && l->id_update->peer == peer_new)));
    if (conflict || (!e2e && owns_l2(peer_new, now))) {
        codec::DirectLinkIdentifierUpdateReject r;
        r.cause = codec::Cause::l2_id_conflict;
        send(link, r, now, false);
        return stay();
    }
    // Updating the identifiers renews the keys: the peer's credential is checked again, as at
    // re-keying (a revoked or expired peer loses the link, #6).
    if (auto st = recheck_peer(link, now); !st) return release_for(link, st.error(), now);
    auto& hs = link.hs;
    hs = Handshake{};
    hs.nonce_1 = m.nonce_1;
    hs.msb_sess = m.msb_knrp_sess_id;
    Link::IdentifierUpdate u;
    u.own = e2e ? 0 : fresh_l2_id();
    u.peer = peer_new;
    u.msb = m.msb_knrp_sess_id;
    if (link.security_active) {
        hs.nonce_2 = random.bytes<16>();
        do {
            hs.lsb_sess = random.next_u8();
        } while (hs.lsb_sess == 0 ||
                 session_in_use(link.route, KnrpSessId::from_parts(hs.msb_sess, hs.lsb_sess)));
        u.lsb = hs.lsb_sess;
        if (!derive_update_keys(link, u, hs.nonce_2)) return stay();
    }
    link.id_update = u;
    codec::DirectLinkIdentifierUpdateAccept a;
    a.new_l2_id = codec::Layer2Id{u.own};
    a.lsb_knrp_sess_id = u.lsb;
    a.nonce_2 = hs.nonce_2;
    a.requester_new_l2_id = m.new_l2_id;
    a.requester_msb_knrp_sess_id = m.msb_knrp_sess_id;
    send(link, a, now, false);
    arm(link, now, config.timers.t_identifier_update);
    return move_to(State::identifier_update_wait_ack);
}

Next Engine::Impl::on_identifier_update_accept(Link& link,
                                               const codec::DirectLinkIdentifierUpdateAccept& m,
                                               pc5::Time now) {
    auto& u = *link.id_update;
    const bool e2e = link.kind == pc5::LinkKind::e2e;
    // TS 24.554 7.2.4.3: the accept echoes what we asked for.
    if (m.requester_new_l2_id.value != u.own || m.requester_msb_knrp_sess_id != u.msb) {
        drop(&link, pc5::DropReason::unexpected,
             "identifier_update_accept echoes identifiers we did not ask for");
        return stay();
    }
    const pc5::L2Id peer_new = m.new_l2_id.value;
    if (!usable_new_l2(link, peer_new)) {
        drop(&link, pc5::DropReason::malformed,
             fmt::format("identifier_update_accept.new_l2_id {:06x} is not usable", peer_new));
        return stay();
    }
    if (link.security_active && m.lsb_knrp_sess_id == 0) {
        drop(&link, pc5::DropReason::malformed, "identifier_update_accept.lsb_knrp_sess_id is 0");
        return stay();
    }
    bool conflict = !e2e && owns_l2(peer_new, now);
    for (const auto& l : links)
        conflict = conflict || (l.get() != &link && !e2e && l->route.neighbour == peer_new);
    if (conflict) {  // 7.2.4.5: #3, and the current identifiers stay at both ends
        codec::DirectLinkIdentifierUpdateReject r;
        r.cause = codec::Cause::l2_id_conflict;
        send(link, r, now, false);
        abandon_identifier_update(link, now, "the peer's new L2 ID conflicts (#3)");
        return move_to(State::established);
    }
    u.peer = peer_new;
    u.lsb = m.lsb_knrp_sess_id;
    if (link.security_active) {
        link.hs.nonce_2 = m.nonce_2;
        link.hs.lsb_sess = u.lsb;
        if (!derive_update_keys(link, u, m.nonce_2)) return stay();
    }
    codec::DirectLinkIdentifierUpdateAck ack;
    ack.responder_new_l2_id = m.new_l2_id;
    ack.responder_lsb_knrp_sess_id = m.lsb_knrp_sess_id;
    const std::size_t queued = tx.size();
    send(link, ack, now, false);  // under the current keys and L2 IDs
    // A repeated accept (our ack lost) is answered by this very frame again: its keys and L2
    // IDs are gone from the link after the switch.
    if (tx.size() > queued) link.ack_frame = tx.back();
    switch_identifiers(link, now);
    return move_to(State::established);
}

Next Engine::Impl::on_identifier_update_ack(Link& link,
                                            const codec::DirectLinkIdentifierUpdateAck& m,
                                            pc5::Time now) {
    const auto& u = *link.id_update;
    if (m.responder_new_l2_id.value != u.own || m.responder_lsb_knrp_sess_id != u.lsb) {
        drop(&link, pc5::DropReason::unexpected,
             "identifier_update_ack echoes identifiers we did not give");
        return stay();
    }
    switch_identifiers(link, now);
    return move_to(State::established);
}

Next Engine::Impl::on_identifier_update_reject(Link& link, codec::Cause cause, pc5::Time now) {
    abandon_identifier_update(link, now,
                              fmt::format("link identifier update refused by the peer: cause #{}",
                                          static_cast<unsigned>(cause)));
    return move_to(State::established);
}

Next Engine::Impl::identifier_update_timeout(Link& link, pc5::Time now) {
    const auto& t = config.timers;
    const bool requester = link.state == State::identifier_update_wait_accept;
    const auto& pending = requester ? link.last_request : link.last_answer;
    if (link.retransmissions < t.max_retransmissions && pending) {
        ++link.retransmissions;
        resend(link, *pending);
        link.deadline = now + t.t_identifier_update;
        return stay();
    }
    // No accept after every retransmission: the peer is gone, as an unanswered keep-alive says
    // (#4). No ack: the requester may have switched (its ack lost) or not (our accept lost);
    // neither set of identifiers is sure to reach it. Either way the link goes.
    drop(&link, pc5::DropReason::unexpected,
         requester ? "link identifier update: no accept, the peer is lost"
                   : "link identifier update: no ack, the peer may use either identifiers");
    released(link, codec::Cause::direct_connection_not_available, false, now);
    return gone();
}

void Engine::Impl::abandon_identifier_update(Link& link, pc5::Time now, std::string why) {
    link.id_update.reset();
    link.next_security.reset();
    link.next_knrp_sess.reset();
    link.deadline = config.timers.keepalive_interval > pc5::Time{0}
                        ? now + config.timers.keepalive_interval
                        : pc5::kNever;
    arm_privacy_timer(link, now);
    if (!why.empty()) drop(&link, pc5::DropReason::unexpected, std::move(why));
}

void Engine::Impl::switch_identifiers(Link& link, pc5::Time now) {
    const auto u = *link.id_update;
    link.id_update.reset();
    const Route old = link.route;
    Route fresh = old;
    if (link.kind != pc5::LinkKind::e2e) {
        fresh.own = u.own;
        fresh.neighbour = u.peer;
        // Links riding this route move with it: end to end through a layer-2 relay, over the
        // hop whose L2 IDs these were.
        for (auto& l : links)
            if (l.get() != &link && l->kind == pc5::LinkKind::e2e &&
                l->route.neighbour == old.neighbour && l->route.own == old.own) {
                l->retired_route = l->route;
                l->retired_until = now + identifier_grace(config.timers);
                l->route.neighbour = fresh.neighbour;
                l->route.own = fresh.own;
                if (l->state != State::established) continue;
                // Its data follow it (a driver's user plane: same keys, the hop's new L2 IDs).
                pc5::LinkRekeyed moved{summary(*l), false};
                moved.identifiers_updated = true;
                moved.previous_local_l2 = old.own ? old.own : config.l2_id;
                moved.previous_peer_l2 = old.neighbour;
                emit(std::move(moved));
                // A keep-alive end to end at once: the relay writes our new local UE ID in it,
                // from which the far end learns it (on_pdu) before the old one goes.
                if (l->security_active && !l->keepalive_outstanding) {
                    codec::DirectLinkKeepaliveRequest k;
                    k.keepalive_counter = ++l->keepalive_counter;
                    l->keepalive_outstanding = true;
                    send(*l, k, now, true);
                    arm(*l, now, config.timers.t5085);
                }
            }
    }
    link.retired_route = old;
    link.retired_until = now + identifier_grace(config.timers);
    link.route = fresh;
    // A layer-2 relay gives the end UE a new local UE ID too (TS 24.554 7.2.4.2: nothing that
    // would link the old and new identifiers stays), the old one routed for the grace.
    if (config.role == UeRole::relay && link.kind == pc5::LinkKind::hop &&
        link.relay_indication == codec::RelayIndication::via_layer2_relay && link.local_id) {
        if (const auto id = assign_local_id(true); id != srap::kUnknownUeId) {
            link.previous_local_id = link.local_id;
            link.local_id = id;
        }
    }
    if (link.next_security) {
        link.previous_security = std::move(link.security);
        link.security = std::move(link.next_security);
        link.next_security.reset();
        link.knrp_sess = std::move(link.next_knrp_sess);
        link.next_knrp_sess.reset();
        link.fingerprints = link.next_fingerprints;
    }
    link.deadline = config.timers.keepalive_interval > pc5::Time{0}
                        ? now + config.timers.keepalive_interval
                        : pc5::kNever;
    link.keepalive_outstanding = false;
    arm_privacy_timer(link, now);
    log_keys(link);
    pc5::LinkRekeyed ev{summary(link), false};
    ev.identifiers_updated = true;
    ev.previous_local_l2 = old.own ? old.own : config.l2_id;
    ev.previous_peer_l2 = old.neighbour;
    emit(std::move(ev));
}

bool Engine::owns_l2(pc5::L2Id id) const noexcept {
    return impl_->owns_l2(id, impl_->now_);
}

Status Engine::update_identifiers(const std::string& link_id, pc5::Time now) {
    impl_->now_ = now;
    auto& d = *impl_;
    Link* l = d.find(link_id);
    if (!l) return make_error(Errc::invalid_argument, "link_id", "no such link: " + link_id);
    if (l->state != State::established)
        return make_error(Errc::state, "link_id",
                          fmt::format("the link is {}, not established", name(l->state)));
    d.dispatch(*l, Input::of(Local::identifier_update), now,
               [&] { return d.start_identifier_update(*l, now); });
    return {};
}

}  // namespace pc5sec::link
