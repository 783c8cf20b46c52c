// What each solution-B signature covers (docs/solution-b.md "Signed data"). One function builds
// every to-be-signed string, so the signer and every verifier cannot disagree.
#include <openssl/evp.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/cursor.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/sigauth.hpp"

namespace pc5sec::sigauth {

const char* name(Mode m) noexcept {
    return m == Mode::literal ? "literal" : "hardened";
}

Result<Mode> mode_from_name(std::string_view text, std::string_view field) {
    if (text == "literal") return Mode::literal;
    if (text == "hardened") return Mode::hardened;
    return make_error(Errc::invalid_argument, std::string(field),
                      "unknown mode '" + std::string(text) + "' (literal or hardened)");
}

pc5::Solution solution_of(Mode m) noexcept {
    return m == Mode::literal ? pc5::Solution::b_literal : pc5::Solution::b_hardened;
}

namespace wire {
namespace {

constexpr std::string_view kHardenedLabel = "pc5sec/sigauth/hardened/v1";

void put_lv(Writer& w, std::span<const std::uint8_t> v) {
    // Every field here is far below 4 GiB; 4-octet lengths keep the encoding injective.
    w.u32(static_cast<std::uint32_t>(v.size()));
    w.bytes(v);
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void put_item(Writer& w, codec::AuthInfoTag tag, std::span<const std::uint8_t> v) {
    w.u8(static_cast<std::uint8_t>(tag));
    w.u16(static_cast<std::uint16_t>(v.size()));
    w.bytes(v);
}

}  // namespace

Result<std::vector<std::uint8_t>> body(const codec::DirectLinkEstablishmentRequest& m) {
    codec::DirectLinkEstablishmentRequest copy = m;
    copy.authentication_info.reset();
    copy.relay_authentication_info.reset();
    return codec::encode(copy);
}

Result<std::vector<std::uint8_t>> body(const codec::DirectLinkEstablishmentAccept& m) {
    codec::DirectLinkEstablishmentAccept copy = m;
    copy.authentication_info.reset();
    copy.relay_authentication_info.reset();
    return codec::encode(copy);
}

std::vector<std::uint8_t> unsigned_info(const codec::AuthenticationInfo& info) {
    using T = codec::AuthInfoTag;
    std::vector<std::uint8_t> out;
    Writer w(out);
    w.u8(info.version);
    put_item(w, T::user_info_id, info.user_info_id.bytes);
    if (info.public_key) put_item(w, T::public_key, info.public_key->bytes);
    if (info.certificate) put_item(w, T::certificate, info.certificate->bytes);
    const auto alg = static_cast<std::uint8_t>(info.signature_algorithm);
    put_item(w, T::signature_algorithm, std::span<const std::uint8_t>(&alg, 1));
    if (info.nonce) put_item(w, T::nonce, *info.nonce);
    if (info.ephemeral_public_key)
        put_item(w, T::ephemeral_public_key, info.ephemeral_public_key->bytes);
    if (info.selected_algorithms) {
        const auto algs = static_cast<std::uint8_t>(info.selected_algorithms->ciphering << 4 |
                                                    info.selected_algorithms->integrity);
        put_item(w, T::selected_algorithms, std::span<const std::uint8_t>(&algs, 1));
    }
    if (info.signing_time) {
        const auto t = codec::signing_time_octets(*info.signing_time);
        put_item(w, T::signing_time, t);
    }
    return out;
}

std::vector<std::uint8_t> to_be_signed(Mode mode, codec::MessageType type, Signer signer,
                                       std::span<const std::uint8_t> body,
                                       const codec::AuthenticationInfo& end_ue_info,
                                       const HardenedContext* context,
                                       std::span<const std::uint8_t> end_ue_signature,
                                       const codec::AuthenticationInfo* relay_info) {
    std::vector<std::uint8_t> out;
    Writer w(out);
    if (mode == Mode::literal || context == nullptr) {
        // Seed 001 steps 1/5: "a signature of the Authentication Request (Response) message";
        // steps 2/6: the relay signs that message "and the User Info ID of relay UE".
        w.bytes(body);
        w.bytes(unsigned_info(end_ue_info));
        if (signer == Signer::relay && relay_info) w.bytes(unsigned_info(*relay_info));
        return out;
    }
    // Hardened: a label and the message type (no signature can be moved to another message or
    // protocol), the signer's role, the three identities, the RSC, both nonces and, in the
    // accept, the digest of the request it answers.
    w.bytes(as_bytes(kHardenedLabel));
    w.u8(static_cast<std::uint8_t>(type));
    w.u8(static_cast<std::uint8_t>(signer));
    put_lv(w, as_bytes(context->source));
    put_lv(w, as_bytes(context->target));
    put_lv(w, as_bytes(context->relay));
    w.u24(context->rsc);
    w.bytes(context->nonce_1);
    if (context->nonce_2) {
        w.u8(1);
        w.bytes(*context->nonce_2);
        w.bytes(context->request_digest);
    } else {
        w.u8(0);
    }
    put_lv(w, body);
    put_lv(w, unsigned_info(end_ue_info));
    if (signer == Signer::relay) {
        put_lv(w, end_ue_signature);
        const auto relay = relay_info ? unsigned_info(*relay_info) : std::vector<std::uint8_t>{};
        put_lv(w, relay);
    }
    return out;
}

std::array<std::uint8_t, 32> request_digest(std::span<const std::uint8_t> request_body,
                                            const codec::AuthenticationInfo& source_info) {
    std::vector<std::uint8_t> data;
    Writer w(data);
    put_lv(w, request_body);
    put_lv(w, unsigned_info(source_info));
    put_lv(w, source_info.signature.bytes);
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
        throw CryptoLibraryError("EVP_Digest(SHA-256) failed");
    return out;
}

}  // namespace wire
}  // namespace pc5sec::sigauth
