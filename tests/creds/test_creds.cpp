// Long-term credentials: provisioning, verification, revocation, authorisation, expiry, cache.
// Every bad credential must fail with a message naming the file and the field, and carry the
// PC5 cause the link engines will send.
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "pc5sec/creds.hpp"
#include "pc5sec/log.hpp"
#include "pc5sec/pc5_cause.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::creds {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::seconds;
constexpr auto kDay = hours(24);

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "pc5sec-creds-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

UeProfile profile(const std::string& id, std::vector<Role> roles, std::vector<Rsc> rscs) {
    return UeProfile{id, Authorisation{std::move(roles), std::move(rscs)}, KeyType::p256, {}};
}

// A provisioning function and three UEs: alice and bob (end UEs) and relay1, all for RSC 1.
class Creds : public ::testing::Test {
  protected:
    void SetUp() override {
        pf_.emplace(ProvisioningFunction::create(now_ - kDay * 365, kDay * 3650).value());
        alice_.emplace(
            pf_->issue(profile("alice", {Role::end_ue}, {1}), now_ - kDay, kDay * 30).value());
        bob_.emplace(
            pf_->issue(profile("bob", {Role::end_ue}, {1}), now_ - kDay, kDay * 30).value());
        relay_.emplace(
            pf_->issue(profile("relay1", {Role::u2u_relay}, {1, 0xABCDEF}), now_ - kDay, kDay * 30)
                .value());
        trust_.emplace(TrustStore::create(pf_->ca_certificate()).value());
    }
    fs::path write(const std::string& name, const IssuedCredentials& c) {
        const auto dir = tmp_.path() / name;
        EXPECT_TRUE(pf_->write_bundle(dir, c, PolicyFile{}));
        return dir;
    }
    static std::string field_of(const Error& e) { return e.field; }

    TimePoint now_ = from_unix_seconds(to_unix_seconds(Clock::now()));
    TempDir tmp_;
    std::optional<ProvisioningFunction> pf_;
    std::optional<IssuedCredentials> alice_, bob_, relay_;
    std::optional<TrustStore> trust_;
};

// ---- the extension ----

TEST(Authorisation, DerRoundTripAndExactBytes) {
    const Authorisation a{{Role::end_ue, Role::u2u_relay}, {0x000001, 0xABCDEF}};
    const auto der = encode_authorisation(a);
    // SEQUENCE { INTEGER 1, SEQUENCE { ENUM 1, ENUM 2 }, SEQUENCE { INTEGER 1, INTEGER 0x00abcdef }
    // }
    const std::vector<std::uint8_t> expected = {0x30, 0x16, 0x02, 0x01, 0x01, 0x30, 0x06, 0x0a,
                                                0x01, 0x01, 0x0a, 0x01, 0x02, 0x30, 0x09, 0x02,
                                                0x01, 0x01, 0x02, 0x04, 0x00, 0xab, 0xcd, 0xef};
    EXPECT_EQ(der, expected);
    EXPECT_EQ(decode_authorisation(der, "x").value(), a);
}

TEST(Authorisation, StrictDecoderRefusesBadInput) {
    auto der = encode_authorisation({{Role::end_ue}, {1}});
    auto bad = der;
    bad.push_back(0);  // trailing octet
    EXPECT_EQ(decode_authorisation(bad, "f: ext").error().field, "f: ext");
    bad = der;
    bad[4] = 2;  // version 2
    EXPECT_NE(decode_authorisation(bad, "f").error().message.find("version 2"), std::string::npos);
    bad = der;
    bad[9] = 7;  // unknown role
    EXPECT_NE(decode_authorisation(bad, "f").error().message.find("unknown role 7"),
              std::string::npos);
    const std::vector<std::uint8_t> wide_rsc = {0x30, 0x0d, 0x02, 0x01, 0x01, 0x30, 0x00, 0x30,
                                                0x06, 0x02, 0x04, 0x01, 0x00, 0x00, 0x00};
    EXPECT_NE(decode_authorisation(wide_rsc, "f").error().message.find("above"), std::string::npos);
    for (std::size_t n = 0; n < der.size(); ++n)  // every truncation fails, none crashes
        EXPECT_FALSE(decode_authorisation(std::span(der).first(n), "f")) << n;
}

TEST(Authorisation, ToString) {
    EXPECT_EQ(to_string({{Role::end_ue, Role::u2u_relay}, {1, 0xABCDEF}}),
              "end-ue+u2u-relay; rsc 0x000001,0xabcdef");
    EXPECT_EQ(to_string({{Role::end_ue}, {}}), "end-ue");
}

TEST(Time, ParseTimeFormsAndRange) {
    EXPECT_EQ(to_unix_seconds(parse_time("0", "t").value()), 0);
    EXPECT_EQ(to_unix_seconds(parse_time("2020-01-01", "t").value()), 1577836800);
    EXPECT_EQ(to_unix_seconds(parse_time("2020-01-01T00:00:10Z", "t").value()), 1577836810);
    EXPECT_EQ(format_time(from_unix_seconds(1577836810)), "2020-01-01T00:00:10Z");
    EXPECT_EQ(parse_time("2999-01-01", "--at").error().field, "--at");
    EXPECT_FALSE(parse_time("99999999999", "t"));
    EXPECT_FALSE(parse_time("yesterday", "t"));
    EXPECT_FALSE(parse_time("2020-01-01T00:00:10", "t"));
    EXPECT_FALSE(parse_time("", "t"));
}

// ---- provisioning and bundles ----

TEST_F(Creds, IssuedCertificateCarriesSubjectDatesAndAuthorisation) {
    const Certificate& c = relay_->certificate;
    EXPECT_EQ(c.subject(), "relay1");
    EXPECT_EQ(c.not_before(), now_ - kDay);
    EXPECT_EQ(c.not_after(), now_ + kDay * 29);
    ASSERT_TRUE(c.has_authorisation());
    EXPECT_EQ(c.authorisation(), (Authorisation{{Role::u2u_relay}, {1, 0xABCDEF}}));
    EXPECT_EQ(c.public_key(), relay_->key.public_key());
    EXPECT_FALSE(pf_->ca_certificate().has_authorisation());
    const auto peer = trust_->verify(c, now_).value();
    EXPECT_EQ(peer.user_info_id, "relay1");
    EXPECT_EQ(peer.serial_hex, c.serial_hex());
    EXPECT_NE(alice_->certificate.serial_hex(), bob_->certificate.serial_hex());
}

TEST_F(Creds, BundleWrittenAndLoaded) {
    const auto dir = write("alice", *alice_);
    EXPECT_EQ(fs::status(dir / "key.pem").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    const auto b = Bundle::load(dir).value();
    EXPECT_EQ(b.certificate.subject(), "alice");
    EXPECT_EQ(b.key.public_key(), alice_->key.public_key());
    EXPECT_EQ(b.trust.anchor().digest(), pf_->ca_certificate().digest());
    EXPECT_FALSE(b.trust.revocation_list().has_value());
    EXPECT_EQ(b.policy.signalling.integrity, PolicyLevel::required);
    EXPECT_TRUE(b.trust.verify(bob_->certificate, now_));
}

// Step 0 of discovery (docs/discovery.md): one set of material per RSC, shared by every UE the
// RSC authorises, in each bundle's discovery.toml (0600) and the CA's, read back as written.
TEST_F(Creds, DiscoveryMaterialPerRscInEveryBundle) {
    ASSERT_EQ(alice_->discovery.size(), 1u);
    ASSERT_EQ(relay_->discovery.size(), 2u);
    EXPECT_EQ(alice_->discovery[0].rsc, 1u);
    EXPECT_EQ(alice_->discovery[0].dusk, bob_->discovery[0].dusk);
    EXPECT_EQ(alice_->discovery[0].duik, relay_->discovery[0].duik);
    EXPECT_FALSE(relay_->discovery[1].dusk == relay_->discovery[0].dusk);
    EXPECT_EQ(alice_->discovery[0].valid_until - alice_->discovery[0].valid_from, kDay * 30);
    const auto dir = write("relay1", *relay_);
    EXPECT_EQ(fs::status(dir / "discovery.toml").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    const auto b = Bundle::load(dir).value();
    ASSERT_EQ(b.discovery.size(), 2u);
    EXPECT_EQ(b.discovery[1].rsc, 0xABCDEFu);
    EXPECT_EQ(b.discovery[1].duck, relay_->discovery[1].duck);
    EXPECT_EQ(b.discovery[0].valid_until, relay_->discovery[0].valid_until);
    // The CA keeps it: reopened, it gives a UE added later the same material.
    const auto ca_dir = tmp_.path() / "ca";
    ASSERT_TRUE(pf_->save(ca_dir));
    auto again = ProvisioningFunction::open(ca_dir).value();
    const auto carol = again.issue(profile("carol", {Role::end_ue}, {1}), now_, kDay).value();
    EXPECT_EQ(carol.discovery.at(0).dusk, alice_->discovery[0].dusk);
    // Past its validity it is made anew.
    const auto later =
        again.issue(profile("dave", {Role::end_ue}, {1}), now_ + kDay * 40, kDay).value();
    EXPECT_FALSE(later.discovery.at(0).dusk == alice_->discovery[0].dusk);
}

TEST(DiscoveryToml, BadFilesNameTheRowAndField) {
    auto err = [](std::string_view text) {
        auto r = parse_discovery_toml(text, "d.toml");
        EXPECT_FALSE(r.ok());
        return r.ok() ? std::string() : r.error().field;
    };
    const std::string k64(64, 'a'), k32(32, 'b');
    const std::string good = "[[rsc]]\ncode = 1\ndusk = \"" + k64 + "\"\nduik = \"" + k32 +
                             "\"\nduck = \"" + k64 +
                             "\"\nnea = 2\nnia = 2\nvalid_from = 10\nvalid_until = 20\n";
    ASSERT_TRUE(parse_discovery_toml(good, "d.toml").ok());
    EXPECT_EQ(err("[[rsc]]\ncode = 0\n"), "d.toml: rsc[0].code");
    EXPECT_EQ(err(good + good), "d.toml: rsc[1].code");  // the same RSC twice
    auto bad_key = good;
    bad_key.replace(bad_key.find(k32), 32, std::string(30, 'b'));
    EXPECT_EQ(err(bad_key), "d.toml: rsc[0].duik");
    auto bad_alg = good;
    bad_alg.replace(bad_alg.find("nea = 2"), 7, "nea = 0");
    EXPECT_EQ(err(bad_alg), "d.toml: rsc[0].nea");
    auto bad_time = good;
    bad_time.replace(bad_time.find("valid_until = 20"), 16, "valid_until = 5");
    EXPECT_EQ(err(bad_time), "d.toml: rsc[0].valid_until");
    EXPECT_EQ(err("[[rsc]\n"), "d.toml");
    // A key's value never appears in an error.
    auto r = parse_discovery_toml(bad_key, "d.toml");
    EXPECT_EQ(r.error().describe().find(k64), std::string::npos);
}

TEST_F(Creds, Ed25519UeKeyUnderP256Ca) {
    auto p = profile("carol", {Role::end_ue}, {1});
    p.key_type = KeyType::ed25519;
    const auto carol = pf_->issue(p, now_, kDay).value();
    EXPECT_EQ(carol.certificate.public_key().type(), KeyType::ed25519);
    EXPECT_TRUE(trust_->verify(carol.certificate, now_ + hours(1)));
    const auto b = Bundle::load(write("carol", carol)).value();
    EXPECT_EQ(b.key.type(), KeyType::ed25519);
}

TEST_F(Creds, ProvisioningFunctionSavesAndReopensItsCa) {
    const auto ca_dir = tmp_.path() / "ca";
    ASSERT_TRUE(pf_->revoke(bob_->certificate, now_));
    ASSERT_TRUE(pf_->save(ca_dir));
    EXPECT_EQ(fs::status(ca_dir / "ca.key.pem").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    auto again = ProvisioningFunction::open(ca_dir).value();
    EXPECT_EQ(again.ca_certificate().digest(), pf_->ca_certificate().digest());
    ASSERT_TRUE(again.revocation_list().has_value());
    EXPECT_EQ(again.revocation_list()->number(), 1u);
    // A UE issued by the reopened CA verifies under the original anchor.
    const auto dave = again.issue(profile("dave", {Role::end_ue}, {1}), now_, kDay).value();
    EXPECT_TRUE(trust_->verify(dave.certificate, now_ + hours(1)));
}

TEST_F(Creds, BadProfilesAreRefusedNamingTheField) {
    EXPECT_EQ(pf_->issue(profile("", {Role::end_ue}, {1}), now_, kDay).error().field,
              "user info ID");
    EXPECT_EQ(pf_->issue(profile("x", {}, {1}), now_, kDay).error().field, "role");
    EXPECT_EQ(pf_->issue(profile("x", {Role::end_ue}, {0x1000000}), now_, kDay).error().field,
              "rsc");
    EXPECT_EQ(pf_->issue(profile("x", {Role::end_ue}, {1}), now_, seconds(-1)).error().field,
              "validity");
}

// ---- each bad credential: file and field named ----

TEST_F(Creds, UnreadableFileNamesTheFile) {
    const auto dir = write("alice", *alice_);
    fs::remove(dir / "cert.pem");
    const auto e = Bundle::load(dir).error();
    EXPECT_EQ(e.code, Errc::io);
    EXPECT_EQ(e.field, (dir / "cert.pem").string());
    EXPECT_NE(e.message.find("no such file"), std::string::npos);

    std::ofstream(dir / "cert.pem") << "not a certificate\n";
    const auto g = Bundle::load(dir).error();
    EXPECT_EQ(g.code, Errc::malformed);
    EXPECT_EQ(g.field, (dir / "cert.pem").string() + ": PEM");
}

TEST_F(Creds, KeyNotMatchingCertificate) {
    const auto dir = write("alice", *alice_);
    const auto bob_dir = write("bob", *bob_);
    fs::copy_file(bob_dir / "key.pem", dir / "key.pem", fs::copy_options::overwrite_existing);
    const auto e = Bundle::load(dir).error();
    EXPECT_EQ(e.code, Errc::verification_failed);
    EXPECT_EQ(e.field, (dir / "key.pem").string() + ": key");
    EXPECT_NE(e.message.find("cert.pem"), std::string::npos);
    EXPECT_NE(e.message.find("alice"), std::string::npos);
}

TEST_F(Creds, CertificateFromAnotherCa) {
    auto other = ProvisioningFunction::create(now_ - kDay, kDay * 365, "rogue CA").value();
    auto mallory =
        other
            .issue(profile("mallory", {Role::end_ue, Role::u2u_relay}, {1}), now_ - kDay, kDay * 30)
            .value();
    const auto e = trust_->verify(mallory.certificate, now_).error();
    EXPECT_EQ(e.code, Errc::verification_failed);
    EXPECT_EQ(e.field, "mallory/cert.pem: issuer");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
    EXPECT_NE(e.message.find("pc5sec provisioning CA"), std::string::npos);

    // In a bundle: cert.pem from the rogue CA next to the real ca.pem.
    const auto dir = write("alice", *alice_);
    std::ofstream(dir / "cert.pem") << mallory.certificate.to_pem();
    std::string key_pem = mallory.key.to_pem_secret();
    std::ofstream(dir / "key.pem") << key_pem;
    const auto b = Bundle::load(dir).error();
    EXPECT_EQ(b.field, (dir / "cert.pem").string() + ": issuer");
}

TEST_F(Creds, ExpiredCertificate) {
    const auto old =
        pf_->issue(profile("olga", {Role::end_ue}, {1}), now_ - kDay * 10, kDay).value();
    const auto e = trust_->verify(old.certificate, now_).error();
    EXPECT_EQ(e.field, "olga/cert.pem: notAfter");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
    EXPECT_NE(e.message.find("expired at " + format_time(now_ - kDay * 9)), std::string::npos);
    // Simulated time inside its window: valid.
    EXPECT_TRUE(trust_->verify(old.certificate, now_ - kDay * 9 - hours(1)));
    // A time before the CA itself was valid: the anchor is named, not the UE's certificate.
    const auto before_ca = trust_->verify(old.certificate, now_ - kDay * 400).error();
    EXPECT_EQ(before_ca.field, "ca/ca.pem: notBefore");
    // --valid-days 0: expired one second after issue.
    const auto zero = pf_->issue(profile("zed", {Role::end_ue}, {1}), now_, seconds(0)).value();
    EXPECT_EQ(trust_->verify(zero.certificate, now_ + seconds(1)).error().field,
              "zed/cert.pem: notAfter");
}

TEST_F(Creds, NotYetValidCertificate) {
    const auto early = pf_->issue(profile("nina", {Role::end_ue}, {1}), now_ + kDay, kDay).value();
    const auto e = trust_->verify(early.certificate, now_).error();
    EXPECT_EQ(e.field, "nina/cert.pem: notBefore");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
    EXPECT_TRUE(trust_->verify(early.certificate, now_ + kDay + hours(1)));
}

// An Ed25519 CA (what seeded simulations use): certificates and CRLs are byte-identical for
// the same seed, verify, and revocation works as with the P-256 CA.
TEST(CredsEd25519Ca, DeterministicIssueVerifyRevoke) {
    const auto now = from_unix_seconds(1'790'000'000);
    auto make = [&] {
        DeterministicRng rng(42);
        auto pf =
            ProvisioningFunction::create(now - kDay, kDay * 365, "sim CA", rng, KeyType::ed25519)
                .value();
        auto p = profile("alice", {Role::end_ue}, {1});
        p.key_type = KeyType::ed25519;
        auto alice = pf.issue(p, now - kDay, kDay * 30, rng).value();
        return std::make_tuple(std::move(pf), std::move(alice));
    };
    auto [pf, alice] = make();
    auto [pf2, alice2] = make();
    EXPECT_EQ(alice.certificate.to_pem(), alice2.certificate.to_pem());
    auto trust = TrustStore::create(pf.ca_certificate()).value();
    EXPECT_TRUE(trust.verify(alice.certificate, now));
    EXPECT_FALSE(trust.verify(alice.certificate, now + kDay * 60));  // expired
    ASSERT_TRUE(pf.revoke(alice.certificate, now));
    ASSERT_TRUE(trust.set_revocation_list(*pf.revocation_list()));
    EXPECT_EQ(trust.verify(alice.certificate, now).error().pc5_cause,
              cause::kAuthenticationFailure);
    // The same seed gives the same CA; another seed gives a CA that does not vouch for alice.
    EXPECT_EQ(pf2.ca_certificate().to_pem(), pf.ca_certificate().to_pem());
    DeterministicRng other(43);
    auto foreign =
        ProvisioningFunction::create(now - kDay, kDay * 365, "sim CA", other, KeyType::ed25519)
            .value();
    EXPECT_FALSE(
        TrustStore::create(foreign.ca_certificate()).value().verify(alice2.certificate, now));
    // A CA key type that cannot sign certificates is refused, naming the field.
    EXPECT_EQ(
        ProvisioningFunction::create(now, kDay, "x", system_rng(), KeyType::x25519).error().field,
        "key type");
}

TEST_F(Creds, RevokedCertificate) {
    ASSERT_TRUE(pf_->revoke(relay_->certificate, now_));
    ASSERT_TRUE(trust_->set_revocation_list(*pf_->revocation_list()));
    const auto e = trust_->verify(relay_->certificate, now_).error();
    EXPECT_EQ(e.field, "relay1/cert.pem: serialNumber");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
    EXPECT_NE(e.message.find("revoked"), std::string::npos);
    EXPECT_TRUE(trust_->verify(alice_->certificate, now_));  // others unaffected

    // A bundle written after revocation carries crl.pem, and its UE applies it.
    const auto b = Bundle::load(write("alice", *alice_)).value();
    ASSERT_TRUE(b.trust.revocation_list().has_value());
    EXPECT_EQ(b.trust.verify(relay_->certificate, now_).error().field,
              "relay1/cert.pem: serialNumber");

    // Revoking again is a no-op; revoking another raises the CRL Number; an old list is refused.
    ASSERT_TRUE(pf_->revoke(relay_->certificate, now_));
    EXPECT_EQ(pf_->revocation_list()->number(), 1u);
    const RevocationList first = *pf_->revocation_list();
    ASSERT_TRUE(pf_->revoke(bob_->certificate, now_));
    EXPECT_EQ(pf_->revocation_list()->number(), 2u);
    EXPECT_EQ(pf_->revocation_list()->revoked_serials_hex().size(), 2u);
    ASSERT_TRUE(trust_->set_revocation_list(*pf_->revocation_list()));
    EXPECT_EQ(trust_->set_revocation_list(first).error().field, "ca/crl.pem: crlNumber");
}

TEST_F(Creds, RevocationListFromAnotherCaIsRefused) {
    auto other = ProvisioningFunction::create(now_ - kDay, kDay * 365, "rogue CA").value();
    auto m = other.issue(profile("m", {Role::end_ue}, {1}), now_, kDay).value();
    ASSERT_TRUE(other.revoke(m.certificate, now_));
    const auto e = trust_->set_revocation_list(*other.revocation_list()).error();
    EXPECT_EQ(e.field, "ca/crl.pem: issuer");
}

TEST_F(Creds, TamperedSignature) {
    auto der = alice_->certificate.der();
    der.back() ^= 0x01;  // last octet of the signature's s
    const auto bad = Certificate::from_der(der, "alice/cert.pem").value();
    const auto e = trust_->verify(bad, now_).error();
    EXPECT_EQ(e.field, "alice/cert.pem: signature");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
}

TEST_F(Creds, TamperedTbs) {
    // Turn the subject "alice" into "blice" inside the signed part: a forged identity.
    auto der = alice_->certificate.der();
    const std::string needle = "alice";
    auto it = std::search(der.begin(), der.end(), needle.begin(), needle.end());
    ASSERT_NE(it, der.end());
    *it = 'b';
    const auto bad = Certificate::from_der(der, "alice/cert.pem").value();
    EXPECT_EQ(bad.subject(), "blice");
    const auto e = trust_->verify(bad, now_).error();
    EXPECT_EQ(e.field, "alice/cert.pem: signature");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
}

TEST_F(Creds, CaCertificateIsNotAUeCertificate) {
    const auto e = trust_->verify(pf_->ca_certificate(), now_).error();
    EXPECT_EQ(e.field, "ca/ca.pem: basicConstraints");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
}

// A certificate built by hand with OpenSSL, self-signed by `key`, with the given CNs and a number
// of ProSe authorisation extensions.
Result<Certificate> hand_made(const PrivateKey& key, std::vector<std::string> cns, int extensions) {
    X509* x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    for (const auto& cn : cns)
        X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.data()),
                                   static_cast<int>(cn.size()), -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key.evp());
    const auto der = encode_authorisation({{Role::end_ue}, {1}});
    for (int i = 0; i < extensions; ++i) {
        ASN1_OBJECT* oid = OBJ_txt2obj(kProSeAuthorisationOid, 1);
        ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(data, der.data(), static_cast<int>(der.size()));
        X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, data);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(data);
        ASN1_OBJECT_free(oid);
    }
    X509_sign(x, key.evp(), EVP_sha256());
    return Certificate::adopt(x, "hand.pem");
}

TEST_F(Creds, AmbiguousCertificatesAreRefused) {
    const auto key = PrivateKey::generate(KeyType::p256).value();
    EXPECT_TRUE(hand_made(key, {"alice"}, 1));
    EXPECT_EQ(hand_made(key, {"alice", "bob"}, 1).error().field, "hand.pem: subject");
    EXPECT_EQ(hand_made(key,
                        {std::string("ali\x01"
                                     "ce")},
                        1)
                  .error()
                  .field,
              "hand.pem: subject");
    EXPECT_EQ(hand_made(key, {"alice"}, 2).error().field,
              std::string("hand.pem: prose-authorisation (") + kProSeAuthorisationOid + ")");
    // Self-signed, so not from the trust anchor; and without the extension it is not a UE's.
    EXPECT_EQ(trust_->verify(hand_made(key, {"alice"}, 1).value(), now_).error().field,
              "hand.pem: issuer");
}

TEST_F(Creds, GarbageDerNamesTheFile) {
    const std::vector<std::uint8_t> junk = {0x30, 0x03, 0x02, 0x01};
    EXPECT_EQ(Certificate::from_der(junk, "x.der").error().field, "x.der: DER");
}

// A certificate parsed again (from the thread's parsed certificates) is the same one, named by
// the source of this call; a damaged copy of the same DER is parsed on its own and refused.
TEST_F(Creds, ParsedAgainIsTheSameNamedByItsOwnSource) {
    const auto& der = alice_->certificate.der();
    const auto a = Certificate::from_der(der, "first.der").value();
    const auto b = Certificate::from_der(der, "second.der").value();
    EXPECT_EQ(a.source(), "first.der");
    EXPECT_EQ(b.source(), "second.der");
    EXPECT_EQ(a.der(), b.der());
    EXPECT_EQ(a.subject(), b.subject());
    EXPECT_EQ(a.digest(), b.digest());
    EXPECT_TRUE(trust_->verify(b, now_));
    auto cut = der;
    cut.pop_back();
    EXPECT_EQ(Certificate::from_der(cut, "cut.der").error().field, "cut.der: DER");
    EXPECT_TRUE(Certificate::from_der(der, "third.der"));
}

// A certificate held on this thread is not decoded again when its DER comes back (the simulator:
// the relay receives the certificate the source UE holds). The recalled certificate is the same
// X509 and verifies; DER that differs by one bit is a different certificate, decoded on its own.
TEST_F(Creds, AHeldCertificateIsRecalledNotDecodedAgain) {
    auto issued = pf_->issue(profile("dora", {Role::end_ue}, {1}), now_ - kDay, kDay * 30).value();
    const auto der = issued.certificate.der();
    const auto digest = issued.certificate.digest();
    {
        const auto recalled = Certificate::from_der(der, "dora.der").value();
        EXPECT_EQ(recalled.x509(), issued.certificate.x509());
        EXPECT_EQ(recalled.source(), "dora.der");
        EXPECT_EQ(recalled.digest(), digest);
        EXPECT_EQ(recalled.subject(), "dora");
        EXPECT_TRUE(trust_->verify(recalled, now_));
    }

    auto flipped = der;
    flipped[flipped.size() - 5] ^= 0x01;  // inside the signature
    const auto forged = Certificate::from_der(flipped, "forged.der");
    if (forged) {
        EXPECT_NE(forged->x509(), issued.certificate.x509());
        EXPECT_EQ(trust_->verify(*forged, now_).error().field, "forged.der: signature");
    }

    // Once nobody holds it, the DER is decoded afresh, to the same certificate.
    issued = pf_->issue(profile("erin", {Role::end_ue}, {1}), now_ - kDay, kDay * 30).value();
    const auto again = Certificate::from_der(der, "dora-again.der").value();
    EXPECT_EQ(again.digest(), digest);
    EXPECT_EQ(again.subject(), "dora");
    EXPECT_TRUE(trust_->verify(again, now_));
}

// What a UE's own certificate says of it (creds::own_view): its claims, with no chain check.
TEST_F(Creds, OwnViewIsWhatTheCertificateSays) {
    const auto own = own_view(relay_->certificate);
    const auto verified = trust_->verify(relay_->certificate, now_).value();
    EXPECT_EQ(own.user_info_id, verified.user_info_id);
    EXPECT_EQ(own.authorisation.roles, verified.authorisation.roles);
    EXPECT_EQ(own.authorisation.rscs, verified.authorisation.rscs);
    EXPECT_EQ(own.public_key, verified.public_key);
    EXPECT_EQ(own.serial_hex, verified.serial_hex);
    EXPECT_EQ(own.not_after, verified.not_after);
    EXPECT_TRUE(may_act_as_relay(own, 0xABCDEF));
    EXPECT_EQ(may_act_as_relay(own, 2).error().pc5_cause, cause::kRequiredServiceNotAllowed);
}

// ---- authorisation decisions ----

TEST_F(Creds, WrongRole) {
    const auto alice = trust_->verify(alice_->certificate, now_).value();
    const auto relay = trust_->verify(relay_->certificate, now_).value();
    // An end UE cannot act as a relay.
    const auto e = may_act_as_relay(alice, 1, "alice/cert.pem").error();
    EXPECT_EQ(e.code, Errc::policy);
    EXPECT_EQ(e.field, "alice/cert.pem: prose-authorisation.roles");
    EXPECT_EQ(e.pc5_cause, cause::kRequiredServiceNotAllowed);
    // A relay-only certificate is not a peer UE.
    const auto p = may_be_peer(relay, "relay1/cert.pem").error();
    EXPECT_EQ(p.field, "relay1/cert.pem: prose-authorisation.roles");
    EXPECT_EQ(p.pc5_cause, cause::kDirectCommunicationToTargetUeNotAllowed);
    // A relay cannot use another relay as if it were an end UE.
    EXPECT_EQ(may_use_relay(relay, relay, 1, "relay1/cert.pem").error().pc5_cause,
              cause::kRequiredServiceNotAllowed);
    // The good answers.
    EXPECT_TRUE(may_act_as_relay(relay, 1));
    EXPECT_TRUE(may_act_as_relay(relay, 0xABCDEF));
    EXPECT_TRUE(may_use_relay(alice, relay, 1));
    EXPECT_TRUE(may_be_peer(alice));
}

TEST_F(Creds, WrongRsc) {
    const auto alice = trust_->verify(alice_->certificate, now_).value();
    const auto relay = trust_->verify(relay_->certificate, now_).value();
    const auto e = may_act_as_relay(relay, 2, "relay1/cert.pem").error();
    EXPECT_EQ(e.field, "relay1/cert.pem: prose-authorisation.rscs");
    EXPECT_EQ(e.pc5_cause, cause::kRequiredServiceNotAllowed);
    EXPECT_NE(e.message.find("0x000002"), std::string::npos);
    // The relay serves 0xABCDEF but alice may not use it.
    const auto u =
        may_use_relay(alice, relay, 0xABCDEF, "alice/cert.pem", "relay1/cert.pem").error();
    EXPECT_EQ(u.field, "alice/cert.pem: prose-authorisation.rscs");
    EXPECT_EQ(u.pc5_cause, cause::kRequiredServiceNotAllowed);
}

TEST_F(Creds, TargetUserInfoMustBeTheSubject) {
    const auto bob = trust_->verify(bob_->certificate, now_).value();
    EXPECT_TRUE(check_target_user_info(bob, "bob"));
    const auto e = check_target_user_info(bob, "alice", "bob/cert.pem").error();
    EXPECT_EQ(e.field, "bob/cert.pem: subject");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
}

// ---- the cache ----

TEST_F(Creds, CacheHitsAndStaysCorrect) {
    VerificationCache cache;
    EXPECT_TRUE(cache.verify(*trust_, alice_->certificate, now_));
    EXPECT_TRUE(cache.verify(*trust_, alice_->certificate, now_ + hours(1)));
    EXPECT_EQ(cache.misses(), 1u);
    EXPECT_EQ(cache.hits(), 1u);
    EXPECT_EQ(cache.size(), 1u);
    // Past the window: verified again, and fails.
    const auto late = cache.verify(*trust_, alice_->certificate, now_ + kDay * 40);
    EXPECT_EQ(late.error().field, "alice/cert.pem: notAfter");
    EXPECT_EQ(cache.misses(), 2u);
    // The cache forgot the stale entry; a new revocation list invalidates the rest.
    EXPECT_TRUE(cache.verify(*trust_, relay_->certificate, now_));
    ASSERT_TRUE(pf_->revoke(relay_->certificate, now_));
    ASSERT_TRUE(trust_->set_revocation_list(*pf_->revocation_list()));
    EXPECT_EQ(cache.verify(*trust_, relay_->certificate, now_).error().field,
              "relay1/cert.pem: serialNumber");
}

TEST_F(Creds, CacheNeverStoresFailures) {
    VerificationCache cache;
    auto der = alice_->certificate.der();
    der.back() ^= 0x01;
    const auto bad = Certificate::from_der(der, "alice/cert.pem").value();
    for (int i = 0; i < 3; ++i)
        EXPECT_FALSE(cache.verify(*trust_, bad, now_));
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.hits(), 0u);
    EXPECT_EQ(cache.misses(), 3u);
}

TEST_F(Creds, CacheEntryIsBoundToItsTrustAnchor) {
    VerificationCache cache;
    ASSERT_TRUE(cache.verify(*trust_, alice_->certificate, now_));
    auto other = ProvisioningFunction::create(now_ - kDay, kDay * 365, "other CA").value();
    const auto other_trust = TrustStore::create(other.ca_certificate()).value();
    EXPECT_EQ(cache.verify(other_trust, alice_->certificate, now_).error().field,
              "alice/cert.pem: issuer");
}

TEST_F(Creds, CacheCapacityIsBounded) {
    VerificationCache cache(2);
    EXPECT_TRUE(cache.verify(*trust_, alice_->certificate, now_));
    EXPECT_TRUE(cache.verify(*trust_, bob_->certificate, now_));
    EXPECT_TRUE(cache.verify(*trust_, relay_->certificate, now_));
    EXPECT_EQ(cache.size(), 2u);
}

TEST_F(Creds, CacheIsSafeAcrossThreads) {
    VerificationCache cache(8);
    std::vector<Certificate> certs{alice_->certificate, bob_->certificate, relay_->certificate};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i)
                if (!cache.verify(*trust_, certs[(i + t) % certs.size()], now_)) ++failures;
        });
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(cache.hits() + cache.misses(), 800u);
    EXPECT_GE(cache.hits(), 800u - 3u * 4u);  // at most one miss per certificate per thread
    EXPECT_EQ(cache.size(), 3u);
}

// ---- expiry: CredentialManager ----

TEST_F(Creds, ExpiredInCoverageFetchesNewCredentials) {
    auto old = pf_->issue(profile("erin", {Role::end_ue}, {1}), now_ - kDay * 10, kDay).value();
    CredentialManager m(old.key, old.certificate, *trust_);
    std::vector<std::string> log;
    m.set_logger([&](std::string_view l) { log.emplace_back(l); });
    m.set_provisioning_function(&*pf_);
    ASSERT_TRUE(m.ensure_fresh(now_, true));
    EXPECT_EQ(m.renewals(), 1u);
    EXPECT_EQ(m.certificate().subject(), "erin");
    EXPECT_EQ(m.certificate().authorisation(), old.certificate.authorisation());
    EXPECT_NE(m.certificate().serial_hex(), old.certificate.serial_hex());
    EXPECT_FALSE(m.key().public_key() == old.key.public_key());
    EXPECT_TRUE(check_key_matches(m.key(), m.certificate(), "key"));
    EXPECT_TRUE(trust_->verify(m.certificate(), now_));
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("expired"), std::string::npos);
    EXPECT_NE(log[0].find("fetched new credentials"), std::string::npos);
    // Fresh now: nothing more to do.
    ASSERT_TRUE(m.ensure_fresh(now_, false));
    EXPECT_EQ(m.renewals(), 1u);
}

// The library writes nothing to stdout or stderr itself (pc5sec/log.hpp): without a logger of
// its own, the manager's line goes to the process's log sink, at level info, as component
// "creds"; with no sink, or below the level set, it goes nowhere.
TEST_F(Creds, WithoutALoggerTheLineGoesToTheLogSinkOnly) {
    struct Line {
        log::Level level;
        std::string component, text;
    };
    std::vector<Line> lines;
    log::set_sink([&](log::Level l, std::string_view c, std::string_view t) {
        lines.push_back({l, std::string(c), std::string(t)});
    });
    auto renew = [&] {
        auto old = pf_->issue(profile("erin", {Role::end_ue}, {1}), now_ - kDay * 10, kDay).value();
        CredentialManager m(old.key, old.certificate, *trust_);
        m.set_provisioning_function(&*pf_);
        ASSERT_TRUE(m.ensure_fresh(now_, true));
    };
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    renew();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].level, log::Level::info);
    EXPECT_EQ(lines[0].component, "creds");
    EXPECT_NE(lines[0].text.find("fetched new credentials"), std::string::npos);
    log::set_level(log::Level::warning);  // info is below it: not passed on
    renew();
    EXPECT_EQ(lines.size(), 1u);
    log::set_level(log::Level::info);
    log::set_sink(nullptr);  // no sink: nowhere
    renew();
    EXPECT_EQ(lines.size(), 1u);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    EXPECT_TRUE(log::parse_level("debug", "level"));
    EXPECT_EQ(log::parse_level("loud", "level").error().field, "level");
}

TEST_F(Creds, ExpiringWithinMarginIsRenewedInCoverageOnly) {
    auto c = pf_->issue(profile("finn", {Role::end_ue}, {1}), now_ - kDay, kDay + hours(2)).value();
    CredentialManager m(c.key, c.certificate, *trust_, hours(24));
    std::vector<std::string> log;
    m.set_logger([&](std::string_view l) { log.emplace_back(l); });
    m.set_provisioning_function(&*pf_);
    ASSERT_TRUE(m.ensure_fresh(now_, false));  // still valid: keep it out of coverage
    EXPECT_EQ(m.renewals(), 0u);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NE(log[0].find("out of coverage"), std::string::npos);
    ASSERT_TRUE(m.ensure_fresh(now_, true));
    EXPECT_EQ(m.renewals(), 1u);
}

TEST_F(Creds, ExpiredOutOfCoverageFailsWithCauseAndLog) {
    auto old = pf_->issue(profile("gus", {Role::end_ue}, {1}), now_ - kDay * 10, kDay).value();
    CredentialManager m(old.key, old.certificate, *trust_);
    std::vector<std::string> log;
    m.set_logger([&](std::string_view l) { log.emplace_back(l); });
    m.set_provisioning_function(&*pf_);
    const auto e = m.ensure_fresh(now_, false).error();
    EXPECT_EQ(e.code, Errc::policy);
    EXPECT_EQ(e.field, "gus/cert.pem: notAfter");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
    EXPECT_NE(e.message.find("out of coverage"), std::string::npos);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], e.message);
    EXPECT_EQ(m.renewals(), 0u);
    // In coverage but no provisioning function reachable: same failure.
    m.set_provisioning_function(nullptr);
    EXPECT_EQ(m.ensure_fresh(now_, true).error().field, "gus/cert.pem: notAfter");
}

TEST_F(Creds, RevokedUeIsNotRenewed) {
    auto old = pf_->issue(profile("hal", {Role::end_ue}, {1}), now_ - kDay * 10, kDay).value();
    ASSERT_TRUE(pf_->revoke(old.certificate, now_));
    CredentialManager m(old.key, old.certificate, *trust_);
    m.set_logger([](std::string_view) {});
    m.set_provisioning_function(&*pf_);
    const auto e = m.ensure_fresh(now_, true).error();
    EXPECT_EQ(e.field, "hal/cert.pem: serialNumber");
    EXPECT_EQ(e.pc5_cause, cause::kAuthenticationFailure);
}

TEST_F(Creds, RenewalFromBundlePersistsAndBringsTheRevocationList) {
    auto old = pf_->issue(profile("ivy", {Role::end_ue}, {1}), now_ - kDay * 10, kDay).value();
    const auto dir = write("ivy", old);
    ASSERT_TRUE(pf_->revoke(relay_->certificate, now_));  // after ivy's bundle was written
    auto m = CredentialManager::from_bundle(Bundle::load(dir).value()).value();
    EXPECT_FALSE(m.trust().revocation_list().has_value());
    m.set_logger([](std::string_view) {});
    m.set_provisioning_function(&*pf_);
    ASSERT_TRUE(m.ensure_fresh(now_, true));
    EXPECT_EQ(m.certificate().source(), (dir / "cert.pem").string());
    EXPECT_EQ(m.trust().verify(relay_->certificate, now_).error().field,
              "relay1/cert.pem: serialNumber");
    const auto reloaded = Bundle::load(dir).value();  // what a restarted UE reads
    EXPECT_EQ(reloaded.certificate.digest(), m.certificate().digest());
    EXPECT_TRUE(reloaded.trust.verify(reloaded.certificate, now_));
    EXPECT_TRUE(reloaded.trust.revocation_list().has_value());
}

TEST_F(Creds, ManagerFromBundle) {
    auto m = CredentialManager::from_bundle(Bundle::load(write("alice", *alice_)).value()).value();
    m.set_logger([](std::string_view) {});
    EXPECT_TRUE(m.ensure_fresh(now_, false));
    EXPECT_EQ(m.certificate().subject(), "alice");
}

// ---- policy.toml ----

TEST(Policy, DefaultsRoundTrip) {
    PolicyFile p;
    const auto back = PolicyFile::parse(p.to_toml(false), "policy.toml").value();
    EXPECT_EQ(back.signalling, p.signalling);
    EXPECT_EQ(back.user_plane, p.user_plane);
    EXPECT_EQ(back.ciphering, p.ciphering);
    EXPECT_EQ(back.integrity, p.integrity);
}

// [signalling] refuse_null_integrity (docs/solution-a.md, "Downgrade under PREFERRED"): off by
// default and not written then; read back when on; anything but a boolean is refused by name,
// and it belongs to [signalling] only.
TEST(Policy, RefuseNullIntegrityRoundTripsAndIsCheckedByName) {
    EXPECT_FALSE(PolicyFile{}.refuse_null_integrity);
    EXPECT_EQ(PolicyFile{}.to_toml(false).find("refuse_null_integrity"), std::string::npos);
    PolicyFile p;
    p.refuse_null_integrity = true;
    EXPECT_TRUE(PolicyFile::parse(p.to_toml(false), "policy.toml").value().refuse_null_integrity);
    auto bad = PolicyFile::parse("[signalling]\nrefuse_null_integrity = \"yes\"\n", "p.toml");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().field, "p.toml: signalling.refuse_null_integrity");
    auto misplaced = PolicyFile::parse("[user_plane]\nrefuse_null_integrity = true\n", "p.toml");
    ASSERT_FALSE(misplaced);
    EXPECT_NE(misplaced.error().describe().find("refuse_null_integrity"), std::string::npos);
}

TEST(Policy, ParsesLevelsAlgorithmsAndGroupKeys) {
    const std::string key_hex(64, 'a');
    const auto p = PolicyFile::parse(
                       "[signalling]\nintegrity = \"required\"\nciphering = \"not-needed\"\n"
                       "[user_plane]\nintegrity = \"not-needed\"\nciphering = \"required\"\n"
                       "[algorithms]\nciphering = [\"nea3\", \"nea2\"]\nintegrity = [\"nia3\"]\n"
                       "[group_keys]\nfleet = \"" +
                           key_hex + "\"\n",
                       "alice/policy.toml")
                       .value();
    EXPECT_EQ(p.signalling.ciphering, PolicyLevel::not_needed);
    EXPECT_EQ(p.user_plane.ciphering, PolicyLevel::required);
    EXPECT_EQ(p.ciphering, (std::vector{CipheringAlgorithm::nea3, CipheringAlgorithm::nea2}));
    EXPECT_EQ(p.integrity, (std::vector{IntegrityAlgorithm::nia3}));
    ASSERT_EQ(p.group_keys.count("fleet"), 1u);
    EXPECT_EQ(p.group_keys.at("fleet").reveal()[0], 0xaa);
    std::ostringstream printed;
    printed << p.group_keys.at("fleet");
    EXPECT_EQ(printed.str(), "<redacted>");
    EXPECT_EQ(p.to_toml(false).find(key_hex), std::string::npos);
    EXPECT_NE(p.to_toml(true).find(key_hex), std::string::npos);
}

TEST(Policy, GroupKeyNamesAreQuotedWhenWritten) {
    PolicyFile p;
    std::array<std::uint8_t, 32> raw{};
    raw[31] = 7;
    p.group_keys.emplace("we\"ird\\name\t", GroupKey(raw));
    const auto back = PolicyFile::parse(p.to_toml(true), "p.toml").value();
    ASSERT_EQ(back.group_keys.size(), 1u);
    EXPECT_EQ(back.group_keys.begin()->first, "we\"ird\\name\t");
    EXPECT_EQ(back.group_keys.begin()->second, GroupKey(raw));
}

TEST(Policy, ErrorsNameFileAndField) {
    auto field = [](const std::string& text) {
        return PolicyFile::parse(text, "p.toml").error().field;
    };
    EXPECT_EQ(field("[signalling]\nintegrity = \"maybe\"\n"), "p.toml: signalling.integrity");
    EXPECT_EQ(field("[signalling]\nintegrty = \"required\"\n"), "p.toml: signalling.integrty");
    EXPECT_EQ(field("[algorithms]\nciphering = [\"nea9\"]\n"), "p.toml: algorithms.ciphering");
    EXPECT_EQ(field("[algorithms]\nintegrity = [\"nia2\", \"nia2\"]\n"),
              "p.toml: algorithms.integrity");
    EXPECT_EQ(field("[algorithms]\nintegrity = [\"nia0\"]\n"), "p.toml: algorithms.integrity");
    EXPECT_EQ(field("[signalling\n"), "p.toml: line 1");
    // A short group key: the field is named, the key's value is not shown.
    const auto e = PolicyFile::parse("[group_keys]\ng = \"00112233\"\n", "p.toml").error();
    EXPECT_EQ(e.field, "p.toml: group_keys.g");
    EXPECT_EQ(e.message.find("00112233"), std::string::npos);
}

}  // namespace
}  // namespace pc5sec::creds
