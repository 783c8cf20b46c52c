// Three UEs (source "alice", relay "relay-1", target "bob") with credentials made in memory by a
// provisioning function, in either mode, on one Radio.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "driver.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/srap.hpp"

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

    // The end-to-end links (what the application asked for); all_established adds the hops to
    // the relay that each of them comes with (docs/solution-b.md "The hops").
    std::vector<pc5::LinkEstablished> established(const Engine& e) {
        auto all = all_established(e);
        std::erase_if(all, [](const auto& x) { return x.link.kind == pc5::LinkKind::hop; });
        return all;
    }
    std::vector<pc5::LinkEstablished> all_established(const Engine& e) {
        return radio.events_of<pc5::LinkEstablished>(e);
    }
    // Releases of end-to-end links (a hop goes with its link).
    std::vector<pc5::LinkReleased> released(const Engine& e) {
        std::set<std::string> hops;
        for (const auto& x : all_established(e))
            if (x.link.kind == pc5::LinkKind::hop) hops.insert(x.link.id);
        auto all = radio.events_of<pc5::LinkReleased>(e);
        std::erase_if(all, [&](const auto& x) { return hops.count(x.id) > 0; });
        return all;
    }
    std::vector<pc5::LinkFailed> failures(const Engine& e) {
        return radio.events_of<pc5::LinkFailed>(e);
    }
};

// The relay's adaptation layer (TS 38.351 SRAP on LCID 55, include/pc5sec/srap.hpp): what the
// relay forwards to an end UE, an SL-SRB0 message of the other end (bearer 0) or its protected
// PC5-S (bearer 2); and what an end UE sends to the other end through the relay (bearer 2).
inline bool on_srap(const pc5::Frame& f, std::uint8_t bearer) {
    return f.lcid == pc5::lcid::kEndToEnd && f.pdu.size() >= srap::kHeaderSize &&
           (f.pdu[0] & 0x1F) == bearer;
}
inline bool forwarded_srb0(const pc5::Frame& f) {
    return on_srap(f, pc5::lcid::kSrb0);
}
inline bool protected_pc5s(const pc5::Frame& f) {
    return on_srap(f, pc5::lcid::kSrb2);
}
// The SRAP header the relay writes on what it forwards to `to` (the local UE IDs it gave both
// ends), for frames made up as if the relay forwarded them; `bearer` 2 is protected PC5-S.
inline srap::Header relayed_header(const std::vector<pc5::Frame>& sent, pc5::L2Id to,
                                   std::uint8_t bearer = pc5::lcid::kSrb2) {
    for (const auto& f : sent)
        if (f.src == kRelayL2 && f.dst == to && forwarded_srb0(f)) {
            auto h = srap::parse_header(f.pdu).value();
            h.bearer = bearer;
            return h;
        }
    ADD_FAILURE() << "the relay forwarded nothing to this UE";
    return {};
}
inline pc5::Frame relayed(const std::vector<pc5::Frame>& sent, pc5::L2Id to,
                          std::span<const std::uint8_t> pdu) {
    pc5::Frame f{kRelayL2, to, pc5::lcid::kEndToEnd, {}};
    (void)srap::append_header(relayed_header(sent, to), f.pdu);
    f.pdu.insert(f.pdu.end(), pdu.begin(), pdu.end());
    return f;
}

// The message (or PDCP PDU) a frame carries, behind its SRAP header on LCID 55.
inline std::span<const std::uint8_t> payload(const pc5::Frame& f) {
    const std::size_t at = f.lcid == pc5::lcid::kEndToEnd ? srap::kHeaderSize : 0;
    return std::span(f.pdu).subspan(std::min(at, f.pdu.size()));
}
inline std::size_t payload_offset(const pc5::Frame& f) {
    return f.lcid == pc5::lcid::kEndToEnd ? srap::kHeaderSize : 0;
}
inline void set_payload(pc5::Frame& f, const std::vector<std::uint8_t>& bytes) {
    f.pdu.resize(payload_offset(f));
    f.pdu.insert(f.pdu.end(), bytes.begin(), bytes.end());
}

// The relay holds no end-to-end key (seed 001): its key log has its hops' keys only, none
// under the end-to-end link's id, no KD and no KD-sess.
inline void expect_relay_holds_no_end_to_end_key(const pc5::KeyLogCollector& relay_log,
                                                 const std::string& e2e_id) {
    for (const auto& rec : relay_log.records()) {
        EXPECT_NE(rec.link_id, e2e_id) << rec.label;
        EXPECT_NE(rec.label, "KD");
        EXPECT_NE(rec.label, "KD_SESS");
        EXPECT_NE(rec.link_id.find(kRelay), std::string::npos) << rec.link_id;  // a hop's id
    }
}

// The same keys (KNRP-sess ID, algorithms, NRPEK, NRPIK).
inline bool same_keys(const pc5::DataKeys& x, const pc5::DataKeys& y) {
    return x.knrp_sess_id == y.knrp_sess_id && x.ciphering == y.ciphering &&
           x.integrity == y.integrity && x.nrpek == y.nrpek && x.nrpik == y.nrpik;
}

// How many messages of `type` a counter map holds (Counters::sent_messages, received_messages).
inline std::size_t count_of(const std::map<codec::MessageType, std::uint64_t>& m,
                            codec::MessageType type) {
    auto it = m.find(type);
    return it == m.end() ? 0u : static_cast<std::size_t>(it->second);
}

// The request as the relay forwarded it to the target (an attacker's recording of it).
inline pc5::Frame forwarded_request(World& w) {
    for (const auto& f : w.radio.sent)
        if (f.src == kRelayL2 && f.dst == kTargetL2 && forwarded_srb0(f)) return f;
    ADD_FAILURE() << "no forwarded request";
    return {};
}

}  // namespace pc5sec::sigauth::test
