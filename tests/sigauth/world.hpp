// Three UEs (source "alice", relay "relay-1", target "bob") with credentials made in memory by a
// provisioning function, in either mode, on one Radio.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "driver.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::sigauth::test {

inline constexpr pc5::L2Id kSourceL2 = 0x000a01, kRelayL2 = 0x000b02, kTargetL2 = 0x000c03;
inline constexpr std::uint32_t kRsc = 0x000001;
inline const std::string kSource = "alice", kRelay = "relay-1", kTarget = "bob";

struct Ue {
    std::string name;
    creds::UeProfile profile;
    std::optional<creds::IssuedCredentials> creds;  // hardened
    std::optional<PrivateKey> key;                  // literal
};

class World {
  public:
    using Hours = std::chrono::hours;
    creds::TimePoint t0 = creds::from_unix_seconds(1'800'000'000);
    DeterministicRng rng{7};
    std::optional<creds::ProvisioningFunction> pf;
    std::optional<creds::TrustStore> trust;
    pc5::KeyLogCollector log_source, log_relay, log_target;
    Config source_cfg, relay_cfg, target_cfg;
    pc5::Path path = pc5::Path::l2;  // the relay's path the source asks for
    std::unique_ptr<Engine> source, relay, target;
    Radio radio;

    explicit World(Mode mode) {
        pf.emplace(
            creds::ProvisioningFunction::create(t0 - Hours(24), Hours(24 * 365), "test CA", rng)
                .value());
        source_cfg = end_ue(mode, kSource, kSourceL2, {creds::Role::end_ue}, {kRsc});
        target_cfg = end_ue(mode, kTarget, kTargetL2, {creds::Role::end_ue}, {kRsc});
        relay_cfg = end_ue(mode, kRelay, kRelayL2, {creds::Role::u2u_relay}, {kRsc});
        relay_cfg.role = Role::relay;
        relay_cfg.rscs = {kRsc};
        relay_cfg.directory = {{kSource, kSourceL2}, {kTarget, kTargetL2}};
        source_cfg.keylog = &log_source;
        relay_cfg.keylog = &log_relay;
        target_cfg.keylog = &log_target;
    }

    creds::IssuedCredentials issue(const std::string& name, std::vector<creds::Role> roles,
                                   std::vector<std::uint32_t> rscs, Hours validity = Hours(24 * 30),
                                   creds::ProvisioningFunction* by = nullptr) {
        creds::UeProfile p{
            name, creds::Authorisation{std::move(roles), std::move(rscs)}, KeyType::p256, {}};
        return (by ? by : &*pf)->issue(p, t0 - Hours(1), validity, rng).value();
    }

    Config end_ue(Mode mode, const std::string& name, pc5::L2Id l2, std::vector<creds::Role> roles,
                  std::vector<std::uint32_t> rscs) {
        Config c;
        c.user_info = name;
        c.l2_id = l2;
        c.mode = mode;
        c.rng = &rng;
        c.wall_clock_at_zero = t0;
        if (mode == Mode::hardened) {
            auto ic = issue(name, std::move(roles), std::move(rscs));
            c.key = ic.key;
            c.certificate = ic.certificate;
            c.trust = creds::TrustStore::create(pf->ca_certificate()).value();
        } else {
            c.key = PrivateKey::generate(KeyType::p256, rng).value();
        }
        return c;
    }

    void set_credentials(Config& c, const creds::IssuedCredentials& ic) {
        c.key = ic.key;
        c.certificate = ic.certificate;
    }

    // Installs the provisioning function's current revocation list at every UE.
    void distribute_crl() {
        for (Config* c : {&source_cfg, &relay_cfg, &target_cfg})
            if (c->trust) {
                ASSERT_TRUE(c->trust->set_revocation_list(*pf->revocation_list()));
            }
    }

    void build() {
        source = Engine::create(source_cfg).value();
        relay = Engine::create(relay_cfg).value();
        target = Engine::create(target_cfg).value();
        radio.attach(*source);
        radio.attach(*relay);
        radio.attach(*target);
    }

    pc5::ConnectRequest request() const {
        pc5::ConnectRequest r;
        r.target = kTarget;
        r.path = path;
        r.rsc = kRsc;
        r.relay = kRelay;
        r.relay_l2 = kRelayL2;
        return r;
    }

    void connect() {
        source->connect(request(), radio.now);
        radio.run();
    }

    std::vector<pc5::LinkEstablished> established(const Engine& e) {
        return radio.events_of<pc5::LinkEstablished>(e);
    }
    std::vector<pc5::LinkFailed> failures(const Engine& e) {
        return radio.events_of<pc5::LinkFailed>(e);
    }
};

// How many messages of `type` a counter map holds (Counters::sent_messages, received_messages).
inline std::size_t count_of(const std::map<codec::MessageType, std::uint64_t>& m,
                            codec::MessageType type) {
    auto it = m.find(type);
    return it == m.end() ? 0u : static_cast<std::size_t>(it->second);
}

// The request as the relay forwarded it to the target (an attacker's recording of it).
inline pc5::Frame forwarded_request(World& w) {
    for (const auto& f : w.radio.sent)
        if (f.src == kRelayL2 && f.dst == kTargetL2 && f.lcid == pc5::lcid::kSrb0) return f;
    ADD_FAILURE() << "no forwarded request";
    return {};
}

}  // namespace pc5sec::sigauth::test
