// The link identifier update of solution B (docs/solution-b.md "Link identifier update"): TS
// 24.554 7.2.4 run on the hop between an end UE and the relay, which is a PC5 link of its own
// with its own keys (keys.cpp, derive_hop). Seed 001 has no such procedure; pc5sec reuses solution
// A's three messages (codec 0x14-0x16) on the hop, under the hop's keys on SL-SRB2:
//
//   end UE                                                 relay
//   REQUEST (its new L2 ID, MSB of the hop's new KNRP-sess ID, Nonce_1)  ->
//            <-  ACCEPT (the relay's new L2 ID on the hop, LSB, Nonce_2, the request echoed)
//   ACK (the accept echoed)                                          ->
//   both: the new L2 IDs on the hop, KNRP-sess' = KDF(the hop's key, Nonce_1, Nonce_2) (TS 33.536
//   A.2) with its new ID, and at the relay a new random SRAP local UE ID for the end UE
//
// Then the end UE re-keys the link end to end (rekey.cpp: a new KD-sess and a new MSB of the
// link's KNRP-sess ID), from its new L2 ID: the far end learns its new local UE ID from that
// PDU once it verifies, and the relay takes it as the ack if the ack was lost. Each end UE runs
// T5090 for its own hop, so every identifier of a link on the air changes: both ends' L2 IDs and
// the relay's on each hop, the SRAP local UE IDs, the hops' and the link's KNRP-sess IDs. What
// stays is the LSB of the link's KNRP-sess ID (8 bits; the relay tells links between the same
// two end UEs apart by it) and each UE's own L2 ID for discovery and new links.
#include <algorithm>

#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

using MT = codec::MessageType;

namespace {
// TS 24.554 7.2.4: a new L2 ID is one a UE may use.
bool usable_l2(pc5::L2Id id) {
    return id != 0 && id != pc5::kBroadcastL2Id && id <= pc5::kMaxL2Id;
}
}  // namespace

bool Engine::Impl::owns_l2(pc5::L2Id id, Time now) const {
    if (id == cfg.l2_id) return true;
    const bool relay = cfg.role == Role::relay;
    const auto hop_owns = [&](const Hop& h) {
        return (h.own != 0 && h.own == id) ||
               (h.update && (relay ? h.update->responder_l2 : h.update->requester_l2) == id) ||
               (h.retired_own != 0 && h.retired_own == id && now < h.retired_until);
    };
    for (const auto& l : links)
        if (!l.gone && l.hop && hop_owns(*l.hop)) return true;
    for (const auto& r : routes)
        if (!r.gone && std::any_of(r.hops.begin(), r.hops.end(), hop_owns)) return true;
    return false;
}

pc5::L2Id Engine::Impl::fresh_l2_id(Time now) {
    for (int tries = 0;; ++tries) {
        const auto b = rng->bytes<3>();
        const pc5::L2Id id = static_cast<pc5::L2Id>(b[0]) << 16 | b[1] << 8 | b[2];
        if (!usable_l2(id)) continue;
        if (!owns_l2(id, now) || tries > 1024) return id;
    }
}

int Engine::Impl::side_of(const Route& r, pc5::L2Id src, Time now) const {
    if (r.source_l2 == src) return 0;
    if (r.target_l2 == src) return 1;
    for (std::size_t n = 0; n < r.hops.size() && n < 2; ++n) {
        const Hop& h = r.hops[n];
        if (h.update && h.state == State::hop_wait_ack && h.update->requester_l2 == src)
            return static_cast<int>(n);
        if (h.retired_peer != 0 && h.retired_peer == src && now < h.retired_until)
            return static_cast<int>(n);
    }
    return -1;
}

bool Engine::Impl::names(const Route& r, int side, std::uint8_t local, Time now) const {
    if (local == (side ? r.target_local : r.source_local)) return true;
    if (static_cast<std::size_t>(side) >= r.hops.size()) return false;
    const Hop& h = r.hops[side];
    return h.retired_local != srap::kUnknownUeId && h.retired_local == local &&
           now < h.retired_until;
}

void Engine::Impl::arm_privacy_timer(Link& l, Time now) {
    l.privacy_deadline = cfg.t5090 > Time::zero() ? now + cfg.t5090 : pc5::kNever;
}

Time Engine::Impl::hop_deadline(const Link& l) const {
    const Hop& h = *l.hop;
    if (h.state == State::hop_wait_accept && h.update) return h.update->deadline;
    // T5090 waits while the link is busy (confirming, re-keying, a keep-alive unanswered).
    if (h.state == State::hop_up && l.state == State::established && l.awaiting == 0)
        return l.privacy_deadline;
    return pc5::kNever;
}

// ---- on the air ----

bool Engine::Impl::send_on_hop(Hop& h, pc5::L2Id src, pc5::L2Id dst, const codec::Message& m) {
    auto bytes = codec::encode(m);
    if (!bytes) return false;
    auto pdu = h.ctx->protect(pc5::lcid::kSrb2, *bytes, true);
    if (!pdu) return false;  // COUNT would wrap: nothing is sent
    send(dst, pc5::lcid::kSrb2, codec::message_type(m), std::move(*pdu), src);
    if (cfg.capture) {
        auto c = std::make_shared<pc5::FrameCapture>();
        c->link_id = h.summary.id;
        c->from_initiator = h.summary.initiator;
        c->integrity = h.ctx->integrity() != IntegrityAlgorithm::nia0;
        c->ciphered = h.ctx->ciphering() != CipheringAlgorithm::nea0;
        c->via_relay = true;
        c->message = std::move(*bytes);
        tx.back().capture = std::move(c);
    }
    return true;
}

void Engine::Impl::receive_hop(const pc5::Frame& f, Time now) {
    auto ph = pdcp::peek_header(f.pdu);
    if (!ph) return drop(pc5::DropReason::malformed, ph.error().describe());
    const auto id = ph->knrp_sess_id;
    // The hop the frame names: from its other end (current L2 ID, or the one an update replaced,
    // within the grace), under its current keys or the replaced ones.
    const auto context_for = [&](Hop& h) -> pdcp::SecurityContext* {
        const bool current_peer = f.src == h.summary.peer_l2;
        const bool in_grace = now < h.retired_until;
        if ((current_peer || (in_grace && f.src == h.retired_peer)) && h.ctx && h.ctx->id() == id)
            return &*h.ctx;
        if (in_grace && (current_peer || f.src == h.retired_peer) && h.retired_ctx &&
            h.retired_ctx->id() == id)
            return &*h.retired_ctx;
        return nullptr;
    };
    Hop* hop = nullptr;
    Link* link = nullptr;
    Route* route = nullptr;
    int side = -1;
    pdcp::SecurityContext* ctx = nullptr;
    for (auto& l : links) {
        if (l.gone || !l.hop) continue;
        if ((ctx = context_for(*l.hop))) {
            hop = &*l.hop;
            link = &l;
            break;
        }
    }
    for (auto& r : routes) {
        if (hop) break;
        for (std::size_t n = 0; n < r.hops.size() && !r.gone; ++n)
            if ((ctx = context_for(r.hops[n]))) {
                hop = &r.hops[n];
                route = &r;
                side = static_cast<int>(n);
                break;
            }
    }
    if (!hop) return drop(pc5::DropReason::unknown_session, "no hop with this KNRP-sess ID");
    auto plain = ctx->unprotect(pc5::lcid::kSrb2, f.pdu);
    if (!plain)
        return drop(pdcp::drop_reason(ctx->last_rejection()), plain.error().describe(),
                    hop->summary.id);
    auto decoded = codec::decode(*plain);
    if (!decoded)
        return drop(pc5::DropReason::malformed, decoded.error().describe(), hop->summary.id);
    const auto type = codec::message_type(*decoded);
    counters.received_messages[type]++;
    if (route) {
        dispatch(*hop, FlowRole::relay, Input::hop(type), [&]() -> Next {
            if (const auto* m = std::get_if<codec::DirectLinkIdentifierUpdateRequest>(&*decoded))
                return on_hop_update_request(*route, side, *m, now);
            if (const auto* m = std::get_if<codec::DirectLinkIdentifierUpdateAck>(&*decoded))
                return hop->state == State::hop_up ? stay()  // a late ack: already switched
                                                   : on_hop_update_ack(*route, side, m, now);
            return stay();
        });
        return;
    }
    dispatch(*hop, FlowRole::end_ue, Input::hop(type), [&]() -> Next {
        if (const auto* m = std::get_if<codec::DirectLinkIdentifierUpdateAccept>(&*decoded))
            return on_hop_update_accept(*link, *hop, *m, now);
        if (const auto* m = std::get_if<codec::DirectLinkIdentifierUpdateReject>(&*decoded))
            return on_hop_update_reject(*link, *hop, *m);
        return stay();
    });
}

// ---- the end UE: asks ----

Next Engine::Impl::start_hop_update(Link&, Hop& h, Time now) {
    HopUpdate u;
    u.seq = rng->next_u8();
    u.requester_l2 = fresh_l2_id(now);
    u.msb = rng->next_u8();
    while (u.msb == 0 || u.msb == h.summary.knrp_sess_id.msb())
        u.msb = static_cast<std::uint8_t>(u.msb + 1);
    u.nonce_1 = rng->bytes<16>();
    u.deadline = now + cfg.t_identifier_update;
    h.update.emplace(std::move(u));
    send_hop_update_request(h);
    return move_to(State::hop_wait_accept);
}

void Engine::Impl::send_hop_update_request(Hop& h) {
    const HopUpdate& u = *h.update;
    codec::DirectLinkIdentifierUpdateRequest m;
    m.seq = u.seq;
    m.new_l2_id = codec::Layer2Id{u.requester_l2};
    m.msb_knrp_sess_id = u.msb;
    m.nonce_1 = u.nonce_1;
    send_on_hop(h, own_l2(h), h.summary.peer_l2, m);
}

Next Engine::Impl::on_hop_update_accept(Link& l, Hop& h,
                                        const codec::DirectLinkIdentifierUpdateAccept& m,
                                        Time now) {
    HopUpdate& u = *h.update;
    // TS 24.554 7.2.4.3: the accept answers this request (its identifiers echoed).
    if (m.requester_new_l2_id.value != u.requester_l2 || m.requester_msb_knrp_sess_id != u.msb) {
        drop(pc5::DropReason::unexpected,
             "identifier update accept does not echo our request: the current identifiers stay",
             h.summary.id);
        return stay();
    }
    if (!usable_l2(m.new_l2_id.value) || m.lsb_knrp_sess_id == 0) {
        drop(pc5::DropReason::malformed,
             fmt::format("identifier update accept: {}",
                         m.lsb_knrp_sess_id == 0 ? "lsb_knrp_sess_id 0 (3gpp-facts §2: no security)"
                                                 : "new_l2_id is no L2 ID a UE may use"),
             h.summary.id);
        return stay();
    }
    u.responder_l2 = m.new_l2_id.value;
    u.lsb = m.lsb_knrp_sess_id;
    u.nonce_2 = m.nonce_2;
    auto keys = next_hop_keys(h, u);
    if (!keys) {
        drop(pc5::DropReason::unexpected, "identifier update: the hop's next keys failed",
             h.summary.id);
        return stay();
    }
    // TS 24.554 7.2.4.4: the ack under the current keys and L2 IDs; the new ones from here.
    codec::DirectLinkIdentifierUpdateAck ack;
    ack.seq = m.seq;
    ack.responder_new_l2_id = m.new_l2_id;
    ack.responder_lsb_knrp_sess_id = m.lsb_knrp_sess_id;
    send_on_hop(h, own_l2(h), h.summary.peer_l2, ack);
    const pc5::L2Id previous_local = own_l2(l), previous_relay = l.relay_l2;
    switch_hop(h, std::move(*keys), u.requester_l2, u.responder_l2, now);
    // The link follows its hop: its frames go from and to the hop's new L2 IDs.
    l.relay_l2 = h.summary.peer_l2;
    l.summary.peer_l2 = h.summary.peer_l2;
    l.summary.local_l2 = h.own;
    pc5::LinkRekeyed moved{l.summary, false, true, previous_local, previous_relay};
    events.push_back(std::move(moved));
    arm_privacy_timer(l, now);
    // Then end to end: a new KD-sess and MSB of the link's KNRP-sess ID. Its first PDU tells the
    // far end our new local UE ID and the relay that we hold the new identifiers.
    if (l.state == State::established)
        dispatch(l, l.role(), Input::of(Local::rekey), [&] { return start_rekey(l, now); });
    return move_to(State::hop_up);
}

Next Engine::Impl::on_hop_update_reject(Link& l, Hop& h,
                                        const codec::DirectLinkIdentifierUpdateReject& m) {
    drop(pc5::DropReason::unexpected,
         fmt::format("identifier update refused by the relay (cause #{}): the current "
                     "identifiers stay",
                     static_cast<unsigned>(m.cause)),
         h.summary.id);
    h.update.reset();
    arm_privacy_timer(l, now_);
    return move_to(State::hop_up);
}

// T5090 (hop up), or the request unanswered (hop_wait_accept).
Next Engine::Impl::on_hop_timeout(Link& l, Hop& h, Time now) {
    if (h.state == State::hop_up) return start_hop_update(l, h, now);
    HopUpdate& u = *h.update;
    if (u.tries < cfg.max_retransmissions) {
        u.tries++;
        u.deadline = now + cfg.t_identifier_update;
        counters.retransmissions++;
        send_hop_update_request(h);
        return stay();
    }
    // No accept after the retransmissions: the relay is gone, and the link with it (#4, as an
    // unanswered keep-alive finds).
    h.update.reset();
    dispatch(l, l.role(), Input::of(Local::relay_lost), [&] { return on_relay_lost(l, now); });
    return move_to(State::hop_up);
}

Next Engine::Impl::on_relay_lost(Link& l, Time now) {
    events.push_back(pc5::LinkReleased{l.summary.id, l.summary.peer,
                                       Cause::direct_connection_not_available, false, now});
    return gone();
}

// ---- the relay: answers ----

Next Engine::Impl::on_hop_update_request(Route& r, int side,
                                         const codec::DirectLinkIdentifierUpdateRequest& m,
                                         Time now) {
    Hop& h = r.hops[side];
    const auto refuse_it = [&](pc5::DropReason why, std::string detail) {
        drop(why, fmt::format("identifier update request: {}", detail), h.summary.id);
        return stay();
    };
    const auto repeats = [&](const HopUpdate& u) {
        return m.seq == u.seq && m.new_l2_id.value == u.requester_l2 &&
               m.msb_knrp_sess_id == u.msb && m.nonce_1 == u.nonce_1;
    };
    // Its accept was lost: the same accept again (the same PDU, so no COUNT is reused), to the
    // end UE's current L2 ID, from the relay's, as the first went. Also after the relay's wait
    // ended and it took the new identifiers (the request repeated late, within the grace).
    const HopUpdate* answered = h.state == State::hop_wait_ack ? &*h.update
                                : h.last_update && now < h.retired_until && repeats(*h.last_update)
                                    ? &*h.last_update
                                    : nullptr;
    if (answered) {
        if (!repeats(*answered))
            return refuse_it(pc5::DropReason::unexpected,
                             "another update while one waits for its ack");
        const bool switched = h.state != State::hop_wait_ack;
        send(switched ? h.retired_peer : h.summary.peer_l2, pc5::lcid::kSrb2,
             MT::identifier_update_accept, answered->accept, switched ? h.retired_own : own_l2(h));
        tx.back().capture = answered->accept_capture;
        counters.retransmissions++;
        return stay();
    }
    // TS 24.554 7.2.4.2: a new L2 ID a UE may use, and a KNRP-sess ID MSB other than 0.
    if (!usable_l2(m.new_l2_id.value))
        return refuse_it(pc5::DropReason::malformed, "new_l2_id is no L2 ID a UE may use");
    if (m.msb_knrp_sess_id == 0)
        return refuse_it(pc5::DropReason::malformed,
                         "msb_knrp_sess_id 0 (3gpp-facts §2: 0 means no security)");
    // TS 24.554 7.2.4.5: #3 when the new L2 ID is one the relay already serves or uses.
    const bool taken = owns_l2(m.new_l2_id.value, now) ||
                       std::any_of(routes.begin(), routes.end(), [&](const Route& o) {
                           return !o.gone && (o.source_l2 == m.new_l2_id.value ||
                                              o.target_l2 == m.new_l2_id.value);
                       });
    if (taken) {
        codec::DirectLinkIdentifierUpdateReject rj;
        rj.seq = m.seq;
        rj.cause = Cause::l2_id_conflict;
        send_on_hop(h, own_l2(h), h.summary.peer_l2, rj);
        return refuse_it(
            pc5::DropReason::unexpected,
            fmt::format("new_l2_id {:06x} is in use: refused (#3)", m.new_l2_id.value));
    }
    HopUpdate u;
    u.seq = m.seq;
    u.requester_l2 = m.new_l2_id.value;
    u.msb = m.msb_knrp_sess_id;
    u.nonce_1 = m.nonce_1;
    u.responder_l2 = fresh_l2_id(now);
    u.lsb = rng->next_u8();
    while (u.lsb == 0 || u.lsb == h.summary.knrp_sess_id.lsb())
        u.lsb = static_cast<std::uint8_t>(u.lsb + 1);
    u.nonce_2 = rng->bytes<16>();
    // The end UE's new local UE ID (TS 38.351): random among the free ones, so that the old and
    // the new cannot be told to follow each other.
    {
        const auto used = local_ids_in_use();
        const auto free = static_cast<unsigned>(std::count(used.begin(), used.end(), false));
        if (free == 0) return refuse_it(pc5::DropReason::unexpected, "no free SRAP local UE ID");
        unsigned pick = rng->next_u8() % free;
        for (unsigned id = 1; id < used.size(); ++id)
            if (!used[id] && pick-- == 0) {
                u.local_id = static_cast<std::uint8_t>(id);
                break;
            }
    }
    if (!next_hop_keys(h, u))
        return refuse_it(pc5::DropReason::unexpected, "the hop's next keys failed");
    codec::DirectLinkIdentifierUpdateAccept a;
    a.seq = m.seq;
    a.new_l2_id = codec::Layer2Id{u.responder_l2};
    a.lsb_knrp_sess_id = u.lsb;
    a.nonce_2 = u.nonce_2;
    a.requester_new_l2_id = m.new_l2_id;
    a.requester_msb_knrp_sess_id = m.msb_knrp_sess_id;
    if (!send_on_hop(h, own_l2(h), h.summary.peer_l2, a))
        return refuse_it(pc5::DropReason::unexpected, "the accept could not be protected");
    u.accept = tx.back().pdu;
    u.accept_capture = tx.back().capture;
    // The requester repeats its request up to max_retransmissions times: answered from here.
    u.deadline = now + cfg.t_identifier_update * (cfg.max_retransmissions + 1);
    h.update.emplace(std::move(u));
    return move_to(State::hop_wait_ack);
}

// The ack (m), or (m null) a frame from the end UE's new L2 ID, or no ack at all within the
// request's retransmissions: the requester holds the new identifiers, or has given the link up.
Next Engine::Impl::on_hop_update_ack(Route& r, int side,
                                     const codec::DirectLinkIdentifierUpdateAck* m, Time now) {
    Hop& h = r.hops[side];
    const HopUpdate& u = *h.update;
    if (m && (m->responder_new_l2_id.value != u.responder_l2 ||
              m->responder_lsb_knrp_sess_id != u.lsb)) {
        drop(pc5::DropReason::unexpected, "identifier update ack does not echo our accept",
             h.summary.id);
        return stay();
    }
    auto keys = next_hop_keys(h, u);
    if (!keys) {
        drop(pc5::DropReason::unexpected, "identifier update: the hop's next keys failed",
             h.summary.id);
        return stay();
    }
    auto& end_l2 = side ? r.target_l2 : r.source_l2;
    auto& local = side ? r.target_local : r.source_local;
    const std::uint8_t old_local = local;
    end_l2 = u.requester_l2;
    local = u.local_id;
    local_ids[u.requester_l2] = u.local_id;
    HopUpdate done = u;
    switch_hop(h, std::move(*keys), u.responder_l2, u.requester_l2, now);
    h.retired_local = old_local;
    h.last_update = std::move(done);
    return move_to(State::hop_up);
}

Next Engine::Impl::on_hop_timeout(Route& r, int side, Time now) {
    return on_hop_update_ack(r, side, nullptr, now);
}

// ---- both ends ----

void Engine::Impl::switch_hop(Hop& h, HopKeys keys, pc5::L2Id own, pc5::L2Id peer, Time now) {
    const pc5::L2Id previous_own = own_l2(h), previous_peer = h.summary.peer_l2;
    h.retired_own = previous_own;
    h.retired_peer = previous_peer;
    h.retired_ctx = std::move(h.ctx);
    h.retired_until = now + identifier_grace();
    h.ctx.emplace(std::move(keys.ctx));
    h.key = std::move(keys.key);
    h.nrpek = std::move(keys.nrpek);
    h.nrpik = std::move(keys.nrpik);
    h.own = own;
    auto& s = h.summary;
    s.peer_l2 = peer;
    s.local_l2 = own;
    s.knrp_sess_id = h.ctx->id();
    s.fingerprints = {{"KNRP-sess", h.key.fingerprint()},
                      {"NRPEK", h.nrpek.fingerprint()},
                      {"NRPIK", h.nrpik.fingerprint()}};
    log_hop_keys(h);
    h.update.reset();
    events.push_back(pc5::LinkRekeyed{s, false, true, previous_own, previous_peer});
}

}  // namespace pc5sec::sigauth
