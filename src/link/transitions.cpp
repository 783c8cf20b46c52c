// The flow of solution A on one screen (design.md, after Botan's TLS 1.3 transitions and
// s2n-tls's handshake table): for each side and state, which PC5 signalling messages may come
// next. Anything else is dropped and counted as "unexpected". The same table serves every
// topology: a direct link, each hop through a relay, and the end-to-end link through a layer-2
// relay; what differs is the relay's hold of its first hop (wait_second_hop).
#include "link/impl.hpp"

namespace pc5sec::link {

namespace {

using MT = codec::MessageType;

struct Transition {
    Side side;
    State state;
    MT message;
};

constexpr Transition kTransitions[] = {
    // Initiator (seed 000 steps 2-5): request sent; step 3 or straight to step 4.
    {Side::initiator, State::wait_peer, MT::authentication_request},  // step 3
    {Side::initiator, State::wait_peer, MT::security_mode_command},   // step 4 (KNRP, PSK, null)
    {Side::initiator, State::wait_peer, MT::establishment_reject},
    {Side::initiator, State::wait_smc, MT::security_mode_command},  // step 4
    {Side::initiator, State::wait_smc, MT::authentication_reject},
    {Side::initiator, State::wait_smc, MT::establishment_reject},
    {Side::initiator, State::wait_smc, MT::authentication_request},    // our response was lost
    {Side::initiator, State::wait_accept, MT::establishment_accept},   // after step 5
    {Side::initiator, State::wait_accept, MT::establishment_reject},   // relay: hop 2 failed
    {Side::initiator, State::wait_accept, MT::security_mode_command},  // our complete was lost
    // Responder.
    {Side::responder, State::wait_auth_response, MT::authentication_response},  // step 3
    {Side::responder, State::wait_auth_response, MT::authentication_failure},
    {Side::responder, State::wait_smc_complete, MT::security_mode_complete},  // step 5
    {Side::responder, State::wait_smc_complete, MT::security_mode_reject},
    {Side::responder, State::wait_second_hop, MT::security_mode_complete},  // repeated
    // An established link, either side: re-keying, keep-alive, release.
    {Side::initiator, State::established, MT::rekeying_request},
    {Side::responder, State::established, MT::rekeying_request},
    {Side::initiator, State::established, MT::keepalive_request},
    {Side::responder, State::established, MT::keepalive_request},
    {Side::initiator, State::established, MT::keepalive_response},
    {Side::responder, State::established, MT::keepalive_response},
    {Side::initiator, State::established, MT::release_request},
    {Side::responder, State::established, MT::release_request},
    {Side::initiator, State::established, MT::security_mode_complete},  // repeated step 5
    {Side::responder, State::established, MT::security_mode_complete},
    // Re-keying, the side that asked (either end): step 3 again if re-authenticating, step 4.
    {Side::initiator, State::rekey_wait_peer, MT::authentication_request},
    {Side::responder, State::rekey_wait_peer, MT::authentication_request},
    {Side::initiator, State::rekey_wait_peer, MT::security_mode_command},
    {Side::responder, State::rekey_wait_peer, MT::security_mode_command},
    {Side::initiator, State::rekey_wait_peer, MT::rekeying_response},
    {Side::responder, State::rekey_wait_peer, MT::rekeying_response},
    {Side::initiator, State::rekey_wait_peer, MT::keepalive_request},
    {Side::responder, State::rekey_wait_peer, MT::keepalive_request},
    {Side::initiator, State::rekey_wait_peer, MT::release_request},
    {Side::responder, State::rekey_wait_peer, MT::release_request},
    // Re-keying, the side that answers.
    {Side::initiator, State::rekey_wait_smc_complete, MT::authentication_response},
    {Side::responder, State::rekey_wait_smc_complete, MT::authentication_response},
    {Side::initiator, State::rekey_wait_smc_complete, MT::security_mode_complete},
    {Side::responder, State::rekey_wait_smc_complete, MT::security_mode_complete},
    {Side::initiator, State::rekey_wait_smc_complete, MT::security_mode_reject},
    {Side::responder, State::rekey_wait_smc_complete, MT::security_mode_reject},
    {Side::initiator, State::rekey_wait_smc_complete, MT::release_request},
    {Side::responder, State::rekey_wait_smc_complete, MT::release_request},
    // Releasing.
    {Side::initiator, State::releasing, MT::release_accept},
    {Side::responder, State::releasing, MT::release_accept},
    {Side::initiator, State::releasing, MT::release_request},
    {Side::responder, State::releasing, MT::release_request},
};

}  // namespace

bool expected(Side side, State state, codec::MessageType type) noexcept {
    for (const auto& t : kTransitions)
        if (t.side == side && t.state == state && t.message == type) return true;
    return false;
}

const char* name(State s) noexcept {
    switch (s) {
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
        case State::releasing:
            return "releasing";
    }
    return "unknown";
}

}  // namespace pc5sec::link
