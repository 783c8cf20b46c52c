// A small test network for the sans-I/O engines: UEs by layer-2 ID, a virtual clock, a fixed
// delay per frame, broadcast delivery, and a hook through which a test plays the attacker
// (alter, drop or record frames). The simulator of [sim] is the full version of this.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pc5sec/link.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::testing {

using namespace std::chrono_literals;

struct Net {
    struct Pending {
        pc5::Time at;
        std::uint64_t order;
        pc5::Frame frame;
    };
    std::map<pc5::L2Id, pc5::Endpoint*> ues;
    pc5::Time now{0};
    pc5::Time delay = 2ms;
    std::vector<Pending> in_flight;
    std::uint64_t order = 0;
    // Return false to drop the frame; may change it.
    std::function<bool(pc5::Frame&)> attacker;
    std::vector<pc5::Frame> delivered;
    std::map<std::string, std::vector<pc5::Event>> events;  // by UE user info

    void add(pc5::Endpoint& e) { ues[e.l2_id()] = &e; }
    void inject(pc5::Frame f) { in_flight.push_back({now + delay, order++, std::move(f)}); }

    void collect() {
        for (auto& [l2, e] : ues) {
            while (auto f = e->poll_transmit())
                in_flight.push_back({now + delay, order++, std::move(*f)});
            while (auto ev = e->poll_event())
                events[e->user_info()].push_back(std::move(*ev));
        }
    }

    // Runs until nothing is in flight and no timer is due before `limit`.
    void run(pc5::Time limit = 120s) {
        collect();
        while (now < limit) {
            pc5::Time next = pc5::kNever;
            for (auto& p : in_flight)
                next = std::min(next, p.at);
            for (auto& [l2, e] : ues)
                next = std::min(next, e->next_timeout());
            if (next == pc5::kNever || next > limit) break;
            now = std::max(now, next);
            // Deliver every frame due now, oldest first.
            std::vector<Pending> due;
            for (auto it = in_flight.begin(); it != in_flight.end();)
                if (it->at <= now) {
                    due.push_back(std::move(*it));
                    it = in_flight.erase(it);
                } else {
                    ++it;
                }
            std::sort(due.begin(), due.end(),
                      [](const Pending& a, const Pending& b) { return a.order < b.order; });
            for (auto& p : due) {
                if (attacker && !attacker(p.frame)) continue;
                delivered.push_back(p.frame);
                for (auto& [l2, e] : ues)
                    if (p.frame.dst == l2 ||
                        (p.frame.dst == pc5::kBroadcastL2Id && l2 != p.frame.src))
                        e->receive(p.frame, now);
            }
            for (auto& [l2, e] : ues)
                if (e->next_timeout() <= now) e->handle_timeout(now);
            collect();
        }
    }

    template <class E>
    std::vector<E> of(const std::string& ue) const {
        std::vector<E> out;
        if (auto it = events.find(ue); it != events.end())
            for (const auto& e : it->second)
                if (auto* x = std::get_if<E>(&e)) out.push_back(*x);
        return out;
    }
};

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
