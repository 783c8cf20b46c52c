// The provisioning function (root CA, issue, re-issue, revoke) and the UE's CredentialManager.
#include "pc5sec/provisioning.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "ossl.hpp"
#include "pc5sec/files.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/log.hpp"
#include "pc5sec/pc5_cause.hpp"

namespace pc5sec::creds {

namespace {

using detail::at;
using detail::X509Ptr;

// std::chrono::system_clock counts nanoseconds in 64 bits and ends in 2262: keep dates well inside.
constexpr std::int64_t kMaxUnixSeconds = 7258118400;  // 2200-01-01T00:00:00Z
constexpr std::chrono::seconds kMaxValidity = std::chrono::hours(24 * 365 * 50);

// Mode 0700 whatever the umask: a bundle holds a private key.
Status make_dir(const std::filesystem::path& dir) {
    return files::make_private_dirs(dir);
}

void add_ext(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
    if (!ext || X509_add_ext(x, ext, -1) != 1) {
        X509_EXTENSION_free(ext);
        throw CryptoLibraryError(
            fmt::format("cannot add extension {}: {}", value, detail::openssl_error()));
    }
    X509_EXTENSION_free(ext);
}

// A positive random 128-bit serial number (RFC 5280 4.1.2.2: at most 20 octets, unique per CA).
void set_random_serial(X509* x, Rng& rng) {
    auto bytes = rng.bytes<16>();
    bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0x7f) | 0x40);  // positive, 16 octets
    BIGNUM* bn = BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr);
    ASN1_INTEGER* serial = bn ? BN_to_ASN1_INTEGER(bn, nullptr) : nullptr;
    BN_free(bn);
    if (!serial || X509_set_serialNumber(x, serial) != 1) {
        ASN1_INTEGER_free(serial);
        throw CryptoLibraryError("cannot set a serial number");
    }
    ASN1_INTEGER_free(serial);
}

struct CertSpec {
    std::string subject;
    const Authorisation* authorisation = nullptr;  // nullptr: the CA certificate
    TimePoint not_before;
    std::chrono::seconds validity;
};

// Builds and signs a certificate. `issuer` nullptr means self-signed (the root CA).
Result<Certificate> build_certificate(const CertSpec& spec, const PublicKey& subject_key,
                                      X509* issuer, const PrivateKey& signer, Rng& rng,
                                      std::string_view source) {
    X509Ptr x(X509_new());
    if (!x) throw CryptoLibraryError("X509_new failed");
    X509_set_version(x.get(), X509_VERSION_3);
    set_random_serial(x.get(), rng);
    X509_NAME* name = X509_get_subject_name(x.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.subject.data()),
                                   static_cast<int>(spec.subject.size()), -1, 0) != 1)
        return make_error(Errc::invalid_argument, "user info ID",
                          fmt::format("'{}' cannot be a certificate subject CN: {}", spec.subject,
                                      detail::openssl_error()));
    X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name);
    detail::set_asn1(X509_getm_notBefore(x.get()), spec.not_before);
    detail::set_asn1(X509_getm_notAfter(x.get()), spec.not_before + spec.validity);
    if (X509_set_pubkey(x.get(), subject_key.evp()) != 1)
        throw CryptoLibraryError("X509_set_pubkey failed");

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
    if (spec.authorisation == nullptr) {
        add_ext(x.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_ext(x.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x.get(), &ctx, NID_key_usage, "critical,digitalSignature");
        add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash");
        add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid:always");
        const auto der = encode_authorisation(*spec.authorisation);
        ASN1_OBJECT* oid = OBJ_txt2obj(kProSeAuthorisationOid, 1);
        ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
        if (!oid || !data ||
            ASN1_OCTET_STRING_set(data, der.data(), static_cast<int>(der.size())) != 1)
            throw CryptoLibraryError("cannot build the ProSe authorisation extension");
        X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, data);  // non-critical
        ASN1_OBJECT_free(oid);
        ASN1_OCTET_STRING_free(data);
        if (!ext || X509_add_ext(x.get(), ext, -1) != 1)
            throw CryptoLibraryError("cannot add the ProSe authorisation extension");
        X509_EXTENSION_free(ext);
    }
    // ECDSA P-256 CA: SHA-256. (An Ed25519 signer would take no digest.)
    const EVP_MD* md = signer.type() == KeyType::ed25519 ? nullptr : EVP_sha256();
    if (X509_sign(x.get(), signer.evp(), md) <= 0)
        throw CryptoLibraryError("X509_sign failed: " + detail::openssl_error());
    return Certificate::adopt(x.release(), source);
}

Status check_profile(const UeProfile& p) {
    if (p.user_info_id.empty() || p.user_info_id.size() > 64)
        return make_error(Errc::invalid_argument, "user info ID",
                          "must be 1 to 64 characters (X.520 CN upper bound)");
    if (p.authorisation.roles.empty())
        return make_error(Errc::invalid_argument, "role",
                          fmt::format("'{}' has no role", p.user_info_id));
    for (Rsc rsc : p.authorisation.rscs)
        if (rsc > kMaxRsc)
            return make_error(Errc::invalid_argument, "rsc",
                              fmt::format("0x{:x} is wider than 24 bits", rsc));
    if (p.key_type == KeyType::x25519)
        return make_error(Errc::invalid_argument, "key type", "an X25519 key cannot sign");
    return {};
}

}  // namespace

// Writes `text` to `file` with `mode` (pc5sec/files.hpp): a secret (0600) never through a
// symbolic link, and every regular file replaced atomically.
Status write_file(const std::filesystem::path& file, std::string_view text, unsigned mode) {
    return files::write_file(file, text, mode);
}

// ---- ProvisioningFunction ----

Result<ProvisioningFunction> ProvisioningFunction::create(TimePoint not_before,
                                                          std::chrono::seconds validity,
                                                          std::string name, Rng& rng,
                                                          KeyType key_type) {
    if (key_type != KeyType::p256 && key_type != KeyType::ed25519)
        return make_error(Errc::invalid_argument, "key type", "a CA signs with P-256 or Ed25519");
    if (validity.count() <= 0 || validity > kMaxValidity)
        return make_error(Errc::invalid_argument, "validity",
                          "the CA's validity must be 1 s to 50 years");
    if (not_before < TimePoint{} || to_unix_seconds(not_before) > kMaxUnixSeconds)
        return make_error(Errc::invalid_argument, "not before",
                          "must lie in 1970-01-01 .. 2200-01-01");
    auto key = PrivateKey::generate(key_type, rng);
    if (!key) return std::move(key).error();
    auto cert = build_certificate(CertSpec{std::move(name), nullptr, not_before, validity},
                                  key->public_key(), nullptr, *key, rng, "ca/ca.pem");
    if (!cert) return std::move(cert).error();
    return ProvisioningFunction(std::move(*key), std::move(*cert));
}

Result<ProvisioningFunction> ProvisioningFunction::open(const std::filesystem::path& ca_dir) {
    const auto key_file = ca_dir / "ca.key.pem";
    auto text = read_file(key_file);
    if (!text) return std::move(text).error();
    auto key = PrivateKey::from_pem(*text);
    detail::secure_wipe_string(*text);
    if (!key) return make_error(Errc::malformed, at(key_file.string(), "PEM"), key.error().message);
    auto cert = Certificate::load(ca_dir / "ca.pem");
    if (!cert) return std::move(cert).error();
    PC5SEC_TRY(check_key_matches(*key, *cert, key_file.string()));
    if (X509_check_ca(cert->x509()) == 0)
        return make_error(Errc::invalid_argument, at(cert->source(), "basicConstraints"),
                          "not a CA certificate");
    ProvisioningFunction pf(std::move(*key), std::move(*cert));
    const auto crl_file = ca_dir / "crl.pem";
    std::error_code ec;
    if (std::filesystem::exists(crl_file, ec)) {
        auto crl = RevocationList::load(crl_file);
        if (!crl) return std::move(crl).error();
        if (X509_CRL_verify(crl->crl(), X509_get0_pubkey(pf.ca_cert_.x509())) != 1) {
            ERR_clear_error();
            return make_error(Errc::verification_failed, at(crl_file.string(), "signature"),
                              "the revocation list was not signed by this CA");
        }
        pf.crl_ = std::move(*crl);
    }
    auto materials = load_discovery_toml(ca_dir / "discovery.toml");
    if (!materials) return std::move(materials).error();
    for (auto& m : *materials)
        pf.discovery_[m.rsc] = std::move(m);
    return pf;
}

Status ProvisioningFunction::save(const std::filesystem::path& ca_dir) const {
    PC5SEC_TRY(make_dir(ca_dir));
    std::string key_pem = ca_key_.to_pem_secret();
    auto st = write_file(ca_dir / "ca.key.pem", key_pem, 0600);
    detail::secure_wipe_string(key_pem);
    PC5SEC_TRY(std::move(st));
    PC5SEC_TRY(write_file(ca_dir / "ca.pem", ca_cert_.to_pem(), 0644));
    if (crl_) PC5SEC_TRY(write_file(ca_dir / "crl.pem", crl_->to_pem(), 0644));
    if (!discovery_.empty()) {
        std::vector<discovery::Material> all;
        for (const auto& [rsc, m] : discovery_)
            all.push_back(m);
        std::string text = discovery_toml(all);
        auto st = write_file(ca_dir / "discovery.toml", text, 0600);
        detail::secure_wipe_string(text);
        PC5SEC_TRY(std::move(st));
    }
    return {};
}

Result<Certificate> ProvisioningFunction::sign_certificate(
    const std::string& subject, const Authorisation& auth, const PublicKey& key,
    TimePoint not_before, std::chrono::seconds validity, Rng& rng) const {
    if (validity.count() < 0 || validity > kMaxValidity)
        return make_error(Errc::invalid_argument, "validity", "must be 0 to 50 years");
    if (not_before < TimePoint{} || to_unix_seconds(not_before) > kMaxUnixSeconds)
        return make_error(Errc::invalid_argument, "not before",
                          "must lie in 1970-01-01 .. 2200-01-01");
    return build_certificate(CertSpec{subject, &auth, not_before, validity}, key, ca_cert_.x509(),
                             ca_key_, rng, subject + "/cert.pem");
}

Result<IssuedCredentials> ProvisioningFunction::issue(const UeProfile& profile,
                                                      TimePoint not_before,
                                                      std::chrono::seconds validity, Rng& rng) {
    PC5SEC_TRY(check_profile(profile));
    auto key = PrivateKey::generate(profile.key_type, rng);
    if (!key) return std::move(key).error();
    auto cert = sign_certificate(profile.user_info_id, profile.authorisation, key->public_key(),
                                 not_before, validity, rng);
    if (!cert) return std::move(cert).error();
    IssuedCredentials out{std::move(*key), std::move(*cert), {}};
    for (Rsc rsc : profile.authorisation.rscs)
        out.discovery.push_back(discovery_material(rsc, not_before, rng));
    return out;
}

Result<IssuedCredentials> ProvisioningFunction::reissue(const Certificate& old, KeyType key_type,
                                                        TimePoint now,
                                                        std::chrono::seconds validity, Rng& rng) {
    if (X509_check_issued(ca_cert_.x509(), old.x509()) != X509_V_OK ||
        X509_verify(old.x509(), X509_get0_pubkey(ca_cert_.x509())) != 1) {
        ERR_clear_error();
        return make_error(Errc::policy, at(old.source(), "issuer"),
                          "not issued by this provisioning function: refusing to re-issue",
                          cause::kAuthenticationFailure);
    }
    if (crl_ && crl_->is_revoked(old))
        return make_error(Errc::policy, at(old.source(), "serialNumber"),
                          fmt::format("'{}' (serial {}) is revoked: refusing to re-issue",
                                      old.subject(), old.serial_hex()),
                          cause::kAuthenticationFailure);
    UeProfile profile{old.subject(), old.authorisation(), key_type, {}};
    return issue(profile, now, validity, rng);
}

Status ProvisioningFunction::revoke(const Certificate& cert, TimePoint now) {
    if (X509_check_issued(ca_cert_.x509(), cert.x509()) != X509_V_OK)
        return make_error(Errc::invalid_argument, at(cert.source(), "issuer"),
                          "not issued by this provisioning function: cannot revoke it");
    if (crl_ && crl_->is_revoked(cert)) return {};  // already revoked
    detail::CrlPtr crl(X509_CRL_new());
    if (!crl) throw CryptoLibraryError("X509_CRL_new failed");
    X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert_.x509()));
    ASN1_TIME* t = ASN1_TIME_new();
    detail::set_asn1(t, now);
    X509_CRL_set1_lastUpdate(crl.get(), t);
    // nextUpdate is informative here: an out-of-coverage UE keeps using the last list it has.
    detail::set_asn1(t, now + std::chrono::hours(24 * 365));
    X509_CRL_set1_nextUpdate(crl.get(), t);
    if (crl_) {
        STACK_OF(X509_REVOKED)* old = X509_CRL_get_REVOKED(crl_->crl());
        for (int i = 0; old && i < sk_X509_REVOKED_num(old); ++i) {
            X509_REVOKED* dup = X509_REVOKED_dup(sk_X509_REVOKED_value(old, i));
            if (!dup || X509_CRL_add0_revoked(crl.get(), dup) != 1)
                throw CryptoLibraryError("CRL copy failed");
        }
    }
    X509_REVOKED* entry = X509_REVOKED_new();
    detail::set_asn1(t, now);
    if (!entry || X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert.x509())) != 1 ||
        X509_REVOKED_set_revocationDate(entry, t) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry) != 1)
        throw CryptoLibraryError("cannot add a CRL entry");
    ASN1_TIME_free(t);
    ASN1_INTEGER* number = ASN1_INTEGER_new();
    if (!number || ASN1_INTEGER_set_uint64(number, crl_ ? crl_->number() + 1 : 1) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number, 0, 0) != 1)
        throw CryptoLibraryError("cannot set the CRL number");
    ASN1_INTEGER_free(number);
    X509_CRL_sort(crl.get());
    const EVP_MD* md = ca_key_.type() == KeyType::ed25519 ? nullptr : EVP_sha256();
    if (X509_CRL_sign(crl.get(), ca_key_.evp(), md) <= 0)
        throw CryptoLibraryError("X509_CRL_sign failed: " + detail::openssl_error());
    auto list = RevocationList::adopt(crl.release(), "ca/crl.pem");
    if (!list) return std::move(list).error();
    crl_ = std::move(*list);
    return {};
}

Status ProvisioningFunction::write_bundle(const std::filesystem::path& dir,
                                          const IssuedCredentials& creds,
                                          const PolicyFile& policy) const {
    PC5SEC_TRY(make_dir(dir));
    std::string key_pem = creds.key.to_pem_secret();
    auto st = write_file(dir / "key.pem", key_pem, 0600);
    detail::secure_wipe_string(key_pem);
    PC5SEC_TRY(std::move(st));
    PC5SEC_TRY(write_file(dir / "cert.pem", creds.certificate.to_pem(), 0644));
    PC5SEC_TRY(write_file(dir / "ca.pem", ca_cert_.to_pem(), 0644));
    std::string toml = policy.to_toml(true);
    st = write_file(dir / "policy.toml", toml, policy.group_keys.empty() ? 0644 : 0600);
    detail::secure_wipe_string(toml);
    PC5SEC_TRY(std::move(st));
    if (crl_) PC5SEC_TRY(write_file(dir / "crl.pem", crl_->to_pem(), 0644));
    if (!creds.discovery.empty()) {
        std::string text = discovery_toml(creds.discovery);
        st = write_file(dir / "discovery.toml", text, 0600);
        detail::secure_wipe_string(text);
        PC5SEC_TRY(std::move(st));
    }
    return {};
}

// ---- CredentialManager ----

CredentialManager::CredentialManager(PrivateKey key, Certificate certificate, TrustStore trust,
                                     std::chrono::seconds renew_margin)
    : key_(std::move(key)),
      cert_(std::move(certificate)),
      trust_(std::move(trust)),
      margin_(renew_margin) {}

Result<CredentialManager> CredentialManager::from_bundle(Bundle bundle,
                                                         std::chrono::seconds renew_margin) {
    CredentialManager m(std::move(bundle.key), std::move(bundle.certificate),
                        std::move(bundle.trust), renew_margin);
    m.bundle_dir_ = bundle.dir;
    return m;
}

void CredentialManager::log(std::string_view line) const {
    if (logger_)
        logger_(line);
    else
        pc5sec::log::write(pc5sec::log::Level::info, "creds",
                           line);  // the application's sink, if any
}

Status CredentialManager::ensure_fresh(TimePoint now, bool in_coverage) {
    const bool not_yet = now < cert_.not_before();
    const bool expired = now > cert_.not_after();
    const bool soon = !expired && now + margin_ > cert_.not_after();
    if (!not_yet && !expired && !soon) return {};

    const std::string why =
        not_yet ? fmt::format("certificate of '{}' is not valid before {} (now {})",
                              cert_.subject(), format_time(cert_.not_before()), format_time(now))
        : expired
            ? fmt::format("certificate of '{}' expired at {} (now {})", cert_.subject(),
                          format_time(cert_.not_after()), format_time(now))
            : fmt::format("certificate of '{}' expires at {}, within the renewal margin of {} s",
                          cert_.subject(), format_time(cert_.not_after()), margin_.count());
    if (in_coverage && pf_ != nullptr) {
        auto fresh = pf_->reissue(cert_, key_.type(), now, renewal_validity_);
        if (!fresh) {
            log(fmt::format("{}; renewal refused: {}", why, fresh.error().describe()));
            Error e = std::move(fresh).error();
            return e;
        }
        // The provisioning function's latest revocation list comes with the new credentials.
        if (const auto& crl = pf_->revocation_list())
            if (auto st = trust_.set_revocation_list(*crl); !st)
                log(fmt::format("revocation list from the provisioning function refused: {}",
                                st.error().describe()));
        if (bundle_dir_) {
            // Persist, so that the renewed credentials survive a restart; names follow the bundle.
            std::string key_pem = fresh->key.to_pem_secret();
            auto st = write_file(*bundle_dir_ / "key.pem", key_pem, 0600);
            detail::secure_wipe_string(key_pem);
            PC5SEC_TRY(std::move(st));
            const auto cert_file = *bundle_dir_ / "cert.pem";
            PC5SEC_TRY(write_file(cert_file, fresh->certificate.to_pem(), 0644));
            if (trust_.revocation_list())
                PC5SEC_TRY(
                    write_file(*bundle_dir_ / "crl.pem", trust_.revocation_list()->to_pem(), 0644));
            auto named = Certificate::from_der(fresh->certificate.der(), cert_file.string());
            if (!named) return std::move(named).error();
            fresh->certificate = std::move(*named);
        }
        // The new certificate replaces the old; the old key is dropped.
        key_ = std::move(fresh->key);
        cert_ = std::move(fresh->certificate);
        ++renewals_;
        log(
            fmt::format("{}; in coverage: fetched new credentials from the provisioning function, "
                        "valid until {}",
                        why, format_time(cert_.not_after())));
        return {};
    }
    if (soon) {
        log(fmt::format("{}; {}: keeping the current credentials", why,
                        in_coverage ? "no provisioning function reachable" : "out of coverage"));
        return {};
    }
    const std::string reason = fmt::format("{}; {}: cannot establish a PC5 link", why,
                                           in_coverage ? "no provisioning function reachable"
                                                       : "out of coverage, cannot "
                                                         "reach the provisioning function");
    log(reason);
    return make_error(Errc::policy, at(cert_.source(), not_yet ? "notBefore" : "notAfter"), reason,
                      cause::kAuthenticationFailure);
}

}  // namespace pc5sec::creds
