// The flow of solution B as one ordered table, in the shape of solution A's (src/link/flow.cpp):
// for each protocol role and state, which input may come next, the seed 001 step or the clause
// it implements, the handler that runs it and the states it may lead to. One dispatcher
// (Engine::Impl::dispatch, impl.hpp) finds the row, runs the handler and moves the state;
// handlers never assign it. An input with no row is dropped and counted as "unexpected".
//
// Inputs are messages on a channel (unprotected on SL-SRB0, or end to end under keys from KD)
// or local events. A message on the wrong channel has no row: an unprotected KEEPALIVE or
// RELEASE, or a protected establishment message, is never taken.
//
// A request repeated within its retransmissions (T5080) is answered again from what the relay
// or the target keeps, before the table is consulted (TS 24.554), so the table has no rows for
// repeats.
//
// Read it next to seed 001 (docs/solution-b.md, "The flow table"):
//   step 0    credentials (step0: CredentialManager::ensure_fresh before every signature), and
//             the relay selected: given, or found by Model A / B discovery (discovery.cpp)
//   step 1    the source signs and sends the request (send_request)
//   steps 2-3 the relay verifies, re-signs and forwards it (relay on_request)
//   steps 4-5 the target verifies both signatures, derives KD, signs the accept (on_request)
//   steps 6-7 the relay verifies, re-signs and forwards the accept (relay on_accept)
//   step 8    the source verifies both signatures and derives KD (on_accept)
//   then      key confirmation (hardened), keep-alive with lost-peer detection, re-keying
//             (TS 33.536 5.3.3.2 reused) and release (TS 24.554), end to end through the relay,
//             which only routes; and each hop's link identifier update (TS 24.554 7.2.4), between
//             the end UE and the relay, a machine of the hop's own
#include <array>
#include <atomic>

#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

namespace {

using MT = codec::MessageType;
using S = State;
using R = FlowRole;
constexpr auto srb0 = [](MT t) { return Input::srb0(t); };
constexpr auto e2e = [](MT t) { return Input::e2e(t); };
constexpr auto hop = [](MT t) { return Input::hop(t); };
constexpr auto e = [](Local l) { return Input::of(l); };
constexpr std::array<S, 2> to(S a) {
    return {a, a};
}
constexpr std::array<S, 2> to(S a, S b) {
    return {a, b};
}
constexpr std::array<S, 2> none() {
    return {S::idle, S::idle};
}

// clang-format off
constexpr FlowRow kFlow[] = {
    // ---- source: steps 1 and 8 -------------------------------------------------------------
    {R::source, S::idle, e(Local::connect), "steps 0-1: own credentials fresh; a relay given (or heard, Model A): sign the ESTABLISHMENT REQUEST (SIGN-Source) and send it; else discover one (Model B: solicit)", "send_request / start_discovery", to(S::wait_accept, S::wait_discovery), 2},
    {R::source, S::wait_discovery, e(Local::relay_found), "step 0 done: a relay for the RSC answered or announced; step 1 to it", "on_relay_found", to(S::wait_accept), 1},
    {R::source, S::wait_discovery, e(Local::timer), "step 0: Model B solicitation again (Model A: listen on); no relay: #4", "on_discovery_timeout", none(), 0, true},
    {R::source, S::wait_discovery, e(Local::release), "release_all: the discovery is abandoned", "abandon", none(), 0},
    {R::source, S::wait_accept, srb0(MT::establishment_accept), "step 8: the target's and the relay's keys or certificates and authorisations; SIGN-Target and SIGN2-relay verify; KD (hardened: then confirm KD). One that does not verify is noted and dropped: the attempt waits (issue 17)", "on_accept", to(S::confirming, S::established), 2, true},
    {R::source, S::wait_accept, srb0(MT::establishment_reject), "TS 24.554 reject, unprotected: noted, never believed at once (the first: the request again at once); the attempt waits for T5080", "on_reject", none(), 0, true},
    {R::source, S::wait_accept, e(Local::timer), "T5080: the request again, then the last unbelieved answer's cause, or #4 (TS 24.554)", "on_request_timeout", none(), 0, true},
    {R::source, S::wait_accept, e(Local::release), "release_all: the attempt is abandoned", "abandon", none(), 0},
    {R::source, S::confirming, e2e(MT::keepalive_response), "key confirmation answered: the target holds KD-sess too", "on_message", to(S::established), 1, true},
    {R::source, S::confirming, e2e(MT::keepalive_request), "TS 24.554 keep-alive while confirming: answer", "on_message", none(), 0, true},
    {R::source, S::confirming, e2e(MT::release_request), "TS 24.554 release while confirming: RELEASE ACCEPT, wipe", "on_message", none(), 0},
    {R::source, S::confirming, e(Local::keepalive), "Engine::send_keepalive while confirming: KEEPALIVE REQUEST end to end", "send_keepalive", none(), 0, true},
    {R::source, S::confirming, e(Local::timer), "key confirmation again on T5080, then the peer is lost (#4)", "on_timeout", none(), 0, true},
    {R::source, S::confirming, e(Local::release), "TS 24.554: RELEASE REQUEST end to end", "start_release", to(S::releasing), 1},
    // ---- relay: steps 2-3 and 6-7 --------------------------------------------------------
    {R::relay, S::idle, srb0(MT::establishment_request), "steps 2-3: the source's key or certificate, authorisation (#11) and freshness; SIGN-Source verifies; sign SIGN1-relay, forward to the target", "on_request", to(S::pending), 1},
    {R::relay, S::pending, srb0(MT::establishment_accept), "steps 6-7: the target's key or certificate and authorisation (#1 #11); SIGN-Target verifies; sign SIGN2-relay, forward to the source. One that does not verify: the source hears the refusal, the route waits for the genuine one (issue 17)", "on_accept", to(S::routed), 1, true},
    {R::relay, S::pending, srb0(MT::establishment_reject), "an end's unprotected reject: passed on to the other end, the request kept", "pass_reject", none(), 0, true},
    {R::relay, S::pending, e(Local::timer), "no accept within the request's retransmissions: forgotten (an accept it refused: the target hears that refusal now)", "on_timeout", none(), 0},
    {R::relay, S::routed, e(Local::forward), "PC5-S end to end, routed by its SRAP header (the local UE IDs; between the same two UEs the KNRP-sess ID's LSB): the relay never holds KD", "forward_protected", none(), 0, true},
    {R::relay, S::routed, srb0(MT::establishment_reject), "unprotected reject for a route: ignored and counted (anyone can forge one)", "ignore_reject", none(), 0, true},
    {R::relay, S::routed, e(Local::timer), "an idle route is forgotten (route_idle_timeout; hardened: unused past key confirmation)", "on_timeout", none(), 0},
    // ---- target: steps 4-5 -----------------------------------------------------------------
    {R::target, S::idle, srb0(MT::establishment_request), "steps 4-5: both keys or certificates, authorisations (#1 #11), freshness, replay cache; SIGN-Source and SIGN1-relay verify; KD; sign the accept (SIGN-Target)", "on_request", to(S::unconfirmed, S::established), 2},
    {R::target, S::unconfirmed, e(Local::confirmed), "key confirmation (hardened): a PDU from the source verified under keys from KD", "on_confirmed", to(S::established), 1},
    {R::target, S::unconfirmed, srb0(MT::establishment_reject), "an unprotected reject of our accept: noted for the report; only the timer ends the link", "note_reject", none(), 0, true},
    {R::target, S::unconfirmed, e(Local::timer), "key confirmation timeout: wipe (the cause of a reject heard, else #4)", "on_confirm_timeout", none(), 0},
    {R::target, S::unconfirmed, e(Local::release), "TS 24.554: RELEASE REQUEST end to end", "start_release", to(S::releasing), 1},
    // ---- an established link, either end -------------------------------------------------
    {R::end_ue, S::established, e2e(MT::keepalive_request), "TS 24.554 keep-alive: answer", "on_message", none(), 0, true},
    {R::end_ue, S::established, e2e(MT::keepalive_response), "TS 24.554 keep-alive answered: the peer is alive", "on_message", none(), 0, true},
    {R::end_ue, S::established, e2e(MT::release_request), "TS 24.554 release: RELEASE ACCEPT, wipe", "on_message", none(), 0},
    {R::end_ue, S::established, e(Local::timer), "keep-alive due (keepalive_interval), again (t5085), or the peer is lost (#4)", "on_timeout", none(), 0, true},
    {R::end_ue, S::established, e(Local::keepalive), "Engine::send_keepalive: KEEPALIVE REQUEST end to end", "send_keepalive", none(), 0, true},
    {R::end_ue, S::established, e(Local::release), "TS 24.554: RELEASE REQUEST end to end", "start_release", to(S::releasing), 1},
    // ---- re-keying, end to end (TS 33.536 5.3.3.2 reused; docs/solution-b.md "Re-keying") ----
    {R::end_ue, S::established, e(Local::rekey), "re-keying: REKEYING REQUEST with Nonce_1' and a new KNRP-sess ID MSB (hardened: a fresh ephemeral key)", "start_rekey", to(S::rekey_wait_command), 1, true},
    {R::end_ue, S::established, e2e(MT::rekeying_request), "re-keying: KD-sess' from KD and fresh nonces (hardened: a fresh ECDH); SECURITY MODE COMMAND under the new keys, not ciphered", "on_rekeying_request", to(S::rekey_wait_complete), 1, true},
    {R::end_ue, S::rekey_wait_command, e2e(MT::security_mode_command), "re-keying: the command verifies under the new keys and echoes our capabilities; SECURITY MODE COMPLETE, the new keys in use", "on_rekey_command", to(S::established), 1},
    {R::end_ue, S::rekey_wait_command, e2e(MT::rekeying_request), "both ends at once: the source's re-keying goes on, the target answers it", "on_rekeying_request", to(S::rekey_wait_complete), 1, true},
    {R::end_ue, S::rekey_wait_command, e2e(MT::keepalive_request), "TS 24.554 keep-alive during re-keying: answer", "on_message", none(), 0, true},
    {R::end_ue, S::rekey_wait_command, e2e(MT::release_request), "TS 24.554 release during re-keying: RELEASE ACCEPT, wipe", "on_message", none(), 0},
    {R::end_ue, S::rekey_wait_command, e(Local::timer), "re-keying request again on T5080; after the last, the current keys stay", "on_rekey_timeout", to(S::established), 1, true},
    {R::end_ue, S::rekey_wait_command, e(Local::release), "TS 24.554: RELEASE REQUEST end to end", "start_release", to(S::releasing), 1},
    {R::end_ue, S::rekey_wait_complete, e2e(MT::security_mode_complete), "re-keying done: the new keys in use", "on_rekey_complete", to(S::established), 1},
    {R::end_ue, S::rekey_wait_complete, e(Local::new_keys_used), "a PDU under the new keys (the complete was lost): the new keys in use", "on_rekey_complete", to(S::established), 1},
    {R::end_ue, S::rekey_wait_complete, e2e(MT::rekeying_request), "asked again (the command was lost): a fresh command", "on_rekeying_request", none(), 0, true},
    {R::end_ue, S::rekey_wait_complete, e2e(MT::keepalive_request), "TS 24.554 keep-alive during re-keying: answer", "on_message", none(), 0, true},
    {R::end_ue, S::rekey_wait_complete, e2e(MT::release_request), "TS 24.554 release during re-keying: RELEASE ACCEPT, wipe", "on_message", none(), 0},
    {R::end_ue, S::rekey_wait_complete, e(Local::timer), "the requester never used the new keys: the current keys stay", "on_rekey_timeout", to(S::established), 1},
    {R::end_ue, S::rekey_wait_complete, e(Local::release), "TS 24.554: RELEASE REQUEST end to end", "start_release", to(S::releasing), 1},
    // ---- releasing -----------------------------------------------------------------------
    {R::end_ue, S::releasing, e2e(MT::release_accept), "TS 24.554 release accepted: wipe", "on_message", none(), 0},
    {R::end_ue, S::releasing, e2e(MT::release_request), "both ends released at once: RELEASE ACCEPT, wipe", "on_message", none(), 0},
    {R::end_ue, S::releasing, e(Local::timer), "no RELEASE ACCEPT within T5080: wipe anyway", "on_timeout", none(), 0},
    // ---- a hop's link identifier update (TS 24.554 7.2.4 on the hop; identifier_update.cpp) --
    {R::end_ue, S::hop_up, e(Local::identifier_update), "7.2.4.2 on the hop: IDENTIFIER UPDATE REQUEST (a new L2 ID, the MSB of the hop's new KNRP-sess ID, Nonce_1) under the hop's keys", "start_hop_update", to(S::hop_wait_accept), 1},
    {R::end_ue, S::hop_up, e(Local::timer), "T5090, the privacy timer: the update, as asked above", "on_hop_timeout", to(S::hop_wait_accept), 1},
    {R::end_ue, S::hop_wait_accept, hop(MT::identifier_update_accept), "7.2.4.3-4: the request echoed; ACK under the current keys, then the hop's new L2 IDs and KNRP-sess', the link following; the link re-keyed end to end", "on_hop_update_accept", to(S::hop_up), 1, true},
    {R::end_ue, S::hop_wait_accept, hop(MT::identifier_update_reject), "7.2.4.5: refused (#3): the current identifiers stay until T5090 again", "on_hop_update_reject", to(S::hop_up), 1},
    {R::end_ue, S::hop_wait_accept, e(Local::timer), "the request again on t_identifier_update; after the last, the relay is lost and the link released (#4)", "on_hop_timeout", to(S::hop_up), 1, true},
    {R::end_ue, S::established, e(Local::relay_lost), "the hop's identifier update never answered: the relay is lost, the link released (#4)", "on_relay_lost", none(), 0},
    {R::end_ue, S::rekey_wait_command, e(Local::relay_lost), "the same while the link re-keys: released (#4)", "on_relay_lost", none(), 0},
    {R::end_ue, S::rekey_wait_complete, e(Local::relay_lost), "the same while the link re-keys: released (#4)", "on_relay_lost", none(), 0},
    {R::relay, S::hop_up, hop(MT::identifier_update_request), "7.2.4.3 at the relay: a usable new L2 ID (#3 if in use), an MSB other than 0; its own new L2 ID on the hop, a random new SRAP local UE ID, the LSB, Nonce_2; ACCEPT under the current keys", "on_hop_update_request", to(S::hop_wait_ack), 1, true},
    {R::relay, S::hop_wait_ack, hop(MT::identifier_update_request), "the accept lost: the same ACCEPT again", "on_hop_update_request", none(), 0, true},
    {R::relay, S::hop_up, hop(MT::identifier_update_ack), "the ack of the last update, after a frame under the new identifiers (it came first): nothing left to do", "receive_hop (stays)", none(), 0, true},
    {R::relay, S::hop_wait_ack, hop(MT::identifier_update_ack), "7.2.4.4: the accept echoed; the new identifiers and KNRP-sess' in use", "on_hop_update_ack", to(S::hop_up), 1, true},
    {R::relay, S::hop_wait_ack, e(Local::new_keys_used), "a frame from the end UE's new L2 ID (its ack lost or late): the new identifiers in use", "on_hop_update_ack", to(S::hop_up), 1},
    {R::relay, S::hop_wait_ack, e(Local::timer), "no ack within the request's retransmissions: the requester holds the new identifiers or gave the link up; the new ones in use", "on_hop_timeout", to(S::hop_up), 1},
};
// clang-format on

constexpr std::size_t kRows = std::size(kFlow);
flow::RowHits<kRows> g_hits;

bool same(Input a, Input b) {
    if (a.local != b.local) return false;
    return a.local ? a.event == b.event : a.channel == b.channel && a.message == b.message;
}

bool role_matches(FlowRole row, FlowRole role) {
    return row == role || (row == FlowRole::end_ue && role != FlowRole::relay);
}

std::string describe(Input in) {
    if (in.local) return name(in.event);
    return fmt::format("{} {}", codec::message_name(in.message),
                       in.channel == Channel::e2e   ? "(protected end to end)"
                       : in.channel == Channel::hop ? "(protected on the hop)"
                                                    : "(on SL-SRB0)");
}

}  // namespace

std::span<const FlowRow> flow_table() noexcept {
    return kFlow;
}

std::span<const std::uint64_t> flow_row_hits() noexcept {
    return g_hits.snapshot();
}

const FlowRow* Engine::Impl::row_for(FlowRole role, State state, Input input) const {
    for (const auto& row : kFlow)
        if (row.state == state && role_matches(row.role, role) && same(row.input, input))
            return &row;
    return nullptr;
}

void Engine::Impl::count(const FlowRow& row) {
    g_hits.add(static_cast<std::size_t>(&row - kFlow));
}

void Engine::Impl::apply(const FlowRow& row, State& state, Next next, const std::string& id) {
    count(row);
    if (next.kind != Next::Kind::move) return;
    if (!flow::allows(
            row, state,
            next.state)) {  // a handler asked for a move the table does not have: refused, reported
        drop(pc5::DropReason::unexpected,
             fmt::format("flow table: {} -> {} on {} is not a row", name(state), name(next.state),
                         row.handler),
             id);
        return;
    }
    state = next.state;
}

void Engine::Impl::unexpected(FlowRole role, State state, Input input, const std::string& id) {
    if (input.local) return;  // a local event the state does not take: nothing to do
    drop(pc5::DropReason::unexpected,
         fmt::format("{} at the {} in state {}", describe(input), name(role), name(state)), id);
}

const char* name(State s) noexcept {
    switch (s) {
        case State::idle:
            return "idle";
        case State::wait_discovery:
            return "wait-discovery";
        case State::wait_accept:
            return "wait-accept";
        case State::confirming:
            return "confirming";
        case State::unconfirmed:
            return "unconfirmed";
        case State::established:
            return "established";
        case State::rekey_wait_command:
            return "rekey-wait-security-mode-command";
        case State::rekey_wait_complete:
            return "rekey-wait-security-mode-complete";
        case State::releasing:
            return "releasing";
        case State::pending:
            return "pending";
        case State::routed:
            return "routed";
        case State::hop_up:
            return "hop-up";
        case State::hop_wait_accept:
            return "hop-identifier-update-wait-accept";
        case State::hop_wait_ack:
            return "hop-identifier-update-wait-ack";
    }
    return "unknown";
}

const char* name(FlowRole r) noexcept {
    switch (r) {
        case FlowRole::source:
            return "source";
        case FlowRole::relay:
            return "relay";
        case FlowRole::target:
            return "target";
        case FlowRole::end_ue:
            return "end UE";
    }
    return "unknown";
}

const char* name(Local e) noexcept {
    switch (e) {
        case Local::connect:
            return "connect";
        case Local::timer:
            return "timer";
        case Local::confirmed:
            return "key confirmed";
        case Local::release:
            return "release";
        case Local::keepalive:
            return "keepalive";
        case Local::forward:
            return "protected PDU to forward";
        case Local::rekey:
            return "rekey";
        case Local::new_keys_used:
            return "new keys used";
        case Local::relay_found:
            return "relay found";
        case Local::identifier_update:
            return "identifier update";
        case Local::relay_lost:
            return "relay lost";
    }
    return "unknown";
}

}  // namespace pc5sec::sigauth
