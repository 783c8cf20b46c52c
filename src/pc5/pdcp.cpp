#include "pc5sec/pdcp.hpp"

#include <fmt/format.h>

#include "pc5sec/pc5.hpp"
#include "pc5sec/pc5_cause.hpp"

namespace pc5sec::pdcp {

Result<Header> peek_header(std::span<const std::uint8_t> pdu) {
    if (pdu.size() < kOverhead)
        return make_error(
            Errc::malformed, "pdcp.header",
            fmt::format("a protected PDU has at least {} octets, got {}", kOverhead, pdu.size()));
    if ((pdu[2] & 0xF0) != 0)
        return make_error(Errc::malformed, "pdcp.reserved", "reserved bits must be zero");
    Header h;
    h.knrp_sess_id = KnrpSessId{static_cast<std::uint16_t>(pdu[0] << 8 | pdu[1])};
    h.sn = static_cast<std::uint16_t>((pdu[2] & 0x0F) << 8 | pdu[3]);
    return h;
}

const char* name(Rejection r) noexcept {
    switch (r) {
        case Rejection::none:
            return "none";
        case Rejection::malformed:
            return "malformed";
        case Rejection::other_key:
            return "other-key";
        case Rejection::replay:
            return "replay";
        case Rejection::too_old:
            return "too-old";
        case Rejection::bad_mac:
            return "bad-mac";
        case Rejection::other:
            return "other";
    }
    return "?";
}

pc5::DropReason drop_reason(Rejection r) noexcept {
    switch (r) {
        case Rejection::replay:
        case Rejection::too_old:
            return pc5::DropReason::replay;
        case Rejection::bad_mac:
            return pc5::DropReason::bad_mac;
        case Rejection::other_key:
            return pc5::DropReason::unknown_session;
        default:
            return pc5::DropReason::malformed;
    }
}

Result<SecurityContext> SecurityContext::create(KnrpSessId id, CipheringAlgorithm ciphering,
                                                IntegrityAlgorithm integrity, const Nrpek* nrpek,
                                                const Nrpik* nrpik, bool initiator) {
    SecurityContext c;
    c.id_ = id;
    c.ciphering_alg_ = ciphering;
    c.integrity_alg_ = integrity;
    c.initiator_ = initiator;
    if (ciphering != CipheringAlgorithm::nea0) {
        if (!nrpek) return make_error(Errc::invalid_argument, "nrpek", "ciphering needs an NRPEK");
        auto ctx = CipheringContext::create(ciphering, *nrpek);
        if (!ctx) return ctx.error();
        c.cipher_.emplace(std::move(*ctx));
    }
    if (integrity != IntegrityAlgorithm::nia0) {
        if (!nrpik) return make_error(Errc::invalid_argument, "nrpik", "integrity needs an NRPIK");
        auto ctx = IntegrityContext::create(integrity, *nrpik);
        if (!ctx) return ctx.error();
        c.integrity_.emplace(std::move(*ctx));
    }
    return c;
}

Result<std::vector<std::uint8_t>> SecurityContext::protect(std::uint8_t bearer,
                                                           std::span<const std::uint8_t> payload,
                                                           bool cipher) {
    if (tx_next_ == UINT32_MAX)
        return make_error(Errc::state, "pdcp.count", "COUNT would wrap: re-key the link first");
    const std::uint32_t count = tx_next_;
    const SecurityInput in{count, bearer, static_cast<std::uint8_t>(initiator_ ? 0 : 1)};
    PC5SEC_TRY(validate(in));
    std::vector<std::uint8_t> pdu;
    pdu.reserve(kOverhead + payload.size());
    pdu.push_back(static_cast<std::uint8_t>(id_.value >> 8));
    pdu.push_back(static_cast<std::uint8_t>(id_.value));
    pdu.push_back(static_cast<std::uint8_t>(count >> 8 & 0x0F));
    pdu.push_back(static_cast<std::uint8_t>(count));
    pdu.insert(pdu.end(), payload.begin(), payload.end());
    MacI mac{};
    if (integrity_) {  // TS 38.323 5.9: MAC-I over the header and the payload
        auto m = integrity_->compute(in, pdu, pdu.size() * 8);
        if (!m) return m.error();
        mac = *m;
    }
    pdu.insert(pdu.end(), mac.begin(), mac.end());
    if (cipher && cipher_) {  // TS 38.323 5.8: payload and MAC-I are ciphered, the header not
        auto body = std::span(pdu).subspan(kHeaderSize);
        PC5SEC_TRY(cipher_->apply(in, body, body, body.size() * 8));
    }
    ++tx_next_;
    return pdu;
}

Result<std::vector<std::uint8_t>> SecurityContext::unprotect(std::uint8_t bearer,
                                                             std::span<const std::uint8_t> pdu,
                                                             bool cipher) {
    auto refuse = [&](Rejection why, Error e) -> Result<std::vector<std::uint8_t>> {
        rejection_ = why;
        return e;
    };
    auto header = peek_header(pdu);
    if (!header) return refuse(Rejection::malformed, header.error());
    if (header->knrp_sess_id != id_)
        return refuse(Rejection::other_key,
                      Error{Errc::verification_failed, "pdcp.knrp_sess_id",
                            fmt::format("KNRP-sess ID {:04x} is not this link's {:04x}",
                                        header->knrp_sess_id.value, id_.value),
                            std::nullopt});
    const std::uint32_t count = receive_count(rx_deliv_, header->sn);
    // Replay protection (TS 33.536 5.3.3.1.4, TS 38.323 5.2.2.2).
    if (const auto seen = window_.check(count); seen != CountCheck::fresh)
        return refuse(seen == CountCheck::replay ? Rejection::replay : Rejection::too_old,
                      Error{Errc::verification_failed, "pdcp.count",
                            seen == CountCheck::replay
                                ? fmt::format("COUNT {} was already received", count)
                                : fmt::format("COUNT {} is below the replay window", count),
                            std::nullopt});
    const SecurityInput in{count, bearer, static_cast<std::uint8_t>(initiator_ ? 1 : 0)};
    if (auto st = validate(in); !st) return refuse(Rejection::other, st.error());
    std::vector<std::uint8_t> plain(pdu.begin(), pdu.end());
    if (cipher && cipher_) {
        auto body = std::span(plain).subspan(kHeaderSize);
        if (auto st = cipher_->apply(in, body, body, body.size() * 8); !st)
            return refuse(Rejection::other, st.error());
    }
    MacI mac{};
    std::copy(plain.end() - kMacSize, plain.end(), mac.begin());
    plain.erase(plain.end() - kMacSize, plain.end());  // peek_header: the PDU holds a MAC-I
    if (integrity_) {
        auto ok = integrity_->verify(in, plain, plain.size() * 8, mac);
        if (!ok)
            return refuse(Rejection::bad_mac, Error{Errc::verification_failed, "MAC-I",
                                                    "integrity check failed (TS 33.536 5.3.3.1.4)",
                                                    cause::kIntegrityFailure});
    } else if (mac != MacI{}) {  // NIA0: the MAC-I is 32 zero bits (TS 33.501 D.1)
        return refuse(Rejection::bad_mac,
                      Error{Errc::verification_failed, "MAC-I", "NIA0 MAC-I must be zero",
                            cause::kIntegrityFailure});
    }
    window_.accept(count);
    if (count >= rx_deliv_ && count != kMaxCount) rx_deliv_ = count + 1;
    plain.erase(plain.begin(), plain.begin() + kHeaderSize);
    rejection_ = Rejection::none;
    return plain;
}

}  // namespace pc5sec::pdcp
