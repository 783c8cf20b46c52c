// Long-term credentials of a ProSe UE (step 0 of both TR 33.740 KI#2 seeds): X.509 certificates
// issued by the provisioning function's root CA, their verification against the trust anchor at
// a given (simulated or real) time, revocation, the ProSe authorisation decisions, and a cache
// of verified certificates. See docs/credentials.md.
//
// Every error names the file and the field ("creds/alice/cert.pem: notAfter"). Every "no" that a
// link engine turns into a reject carries the PC5 cause it must send (pc5sec/pc5_cause.hpp).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pc5sec/asymmetric.hpp"
#include "pc5sec/discovery_material.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/policy.hpp"

typedef struct x509_st X509;          // NOLINT: OpenSSL's own forward declarations
typedef struct X509_crl_st X509_CRL;  // NOLINT

namespace pc5sec::creds {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
TimePoint from_unix_seconds(std::int64_t seconds);
std::int64_t to_unix_seconds(TimePoint t);
std::string format_time(TimePoint t);  // "2026-11-22T09:18:58Z"
// Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), from 1970 up to 2200-01-01
// (std::chrono::system_clock counts nanoseconds and ends in 2262). The error names `field`.
Result<TimePoint> parse_time(std::string_view text, std::string_view field);

// ---- ProSe authorisations carried in the certificate ----

// The roles a UE may take (TR 33.740 KI#3): an end UE (source or target) or a UE-to-UE relay.
enum class Role : std::uint8_t { end_ue = 1, u2u_relay = 2 };
std::string_view name(Role r) noexcept;  // "end-ue", "u2u-relay"
// Accepts "end-ue", "relay" and "u2u-relay"; the error names `field`.
Result<Role> role_from_name(std::string_view text, std::string_view field = "role");

// Relay service code: 24 bits (TS 23.304 5.1.4 / TS 24.554).
using Rsc = std::uint32_t;
inline constexpr Rsc kMaxRsc = 0xFFFFFF;

struct Authorisation {
    std::vector<Role> roles;
    std::vector<Rsc> rscs;  // RSCs the UE may use (end UE) or serve (relay)
    bool has_role(Role r) const noexcept;
    bool has_rsc(Rsc rsc) const noexcept;
    friend bool operator==(const Authorisation&, const Authorisation&) = default;
};

// "end-ue+u2u-relay; rsc 0x000001,0xabcdef" (roles only when there is no RSC).
std::string to_string(const Authorisation& a);

// The certificate extension, pc5sec's own private-arc OID (1.3.6.1.4.1.55555 is pc5sec's
// placeholder enterprise arc, not registered with IANA; .5.1 = "ProSe authorisation", v1):
//
//   ProSeAuthorisation ::= SEQUENCE {
//       version  INTEGER (1),
//       roles    SEQUENCE OF ENUMERATED { end-ue(1), u2u-relay(2) },
//       rscs     SEQUENCE OF INTEGER (0..16777215) }
//
// Non-critical, so that tools that do not know it still read the certificate.
inline constexpr const char* kProSeAuthorisationOid = "1.3.6.1.4.1.55555.5.1";
std::vector<std::uint8_t> encode_authorisation(const Authorisation& a);
// Strict DER. The error names `field`.
Result<Authorisation> decode_authorisation(std::span<const std::uint8_t> der,
                                           std::string_view field);

// ---- certificates and revocation lists ----

class Certificate {
  public:
    // `source` names the file in errors ("creds/alice/cert.pem").
    static Result<Certificate> from_pem(std::string_view pem, std::string_view source);
    static Result<Certificate> from_der(std::span<const std::uint8_t> der, std::string_view source);
    static Result<Certificate> load(const std::filesystem::path& file);
    // Takes ownership of `x509` (used by the provisioning function).
    static Result<Certificate> adopt(X509* x509, std::string_view source);
    // Copies share what was decoded. No move: a moved-from certificate stays whole.
    Certificate(const Certificate&) = default;
    Certificate& operator=(const Certificate&) = default;

    const std::string& source() const noexcept { return source_; }
    const std::string& subject() const noexcept { return decoded_->subject; }  // CN = user info ID
    TimePoint not_before() const noexcept { return decoded_->not_before; }
    TimePoint not_after() const noexcept { return decoded_->not_after; }
    const std::string& serial_hex() const noexcept { return decoded_->serial_hex; }
    // The ProSe authorisations; empty for a CA certificate, which carries none.
    const Authorisation& authorisation() const noexcept { return decoded_->authorisation; }
    bool has_authorisation() const noexcept { return decoded_->has_authorisation; }
    const PublicKey& public_key() const noexcept { return *decoded_->public_key; }
    const std::vector<std::uint8_t>& der() const noexcept { return decoded_->der; }
    // SHA-256 of the DER: the cache key.
    const std::array<std::uint8_t, 32>& digest() const noexcept { return decoded_->digest; }
    std::string to_pem() const;
    X509* x509() const noexcept { return decoded_->x509.get(); }

  private:
    static Result<Certificate> parse_der(std::span<const std::uint8_t> der,
                                         std::string_view source);
    Certificate() = default;
    // What the DER says, decoded once and shared, immutable, by every copy (a relay's
    // certificate reaches every UE of its zone). Always set by the factories.
    struct Decoded {
        std::shared_ptr<X509> x509;
        std::string subject, serial_hex;
        TimePoint not_before{}, not_after{};
        Authorisation authorisation;
        bool has_authorisation = false;
        std::optional<PublicKey> public_key;
        std::vector<std::uint8_t> der;
        std::array<std::uint8_t, 32> digest{};
    };
    std::shared_ptr<const Decoded> decoded_;
    std::string source_;
};

class RevocationList {
  public:
    static Result<RevocationList> from_pem(std::string_view pem, std::string_view source);
    static Result<RevocationList> load(const std::filesystem::path& file);
    static Result<RevocationList> adopt(X509_CRL* crl, std::string_view source);

    const std::string& source() const noexcept { return source_; }
    // The CRL Number extension (RFC 5280 5.2.3); grows with every update. 0 if absent.
    std::uint64_t number() const noexcept { return number_; }
    // SHA-256 of the list's DER: identifies this exact list.
    const std::array<std::uint8_t, 32>& digest() const noexcept { return digest_; }
    bool is_revoked(const Certificate& cert) const;
    std::vector<std::string> revoked_serials_hex() const;
    std::string to_pem() const;
    X509_CRL* crl() const noexcept { return crl_.get(); }

  private:
    RevocationList() = default;
    std::shared_ptr<X509_CRL> crl_;
    std::string source_;
    std::uint64_t number_ = 0;
    std::array<std::uint8_t, 32> digest_{};
};

// ---- verification ----

// What a verified certificate says about its holder.
struct VerifiedPeer {
    std::string user_info_id;  // the certificate's subject CN
    Authorisation authorisation;
    PublicKey public_key;
    TimePoint not_before, not_after;
    std::string serial_hex;
};

// The trust anchor (the provisioning function's root CA) and, if loaded, its revocation list.
class TrustStore {
  public:
    static Result<TrustStore> create(Certificate anchor);
    // Replaces the revocation list. Its signature must verify under the anchor; the error names
    // the CRL's file. A list older than the current one (smaller CRL Number) is refused.
    Status set_revocation_list(RevocationList crl);

    const Certificate& anchor() const noexcept { return anchor_; }
    const std::optional<RevocationList>& revocation_list() const noexcept { return crl_; }
    // What the cache compares against: the loaded list's SHA-256, all zero without a list.
    std::array<std::uint8_t, 32> revocation_version() const noexcept {
        return crl_ ? crl_->digest() : std::array<std::uint8_t, 32>{};
    }

    // Checks chain (issuer and signature), validity at `now`, and revocation. Each failure is
    // Errc::verification_failed with PC5 cause #6 (authentication failure) and names
    // "<cert file>: <field>": issuer, signature, notBefore, notAfter, serialNumber (revoked),
    // subject (no CN), or the extension's OID (missing or malformed authorisation).
    Result<VerifiedPeer> verify(const Certificate& cert, TimePoint now) const;

  private:
    explicit TrustStore(Certificate anchor) : anchor_(std::move(anchor)) {}
    Certificate anchor_;
    std::optional<RevocationList> crl_;
    std::shared_ptr<void> store_;  // X509_STORE with the anchor
};

// A cache of successful verifications, keyed by the certificate's SHA-256, so a busy relay
// verifies each peer certificate once. An entry is used only while `now` lies in the
// certificate's validity window AND the trust store's revocation list is the one the entry was
// verified against; otherwise the certificate is verified again. Failures are never cached.
// Thread-safe.
class VerificationCache {
  public:
    explicit VerificationCache(std::size_t capacity = 4096) : capacity_(capacity) {}
    Result<VerifiedPeer> verify(const TrustStore& store, const Certificate& cert, TimePoint now);

    std::size_t size() const;
    std::uint64_t hits() const;
    std::uint64_t misses() const;
    void clear();

  private:
    struct Entry {
        VerifiedPeer peer;
        std::array<std::uint8_t, 32> revocation_version;
        std::array<std::uint8_t, 32> anchor;  // never used under another trust anchor
    };
    struct DigestHash {
        std::size_t operator()(const std::array<std::uint8_t, 32>& d) const noexcept;
    };
    mutable std::mutex mutex_;
    std::size_t capacity_;
    std::unordered_map<std::array<std::uint8_t, 32>, Entry, DigestHash> entries_;
    std::uint64_t hits_ = 0, misses_ = 0;
};

// ---- authorisation decisions (docs/credentials.md, "how UEs authorise each other") ----
// Each takes certificates already verified by a TrustStore and returns Errc::policy with the
// PC5 cause the deciding UE sends in its reject.

// What a UE's own certificate says of it, for the decisions below. No chain check: the
// certificate was checked against the anchor when the bundle was loaded (Bundle::load) or when
// the provisioning function issued it, and CredentialManager::ensure_fresh checks its validity
// before each link (step 0). Each peer verifies it in full. Both engines use it.
VerifiedPeer own_view(const Certificate& own);

// May `relay` act as a UE-to-UE relay for `rsc`? Needs role u2u-relay AND `rsc` in its list.
// No: cause #11 (required service not allowed), field "<file>: prose-authorisation.roles" or
// ".rscs". Asked by the relay of itself before it announces, and by an end UE of a relay.
Status may_act_as_relay(const VerifiedPeer& relay, Rsc rsc, std::string_view source = "relay");

// May `end_ue` reach a peer through `relay` for `rsc`? The end UE needs role end-ue and `rsc`
// (no: cause #11), and the relay must pass may_act_as_relay (no: cause #11). Asked by the relay
// of a source UE's request, and by the source UE of the relay it selected.
Status may_use_relay(const VerifiedPeer& end_ue, const VerifiedPeer& relay, Rsc rsc,
                     std::string_view end_ue_source = "end UE",
                     std::string_view relay_source = "relay");

// May `peer` be the far end of a direct (or end-to-end, through a layer-2 relay) link? Needs
// role end-ue: a certificate that only says u2u-relay is not a peer UE. No: cause #1 (direct
// communication to the target UE not allowed).
Status may_be_peer(const VerifiedPeer& peer, std::string_view source = "peer");

// Is `target_user_info` (the Target User Info IE the initiator sent) the certificate's subject?
// No: cause #6 (authentication failure) — the peer proved a different identity.
Status check_target_user_info(const VerifiedPeer& peer, std::string_view target_user_info,
                              std::string_view source = "peer");

// ---- a UE's own bundle ----

// A directory as `pc5sec provision` writes it:
//   key.pem     the UE's private key (PKCS#8 PEM, mode 0600)
//   cert.pem    its certificate
//   ca.pem      the trust anchor
//   policy.toml its security policies (pc5sec/policy.hpp)
//   crl.pem     the revocation list (optional)
//   discovery.toml discovery security material per RSC (optional, mode 0600)
struct Bundle {
    std::filesystem::path dir;
    PrivateKey key;
    Certificate certificate;
    TrustStore trust;
    PolicyFile policy;
    // discovery.toml (optional): discovery security material per RSC (pc5sec/discovery.hpp).
    std::vector<discovery::Material> discovery;

    // Checks that every file reads and parses, that key.pem matches cert.pem, and that cert.pem
    // is signed by ca.pem. It does NOT check validity dates: CredentialManager::ensure_fresh
    // decides what an expired bundle means.
    static Result<Bundle> load(const std::filesystem::path& dir);
};

// Does `key` belong to `cert`? Errc::verification_failed naming "<key file>: key".
Status check_key_matches(const PrivateKey& key, const Certificate& cert,
                         std::string_view key_source);

// Reads a whole file; the error (Errc::io) names the file.
Result<std::string> read_file(const std::filesystem::path& file);
// Writes a whole file, created with `mode` (0600 for secrets: never readable by others, not even
// for a moment). The error (Errc::io) names the file.
Status write_file(const std::filesystem::path& file, std::string_view text, unsigned mode);

}  // namespace pc5sec::creds
