// libFuzzer target for the UDP frame decoder of the UDP driver (src/net/frame.cpp, docs/udp.md):
// arbitrary datagrams as a UE's socket receives them.
// Invariants: never a crash or a leak; a refused datagram names a "udp.*" field and says why; an
// accepted one has a 24-bit source that is not the broadcast ID, an LCID of 6 bits and a PDU of
// 1..kMaxPdu octets, and encodes back to exactly the same octets.
// Corpus: fuzz/corpus/udp_frame/ (genuine PC5 frames of every message type and data PDUs in UDP
// frames, and one datagram for each reject path).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "pc5sec/net.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pc5sec;
    const std::span<const std::uint8_t> in(data, size);
    auto v = net::decode_frame(in);
    if (!v) {
        if (v.error().field.rfind("udp.", 0) != 0 || v.error().message.empty()) std::abort();
        return 0;
    }
    if (v->src > pc5::kMaxL2Id || v->src == pc5::kBroadcastL2Id || v->dst > pc5::kMaxL2Id ||
        v->lcid > 63 || v->pdu.empty() || v->pdu.size() > net::kMaxPdu)
        std::abort();
    auto back = net::encode_frame(v->to_frame());
    if (!back || back->size() != size || !std::equal(back->begin(), back->end(), data))
        std::abort();
    return 0;
}
