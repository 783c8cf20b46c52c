// Verification against the trust anchor, the verification cache, the authorisation decisions
// and a UE's own bundle.
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include <fmt/format.h>

#include "ossl.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/pc5_cause.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::creds {

namespace {

Error auth_failure(std::string field, std::string message) {
    return make_error(Errc::verification_failed, std::move(field), std::move(message),
                      cause::kAuthenticationFailure);
}

std::time_t to_time_t(TimePoint t) {
    return static_cast<std::time_t>(to_unix_seconds(t));
}

}  // namespace

// ---- TrustStore ----

Result<TrustStore> TrustStore::create(Certificate anchor) {
    X509* a = anchor.x509();
    // The anchor must be a CA certificate that signs itself.
    if (X509_check_ca(a) == 0)
        return make_error(Errc::invalid_argument, detail::at(anchor.source(), "basicConstraints"),
                          "the trust anchor is not a CA certificate");
    EVP_PKEY* pub = X509_get0_pubkey(a);
    if (pub == nullptr || X509_verify(a, pub) != 1) {
        ERR_clear_error();
        return make_error(Errc::verification_failed, detail::at(anchor.source(), "signature"),
                          "the trust anchor's self-signature does not verify");
    }
    X509_STORE* store = X509_STORE_new();
    if (!store) throw CryptoLibraryError("X509_STORE_new failed");
    std::shared_ptr<void> owned(store,
                                [](void* p) { X509_STORE_free(static_cast<X509_STORE*>(p)); });
    if (X509_STORE_add_cert(store, a) != 1) throw CryptoLibraryError("X509_STORE_add_cert failed");
    TrustStore t(std::move(anchor));
    t.store_ = std::move(owned);
    return t;
}

Status TrustStore::set_revocation_list(RevocationList crl) {
    X509_CRL* c = crl.crl();
    if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_subject_name(anchor_.x509())) != 0)
        return make_error(
            Errc::verification_failed, detail::at(crl.source(), "issuer"),
            fmt::format("the revocation list was not issued by the trust anchor '{}' ({})",
                        anchor_.subject(), anchor_.source()));
    if (X509_CRL_verify(c, X509_get0_pubkey(anchor_.x509())) != 1) {
        ERR_clear_error();
        return make_error(Errc::verification_failed, detail::at(crl.source(), "signature"),
                          "the revocation list's signature does not verify under the trust anchor");
    }
    if (crl_ && crl.number() < crl_->number())
        return make_error(Errc::verification_failed, detail::at(crl.source(), "crlNumber"),
                          fmt::format("revocation list number {} is older than the loaded one ({})",
                                      crl.number(), crl_->number()));
    crl_ = std::move(crl);
    return {};
}

Result<VerifiedPeer> TrustStore::verify(const Certificate& cert, TimePoint now) const {
    const std::string& src = cert.source();
    std::unique_ptr<X509_STORE_CTX, detail::Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
        X509_STORE_CTX_new());
    if (!ctx) throw CryptoLibraryError("X509_STORE_CTX_new failed");
    if (X509_STORE_CTX_init(ctx.get(), static_cast<X509_STORE*>(store_.get()), cert.x509(),
                            nullptr) != 1)
        throw CryptoLibraryError("X509_STORE_CTX_init failed");
    X509_STORE_CTX_set_time(ctx.get(), 0, to_time_t(now));
    const int ok = X509_verify_cert(ctx.get());
    ERR_clear_error();
    if (ok != 1) {
        const int err = X509_STORE_CTX_get_error(ctx.get());
        const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
        // depth > 0: the problem is the anchor itself (for example the CA has expired).
        const std::string& at_src = depth > 0 ? anchor_.source() : src;
        const Certificate& subject = depth > 0 ? anchor_ : cert;
        switch (err) {
            case X509_V_ERR_CERT_HAS_EXPIRED:
                return auth_failure(detail::at(at_src, "notAfter"),
                                    fmt::format("certificate of '{}' expired at {}; checked at {}",
                                                subject.subject(), format_time(subject.not_after()),
                                                format_time(now)));
            case X509_V_ERR_CERT_NOT_YET_VALID:
                return auth_failure(
                    detail::at(at_src, "notBefore"),
                    fmt::format("certificate of '{}' is not valid before {}; checked at {}",
                                subject.subject(), format_time(subject.not_before()),
                                format_time(now)));
            case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
            case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
            case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            case X509_V_ERR_CERT_UNTRUSTED:
                return auth_failure(
                    detail::at(at_src, "issuer"),
                    fmt::format("certificate of '{}' was not issued by the trust anchor "
                                "'{}' ({})",
                                subject.subject(), anchor_.subject(), anchor_.source()));
            case X509_V_ERR_CERT_SIGNATURE_FAILURE:
            case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
                return auth_failure(
                    detail::at(at_src, "signature"),
                    fmt::format("the signature of the certificate of '{}' does not "
                                "verify under the trust anchor's key (tampered or forged)",
                                subject.subject()));
            default:
                return auth_failure(detail::at(at_src, "certificate"),
                                    fmt::format("chain verification failed: {}",
                                                X509_verify_cert_error_string(err)));
        }
    }
    if (crl_ && crl_->is_revoked(cert))
        return auth_failure(
            detail::at(src, "serialNumber"),
            fmt::format("certificate of '{}' (serial {}) is revoked by {} (number {})",
                        cert.subject(), cert.serial_hex(), crl_->source(), crl_->number()));
    // A UE certificate is an end-entity certificate that may sign (the handshake signatures).
    if (X509_check_ca(cert.x509()) != 0)
        return auth_failure(detail::at(src, "basicConstraints"),
                            "a CA certificate is not a UE certificate");
    if ((X509_get_extension_flags(cert.x509()) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(cert.x509()) & KU_DIGITAL_SIGNATURE) == 0)
        return auth_failure(detail::at(src, "keyUsage"), "digitalSignature is not allowed");
    if (cert.subject().empty())
        return auth_failure(detail::at(src, "subject"), "the certificate has no CN (user info ID)");
    if (!cert.has_authorisation())
        return auth_failure(
            detail::at(src, fmt::format("prose-authorisation ({})", kProSeAuthorisationOid)),
            "the certificate carries no ProSe authorisation extension");
    return VerifiedPeer{cert.subject(),    cert.authorisation(), cert.public_key(),
                        cert.not_before(), cert.not_after(),     cert.serial_hex()};
}

// ---- VerificationCache ----

std::size_t VerificationCache::DigestHash::operator()(
    const std::array<std::uint8_t, 32>& d) const noexcept {
    return detail::digest_hash(d);
}

Result<VerifiedPeer> VerificationCache::verify(const TrustStore& store, const Certificate& cert,
                                               TimePoint now) {
    const auto secs = from_unix_seconds(to_unix_seconds(now));  // X.509 resolution
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(cert.digest());
        if (it != entries_.end()) {
            const Entry& e = it->second;
            if (e.anchor == store.anchor().digest() &&
                e.revocation_version == store.revocation_version() && secs >= e.peer.not_before &&
                secs <= e.peer.not_after) {
                ++hits_;
                return e.peer;
            }
            entries_.erase(it);  // stale: verify again below
        }
        ++misses_;
    }
    const auto version = store.revocation_version();  // the list this verification uses
    auto result = store.verify(cert, now);
    if (!result) return result;  // failures are never cached
    std::lock_guard lock(mutex_);
    if (entries_.size() >= capacity_) {
        for (auto it = entries_.begin(); it != entries_.end();)
            it = secs > it->second.peer.not_after ? entries_.erase(it) : std::next(it);
        if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
    }
    entries_.insert_or_assign(cert.digest(), Entry{*result, version, store.anchor().digest()});
    return result;
}

std::size_t VerificationCache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}
std::uint64_t VerificationCache::hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
}
std::uint64_t VerificationCache::misses() const {
    std::lock_guard lock(mutex_);
    return misses_;
}
void VerificationCache::clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
}

// ---- authorisation decisions ----

namespace {

std::string rsc_text(Rsc rsc) {
    return fmt::format("0x{:06x}", rsc);
}

Status need_role(const VerifiedPeer& p, Role role, std::string_view source,
                 std::uint8_t cause_value, std::string_view why) {
    if (p.authorisation.has_role(role)) return {};
    return make_error(
        Errc::policy, detail::at(source, "prose-authorisation.roles"),
        fmt::format("'{}' does not hold the role {} {}", p.user_info_id, name(role), why),
        cause_value);
}

Status need_rsc(const VerifiedPeer& p, Rsc rsc, std::string_view source, std::string_view verb) {
    if (p.authorisation.has_rsc(rsc)) return {};
    return make_error(Errc::policy, detail::at(source, "prose-authorisation.rscs"),
                      fmt::format("'{}' is not authorised to {} relay service code {}",
                                  p.user_info_id, verb, rsc_text(rsc)),
                      cause::kRequiredServiceNotAllowed);
}

}  // namespace

VerifiedPeer own_view(const Certificate& own) {
    return VerifiedPeer{own.subject(),    own.authorisation(), own.public_key(),
                        own.not_before(), own.not_after(),     own.serial_hex()};
}

Status may_act_as_relay(const VerifiedPeer& relay, Rsc rsc, std::string_view source) {
    PC5SEC_TRY(need_role(relay, Role::u2u_relay, source, cause::kRequiredServiceNotAllowed,
                         "needed to act as a UE-to-UE relay"));
    return need_rsc(relay, rsc, source, "serve");
}

Status may_use_relay(const VerifiedPeer& end_ue, const VerifiedPeer& relay, Rsc rsc,
                     std::string_view end_ue_source, std::string_view relay_source) {
    PC5SEC_TRY(need_role(end_ue, Role::end_ue, end_ue_source, cause::kRequiredServiceNotAllowed,
                         "needed to use a UE-to-UE relay"));
    PC5SEC_TRY(need_rsc(end_ue, rsc, end_ue_source, "use"));
    return may_act_as_relay(relay, rsc, relay_source);
}

Status may_be_peer(const VerifiedPeer& peer, std::string_view source) {
    return need_role(peer, Role::end_ue, source, cause::kDirectCommunicationToTargetUeNotAllowed,
                     "needed to be the peer of a direct or end-to-end link");
}

Status check_target_user_info(const VerifiedPeer& peer, std::string_view target_user_info,
                              std::string_view source) {
    if (peer.user_info_id == target_user_info) return {};
    return make_error(
        Errc::verification_failed, detail::at(source, "subject"),
        fmt::format("the target user info is '{}' but the certificate's subject is '{}'",
                    target_user_info, peer.user_info_id),
        cause::kAuthenticationFailure);
}

// ---- Bundle ----

Status check_key_matches(const PrivateKey& key, const Certificate& cert,
                         std::string_view key_source) {
    if (EVP_PKEY_eq(key.evp(), cert.public_key().evp()) == 1) return {};
    ERR_clear_error();
    return make_error(
        Errc::verification_failed, detail::at(key_source, "key"),
        fmt::format("the private key does not match the public key of {} (subject '{}')",
                    cert.source(), cert.subject()),
        cause::kAuthenticationFailure);
}

Result<Bundle> Bundle::load(const std::filesystem::path& dir) {
    const auto key_file = dir / "key.pem";
    auto key_text = read_file(key_file);
    if (!key_text) return std::move(key_text).error();
    auto key = PrivateKey::from_pem(*key_text);
    detail::secure_wipe_string(*key_text);
    if (!key)
        return make_error(Errc::malformed, detail::at(key_file.string(), "PEM"),
                          "not a PKCS#8 private key: " + key.error().message);
    auto cert = Certificate::load(dir / "cert.pem");
    if (!cert) return std::move(cert).error();
    auto ca = Certificate::load(dir / "ca.pem");
    if (!ca) return std::move(ca).error();
    PC5SEC_TRY(check_key_matches(*key, *cert, key_file.string()));
    auto trust = TrustStore::create(std::move(*ca));
    if (!trust) return std::move(trust).error();
    // The UE's own certificate must come from its own trust anchor (dates are checked later).
    if (X509_check_issued(trust->anchor().x509(), cert->x509()) != X509_V_OK)
        return make_error(Errc::verification_failed, detail::at(cert->source(), "issuer"),
                          fmt::format("not issued by the trust anchor '{}' ({})",
                                      trust->anchor().subject(), trust->anchor().source()),
                          cause::kAuthenticationFailure);
    if (X509_verify(cert->x509(), X509_get0_pubkey(trust->anchor().x509())) != 1) {
        ERR_clear_error();
        return make_error(Errc::verification_failed, detail::at(cert->source(), "signature"),
                          "the signature does not verify under the trust anchor's key (tampered?)",
                          cause::kAuthenticationFailure);
    }
    const auto crl_file = dir / "crl.pem";
    std::error_code ec;
    if (std::filesystem::exists(crl_file, ec)) {
        auto crl = RevocationList::load(crl_file);
        if (!crl) return std::move(crl).error();
        PC5SEC_TRY(trust->set_revocation_list(std::move(*crl)));
    }
    auto policy = PolicyFile::load(dir / "policy.toml");
    if (!policy) return std::move(policy).error();
    auto discovery = load_discovery_toml(dir / "discovery.toml");
    if (!discovery) return std::move(discovery).error();
    return Bundle{dir,
                  std::move(*key),
                  std::move(*cert),
                  std::move(*trust),
                  std::move(*policy),
                  std::move(*discovery)};
}

}  // namespace pc5sec::creds
