// libFuzzer target for protected UE-to-UE relay discovery (pc5sec/discovery.hpp): any octets on
// LCID 58 go to a UE that holds material for two RSCs and to one that holds none. Nothing may
// crash; what opens must carry one of the RSCs, re-seal (open discovery) or come from the
// material (restricted), and every refusal names its field. Hostile frames never open as
// restricted: forging a MIC under unknown keys is what the fuzzer would have to do.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "discovery_material.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"

namespace {
using namespace pc5sec;
using fuzz::kNow;
using fuzz::material;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    discovery::Security holder({material(0x00A001, 1), material(0x00B002, 7)});
    discovery::Security none;
    for (auto* s : {&holder, &none}) {
        auto o = s->open(in, kNow);
        if (!o) {
            if (o.error().field.empty()) std::abort();  // every refusal names its field
            continue;
        }
        if (o->restricted) std::abort();  // no MIC can be forged by chance here
        auto m = o->message();
        if (!m) std::abort();  // what opens decodes
        if (discovery::rsc_of(*m) != o->rsc) std::abort();
        if (s == &holder && (o->rsc == 0x00A001 || o->rsc == 0x00B002))
            std::abort();  // open discovery for a protected RSC is refused
        auto again = s->seal(*m, o->rsc, kNow);
        if (!again) std::abort();
    }
    return 0;
}
