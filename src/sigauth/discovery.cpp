// Seed 001 step 0, "the source has selected a relay": the source finds one with solution A's
// discovery machinery (pc5sec/discovery.hpp; TS 24.554 Model A announcements, Model B
// solicitations and responses on LCID 58), protected under the RSC's discovery material as TS
// 33.503 protects relay discovery. The relay answers solicitations and announces. A relay that
// lies about its name is refused by the signatures of steps 4 and 8 too (hardened: the relay's
// certificate must carry the name the source signed).
#include <algorithm>

#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

// connect without a relay: a relay already heard (Model A) is taken at once; otherwise solicit
// (Model B) or listen (Model A).
Next Engine::Impl::start_discovery(Link& l, const pc5::ConnectRequest& req, Time now) {
    if (auto why = check_connect(req, now)) {
        failed("", req.target, *why, false, now);
        return gone();
    }
    if (auto st = discovery_security.check_valid(req.rsc, wall(now)); !st) {
        failed("", req.target,
               refuse(Cause::direct_connection_not_available, st.error().describe()), false, now);
        return gone();
    }
    if (auto it = relays_heard.find(req.rsc); it != relays_heard.end()) {
        l.discovering = Link::Discovering{req, now, 0};
        return on_relay_found(l, it->second, now);
    }
    l.discovering = Link::Discovering{req, now + cfg.t_discovery, 0};
    if (cfg.discovery == discovery::Model::b) solicit(req, now);
    return move_to(State::wait_discovery);
}

void Engine::Impl::solicit(const pc5::ConnectRequest& req, Time now) {
    auto f = discovery::solicitation(discovery_security, wall(now), cfg.l2_id, req.rsc,
                                     cfg.user_info, req.target);
    if (!f)
        return drop(pc5::DropReason::unexpected,
                    fmt::format("discovery solicitation not sent: {}", f.error().describe()));
    send(f->dst, f->lcid, MessageType::u2u_relay_discovery_solicitation, std::move(f->pdu));
}

void Engine::Impl::on_discovery(const pc5::Frame& f, Time now) {
    auto opened = discovery_security.open(f.pdu, wall(now));
    if (!opened)
        return drop(discovery::drop_reason(opened.error()),
                    fmt::format("discovery: {}", opened.error().describe()));
    auto m = opened->message();
    if (!m) return drop(pc5::DropReason::malformed, m.error().describe());
    const auto type = codec::message_type(*m);
    counters.received_messages[type]++;
    if (type == MessageType::u2u_relay_discovery_solicitation) {
        if (cfg.role != Role::relay) return;
        // A flood of solicitations gets at most discovery_answers_per_second answers (counted,
        // not reported one by one).
        const auto serves = [&](std::uint32_t rsc) {
            return std::find(cfg.rscs.begin(), cfg.rscs.end(), rsc) != cfg.rscs.end();
        };
        auto r = discovery::answer(discovery_security, wall(now), *m, f.src, cfg.l2_id,
                                   cfg.user_info, serves, cfg.directory);
        if (!r) return;
        if (!answers.take(now, cfg.discovery_answers_per_second)) {
            counters.drops[static_cast<std::size_t>(pc5::DropReason::unexpected)]++;
            return;
        }
        if (!*r)
            return drop(pc5::DropReason::unexpected,
                        fmt::format("discovery response not sent: {}", r->error().describe()));
        send((*r)->dst, (*r)->lcid, MessageType::u2u_relay_discovery_response,
             std::move((*r)->pdu));
        return;
    }
    auto heard = discovery::relay_heard(*m, f.src);
    if (!heard) return drop(pc5::DropReason::unexpected, "not a discovery message");
    if (cfg.role != Role::end_ue || heard->relay.empty() || heard->relay.size() > 255) return;
    // Only relays for a service this UE may use, and a bounded number of them: anyone can
    // announce any RSC.
    const bool waiting = std::any_of(links.begin(), links.end(), [&](const Link& l) {
        return !l.gone && l.discovering && l.discovering->request.rsc == heard->rsc;
    });
    const bool ours = waiting ||
                      std::find(cfg.rscs.begin(), cfg.rscs.end(), heard->rsc) != cfg.rscs.end() ||
                      (self && self->authorisation.has_rsc(heard->rsc));
    if (!ours) return;
    if (relays_heard.size() < kRelaysHeard || relays_heard.contains(heard->rsc))
        relays_heard[heard->rsc] = *heard;
    for (auto& l : links)
        if (!l.gone && l.state == State::wait_discovery && l.discovering->request.rsc == heard->rsc)
            dispatch(l, FlowRole::source, Input::of(Local::relay_found),
                     [&] { return on_relay_found(l, *heard, now); });
}

// Step 0 done: step 1 to the relay found.
Next Engine::Impl::on_relay_found(Link& l, const discovery::RelayHeard& relay, Time now) {
    pc5::ConnectRequest req = l.discovering->request;
    req.relay = relay.relay;
    req.relay_l2 = relay.l2;
    l.discovering.reset();
    events.push_back(pc5::RelayDiscovered{relay.relay, relay.l2, relay.rsc});
    return send_request(l, req, now);
}

// Model B: the solicitation again; Model A: listen on. After the last: #4.
Next Engine::Impl::on_discovery_timeout(Link& l, Time now) {
    auto& d = *l.discovering;
    if (d.tries >= cfg.max_retransmissions) {
        failed("", d.request.target,
               refuse(Cause::direct_connection_not_available,
                      fmt::format("no UE-to-UE relay for rsc 0x{:06x} found by Model {} discovery "
                                  "in {} tries",
                                  d.request.rsc, discovery::name(cfg.discovery), d.tries + 1)),
               false, now);
        return gone();
    }
    d.tries++;
    d.deadline = now + cfg.t_discovery;
    if (cfg.discovery == discovery::Model::b) {
        counters.retransmissions++;
        solicit(d.request, now);
    }
    return stay();
}

// Model A: the relay announces each RSC it serves.
void Engine::Impl::announce(Time now) {
    for (auto rsc : cfg.rscs) {
        auto f =
            discovery::announcement(discovery_security, wall(now), cfg.l2_id, rsc, cfg.user_info);
        if (!f) {
            drop(pc5::DropReason::unexpected,
                 fmt::format("discovery announcement not sent: {}", f.error().describe()));
            continue;
        }
        send(f->dst, f->lcid, MessageType::u2u_relay_discovery_announcement, std::move(f->pdu));
    }
    next_announce = now + cfg.announce_interval;
}

}  // namespace pc5sec::sigauth
