// Paths through a UE-to-UE relay: the source's connect and step 1 discovery (Model A and B),
// the relay's second hop (layer 3 and layer 2), and its layer-2 forwarding by SRAP.
#include <fmt/format.h>

#include "link/impl.hpp"
#include "pc5sec/srap.hpp"

namespace pc5sec::link {

namespace {

using MT = codec::MessageType;

bool relayed(const Link& l) {
    return l.kind == pc5::LinkKind::hop && l.relay_indication != codec::RelayIndication::direct;
}

}  // namespace

bool Engine::Impl::may_relay(std::uint32_t rsc) const {
    const auto& a = certificate().authorisation();
    return a.has_role(creds::Role::u2u_relay) && a.has_rsc(rsc);
}

std::uint8_t Engine::Impl::assign_local_id(bool fresh) {
    for (int tries = 0; tries < 1024; ++tries) {
        std::uint8_t id = fresh ? random.next_u8() : next_local_id++;
        if (next_local_id == 0) next_local_id = 1;
        if (id == srap::kUnknownUeId) continue;
        bool used = false;
        for (const auto& l : links)
            used = used || l->local_id == id ||
                   (l->previous_local_id == id && now_ < l->retired_until);
        if (!used) return id;
    }
    return srap::kUnknownUeId;  // 255 end UEs already: no more local IDs
}

// ---------------------------------------------------------------- the source

void Engine::Impl::connect_link(const pc5::ConnectRequest& req, pc5::Time now) {
    auto refuse = [&](codec::Cause c, std::string why) {
        emit(pc5::LinkFailed{"", config.user_info, req.target,
                             req.path == pc5::Path::l2 ? pc5::LinkKind::e2e : pc5::LinkKind::hop,
                             pc5::Solution::a, c, std::move(why), false, now});
    };
    if (req.target.empty() || req.target == config.user_info)
        return refuse(codec::Cause::direct_communication_not_allowed, "target: not another UE");
    auto start = [&](std::unique_ptr<Link> owned, auto&& first_step) {
        owned->side = Side::initiator;
        owned->started = now;
        Link& l = add_link(std::move(owned));
        dispatch(l, Input::of(Local::connect), now, [&] { return first_step(l); });
    };
    // Our establishments on one route are made one at a time (route_busy): the peer's
    // unprotected answers name no link.
    auto request_or_wait = [&](Link& l) {
        if (route_busy(l)) return move_to(State::wait_hop);
        return send_request(l, now);
    };
    if (req.path == pc5::Path::direct) {
        std::optional<pc5::L2Id> l2 = req.target_l2;
        if (!l2)
            if (auto it = config.directory.find(req.target); it != config.directory.end())
                l2 = it->second;
        if (!l2)
            return refuse(codec::Cause::direct_connection_not_available,
                          fmt::format("target \"{}\" is not in range (no layer-2 ID)", req.target));
        auto link = std::make_unique<Link>();
        link->peer = req.target;
        link->target = req.target;
        link->route = Route{*l2, false, 0};
        return start(std::move(link), [&](Link& l) { return send_request(l, now); });
    }
    // Through a relay: our own certificate must allow the RSC as an end UE (KI#3, #11), and our
    // discovery material for it, if any, must be valid (step 0; refused out of coverage).
    if (auto st = discovery_security.check_valid(req.rsc, wall(now)); !st)
        return refuse(codec::Cause::direct_connection_not_available, st.error().describe());
    const auto& auth = certificate().authorisation();
    if (!auth.has_role(creds::Role::end_ue) || !auth.has_rsc(req.rsc))
        return refuse(codec::Cause::required_service_not_allowed,
                      fmt::format("{}: prose-authorisation: not an end UE for RSC 0x{:06x}",
                                  certificate().source(), req.rsc));
    const auto indication = req.path == pc5::Path::l2 ? codec::RelayIndication::via_layer2_relay
                                                      : codec::RelayIndication::via_layer3_relay;
    if (req.path == pc5::Path::l2) {
        // Layer 2: one end-to-end link per target, over one hop to the relay (TS 23.304): the
        // end-to-end link waits for the hop; a hop to a relay for the RSC, up or on its way,
        // serves every target.
        bool hop_exists = false;
        for (auto& l : links)
            hop_exists =
                hop_exists || (relayed(*l) && l->side == Side::initiator &&
                               l->relay_indication == codec::RelayIndication::via_layer2_relay &&
                               l->rsc == req.rsc &&
                               (!req.relay_l2 || l->state == State::wait_discovery ||
                                l->route.neighbour == *req.relay_l2));
        auto e2e = std::make_unique<Link>();
        e2e->kind = pc5::LinkKind::e2e;
        e2e->relay_indication = indication;
        e2e->peer = req.target;
        e2e->target = req.target;
        e2e->rsc = req.rsc;
        e2e->route = Route{req.relay_l2.value_or(0), true, srap::kUnknownUeId};
        start(std::move(e2e), [&](Link&) { return move_to(State::wait_hop); });
        if (hop_exists) {
            start_waiting(now);  // an established hop carries it at once
            return;
        }
    }
    auto hop = std::make_unique<Link>();
    hop->relay_indication = indication;
    hop->peer = req.relay.value_or("");
    hop->target = req.target;
    hop->rsc = req.rsc;
    if (req.relay_l2) {
        hop->route = Route{*req.relay_l2, false, 0};
        return start(std::move(hop), request_or_wait);
    }
    // Step 1: discovery. Model A: a relay already heard; otherwise wait. Model B: solicit.
    hop->deadline = now + config.timers.t_discovery;
    start(std::move(hop), [&](Link& l) {
        if (config.discovery == DiscoveryModel::b && !relays_heard.contains(req.rsc))
            send_solicitation(l, now);
        return move_to(State::wait_discovery);
    });
    if (auto it = relays_heard.find(req.rsc); it != relays_heard.end())
        relay_found(req.rsc, it->second.first, it->second.second, now);
}

void Engine::Impl::send_solicitation(Link& link, pc5::Time now) {
    auto f = discovery::solicitation(discovery_security, wall(now), config.l2_id, link.rsc,
                                     config.user_info, link.target);
    if (!f) {
        drop(&link, pc5::DropReason::unexpected,
             fmt::format("discovery solicitation not sent: {}", f.error().describe()));
        return;
    }
    ++counters.sent_messages[MT::u2u_relay_discovery_solicitation];
    frame_out(Route{f->dst, false, 0}, f->lcid, std::move(f->pdu));
}

void Engine::Impl::relay_found(std::uint32_t rsc, const std::string& relay, pc5::L2Id l2,
                               pc5::Time now) {
    std::vector<Link*> waiting;
    for (auto& l : links)
        if (l->state == State::wait_discovery && l->rsc == rsc) waiting.push_back(l.get());
    for (auto* l : waiting) {
        l->peer = relay;  // the relay's certificate must then carry this name (#6)
        l->route = Route{l2, false, 0};
        emit(pc5::RelayDiscovered{relay, l2, rsc});
        dispatch(*l, Input::of(Local::relay_found), now,
                 [&] { return route_busy(*l) ? move_to(State::wait_hop) : send_request(*l, now); });
    }
}

// Step 1, protected as TS 33.503 protects relay discovery (pc5sec/discovery.hpp): a message this
// UE's material does not open (forged, replayed, outside the counter window, another RSC's, or
// open for an RSC it protects) is dropped; the relay's right to relay is checked again in step 3.
void Engine::Impl::on_discovery(const pc5::Frame& f, pc5::Time now) {
    auto opened = discovery_security.open(f.pdu, wall(now));
    if (!opened) {
        drop(nullptr, discovery::drop_reason(opened.error()),
             fmt::format("discovery: {}", opened.error().describe()));
        return;
    }
    auto msg = opened->message();
    if (!msg) {
        drop(nullptr, pc5::DropReason::malformed, msg.error().describe());
        return;
    }
    const auto type = codec::message_type(*msg);
    count_rx(type);
    if (type == MT::u2u_relay_discovery_solicitation) {
        if (config.role != UeRole::relay) return;
        auto r = discovery::answer(
            discovery_security, wall(now), *msg, f.src, config.l2_id, config.user_info,
            [&](std::uint32_t rsc) { return may_relay(rsc); }, config.directory);
        if (r && !discovery_answers.take(now, config.discovery_answers_per_second)) {
            drop(nullptr, pc5::DropReason::unexpected,
                 fmt::format("discovery solicitation not answered: more than {} a second "
                             "(Config::discovery_answers_per_second)",
                             config.discovery_answers_per_second));
            return;
        }
        if (r && !*r) {
            drop(nullptr, pc5::DropReason::unexpected,
                 fmt::format("discovery response not sent: {}", r->error().describe()));
            return;
        }
        if (r) {
            ++counters.sent_messages[MT::u2u_relay_discovery_response];
            frame_out(Route{(*r)->dst, false, 0}, (*r)->lcid, std::move((*r)->pdu));
        }
    } else if (auto heard = discovery::relay_heard(*msg, f.src)) {
        if (config.role != UeRole::end_ue) return;
        // Model A: a relay for a service we are not authorised for is not a choice.
        if (type == MT::u2u_relay_discovery_announcement &&
            !certificate().authorisation().has_rsc(heard->rsc))
            return;
        relays_heard[heard->rsc] = {heard->relay, heard->l2};
        relay_found(heard->rsc, heard->relay, heard->l2, now);
    } else {
        drop(nullptr, pc5::DropReason::unexpected, "not a discovery message");
    }
}

void Engine::Impl::announce(pc5::Time now) {
    for (auto rsc : certificate().authorisation().rscs) {
        if (!may_relay(rsc)) continue;
        auto f = discovery::announcement(discovery_security, wall(now), config.l2_id, rsc,
                                         config.user_info);
        if (!f) {
            drop(nullptr, pc5::DropReason::unexpected,
                 fmt::format("discovery announcement not sent: {}", f.error().describe()));
            continue;
        }
        ++counters.sent_messages[MT::u2u_relay_discovery_announcement];
        frame_out(Route{f->dst, false, 0}, f->lcid, std::move(f->pdu));
    }
}

// ---------------------------------------------------------------- the relay

Link* Engine::Impl::start_second_hop(const Link& first, const std::string& target, pc5::Time now) {
    for (auto& l : links)
        if (relayed(*l) && l->side == Side::initiator && l->peer == target &&
            l->relay_indication == first.relay_indication) {  // hop 2 exists or is on its way
            if (std::find(l->serves.begin(), l->serves.end(), first.id) == l->serves.end())
                l->serves.push_back(first.id);
            return l.get();
        }
    auto it = config.directory.find(target);
    if (it == config.directory.end()) return nullptr;  // on_first_hop_up refuses hop 1 (#1)
    auto hop = std::make_unique<Link>();
    hop->side = Side::initiator;
    hop->relay_indication = first.relay_indication;
    hop->peer = target;
    hop->target = target;
    hop->rsc = first.rsc;
    hop->route = Route{it->second, false, 0};
    hop->started = now;
    hop->local_id = assign_local_id();
    hop->serves.push_back(first.id);
    Link& l = add_link(std::move(hop));
    dispatch(l, Input::of(Local::connect), now,
             [&] { return route_busy(l) ? move_to(State::wait_hop) : send_request(l, now); });
    for (auto& o : links)  // it may have failed at once (step 0)
        if (o.get() == &l) return &l;
    return nullptr;
}

std::vector<std::string> Engine::Impl::l3_routes(const Link& hop) const {
    if (config.role != UeRole::relay || !relayed(hop) ||
        hop.relay_indication != codec::RelayIndication::via_layer3_relay)
        return {};
    if (hop.side == Side::initiator) return hop.serves;
    for (const auto& l : links)
        if (relayed(*l) && l->side == Side::initiator && l->peer == hop.target &&
            l->relay_indication == hop.relay_indication)
            return {l->id};
    return {};
}

Next Engine::Impl::on_first_hop_up(Link& hop, pc5::Time now) {
    for (auto& l : links)
        if (relayed(*l) && l->side == Side::initiator && l->peer == hop.target &&
            l->relay_indication == hop.relay_indication) {
            if (l->state == State::established) {
                send_accept(hop, now);
                return move_to(State::established);
            }
            // The accept waits for hop 2, as long as hop 2's own retransmissions may take.
            hop.deadline = now + second_hop_wait(config.timers);
            return move_to(State::wait_second_hop);
        }
    fail(hop, codec::Cause::direct_communication_not_allowed,
         fmt::format("relay: target \"{}\" is not reachable", hop.target), false, now, true);
    return gone();
}

void Engine::Impl::second_hop_done(const Link& hop2, bool ok, codec::Cause cause, pc5::Time now) {
    std::vector<std::string> served;
    for (auto& l : links)
        if (relayed(*l) && l->side == Side::responder && l->target == hop2.peer &&
            l->relay_indication == hop2.relay_indication &&
            (std::find(hop2.serves.begin(), hop2.serves.end(), l->id) != hop2.serves.end() ||
             l->state == State::wait_second_hop))
            served.push_back(l->id);
    for (const auto& id : served) {
        Link* l = find(id);
        if (!l) continue;
        if (ok) {
            if (l->state != State::wait_second_hop) continue;
            dispatch(*l, Input::of(Local::second_hop_up), now, [&] {
                send_accept(*l, now);
                return move_to(State::established);
            });
            continue;
        }
        // Through a layer-3 relay the source's hop exists for this target only: it goes too.
        // Through a layer-2 relay an established hop may carry end-to-end links to others.
        if (l->state == State::established &&
            l->relay_indication != codec::RelayIndication::via_layer3_relay)
            continue;
        dispatch(*l, Input::of(Local::second_hop_failed), now, [&] {
            if (l->state == State::established) {
                codec::DirectLinkReleaseRequest r;
                r.cause = codec::Cause::direct_connection_not_available;
                send(*l, r, now, true);
                released(*l, r.cause, false, now);
            } else {
                fail(*l, cause, fmt::format("relay: second hop to \"{}\" failed", hop2.peer), false,
                     now, true);
            }
            return gone();
        });
    }
    if (ok)  // layer 2: end-to-end requests held for this target go now
        for (auto it = held_frames.begin(); it != held_frames.end();) {
            if (it->target != hop2.peer) {
                ++it;
                continue;
            }
            auto f = std::move(it->frame);
            it = held_frames.erase(it);
            relay_forward(f, now);
        }
    else
        std::erase_if(held_frames, [&](const HeldFrame& h) { return h.target == hop2.peer; });
}

void Engine::Impl::forget_first_hop(const std::string& id, pc5::Time now) {
    if (config.role != UeRole::relay || stopping) return;
    std::erase_if(held_frames, [&](const HeldFrame& h) { return h.first_hop == id; });
    std::vector<std::string> unused;
    for (auto& l : links) {
        auto n = std::erase(l->serves, id);
        if (n > 0 && l->serves.empty()) unused.push_back(l->id);
    }
    // A relay holds no hop towards a target for a source that is gone (or never authenticated).
    for (const auto& hop_id : unused) {
        Link* l = find(hop_id);
        if (!l) continue;
        if (l->state == State::established) {
            dispatch(*l, Input::of(Local::release), now, [&] {
                codec::DirectLinkReleaseRequest r;
                r.cause = codec::Cause::direct_communication_no_longer_needed;
                send(*l, r, now, true);
                arm(*l, now, config.timers.t5087);
                return move_to(State::releasing);
            });
        } else if (establishing(l->state)) {
            fail(*l, codec::Cause::direct_communication_no_longer_needed,
                 "relay: no source needs this hop any more", false, now, false);
        }
    }
}

// Layer-2 relaying (TS 38.351, 3gpp-facts §4): by the SRAP header only; the end-to-end PDCP
// PDU inside is opaque. Only SL-SRB0's establishment request is read, for its target.
void Engine::Impl::relay_forward(const pc5::Frame& f, pc5::Time now) {
    auto h = srap::parse_header(f.pdu);
    if (!h) {
        drop(nullptr, pc5::DropReason::malformed, h.error().describe());
        return;
    }
    auto l2_hop = [&](auto&& match) -> Link* {
        for (auto& l : links)
            if (relayed(*l) &&
                (l->state == State::established ||
                 l->state == State::identifier_update_wait_accept ||
                 l->state == State::identifier_update_wait_ack) &&
                l->relay_indication == codec::RelayIndication::via_layer2_relay && match(*l))
                return l.get();
        return nullptr;
    };
    // The hop's end UE by its L2 ID: the current one, one an update replaced (in its grace),
    // or the new one an update is giving it (its frames may overtake the ack).
    Link* from = l2_hop([&](const Link& l) {
        return l.route.neighbour == f.src ||
               (l.retired_route && now < l.retired_until && l.retired_route->neighbour == f.src) ||
               (l.state == State::identifier_update_wait_ack && l.id_update &&
                l.id_update->peer == f.src);
    });
    if (!from) {  // only end UEs with a secured first hop may use the relay
        drop(nullptr, pc5::DropReason::not_for_us, "SRAP PDU from a UE with no layer-2 hop");
        return;
    }
    Link* to = nullptr;
    const auto inner = std::span(f.pdu).subspan(srap::kHeaderSize);
    if (h->dst_ue == srap::kUnknownUeId) {
        // The request read for its target (revealed if concealed); the octets forwarded are
        // the ones received.
        std::vector<std::uint8_t> revealed;
        std::optional<std::span<const std::uint8_t>> readable;
        if (h->bearer == 0) {
            readable = open_srb0(from, from->route, inner, revealed, now);
            if (!readable) return;
        }
        auto msg =
            readable
                ? codec::decode(*readable)
                : Result<codec::Message>(make_error(Errc::malformed, "srap", "no destination"));
        auto* req = msg ? std::get_if<codec::DirectLinkEstablishmentRequest>(&*msg) : nullptr;
        if (!req || !req->target_user_info) {
            drop(from, pc5::DropReason::not_for_us, "SRAP PDU with no destination");
            return;
        }
        const auto target = string_of(*req->target_user_info);
        to = l2_hop([&](const Link& l) { return l.peer == target && &l != from; });
        if (!to && target != from->peer && from->authenticated && may_relay(from->rsc)) {
            // Another target of the same source (one end-to-end link per target over its hop):
            // the relay makes its hop to that target, for an authenticated source and the RSC
            // of its hop, and holds this request (one per source and target) until it is up.
            if (Link* hop2 = start_second_hop(*from, target, now); hop2) {
                std::erase_if(held_frames, [&](const HeldFrame& x) {
                    return x.first_hop == from->id && x.target == target;
                });
                if (held_frames.size() < config.max_half_open)
                    held_frames.push_back(HeldFrame{from->id, target, f});
                return;
            }
        }
    } else {
        to = l2_hop([&](const Link& l) {
            return l.local_id == h->dst_ue ||
                   (l.previous_local_id == h->dst_ue && now < l.retired_until);
        });
    }
    if (!to || to == from) {
        drop(from, pc5::DropReason::not_for_us, "no layer-2 hop to the destination end UE");
        return;
    }
    pc5::Frame out;
    out.src = to->route.own ? to->route.own : config.l2_id;
    out.dst = to->route.neighbour;
    out.lcid = pc5::lcid::kEndToEnd;
    out.pdu.reserve(f.pdu.size());
    (void)srap::append_header({h->bearer, from->local_id, to->local_id}, out.pdu);
    out.pdu.insert(out.pdu.end(), inner.begin(), inner.end());
    ++counters.frames_forwarded;
    ++counters.frames_sent;
    counters.bytes_sent += out.pdu.size();
    tx.push_back(std::move(out));
}

}  // namespace pc5sec::link
