// Solution B engine (seed 001): one object per UE, an end UE (the source of some links, the
// target of others) or the UE-to-UE relay. Sans-I/O: frames and time come in, frames, events and
// a timer go out. This file: frames in and out, timers, the public Engine. The flow is the table
// in flow.cpp; impl.hpp says which file does what.
#include <algorithm>
#include <set>
#include <variant>

#include <fmt/format.h>

#include "pc5sec/request_privacy.hpp"
#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

creds::TimePoint Engine::Impl::wall(Time now) const {
    return cfg.wall_clock_at_zero + std::chrono::duration_cast<creds::Clock::duration>(now);
}

std::uint64_t Engine::Impl::wall_ms(Time now) const {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(wall(now).time_since_epoch());
    return ms.count() < 0 ? 0 : static_cast<std::uint64_t>(ms.count());
}

// ---- output ----

void Engine::Impl::send(pc5::L2Id dst, std::uint8_t lcid, MessageType type,
                        std::vector<std::uint8_t> pdu, pc5::L2Id src) {
    if (lcid == pc5::lcid::kSrb0 && request_privacy::conceals_message(type) && !conceal_srb0(pdu))
        return;
    counters.frames_sent++;
    if (counting) ++*counting;
    counters.bytes_sent += pdu.size();
    counters.sent_messages[type]++;
    counters.sent_bytes[type] += pdu.size();
    tx.push_back(pc5::Frame{src ? src : cfg.l2_id, dst, lcid, std::move(pdu)});
}

bool Engine::Impl::conceal_srb0(std::vector<std::uint8_t>& pdu) {
    if (pdu.empty() || !request_privacy::conceals_message(static_cast<MessageType>(pdu[0])))
        return true;
    auto rsc = pdu[0] == static_cast<std::uint8_t>(MessageType::establishment_request)
                   ? request_privacy::rsc_named(pdu)
                   : std::optional<std::uint32_t>(answer_rsc);
    if (!rsc || !*rsc || !discovery_security.material(*rsc))
        return true;  // in clear: no RSC, or no material for it
    auto air = request_privacy::conceal(discovery_security, pdu, *rsc, wall(now_),
                                        rng->bytes<request_privacy::kNonceSize>());
    if (!air) {
        drop(pc5::DropReason::unexpected, "SL-SRB0 message not sent: " + air.error().describe());
        return false;
    }
    pdu = std::move(*air);
    return true;
}

void Engine::Impl::send_message(pc5::L2Id dst, const codec::Message& m) {
    auto pdu = codec::encode(m);
    if (!pdu) return;  // our own messages always encode; nothing is sent otherwise
    send(dst, pc5::lcid::kSrb0, codec::message_type(m), std::move(*pdu));
}

void Engine::Impl::send_reject(pc5::L2Id dst, std::uint8_t seq, Cause cause) {
    codec::DirectLinkEstablishmentReject r;
    r.seq = seq;
    r.cause = cause;
    send_message(dst, r);
}

void Engine::Impl::send_srap(pc5::L2Id dst, srap::Header h, MessageType type,
                             std::span<const std::uint8_t> pdu, pc5::L2Id src) {
    std::vector<std::uint8_t> body(pdu.begin(), pdu.end());
    if (h.bearer == pc5::lcid::kSrb0 && request_privacy::conceals_message(type) &&
        !conceal_srb0(body))
        return;
    std::vector<std::uint8_t> framed;
    framed.reserve(srap::kHeaderSize + body.size());
    (void)srap::append_header(h, framed);  // our bearer IDs always fit 5 bits
    framed.insert(framed.end(), body.begin(), body.end());
    send(dst, pc5::lcid::kEndToEnd, type, std::move(framed), src);
}

void Engine::Impl::forward_to(const Route& r, bool to_target, MessageType type,
                              std::span<const std::uint8_t> pdu) {
    const srap::Header h{pc5::lcid::kSrb0, to_target ? r.source_local : r.target_local,
                         to_target ? r.target_local : r.source_local};
    answer_rsc = r.rsc;  // an accept goes concealed as its request came
    send_srap(to_target ? r.target_l2 : r.source_l2, h, type, pdu);
    answer_rsc = 0;
}

std::array<bool, 256> Engine::Impl::local_ids_in_use() const {
    std::array<bool, 256> used{};
    used[srap::kUnknownUeId] = true;
    for (const auto& [l2, id] : local_ids)
        used[id] = true;
    for (const auto& r : routes)
        for (const auto& h : r.hops) {
            // Replaced by an update, still named within the grace; or promised by one under way.
            if (now_ < h.retired_until && h.retired_local != srap::kUnknownUeId)
                used[h.retired_local] = true;
            if (h.update) used[h.update->local_id] = true;
        }
    return used;
}

std::uint8_t Engine::Impl::local_id_of(pc5::L2Id ue) {
    if (auto it = local_ids.find(ue); it != local_ids.end()) return it->second;
    const auto used = local_ids_in_use();
    for (unsigned id = 1; id < used.size(); ++id)
        if (!used[id]) return local_ids[ue] = static_cast<std::uint8_t>(id);
    return srap::kUnknownUeId;  // 255 end UEs routed already
}

void Engine::Impl::drop(pc5::DropReason reason, std::string detail, std::string link_id) {
    counters.drops[static_cast<std::size_t>(reason)]++;
    events.push_back(pc5::PduDropped{std::move(link_id), reason, std::move(detail)});
}

void Engine::Impl::failed(std::string id, std::string peer, const Refusal& r, bool by_peer,
                          Time now) {
    events.push_back(pc5::LinkFailed{std::move(id), cfg.user_info, std::move(peer),
                                     pc5::LinkKind::e2e, solution_of(cfg.mode), r.cause, r.reason,
                                     by_peer, now});
}

// ---- frames in ----

namespace {
// Does any row of `role` take `input` in some state? A message no row takes is refused before
// any lookup (an unprotected KEEPALIVE, say).
bool some_row_takes(FlowRole role, Input input) {
    return std::any_of(flow_table().begin(), flow_table().end(), [&](const FlowRow& r) {
        const bool role_ok =
            r.role == role || (r.role == FlowRole::end_ue && role != FlowRole::relay);
        return role_ok && !r.input.local && r.input.channel == input.channel &&
               r.input.message == input.message;
    });
}
}  // namespace

void Engine::Impl::receive(const pc5::Frame& f, Time now) {
    counters.frames_received++;
    if (f.lcid == pc5::lcid::kDiscovery && (f.dst == cfg.l2_id || f.dst == pc5::kBroadcastL2Id))
        return on_discovery(f, now);  // step 0 (discovery.cpp)
    if (!owns_l2(f.dst, now)) return drop(pc5::DropReason::not_for_us, "frame for another L2 ID");
    if (f.lcid == pc5::lcid::kEndToEnd) return receive_srap(f, now);
    if (f.lcid == pc5::lcid::kSrb2) return receive_hop(f, now);  // identifier_update.cpp
    if (f.lcid != pc5::lcid::kSrb0)
        return drop(pc5::DropReason::unexpected, fmt::format("lcid {}", f.lcid));
    receive_srb0(f, f.pdu, now);
}

void Engine::Impl::receive_srb0(const pc5::Frame& f, std::span<const std::uint8_t> pdu, Time now) {
    const bool relay = cfg.role == Role::relay;
    // A request's identities, concealed on the air, revealed (pc5sec/request_privacy.hpp).
    auto opened = request_privacy::reveal(discovery_security, pdu, wall(now));
    if (!opened) {
        const auto reason = request_privacy::drop_reason(opened.error());
        drop(reason, opened.error().describe());
        // KI#3: a request for an RSC this UE holds no material for (not authorised for it) is
        // refused with #11, as one in clear for that RSC would be.
        if (reason == pc5::DropReason::not_for_us &&
            pdu[0] == static_cast<std::uint8_t>(MessageType::establishment_request))
            send_reject(f.src, pdu.size() > 1 ? pdu[1] : 0, Cause::required_service_not_allowed);
        return;
    }
    if (opened->concealed) pdu = opened->plain;
    auto decoded = codec::decode(pdu);
    if (!decoded) return drop(pc5::DropReason::malformed, decoded.error().describe());
    const auto type = codec::message_type(*decoded);
    counters.received_messages[type]++;
    const Input input = Input::srb0(type);
    if (!some_row_takes(relay ? FlowRole::relay : FlowRole::end_ue, input) &&
        !(!relay && some_row_takes(FlowRole::source, input)) &&
        !(!relay && some_row_takes(FlowRole::target, input)))
        return drop(pc5::DropReason::unexpected,
                    fmt::format("{} not expected on SL-SRB0", codec::message_name(type)));
    std::visit([&](const auto& m) { receive_message(f, m, now); }, *decoded);
}

// The relay's adaptation layer (TS 38.351 as include/pc5sec/srap.hpp frames it, 3gpp-facts §4):
// at an end UE, what the relay forwarded of the other end (bearer 0: its request, accept or
// reject; bearer 2: its PC5-S under keys from KD); at the relay, an end UE's protected PC5-S to
// route by the header. Data bearers are the user plane's.
void Engine::Impl::receive_srap(const pc5::Frame& f, Time now) {
    auto h = srap::parse_header(f.pdu);
    if (!h) return drop(pc5::DropReason::malformed, h.error().describe());
    const auto inner = std::span(f.pdu).subspan(srap::kHeaderSize);
    if (h->bearer > pc5::lcid::kSrb3)
        return drop(pc5::DropReason::unexpected,
                    fmt::format("SRAP bearer {} carries data: the user plane's", h->bearer));
    if (cfg.role == Role::relay) {
        if (h->bearer == pc5::lcid::kSrb0)
            return drop(pc5::DropReason::unexpected,
                        "SL-SRB0 through the adaptation layer is the relay's to send: an end UE "
                        "sends its establishment messages to the relay on LCID 0");
        auto p = pdcp::peek_header(inner);
        if (!p) return drop(pc5::DropReason::malformed, p.error().describe());
        // The route between the sender and the end UE the header names (its KNRP-sess ID first:
        // two ends may have several links).
        Route* found = nullptr;
        int best = 0;
        for (auto& r : routes) {
            if (r.gone) continue;
            const int side = side_of(r, f.src, now);
            if (side < 0 || !names(r, 1 - side, h->dst_ue, now)) continue;
            const int score =
                1 + 2 * (r.state == State::routed) + (r.key_id.lsb() == p->knrp_sess_id.lsb());
            if (score > best) {
                best = score;
                found = &r;
            }
        }
        if (!found)
            return drop(pc5::DropReason::not_for_us,
                        "SRAP PDU between UEs this relay routes nothing for");
        return dispatch(*found, FlowRole::relay, Input::of(Local::forward),
                        [&] { return forward_protected(*found, f, now); });
    }
    if (h->src_ue == srap::kUnknownUeId || h->dst_ue == srap::kUnknownUeId)
        return drop(pc5::DropReason::malformed,
                    "srap: a relayed PDU names both local UE IDs (TS 38.351)");
    if (h->bearer == pc5::lcid::kSrb0) {
        heard_srap = &*h;
        receive_srb0(f, inner, now);
        heard_srap = nullptr;
        return;
    }
    if (h->bearer != kE2eBearer)
        return drop(pc5::DropReason::unexpected,
                    fmt::format("SRAP bearer {}: end-to-end PC5-S is on SL-SRB2", h->bearer));
    receive_protected(f, *h, inner, now);
}

// Seed 001 steps 2 (relay) and 4 (target): a new request makes a new route or link, unless it
// repeats one (answered before the table).
void Engine::Impl::receive_message(const pc5::Frame& f,
                                   const codec::DirectLinkEstablishmentRequest& m, Time now) {
    if (cfg.role == Role::relay) {
        if (answer_retransmission(f, m, now)) return;
        if (replayed_from_elsewhere(f, m)) return;
        Route r;
        dispatch(r, FlowRole::relay, Input::srb0(MessageType::establishment_request),
                 [&] { return on_request(r, f, m, now); });
        if (r.state != State::idle && !r.gone) {
            make_room_for_pending(now);
            routes.push_back(std::move(r));
        }
        return;
    }
    // The relay forwards a request through its adaptation layer (SRAP bearer 0), which names the
    // source's local UE ID: the target needs it to answer end to end.
    if (!heard_srap)
        return drop(pc5::DropReason::unexpected,
                    "request on LCID 0: a relay forwards it on SRAP bearer 0 (LCID 55)");
    // TS 24.554: a request names its target; one for another UE is not ours to answer.
    if (!m.target_user_info || as_string(*m.target_user_info) != cfg.user_info)
        return drop(pc5::DropReason::not_for_us, "Target User Info names another UE");
    Link l;
    l.summary.initiator = false;
    l.summary.peer = std::string(as_string(m.source_user_info));
    if (m.authentication_info && m.relay_authentication_info) {
        const auto& sinfo = *m.authentication_info;
        if (auto body = wire::body(m)) {
            l.summary.id = pc5::make_link_id(l.summary.peer, cfg.user_info,
                                             link_tag(cfg.mode, sinfo.signature.bytes, m.nonce_1));
            if (answer_retransmission(f, m, l.summary.id, wire::request_digest(*body, sinfo), now))
                return;
        }
    }
    dispatch(l, FlowRole::target, Input::srb0(MessageType::establishment_request),
             [&] { return on_request(l, f, m, now); });
    if (l.state != State::idle && !l.gone) links.push_back(std::move(l));
}

// Seed 001 steps 6 (relay) and 8 (source).
void Engine::Impl::receive_message(const pc5::Frame& f,
                                   const codec::DirectLinkEstablishmentAccept& m, Time now) {
    const Input input = Input::srb0(MessageType::establishment_accept);
    if (cfg.role == Role::relay) {
        Route* found = nullptr;
        for (auto& r : routes)
            if (!r.gone && r.target_l2 == f.src && r.seq == m.seq &&
                (!found || r.state == State::pending))
                found = &r;
        if (!found)
            return drop(pc5::DropReason::unexpected, "accept for no request this relay forwarded");
        return dispatch(*found, FlowRole::relay, input,
                        [&] { return on_accept(*found, f, m, now); });
    }
    if (!heard_srap)
        return drop(pc5::DropReason::unexpected,
                    "accept on LCID 0: a relay forwards it on SRAP bearer 0 (LCID 55)");
    Link* found = nullptr;
    for (auto& l : links)
        if (!l.gone && l.summary.initiator && l.relay_l2 == f.src && l.seq == m.seq &&
            (!found || l.state == State::wait_accept))
            found = &l;
    if (!found) return drop(pc5::DropReason::unexpected, "accept for no pending request");
    dispatch(*found, FlowRole::source, input, [&] { return on_accept(*found, m, now); });
}

// An unprotected reject: the rows say what each role and state makes of it (never the end of
// an established link or route).
void Engine::Impl::receive_message(const pc5::Frame& f,
                                   const codec::DirectLinkEstablishmentReject& m, Time now) {
    const Input input = Input::srb0(MessageType::establishment_reject);
    if (cfg.role == Role::relay) {
        Route* found = nullptr;
        for (auto& r : routes)
            if (!r.gone && r.seq == m.seq && (r.target_l2 == f.src || r.source_l2 == f.src) &&
                (!found || r.state == State::pending))
                found = &r;
        if (!found)
            return drop(pc5::DropReason::unexpected, "reject for no request this relay forwarded");
        return dispatch(*found, FlowRole::relay, input, [&] {
            return found->state == State::pending ? pass_reject(*found, f) : ignore_reject(*found);
        });
    }
    Link* found = nullptr;
    for (auto& l : links)
        if (!l.gone && l.relay_l2 == f.src && l.seq == m.seq &&
            (!found || l.state == State::wait_accept || l.state == State::unconfirmed))
            found = &l;
    if (!found)
        return drop(pc5::DropReason::unexpected,
                    "unprotected reject for no request or unconfirmed link (ignored: anyone can "
                    "forge one)");
    dispatch(*found, found->role(), input, [&] {
        return found->state == State::wait_accept ? on_reject(*found, m, now)
                                                  : note_reject(*found, m);
    });
}

template <class M>
void Engine::Impl::receive_message(const pc5::Frame&, const M& m, Time) {
    drop(pc5::DropReason::unexpected,
         fmt::format("{} not expected on SL-SRB0", codec::message_name(codec::message_type(m))));
}

// ---- timers ----

Time Engine::Impl::next_timeout() const {
    Time t = pc5::kNever;
    for (const auto& l : links)
        if (!l.gone) t = std::min(t, deadline(l));
    for (const auto& l : links)
        if (!l.gone && l.hop) t = std::min(t, hop_deadline(l));
    for (const auto& r : routes)
        if (!r.gone) {
            t = std::min(t, r.expires);
            for (const auto& h : r.hops)
                if (h.update) t = std::min(t, h.update->deadline);
        }
    if (cfg.role == Role::relay && cfg.discovery == discovery::Model::a)
        t = std::min(t, next_announce);
    return t;
}

void Engine::Impl::handle_timeout(Time now) {
    if (cfg.role == Role::relay && cfg.discovery == discovery::Model::a && now >= next_announce)
        announce(now);
    for (auto& l : links)
        if (!l.gone && deadline(l) <= now)
            dispatch(l, l.role(), Input::of(Local::timer), [&] { return on_timeout(l, now); });
    for (auto& l : links)
        if (!l.gone && l.hop && hop_deadline(l) <= now)
            dispatch(*l.hop, FlowRole::end_ue, Input::of(Local::timer),
                     [&] { return on_hop_timeout(l, *l.hop, now); });
    for (auto& r : routes) {
        for (std::size_t n = 0; n < r.hops.size() && !r.gone; ++n)
            if (r.hops[n].update && r.hops[n].update->deadline <= now)
                dispatch(r.hops[n], FlowRole::relay, Input::of(Local::timer),
                         [&] { return on_hop_timeout(r, static_cast<int>(n), now); });
        if (!r.gone && r.expires <= now)
            dispatch(r, FlowRole::relay, Input::of(Local::timer),
                     [&] { return on_timeout(r, now); });
    }
}

void Engine::Impl::release_all(Time now) {
    for (auto& l : links)
        if (!l.gone) release(l, now);
}

// Local::release on one link: abandon an attempt, else a RELEASE REQUEST end to end.
void Engine::Impl::release(Link& l, Time now) {
    dispatch(l, l.role(), Input::of(Local::release), [&] {
        return l.state == State::wait_accept || l.state == State::wait_discovery
                   ? abandon(l, now)
                   : start_release(l, Cause::direct_communication_no_longer_needed, now);
    });
}

void Engine::Impl::check_frame_bound(std::uint32_t frames, const std::string& id) {
    max_establishment_frames = std::max(max_establishment_frames, frames);
    if (frames > establishment_frame_bound(cfg) && over_frame_bound.size() < 64 &&
        std::find(over_frame_bound.begin(), over_frame_bound.end(), id) == over_frame_bound.end())
        over_frame_bound.push_back(id);
}

Link* Engine::Impl::find_link(std::string_view id) {
    for (auto& l : links)
        if (!l.gone && l.summary.id == id) return &l;
    return nullptr;
}

void Engine::Impl::sweep(Time now) {
    // A hop goes with the link (end UE) or the route (relay) it carried,
    // unless what replaced that link under its id (B-literal: a late copy of the request) holds
    // a hop of the same id. Every frame comes here: the common case is two scans.
    const bool hops_go =
        std::any_of(links.begin(), links.end(),
                    [](const Link& l) { return l.gone && l.hop && l.hop_reported; }) ||
        std::any_of(routes.begin(), routes.end(),
                    [](const Route& r) { return r.gone && !r.hops.empty(); });
    if (hops_go) {
        std::set<std::string> live;
        for (const auto& l : links)
            if (!l.gone && l.hop && l.hop_reported) live.insert(l.hop->summary.id);
        for (const auto& r : routes)
            for (const auto& h : r.hops)
                if (!r.gone) live.insert(h.summary.id);
        const auto release_hop = [&](const Hop& h) {
            if (live.count(h.summary.id)) return;
            events.push_back(pc5::LinkReleased{h.summary.id, h.summary.peer,
                                               Cause::direct_communication_no_longer_needed, false,
                                               now});
        };
        for (const auto& l : links)
            if (l.gone && l.hop && l.hop_reported) release_hop(*l.hop);
        for (const auto& r : routes)
            if (r.gone)
                for (const auto& h : r.hops)
                    release_hop(h);
    }
    std::erase_if(links, [](const Link& l) { return l.gone; });
    const bool routes_go =
        std::any_of(routes.begin(), routes.end(), [](const Route& r) { return r.gone; });
    std::erase_if(routes, [](const Route& r) { return r.gone; });
    if (routes_go)  // a local UE ID goes with the last route of its UE
        std::erase_if(local_ids, [&](const auto& entry) {
            return std::none_of(routes.begin(), routes.end(), [&](const Route& r) {
                return r.source_l2 == entry.first || r.target_l2 == entry.first;
            });
        });
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<Engine>> Engine::create(Config config) {
    if (config.user_info.empty() || config.user_info.size() > 255)
        return make_error(Errc::invalid_argument, "user_info", "must be 1..255 octets");
    if (config.l2_id > pc5::kMaxL2Id)
        return make_error(Errc::invalid_argument, "l2_id", "a layer-2 ID has 24 bits");
    if (config.credentials) {
        if (config.mode == Mode::literal)
            return make_error(Errc::invalid_argument, "credentials",
                              "literal mode carries raw public keys (seed 001): no certificate");
        if (config.key || config.certificate || config.trust)
            return make_error(Errc::invalid_argument, "credentials",
                              "give the credential manager or key, certificate and trust, not "
                              "both");
        // Checked below like the fields they stand for; used through the manager afterwards.
        config.key = config.credentials->key();
        config.certificate = config.credentials->certificate();
        config.trust = config.credentials->trust();
    }
    if (!config.key)
        return make_error(Errc::invalid_argument, "key",
                          "a private key is required (seed 001 step 0: each UE signs)");
    if (config.key->type() == KeyType::x25519)
        return make_error(Errc::invalid_argument, "key", "an X25519 key cannot sign");
    // Seed 001 step 4: an end UE derives KD by ECDH with its long-term key.
    if (config.role == Role::end_ue && config.key->type() != KeyType::p256)
        return make_error(Errc::invalid_argument, "key",
                          fmt::format("an {} key cannot do ECDH: seed 001 step 4 derives KD from "
                                      "the end UE's private key, so it must be P-256",
                                      name(config.key->type())));
    if (config.t5080 <= Time::zero())
        return make_error(Errc::invalid_argument, "t5080", "must be positive");
    if (config.t5090 < Time::zero())
        return make_error(Errc::invalid_argument, "t5090", "must not be negative (0: off)");
    if (config.t_identifier_update <= Time::zero())
        return make_error(Errc::invalid_argument, "t_identifier_update", "must be positive");
    if (config.freshness_window <= Time::zero() ||
        config.freshness_window >= config.replay_cache_lifetime)
        return make_error(Errc::invalid_argument, "freshness_window",
                          "must be positive and shorter than replay_cache_lifetime (a replay "
                          "older than the window is refused as stale, a newer one by the cache)");
    if (config.key_confirmation_timeout <= Time::zero())
        return make_error(Errc::invalid_argument, "key_confirmation_timeout", "must be positive");
    if (config.max_pending_routes == 0 || config.max_pending_routes > 65536)
        return make_error(Errc::invalid_argument, "max_pending_routes", "must be 1..65536");
    if (config.replay_cache_capacity == 0 || config.replay_cache_capacity > (1u << 20))
        return make_error(Errc::invalid_argument, "replay_cache_capacity", "must be 1..1048576");
    if (config.discovery_answers_per_second > 10000)
        return make_error(Errc::invalid_argument, "discovery_answers_per_second",
                          "must be at most 10000");
    if (config.role == Role::relay && config.rscs.empty())
        return make_error(Errc::invalid_argument, "rscs", "a relay serves at least one RSC");
    for (auto r : config.rscs)
        if (r > creds::kMaxRsc) return make_error(Errc::invalid_argument, "rscs", "over 24 bits");
    std::optional<creds::VerifiedPeer> self;
    if (config.mode == Mode::hardened) {
        if (!config.certificate)
            return make_error(Errc::invalid_argument, "certificate",
                              "hardened mode needs the UE's certificate");
        if (!config.trust)
            return make_error(Errc::invalid_argument, "trust",
                              "hardened mode needs a trust store (the provisioning CA)");
        PC5SEC_TRY(creds::check_key_matches(*config.key, *config.certificate, "key"));
        if (config.certificate->subject() != config.user_info)
            return make_error(Errc::invalid_argument, "certificate",
                              fmt::format("subject '{}' is not the user info '{}'",
                                          config.certificate->subject(), config.user_info));
        // What our own certificate says (checking its dates is CredentialManager's job, and a
        // peer will refuse it if it is revoked: that is what the attack tests show).
        const auto& c = *config.certificate;
        self.emplace(creds::VerifiedPeer{c.subject(), c.authorisation(), c.public_key(),
                                         c.not_before(), c.not_after(), c.serial_hex()});
    }
    if (config.mode == Mode::literal && config.certificate)
        return make_error(Errc::invalid_argument, "certificate",
                          "literal mode carries raw public keys (seed 001): no certificate");
    PC5SEC_TRY(discovery::check_materials(config.discovery_material));
    auto impl = std::make_unique<Impl>(std::move(config));
    impl->discovery_security = discovery::Security(impl->cfg.discovery_material);
    impl->self = std::move(self);
    if (impl->cfg.role == Role::relay) impl->hop_seed.emplace(impl->rng->bytes<32>());
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

std::uint32_t establishment_frame_bound(const Config& c) noexcept {
    const std::uint32_t n = c.max_retransmissions;
    return 7 * n + 9;  // (3n + 5) + 2 x 2(n + 1): see sigauth.hpp
}

const std::vector<std::string>& Engine::links_over_frame_bound() const noexcept {
    return impl_->over_frame_bound;
}
std::uint32_t Engine::max_establishment_frames() const noexcept {
    return impl_->max_establishment_frames;
}
std::size_t Engine::route_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(impl_->routes.begin(), impl_->routes.end(),
                                                  [](const Route& r) { return !r.gone; }));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

const std::string& Engine::user_info() const noexcept {
    return impl_->cfg.user_info;
}
pc5::L2Id Engine::l2_id() const noexcept {
    return impl_->cfg.l2_id;
}
void Engine::connect(const pc5::ConnectRequest& request, Time now) {
    impl_->now_ = now;
    impl_->connect(request, now);
    impl_->sweep(now);
}
void Engine::receive(const pc5::Frame& frame, Time now) {
    impl_->now_ = now;
    impl_->receive(frame, now);
    impl_->sweep(now);
}
void Engine::handle_timeout(Time now) {
    impl_->now_ = now;
    impl_->handle_timeout(now);
    impl_->sweep(now);
}
Time Engine::next_timeout() const noexcept {
    return impl_->next_timeout();
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
void Engine::release_all(Time now) {
    impl_->now_ = now;
    impl_->release_all(now);
    impl_->sweep(now);
}
const pc5::Counters& Engine::counters() const noexcept {
    return impl_->counters;
}
Mode Engine::mode() const noexcept {
    return impl_->cfg.mode;
}
std::vector<pc5::LinkSummary> Engine::links() const {
    std::vector<pc5::LinkSummary> out;
    for (const auto& l : impl_->links)
        if (!l.gone && l.usable()) out.push_back(l.summary);
    return out;
}
std::optional<pc5::DataKeys> Engine::data_keys(const std::string& link_id) const {
    // The hops: an end UE's to the relay; a relay's two per route, on the layer-3 path each
    // routed to the other (docs/solution-b.md "The hops").
    for (const auto& l : impl_->links)
        if (!l.gone && l.usable() && l.hop && l.hop->summary.id == link_id)
            return impl_->hop_keys(*l.hop, {});
    for (const auto& r : impl_->routes)
        for (std::size_t n = 0; n < r.hops.size() && !r.gone; ++n)
            if (r.hops[n].summary.id == link_id) {
                auto k = impl_->hop_keys(r.hops[n],
                                         r.l3 ? std::vector<std::string>{r.hops[1 - n].summary.id}
                                              : std::vector<std::string>{});
                // Layer 2: the end UE's local UE ID here, which an identifier update changes.
                if (k && !r.l3) k->remote_local_id = n == 0 ? r.source_local : r.target_local;
                return k;
            }
    for (const auto& l : impl_->links) {
        if (l.gone || l.summary.id != link_id || !l.usable() || !l.nrpek || !l.nrpik) continue;
        pc5::DataKeys k;  // the end-to-end keys from KD-sess (docs/solution-b.md), via the relay
        k.link_id = l.summary.id;
        k.kind = pc5::LinkKind::e2e;
        k.peer_l2 = l.relay_l2;
        k.local_l2 = l.hop ? l.hop->own : 0;
        // Layer 2: SRAP to the peer's local UE ID; layer 3: inside IPv6 packets on the hop.
        k.remote_local_id = l.l3 ? srap::kUnknownUeId : l.remote_local_id;
        k.initiator = l.summary.initiator;
        k.knrp_sess_id = l.summary.knrp_sess_id;
        k.ciphering = l.summary.ciphering;
        k.integrity = l.summary.integrity;
        k.nrpek = *l.nrpek;
        k.nrpik = *l.nrpik;
        if (l.l3 && l.hop) k.carrier = l.hop->summary.id;
        return k;
    }
    return std::nullopt;
}
Status Engine::release(std::string_view link_id, Time now) {
    impl_->now_ = now;
    auto* l = impl_->find_link(link_id);
    if (!l || !impl_->row_for(l->role(), l->state, Input::of(Local::release)))
        return make_error(Errc::state, "link_id", fmt::format("no link '{}'", link_id));
    impl_->release(*l, now);
    impl_->sweep(now);
    return {};
}
Status Engine::rekey(std::string_view link_id, Time now) {
    impl_->now_ = now;
    auto* l = impl_->find_link(link_id);
    if (!l || !impl_->row_for(l->role(), l->state, Input::of(Local::rekey)))
        return make_error(Errc::state, "link_id",
                          fmt::format("no established link '{}' to re-key", link_id));
    impl_->dispatch(*l, l->role(), Input::of(Local::rekey),
                    [&] { return impl_->start_rekey(*l, now); });
    return {};
}
Status Engine::update_identifiers(std::string_view link_id, Time now) {
    impl_->now_ = now;
    auto* l = impl_->find_link(link_id);
    if (!l || !l->hop || l->state != State::established ||
        !impl_->row_for(FlowRole::end_ue, l->hop->state, Input::of(Local::identifier_update)))
        return make_error(Errc::state, "link_id",
                          fmt::format("no established link '{}' whose hop could update its "
                                      "identifiers now",
                                      link_id));
    impl_->dispatch(*l->hop, FlowRole::end_ue, Input::of(Local::identifier_update),
                    [&] { return impl_->start_hop_update(*l, *l->hop, now); });
    impl_->sweep(now);
    return {};
}
bool Engine::owns_l2(pc5::L2Id id) const noexcept {
    return impl_->owns_l2(id, impl_->now_);
}
Status Engine::send_keepalive(std::string_view link_id, Time now) {
    impl_->now_ = now;
    auto* l = impl_->find_link(link_id);
    if (!l || !impl_->row_for(l->role(), l->state, Input::of(Local::keepalive)))
        return make_error(Errc::state, "link_id", fmt::format("no established link '{}'", link_id));
    impl_->dispatch(*l, l->role(), Input::of(Local::keepalive),
                    [&] { return impl_->send_keepalive(*l, now); });
    return {};
}

}  // namespace pc5sec::sigauth
