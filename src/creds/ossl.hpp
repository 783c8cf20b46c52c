// OpenSSL helpers private to creds/.
#pragma once

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "crypto/openssl_util.hpp"
#include "pc5sec/creds.hpp"

namespace pc5sec::creds::detail {

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;

using ossl::bio_string;
inline std::string openssl_error() {
    return ossl::last_error();
}

// A hash-table hash of a SHA-256 digest (a certificate's cache key): its first octets, already
// uniform.
inline std::size_t digest_hash(const std::array<std::uint8_t, 32>& d) noexcept {
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

// "<source>: <field>"
inline std::string at(std::string_view source, std::string_view field) {
    std::string s(source);
    s += ": ";
    s += field;
    return s;
}

// Wipes text that held a secret (a PEM private key, a hex group key).
inline void secure_wipe_string(std::string& s) noexcept {
    OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

// ASN1_TIME <-> TimePoint.
Result<TimePoint> from_asn1(const ASN1_TIME* t, std::string_view field);
void set_asn1(ASN1_TIME* t, TimePoint tp);

}  // namespace pc5sec::creds::detail
