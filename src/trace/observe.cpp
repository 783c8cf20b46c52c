// What an eavesdropper learns from a capture (include/pc5sec/trace_decrypt.hpp, Observation):
// it reads what travels in clear, SL-SRB0 on LCID 0 and behind the SRAP header (bearer 0), the
// integrity-only security mode command, and open discovery; restricted discovery and every
// ciphered PDU stay closed to it.
#include <map>

#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/request_privacy.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/trace_decrypt.hpp"

namespace pc5sec::trace {

namespace {

struct Reader {
    Observation& out;
    std::map<std::pair<std::string, std::string>, std::size_t> seen;  // (identity, field)
    std::size_t frame = 0;

    void add(const std::string& field, const codec::Octets& o) {
        if (o.size() == 0) return;
        std::string id(o.bytes.begin(), o.bytes.end());
        auto [it, fresh] = seen.emplace(std::make_pair(id, field), out.identities.size());
        if (fresh) out.identities.push_back(ObservedIdentity{std::move(id), field, frame, 0});
        out.identities[it->second].frames++;
    }
    void add(const std::string& field, const std::optional<codec::Octets>& o) {
        if (o) add(field, *o);
    }
    template <class C>
    void container(const std::string& field, const C& c) {
        add(field + ".user_info_id", c.user_info_id);
        if (c.certificate) ++out.certificates_in_clear;
    }
    template <class C>
    void container(const std::string& field, const std::optional<C>& c) {
        if (c) container(field, *c);
    }

    void message(std::span<const std::uint8_t> bytes) {
        auto m = codec::decode(bytes);
        if (!m) return;
        const std::string name = codec::message_name(codec::message_type(*m));
        std::visit(
            [&](const auto& x) {
                if constexpr (requires { x.source_user_info; })
                    add(name + ".source_user_info", x.source_user_info);
                if constexpr (requires { x.target_user_info; })
                    add(name + ".target_user_info", x.target_user_info);
                if constexpr (requires { x.u2u_relay_ue_user_info; })
                    add(name + ".u2u_relay_ue_user_info", x.u2u_relay_ue_user_info);
                if constexpr (requires { x.relay_user_info; })
                    add(name + ".relay_user_info", x.relay_user_info);
                if constexpr (requires { x.discoverer_user_info; })
                    add(name + ".discoverer_user_info", x.discoverer_user_info);
                if constexpr (requires { x.key_est_info; })
                    container(name + ".key_est_info", x.key_est_info);
                if constexpr (requires { x.authentication_info; })
                    container(name + ".authentication_info", x.authentication_info);
                if constexpr (requires { x.relay_authentication_info; })
                    container(name + ".relay_authentication_info", x.relay_authentication_info);
            },
            *m);
    }
};

}  // namespace

Observation observe_capture(std::span<const pcap::Frame> frames) {
    Observation out;
    Reader r{out, {}, 0};
    std::map<std::uint32_t, std::size_t> l2;
    for (const auto& f : frames) {
        r.frame = ++out.frames;
        const auto src = f.header.sender_l2_id;
        auto [it, fresh] = l2.emplace(src, out.l2_ids.size());
        if (fresh) out.l2_ids.push_back(ObservedL2Id{src, f.timestamp_us, f.timestamp_us, 0});
        auto& o = out.l2_ids[it->second];
        o.last_us = f.timestamp_us;
        o.frames++;
        std::span<const std::uint8_t> pdu = f.message;
        std::uint8_t bearer = f.header.lcid;
        if (bearer == pc5::lcid::kEndToEnd) {
            auto h = srap::parse_header(pdu);
            if (!h) continue;
            bearer = h->bearer;
            pdu = pdu.subspan(srap::kHeaderSize);
        }
        if (f.header.lcid == pc5::lcid::kDiscovery) {
            out.discovery_frames++;
            discovery::Security none;  // no material: only open discovery opens
            if (auto d = none.open(pdu, discovery::UtcTime{}, false)) {
                out.discovery_readable++;
                r.message(d->plain);
            }
        } else if (bearer == pc5::lcid::kSrb0) {
            const bool request =
                !pdu.empty() &&
                pdu[0] == static_cast<std::uint8_t>(codec::MessageType::establishment_request);
            if (request) out.requests++;
            if (request_privacy::concealed(pdu)) {  // nothing to read without material
                out.concealed++;
                if (request) out.requests_concealed++;
            } else {
                r.message(pdu);
            }
        } else if (bearer == pc5::lcid::kSrb1 && pdu.size() > pdcp::kOverhead) {
            // The security mode command: integrity only (3gpp-facts §4).
            r.message(pdu.subspan(pdcp::kHeaderSize, pdu.size() - pdcp::kOverhead));
        }
    }
    return out;
}

}  // namespace pc5sec::trace
