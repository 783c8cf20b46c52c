// The network's provisioning function (the PCF / ProSe key management role of step 0 in both
// seeds) and the UE-side manager that keeps a UE's credentials fresh. See docs/credentials.md.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pc5sec/asymmetric.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/discovery_material.hpp"
#include "pc5sec/policy.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec::creds {

// What a UE is provisioned with.
struct UeProfile {
    std::string user_info_id;  // the certificate subject CN (application layer user info ID)
    Authorisation authorisation;
    KeyType key_type = KeyType::p256;  // p256 (default) or ed25519
    PolicyFile policy;
};

struct IssuedCredentials {
    PrivateKey key;
    Certificate certificate;
    // The discovery security material of each RSC the profile authorises (step 0: the
    // provisioning function plays the PKMF; pc5sec/discovery.hpp).
    std::vector<discovery::Material> discovery;
};

// discovery.toml, the file form of discovery security material (secret: mode 0600).
std::string discovery_toml(const std::vector<discovery::Material>& materials);
// Parses discovery.toml; errors (Errc::malformed) name `source`, the row and the field.
Result<std::vector<discovery::Material>> parse_discovery_toml(std::string_view text,
                                                              std::string_view source);
// Reads `file` if it exists (a bundle's or the CA's discovery.toml); none if it does not.
Result<std::vector<discovery::Material>> load_discovery_toml(const std::filesystem::path& file);

// Holds the root CA (ECDSA P-256, or Ed25519) and issues, re-issues and revokes UE certificates.
// On disk (`save` / `open`):
//   ca/ca.key.pem     CA private key (mode 0600)
//   ca/ca.pem         CA certificate (self-signed, basicConstraints CA:TRUE, keyUsage
//                     keyCertSign+cRLSign)
//   ca/crl.pem        revocation list (written once something is revoked)
//   ca/discovery.toml discovery security material per RSC (mode 0600), once any was issued
class ProvisioningFunction {
  public:
    // A fresh root CA named `name`, valid from `not_before` for `validity`. Its key is ECDSA
    // P-256 by default; Ed25519 signs deterministically, so a simulation with a seed gives
    // byte-identical certificates and CRLs (OpenSSL 3.0's ECDSA draws a random k).
    static Result<ProvisioningFunction> create(TimePoint not_before, std::chrono::seconds validity,
                                               std::string name = "pc5sec provisioning CA",
                                               Rng& rng = system_rng(),
                                               KeyType key_type = KeyType::p256);
    // Loads ca/ from `ca_dir` (ca.key.pem, ca.pem, optional crl.pem).
    static Result<ProvisioningFunction> open(const std::filesystem::path& ca_dir);
    Status save(const std::filesystem::path& ca_dir) const;

    const Certificate& ca_certificate() const noexcept { return ca_cert_; }
    // The current revocation list, signed now (created empty on first use).
    const std::optional<RevocationList>& revocation_list() const noexcept { return crl_; }

    // The discovery security material of `rsc` (the PKMF's role, TS 33.503 6.1.3.2): made on
    // first use from `rng`, kept, and made anew once `now` is past its validity.
    const discovery::Material& discovery_material(Rsc rsc, TimePoint now, Rng& rng = system_rng());
    // How long new discovery material is valid (default 30 days).
    void set_discovery_validity(std::chrono::seconds v) noexcept { discovery_validity_ = v; }

    // A new key pair and certificate for `profile`, and the discovery material of each RSC it
    // authorises (from not_before). Errors name "user info ID" or "validity".
    // `validity` may be 0 (a certificate that has expired as it is issued: for tests).
    Result<IssuedCredentials> issue(const UeProfile& profile, TimePoint not_before,
                                    std::chrono::seconds validity, Rng& rng = system_rng());
    // Re-issue for the holder of `old` (same subject and authorisations, new key and dates).
    // Refused (Errc::policy, cause #6) if `old` was revoked or was not issued by this CA.
    Result<IssuedCredentials> reissue(const Certificate& old, KeyType key_type, TimePoint now,
                                      std::chrono::seconds validity, Rng& rng = system_rng());
    // Adds `cert` to the revocation list and signs a new list with a larger CRL Number.
    Status revoke(const Certificate& cert, TimePoint now);

    // Writes OUT/<name>/ for a UE: key.pem (0600), cert.pem, ca.pem, policy.toml and, if any,
    // crl.pem and discovery.toml (0600).
    Status write_bundle(const std::filesystem::path& dir, const IssuedCredentials& creds,
                        const PolicyFile& policy) const;

  private:
    ProvisioningFunction(PrivateKey key, Certificate cert)
        : ca_key_(std::move(key)), ca_cert_(std::move(cert)) {}
    Result<Certificate> sign_certificate(const std::string& subject, const Authorisation& auth,
                                         const PublicKey& key, TimePoint not_before,
                                         std::chrono::seconds validity, Rng& rng) const;
    PrivateKey ca_key_;
    Certificate ca_cert_;
    std::optional<RevocationList> crl_;
    std::map<Rsc, discovery::Material> discovery_;
    std::chrono::seconds discovery_validity_ = std::chrono::hours(24 * 30);
};

// The UE side: its key, certificate and trust store, and the rule for expired credentials.
// Before a UE establishes a link it calls ensure_fresh(now, in_coverage):
//   - valid for longer than `renew_margin`: OK;
//   - expired, not yet valid, or expiring within the margin, and in coverage with a
//     provisioning function reachable: fetch new credentials (ProvisioningFunction::reissue),
//     install them together with the function's latest revocation list, log why, OK. A manager
//     made from a bundle also writes the new key.pem, cert.pem and crl.pem into the bundle dir;
//   - expired or not yet valid and out of coverage: Errc::policy, cause #6 (authentication
//     failure: the peer could not verify us), naming "<cert file>: notAfter" (or notBefore),
//     logged. Expiring within the margin but still valid out of coverage: OK, logged as a warning.
class CredentialManager {
  public:
    using Logger = std::function<void(std::string_view)>;

    CredentialManager(PrivateKey key, Certificate certificate, TrustStore trust,
                      std::chrono::seconds renew_margin = std::chrono::hours(24));
    static Result<CredentialManager> from_bundle(
        Bundle bundle, std::chrono::seconds renew_margin = std::chrono::hours(24));

    // The provisioning function this UE reaches when in coverage (nullptr: none).
    void set_provisioning_function(ProvisioningFunction* pf) noexcept { pf_ = pf; }
    // Where the manager writes its reasons (default: std::clog with a "creds: " prefix).
    void set_logger(Logger logger) { logger_ = std::move(logger); }
    // Validity of renewed certificates (default 30 days).
    void set_renewal_validity(std::chrono::seconds v) noexcept { renewal_validity_ = v; }

    Status ensure_fresh(TimePoint now, bool in_coverage);

    const PrivateKey& key() const noexcept { return key_; }
    const Certificate& certificate() const noexcept { return cert_; }
    const TrustStore& trust() const noexcept { return trust_; }
    TrustStore& trust() noexcept { return trust_; }
    std::uint64_t renewals() const noexcept { return renewals_; }

  private:
    void log(std::string_view line) const;
    PrivateKey key_;
    Certificate cert_;
    TrustStore trust_;
    std::chrono::seconds margin_;
    std::chrono::seconds renewal_validity_ = std::chrono::hours(24 * 30);
    ProvisioningFunction* pf_ = nullptr;
    Logger logger_;
    std::uint64_t renewals_ = 0;
    std::optional<std::filesystem::path> bundle_dir_;  // set by from_bundle: renewals persist
};

}  // namespace pc5sec::creds
