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

std::uint8_t Engine::Impl::assign_local_id() {
    for (int tries = 0; tries < 255; ++tries) {
        std::uint8_t id = next_local_id++;
        if (next_local_id == 0) next_local_id = 1;
        if (id == srap::kUnknownUeId) continue;
        bool used = false;
        for (const auto& l : links)
            used = used || (l->local_id == id);
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
    if (req.path == pc5::Path::direct) {
        std::optional<pc5::L2Id> l2 = req.target_l2;
        if (!l2)
            if (auto it = config.directory.find(req.target); it != config.directory.end())
                l2 = it->second;
        if (!l2)
            return refuse(codec::Cause::direct_connection_not_available,
                          fmt::format("target \"{}\" is not in range (no layer-2 ID)", req.target));
        auto link = std::make_unique<Link>();
        link->side = Side::initiator;
        link->peer = req.target;
        link->target = req.target;
        link->route = Route{*l2, false, 0};
        link->started = now;
        Link& l = add_link(std::move(link));
        send_request(l, now);
        return;
    }
    // Through a relay: our own certificate must allow the RSC as an end UE (KI#3, #11).
    const auto& auth = certificate().authorisation();
    if (!auth.has_role(creds::Role::end_ue) || !auth.has_rsc(req.rsc))
        return refuse(codec::Cause::required_service_not_allowed,
                      fmt::format("{}: prose-authorisation: not an end UE for RSC 0x{:06x}",
                                  certificate().source(), req.rsc));
    const auto indication = req.path == pc5::Path::l2 ? codec::RelayIndication::via_layer2_relay
                                                      : codec::RelayIndication::via_layer3_relay;
    // Layer 2: the end-to-end link waits for the first hop.
    if (req.path == pc5::Path::l2) {
        auto e2e = std::make_unique<Link>();
        e2e->side = Side::initiator;
        e2e->kind = pc5::LinkKind::e2e;
        e2e->relay_indication = indication;
        e2e->peer = req.target;
        e2e->target = req.target;
        e2e->route = Route{0, true, srap::kUnknownUeId};
        e2e->state = State::wait_hop;
        e2e->started = now;
        Link& e = add_link(std::move(e2e));
        // An established hop to the relay already serves (one hop, many end-to-end links).
        for (auto& l : links)
            if (relayed(*l.get()) && l->side == Side::initiator && l->state == State::established &&
                l->relay_indication == codec::RelayIndication::via_layer2_relay &&
                (!req.relay_l2 || l->route.neighbour == *req.relay_l2)) {
                e.route = Route{l->route.neighbour, true, srap::kUnknownUeId};
                send_request(e, now);
                return;
            }
    }
    auto hop = std::make_unique<Link>();
    hop->side = Side::initiator;
    hop->relay_indication = indication;
    hop->peer = req.relay.value_or("");
    hop->target = req.target;
    hop->rsc = req.rsc;
    hop->started = now;
    if (req.relay_l2) {
        hop->route = Route{*req.relay_l2, false, 0};
        Link& l = add_link(std::move(hop));
        send_request(l, now);
        return;
    }
    // Step 1: discovery. Model A: a relay already heard; otherwise wait. Model B: solicit.
    hop->state = State::wait_discovery;
    hop->deadline = now + config.timers.t_discovery;
    Link& l = add_link(std::move(hop));
    if (auto it = relays_heard.find(req.rsc); it != relays_heard.end()) {
        relay_found(req.rsc, it->second.first, it->second.second, now);
        return;
    }
    if (config.discovery == DiscoveryModel::b) send_solicitation(l);
}

void Engine::Impl::send_solicitation(const Link& link) {
    codec::U2uRelayDiscoverySolicitation s;
    s.relay_service_code = codec::RelayServiceCode{link.rsc};
    s.discoverer_user_info = codec::Octets{bytes_of(config.user_info)};
    s.target_user_info = codec::Octets{bytes_of(link.target)};
    if (auto b = codec::encode(s)) {
        ++counters.sent_messages[MT::u2u_relay_discovery_solicitation];
        frame_out(Route{pc5::kBroadcastL2Id, false, 0}, pc5::lcid::kDiscovery, std::move(*b));
    }
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
        send_request(*l, now);
    }
}

// Step 1, not protected (docs/solution-a.md, "Known gaps"): announcements, solicitations and
// responses are taken as they come; the relay's right to relay is checked in step 3.
void Engine::Impl::on_discovery(const pc5::Frame& f, pc5::Time now) {
    auto msg = codec::decode(f.pdu);
    if (!msg) {
        drop(nullptr, pc5::DropReason::malformed, msg.error().describe());
        return;
    }
    count_rx(codec::message_type(*msg));
    if (auto* a = std::get_if<codec::U2uRelayDiscoveryAnnouncement>(&*msg)) {
        if (config.role != UeRole::end_ue) return;
        const auto rsc = a->relay_service_code.value;
        if (!certificate().authorisation().has_rsc(rsc))
            return;  // a relay for a service we are not authorised for is not a choice
        relays_heard[rsc] = {string_of(a->relay_user_info), f.src};
        relay_found(rsc, string_of(a->relay_user_info), f.src, now);
    } else if (auto* s = std::get_if<codec::U2uRelayDiscoverySolicitation>(&*msg)) {
        if (config.role != UeRole::relay || !may_relay(s->relay_service_code.value)) return;
        // A relay answers only when it can reach the target (TS 23.304 6.3.2.x, Model B).
        if (s->target_user_info && !config.directory.contains(string_of(*s->target_user_info)))
            return;
        codec::U2uRelayDiscoveryResponse r;
        r.relay_service_code = s->relay_service_code;
        r.relay_user_info = codec::Octets{bytes_of(config.user_info)};
        r.target_user_info = s->target_user_info;
        if (auto b = codec::encode(r)) {
            ++counters.sent_messages[MT::u2u_relay_discovery_response];
            frame_out(Route{f.src, false, 0}, pc5::lcid::kDiscovery, std::move(*b));
        }
    } else if (auto* r = std::get_if<codec::U2uRelayDiscoveryResponse>(&*msg)) {
        if (config.role != UeRole::end_ue) return;
        const auto rsc = r->relay_service_code.value;
        relays_heard[rsc] = {string_of(r->relay_user_info), f.src};
        relay_found(rsc, string_of(r->relay_user_info), f.src, now);
    } else {
        drop(nullptr, pc5::DropReason::unexpected, "not a discovery message");
    }
}

void Engine::Impl::announce(pc5::Time) {
    for (auto rsc : certificate().authorisation().rscs) {
        if (!may_relay(rsc)) continue;
        codec::U2uRelayDiscoveryAnnouncement a;
        a.relay_service_code = codec::RelayServiceCode{rsc};
        a.relay_user_info = codec::Octets{bytes_of(config.user_info)};
        if (auto b = codec::encode(a)) {
            ++counters.sent_messages[MT::u2u_relay_discovery_announcement];
            frame_out(Route{pc5::kBroadcastL2Id, false, 0}, pc5::lcid::kDiscovery, std::move(*b));
        }
    }
}

// ---------------------------------------------------------------- the relay

void Engine::Impl::start_second_hop(Link& first, pc5::Time now) {
    for (auto& l : links)
        if (relayed(*l) && l->side == Side::initiator && l->peer == first.target &&
            l->relay_indication == first.relay_indication)
            return;  // hop 2 exists or is on its way
    auto it = config.directory.find(first.target);
    if (it == config.directory.end()) return;  // on_first_hop_up refuses hop 1 (#1)
    auto hop = std::make_unique<Link>();
    hop->side = Side::initiator;
    hop->relay_indication = first.relay_indication;
    hop->peer = first.target;
    hop->target = first.target;
    hop->rsc = first.rsc;
    hop->route = Route{it->second, false, 0};
    hop->started = now;
    hop->local_id = assign_local_id();
    Link& l = add_link(std::move(hop));
    send_request(l, now);
}

void Engine::Impl::on_first_hop_up(Link& hop, pc5::Time now) {
    for (auto& l : links)
        if (relayed(*l) && l->side == Side::initiator && l->peer == hop.target &&
            l->relay_indication == hop.relay_indication) {
            if (l->state == State::established) {
                codec::DirectLinkEstablishmentAccept a;
                a.source_user_info = codec::Octets{bytes_of(config.user_info)};
                a.relay_indication = hop.relay_indication;
                send(hop, a, now, false);
                establish(hop, now);
            } else {
                hop.state = State::wait_second_hop;  // the accept waits for hop 2
                hop.deadline = now + config.timers.relay_hold;
            }
            return;
        }
    fail(hop, codec::Cause::direct_communication_not_allowed,
         fmt::format("relay: target \"{}\" is not reachable", hop.target), false, now, true);
}

void Engine::Impl::second_hop_done(const Link& hop2, bool ok, codec::Cause cause, pc5::Time now) {
    std::vector<Link*> held;
    for (auto& l : links)
        if (relayed(*l) && l->side == Side::responder && l->target == hop2.peer &&
            l->relay_indication == hop2.relay_indication && l->state != State::established)
            held.push_back(l.get());
    for (auto* l : held) {
        if (ok && l->state == State::wait_second_hop) {
            codec::DirectLinkEstablishmentAccept a;
            a.source_user_info = codec::Octets{bytes_of(config.user_info)};
            a.relay_indication = l->relay_indication;
            send(*l, a, now, false);
            establish(*l, now);
        } else if (!ok) {
            fail(*l, cause, fmt::format("relay: second hop to \"{}\" failed", hop2.peer), false,
                 now, true);
        }
    }
}

// Layer-2 relaying (TS 38.351, 3gpp-facts §4): by the SRAP header only; the end-to-end PDCP
// PDU inside is opaque. Only SL-SRB0's establishment request is read, for its target.
void Engine::Impl::relay_forward(const pc5::Frame& f, pc5::Time) {
    auto h = srap::parse_header(f.pdu);
    if (!h) {
        drop(nullptr, pc5::DropReason::malformed, h.error().describe());
        return;
    }
    auto l2_hop = [&](auto&& match) -> Link* {
        for (auto& l : links)
            if (relayed(*l) && l->state == State::established &&
                l->relay_indication == codec::RelayIndication::via_layer2_relay && match(*l))
                return l.get();
        return nullptr;
    };
    Link* from = l2_hop([&](const Link& l) { return l.route.neighbour == f.src; });
    if (!from) {  // only end UEs with a secured first hop may use the relay
        drop(nullptr, pc5::DropReason::not_for_us, "SRAP PDU from a UE with no layer-2 hop");
        return;
    }
    Link* to = nullptr;
    const auto inner = std::span(f.pdu).subspan(srap::kHeaderSize);
    if (h->dst_ue == srap::kUnknownUeId) {
        auto msg =
            h->bearer == 0
                ? codec::decode(inner)
                : Result<codec::Message>(make_error(Errc::malformed, "srap", "no destination"));
        auto* req = msg ? std::get_if<codec::DirectLinkEstablishmentRequest>(&*msg) : nullptr;
        if (!req || !req->target_user_info) {
            drop(from, pc5::DropReason::not_for_us, "SRAP PDU with no destination");
            return;
        }
        const auto target = string_of(*req->target_user_info);
        to = l2_hop([&](const Link& l) { return l.peer == target && &l != from; });
    } else {
        to = l2_hop([&](const Link& l) { return l.local_id == h->dst_ue; });
    }
    if (!to || to == from) {
        drop(from, pc5::DropReason::not_for_us, "no layer-2 hop to the destination end UE");
        return;
    }
    pc5::Frame out;
    out.src = config.l2_id;
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
