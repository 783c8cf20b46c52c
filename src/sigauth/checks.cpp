// Seed 001 step 0 and the checks every step makes on an Authentication_Info: the signer's key
// (literal) or certificate (hardened), its signature, and (hardened) its freshness.
#include <algorithm>

#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

Refusal refuse(Cause c, std::string reason) {
    return Refusal{c, std::move(reason)};
}
Refusal refuse(const Error& e, Cause fallback, std::string_view what) {
    const Cause c = e.pc5_cause ? static_cast<Cause>(*e.pc5_cause) : fallback;
    return Refusal{c, fmt::format("{}: {}", what, e.describe())};
}

const PrivateKey& Engine::Impl::key() const {
    return cfg.credentials ? cfg.credentials->key() : *cfg.key;
}
const creds::Certificate& Engine::Impl::certificate() const {
    return cfg.credentials ? cfg.credentials->certificate() : *cfg.certificate;
}
const creds::TrustStore& Engine::Impl::trust() const {
    return cfg.credentials ? cfg.credentials->trust() : *cfg.trust;
}

// Seed 001 step 0 (FFS there, answered as solution A does): this UE's certificate must be valid
// now before it signs; renewed in coverage, else refused with #6 (nothing is sent).
bool Engine::Impl::step0(Time now, Refusal& why) {
    if (!cfg.credentials) return true;
    if (auto st = cfg.credentials->ensure_fresh(wall(now), cfg.in_coverage); !st) {
        why = refuse(st.error(), Cause::authentication_failure, "own credentials (step 0)");
        return false;
    }
    if (!self || self->serial_hex != certificate().serial_hex())
        self = creds::own_view(certificate());
    return true;
}

std::optional<creds::VerifiedPeer> Engine::Impl::verify_certificate(const creds::Certificate& cert,
                                                                    Time now, Refusal& why,
                                                                    std::string_view who) {
    const auto misses = cfg.cache ? cfg.cache->misses() : 0;
    auto r =
        cfg.cache ? cfg.cache->verify(trust(), cert, wall(now)) : trust().verify(cert, wall(now));
    if (!cfg.cache || cfg.cache->misses() != misses) counters.crypto.cert_verify++;
    if (!r) {
        why = refuse(r.error(), Cause::authentication_failure, fmt::format("{} certificate", who));
        return std::nullopt;
    }
    return std::move(*r);
}

// Static public keys, parsed and validated once (a P-256 point check costs about as much as a
// verification; a relay meets the same UEs again and again). Only keys that parsed are kept;
// the cache is emptied when full.
Result<PublicKey> Engine::Impl::parse_public_key(KeyType type,
                                                 std::span<const std::uint8_t> bytes) {
    std::vector<std::uint8_t> k;
    k.reserve(bytes.size() + 1);
    k.push_back(static_cast<std::uint8_t>(type));
    k.insert(k.end(), bytes.begin(), bytes.end());
    if (auto it = key_cache.find(k); it != key_cache.end()) return it->second;
    auto parsed = PublicKey::from_encoded(type, bytes);
    if (!parsed) return parsed;
    if (key_cache.size() >= kKeyCacheSize) key_cache.clear();
    key_cache.emplace(std::move(k), *parsed);
    return parsed;
}

// Certificates, parsed once (the DER parse and its strict checks cost about as much as the
// chain check itself). Parsing is not trusting: every use still goes through the trust store at
// the time of use (or the VerificationCache, when the driver gave one).
Result<creds::Certificate> Engine::Impl::parse_certificate(std::span<const std::uint8_t> der,
                                                           std::string_view who) {
    std::vector<std::uint8_t> k(der.begin(), der.end());
    if (auto it = cert_cache.find(k); it != cert_cache.end()) return it->second;
    auto cert = creds::Certificate::from_der(der, who);
    if (!cert) return cert;
    if (cert_cache.size() >= kKeyCacheSize) cert_cache.clear();
    cert_cache.emplace(std::move(k), *cert);
    return cert;
}

// The checks common to every Authentication_Info: the key it carries (literal) or the
// certificate that binds the key to the User Info ID (hardened).
std::optional<CheckedSigner> Engine::Impl::check_info(const codec::AuthenticationInfo& info,
                                                      Time now, Refusal& why,
                                                      std::string_view who) {
    const auto type = key_type_of(info.signature_algorithm);
    if (!type) {
        why = refuse(Cause::authentication_failure, fmt::format("{}: signature algorithm", who));
        return std::nullopt;
    }
    if (cfg.mode == Mode::literal) {
        // Seed 001 steps 1/3/5/7: Authentication_Info carries the signer's public key.
        if (!info.public_key) {
            why = refuse(Cause::authentication_failure,
                         fmt::format("{}: literal mode needs a public key (seed 001 step 1)", who));
            return std::nullopt;
        }
        auto parsed = parse_public_key(*type, info.public_key->bytes);
        if (!parsed) {
            why = refuse(parsed.error(), Cause::authentication_failure,
                         fmt::format("{} public key", who));
            return std::nullopt;
        }
        return CheckedSigner{std::move(*parsed), std::nullopt};
    }
    // Hardened: a certificate from our trust anchor, valid now and not revoked, whose subject
    // is the User Info ID the signer claims.
    if (!info.certificate) {
        why = refuse(Cause::authentication_failure,
                     fmt::format("{}: hardened mode needs a certificate", who));
        return std::nullopt;
    }
    auto cert = parse_certificate(info.certificate->bytes, who);
    if (!cert) {
        why =
            refuse(cert.error(), Cause::authentication_failure, fmt::format("{} certificate", who));
        return std::nullopt;
    }
    auto peer = verify_certificate(*cert, now, why, who);
    if (!peer) return std::nullopt;
    if (peer->user_info_id != as_string(info.user_info_id)) {
        why = refuse(Cause::authentication_failure,
                     fmt::format("{}: User Info ID '{}' is not the certificate subject '{}'", who,
                                 as_string(info.user_info_id), peer->user_info_id));
        return std::nullopt;
    }
    if (peer->public_key.type() != *type) {
        why = refuse(Cause::authentication_failure,
                     fmt::format("{}: signature algorithm does not match the certified key", who));
        return std::nullopt;
    }
    PublicKey certified = peer->public_key;
    return CheckedSigner{std::move(certified), std::move(peer)};
}

bool Engine::Impl::check_signature(const PublicKey& signer, std::span<const std::uint8_t> tbs,
                                   const codec::Octets& sig, Refusal& why, std::string_view which) {
    counters.crypto.verify++;
    if (!verify(signer, tbs, sig.bytes)) {
        why = refuse(Cause::authentication_failure, fmt::format("{} does not verify", which));
        return false;
    }
    return true;
}

bool Engine::Impl::check_signed_by(const PublicKey& signer, const Signed& s, wire::Signer who,
                                   Refusal& why, std::string_view which) {
    const bool relay = who == wire::Signer::relay;
    const auto tbs =
        wire::to_be_signed(cfg.mode, s.type, who, s.body, s.end_ue, s.context,
                           relay ? std::span<const std::uint8_t>(s.end_ue.signature.bytes)
                                 : std::span<const std::uint8_t>{},
                           relay ? s.relay : nullptr);
    const auto& sig = relay ? s.relay->signature : s.end_ue.signature;
    return check_signature(signer, tbs, sig, why, which);
}

// Hardened freshness (Config::freshness_window): the signer's clock within the window of ours.
// Refused as stale (#6) however long ago a replayed request was recorded.
bool Engine::Impl::check_fresh(const codec::AuthenticationInfo& info, Time now, Refusal& why,
                               std::string_view who) const {
    if (!info.signing_time) {
        why = refuse(Cause::authentication_failure,
                     fmt::format("{}: hardened Authentication_Info without signing_time", who));
        return false;
    }
    const auto ours = static_cast<std::int64_t>(wall_ms(now));
    const auto theirs = static_cast<std::int64_t>(
        std::min<std::uint64_t>(*info.signing_time, std::uint64_t{1} << 62));
    const auto window =
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg.freshness_window).count();
    if (theirs < ours - window) {
        why = refuse(Cause::authentication_failure,
                     fmt::format("{}: stale, signed {} s before this UE's clock (freshness window "
                                 "{} s)",
                                 who, (ours - theirs) / 1000, window / 1000));
        return false;
    }
    if (theirs > ours + window) {
        why = refuse(Cause::authentication_failure,
                     fmt::format("{}: signed {} s after this UE's clock, in the future (freshness "
                                 "window {} s)",
                                 who, (theirs - ours) / 1000, window / 1000));
        return false;
    }
    return true;
}

// Our own Authentication_Info without its signature (hardened: with our clock): the storage it
// points into lives in `cfg` or the credential manager.
codec::AuthenticationInfo Engine::Impl::own_info(Time now) const {
    codec::AuthenticationInfo info;
    info.user_info_id = octets(cfg.user_info);
    if (cfg.mode == Mode::literal) {
        info.public_key = octets(key().public_key().encoded());
    } else {
        info.certificate = octets(certificate().der());
        info.signing_time = wall_ms(now);
    }
    info.signature_algorithm = signature_algorithm_of(key().type());
    return info;
}

std::optional<std::vector<std::uint8_t>> Engine::Impl::sign_tbs(std::span<const std::uint8_t> tbs) {
    counters.crypto.sign++;
    auto s = sign(key(), tbs);
    if (!s) return std::nullopt;
    return std::move(*s);
}

}  // namespace pc5sec::sigauth
