// Benchmark workloads of creds/: certificate verification against the trust anchor, cold
// (X509_verify_cert: chain, ECDSA P-256 signature, dates; then the revocation list) and through
// the VerificationCache a busy relay uses. Both rows rotate through 64 peer certificates that
// are already parsed, so neither includes the DER parse; the ratio is what the cache saves.
#include <memory>
#include <stdexcept>

#include "bench/registry.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::bench {
namespace {

constexpr std::size_t kPeers = 64;
constexpr std::size_t kBatch = 16;

struct CredsFixture {
    creds::TimePoint now = creds::Clock::now();
    std::optional<creds::ProvisioningFunction> pf;
    std::optional<creds::TrustStore> trust;
    std::vector<creds::Certificate> peers;
    creds::VerificationCache cache{4096};
    std::size_t next = 0;

    CredsFixture() {
        using std::chrono::hours;
        pf.emplace(creds::ProvisioningFunction::create(now - hours(24), hours(24 * 365)).value());
        for (std::size_t i = 0; i < kPeers; ++i) {
            creds::UeProfile p{"ue-" + std::to_string(i),
                               creds::Authorisation{{creds::Role::end_ue}, {1}},
                               KeyType::p256,
                               {}};
            peers.push_back(pf->issue(p, now - hours(1), hours(24 * 30)).value().certificate);
        }
        // One unrelated revoked certificate, so the revocation list is really consulted.
        const auto other =
            pf->issue(creds::UeProfile{"revoked", {{creds::Role::end_ue}, {1}}, KeyType::p256, {}},
                      now - hours(1), hours(24))
                .value();
        (void)pf->revoke(other.certificate, now);
        trust.emplace(creds::TrustStore::create(pf->ca_certificate()).value());
        if (!trust->set_revocation_list(*pf->revocation_list()))
            throw std::runtime_error("bench: cannot install the revocation list");
    }
    const creds::Certificate& peer() { return peers[next++ % kPeers]; }
};

void must(bool ok) {
    if (!ok) throw std::runtime_error("bench: certificate verification failed");
}

}  // namespace

std::vector<Workload> creds_workloads() {
    auto f = std::make_shared<CredsFixture>();
    std::vector<Workload> out;
    out.push_back(Workload{"cert-verify-cold", "ops/s",
                           [f]() {
                               for (std::size_t i = 0; i < kBatch; ++i)
                                   must(f->trust->verify(f->peer(), f->now).ok());
                               return static_cast<double>(kBatch);
                           },
                           1.0, "", "", false,
                           "X509_verify_cert (ECDSA P-256) + CRL lookup, 64 peers"});
    out.push_back(Workload{"cert-verify-cached", "ops/s",
                           [f]() {
                               for (std::size_t i = 0; i < kBatch; ++i)
                                   must(f->cache.verify(*f->trust, f->peer(), f->now).ok());
                               return static_cast<double>(kBatch);
                           },
                           1.0, "cert-verify-cold", ">=10", false,
                           "VerificationCache hit (SHA-256 key, window and CRL version checked)"});
    return out;
}

}  // namespace pc5sec::bench
