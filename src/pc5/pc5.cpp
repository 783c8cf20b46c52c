#include "pc5sec/pc5.hpp"

#include <fmt/format.h>

namespace pc5sec::pc5 {

const char* name(Solution s) noexcept {
    switch (s) {
        case Solution::a:
            return "A";
        case Solution::b_literal:
            return "B-literal";
        case Solution::b_hardened:
            return "B-hardened";
    }
    return "unknown";
}

const char* name(Path p) noexcept {
    switch (p) {
        case Path::direct:
            return "direct";
        case Path::l2:
            return "l2";
        case Path::l3:
            return "l3";
    }
    return "unknown";
}

const char* name(LinkKind k) noexcept {
    return k == LinkKind::hop ? "hop" : "e2e";
}

const char* name(DropReason r) noexcept {
    switch (r) {
        case DropReason::malformed:
            return "malformed";
        case DropReason::bad_mac:
            return "bad-mac";
        case DropReason::replay:
            return "replay";
        case DropReason::unknown_session:
            return "unknown-session";
        case DropReason::unexpected:
            return "unexpected";
        case DropReason::not_for_us:
            return "not-for-us";
        case DropReason::duplicate:
            return "duplicate";
    }
    return "unknown";
}

std::string make_link_id(std::string_view initiator, std::string_view peer, std::uint32_t tag) {
    return fmt::format("{}>{}#{:08x}", initiator, peer, tag);
}

CryptoOps& CryptoOps::operator+=(const CryptoOps& o) {
    sign += o.sign;
    verify += o.verify;
    cert_verify += o.cert_verify;
    key_agreement += o.key_agreement;
    keygen += o.keygen;
    kdf += o.kdf;
    return *this;
}

std::uint64_t Counters::drops_total() const noexcept {
    std::uint64_t total = 0;
    for (auto d : drops)
        total += d;
    return total;
}

}  // namespace pc5sec::pc5
