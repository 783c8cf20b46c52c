// libFuzzer target for solution B (sigauth/): arbitrary frames to a relay and to a target engine,
// in both modes. Input: octet 0 picks the mode (bit 0); then frames, each
//   octet   bit 0: to the relay (0) or the target (1); bits 1-2: lcid SRB0 / end-to-end / 9
//   2 octets length (big-endian), then the PDU.
// Invariants: never a crash or a leak; every drop and failure says why; the relay never holds a
// link or logs a key; everything an engine sends is a PC5 signalling message (SRB0) or a PDCP PDU.
// Corpus: fuzz/corpus/sigauth/ (genuine literal and hardened exchanges, written by running
// this target with PC5SEC_FUZZ_SIGAUTH_SEEDS=DIR once).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "pc5sec/codec.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sigauth.hpp"

namespace {

using namespace pc5sec;
constexpr pc5::L2Id kSource = 0x000a01, kRelay = 0x000b02, kTarget = 0x000c03;

struct Fixture {
    creds::TimePoint t0 = creds::from_unix_seconds(1'800'000'000);
    DeterministicRng rng{11};
    std::optional<creds::ProvisioningFunction> pf;
    sigauth::Config source[2], relay[2], target[2];  // [mode]

    Fixture() {
        using std::chrono::hours;
        pf.emplace(
            creds::ProvisioningFunction::create(t0 - hours(24), hours(24 * 365), "fuzz CA", rng)
                .value());
        auto trust = creds::TrustStore::create(pf->ca_certificate()).value();
        const char* names[] = {"alice", "relay-1", "bob"};
        const pc5::L2Id l2s[] = {kSource, kRelay, kTarget};
        sigauth::Config* slots[] = {source, relay, target};
        for (int i = 0; i < 3; ++i) {
            const auto role = i == 1 ? creds::Role::u2u_relay : creds::Role::end_ue;
            auto ic = pf->issue(creds::UeProfile{names[i], {{role}, {1}}, KeyType::p256, {}},
                                t0 - hours(1), hours(24 * 30), rng)
                          .value();
            for (int m = 0; m < 2; ++m) {
                auto& c = slots[i][m];
                c.role = i == 1 ? sigauth::Role::relay : sigauth::Role::end_ue;
                c.user_info = names[i];
                c.l2_id = l2s[i];
                c.mode = m ? sigauth::Mode::hardened : sigauth::Mode::literal;
                c.key = ic.key;
                if (m) {
                    c.certificate = ic.certificate;
                    c.trust = trust;
                }
                c.rscs = {1};
                c.rng = &rng;
                c.wall_clock_at_zero = t0;
                c.directory = {{"alice", kSource}, {"bob", kTarget}};
            }
        }
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void check_output(sigauth::Engine& e, bool relay) {
    while (auto f = e.poll_transmit()) {
        if (f->lcid == pc5::lcid::kSrb0) {
            if (!codec::decode(f->pdu).ok()) std::abort();  // we sent something undecodable
        } else if (f->lcid == pc5::lcid::kEndToEnd) {
            if (!pdcp::peek_header(f->pdu).ok()) std::abort();
        } else {
            std::abort();
        }
    }
    while (auto ev = e.poll_event()) {
        if (const auto* d = std::get_if<pc5::PduDropped>(&*ev); d && d->detail.empty())
            std::abort();
        if (const auto* f = std::get_if<pc5::LinkFailed>(&*ev); f && f->reason.empty())
            std::abort();
        if (relay && std::holds_alternative<pc5::LinkEstablished>(*ev)) std::abort();
    }
    if (relay && !e.links().empty()) std::abort();
}

// PC5SEC_FUZZ_SIGAUTH_SEEDS=DIR: write genuine exchanges of both modes as corpus files.
void write_seeds(const char* dir) {
    auto& fx = fixture();
    for (int m = 0; m < 2; ++m) {
        auto s = sigauth::Engine::create(fx.source[m]).value();
        auto r = sigauth::Engine::create(fx.relay[m]).value();
        auto t = sigauth::Engine::create(fx.target[m]).value();
        sigauth::Engine* all[] = {s.get(), r.get(), t.get()};
        pc5::ConnectRequest req{"bob", pc5::Path::l2, std::nullopt, 1, "relay-1", kRelay};
        s->connect(req, pc5::Time{});
        std::vector<pc5::Frame> frames;
        for (bool any = true; any;) {
            any = false;
            for (auto* from : all)
                while (auto f = from->poll_transmit()) {
                    any = true;
                    frames.push_back(*f);
                    for (auto* to : all)
                        if (to->l2_id() == f->dst) to->receive(*f, pc5::Time{});
                }
        }
        std::vector<std::uint8_t> all_frames{static_cast<std::uint8_t>(m)};
        int n = 0;
        for (const auto& f : frames) {
            if (f.dst != kRelay && f.dst != kTarget) continue;
            std::vector<std::uint8_t> one{static_cast<std::uint8_t>(m)};
            for (auto* out : {&one, &all_frames}) {
                out->push_back(f.dst == kTarget ? 1 : 0);
                out->push_back(static_cast<std::uint8_t>(f.pdu.size() >> 8));
                out->push_back(static_cast<std::uint8_t>(f.pdu.size()));
                out->insert(out->end(), f.pdu.begin(), f.pdu.end());
            }
            std::ofstream(std::string(dir) + "/" + (m ? "hardened" : "literal") + "_" +
                              std::to_string(n++) + ".bin",
                          std::ios::binary)
                .write(reinterpret_cast<const char*>(one.data()),
                       static_cast<std::streamsize>(one.size()));
        }
        std::ofstream(std::string(dir) + "/" + (m ? "hardened" : "literal") + "_all.bin",
                      std::ios::binary)
            .write(reinterpret_cast<const char*>(all_frames.data()),
                   static_cast<std::streamsize>(all_frames.size()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* dir = std::getenv("PC5SEC_FUZZ_SIGAUTH_SEEDS")) write_seeds(dir);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    auto& fx = fixture();
    const int m = data[0] & 1;
    auto relay = sigauth::Engine::create(fx.relay[m]).value();
    auto target = sigauth::Engine::create(fx.target[m]).value();
    std::size_t at = 1;
    pc5::Time now{};
    while (at + 3 <= size) {
        const std::uint8_t hdr = data[at];
        const std::size_t len = static_cast<std::size_t>(data[at + 1]) << 8 | data[at + 2];
        at += 3;
        const std::size_t n = std::min(len, size - at);
        pc5::Frame f;
        f.src = (hdr & 1) ? kRelay : kSource;
        f.dst = (hdr & 1) ? kTarget : kRelay;
        const unsigned lc = (hdr >> 1) & 3;
        f.lcid = lc == 0 ? pc5::lcid::kSrb0 : lc == 1 ? pc5::lcid::kEndToEnd : 9;
        f.pdu.assign(data + at, data + at + n);
        at += n;
        auto& e = (hdr & 1) ? *target : *relay;
        e.receive(f, now);
        now += std::chrono::seconds(hdr >> 3);
        relay->handle_timeout(now);
        target->handle_timeout(now);
        check_output(*relay, true);
        check_output(*target, false);
    }
    return 0;
}
