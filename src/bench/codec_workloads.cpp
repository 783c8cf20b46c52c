// Benchmark workloads of codec/: encode plus decode of a full PROSE DIRECT LINK ESTABLISHMENT
// REQUEST (every optional IE, both containers), in messages per second; and a relay discovery
// announcement sealed and opened, restricted (docs/discovery.md) against open.
#include <memory>
#include <stdexcept>

#include "bench/registry.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"

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
    return out;
}

}  // namespace pc5sec::bench
