// Benchmark workloads of sigauth/ (solution B, seed 001): whole establishments source -> relay ->
// target -> relay -> source, all three engines in one thread, frames shuttled in memory; and the
// crypto floor of each mode: exactly the asymmetric operations one establishment needs, on the
// same keys, measured in the same run. The establish-b-* ratio is CPU per establishment over
// the floor (docs/solution-b.md "Operation counts").
//
//   literal : 4 ECDSA P-256 signatures, 6 verifications, 2 ECDH P-256
//   hardened: the same, plus 6 certificate verifications (X509_verify_cert + CRL, cold),
//             2 X25519 key pairs and 2 X25519 agreements
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "bench/registry.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sigauth.hpp"

namespace pc5sec::bench {
namespace {

using sigauth::Mode;
constexpr pc5::L2Id kSource = 0x000a01, kRelay = 0x000b02, kTarget = 0x000c03;
constexpr std::uint32_t kRsc = 1;

struct Credentials {
    creds::TimePoint now = creds::Clock::now();
    std::optional<creds::ProvisioningFunction> pf;
    std::optional<creds::TrustStore> trust;
    std::vector<creds::IssuedCredentials> ues;  // source, relay, target

    Credentials() {
        using std::chrono::hours;
        pf.emplace(creds::ProvisioningFunction::create(now - hours(24), hours(24 * 365)).value());
        const std::pair<const char*, creds::Role> who[] = {{"alice", creds::Role::end_ue},
                                                           {"relay-1", creds::Role::u2u_relay},
                                                           {"bob", creds::Role::end_ue}};
        for (const auto& [name, role] : who)
            ues.push_back(pf->issue(creds::UeProfile{name, {{role}, {kRsc}}, KeyType::p256, {}},
                                    now - hours(1), hours(24 * 30))
                              .value());
        // One unrelated revoked certificate, so the revocation list is really consulted.
        auto other =
            pf->issue(
                  creds::UeProfile{"revoked", {{creds::Role::end_ue}, {kRsc}}, KeyType::p256, {}},
                  now - hours(1), hours(24))
                .value();
        (void)pf->revoke(other.certificate, now);
        trust.emplace(creds::TrustStore::create(pf->ca_certificate()).value());
        if (!trust->set_revocation_list(*pf->revocation_list()))
            throw std::runtime_error("bench: cannot install the revocation list");
    }
};

// Three engines and a virtual clock; establish() runs one link up and releases it again.
struct Establishments {
    Mode mode;
    pc5::Path path;  // l2 (data by SRAP) or l3 (data inside the hops); the hops on both
    std::shared_ptr<Credentials> c;
    std::unique_ptr<sigauth::Engine> source, relay, target;
    pc5::Time now{};

    Establishments(Mode m, std::shared_ptr<Credentials> creds, pc5::Path p = pc5::Path::l2)
        : mode(m), path(p), c(std::move(creds)) {
        const char* names[] = {"alice", "relay-1", "bob"};
        const pc5::L2Id l2s[] = {kSource, kRelay, kTarget};
        std::unique_ptr<sigauth::Engine>* slots[] = {&source, &relay, &target};
        for (int i = 0; i < 3; ++i) {
            sigauth::Config cfg;
            cfg.role = i == 1 ? sigauth::Role::relay : sigauth::Role::end_ue;
            cfg.user_info = names[i];
            cfg.l2_id = l2s[i];
            cfg.mode = m;
            cfg.key = c->ues[i].key;
            if (m == Mode::hardened) {
                cfg.certificate = c->ues[i].certificate;
                cfg.trust = c->trust;
            }
            cfg.rscs = {kRsc};
            cfg.wall_clock_at_zero = c->now;
            cfg.directory = {{"alice", kSource}, {"bob", kTarget}};
            cfg.route_idle_timeout = std::chrono::seconds(1);
            *slots[i] = sigauth::Engine::create(std::move(cfg)).value();
        }
    }

    void shuttle() {
        sigauth::Engine* all[] = {source.get(), relay.get(), target.get()};
        for (bool any = true; any;) {
            any = false;
            for (auto* from : all)
                while (auto f = from->poll_transmit()) {
                    any = true;
                    for (auto* to : all)
                        if (to->l2_id() == f->dst) to->receive(*f, now);
                }
        }
    }

    pc5::ConnectRequest request() const {
        pc5::ConnectRequest req;
        req.target = "bob";
        req.path = path;
        req.rsc = kRsc;
        req.relay = "relay-1";
        req.relay_l2 = kRelay;
        return req;
    }

    void establish() {
        source->connect(request(), now);
        shuttle();
        bool up = false;
        while (auto e = source->poll_event())
            up = up || std::holds_alternative<pc5::LinkEstablished>(*e);
        while (target->poll_event()) {
        }
        if (!up) throw std::runtime_error("bench: solution B establishment failed");
        source->release_all(now);
        shuttle();
        while (source->poll_event()) {
        }
        while (target->poll_event()) {
        }
        now += std::chrono::seconds(2);  // past the relay's route idle timeout
        relay->handle_timeout(now);
    }
};

// Exactly the asymmetric operations of one establishment (the issue's "crypto floor").
struct Floor {
    std::shared_ptr<Credentials> c;
    std::vector<std::uint8_t> message = std::vector<std::uint8_t>(600, 0x5a);
    std::vector<std::uint8_t> signature;

    explicit Floor(std::shared_ptr<Credentials> creds) : c(std::move(creds)) {
        signature = sign(c->ues[0].key, message).value();
    }

    // With the hops of both paths (docs/solution-b.md "The hops"): the source's and the
    // target's ephemeral key pairs (literal only: hardened has them already), the relay's key
    // from its seed, and 4 X25519 agreements (each end one, the relay two).
    void run(Mode mode) {
        std::vector<PrivateKey> hop_keys;
        for (int i = 0; i < (mode == Mode::literal ? 3 : 1); ++i) {
            auto e = PrivateKey::generate(sigauth::kEphemeralKeyType);
            must(e.ok());
            hop_keys.push_back(std::move(*e));
        }
        for (int i = 0; i < 4; ++i)
            must(key_agreement(hop_keys.front(), hop_keys.back().public_key()).ok());
        const auto& a = c->ues[0].key;
        const auto& t = c->ues[2].key;
        for (int i = 0; i < 4; ++i)
            must(sign(a, message).ok());
        for (int i = 0; i < 6; ++i)
            must(verify(a.public_key(), message, signature).ok());
        for (int i = 0; i < 2; ++i)
            must(key_agreement(a, t.public_key()).ok());
        if (mode == Mode::literal) return;
        for (int i = 0; i < 6; ++i)
            must(c->trust->verify(c->ues[i % 3].certificate, c->now).ok());
        auto e1 = PrivateKey::generate(sigauth::kEphemeralKeyType);
        auto e2 = PrivateKey::generate(sigauth::kEphemeralKeyType);
        must(e1.ok() && e2.ok());
        must(key_agreement(*e1, e2->public_key()).ok());
        must(key_agreement(*e2, e1->public_key()).ok());
    }
    static void must(bool ok) {
        if (!ok) throw std::runtime_error("bench: crypto floor operation failed");
    }
};

// Issue 17 item 4: the heap a hardened relay holds after `n` establishment requests from fresh
// L2 IDs, 1 ms apart (virtual time), in KiB. The flood cycles through 1,000 distinct requests,
// each genuinely signed (what a credentialed insider can send; an outsider can only replay, and
// a replay from another L2 ID is dropped at once): every one verifies and makes a pending
// route, so only Config::max_pending_routes bounds them.
double relay_flood_kib(const std::shared_ptr<Credentials>& c, std::size_t n) {
    Establishments e(Mode::hardened, c);
    std::vector<pc5::Frame> pool;
    for (int i = 0; i < 1000; ++i) {
        e.source->connect(e.request(), e.now);
        while (auto f = e.source->poll_transmit())
            pool.push_back(std::move(*f));
    }
    while (e.source->poll_event()) {
    }
    const std::size_t before = heap_in_use();
    for (std::size_t i = 0; i < n; ++i) {
        pc5::Frame f = pool[i % pool.size()];
        f.src = static_cast<pc5::L2Id>(0x100000 + i);
        e.relay->receive(f, e.now);
        while (e.relay->poll_transmit()) {
        }
        while (e.relay->poll_event()) {
        }
        e.now += std::chrono::milliseconds(1);
        if (e.relay->next_timeout() <= e.now) e.relay->handle_timeout(e.now);
    }
    if (e.relay->route_count() == 0) throw std::runtime_error("bench: the flood made no route");
    const std::size_t after = heap_in_use();
    return after > before ? static_cast<double>(after - before) / 1024.0 : 0.0;
}

}  // namespace

std::vector<Workload> sigauth_workloads() {
    auto creds = std::make_shared<Credentials>();
    auto floor = std::make_shared<Floor>(creds);
    std::vector<Workload> out;
    for (Mode mode : {Mode::literal, Mode::hardened}) {
        const std::string m = sigauth::name(mode);
        auto est = std::make_shared<Establishments>(mode, creds);
        out.push_back(Workload{"floor-b-" + m, "est/s",
                               [floor, mode]() {
                                   floor->run(mode);
                                   return 1.0;
                               },
                               1.0, "", "", false,
                               mode == Mode::literal
                                   ? "crypto floor: 4 sign + 6 verify + 2 ECDH P-256; the hops: "
                                     "3 X25519 keygen + 4 X25519"
                                   : "crypto floor: 4 sign + 6 verify + 6 cert verify + 2 ECDH "
                                     "P-256 + 2 X25519 keygen + 2 X25519; the hops: 1 X25519 "
                                     "keygen + 4 X25519"});
        // Both paths have the same crypto (the hops' keys on both): one floor for the two.
        for (const auto path : {pc5::Path::l2, pc5::Path::l3}) {
            const bool l3 = path == pc5::Path::l3;
            auto est = std::make_shared<Establishments>(mode, creds, path);
            out.push_back(
                Workload{"establish-b-" + m + (l3 ? "-l3" : ""), "est/s",
                         [est]() {
                             est->establish();
                             return 1.0;
                         },
                         1.0, "floor-b-" + m, "<=1.3", true,
                         std::string(l3 ? "through a layer-3 relay" : "through a layer-2 relay") +
                             ": source->relay->target->relay->source, keys and hops derived, link "
                             "released; ratio = CPU per establishment / crypto floor"});
        }
    }
    for (auto& w : memory_rows("relay-flood-b", {500, 10000}, "<=1.25",
                               "heap a hardened relay holds after {} requests from fresh L2 IDs "
                               "(1,000 distinct signed requests, 1 ms apart); worst of 3",
                               [creds](std::size_t n) { return relay_flood_kib(creds, n); }))
        out.push_back(std::move(w));
    return out;
}

}  // namespace pc5sec::bench
