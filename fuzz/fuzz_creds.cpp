// libFuzzer target for the credentials parsers: the ProSe authorisation extension's strict DER
// decoder (whatever decodes must re-encode to the same octets: DER is canonical), certificates
// from DER, and policy.toml. Every error must name its field. Corpus: fuzz/corpus/creds/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pc5sec/creds.hpp"
#include "pc5sec/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pc5sec;
    const std::span<const std::uint8_t> in(data, size);
    auto a = creds::decode_authorisation(in, "ext");
    if (a.ok()) {
        const auto again = creds::encode_authorisation(*a);
        if (again.size() != size || !std::equal(again.begin(), again.end(), in.begin()))
            std::abort();  // accepted a non-canonical encoding
    } else if (a.error().field.empty()) {
        std::abort();
    }
    auto c = creds::Certificate::from_der(in, "fuzz.der");
    if (c.ok()) {
        (void)c->to_pem();
        (void)creds::to_string(c->authorisation());
    } else if (c.error().field.empty()) {
        std::abort();
    }
    auto p =
        PolicyFile::parse(std::string_view(reinterpret_cast<const char*>(data), size), "p.toml");
    if (p.ok()) {
        auto back = PolicyFile::parse(p->to_toml(true), "p.toml");
        if (!back.ok() || back->signalling != p->signalling || back->user_plane != p->user_plane ||
            back->ciphering != p->ciphering || back->integrity != p->integrity ||
            back->group_keys.size() != p->group_keys.size())
            std::abort();  // what we write we read back
    } else if (p.error().field.empty()) {
        std::abort();
    }
    return 0;
}
