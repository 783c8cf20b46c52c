// The processing model's costs (include/pc5sec/sim.hpp, docs/scenarios.md "Processing time"):
// the default table, the named device profiles, and the "measured" profile, which times the
// operations on this machine.
#include <algorithm>
#include <array>
#include <chrono>
#include <vector>

#include "pc5sec/asymmetric.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sim.hpp"

namespace pc5sec::sim {

CostTable CostTable::scaled(double factor) const {
    return {sign_us * factor,          verify_us * factor, cert_verify_us * factor,
            key_agreement_us * factor, keygen_us * factor, kdf_us * factor,
            pdcp_us * factor};
}

// `pc5sec bench --min-time 1` on the project's machine (AMD EPYC, 2 cores, Debian 12, OpenSSL
// 3.0, ipsec-mb 1.3), 2026-12-03: ecdsa-p256-sign 33,149/s, ecdsa-p256-verify 12,136/s,
// cert-verify-cold 11,703/s, ecdh-p256 8,142/s, keygen-p256 7,392/s, kdf-3gpp 885,808/s,
// pdcp-nea2-nia2-200 2,061,073/s. Fixed, so a seeded run gives the same latencies on every
// machine.
const CostTable& default_costs() {
    static const CostTable t{30.2, 82.4, 85.4, 122.8, 135.3, 1.1, 0.5};
    return t;
}

const std::vector<DeviceProfile>& device_profiles() {
    static const std::vector<DeviceProfile> p{
        {"default", "the project's machine (a server core)",
         "pc5sec bench on an AMD EPYC core, 2026-12-03 (src/sim/processing.cpp)", 1},
        {"handset", "a mid-range phone's application core",
         "an assumption, not a measurement: 4x the default table", 4},
        {"wearable", "a wearable or IoT UE",
         "an assumption, not a measurement: 20x the default table (the [evaluation] issue's "
         "example of a slow UE)",
         20},
    };
    return p;
}

namespace {

using Clock = std::chrono::steady_clock;

// The median of 5 batches of `n` calls, in microseconds per call.
template <typename F>
double time_us(std::size_t n, F&& f) {
    std::array<double, 5> batches{};
    for (auto& b : batches) {
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i)
            f();
        b = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
            static_cast<double>(n);
    }
    std::sort(batches.begin(), batches.end());
    return batches[2];
}

}  // namespace

CostTable measure_costs() {
    using namespace std::chrono_literals;
    CostTable t;
    const std::vector<std::uint8_t> message(256, 0x5a);
    auto key = PrivateKey::generate(KeyType::p256);
    auto other = PrivateKey::generate(KeyType::p256);
    if (!key || !other) return default_costs();  // OpenSSL out of memory: keep the table
    const auto signature = sign(*key, message);
    if (!signature) return default_costs();
    const auto pub = key->public_key();
    t.sign_us = time_us(40, [&] { (void)sign(*key, message); });
    t.verify_us = time_us(20, [&] { (void)verify(pub, message, *signature); });
    t.key_agreement_us = time_us(20, [&] { (void)key_agreement(*key, other->public_key()); });
    t.keygen_us = time_us(20, [&] { (void)PrivateKey::generate(KeyType::p256); });
    const std::array<std::uint8_t, 32> k{};
    t.kdf_us = time_us(400, [&] { (void)kdf(k, 0xB1, {message, message}); });
    // One PDU of 200 octets ciphered and its MAC-I computed (NEA2 and NIA2, as the user plane).
    const std::array<std::uint8_t, 16> k16{};
    auto c = CipheringContext::create(CipheringAlgorithm::nea2, k16);
    auto m = IntegrityContext::create(IntegrityAlgorithm::nia2, k16);
    std::vector<std::uint8_t> pdu(200, 0x11);
    if (c && m)
        t.pdcp_us = time_us(400, [&] {
            (void)c->apply({1, 4, 0}, pdu, pdu, pdu.size() * 8);
            (void)m->compute({1, 4, 0}, pdu, pdu.size() * 8);
        });
    // A certificate chain checked cold (X509_verify_cert with the revocation list).
    const auto now = creds::Clock::now();
    auto pf = creds::ProvisioningFunction::create(now - 24h, 24h * 365);
    if (pf) {
        creds::UeProfile p;
        p.user_info_id = "measure";
        p.authorisation = {{creds::Role::end_ue}, {1}};
        auto issued = pf->issue(p, now - 1h, 24h);
        auto trust = creds::TrustStore::create(pf->ca_certificate());
        if (issued && trust)
            t.cert_verify_us = time_us(20, [&] { (void)trust->verify(issued->certificate, now); });
    }
    if (t.cert_verify_us == 0) t.cert_verify_us = t.verify_us;
    return t;
}

}  // namespace pc5sec::sim
