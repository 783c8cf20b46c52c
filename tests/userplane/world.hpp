// A small driver for the user-plane tests: each UE is a station (pc5sec/station.hpp: a link
// engine of solution A or B and its userplane::Endpoint, wired together); frames go FIFO on one
// radio to the station of their destination. The station installs each link's keys, has a
// relay's user plane observe what its engine forwards, joins a layer-3 relay's hops and re-keys
// at the user plane's threshold; this driver only carries frames and keeps the events.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pc5sec/keylog.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/station.hpp"
#include "pc5sec/userplane.hpp"

namespace pc5sec::up_test {

using namespace std::chrono_literals;

inline constexpr creds::Rsc kRsc = 0x00A001;
inline constexpr pc5::L2Id kAlice = 0x0A, kRelay = 0x50, kBob = 0x0B;

// One provisioning function for the whole test program (key generation is not free).
struct Pki {
    creds::TimePoint epoch = creds::from_unix_seconds(1'790'000'000);
    creds::ProvisioningFunction pf;
    static Pki& instance() {
        static Pki pki = [] {
            auto epoch = creds::from_unix_seconds(1'790'000'000);
            auto pf = creds::ProvisioningFunction::create(epoch - 24h, 24h * 3650);
            if (!pf) throw std::runtime_error(pf.error().describe());
            return Pki{epoch, std::move(*pf)};
        }();
        return pki;
    }
    creds::IssuedCredentials issue(const std::string& name, std::vector<creds::Role> roles) {
        creds::UeProfile p;
        p.user_info_id = name;
        p.authorisation = creds::Authorisation{std::move(roles), {kRsc}};
        auto c = pf.issue(p, epoch - 1h, 24h * 30);
        if (!c) throw std::runtime_error(c.error().describe());
        return std::move(*c);
    }
};

enum class Solution { a, b };

struct Ue {
    std::string name;
    pc5::L2Id l2 = 0;
    bool relay = false;
    std::unique_ptr<station::Station> station;
    link::Engine* a = nullptr;          // the station's engine, solution A
    sigauth::Engine* b = nullptr;       // the station's engine, solution B
    pc5::Endpoint* engine = nullptr;    // either
    userplane::Endpoint* up = nullptr;  // the station's user plane
    pc5::KeyLogCollector keylog;
    std::vector<pc5::Event> events;  // every event but DataReceived and PduDropped
    std::vector<pc5::DataReceived> received;
    std::vector<pc5::PduDropped> drops;  // the engine's and the user plane's
};

class World {
  public:
    explicit World(Solution s) : solution_(s) {}

    pc5::Time now{0};
    std::deque<pc5::Frame> air;
    std::vector<pc5::Frame> captured;  // every frame put on the air
    std::function<bool(pc5::Frame&)> attacker;
    userplane::Protection protection{};
    std::uint32_t rekey_threshold = userplane::kDefaultRekeyThreshold;

    Ue& add(const std::string& name, pc5::L2Id l2, bool relay) {
        auto ue = std::make_unique<Ue>();
        ue->name = name;
        ue->l2 = l2;
        ue->relay = relay;
        auto creds =
            Pki::instance().issue(name, {relay ? creds::Role::u2u_relay : creds::Role::end_ue});
        station::Spec spec;
        spec.solution = solution_ == Solution::a ? pc5::Solution::a : pc5::Solution::b_hardened;
        spec.role = relay ? pc5::UeRole::relay : pc5::UeRole::end_ue;
        spec.user_info = name;
        spec.l2_id = l2;
        auto trust = creds::TrustStore::create(Pki::instance().pf.ca_certificate());
        spec.credentials = std::make_shared<creds::CredentialManager>(creds.key, creds.certificate,
                                                                      std::move(*trust), 1h);
        spec.credentials->set_logger([](std::string_view) {});
        spec.wall_epoch = Pki::instance().epoch;
        spec.directory = {{"alice", kAlice}, {"bob", kBob}};
        spec.keylog = &ue->keylog;
        if (relay) spec.rscs = {kRsc};
        // The protection the test asks for, as a user-plane policy: PREFERRED turns a function on
        // (the links here negotiate non-null algorithms), NOT NEEDED off.
        auto level = [](bool on) { return on ? PolicyLevel::preferred : PolicyLevel::not_needed; };
        spec.policy.user_plane = {level(protection.integrity), level(protection.ciphering)};
        spec.rekey_threshold = rekey_threshold;
        ue->station = station::Station::create(std::move(spec)).value();
        ue->a = ue->station->a();
        ue->b = ue->station->b();
        ue->engine = &ue->station->engine();
        ue->up = &ue->station->user_plane();
        auto& ref = *ue;
        ues_[l2] = std::move(ue);
        return ref;
    }

    Ue& ue(pc5::L2Id l2) { return *ues_.at(l2); }

    // alice, a relay and bob; alice connects along `path` and the links come up.
    void standard(pc5::Path path) {
        add("bob", kBob, false);
        if (path != pc5::Path::direct) add("relay-1", kRelay, true);
        add("alice", kAlice, false);
        pc5::ConnectRequest r;
        r.target = "bob";
        r.path = path;
        r.rsc = kRsc;
        if (path == pc5::Path::direct) {
            r.target_l2 = kBob;
        } else {
            r.relay = "relay-1";
            r.relay_l2 = kRelay;
        }
        ue(kAlice).station->connect(r, now);
        run();
    }

    // The link alice sends data on toward bob: the direct or end-to-end link, or hop 1 (l3).
    std::string data_link(pc5::L2Id who) {
        std::string hop;
        for (const auto& ev : ue(who).events)
            if (auto* e = std::get_if<pc5::LinkEstablished>(&ev)) {
                if (e->link.kind == pc5::LinkKind::e2e) return e->link.id;
                if (hop.empty()) hop = e->link.id;
            }
        return hop;
    }

    void send(pc5::L2Id from, std::uint8_t bearer, std::span<const std::uint8_t> data) {
        auto st = ue(from).station->send(data_link(from), bearer, data, now);
        if (!st) throw std::runtime_error(st.error().describe());
    }

    void inject(pc5::Frame f) {
        air.push_back(std::move(f));
        run(1s);
    }

    void run(pc5::Time horizon = 60s) {
        const pc5::Time until = now + horizon;
        for (int guard = 0; guard < 10'000'000; ++guard) {
            pump();
            if (!air.empty()) {
                auto f = std::move(air.front());
                air.pop_front();
                deliver(f);
                continue;
            }
            pc5::Time next = pc5::kNever;
            for (auto& [l2, u] : ues_)
                next = std::min(next, u->station->next_timeout());
            if (next == pc5::kNever || next > until) break;
            now = std::max(now, next);
            for (auto& [l2, u] : ues_)
                if (u->station->next_timeout() <= now) u->station->handle_timeout(now);
        }
    }

  private:
    void deliver(pc5::Frame& f) {
        captured.push_back(f);
        if (attacker && !attacker(f)) return;
        auto it = ues_.find(f.dst);
        if (it == ues_.end()) return;
        it->second->station->receive(f, now);  // data to the user plane, the rest to the engine
    }

    void pump() {
        for (auto& [l2, up] : ues_) {
            Ue& u = *up;
            while (auto f = u.station->poll_transmit())
                air.push_back(std::move(*f));
            while (auto ev = u.station->poll_event()) {
                if (auto* d = std::get_if<pc5::DataReceived>(&*ev))
                    u.received.push_back(std::move(*d));
                else if (auto* d = std::get_if<pc5::PduDropped>(&*ev))
                    u.drops.push_back(std::move(*d));
                else
                    u.events.push_back(std::move(*ev));
            }
        }
    }

    Solution solution_;
    std::map<pc5::L2Id, std::unique_ptr<Ue>> ues_;
};

}  // namespace pc5sec::up_test
