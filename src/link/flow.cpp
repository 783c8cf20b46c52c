// The flow of solution A as one ordered table (design.md, after s2n-tls's state_machine[] /
// handshakes[] and Botan's confirm_transition_to): for each role, topology and state, which
// input may come next, the seed 000 step or the clause it implements, the handler that runs it
// and the states it may lead to. One dispatcher (Engine::Impl::dispatch) finds the row, runs the
// handler and moves the state; handlers never assign it. An input with no row is dropped and
// counted as "unexpected". Rows are tried in order: a `relay` row comes before the `responder`
// row it refines, and `responder` rows apply to a relay's first hop too.
//
// A message repeated with the same sequence number is a retransmission: a request is answered
// again before the table is consulted (TS 24.554), within reanswer_budget; a repeated answer is
// dropped unanswered (no livelock). The table has no rows for repeats.
//
// Read it next to seed 000 (docs/solution-a.md, "The flow table"):
//   step 0  credentials (checked by send_request and on_request: ensure_fresh)
//   step 1  discovery (connect, relay_found; the discovery messages themselves are link-less)
//   step 2  PROSE DIRECT LINK ESTABLISHMENT REQUEST (connect, relay_found, hop_up; idle + request)
//   step 3  DIRECT LINK AUTHENTICATION REQUEST / RESPONSE (certificate method)
//   step 4  DIRECT LINK SECURITY MODE COMMAND
//   step 5  DIRECT LINK SECURITY MODE COMPLETE, then PROSE DIRECT LINK ESTABLISHMENT ACCEPT
//   then    re-keying (TS 33.536 5.3.3.2), the link identifier update (TS 24.554 7.2.4),
//           keep-alive and release (TS 24.554 7.2.5, 7.2.6)
#include <array>
#include <atomic>

#include <fmt/format.h>

#include "link/impl.hpp"

namespace pc5sec::link {

namespace {

using MT = codec::MessageType;
using S = State;
using R = FlowRole;
using T = Topology;
constexpr auto m = [](MT t) { return Input::of(t); };
constexpr auto e = [](Local l) { return Input::of(l); };
constexpr std::array<S, 3> to(S a) {
    return {a, a, a};
}
constexpr std::array<S, 3> to(S a, S b) {
    return {a, b, b};
}
constexpr std::array<S, 3> to(S a, S b, S c) {
    return {a, b, c};
}
constexpr std::array<S, 3> none() {
    return {S::idle, S::idle, S::idle};
}

// clang-format off
constexpr FlowRow kFlow[] = {
    // ---- initiator: steps 1-2 -----------------------------------------------------------
    {R::initiator, T::direct, S::idle, e(Local::connect), "step 2: send the ESTABLISHMENT REQUEST", "connect_link / send_request", to(S::wait_peer), 1},
    {R::initiator, T::l2_e2e, S::idle, e(Local::connect), "step 2 end to end waits for a hop to the layer-2 relay", "connect_link", to(S::wait_hop), 1},
    {R::initiator, T::any, S::idle, e(Local::connect), "step 1 (discover a relay for the RSC), or step 2 if the relay is known (one establishment at a time per route)", "connect_link / start_second_hop", to(S::wait_discovery, S::wait_peer, S::wait_hop), 3},
    {R::initiator, T::any, S::wait_discovery, e(Local::relay_found), "step 1 done: step 2 to the relay", "send_request", to(S::wait_peer, S::wait_hop), 2},
    {R::initiator, T::any, S::wait_discovery, e(Local::timer), "step 1: Model B solicitation again; no relay: #4", "on_timeout", none(), 0, true},
    {R::initiator, T::l2_e2e, S::wait_hop, e(Local::hop_up), "step 2 end to end over the secured hop (SRAP)", "send_request", to(S::wait_peer), 1},
    {R::initiator, T::any, S::wait_hop, e(Local::hop_up), "step 2 once no other establishment of ours is on the route", "send_request", to(S::wait_peer), 1},
    {R::initiator, T::any, S::wait_hop, e(Local::timer), "waits for the hop or the route (their own timers end them)", "on_timeout", none(), 0, true},
    // ---- initiator: steps 3-5 -----------------------------------------------------------
    {R::initiator, T::any, S::wait_peer, m(MT::authentication_request), "step 3: verify the peer's Key_Est_Info, sign the transcript (a refused one: AUTHENTICATION FAILURE, and wait for another copy)", "on_auth_request", to(S::wait_smc), 1, true},
    {R::initiator, T::any, S::wait_peer, m(MT::security_mode_command), "step 4 without step 3 (reused KNRP, PSK, null integrity)", "on_security_mode_command", to(S::wait_accept), 1, true},
    {R::initiator, T::any, S::wait_peer, m(MT::establishment_reject), "TS 24.554: the peer refuses the request (unprotected: noted, the link waits for its timer; docs/solution-a.md)", "on_reject", none(), 0, true},
    {R::initiator, T::any, S::wait_peer, e(Local::timer), "T5080: the request again, then #4", "on_timeout", none(), 0, true},
    {R::initiator, T::any, S::wait_smc, m(MT::security_mode_command), "step 4: MAC-I under the new NRPIK, echoes, algorithms", "on_security_mode_command", to(S::wait_accept), 1, true},
    {R::initiator, T::any, S::wait_smc, m(MT::authentication_reject), "step 3: the peer refused our signature", "on_reject", none(), 0},
    {R::initiator, T::any, S::wait_smc, m(MT::establishment_reject), "TS 24.554: the peer refuses", "on_reject", none(), 0},
    {R::initiator, T::any, S::wait_smc, e(Local::timer), "supervision: no command came", "on_timeout", none(), 0},
    {R::initiator, T::any, S::wait_accept, m(MT::establishment_accept), "step 5 done: ESTABLISHMENT ACCEPT", "on_accept", to(S::established), 1},
    {R::initiator, T::any, S::wait_accept, m(MT::establishment_reject), "the relay's hop to the target failed", "on_reject", none(), 0},
    {R::initiator, T::any, S::wait_accept, e(Local::timer), "step 5's COMPLETE again every t_smc (the ACCEPT may be lost) until accept_wait ends, then #4 or the last cause seen", "on_timeout", none(), 0, true},
    // ---- responder (and a relay's first hop): steps 2-5 --------------------------------
    {R::responder, T::any, S::idle, m(MT::establishment_request), "step 2 received: target, RSC, policies (#1 #10 #11); step 3 or 4", "on_request", to(S::wait_auth_response, S::wait_smc_complete), 2},
    {R::responder, T::any, S::wait_auth_response, m(MT::authentication_response), "step 3: the initiator's signature over the transcript", "on_auth_response", to(S::wait_smc_complete), 1},
    {R::responder, T::any, S::wait_auth_response, m(MT::authentication_failure), "step 3: the initiator refused us", "on_reject", none(), 0},
    {R::responder, T::any, S::wait_auth_response, e(Local::timer), "step 3 request again; half-open lifetime", "on_timeout", none(), 0, true},
    {R::relay, T::any, S::wait_smc_complete, m(MT::security_mode_complete), "step 5; the relay's ACCEPT waits for its hop to the target", "on_security_mode_complete", to(S::established, S::wait_second_hop), 2},
    {R::relay, T::any, S::wait_smc_complete, e(Local::second_hop_failed), "the hop to the target failed: refuse the source", "on_second_hop_failed", none(), 0},
    {R::responder, T::any, S::wait_smc_complete, m(MT::security_mode_complete), "step 5: KNRP ID complete, ESTABLISHMENT ACCEPT", "on_security_mode_complete", to(S::established), 1},
    {R::responder, T::any, S::wait_smc_complete, m(MT::security_mode_reject), "step 4 refused by the initiator: in clear on SL-SRB0 (TS 38.331 5.8.1), so unconfirmed: ask once more, end when the timer runs out", "on_unprotected_reject", none(), 0},
    {R::responder, T::any, S::wait_smc_complete, e(Local::timer), "step 4 command again, then #4", "on_timeout", none(), 0, true},
    {R::relay, T::any, S::wait_second_hop, e(Local::second_hop_up), "hop to the target up: ESTABLISHMENT ACCEPT", "on_second_hop_up", to(S::established), 1},
    {R::relay, T::any, S::wait_second_hop, e(Local::second_hop_failed), "hop to the target failed: refuse the source", "on_second_hop_failed", none(), 0},
    {R::relay, T::any, S::wait_second_hop, e(Local::timer), "the hop to the target did not come up in time (#4)", "on_timeout", none(), 0},
    // ---- an established link, either end ----------------------------------------------
    {R::any, T::any, S::established, m(MT::rekeying_request), "TS 33.536 5.3.3.2: re-keying (step 3 again if re-authenticating), step 4", "on_rekeying_request", to(S::rekey_wait_smc_complete), 1, true},
    {R::any, T::any, S::established, m(MT::keepalive_request), "TS 24.554 keep-alive: answer", "on_keepalive_request", none(), 0, true},
    {R::any, T::any, S::established, m(MT::keepalive_response), "TS 24.554 keep-alive: the peer is alive", "on_keepalive_response", none(), 0, true},
    {R::any, T::any, S::established, m(MT::release_request), "TS 24.554 release: accept, wipe", "on_release_request", none(), 0},
    {R::any, T::any, S::established, e(Local::timer), "keep-alive due, again, or the peer is gone", "on_timeout", none(), 0, true},
    {R::any, T::any, S::established, e(Local::rekey), "TS 33.536 5.3.3.2: REKEYING REQUEST", "start_rekey", to(S::rekey_wait_peer), 1},
    {R::any, T::any, S::established, e(Local::release), "TS 24.554: RELEASE REQUEST", "release", to(S::releasing), 1},
    {R::relay, T::l3_hop, S::established, e(Local::second_hop_failed), "layer 3: the hop to the target went, so does the source's hop for it", "on_second_hop_failed", none(), 0},
    {R::any, T::any, S::established, e(Local::identifier_update), "TS 24.554 7.2.4: T5090 expired or asked for: LINK IDENTIFIER UPDATE REQUEST (new L2 ID, MSB of the new KNRP-sess ID, Nonce_1)", "start_identifier_update", to(S::identifier_update_wait_accept), 1, true},
    {R::any, T::any, S::established, m(MT::identifier_update_request), "TS 24.554 7.2.4: new L2 IDs and a new KNRP-sess (TS 33.536): LINK IDENTIFIER UPDATE ACCEPT under the current keys; #3 for a conflicting L2 ID", "on_identifier_update_request", to(S::identifier_update_wait_ack), 1, true},
    // ---- link identifier update, the end that asked (TS 24.554 7.2.4) ---------------------
    {R::any, T::any, S::identifier_update_wait_accept, m(MT::identifier_update_accept), "7.2.4: the echoes checked, ACK under the current keys, then the new L2 IDs and keys", "on_identifier_update_accept", to(S::established), 1, true},
    {R::any, T::any, S::identifier_update_wait_accept, m(MT::identifier_update_reject), "7.2.4: refused: the current identifiers stay", "on_identifier_update_reject", to(S::established), 1},
    {R::any, T::any, S::identifier_update_wait_accept, m(MT::identifier_update_request), "both ends asked at once: the link's initiator keeps its own, the other answers it", "on_identifier_update_request", to(S::identifier_update_wait_ack), 1, true},
    {R::any, T::any, S::identifier_update_wait_accept, m(MT::keepalive_request), "keep-alive during the update", "on_keepalive_request", none(), 0, true},
    {R::any, T::any, S::identifier_update_wait_accept, m(MT::release_request), "release during the update", "on_release_request", none(), 0},
    {R::any, T::any, S::identifier_update_wait_accept, e(Local::timer), "the request again; no accept: the peer is lost, released (#4)", "identifier_update_timeout", none(), 0, true},
    // ---- link identifier update, the end that answers ---------------------------------------
    {R::any, T::any, S::identifier_update_wait_ack, m(MT::identifier_update_ack), "7.2.4: the echoes checked: the new L2 IDs and keys", "on_identifier_update_ack", to(S::established), 1, true},
    {R::any, T::any, S::identifier_update_wait_ack, m(MT::identifier_update_reject), "7.2.4: the requester refused our L2 ID: the current identifiers stay", "on_identifier_update_reject", to(S::established), 1},
    {R::any, T::any, S::identifier_update_wait_ack, m(MT::keepalive_request), "keep-alive during the update", "on_keepalive_request", none(), 0, true},
    {R::any, T::any, S::identifier_update_wait_ack, m(MT::release_request), "release during the update", "on_release_request", none(), 0},
    {R::any, T::any, S::identifier_update_wait_ack, e(Local::timer), "the accept again; no ack: released (the peer may use either identifiers)", "identifier_update_timeout", none(), 0, true},
    // ---- re-keying, the end that asked -----------------------------------------------------
    {R::any, T::any, S::rekey_wait_peer, m(MT::authentication_request), "re-keying step 3", "on_auth_request", to(S::rekey_wait_peer), 1, true},
    {R::any, T::any, S::rekey_wait_peer, m(MT::security_mode_command), "re-keying step 4: the new keys", "on_security_mode_command", to(S::rekey_wait_peer, S::established), 2, true},
    {R::any, T::any, S::rekey_wait_peer, m(MT::rekeying_response), "re-keying done: the new keys are in use (only after our complete)", "on_rekeying_response", to(S::established), 1, true},
    {R::any, T::any, S::rekey_wait_peer, m(MT::authentication_reject), "re-keying refused: the current keys stay", "on_rekey_refused", to(S::established), 1},
    {R::any, T::any, S::rekey_wait_peer, m(MT::keepalive_request), "keep-alive during re-keying", "on_keepalive_request", none(), 0, true},
    {R::any, T::any, S::rekey_wait_peer, m(MT::release_request), "release during re-keying", "on_release_request", none(), 0},
    {R::any, T::any, S::rekey_wait_peer, e(Local::timer), "re-keying request again, then the current keys stay; after our complete: the complete again, then released (the peer may hold either key)", "on_timeout", to(S::established), 1, true},
    // ---- re-keying, the end that answers ---------------------------------------------------
    {R::any, T::any, S::rekey_wait_smc_complete, m(MT::authentication_response), "re-keying step 3: the requester's signature", "on_auth_response", to(S::rekey_wait_smc_complete), 1, true},
    {R::any, T::any, S::rekey_wait_smc_complete, m(MT::security_mode_complete), "re-keying step 5: the complete verified under the new keys (a stale one under the current keys is dropped); the new keys are in use", "on_security_mode_complete", to(S::established), 1, true},
    {R::any, T::any, S::rekey_wait_smc_complete, m(MT::security_mode_reject), "re-keying refused: the current keys stay", "on_rekey_refused", to(S::established), 1},
    {R::any, T::any, S::rekey_wait_smc_complete, m(MT::release_request), "release during re-keying", "on_release_request", none(), 0},
    {R::any, T::any, S::rekey_wait_smc_complete, e(Local::timer), "command again; then the current keys stay", "on_timeout", to(S::established), 1, true},
    // ---- releasing -------------------------------------------------------------------------
    {R::any, T::any, S::releasing, m(MT::release_accept), "TS 24.554 release accepted: wipe", "on_release_accept", none(), 0},
    {R::any, T::any, S::releasing, m(MT::release_request), "both ends released at once", "on_release_request", none(), 0},
    {R::any, T::any, S::releasing, e(Local::timer), "no RELEASE ACCEPT: wipe anyway", "on_timeout", none(), 0},
};
// clang-format on

constexpr std::size_t kRows = std::size(kFlow);
flow::RowHits<kRows> g_hits;

Topology topology_of(const Link& l) {
    if (l.kind == pc5::LinkKind::e2e) return Topology::l2_e2e;
    switch (l.relay_indication) {
        case codec::RelayIndication::via_layer2_relay:
            return Topology::l2_hop;
        case codec::RelayIndication::via_layer3_relay:
            return Topology::l3_hop;
        default:
            return Topology::direct;
    }
}

bool same(Input a, Input b) {
    return a.local == b.local && (a.local ? a.event == b.event : a.message == b.message);
}

}  // namespace

std::span<const FlowRow> flow_table() noexcept {
    return kFlow;
}

std::span<const std::uint64_t> flow_row_hits() noexcept {
    return g_hits.snapshot();
}

// The rows of each state, in table order: a lookup scans only those (a handful), not all.
static_assert(kRows < 256 && static_cast<unsigned>(State::releasing) < 16);
struct RowsByState {
    std::array<std::array<std::uint8_t, kRows>, 16> index{};
    std::array<std::uint8_t, 16> count{};
    RowsByState() {
        for (std::size_t i = 0; i < kRows; ++i) {
            const auto st = static_cast<std::size_t>(kFlow[i].state);
            index[st][count[st]++] = static_cast<std::uint8_t>(i);
        }
    }
};
const RowsByState& rows_by_state() {
    static const RowsByState r;
    return r;
}

const FlowRow* Engine::Impl::row_for(const Link& link, Input input) const {
    const Topology topo = topology_of(link);
    const bool relay_hop = link.side == Side::responder && config.role == UeRole::relay &&
                           (topo == Topology::l3_hop || topo == Topology::l2_hop);
    const FlowRole role = link.side == Side::initiator ? FlowRole::initiator
                          : relay_hop                  ? FlowRole::relay
                                                       : FlowRole::responder;
    const auto& by_state = rows_by_state();
    const auto st = static_cast<std::size_t>(link.state);
    for (std::uint8_t k = 0; k < by_state.count[st]; ++k) {
        const FlowRow& row = kFlow[by_state.index[st][k]];
        const bool role_ok = row.role == FlowRole::any || row.role == role ||
                             (row.role == FlowRole::responder && role == FlowRole::relay);
        if (role_ok && (row.topology == Topology::any || row.topology == topo) &&
            same(row.input, input))
            return &row;
    }
    return nullptr;
}

void Engine::Impl::apply(Link& link, const FlowRow& row, Next next, pc5::Time now) {
    g_hits.add(static_cast<std::size_t>(&row - kFlow));
    if (next.kind != Next::Kind::move) return;  // stayed, or gone (the link no longer exists)
    if (!flow::allows(
            row, link.state,
            next.state)) {  // a handler asked for a move the table does not have: refused, reported
        drop(&link, pc5::DropReason::unexpected,
             fmt::format("flow table: {} -> {} on {} is not a row", name(link.state),
                         name(next.state), row.handler));
        return;
    }
    const State before = link.state;
    link.state = next.state;
    if (next.state == State::established && establishing(before)) establish(link, now);
}

bool establishing(State s) noexcept {
    return s != State::established && s != State::rekey_wait_peer &&
           s != State::rekey_wait_smc_complete && s != State::identifier_update_wait_accept &&
           s != State::identifier_update_wait_ack && s != State::releasing;
}

const char* name(Local e) noexcept {
    switch (e) {
        case Local::connect:
            return "connect";
        case Local::relay_found:
            return "relay found";
        case Local::hop_up:
            return "hop up";
        case Local::timer:
            return "timer";
        case Local::rekey:
            return "rekey";
        case Local::release:
            return "release";
        case Local::second_hop_up:
            return "second hop up";
        case Local::second_hop_failed:
            return "second hop failed";
        case Local::identifier_update:
            return "identifier update";
    }
    return "unknown";
}

const char* name(State s) noexcept {
    switch (s) {
        case State::idle:
            return "idle";
        case State::wait_discovery:
            return "wait-discovery";
        case State::wait_hop:
            return "wait-hop";
        case State::wait_peer:
            return "wait-peer";
        case State::wait_smc:
            return "wait-security-mode-command";
        case State::wait_accept:
            return "wait-accept";
        case State::wait_auth_response:
            return "wait-authentication-response";
        case State::wait_smc_complete:
            return "wait-security-mode-complete";
        case State::wait_second_hop:
            return "wait-second-hop";
        case State::established:
            return "established";
        case State::rekey_wait_peer:
            return "rekey-wait-peer";
        case State::rekey_wait_smc_complete:
            return "rekey-wait-security-mode-complete";
        case State::identifier_update_wait_accept:
            return "identifier-update-wait-accept";
        case State::identifier_update_wait_ack:
            return "identifier-update-wait-ack";
        case State::releasing:
            return "releasing";
    }
    return "unknown";
}

}  // namespace pc5sec::link
