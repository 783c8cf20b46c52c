// UE-to-UE relay discovery, Model A and Model B (pc5sec/discovery.hpp).
#include "pc5sec/discovery.hpp"

#include "pc5sec/codec.hpp"

namespace pc5sec::discovery {

namespace {
codec::Octets octets_of(std::string_view s) {
    return codec::Octets{
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())};
}
std::string string_of(const codec::Octets& o) {
    return {o.bytes.begin(), o.bytes.end()};
}
std::optional<pc5::Frame> frame(pc5::L2Id from, pc5::L2Id to, const codec::Message& m) {
    auto pdu = codec::encode(m);
    if (!pdu) return std::nullopt;
    return pc5::Frame{from, to, pc5::lcid::kDiscovery, std::move(*pdu), nullptr};
}
}  // namespace

const char* name(Model m) noexcept {
    return m == Model::a ? "A" : "B";
}

std::optional<pc5::Frame> solicitation(pc5::L2Id self, std::uint32_t rsc,
                                       std::string_view discoverer, std::string_view target) {
    codec::U2uRelayDiscoverySolicitation s;
    s.relay_service_code = codec::RelayServiceCode{rsc};
    s.discoverer_user_info = octets_of(discoverer);
    s.target_user_info = octets_of(target);
    return frame(self, pc5::kBroadcastL2Id, s);
}

std::optional<pc5::Frame> announcement(pc5::L2Id self, std::uint32_t rsc, std::string_view relay) {
    codec::U2uRelayDiscoveryAnnouncement a;
    a.relay_service_code = codec::RelayServiceCode{rsc};
    a.relay_user_info = octets_of(relay);
    return frame(self, pc5::kBroadcastL2Id, a);
}

std::optional<pc5::Frame> answer(const pc5::Frame& f, pc5::L2Id self, std::string_view relay,
                                 const std::function<bool(std::uint32_t)>& serves,
                                 const std::map<std::string, pc5::L2Id>& directory) {
    if (f.lcid != pc5::lcid::kDiscovery) return std::nullopt;
    auto m = codec::decode(f.pdu);
    if (!m) return std::nullopt;
    const auto* s = std::get_if<codec::U2uRelayDiscoverySolicitation>(&*m);
    if (!s || !serves(s->relay_service_code.value)) return std::nullopt;
    // A relay answers only when it can reach the target (TS 23.304 6.3.2.x, Model B).
    if (s->target_user_info && !directory.contains(string_of(*s->target_user_info)))
        return std::nullopt;
    codec::U2uRelayDiscoveryResponse r;
    r.relay_service_code = s->relay_service_code;
    r.relay_user_info = octets_of(relay);
    r.target_user_info = s->target_user_info;
    return frame(self, f.src, r);
}

std::optional<RelayHeard> relay_heard(const pc5::Frame& f) {
    if (f.lcid != pc5::lcid::kDiscovery) return std::nullopt;
    auto m = codec::decode(f.pdu);
    if (!m) return std::nullopt;
    if (const auto* a = std::get_if<codec::U2uRelayDiscoveryAnnouncement>(&*m))
        return RelayHeard{a->relay_service_code.value, string_of(a->relay_user_info), f.src};
    if (const auto* r = std::get_if<codec::U2uRelayDiscoveryResponse>(&*m))
        return RelayHeard{r->relay_service_code.value, string_of(r->relay_user_info), f.src};
    return std::nullopt;
}

std::optional<std::string> relay_of(const pc5::Frame& f, std::uint32_t rsc) {
    auto h = relay_heard(f);
    if (!h || h->rsc != rsc || h->relay.empty()) return std::nullopt;
    auto m = codec::decode(f.pdu);
    if (!m || !std::holds_alternative<codec::U2uRelayDiscoveryResponse>(*m)) return std::nullopt;
    return h->relay;
}

}  // namespace pc5sec::discovery
