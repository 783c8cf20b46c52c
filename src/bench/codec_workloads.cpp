// Benchmark workloads of codec/: encode plus decode of a full PROSE DIRECT LINK ESTABLISHMENT
// REQUEST (every optional IE, both containers), in messages per second.
#include <memory>
#include <stdexcept>

#include "bench/registry.hpp"
#include "pc5sec/codec.hpp"

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
    return out;
}

}  // namespace pc5sec::bench
