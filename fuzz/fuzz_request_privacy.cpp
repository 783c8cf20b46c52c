// libFuzzer target for the establishment request's identity protection
// (pc5sec/request_privacy.hpp): any octets on SL-SRB0 go to a UE that holds material for two RSCs
// and to one that holds none. Nothing may crash; every refusal names its field; what opens as
// concealed is the request without its identity_protection IE, shorter by exactly that IE, and
// opens the same way twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "discovery_material.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/request_privacy.hpp"

namespace {
using namespace pc5sec;
using fuzz::kNow;
using fuzz::material;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    static const discovery::Security holder({material(0x00A001, 1), material(0x00B002, 7)});
    static const discovery::Security none;
    for (const auto* s : {&holder, &none}) {
        for (bool window : {true, false}) {
            auto r = request_privacy::reveal(*s, in, kNow, window);
            if (!r) {
                if (r.error().field.empty()) std::abort();  // every refusal names its field
                continue;
            }
            if (!r->concealed) {
                if (!r->plain.empty()) std::abort();  // in clear: the octets received stand
                continue;
            }
            if (s == &none) std::abort();  // nothing opens without material
            if (r->plain.size() + 2 + request_privacy::kValueSize != in.size()) std::abort();
            auto again = request_privacy::reveal(*s, in, kNow, window);
            if (!again || again->plain != r->plain) std::abort();
            (void)codec::decode(r->plain);
        }
        (void)request_privacy::concealed(in);
        (void)request_privacy::rsc_named(in);
    }
    return 0;
}
