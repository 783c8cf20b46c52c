// link::Engine plumbing: frames in and out, protection on the way, timers, events, key log.
#include <algorithm>

#include <fmt/format.h>

#include "link/impl.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/request_privacy.hpp"
#include "pc5sec/srap.hpp"

namespace pc5sec::link {

namespace {

using MT = codec::MessageType;

bool is_security_mode(MT t) {
    return t == MT::security_mode_command || t == MT::security_mode_complete ||
           t == MT::security_mode_reject;
}

// On SL-SRB1 the command travels in clear and the complete (or reject) ciphered (3gpp-facts
// §4). The receiver knows which one it may get from its state.
bool srb1_ciphered(State s) {
    return s == State::wait_smc_complete || s == State::rekey_wait_smc_complete ||
           s == State::wait_second_hop || s == State::established;
}

}  // namespace

// ---------------------------------------------------------------- creation

Result<std::unique_ptr<Engine>> Engine::create(Config config) {
    if (!config.credentials)
        return make_error(Errc::invalid_argument, "credentials",
                          "a UE needs its long-term credentials (step 0)");
    if (config.user_info.empty() || config.user_info.size() > 253)
        return make_error(Errc::invalid_argument, "user_info", "1 to 253 octets");
    if (config.user_info != config.credentials->certificate().subject())
        return make_error(
            Errc::invalid_argument, "user_info",
            fmt::format("\"{}\" is not the certificate's subject \"{}\"", config.user_info,
                        config.credentials->certificate().subject()));
    if (config.l2_id == 0 || config.l2_id >= pc5::kBroadcastL2Id)
        return make_error(Errc::invalid_argument, "l2_id", "a layer-2 ID is 1..0xfffffe");
    if (config.max_half_open == 0 || config.max_half_open > 65536)
        return make_error(Errc::invalid_argument, "max_half_open", "must be 1..65536");
    if (config.discovery_answers_per_second > 10000)
        return make_error(Errc::invalid_argument, "discovery_answers_per_second",
                          "must be at most 10000");
    if (config.method == AuthMethod::psk && !config.policy.group_keys.contains(config.psk_identity))
        return make_error(Errc::invalid_argument, "psk_identity",
                          fmt::format("no group key \"{}\" in the policy", config.psk_identity));
    if (!config.verification_cache)
        config.verification_cache = std::make_shared<creds::VerificationCache>();
    PC5SEC_TRY(discovery::check_materials(config.discovery_material));
    auto impl = std::make_unique<Impl>();
    impl->rng = config.rng ? config.rng : &system_rng();
    impl->discovery_security = discovery::Security(config.discovery_material);
    impl->config = std::move(config);
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() {
    for (auto& l : impl_->links)
        impl_->wipe(*l);
}

const std::string& Engine::user_info() const noexcept {
    return impl_->config.user_info;
}
pc5::L2Id Engine::l2_id() const noexcept {
    return impl_->config.l2_id;
}
const pc5::Counters& Engine::counters() const noexcept {
    return impl_->counters;
}
void Engine::set_in_coverage(bool c) noexcept {
    impl_->config.in_coverage = c;
}
std::size_t Engine::link_count() const noexcept {
    return impl_->links.size();
}
std::size_t Engine::cached_knrps() const noexcept {
    return impl_->knrp_cache.size();
}
void Engine::clear_knrp_cache() noexcept {
    impl_->knrp_cache.clear();
}
const std::vector<std::string>& Engine::links_over_frame_bound() const noexcept {
    return impl_->over_frame_bound;
}
std::uint32_t Engine::max_establishment_frames() const noexcept {
    return impl_->max_establishment_frames;
}

// ---------------------------------------------------------------- bounds (docs/solution-a.md)

namespace {

// How many times `step` fits in `span`, rounded up.
std::uint32_t times(pc5::Time span, pc5::Time step) {
    if (step <= pc5::Time{0}) return 0;
    return static_cast<std::uint32_t>((span.count() + step.count() - 1) / step.count());
}

// The messages of an establishment (not re-keying, keep-alive or release).
bool establishment_message(codec::MessageType t) {
    switch (t) {
        case MT::establishment_request:
        case MT::establishment_accept:
        case MT::establishment_reject:
        case MT::authentication_request:
        case MT::authentication_response:
        case MT::authentication_failure:
        case MT::authentication_reject:
        case MT::security_mode_command:
        case MT::security_mode_complete:
        case MT::security_mode_reject:
            return true;
        default:
            return false;
    }
}

// A message its sender retransmits until it is answered: a repeat of it is answered again.
// Answers (authentication response, accept, rejects, the responses) are never answered, so
// two ends can never bounce a message between them (issue 17, the livelock).
bool asks_for_answer(codec::MessageType t) {
    switch (t) {
        case MT::establishment_request:
        case MT::authentication_request:
        case MT::security_mode_command:
        case MT::security_mode_complete:  // answered by the ACCEPT
        case MT::rekeying_request:
        case MT::identifier_update_request:  // answered by the ACCEPT (its ACK: on_message)
        case MT::keepalive_request:
        case MT::release_request:
            return true;
        default:
            return false;
    }
}

}  // namespace

pc5::Time establishment_budget(const Timers& t) noexcept {
    return (t.t5080 + t.t_auth + 2 * t.t_smc) * (t.max_retransmissions + 1);
}

pc5::Time second_hop_wait(const Timers& t) noexcept {
    return t.relay_hold > pc5::Time{0} ? t.relay_hold : establishment_budget(t) + t.t_smc;
}

std::uint32_t reanswer_budget(const Timers& t) noexcept {
    return 4 * (t.max_retransmissions + 1);
}

std::uint32_t establishment_frame_bound(const Timers& t) noexcept {
    const std::uint32_t n = t.max_retransmissions;
    // First transmissions: at most 4 messages from one end (request, authentication response,
    // complete and a refusal; or authentication request, command, accept and a refusal).
    // Timer retransmissions: n for each request exchange, and the initiator's COMPLETE every
    // t_smc for as long as it waits for the ACCEPT (longest through a relay).
    const std::uint32_t complete_again = times(t.t_smc * (n + 1) + second_hop_wait(t), t.t_smc) + 1;
    return 4 + 3 * n + complete_again + reanswer_budget(t);
}

void Engine::Impl::count_establishment_frame(Link& link) {
    ++link.establishment_frames;
    max_establishment_frames = std::max(max_establishment_frames, link.establishment_frames);
    if (link.establishment_frames > establishment_frame_bound(config.timers) &&
        !link.over_frame_bound) {
        link.over_frame_bound = true;
        if (over_frame_bound.size() < 64) over_frame_bound.push_back(link.id);
    }
}

bool Engine::Impl::reanswer(Link& link, const Link::Pending& p, codec::MessageType repeated) {
    if (!asks_for_answer(repeated)) return false;  // an answer is never answered
    if (establishment_message(repeated)) {
        if (link.reanswers >= reanswer_budget(config.timers)) {
            drop(&link, pc5::DropReason::duplicate,
                 fmt::format("{} repeated: answered {} times already (reanswer_budget)",
                             codec::message_name(repeated), link.reanswers));
            return false;
        }
        ++link.reanswers;
        count_establishment_frame(link);
    }
    ++counters.retransmissions;
    pdcp::SecurityContext* ctx = nullptr;
    if (p.bearer != 0) {
        ctx = p.next_context && link.next_security ? &*link.next_security
              : link.security                      ? &*link.security
                                                   : nullptr;
        if (!ctx) return false;
    }
    send_with(link, ctx, p.bearer, p.cipher, p.message);
    return true;
}

// How long the initiator waits for the ACCEPT after its COMPLETE: the responder's command
// retransmissions, and through a relay the relay's wait for its second hop.
pc5::Time Engine::Impl::accept_wait(const Link& link) const {
    const auto& t = config.timers;
    // An end UE's hop to a relay (the relay's ACCEPT waits for its hop to the target); a
    // relay's own hop to a target waits for nothing more.
    const bool relayed_hop = config.role == UeRole::end_ue && link.kind == pc5::LinkKind::hop &&
                             link.relay_indication != codec::RelayIndication::direct;
    return t.t_smc * (t.max_retransmissions + 1) +
           (relayed_hop ? second_hop_wait(t) : pc5::Time{0});
}

std::vector<pc5::LinkSummary> Engine::links() const {
    std::vector<pc5::LinkSummary> out;
    for (const auto& l : impl_->links)
        if (l->state == State::established) out.push_back(impl_->summary(*l));
    return out;
}

std::optional<pc5::DataKeys> Engine::data_keys(const std::string& link_id) const {
    for (const auto& l : impl_->links) {
        if (l->id != link_id || l->state != State::established) continue;
        pc5::DataKeys k;
        k.link_id = l->id;
        k.kind = l->kind;
        k.peer_l2 = l->route.neighbour;
        k.local_l2 = l->route.own ? l->route.own : impl_->config.l2_id;
        k.remote_local_id = l->route.remote_local_id;
        k.initiator = l->side == Side::initiator;
        k.ciphering = l->ciphering;
        k.integrity = l->integrity;
        if (l->security_active && l->knrp_sess) {  // the same NRPEK/NRPIK as PC5-S (TS 33.536)
            k.knrp_sess_id = l->security->id();
            k.nrpek = derive_nrpek(*l->knrp_sess, l->ciphering);
            k.nrpik = derive_nrpik(*l->knrp_sess, l->integrity);
        }
        k.l3_routes = impl_->l3_routes(*l);
        return k;
    }
    return std::nullopt;
}

std::optional<pc5::Frame> Engine::poll_transmit() {
    if (impl_->tx.empty()) return std::nullopt;
    auto f = std::move(impl_->tx.front());
    impl_->tx.pop_front();
    return f;
}

std::optional<pc5::Event> Engine::poll_event() {
    if (impl_->events.empty()) return std::nullopt;
    auto e = std::move(impl_->events.front());
    impl_->events.pop_front();
    return e;
}

void Engine::connect(const pc5::ConnectRequest& request, pc5::Time now) {
    impl_->now_ = now;
    impl_->connect_link(request, now);
}

// ---------------------------------------------------------------- receiving

void Engine::receive(const pc5::Frame& frame, pc5::Time now) {
    impl_->now_ = now;
    auto& d = *impl_;
    ++d.counters.frames_received;
    if (frame.dst != pc5::kBroadcastL2Id && !d.owns_l2(frame.dst, now)) {
        d.drop(nullptr, pc5::DropReason::not_for_us, "destination layer-2 ID is not ours");
        return;
    }
    if (frame.src == d.config.l2_id) return;  // our own broadcast
    if (frame.lcid == pc5::lcid::kDiscovery) {
        d.on_discovery(frame, now);
    } else if (frame.lcid == pc5::lcid::kEndToEnd) {
        if (d.config.role == UeRole::relay) {
            d.relay_forward(frame, now);
            return;
        }
        auto h = srap::parse_header(frame.pdu);
        if (!h) {
            d.drop(nullptr, pc5::DropReason::malformed, h.error().describe());
            return;
        }
        d.on_pdu(Route{frame.src, true, h->src_ue}, h->bearer,
                 std::span(frame.pdu).subspan(srap::kHeaderSize), now);
    } else if (frame.lcid <= pc5::lcid::kSrb2) {
        d.on_pdu(Route{frame.src, false, 0}, frame.lcid, frame.pdu, now);
    } else {
        d.drop(nullptr, pc5::DropReason::malformed,
               fmt::format("LCID {} carries no PC5 signalling", frame.lcid));
    }
}

void Engine::Impl::on_pdu(const Route& route, std::uint8_t bearer,
                          std::span<const std::uint8_t> pdu, pc5::Time now) {
    // Several links may share a route (one per target through a relay, a new establishment
    // next to an old one): protected PDUs are told apart by their KNRP-sess ID, unprotected
    // messages by which link's state expects them (route_busy keeps that unambiguous for ours).
    Link* any_link = find_by_route(route);
    if (bearer == pc5::lcid::kSrb0) {
        std::vector<std::uint8_t> revealed;
        const auto opened = open_srb0(any_link, route, pdu, revealed, now);
        if (!opened) return;
        pdu = *opened;
        auto msg = codec::decode(pdu);
        if (!msg) {
            drop(any_link, pc5::DropReason::malformed, msg.error().describe());
            return;
        }
        const auto type = codec::message_type(*msg);
        count_rx(type);
        if (auto* req = std::get_if<codec::DirectLinkEstablishmentRequest>(&*msg)) {
            on_request(route, *req, pdu, now);
            return;
        }
        Link* link = nullptr;
        for (auto it = links.rbegin(); it != links.rend() && !link; ++it)
            if ((!(*it)->security ||
                 (type == MT::security_mode_reject && (*it)->state == State::wait_smc_complete)) &&
                same_route((*it)->route, route) && row_for(**it, Input::of(type)))
                link = it->get();  // a first establishment's command refused: SL-SRB0
        if (!link)  // learn the far end's SRAP local UE ID from its first answer (layer 2)
            if (Link* l = find_by_route(route); l && !l->security) link = l;
        if (!link) {
            drop(any_link, pc5::DropReason::unexpected,
                 any_link ? "unprotected PC5-S on a secured link" : "no link with this peer");
            return;
        }
        on_message(*link, *msg, pdu, {}, now);
        return;
    }
    if (bearer > pc5::lcid::kSrb2) {
        drop(any_link, pc5::DropReason::malformed,
             fmt::format("bearer {} is not a PC5-S SRB", bearer));
        return;
    }
    // End to end through a layer-2 relay whose hop to the far end changed its identifiers: the
    // relay wrote the far end's new local UE ID (TS 24.554 7.2.4.2). The link is known by its
    // KNRP-sess ID, and takes the new ID once the PDU verifies under its keys (below).
    Link* relearn = nullptr;
    if (!any_link && route.end_to_end)
        if (auto h = pdcp::peek_header(pdu))
            for (auto& l : links)
                if (l->kind == pc5::LinkKind::e2e && l->route.end_to_end && l->security &&
                    l->security->id() == h->knrp_sess_id &&
                    (l->route.neighbour == route.neighbour ||
                     (l->retired_route && now < l->retired_until &&
                      l->retired_route->neighbour == route.neighbour))) {
                    relearn = any_link = l.get();
                    break;
                }
    if (!any_link) {
        drop(nullptr, pc5::DropReason::unknown_session, "protected PDU from a UE with no link");
        return;
    }
    auto header = pdcp::peek_header(pdu);
    if (!header) {
        drop(any_link, pc5::DropReason::malformed, header.error().describe());
        return;
    }
    Link* link = nullptr;
    pdcp::SecurityContext* ctx = nullptr;
    for (auto& l : links) {
        if (!on_route(*l, route, now) && l.get() != relearn) continue;
        for (auto* c : {&l->security, &l->next_security, &l->previous_security})
            if (*c && (*c)->id() == header->knrp_sess_id) {
                ctx = &**c;
                link = l.get();
                break;
            }
        if (ctx) break;
    }
    if (!ctx) {
        // A new security mode command: its keys come from its own content (step 4), its
        // KNRP-sess ID from our MSB (fresh_msb: unique among our establishments on the route).
        Link* waiting = nullptr;
        for (auto& l : links)
            if (same_route(l->route, route) &&
                (l->state == State::wait_peer || l->state == State::wait_smc ||
                 l->state == State::rekey_wait_peer) &&
                (l->hs.msb_sess == header->knrp_sess_id.msb() ||
                 (header->knrp_sess_id.value == 0 && l->state == State::wait_peer)))
                waiting = l.get();         // ID 0: a null-integrity command (TS 33.536 5.3.3.1.2)
        if (!waiting && route.end_to_end)  // its first answer through a layer-2 relay
            if (Link* l = find_by_route(route);
                l && l->state == State::wait_peer &&
                (l->hs.msb_sess == header->knrp_sess_id.msb() || header->knrp_sess_id.value == 0))
                waiting = l;
        if (waiting && bearer == pc5::lcid::kSrb1 && pdu.size() >= pdcp::kOverhead) {
            auto inner = pdu.subspan(pdcp::kHeaderSize, pdu.size() - pdcp::kOverhead);
            auto msg = codec::decode(inner);
            if (msg && std::holds_alternative<codec::DirectLinkSecurityModeCommand>(*msg)) {
                count_rx(MT::security_mode_command);
                on_message(*waiting, *msg, inner, pdu, now);
                return;
            }
        }
        drop(waiting ? waiting : any_link, pc5::DropReason::unknown_session,
             fmt::format("KNRP-sess ID {:04x} names no key of a link with this peer",
                         header->knrp_sess_id.value));
        return;
    }
    const bool cipher = bearer == pc5::lcid::kSrb2 || srb1_ciphered(link->state);
    auto opened = ctx->unprotect(bearer, pdu, cipher);
    if (!opened) {
        // TS 33.536 5.3.3.1.4: a PDU failing the integrity or replay check is discarded.
        drop(link, pdcp::drop_reason(ctx->last_rejection()), opened.error().describe());
        return;
    }
    if (link == relearn) {
        link->previous_remote_local_id = link->route.remote_local_id;
        link->route.remote_local_id = route.remote_local_id;
        pc5::LinkRekeyed moved{summary(*link), false};  // its data follow (same keys)
        moved.identifiers_updated = true;
        moved.previous_local_l2 = moved.link.local_l2;
        moved.previous_peer_l2 = moved.link.peer_l2;
        emit(std::move(moved));
    }
    if (link->state == State::identifier_update_wait_ack && link->next_security &&
        ctx == &*link->next_security) {
        // TS 24.554 7.2.4: a PDU verified under the update's keys: the requester switched, so
        // its ack was lost or is late. The new identifiers are in use at both ends.
        dispatch(*link, Input::of(MT::identifier_update_ack), now, [&] {
            switch_identifiers(*link, now);
            return move_to(State::established);
        });
    }
    auto msg = codec::decode(*opened);
    if (!msg) {
        drop(link, pc5::DropReason::malformed, msg.error().describe());
        return;
    }
    count_rx(codec::message_type(*msg));
    rx_knrp_sess_id = header->knrp_sess_id;
    on_message(*link, *msg, *opened, pdu, now);
}

void Engine::Impl::on_message(Link& link, const codec::Message& msg,
                              std::span<const std::uint8_t> bytes,
                              std::span<const std::uint8_t> pdu, pc5::Time now) {
    const auto type = codec::message_type(msg);
    const auto seq = codec::sequence_number(msg);
    if (link.last_rx && link.last_rx->first == type && link.last_rx->second == seq) {
        // TS 24.554: the same sequence number again is a retransmission: a request is answered
        // again (within reanswer_budget); a repeated answer is only dropped (no livelock). A
        // repeated REKEYING REQUEST is answered by the command it drew (our last request), not
        // by an older answer of ours (found by fuzz_engines: a stale REKEYING RESPONSE ended
        // the requester's re-keying while ours was still waiting).
        if (type == MT::identifier_update_accept && link.ack_frame &&
            link.state != State::identifier_update_wait_accept) {
            // Our ack was lost: the very frame again (its keys and L2 IDs are no longer the
            // link's, TS 24.554 7.2.4).
            ++counters.retransmissions;
            ++counters.frames_sent;
            counters.bytes_sent += link.ack_frame->pdu.size();
            tx.push_back(*link.ack_frame);
            drop(&link, pc5::DropReason::duplicate,
                 fmt::format("{} #{} again", codec::message_name(type), seq));
            return;
        }
        const bool rekey_repeat =
            type == MT::rekeying_request && link.state == State::rekey_wait_smc_complete;
        const auto& answer = rekey_repeat ? link.last_request : link.last_answer;
        if (answer) (void)reanswer(link, *answer, type);
        drop(&link, pc5::DropReason::duplicate,
             fmt::format("{} #{} again", codec::message_name(type), seq));
        return;
    }
    const FlowRow* row = row_for(link, Input::of(type));
    if (!row) {  // not in the flow table for this state: dropped and counted
        drop(&link, pc5::DropReason::unexpected,
             fmt::format("{} in state {}", codec::message_name(type), name(link.state)));
        return;
    }
    // Only what the handler took counts as the peer's last message (below): a forged copy,
    // dropped, must not make the genuine one look like a retransmission.
    const auto drops_before = total_drops();
    if (link.state == State::established && config.timers.keepalive_interval > pc5::Time{0} &&
        !link.keepalive_outstanding && link.security)
        link.deadline = now + config.timers.keepalive_interval;  // the link is alive
    const Next next = std::visit(
        [&](const auto& m) -> Next {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, codec::DirectLinkAuthenticationRequest>) {
                return on_auth_request(link, m, bytes, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkAuthenticationResponse>) {
                return on_auth_response(link, m, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkSecurityModeCommand>) {
                return on_security_mode_command(link, m, pdu, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkSecurityModeComplete>) {
                return on_security_mode_complete(link, m, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkEstablishmentAccept>) {
                return move_to(State::established);  // on_accept: step 5 done
            } else if constexpr (std::is_same_v<M, codec::DirectLinkEstablishmentReject> ||
                                 std::is_same_v<M, codec::DirectLinkAuthenticationFailure> ||
                                 std::is_same_v<M, codec::DirectLinkAuthenticationReject> ||
                                 std::is_same_v<M, codec::DirectLinkSecurityModeReject>) {
                constexpr bool refuses_rekeying =
                    std::is_same_v<M, codec::DirectLinkAuthenticationReject> ||
                    std::is_same_v<M, codec::DirectLinkSecurityModeReject>;
                if (refuses_rekeying && (link.state == State::rekey_wait_peer ||
                                         link.state == State::rekey_wait_smc_complete)) {
                    // on_rekey_refused: a failed re-keying keeps the current keys (TS 33.536
                    // 5.3.3.2).
                    link.next_security.reset();
                    link.next_knrp.reset();
                    link.next_knrp_sess.reset();
                    link.deadline = pc5::kNever;
                    drop(&link, pc5::DropReason::unexpected,
                         fmt::format("re-keying refused by the peer: cause #{}",
                                     static_cast<unsigned>(m.cause)));
                    return move_to(State::established);
                }
                if (pdu.empty()) return on_unprotected_reject(link, type, m.cause, now);
                // on_reject: protected under the link's keys, so the peer's word.
                fail(link, m.cause, fmt::format("{} from the peer", codec::message_name(type)),
                     true, now, false);
                return gone();
            } else if constexpr (std::is_same_v<M, codec::DirectLinkRekeyingRequest>) {
                return on_rekeying_request(link, m, bytes, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkRekeyingResponse>) {
                // TS 33.536 5.3.3.2: the answer to our complete. Before the command, it answers
                // nothing of ours (a stale or misrouted one): dropped.
                if (!link.rekey_switched) {
                    drop(&link, pc5::DropReason::unexpected,
                         "rekeying_response before the security mode command");
                    return stay();
                }
                // The peer answers once it switched: under the new keys. One under the previous
                // keys is a stale copy (of an earlier re-keying's answer).
                if (!link.security || rx_knrp_sess_id != link.security->id()) {
                    drop(&link, pc5::DropReason::unexpected,
                         fmt::format("rekeying_response under KNRP-sess ID {:04x}, not the new "
                                     "keys: a stale copy",
                                     rx_knrp_sess_id.value));
                    return stay();
                }
                link.rekey_switched = false;
                link.deadline = config.timers.keepalive_interval > pc5::Time{0}
                                    ? now + config.timers.keepalive_interval
                                    : pc5::kNever;
                log_keys(link);
                emit(pc5::LinkRekeyed{summary(link), link.hs.reauth});
                return move_to(State::established);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkIdentifierUpdateRequest>) {
                return on_identifier_update_request(link, m, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkIdentifierUpdateAccept>) {
                return on_identifier_update_accept(link, m, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkIdentifierUpdateAck>) {
                return on_identifier_update_ack(link, m, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkIdentifierUpdateReject>) {
                return on_identifier_update_reject(link, m.cause, now);
            } else if constexpr (std::is_same_v<M, codec::DirectLinkKeepaliveRequest>) {
                codec::DirectLinkKeepaliveResponse r;
                r.keepalive_counter = m.keepalive_counter;
                send(link, r, now, false);
                return stay();
            } else if constexpr (std::is_same_v<M, codec::DirectLinkKeepaliveResponse>) {
                if (m.keepalive_counter == link.keepalive_counter) {
                    link.keepalive_outstanding = false;
                    link.deadline = config.timers.keepalive_interval > pc5::Time{0}
                                        ? now + config.timers.keepalive_interval
                                        : pc5::kNever;
                }
                return stay();
            } else if constexpr (std::is_same_v<M, codec::DirectLinkReleaseRequest>) {
                codec::DirectLinkReleaseAccept a;
                send(link, a, now, false);
                released(link, m.cause, true, now);
                return gone();
            } else if constexpr (std::is_same_v<M, codec::DirectLinkReleaseAccept>) {
                released(link, codec::Cause::direct_communication_no_longer_needed, false, now);
                return gone();
            } else {
                drop(&link, pc5::DropReason::unexpected, codec::message_name(type));
                return stay();
            }
        },
        msg);
    // A command counts once its MAC-I verified (its handler records it); a reject is never a
    // retransmission (each one comes from a new attempt: on_unprotected_reject).
    if (next.kind != Next::Kind::gone && total_drops() == drops_before &&
        type != MT::security_mode_command && type != MT::establishment_reject &&
        type != MT::authentication_reject && type != MT::authentication_failure)
        link.last_rx = std::make_pair(type, seq);
    apply(link, *row, next, now);
}

Next Engine::Impl::on_unprotected_reject(Link& link, codec::MessageType type, codec::Cause cause,
                                         pc5::Time now) {
    // Before security is active a reject cannot be authenticated (TS 24.554 sends it on
    // SL-SRB0), so one forged frame must not end the establishment: the first makes us ask
    // once more at once, and only a second (or the timer running out) ends the link with it.
    // Nor a second: a forged or corrupted copy must never end an attempt that a genuine answer
    // could still complete. The link keeps waiting until its timer runs out and then ends with
    // the last cause seen (docs/solution-a.md, "Unprotected rejects": a departure from TS
    // 24.554, where a reject ends the procedure).
    (void)now;
    const bool first = !link.unconfirmed_reject;
    link.unconfirmed_reject = cause;
    link.refusal.clear();  // the peer's word (if it is the peer's) is the last cause seen
    drop(&link, pc5::DropReason::unexpected,
         fmt::format(
             "{} #{} not protected: {}", codec::message_name(type), static_cast<unsigned>(cause),
             first ? "asking once more, and waiting for the timer" : "waiting for the timer"));
    if (first) {
        if (link.last_request)
            resend(link, *link.last_request);
        else if (link.last_answer)
            resend(link, *link.last_answer);
    }
    return stay();
}

// ---------------------------------------------------------------- sending

void Engine::Impl::send(Link& link, codec::Message msg, pc5::Time now, bool is_request) {
    (void)now;
    std::visit([&](auto& m) { m.seq = link.tx_seq++; }, msg);
    auto bytes = codec::encode(msg);
    const auto type = codec::message_type(msg);
    if (!bytes) {  // our own message did not encode: a bug, reported, never sent half-built
        drop(&link, pc5::DropReason::malformed,
             fmt::format("could not encode {}: {}", codec::message_name(type),
                         bytes.error().describe()));
        return;
    }
    Link::Pending p;
    p.message = std::move(*bytes);
    const bool next = type == MT::security_mode_command && link.next_security.has_value();
    pdcp::SecurityContext* ctx = next            ? &*link.next_security
                                 : link.security ? &*link.security
                                                 : nullptr;
    if (ctx) {
        p.bearer = is_security_mode(type) ? pc5::lcid::kSrb1 : pc5::lcid::kSrb2;
        p.cipher = type != MT::security_mode_command;  // step 4: integrity only
        p.next_context = next;
    }
    ++counters.sent_messages[type];
    if (establishing(link.state) && establishment_message(type)) count_establishment_frame(link);
    const auto before = counters.bytes_sent;
    send_with(link, ctx, p.bearer, p.cipher, p.message);
    counters.sent_bytes[type] += counters.bytes_sent - before;
    if (is_request)
        link.last_request = std::move(p);
    else
        link.last_answer = std::move(p);
}

void Engine::Impl::resend(Link& link, const Link::Pending& p) {
    pdcp::SecurityContext* ctx = nullptr;
    if (p.bearer != 0) {
        ctx = p.next_context && link.next_security ? &*link.next_security
              : link.security                      ? &*link.security
                                                   : nullptr;
        if (!ctx) return;
    }
    ++counters.retransmissions;
    if (establishing(link.state)) count_establishment_frame(link);
    send_with(link, ctx, p.bearer, p.cipher, p.message);
}

void Engine::Impl::send_with(Link& link, pdcp::SecurityContext* ctx, std::uint8_t bearer,
                             bool cipher, const std::vector<std::uint8_t>& message) {
    if (!ctx) {
        auto pdu = message;
        if (!conceal_srb0(link, pdu)) return;
        frame_out(link.route, bearer, std::move(pdu), capture_of(link, ctx, cipher, message));
        return;
    }
    auto pdu = ctx->protect(bearer, message, cipher);
    if (!pdu) {  // COUNT exhausted: the link must be re-keyed; nothing goes out unprotected
        drop(&link, pc5::DropReason::unexpected, pdu.error().describe());
        return;
    }
    frame_out(link.route, bearer, std::move(*pdu), capture_of(link, ctx, cipher, message));
}

bool Engine::Impl::conceal_srb0(const Link& link, std::vector<std::uint8_t>& pdu) {
    const std::uint32_t rsc = link.conceal_rsc ? link.conceal_rsc : link.rsc;
    if (pdu.empty() || !request_privacy::conceals_message(static_cast<MT>(pdu[0])) || rsc == 0 ||
        !discovery_security.material(rsc))
        return true;  // no RSC (a direct link), or none whose material this UE holds: in clear
    auto air = request_privacy::conceal(discovery_security, pdu, rsc, wall(now_),
                                        random.bytes<request_privacy::kNonceSize>());
    if (!air) {
        drop(&link, pc5::DropReason::unexpected,
             "SL-SRB0 message not sent: " + air.error().describe());
        return false;
    }
    pdu = std::move(*air);
    return true;
}

std::optional<std::span<const std::uint8_t>> Engine::Impl::open_srb0(
    const Link* link, const Route& route, std::span<const std::uint8_t> pdu,
    std::vector<std::uint8_t>& storage, pc5::Time now) {
    rx_concealed_rsc = 0;
    auto opened = request_privacy::reveal(discovery_security, pdu, wall(now));
    if (!opened) {
        const auto reason = request_privacy::drop_reason(opened.error());
        drop(link, reason, opened.error().describe());
        if (reason == pc5::DropReason::not_for_us &&  // KI#3: not authorised for the RSC (#11)
            pdu[0] == static_cast<std::uint8_t>(MT::establishment_request)) {
            codec::DirectLinkEstablishmentReject r;
            r.seq = pdu.size() > 1 ? pdu[1] : 0;
            r.cause = codec::Cause::required_service_not_allowed;
            if (auto b = codec::encode(r)) {
                ++counters.sent_messages[MT::establishment_reject];
                const auto before = counters.bytes_sent;
                frame_out(route, pc5::lcid::kSrb0, std::move(*b));
                counters.sent_bytes[MT::establishment_reject] += counters.bytes_sent - before;
            }
        }
        return std::nullopt;
    }
    if (!opened->concealed) return pdu;
    rx_concealed_rsc = opened->rsc;
    storage = std::move(opened->plain);
    return std::span<const std::uint8_t>(storage);
}

std::shared_ptr<const pc5::FrameCapture> Engine::Impl::capture_of(
    const Link& link, const pdcp::SecurityContext* ctx, bool cipher,
    const std::vector<std::uint8_t>& message) {
    if (!config.capture) return nullptr;
    auto c = std::make_shared<pc5::FrameCapture>();
    c->link_id = link.id;
    c->from_initiator = link.side == Side::initiator;
    c->integrity = ctx && ctx->integrity() != IntegrityAlgorithm::nia0;
    c->ciphered = ctx && cipher && ctx->ciphering() != CipheringAlgorithm::nea0;
    c->via_relay = link.relay_indication != codec::RelayIndication::direct ||
                   link.kind == pc5::LinkKind::e2e || config.role == UeRole::relay;
    c->message = message;
    return c;
}

void Engine::Impl::frame_out(const Route& r, std::uint8_t bearer, std::vector<std::uint8_t> pdu,
                             std::shared_ptr<const pc5::FrameCapture> capture) {
    pc5::Frame f;
    f.src = r.own ? r.own : config.l2_id;
    f.dst = r.neighbour;
    f.capture = std::move(capture);
    if (r.end_to_end) {  // through a layer-2 relay: SRAP with the far end's local UE ID
        std::vector<std::uint8_t> framed;
        framed.reserve(srap::kHeaderSize + pdu.size());
        (void)srap::append_header({bearer, srap::kUnknownUeId, r.remote_local_id}, framed);
        framed.insert(framed.end(), pdu.begin(), pdu.end());
        f.lcid = pc5::lcid::kEndToEnd;
        f.pdu = std::move(framed);
    } else {
        f.lcid = bearer;
        f.pdu = std::move(pdu);
    }
    ++counters.frames_sent;
    counters.bytes_sent += f.pdu.size();
    tx.push_back(std::move(f));
}

std::uint64_t Engine::Impl::total_drops() const {
    std::uint64_t n = 0;
    for (auto d : counters.drops)
        n += d;
    return n;
}

void Engine::Impl::count_rx(codec::MessageType t) {
    ++counters.received_messages[t];
}

void Engine::Impl::drop(const Link* link, pc5::DropReason reason, std::string detail) {
    ++counters.drops[static_cast<std::size_t>(reason)];
    emit(pc5::PduDropped{link ? link->id : std::string{}, reason, std::move(detail)});
}

// ---------------------------------------------------------------- links

Link* Engine::Impl::find(const std::string& id) {
    for (auto& l : links)
        if (l->id == id) return l.get();
    return nullptr;
}

Link* Engine::Impl::find_by_route(const Route& r) {
    for (auto& l : links)
        if (l->route.neighbour == r.neighbour && l->route.end_to_end == r.end_to_end &&
            (!r.end_to_end || l->route.remote_local_id == r.remote_local_id) &&
            l->state != State::wait_discovery && l->state != State::wait_hop)
            return l.get();
    if (r.end_to_end)  // the first answer through a layer-2 relay tells us the far end's ID
        for (auto& l : links)
            if (l->route.end_to_end && l->route.neighbour == r.neighbour &&
                l->route.remote_local_id == srap::kUnknownUeId && l->side == Side::initiator &&
                l->state == State::wait_peer) {
                l->route.remote_local_id = r.remote_local_id;
                return l.get();
            }
    for (auto& l : links)  // identifiers a link identifier update replaced or is giving
        if (!same_route(l->route, r) && on_route(*l, r, now_)) return l.get();
    return nullptr;
}

Link& Engine::Impl::add_link(std::unique_ptr<Link> link) {
    links.push_back(std::move(link));
    return *links.back();
}

void Engine::Impl::remove_link(Link& link) {
    std::erase_if(links, [&](const std::unique_ptr<Link>& l) { return l.get() == &link; });
}

creds::TimePoint Engine::Impl::wall(pc5::Time now) const {
    return config.wall_epoch + std::chrono::duration_cast<creds::Clock::duration>(now);
}

void Engine::Impl::arm(Link& link, pc5::Time now, pc5::Time timeout) {
    link.retransmissions = 0;
    arm_retransmission(link, now, timeout);
}

void Engine::Impl::arm_retransmission(Link& link, pc5::Time now, pc5::Time timeout) {
    link.deadline = now + timeout;
    if (link.side == Side::responder && !link.authenticated)  // Config::half_open_lifetime
        link.deadline = std::min(link.deadline, link.started + config.half_open_lifetime);
}

void Engine::Impl::wipe(Link& link) {
    link.knrp.reset();
    link.knrp_sess.reset();
    link.security.reset();
    link.next_security.reset();
    link.previous_security.reset();
    link.next_knrp_sess.reset();
    link.next_knrp.reset();
    link.hs = Handshake{};
    link.last_request.reset();
    link.last_answer.reset();
}

std::unique_ptr<Link> Engine::Impl::take(Link& link) {
    std::unique_ptr<Link> out;
    for (auto it = links.begin(); it != links.end(); ++it)
        if (it->get() == &link) {
            out = std::move(*it);
            links.erase(it);
            break;
        }
    return out;
}

void Engine::Impl::fail(Link& link, codec::Cause cause, std::string reason, bool by_peer,
                        pc5::Time now, bool send_reject) {
    if (send_reject) {
        codec::DirectLinkEstablishmentReject r;
        r.cause = cause;
        send(link, r, now, false);
    }
    emit(pc5::LinkFailed{link.id, config.user_info, link.peer, link.kind, pc5::Solution::a, cause,
                         reason, by_peer, now});
    auto gone_link = take(link);  // no longer found by anything that follows
    wipe(*gone_link);
    const bool relayed_hop = gone_link->kind == pc5::LinkKind::hop &&
                             gone_link->relay_indication != codec::RelayIndication::direct;
    if (relayed_hop && config.role == UeRole::relay && gone_link->side == Side::initiator)
        second_hop_done(*gone_link, false, cause, now);
    if (relayed_hop && config.role == UeRole::end_ue && gone_link->side == Side::initiator &&
        gone_link->relay_indication == codec::RelayIndication::via_layer2_relay) {
        std::vector<Link*> waiting;  // end-to-end links that were waiting for this hop
        bool other_hop = false;
        for (auto& l : links)
            other_hop =
                other_hop || (l->kind == pc5::LinkKind::hop && l->side == Side::initiator &&
                              l->relay_indication == codec::RelayIndication::via_layer2_relay &&
                              l->rsc == gone_link->rsc);
        for (auto& l : links)
            if (l->kind == pc5::LinkKind::e2e && l->state == State::wait_hop && !other_hop &&
                l->rsc == gone_link->rsc)
                waiting.push_back(l.get());
        for (auto* w : waiting) {
            emit(pc5::LinkFailed{w->id, config.user_info, w->peer, w->kind, pc5::Solution::a, cause,
                                 "first hop to the relay failed: " + reason, by_peer, now});
            wipe(*w);
            remove_link(*w);
        }
    }
    forget_first_hop(gone_link->id, now);
    start_waiting(now);
}

void Engine::Impl::released(Link& link, codec::Cause cause, bool by_peer, pc5::Time now) {
    emit(pc5::LinkReleased{link.id, link.peer, cause, by_peer, now});
    auto gone_link = take(link);
    wipe(*gone_link);
    if (config.role == UeRole::relay && gone_link->side == Side::initiator &&
        gone_link->kind == pc5::LinkKind::hop &&
        gone_link->relay_indication != codec::RelayIndication::direct)
        second_hop_done(*gone_link, false, codec::Cause::direct_connection_not_available, now);
    forget_first_hop(gone_link->id, now);
    start_waiting(now);
}

// Entering `established` (the flow table's one entry action, run by apply).
void Engine::Impl::establish(Link& link, pc5::Time now) {
    link.established_at = now;
    link.keepalive_outstanding = false;
    link.unconfirmed_reject.reset();
    link.deadline = config.timers.keepalive_interval > pc5::Time{0}
                        ? now + config.timers.keepalive_interval
                        : pc5::kNever;
    link.hs.ephemeral.reset();  // forward secrecy: the ephemeral keys go now
    link.hs.new_knrp.reset();
    arm_privacy_timer(link, now);
    log_keys(link);
    emit(pc5::LinkEstablished{summary(link)});
    const bool relayed_hop =
        link.kind == pc5::LinkKind::hop && link.relay_indication != codec::RelayIndication::direct;
    if (relayed_hop && config.role == UeRole::relay && link.side == Side::initiator)
        second_hop_done(link, true, codec::Cause::protocol_error_unspecified, now);
    start_waiting(now);
}

// ---------------------------------------------------------------- links on a route

bool Engine::Impl::same_route(const Route& a, const Route& b) {
    return a.neighbour == b.neighbour && a.end_to_end == b.end_to_end &&
           (!a.end_to_end || a.remote_local_id == b.remote_local_id);
}

bool Engine::Impl::session_in_use(const Route& route, KnrpSessId id) const {
    for (const auto& l : links)
        if (same_route(l->route, route))
            for (const auto* c : {&l->security, &l->next_security, &l->previous_security})
                if (*c && (*c)->id() == id) return true;
    return false;
}

std::uint8_t Engine::Impl::fresh_msb(const Link& link) {
    for (int tries = 0;; ++tries) {
        const std::uint8_t msb = random.next_u8();
        if (msb == 0) continue;  // KNRP-sess ID 0 means "no security" (3gpp-facts §2)
        bool used = false;
        for (const auto& l : links)
            used = used || (l.get() != &link && l->route.neighbour == link.route.neighbour &&
                            l->hs.msb_sess == msb);
        if (!used || tries > 1024) return msb;
    }
}

void Engine::Impl::make_room_for_half_open(pc5::Time now) {
    std::size_t half_open = 0;
    Link* oldest = nullptr;
    for (auto& l : links)
        if (l->side == Side::responder && !l->authenticated && l->state != State::established) {
            ++half_open;
            if (!oldest || l->started < oldest->started) oldest = l.get();
        }
    if (half_open < config.max_half_open || !oldest) return;
    // The oldest goes: a flood pushes out only links nobody has authenticated.
    fail(*oldest, codec::Cause::congestion,
         "half-open link pushed out by a newer request (Config::max_half_open)", false, now, false);
}

bool Engine::Impl::route_busy(const Link& link) const {
    for (const auto& o : links)
        if (o.get() != &link && o->side == Side::initiator &&
            o->route.neighbour == link.route.neighbour &&
            o->route.end_to_end == link.route.end_to_end &&
            (o->state == State::wait_peer || o->state == State::wait_smc) &&
            (!link.route.end_to_end || o->route.remote_local_id == srap::kUnknownUeId))
            return true;
    return false;
}

void Engine::Impl::start_waiting(pc5::Time now) {
    if (stopping) return;
    // Each pass starts at most one link (starting it may change `links`); a pass that starts
    // none ends the loop.
    for (bool progress = true; progress;) {
        progress = false;
        for (auto& l : links) {
            if (l->state != State::wait_hop) continue;
            Link& w = *l;
            if (w.kind == pc5::LinkKind::e2e) {
                // Through a layer-2 relay: an established hop to a relay for the RSC carries it.
                const Link* hop = nullptr;
                for (auto& h : links)
                    if (h->kind == pc5::LinkKind::hop && h->side == Side::initiator &&
                        h->state == State::established &&
                        h->relay_indication == codec::RelayIndication::via_layer2_relay &&
                        h->rsc == w.rsc &&
                        (w.route.neighbour == 0 || h->route.neighbour == w.route.neighbour))
                        hop = h.get();
                if (!hop) continue;
                w.route = Route{hop->route.neighbour, true, srap::kUnknownUeId};
            }
            if (route_busy(w)) continue;
            const std::size_t before = links.size();
            dispatch(w, Input::of(Local::hop_up), now, [&] { return send_request(w, now); });
            progress = links.size() != before || w.state != State::wait_hop;
            break;
        }
    }
}

std::string Engine::Impl::null_integrity_note(PolicyLevel theirs) const {
    return fmt::format("no integrity: policy {}, peer offered {}",
                       name(config.policy.signalling.integrity),
                       theirs == PolicyLevel::not_needed ? "none" : name(theirs));
}

bool Engine::Impl::refuses_null_integrity(const Link& link) const {
    if (!config.policy.refuse_null_integrity) return false;
    // This UE holds credentials for the peer: on a direct link any; through a relay, for its
    // RSC.
    if (link.relay_indication == codec::RelayIndication::direct && link.kind == pc5::LinkKind::hop)
        return true;
    return certificate().authorisation().has_rsc(link.rsc) || link.kind == pc5::LinkKind::e2e;
}

void Engine::Impl::authenticated(Link& link, pc5::Time now) {
    if (link.authenticated) return;
    link.authenticated = true;
    // TS 24.554 7.2.2.6.2: the old link of the same identity goes once the new one succeeds.
    if (!link.replaces.empty()) {
        const std::string old_id = std::exchange(link.replaces, std::string{});
        for (auto& l : links)
            if (l->id == old_id && l.get() != &link) {
                released(*l, codec::Cause::direct_communication_no_longer_needed, true, now);
                break;
            }
    }
    // A relay sends nothing towards the target before the source is authenticated (and found
    // authorised for the RSC, in on_request).
    if (config.role == UeRole::relay && link.side == Side::responder &&
        link.kind == pc5::LinkKind::hop && link.relay_indication != codec::RelayIndication::direct)
        start_second_hop(link, link.target, now);
}

Next Engine::Impl::release_for(Link& link, const Error& why, pc5::Time now) {
    for (auto it = knrp_cache.begin(); it != knrp_cache.end();)
        it = it->first.first == link.peer ? knrp_cache.erase(it) : std::next(it);
    codec::DirectLinkReleaseRequest r;
    r.cause = codec::Cause::authentication_failure;
    send(link, r, now, true);
    drop(&link, pc5::DropReason::unexpected,
         "the peer's credential no longer holds: " + why.describe());
    released(link, codec::Cause::authentication_failure, false, now);
    return gone();
}

pc5::LinkSummary Engine::Impl::summary(const Link& link) const {
    pc5::LinkSummary s;
    s.id = link.id;
    s.local = config.user_info;
    s.peer = link.peer;
    s.target = link.relay_indication != codec::RelayIndication::direct &&
                       link.kind == pc5::LinkKind::hop && !link.target.empty()
                   ? link.target
                   : link.peer;
    s.peer_l2 = link.route.neighbour;
    s.local_l2 = link.route.own ? link.route.own : config.l2_id;
    s.kind = link.kind;
    s.solution = pc5::Solution::a;
    s.initiator = link.side == Side::initiator;
    s.security_active = link.security_active;
    s.knrp_reused = link.knrp_reused;
    s.security_note = link.security_note;
    s.knrp_id = link.knrp_id;
    s.knrp_sess_id = link.security ? link.security->id() : KnrpSessId{};
    s.ciphering = link.ciphering;
    s.integrity = link.integrity;
    if (link.knrp) s.fingerprints["KNRP"] = link.knrp->fingerprint();
    if (link.knrp_sess) {
        s.fingerprints["KNRP-sess"] = link.knrp_sess->fingerprint();
        s.fingerprints["NRPEK"] = link.fingerprints.nrpek;
        s.fingerprints["NRPIK"] = link.fingerprints.nrpik;
    }
    s.started = link.started;
    s.established = link.established_at;
    return s;
}

void Engine::Impl::log_keys(const Link& link) {
    if (!config.keylog) return;
    auto& k = *config.keylog;
    // The key log is the one place keys leave pc5sec ([solution-a] item 4).
    if (link.knrp) k.bytes("KNRP", link.id, link.knrp->reveal());
    k.bytes("NONCE_1", link.id, link.hs.nonce_1);
    k.bytes("NONCE_2", link.id, link.hs.nonce_2);
    if (link.knrp_sess) k.bytes("KNRP_SESS", link.id, link.knrp_sess->reveal());
    const std::uint16_t id = link.security ? link.security->id().value : 0;
    const std::uint8_t id_bytes[] = {static_cast<std::uint8_t>(id >> 8),
                                     static_cast<std::uint8_t>(id)};
    k.bytes("KNRP_SESS_ID", link.id, id_bytes);
    k.algorithms(link.id, algorithm_identity_octet(link.ciphering),
                 algorithm_identity_octet(link.integrity));
    if (link.knrp_sess) {
        k.bytes("NRPEK", link.id, derive_nrpek(*link.knrp_sess, link.ciphering).reveal());
        k.bytes("NRPIK", link.id, derive_nrpik(*link.knrp_sess, link.integrity).reveal());
    }
}

// ---------------------------------------------------------------- timers

pc5::Time Engine::next_timeout() const noexcept {
    pc5::Time t = pc5::kNever;
    for (const auto& l : impl_->links)
        t = std::min({t, l->deadline, l->privacy_deadline});
    if (impl_->config.role == UeRole::relay && impl_->config.discovery == DiscoveryModel::a)
        t = std::min(t, impl_->next_announce);
    return t;
}

void Engine::handle_timeout(pc5::Time now) {
    impl_->now_ = now;
    auto& d = *impl_;
    if (d.config.role == UeRole::relay && d.config.discovery == DiscoveryModel::a &&
        now >= d.next_announce) {
        d.announce(now);
        d.next_announce = now + d.config.timers.announce_interval;
    }
    std::vector<Link*> due;
    for (auto& l : d.links)
        if (l->deadline <= now) due.push_back(l.get());
    for (auto* l : due)  // a timer may end other links: each must still be there
        if (std::any_of(d.links.begin(), d.links.end(),
                        [&](const auto& p) { return p.get() == l; }) &&
            l->deadline <= now)
            d.dispatch(*l, Input::of(Local::timer), now, [&] { return d.on_timeout(*l, now); });
    due.clear();
    for (auto& l : d.links)
        if (l->privacy_deadline <= now) due.push_back(l.get());
    for (auto* l : due)  // T5090 (TS 24.554 7.2.4): an established link's identifiers change
        if (std::any_of(d.links.begin(), d.links.end(),
                        [&](const auto& p) { return p.get() == l; }) &&
            l->privacy_deadline <= now) {
            l->privacy_deadline = pc5::kNever;  // a busy link (re-keying, a keep-alive waiting
                                                // for its answer) takes the next turn
            if (l->state == State::established && !l->keepalive_outstanding)
                d.dispatch(*l, Input::of(Local::identifier_update), now,
                           [&] { return d.start_identifier_update(*l, now); });
            else if (l->state != State::releasing)  // again soon, not a whole T5090 later
                l->privacy_deadline = now + std::min(d.config.timers.t5090, d.config.timers.t5085);
        }
}

Next Engine::Impl::on_timeout(Link& link, pc5::Time now) {
    const auto& t = config.timers;
    // Config::half_open_lifetime: a link a peer asked for and never authenticated goes quietly.
    if (link.side == Side::responder && !link.authenticated && establishing(link.state) &&
        now >= link.started + config.half_open_lifetime) {
        // An unprotected refusal heard on the way is the likelier reason; otherwise #4.
        fail(link, link.unconfirmed_reject.value_or(codec::Cause::direct_connection_not_available),
             fmt::format(
                 "half-open for {} s without authentication (Config::half_open_lifetime)",
                 std::chrono::duration_cast<std::chrono::seconds>(now - link.started).count()),
             false, now, false);
        return gone();
    }
    switch (link.state) {
        case State::identifier_update_wait_accept:
        case State::identifier_update_wait_ack:
            return identifier_update_timeout(link, now);
        case State::wait_discovery:
            if (link.retransmissions++ < t.max_retransmissions) {
                if (config.discovery == DiscoveryModel::b) {
                    ++counters.retransmissions;
                    send_solicitation(link, now);
                }
                link.deadline = now + t.t_discovery;
                return stay();
            }
            fail(link, codec::Cause::direct_connection_not_available,
                 fmt::format("step 1: no UE-to-UE relay for RSC 0x{:06x} answered", link.rsc),
                 false, now, false);
            return gone();
        case State::wait_hop:
            link.deadline = pc5::kNever;
            return stay();
        case State::wait_second_hop:
            fail(link,
                 link.unconfirmed_reject.value_or(codec::Cause::direct_connection_not_available),
                 fmt::format(
                     "relay: the second hop did not come up in {} s (second_hop_wait)",
                     std::chrono::duration_cast<std::chrono::seconds>(second_hop_wait(t)).count()),
                 false, now, true);
            return gone();
        case State::releasing:
            released(link, codec::Cause::direct_communication_no_longer_needed, false, now);
            return gone();
        case State::established:
            if (!link.keepalive_outstanding) {
                codec::DirectLinkKeepaliveRequest k;
                k.keepalive_counter = ++link.keepalive_counter;
                link.keepalive_outstanding = true;
                send(link, k, now, true);
                arm(link, now, t.t5085);
                return stay();
            }
            if (link.retransmissions < t.max_retransmissions && link.last_request) {
                ++link.retransmissions;
                resend(link, *link.last_request);
                link.deadline = now + t.t5085;
                return stay();
            }
            // Keep-alive unanswered: the peer is gone (TS 24.554 keep-alive procedure).
            released(link, codec::Cause::direct_connection_not_available, false, now);
            return gone();
        case State::rekey_wait_peer:
            if (link.rekey_switched) {
                // Our complete (or the REKEYING RESPONSE) was lost: the complete again, which
                // the peer answers with the response (or takes, if it was the complete).
                if (link.retransmissions < t.max_retransmissions && link.last_answer) {
                    ++link.retransmissions;
                    resend(link, *link.last_answer);
                    link.deadline = now + t.t_rekey;
                    return stay();
                }
                // We use the new keys; the peer may still use the old ones: a link whose ends
                // may disagree on their keys is released (issue 17, found by fuzz_engines).
                drop(&link, pc5::DropReason::unexpected,
                     "re-keying unconfirmed: no REKEYING RESPONSE to our complete; the peer may "
                     "hold the previous keys, so the link is released");
                released(link, codec::Cause::direct_connection_not_available, false, now);
                return gone();
            }
            [[fallthrough]];
        case State::rekey_wait_smc_complete:
            if (link.retransmissions < t.max_retransmissions && link.last_request) {
                ++link.retransmissions;
                resend(link, *link.last_request);
                link.deadline = now + t.t_rekey;
                return stay();
            }
            link.next_security.reset();  // give up re-keying, keep the current keys
            link.next_knrp.reset();
            link.next_knrp_sess.reset();
            link.deadline = pc5::kNever;
            drop(&link, pc5::DropReason::unexpected, "re-keying timed out; current keys kept");
            return move_to(State::established);
        case State::wait_accept:
            // The ACCEPT (or our COMPLETE) may be lost: the COMPLETE again every t_smc, which the
            // peer answers with its ACCEPT again, until the wait for the accept ends.
            if (now < link.supervision_end && link.last_answer) {
                ++link.retransmissions;
                resend(link, *link.last_answer);
                link.deadline = std::min(now + t.t_smc, link.supervision_end);
                return stay();
            }
            [[fallthrough]];
        case State::wait_smc:  // supervision only: the peer retransmits its command
            fail(link,
                 link.unconfirmed_reject.value_or(codec::Cause::direct_connection_not_available),
                 link.refusal.empty() ? fmt::format("no answer in state {}", name(link.state))
                                      : link.refusal,
                 false, now, false);
            return gone();
        default:
            break;
    }
    // A request waiting for its answer: T5080 and the others (Timers).
    if (link.retransmissions < t.max_retransmissions && link.last_request) {
        ++link.retransmissions;
        resend(link, *link.last_request);
        const auto timeout = link.state == State::wait_peer            ? t.t5080
                             : link.state == State::wait_auth_response ? t.t_auth
                                                                       : t.t_smc;
        arm_retransmission(link, now, timeout);
        return stay();
    }
    if (link.unconfirmed_reject) {
        const bool refused_by_us = !link.refusal.empty();
        fail(link, *link.unconfirmed_reject,
             refused_by_us ? link.refusal
                           : "refused by the peer (an unprotected reject, not contradicted "
                             "before the timer ran out)",
             !refused_by_us, now, false);
        return gone();
    }
    fail(link, codec::Cause::direct_connection_not_available,
         fmt::format("no answer in state {} after {} retransmissions", name(link.state),
                     t.max_retransmissions),
         false, now, false);
    return gone();
}

// ---------------------------------------------------------------- public procedures

Status Engine::rekey(const std::string& link_id, bool reauthenticate, pc5::Time now) {
    impl_->now_ = now;
    auto& d = *impl_;
    Link* l = d.find(link_id);
    if (!l) return make_error(Errc::invalid_argument, "link_id", "no such link: " + link_id);
    if (l->state != State::established)
        return make_error(Errc::state, "link_id", "only an established link can be re-keyed");
    if (!l->security_active)
        return make_error(Errc::state, "link_id", "null security: there are no keys to renew");
    // Re-keying checks the peer's credential again (CRL, validity, authorisation), as a reuse of
    // its KNRP does: a revoked or expired peer loses the link (#6).
    if (auto st = d.recheck_peer(*l, now); !st) {
        d.release_for(*l, st.error(), now);
        return st.error();
    }
    Status result;
    d.dispatch(*l, Input::of(Local::rekey), now, [&] {
        result = d.start_rekey(*l, reauthenticate, now);
        return result ? move_to(State::rekey_wait_peer) : stay();
    });
    return result;
}

Status Engine::Impl::start_rekey(Link& l, bool reauth, pc5::Time now) {
    auto& hs = l.hs;
    hs = Handshake{};
    hs.reauth = reauth;
    hs.nonce_1 = random.bytes<16>();
    hs.msb_sess = fresh_msb(l);
    hs.sent_caps = capabilities_of(config.policy);
    l.rekey_initiator = true;
    l.rekey_switched = false;
    codec::DirectLinkRekeyingRequest r;
    r.ue_security_capabilities = hs.sent_caps;
    r.nonce_1 = hs.nonce_1;
    r.msb_knrp_sess_id = hs.msb_sess;
    r.reauth_indication = reauth;
    std::vector<std::uint8_t> signature;
    if (reauth) {
        if (config.method == AuthMethod::certificate) {
            auto eph = PrivateKey::generate(KeyType::x25519, *rng);
            if (!eph) return eph.error();
            ++counters.crypto.keygen;
            hs.ephemeral = std::move(*eph);
        }
        auto signed_part =
            config.method == AuthMethod::certificate
                ? offer_signed_part(config.user_info, l.peer, hs.nonce_1,
                                    hs.ephemeral->public_key().encoded(), hs.sent_caps,
                                    codec::SignallingSecurityPolicy{}, hs.msb_sess, 0)
                : std::vector<std::uint8_t>{};
        auto offer = make_offer(l, signature, signed_part);
        if (!offer) return offer.error();
        r.key_est_info = *offer;
    }
    send(l, r, now, true);
    if (l.last_request) hs.request_bytes = l.last_request->message;
    arm(l, now, config.timers.t_rekey);
    return {};
}

Status Engine::release(const std::string& link_id, pc5::Time now) {
    impl_->now_ = now;
    Link* l = impl_->find(link_id);
    if (!l) return make_error(Errc::invalid_argument, "link_id", "no such link: " + link_id);
    if (l->state != State::established)
        return make_error(Errc::state, "link_id", "only an established link can be released");
    impl_->dispatch(*l, Input::of(Local::release), now, [&] {
        codec::DirectLinkReleaseRequest r;
        r.cause = codec::Cause::direct_communication_no_longer_needed;
        impl_->send(*l, r, now, true);
        impl_->arm(*l, now, impl_->config.timers.t5087);
        return move_to(State::releasing);
    });
    return {};
}

Status Engine::keepalive(const std::string& link_id, pc5::Time now) {
    impl_->now_ = now;
    Link* l = impl_->find(link_id);
    if (!l || l->state != State::established)
        return make_error(Errc::state, "link_id", "no established link " + link_id);
    codec::DirectLinkKeepaliveRequest k;
    k.keepalive_counter = ++l->keepalive_counter;
    l->keepalive_outstanding = true;
    impl_->send(*l, k, now, true);
    impl_->arm(*l, now, impl_->config.timers.t5085);
    return {};
}

void Engine::release_all(pc5::Time now) {
    impl_->now_ = now;
    auto& d = *impl_;
    d.stopping = true;  // nothing new starts while everything goes
    while (!d.links.empty()) {
        // End-to-end links first: through a layer-2 relay their release travels over the hop to
        // the relay (SRAP on LCID 55), which must still be up when it goes.
        const auto e2e = std::find_if(d.links.rbegin(), d.links.rend(),
                                      [](const auto& p) { return p->kind == pc5::LinkKind::e2e; });
        Link& l = e2e != d.links.rend() ? **e2e : *d.links.back();
        if (l.state == State::established) {
            codec::DirectLinkReleaseRequest r;
            r.cause = codec::Cause::direct_communication_no_longer_needed;
            d.send(l, r, now, true);
            d.released(l, r.cause, false, now);
        } else {
            d.emit(pc5::LinkFailed{l.id, d.config.user_info, l.peer, l.kind, pc5::Solution::a,
                                   codec::Cause::direct_communication_no_longer_needed,
                                   "released before it was established", false, now});
            d.wipe(l);
            d.remove_link(l);
        }
    }
    d.held_frames.clear();
    d.stopping = false;
}

}  // namespace pc5sec::link
