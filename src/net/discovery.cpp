// Model B relay discovery for solution B (see discovery.hpp).
#include "net/discovery.hpp"

#include <algorithm>

#include "pc5sec/codec.hpp"

namespace pc5sec::net::discovery {

namespace {
std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string string_of(const codec::Octets& o) {
    return {o.bytes.begin(), o.bytes.end()};
}
}  // namespace

std::optional<pc5::Frame> solicitation(pc5::L2Id self, std::uint32_t rsc,
                                       const std::string& discoverer, const std::string& target) {
    codec::U2uRelayDiscoverySolicitation s;
    s.relay_service_code = codec::RelayServiceCode{rsc};
    s.discoverer_user_info = codec::Octets{bytes_of(discoverer)};
    s.target_user_info = codec::Octets{bytes_of(target)};
    auto pdu = codec::encode(s);
    if (!pdu) return std::nullopt;
    return pc5::Frame{self, pc5::kBroadcastL2Id, pc5::lcid::kDiscovery, std::move(*pdu), nullptr};
}

std::optional<pc5::Frame> answer(const pc5::Frame& f, pc5::L2Id self, const std::string& relay,
                                 const std::vector<std::uint32_t>& rscs,
                                 const std::map<std::string, pc5::L2Id>& directory) {
    if (f.lcid != pc5::lcid::kDiscovery) return std::nullopt;
    auto m = codec::decode(f.pdu);
    if (!m) return std::nullopt;
    const auto* s = std::get_if<codec::U2uRelayDiscoverySolicitation>(&*m);
    if (!s || std::find(rscs.begin(), rscs.end(), s->relay_service_code.value) == rscs.end())
        return std::nullopt;
    if (!s->target_user_info || !directory.contains(string_of(*s->target_user_info)))
        return std::nullopt;
    codec::U2uRelayDiscoveryResponse r;
    r.relay_service_code = s->relay_service_code;
    r.relay_user_info = codec::Octets{bytes_of(relay)};
    r.target_user_info = s->target_user_info;
    auto pdu = codec::encode(r);
    if (!pdu) return std::nullopt;
    return pc5::Frame{self, f.src, pc5::lcid::kDiscovery, std::move(*pdu), nullptr};
}

std::optional<std::string> relay_of(const pc5::Frame& f, std::uint32_t rsc) {
    if (f.lcid != pc5::lcid::kDiscovery) return std::nullopt;
    auto m = codec::decode(f.pdu);
    if (!m) return std::nullopt;
    const auto* r = std::get_if<codec::U2uRelayDiscoveryResponse>(&*m);
    if (!r || r->relay_service_code.value != rsc || r->relay_user_info.size() == 0)
        return std::nullopt;
    return string_of(r->relay_user_info);
}

}  // namespace pc5sec::net::discovery
