// A small driver for the user-plane tests, shaped as the simulator will drive it: each UE has a
// link engine (solution A link::Engine or solution B sigauth::Engine) and a userplane::Endpoint;
// frames go FIFO on one radio, data frames (userplane::carries_data) to the user plane and the
// rest to the engine. On LinkEstablished / LinkRekeyed the driver installs the engine's
// data_keys; a relay's user plane observes what its engine forwards on LCID 55; a layer-3
// relay joins its two hops; RekeyNeeded makes it call link::Engine::rekey.
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
    std::unique_ptr<link::Engine> a;
    std::unique_ptr<sigauth::Engine> b;
    pc5::Endpoint* engine = nullptr;
    std::unique_ptr<userplane::Endpoint> up;
    pc5::KeyLogCollector keylog;
    std::vector<pc5::Event> events;  // the engine's
    std::vector<pc5::DataReceived> received;
    std::vector<pc5::PduDropped> up_drops;
    std::map<std::string, std::string> hops_by_peer;  // relay: installed hop links
    std::vector<std::string> rekeys_requested;
};

class World {
  public:
    explicit World(Solution s, bool l3_relay = false) : solution_(s), l3_relay_(l3_relay) {}

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
        if (solution_ == Solution::a) {
            link::Config c;
            c.user_info = name;
            c.l2_id = l2;
            c.role = relay ? link::UeRole::relay : link::UeRole::end_ue;
            auto trust = creds::TrustStore::create(Pki::instance().pf.ca_certificate());
            c.credentials = std::make_shared<creds::CredentialManager>(creds.key, creds.certificate,
                                                                       std::move(*trust), 1h);
            c.credentials->set_logger([](std::string_view) {});
            c.wall_epoch = Pki::instance().epoch;
            c.directory = {{"alice", kAlice}, {"bob", kBob}};
            c.keylog = &ue->keylog;
            ue->a = link::Engine::create(std::move(c)).value();
            ue->engine = ue->a.get();
        } else {
            sigauth::Config c;
            c.role = relay ? sigauth::Role::relay : sigauth::Role::end_ue;
            c.user_info = name;
            c.l2_id = l2;
            c.key = creds.key;
            c.certificate = creds.certificate;
            c.trust = creds::TrustStore::create(Pki::instance().pf.ca_certificate()).value();
            c.wall_clock_at_zero = Pki::instance().epoch;
            if (relay) c.rscs = {kRsc};
            c.directory = {{"alice", kAlice}, {"bob", kBob}};
            c.keylog = &ue->keylog;
            ue->b = sigauth::Engine::create(std::move(c)).value();
            ue->engine = ue->b.get();
        }
        userplane::Config uc;
        uc.l2_id = l2;
        uc.key_source = ue->engine;
        uc.rekey_threshold = rekey_threshold;
        ue->up = std::make_unique<userplane::Endpoint>(uc);
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
        ue(kAlice).engine->connect(r, now);
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
        auto st = ue(from).up->send(data_link(from), bearer, data, now);
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
                next = std::min(next, u->engine->next_timeout());
            if (next == pc5::kNever || next > until) break;
            now = std::max(now, next);
            for (auto& [l2, u] : ues_)
                if (u->engine->next_timeout() <= now) u->engine->handle_timeout(now);
        }
    }

  private:
    void deliver(pc5::Frame& f) {
        captured.push_back(f);
        if (attacker && !attacker(f)) return;
        auto it = ues_.find(f.dst);
        if (it == ues_.end()) return;
        Ue& u = *it->second;
        if (userplane::carries_data(f))
            u.up->receive(f, now);
        else
            u.engine->receive(f, now);
    }

    void install(Ue& u, const std::string& id) {
        auto keys = u.engine->data_keys(id);
        if (!keys) throw std::runtime_error("no data keys at " + u.name + " for " + id);
        auto st = u.up->install(*keys, protection, now);
        if (!st) throw std::runtime_error(st.error().describe());
    }

    void pump() {
        for (auto& [l2, up] : ues_) {
            Ue& u = *up;
            while (auto f = u.engine->poll_transmit()) {
                if (u.relay) u.up->observe_relayed(*f);
                air.push_back(std::move(*f));
            }
            while (auto f = u.up->poll_transmit())
                air.push_back(std::move(*f));
            while (auto ev = u.engine->poll_event()) {
                if (auto* e = std::get_if<pc5::LinkEstablished>(&*ev)) {
                    install(u, e->link.id);
                    if (u.relay && e->link.kind == pc5::LinkKind::hop) {
                        u.hops_by_peer[e->link.peer] = e->link.id;
                        if (l3_relay_ && u.hops_by_peer.size() == 2)
                            (void)u.up->add_l3_route(u.hops_by_peer.at("alice"),
                                                     u.hops_by_peer.at("bob"));
                    }
                } else if (auto* r = std::get_if<pc5::LinkRekeyed>(&*ev)) {
                    install(u, r->link.id);
                } else if (auto* rel = std::get_if<pc5::LinkReleased>(&*ev)) {
                    u.up->remove(rel->id);
                }
                u.events.push_back(std::move(*ev));
            }
            while (auto ev = u.up->poll_event()) {
                if (auto* d = std::get_if<pc5::DataReceived>(&*ev)) u.received.push_back(*d);
                if (auto* d = std::get_if<pc5::PduDropped>(&*ev)) u.up_drops.push_back(*d);
            }
            while (auto r = u.up->poll_rekey()) {
                u.rekeys_requested.push_back(r->link_id);
                if (u.a) (void)u.a->rekey(r->link_id, false, now);
            }
        }
    }

    Solution solution_;
    bool l3_relay_;
    std::map<pc5::L2Id, std::unique_ptr<Ue>> ues_;
};

}  // namespace pc5sec::up_test
