// libFuzzer target for the PC5 signalling decoder and the two containers. Whatever decodes must
// re-encode, and the re-encoding must decode to the same message; JSON and text output must not
// crash. Corpus: fuzz/corpus/decode/ (one file per message type, written by sample_messages).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pc5sec/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pc5sec::codec;
    const std::span<const std::uint8_t> in(data, size);
    auto m = decode(in);
    if (m.ok()) {
        (void)to_json(*m, in);
        (void)to_text(*m);
        auto bytes = encode(*m);
        if (!bytes.ok()) std::abort();  // a decoded message is always valid
        auto back = decode(*bytes);
        if (!back.ok() || !(*back == *m)) std::abort();
    } else if (m.error().field.empty()) {
        std::abort();  // every error names its field
    }
    if (size > 0) {
        (void)decode_key_est_info(in.subspan(1));
        (void)decode_authentication_info(in.subspan(1));
    }
    return 0;
}
