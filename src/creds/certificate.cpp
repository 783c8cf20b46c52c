// Certificates, revocation lists and the ProSe authorisation extension (hand-written strict DER).
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "ossl.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/files.hpp"
#include "pc5sec/kdf.hpp"

namespace pc5sec::creds {

// ---- time ----

TimePoint from_unix_seconds(std::int64_t seconds) {
    return TimePoint(std::chrono::seconds(seconds));
}

std::int64_t to_unix_seconds(TimePoint t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string format_time(TimePoint t) {
    const std::time_t tt = static_cast<std::time_t>(to_unix_seconds(t));
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Result<TimePoint> parse_time(std::string_view text, std::string_view field) {
    constexpr std::int64_t kMax = 7258118400;  // 2200-01-01T00:00:00Z
    const std::string t(text);
    if (!t.empty() && t.size() <= 12 && t.find_first_not_of("0123456789") == std::string::npos) {
        const auto v = std::stoll(t);
        if (v <= kMax) return from_unix_seconds(v);
    } else {
        for (const char* format : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"}) {
            std::tm tm{};
            const char* end = strptime(t.c_str(), format, &tm);
            if (end == nullptr || *end != '\0') continue;
            const auto secs = static_cast<std::int64_t>(timegm(&tm));
            if (secs >= 0 && secs <= kMax) return from_unix_seconds(secs);
            break;
        }
    }
    return make_error(Errc::invalid_argument, std::string(field),
                      fmt::format("'{}' is not unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ "
                                  "between 1970-01-01 and 2200-01-01",
                                  text));
}

namespace detail {

Result<TimePoint> from_asn1(const ASN1_TIME* t, std::string_view field) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
        return make_error(Errc::malformed, std::string(field), "not a valid ASN.1 time");
    return from_unix_seconds(static_cast<std::int64_t>(timegm(&tm)));
}

void set_asn1(ASN1_TIME* t, TimePoint tp) {
    if (ASN1_TIME_set(t, static_cast<std::time_t>(to_unix_seconds(tp))) == nullptr)
        throw CryptoLibraryError("ASN1_TIME_set failed");
}

}  // namespace detail

// ---- roles ----

std::string_view name(Role r) noexcept {
    switch (r) {
        case Role::end_ue:
            return "end-ue";
        case Role::u2u_relay:
            return "u2u-relay";
    }
    return "?";
}

Result<Role> role_from_name(std::string_view text, std::string_view field) {
    if (text == "end-ue") return Role::end_ue;
    if (text == "relay" || text == "u2u-relay") return Role::u2u_relay;
    return make_error(Errc::invalid_argument, std::string(field),
                      fmt::format("'{}' is not a role: use end-ue, relay (u2u-relay)", text));
}

bool Authorisation::has_role(Role r) const noexcept {
    return std::find(roles.begin(), roles.end(), r) != roles.end();
}
bool Authorisation::has_rsc(Rsc rsc) const noexcept {
    return std::find(rscs.begin(), rscs.end(), rsc) != rscs.end();
}

std::string to_string(const Authorisation& a) {
    std::string roles, rscs;
    // Appended piece by piece: GCC 12 at -O3 raised a false -Wrestrict on `"+" + std::string`.
    for (auto r : a.roles) {
        if (!roles.empty()) roles += '+';
        roles += name(r);
    }
    for (auto c : a.rscs)
        rscs += fmt::format("{}0x{:06x}", rscs.empty() ? "" : ",", c);
    return rscs.empty() ? roles : roles + "; rsc " + rscs;
}

// ---- the extension's DER ----

namespace {

constexpr std::uint8_t kTagInteger = 0x02;
constexpr std::uint8_t kTagEnumerated = 0x0A;
constexpr std::uint8_t kTagSequence = 0x30;

void put_length(std::vector<std::uint8_t>& out, std::size_t len) {
    if (len < 0x80) {
        out.push_back(static_cast<std::uint8_t>(len));
        return;
    }
    std::vector<std::uint8_t> bytes;
    for (std::size_t v = len; v != 0; v >>= 8)
        bytes.insert(bytes.begin(), v & 0xff);
    out.push_back(static_cast<std::uint8_t>(0x80 | bytes.size()));
    out.insert(out.end(), bytes.begin(), bytes.end());
}

void put_tlv(std::vector<std::uint8_t>& out, std::uint8_t tag, const std::vector<std::uint8_t>& v) {
    out.push_back(tag);
    put_length(out, v.size());
    out.insert(out.end(), v.begin(), v.end());
}

// A non-negative INTEGER/ENUMERATED in minimal two's complement.
void put_uint(std::vector<std::uint8_t>& out, std::uint8_t tag, std::uint32_t value) {
    std::vector<std::uint8_t> v;
    do {
        v.insert(v.begin(), static_cast<std::uint8_t>(value & 0xff));
        value >>= 8;
    } while (value != 0);
    if (v.front() & 0x80) v.insert(v.begin(), 0x00);
    put_tlv(out, tag, v);
}

// A bounds-checked DER reader.
class DerReader {
  public:
    DerReader(std::span<const std::uint8_t> data, std::string field)
        : data_(data), field_(std::move(field)) {}
    bool done() const { return pos_ == data_.size(); }

    Result<std::span<const std::uint8_t>> read(std::uint8_t tag, std::string_view what) {
        if (pos_ >= data_.size()) return fail(fmt::format("{} is missing", what));
        if (data_[pos_] != tag)
            return fail(
                fmt::format("{}: expected tag 0x{:02x}, got 0x{:02x}", what, tag, data_[pos_]));
        ++pos_;
        if (pos_ >= data_.size()) return fail(fmt::format("{}: length is missing", what));
        std::size_t len = data_[pos_++];
        if (len & 0x80) {
            const std::size_t n = len & 0x7f;
            if (n == 0 || n > 3) return fail(fmt::format("{}: unsupported length form", what));
            if (data_.size() - pos_ < n) return fail(fmt::format("{}: length is truncated", what));
            len = 0;
            for (std::size_t i = 0; i < n; ++i)
                len = len << 8 | data_[pos_++];
            if (len < 0x80 || (n > 1 && (len >> (8 * (n - 1))) == 0))
                return fail(fmt::format("{}: length is not minimal (not DER)", what));
        }
        if (data_.size() - pos_ < len)
            return fail(
                fmt::format("{}: {} octets announced, {} left", what, len, data_.size() - pos_));
        auto content = data_.subspan(pos_, len);
        pos_ += len;
        return content;
    }

    Result<std::uint32_t> read_uint(std::uint8_t tag, std::string_view what, std::uint32_t max) {
        auto c = read(tag, what);
        if (!c) return std::move(c).error();
        const auto v = *c;
        if (v.empty()) return fail(fmt::format("{}: empty integer", what));
        if (v[0] & 0x80) return fail(fmt::format("{}: negative", what));
        if (v.size() > 1 && v[0] == 0 && !(v[1] & 0x80))
            return fail(fmt::format("{}: integer is not minimal (not DER)", what));
        if (v.size() > 5 || (v.size() == 5 && v[0] != 0))
            return fail(fmt::format("{}: too large", what));
        std::uint64_t value = 0;
        for (auto b : v)
            value = value << 8 | b;
        if (value > max) return fail(fmt::format("{}: {} is above {}", what, value, max));
        return static_cast<std::uint32_t>(value);
    }

    Error fail(std::string message) const {
        return make_error(Errc::malformed, field_, std::move(message));
    }

  private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
    std::string field_;
};

}  // namespace

std::vector<std::uint8_t> encode_authorisation(const Authorisation& a) {
    std::vector<std::uint8_t> body;
    put_uint(body, kTagInteger, 1);  // version
    std::vector<std::uint8_t> roles;
    for (Role r : a.roles)
        put_uint(roles, kTagEnumerated, static_cast<std::uint32_t>(r));
    put_tlv(body, kTagSequence, roles);
    std::vector<std::uint8_t> rscs;
    for (Rsc rsc : a.rscs)
        put_uint(rscs, kTagInteger, rsc & kMaxRsc);
    put_tlv(body, kTagSequence, rscs);
    std::vector<std::uint8_t> out;
    put_tlv(out, kTagSequence, body);
    return out;
}

Result<Authorisation> decode_authorisation(std::span<const std::uint8_t> der,
                                           std::string_view field) {
    DerReader top(der, std::string(field));
    auto body = top.read(kTagSequence, "ProSeAuthorisation");
    if (!body) return std::move(body).error();
    if (!top.done()) return top.fail("trailing octets after ProSeAuthorisation");
    DerReader r(*body, std::string(field));
    auto version = r.read_uint(kTagInteger, "version", 0xffff);
    if (!version) return std::move(version).error();
    if (*version != 1) return r.fail(fmt::format("version {} is not supported (only 1)", *version));
    Authorisation a;
    auto roles = r.read(kTagSequence, "roles");
    if (!roles) return std::move(roles).error();
    DerReader rr(*roles, std::string(field));
    while (!rr.done()) {
        auto v = rr.read_uint(kTagEnumerated, "roles", 0xff);
        if (!v) return std::move(v).error();
        if (*v != 1 && *v != 2) return rr.fail(fmt::format("roles: unknown role {}", *v));
        a.roles.push_back(static_cast<Role>(*v));
    }
    auto rscs = r.read(kTagSequence, "rscs");
    if (!rscs) return std::move(rscs).error();
    DerReader rs(*rscs, std::string(field));
    while (!rs.done()) {
        auto v = rs.read_uint(kTagInteger, "rscs", kMaxRsc);
        if (!v) return std::move(v).error();
        a.rscs.push_back(*v);
    }
    if (!r.done()) return r.fail("trailing octets inside ProSeAuthorisation");
    return a;
}

// ---- files ----

// Bounded (pc5sec/files.hpp): /dev/zero given as a certificate or key is an error naming it.
Result<std::string> read_file(const std::filesystem::path& file) {
    return files::read_file(file);
}

// ---- Certificate ----

namespace {

// The certificates this thread made or parsed that someone still holds, by the SHA-256 of their
// DER. Where one process holds both ends of a link (the simulator), the DER a peer receives is
// often that of a certificate a UE of the same thread holds, and decoding it again is pure waste:
// on OpenSSL 3.0, d2i_X509 decodes the subject public key through the provider decoders, about
// 90 us a certificate, more than the chain check (openssl/openssl#17950). Only weak references
// are kept, so this holds no certificate alive; expired entries are swept as the map grows.
struct Digest32Hash {
    std::size_t operator()(const std::array<std::uint8_t, 32>& d) const noexcept {
        return detail::digest_hash(d);
    }
};
struct LiveCertificates {
    std::unordered_map<std::array<std::uint8_t, 32>, std::weak_ptr<const void>, Digest32Hash> held;
    std::size_t sweep_at = 1024;

    void remember(const std::array<std::uint8_t, 32>& digest, std::shared_ptr<const void> x) {
        if (held.size() >= sweep_at) {
            std::erase_if(held, [](const auto& e) { return e.second.expired(); });
            sweep_at = std::max<std::size_t>(1024, 2 * held.size());
        }
        held.insert_or_assign(digest, std::move(x));
    }
    std::shared_ptr<const void> recall(const std::array<std::uint8_t, 32>& digest) {
        const auto it = held.find(digest);
        return it == held.end() ? nullptr : it->second.lock();
    }
};
thread_local LiveCertificates live;

}  // namespace

Result<Certificate> Certificate::adopt(X509* x509, std::string_view source) {
    detail::X509Ptr owned(x509);
    if (!x509) return make_error(Errc::invalid_argument, std::string(source), "no certificate");
    auto d = std::make_shared<Decoded>();

    const X509_NAME* subject = X509_get_subject_name(x509);
    const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (idx >= 0 && X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
        return make_error(Errc::malformed, detail::at(source, "subject"),
                          "more than one CN: the user info ID would be ambiguous");
    if (idx >= 0) {
        const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
        unsigned char* utf8 = nullptr;
        const int n = ASN1_STRING_to_UTF8(&utf8, cn);
        if (n < 0)
            return make_error(Errc::malformed, detail::at(source, "subject"),
                              "CN is not a valid string");
        d->subject.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
        OPENSSL_free(utf8);
        if (std::any_of(d->subject.begin(), d->subject.end(),
                        [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; }))
            return make_error(Errc::malformed, detail::at(source, "subject"),
                              "the CN holds control characters");
    }

    auto nb = detail::from_asn1(X509_get0_notBefore(x509), detail::at(source, "notBefore"));
    if (!nb) return std::move(nb).error();
    auto na = detail::from_asn1(X509_get0_notAfter(x509), detail::at(source, "notAfter"));
    if (!na) return std::move(na).error();
    d->not_before = *nb;
    d->not_after = *na;

    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), nullptr);
    if (!bn)
        return make_error(Errc::malformed, detail::at(source, "serialNumber"),
                          detail::openssl_error());
    char* hex = BN_bn2hex(bn);
    BN_free(bn);
    if (!hex) throw CryptoLibraryError("BN_bn2hex failed");
    d->serial_hex = hex;
    OPENSSL_free(hex);
    std::transform(d->serial_hex.begin(), d->serial_hex.end(), d->serial_hex.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });

    ASN1_OBJECT* oid = OBJ_txt2obj(kProSeAuthorisationOid, 1);
    if (!oid) throw CryptoLibraryError("OBJ_txt2obj failed");
    const int ext_idx = X509_get_ext_by_OBJ(x509, oid, -1);
    if (ext_idx >= 0 && X509_get_ext_by_OBJ(x509, oid, ext_idx) >= 0) {
        ASN1_OBJECT_free(oid);
        return make_error(
            Errc::malformed,
            detail::at(source, fmt::format("prose-authorisation ({})", kProSeAuthorisationOid)),
            "the extension appears twice");
    }
    ASN1_OBJECT_free(oid);
    if (ext_idx >= 0) {
        const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(x509, ext_idx));
        auto a = decode_authorisation(
            std::span<const std::uint8_t>(ASN1_STRING_get0_data(data),
                                          static_cast<std::size_t>(ASN1_STRING_length(data))),
            detail::at(source, fmt::format("prose-authorisation ({})", kProSeAuthorisationOid)));
        if (!a) return std::move(a).error();
        d->authorisation = std::move(*a);
        d->has_authorisation = true;
    }

    EVP_PKEY* pk = X509_get_pubkey(x509);  // a new reference
    if (!pk)
        return make_error(Errc::malformed, detail::at(source, "subjectPublicKeyInfo"),
                          detail::openssl_error());
    auto pub = PublicKey::from_evp(PkeyPtr(pk));
    if (!pub)
        return make_error(Errc::unsupported, detail::at(source, "subjectPublicKeyInfo"),
                          pub.error().message);
    d->public_key = std::move(*pub);

    const int der_len = i2d_X509(x509, nullptr);
    if (der_len <= 0)
        return make_error(Errc::malformed, std::string(source), detail::openssl_error());
    d->der.resize(static_cast<std::size_t>(der_len));
    unsigned char* p = d->der.data();
    i2d_X509(x509, &p);
    unsigned int md_len = 0;
    if (EVP_Digest(d->der.data(), d->der.size(), d->digest.data(), &md_len, EVP_sha256(),
                   nullptr) != 1)
        throw CryptoLibraryError("SHA-256 failed");

    d->x509 = std::shared_ptr<X509>(owned.release(), X509_free);
    Certificate c;
    c.source_ = std::string(source);
    c.decoded_ = std::move(d);
    live.remember(c.decoded_->digest, c.decoded_);
    return c;
}

Result<Certificate> Certificate::from_der(std::span<const std::uint8_t> der,
                                          std::string_view source) {
    // Parsing is pure: the same DER always gives the same certificate, and a parsed one is
    // immutable. Where one process holds many UEs (the simulator: a relay's certificate reaches
    // every UE of its zone), each is decoded once per thread: a certificate someone on this
    // thread holds is recalled, and the last 256 decoded are kept. Failures are not kept.
    thread_local std::map<std::array<std::uint8_t, 32>, Certificate> parsed;
    std::array<std::uint8_t, 32> digest{};
    unsigned int md_len = 0;
    if (EVP_Digest(der.data(), der.size(), digest.data(), &md_len, EVP_sha256(), nullptr) != 1)
        throw CryptoLibraryError("SHA-256 failed");
    if (auto it = parsed.find(digest); it != parsed.end()) {
        Certificate c = it->second;
        c.source_ = std::string(source);
        return c;
    }
    // The same DER as a certificate held on this thread: the same certificate, decoded already.
    if (auto held = live.recall(digest)) {
        Certificate c;
        c.source_ = std::string(source);
        c.decoded_ = std::static_pointer_cast<const Decoded>(std::move(held));
        return c;
    }
    auto c = parse_der(der, source);
    if (c) {
        if (parsed.size() >= 256) parsed.clear();  // a bound, not a policy: parse again
        parsed.emplace(digest, *c);
    }
    return c;
}

Result<Certificate> Certificate::parse_der(std::span<const std::uint8_t> der,
                                           std::string_view source) {
    const unsigned char* p = der.data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (!x) return make_error(Errc::malformed, detail::at(source, "DER"), detail::openssl_error());
    if (p != der.data() + der.size()) {
        X509_free(x);
        return make_error(Errc::malformed, detail::at(source, "DER"),
                          "trailing octets after the certificate");
    }
    return adopt(x, source);
}

Result<Certificate> Certificate::from_pem(std::string_view pem, std::string_view source) {
    detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509* x = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!x)
        return make_error(Errc::malformed, detail::at(source, "PEM"),
                          "not a PEM certificate (" + detail::openssl_error() + ")");
    return adopt(x, source);
}

Result<Certificate> Certificate::load(const std::filesystem::path& file) {
    auto text = read_file(file);
    if (!text) return std::move(text).error();
    return from_pem(*text, file.string());
}

std::string Certificate::to_pem() const {
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), x509()) != 1)
        throw CryptoLibraryError("cannot write a certificate as PEM");
    return detail::bio_string(bio.get());
}

// ---- RevocationList ----

Result<RevocationList> RevocationList::adopt(X509_CRL* crl, std::string_view source) {
    detail::CrlPtr owned(crl);
    if (!crl) return make_error(Errc::invalid_argument, std::string(source), "no revocation list");
    RevocationList r;
    r.source_ = std::string(source);
    int crit = 0;
    auto* num =
        static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, nullptr));
    if (num) {
        std::uint64_t v = 0;
        const int ok = ASN1_INTEGER_get_uint64(&v, num);
        ASN1_INTEGER_free(num);
        if (ok != 1)
            return make_error(Errc::malformed, detail::at(source, "crlNumber"), "out of range");
        r.number_ = v;
    }
    unsigned char* der = nullptr;
    const int der_len = i2d_X509_CRL(crl, &der);
    if (der_len <= 0)
        return make_error(Errc::malformed, std::string(source), detail::openssl_error());
    unsigned int md_len = 0;
    const int ok = EVP_Digest(der, static_cast<std::size_t>(der_len), r.digest_.data(), &md_len,
                              EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (ok != 1) throw CryptoLibraryError("SHA-256 failed");
    r.crl_ = std::shared_ptr<X509_CRL>(owned.release(), X509_CRL_free);
    return r;
}

Result<RevocationList> RevocationList::from_pem(std::string_view pem, std::string_view source) {
    detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509_CRL* crl = bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!crl)
        return make_error(Errc::malformed, detail::at(source, "PEM"),
                          "not a PEM revocation list (" + detail::openssl_error() + ")");
    return adopt(crl, source);
}

Result<RevocationList> RevocationList::load(const std::filesystem::path& file) {
    auto text = read_file(file);
    if (!text) return std::move(text).error();
    return from_pem(*text, file.string());
}

bool RevocationList::is_revoked(const Certificate& cert) const {
    X509_REVOKED* entry = nullptr;
    return X509_CRL_get0_by_serial(crl_.get(), &entry, X509_get0_serialNumber(cert.x509())) == 1;
}

std::vector<std::string> RevocationList::revoked_serials_hex() const {
    std::vector<std::string> out;
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl_.get());
    for (int i = 0; revoked && i < sk_X509_REVOKED_num(revoked); ++i) {
        BIGNUM* bn = ASN1_INTEGER_to_BN(
            X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)), nullptr);
        char* hex = bn ? BN_bn2hex(bn) : nullptr;
        BN_free(bn);
        if (!hex) throw CryptoLibraryError("BN_bn2hex failed");
        std::string s = hex;
        OPENSSL_free(hex);
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        out.push_back(std::move(s));
    }
    return out;
}

std::string RevocationList::to_pem() const {
    detail::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl_.get()) != 1)
        throw CryptoLibraryError("cannot write a revocation list as PEM");
    return detail::bio_string(bio.get());
}

}  // namespace pc5sec::creds
