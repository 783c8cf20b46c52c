// Test helpers for the link engines: the in-process medium (pc5::Loopback) and one in-memory
// provisioning function per test program.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pc5sec/link.hpp"
#include "pc5sec/loopback.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::testing {

using namespace std::chrono_literals;

using Net = pc5::Loopback;

// One provisioning function for a whole test program (key generation is not free).
struct Pki {
    creds::TimePoint epoch = creds::from_unix_seconds(1'790'000'000);  // 2026-09
    creds::ProvisioningFunction pf;

    static Pki& instance() {
        static Pki pki = [] {
            auto epoch = creds::from_unix_seconds(1'790'000'000);
            auto pf =
                creds::ProvisioningFunction::create(epoch - 24h, std::chrono::hours(24 * 3650));
            if (!pf) throw std::runtime_error(pf.error().describe());
            return Pki{epoch, std::move(*pf)};
        }();
        return pki;
    }

    std::shared_ptr<creds::CredentialManager> issue(const std::string& name,
                                                    std::vector<creds::Role> roles,
                                                    std::vector<creds::Rsc> rscs,
                                                    std::chrono::seconds validity = 24h * 30,
                                                    creds::TimePoint not_before = {}) {
        creds::UeProfile p;
        p.user_info_id = name;
        p.authorisation = creds::Authorisation{std::move(roles), std::move(rscs)};
        auto c = pf.issue(p, not_before == creds::TimePoint{} ? epoch - 1h : not_before, validity);
        if (!c) throw std::runtime_error(c.error().describe());
        auto trust = creds::TrustStore::create(pf.ca_certificate());
        if (!trust) throw std::runtime_error(trust.error().describe());
        auto m = std::make_shared<creds::CredentialManager>(
            c->key, c->certificate, std::move(*trust), std::chrono::hours(1));
        m->set_logger([](std::string_view) {});
        return m;
    }
};

}  // namespace pc5sec::testing
