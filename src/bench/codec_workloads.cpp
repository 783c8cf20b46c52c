// Benchmark workloads of codec/: encode plus decode of a full PROSE DIRECT LINK ESTABLISHMENT
// REQUEST (every optional IE, both containers), in messages per second; and a relay discovery
// announcement sealed and opened, restricted (docs/discovery.md) against open; and the same
// request with its identities concealed and revealed (pc5sec/request_privacy.hpp).
#include <memory>
#include <stdexcept>

#include "bench/registry.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/request_privacy.hpp"

namespace pc5sec::bench {

std::vector<Workload> codec_workloads() {
    constexpr int kBatch = 256;
    auto message = std::make_shared<codec::Message>(codec::sample_messages(true).front());
    auto buffer = std::make_shared<std::vector<std::uint8_t>>();
    buffer->reserve(codec::kMaxMessageSize);
    std::vector<Workload> out;
    out.push_back(Workload{
        "codec-establishment-request", "msgs/s",
        [message, buffer]() {
            for (int i = 0; i < kBatch; ++i) {
                buffer->clear();
                if (!codec::encode(*message, *buffer).ok() || !codec::decode(*buffer).ok())
                    throw std::logic_error("codec bench: sample does not round-trip");
            }
            return double(kBatch);
        },
        1.0, "", "", false, "encode + decode, all optional IEs and both containers (474 octets)"});

    // Discovery: what the protection of TS 33.503 6.1.3.2 costs a UE per message (two KDF calls
    // and NEA/NIA each way), against the same message open. Each opened one goes into the
    // receiver's replay cache, so the counter moves on: one second per message.
    auto material = std::make_shared<discovery::Material>();
    material->rsc = 0x00A001;
    material->valid_until = discovery::UtcTime::max();
    auto sealer = std::make_shared<discovery::Security>(std::vector{*material});
    auto opener = std::make_shared<discovery::Security>(std::vector{*material});
    auto open_only = std::make_shared<discovery::Security>();
    auto clock = std::make_shared<discovery::UtcTime>(std::chrono::seconds(1'793'491'200));
    auto run = [clock](std::shared_ptr<discovery::Security> tx,
                       std::shared_ptr<discovery::Security> rx) {
        return [tx, rx, clock]() {
            for (int i = 0; i < kBatch; ++i) {
                *clock += std::chrono::seconds(1);
                auto f = discovery::announcement(*tx, *clock, 0x50, 0x00A001, "relay-1");
                if (!f || !rx->open(f->pdu, *clock)) throw std::logic_error("discovery bench");
            }
            return double(kBatch);
        };
    };
    out.push_back(Workload{"discovery-open-announcement", "msgs/s", run(open_only, open_only), 1.0,
                           "", "", false, "open discovery: encoded and read, no protection"});
    out.push_back(Workload{"discovery-restricted-announcement", "msgs/s", run(sealer, opener), 1.0,
                           "discovery-open-announcement", "", false,
                           "MIC, ciphered and scrambled (NIA2/NEA2, two KDF calls) and opened; "
                           "ratio: the rate against open discovery"});

    // Request privacy: what concealing the request's identities costs sender and receiver per
    // request (one KDF, NEA over the identities and NIA over the request, each way), against
    // the bare encode + decode above. The receiver's counter window needs no clock here.
    auto rsc_material = std::make_shared<discovery::Material>(*material);
    rsc_material->rsc = 0xabcdef;  // the sample request's RSC
    auto holder = std::make_shared<discovery::Security>(std::vector{*rsc_material});
    out.push_back(Workload{
        "request-privacy-conceal-reveal", "msgs/s",
        [message, buffer, holder]() {
            const auto now = discovery::UtcTime(std::chrono::seconds(1'793'491'200));
            request_privacy::Nonce nonce{};
            for (int i = 0; i < kBatch; ++i) {
                nonce[0] = static_cast<std::uint8_t>(i);
                buffer->clear();
                if (!codec::encode(*message, *buffer).ok())
                    throw std::logic_error("request privacy bench: encode");
                auto air = request_privacy::conceal(*holder, *buffer, 0xabcdef, now, nonce);
                if (!air) throw std::logic_error("request privacy bench: conceal");
                auto r = request_privacy::reveal(*holder, *air, now);
                if (!r || !r->concealed || !codec::decode(r->plain).ok())
                    throw std::logic_error("request privacy bench: reveal");
            }
            return double(kBatch);
        },
        1.0, "codec-establishment-request", "", false,
        "the full request encoded, concealed (KDF, NEA2, NIA2), revealed and decoded; ratio: the "
        "rate against encode + decode alone"});
    return out;
}

}  // namespace pc5sec::bench
