// Solution A establishment workloads ([solution-a] item 5): full establishments per second on
// one core, per topology, with and without KNRP reuse; and next to each, the "crypto floor":
// exactly the asymmetric operations one such establishment performs (counted by the engines
// themselves in a warm-up round), run back to back with nothing else. A row's ratio is CPU per
// establishment / CPU of its floor: how much the engine adds around the public-key work.
//
// The UEs live across rounds like real UEs: their certificate caches stay warm (a relay
// verifies each peer certificate once), and between rounds every link is released and dropped.
// Without reuse the KNRP caches are cleared each round, so step 3 always runs.
#include <map>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "bench/registry.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::bench {
namespace {

using namespace std::chrono_literals;
constexpr creds::Rsc kRsc = 0x00A001;

struct Ue {
    std::unique_ptr<link::Engine> engine;
};

struct Topology {
    pc5::Path path;
    bool reuse;
    std::map<pc5::L2Id, std::unique_ptr<link::Engine>> ues;
    pc5::Time now{0};
    std::size_t expected_links = 0;  // LinkEstablished events per establishment, all UEs

    Topology(pc5::Path p, bool r, creds::ProvisioningFunction& pf, creds::TimePoint epoch)
        : path(p), reuse(r) {
        auto make = [&](const std::string& name, pc5::L2Id l2, bool relay) {
            creds::UeProfile prof;
            prof.user_info_id = name;
            prof.authorisation = {{relay ? creds::Role::u2u_relay : creds::Role::end_ue}, {kRsc}};
            auto issued = pf.issue(prof, epoch - 1h, 24h * 30).value();
            auto trust = creds::TrustStore::create(pf.ca_certificate()).value();
            link::Config c;
            c.user_info = name;
            c.l2_id = l2;
            c.role = relay ? link::UeRole::relay : link::UeRole::end_ue;
            c.credentials = std::make_shared<creds::CredentialManager>(
                issued.key, issued.certificate, std::move(trust), 1h);
            c.credentials->set_logger([](std::string_view) {});
            c.wall_epoch = epoch;
            c.directory = {{"alice", 0x0A}, {"bob", 0x0B}};
            ues[l2] = link::Engine::create(std::move(c)).value();
        };
        make("alice", 0x0A, false);
        make("bob", 0x0B, false);
        if (path != pc5::Path::direct) make("relay", 0x50, true);
        expected_links = path == pc5::Path::direct ? 2 : path == pc5::Path::l3 ? 4 : 6;
    }

    pc5::CryptoOps crypto() const {
        pc5::CryptoOps sum;
        for (const auto& [l2, e] : ues)
            sum += e->counters().crypto;
        return sum;
    }

    // One establishment over a lossless medium; throws unless every link came up.
    void establish() {
        if (!reuse)
            for (auto& [l2, e] : ues)
                e->clear_knrp_cache();
        pc5::ConnectRequest r;
        r.target = "bob";
        r.path = path;
        if (path == pc5::Path::direct) {
            r.target_l2 = 0x0B;
        } else {
            r.rsc = kRsc;
            r.relay = "relay";
            r.relay_l2 = 0x50;
        }
        ues.at(0x0A)->connect(r, now);
        std::size_t up = 0;
        for (bool busy = true; busy;) {
            busy = false;
            for (auto& [l2, e] : ues)
                while (auto f = e->poll_transmit()) {
                    busy = true;
                    if (auto it = ues.find(f->dst); it != ues.end()) it->second->receive(*f, now);
                }
            for (auto& [l2, e] : ues)
                while (auto ev = e->poll_event()) {
                    if (std::holds_alternative<pc5::LinkEstablished>(*ev))
                        ++up;
                    else if (std::holds_alternative<pc5::LinkFailed>(*ev))
                        throw std::runtime_error("bench: establishment failed: " +
                                                 std::get<pc5::LinkFailed>(*ev).reason);
                }
        }
        if (up != expected_links) throw std::runtime_error("bench: not every link came up");
        for (auto& [l2, e] : ues) {  // release everything; the release frames are not delivered
            e->release_all(now);
            while (e->poll_transmit()) {
            }
            while (e->poll_event()) {
            }
        }
        now += 1s;
    }
};

// The asymmetric operations of one establishment, and nothing else.
struct Floor {
    pc5::CryptoOps ops;
    std::optional<PrivateKey> signer;
    std::optional<PrivateKey> x25519;
    std::vector<std::uint8_t> message = std::vector<std::uint8_t>(160, 0x5A);
    std::vector<std::uint8_t> signature;
    std::optional<creds::TrustStore> trust;
    std::optional<creds::Certificate> cert;
    creds::TimePoint epoch;

    void run() {
        for (std::uint64_t i = 0; i < ops.sign; ++i)
            if (!sign(*signer, message)) throw std::runtime_error("bench: sign");
        for (std::uint64_t i = 0; i < ops.verify; ++i)
            if (!verify(signer->public_key(), message, signature))
                throw std::runtime_error("bench: verify");
        for (std::uint64_t i = 0; i < ops.keygen; ++i)
            if (!PrivateKey::generate(KeyType::x25519)) throw std::runtime_error("bench: keygen");
        for (std::uint64_t i = 0; i < ops.key_agreement; ++i)
            if (!key_agreement(*x25519, x25519->public_key()))
                throw std::runtime_error("bench: ecdh");
        for (std::uint64_t i = 0; i < ops.cert_verify; ++i)
            if (!trust->verify(*cert, epoch)) throw std::runtime_error("bench: certificate");
    }
};

// Issue 17 item 4: the heap a layer-2 relay holds after `n` copies of a source's establishment
// request from fresh L2 IDs, 1 ms apart (virtual time), in KiB. Each copy makes a half-open link
// and draws the relay's signed authentication request; Config::max_half_open (64) and
// half_open_lifetime bound what stays.
double relay_flood_kib(creds::ProvisioningFunction& pf, creds::TimePoint epoch, std::size_t n) {
    Topology t(pc5::Path::l2, false, pf, epoch);
    pc5::ConnectRequest r;
    r.target = "bob";
    r.path = pc5::Path::l2;
    r.rsc = kRsc;
    r.relay = "relay";
    r.relay_l2 = 0x50;
    auto& source = *t.ues.at(0x0A);
    source.connect(r, t.now);
    const auto request = source.poll_transmit();
    if (!request) throw std::runtime_error("bench: no request to flood with");
    auto& relay = *t.ues.at(0x50);
    const std::size_t before = heap_in_use();
    for (std::size_t i = 0; i < n; ++i) {
        pc5::Frame f = *request;
        f.src = static_cast<pc5::L2Id>(0x100000 + i);
        relay.receive(f, t.now);
        while (relay.poll_transmit()) {
        }
        while (relay.poll_event()) {
        }
        t.now += 1ms;
        if (relay.next_timeout() <= t.now) relay.handle_timeout(t.now);
    }
    if (relay.link_count() == 0) throw std::runtime_error("bench: the flood made no link");
    const std::size_t after = heap_in_use();
    return after > before ? static_cast<double>(after - before) / 1024.0 : 0.0;
}

}  // namespace

std::vector<Workload> link_workloads() {
    const auto epoch = creds::Clock::now();
    auto pf = std::make_shared<creds::ProvisioningFunction>(
        creds::ProvisioningFunction::create(epoch - 24h, 24h * 365).value());
    std::vector<Workload> out;
    struct Variant {
        const char* name;
        pc5::Path path;
        bool reuse;
    };
    for (const Variant v :
         {Variant{"direct", pc5::Path::direct, false},
          Variant{"direct-reuse", pc5::Path::direct, true}, Variant{"l3", pc5::Path::l3, false},
          Variant{"l3-reuse", pc5::Path::l3, true}, Variant{"l2", pc5::Path::l2, false},
          Variant{"l2-reuse", pc5::Path::l2, true}}) {
        auto topo = std::make_shared<Topology>(v.path, v.reuse, *pf, epoch);
        // Warm-up: fill the certificate caches (and, for reuse, the KNRP caches), then count
        // what one steady-state establishment costs in public-key operations.
        topo->establish();
        const auto before = topo->crypto();
        topo->establish();
        const auto after = topo->crypto();
        auto floor = std::make_shared<Floor>();
        floor->ops = {after.sign - before.sign,
                      after.verify - before.verify,
                      after.cert_verify - before.cert_verify,
                      after.key_agreement - before.key_agreement,
                      after.keygen - before.keygen,
                      0};
        floor->signer = PrivateKey::generate(KeyType::p256).value();
        floor->x25519 = PrivateKey::generate(KeyType::x25519).value();
        floor->signature = sign(*floor->signer, floor->message).value();
        floor->epoch = epoch;
        floor->trust = creds::TrustStore::create(pf->ca_certificate()).value();
        creds::UeProfile prof;
        prof.user_info_id = "floor";
        prof.authorisation = {{creds::Role::end_ue}, {kRsc}};
        floor->cert = pf->issue(prof, epoch - 1h, 24h).value().certificate;
        const auto& o = floor->ops;
        const std::string floor_name = std::string("crypto-floor-a-") + v.name;
        out.push_back(Workload{
            floor_name, "est/s",
            [floor]() {
                floor->run();
                return 1.0;
            },
            1.0, "", "", false,
            fmt::format("{} ECDSA-P256 sign, {} verify, {} X25519 keygen, {} X25519 ECDH, {} "
                        "certificate chain checks",
                        o.sign, o.verify, o.keygen, o.key_agreement, o.cert_verify)});
        out.push_back(Workload{std::string("establish-a-") + v.name, "est/s",
                               [topo]() {
                                   topo->establish();
                                   return 1.0;
                               },
                               1.0, floor_name, "<=1.3", true,
                               fmt::format("{} links per establishment; ratio = CPU per "
                                           "establishment / its crypto floor",
                                           topo->expected_links)});
    }
    for (auto& w :
         memory_rows("relay-flood-a", {500, 10000}, "<=1.25",
                     "heap a layer-2 relay holds after {} copies of a request from "
                     "fresh L2 IDs, 1 ms apart; worst of 3",
                     [pf, epoch](std::size_t n) { return relay_flood_kib(*pf, epoch, n); }))
        out.push_back(std::move(w));
    return out;
}

}  // namespace pc5sec::bench
