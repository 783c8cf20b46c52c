// libFuzzer target for solution A (link/): arbitrary frames to a UE-to-UE relay and to a target
// end UE. Input: frames, each
//   octet   bit 0: to the relay (0) or the target (1); bits 1-3: LCID 0, 1, 2, 55, 63, or 7;
//           bits 4-7: seconds to advance the clock afterwards
//   2 octets length (big-endian), then the PDU.
// Invariants: never a crash or a leak; every drop and failure says why; everything an engine
// sends decodes (SRB0, discovery) or carries a PDCP header (SRB1/2) or an SRAP header (LCID 55);
// no established link without keys when its security is active.
// Corpus: fuzz/corpus/link/ (genuine direct and layer-2 exchanges, written by running this
// target once with PC5SEC_FUZZ_LINK_SEEDS=DIR).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "pc5sec/codec.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/srap.hpp"

namespace {

using namespace pc5sec;
using namespace std::chrono_literals;
constexpr pc5::L2Id kSource = 0x000a01, kRelay = 0x000b02, kTarget = 0x000c03;
constexpr std::uint8_t kLcids[8] = {0, 1, 2, 55, 63, 7, 0, 2};

struct Fixture {
    creds::TimePoint t0 = creds::from_unix_seconds(1'800'000'000);
    DeterministicRng rng{5};
    std::optional<creds::ProvisioningFunction> pf;
    link::Config source, relay, target;

    Fixture() {
        pf.emplace(
            creds::ProvisioningFunction::create(t0 - 24h, 24h * 365, "fuzz CA", rng).value());
        const char* names[] = {"alice", "relay-1", "bob"};
        const pc5::L2Id l2s[] = {kSource, kRelay, kTarget};
        link::Config* slots[] = {&source, &relay, &target};
        for (int i = 0; i < 3; ++i) {
            creds::UeProfile p;
            p.user_info_id = names[i];
            p.authorisation = {{i == 1 ? creds::Role::u2u_relay : creds::Role::end_ue}, {1}};
            auto ic = pf->issue(p, t0 - 1h, 24h * 30, rng).value();
            auto& c = *slots[i];
            c.user_info = names[i];
            c.l2_id = l2s[i];
            c.role = i == 1 ? link::UeRole::relay : link::UeRole::end_ue;
            c.credentials = std::make_shared<creds::CredentialManager>(
                ic.key, ic.certificate, creds::TrustStore::create(pf->ca_certificate()).value());
            c.credentials->set_logger([](std::string_view) {});
            c.wall_epoch = t0;
            c.rng = &rng;
            c.directory = {{"alice", kSource}, {"bob", kTarget}};
        }
    }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void check_output(link::Engine& e) {
    while (auto f = e.poll_transmit()) {
        if (f->pdu.empty()) std::abort();
        if (f->lcid == pc5::lcid::kSrb0 || f->lcid == pc5::lcid::kDiscovery) {
            if (!codec::decode(f->pdu).ok()) std::abort();  // we sent something undecodable
        } else if (f->lcid == pc5::lcid::kSrb1 || f->lcid == pc5::lcid::kSrb2) {
            if (!pdcp::peek_header(f->pdu).ok()) std::abort();
        } else if (f->lcid == pc5::lcid::kEndToEnd) {
            if (!srap::parse_header(f->pdu).ok()) std::abort();
        } else {
            std::abort();
        }
    }
    while (auto ev = e.poll_event()) {
        if (const auto* d = std::get_if<pc5::PduDropped>(&*ev); d && d->detail.empty())
            std::abort();
        if (const auto* f = std::get_if<pc5::LinkFailed>(&*ev); f && f->reason.empty())
            std::abort();
        if (const auto* l = std::get_if<pc5::LinkEstablished>(&*ev);
            l && l->link.security_active && !l->link.fingerprints.contains("NRPIK"))
            std::abort();
    }
}

void write(const std::string& file, const std::vector<std::uint8_t>& bytes) {
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
}

// PC5SEC_FUZZ_LINK_SEEDS=DIR: genuine direct and layer-2 exchanges as corpus files.
void write_seeds(const char* dir) {
    auto& fx = fixture();
    for (int path = 0; path < 2; ++path) {
        auto s = link::Engine::create(fx.source).value();
        auto r = link::Engine::create(fx.relay).value();
        auto t = link::Engine::create(fx.target).value();
        link::Engine* all[] = {s.get(), r.get(), t.get()};
        pc5::ConnectRequest req;
        req.target = "bob";
        if (path == 1) {
            req.path = pc5::Path::l2;
            req.rsc = 1;
            req.relay = "relay-1";
            req.relay_l2 = kRelay;
        } else {
            req.target_l2 = kTarget;
        }
        s->connect(req, pc5::Time{});
        std::vector<std::uint8_t> everything;
        int n = 0;
        for (bool any = true; any;) {
            any = false;
            for (auto* from : all)
                while (auto f = from->poll_transmit()) {
                    any = true;
                    for (auto* to : all)
                        if (to->l2_id() == f->dst) to->receive(*f, pc5::Time{});
                    if (f->dst != kRelay && f->dst != kTarget) continue;
                    std::uint8_t lcid_index = 0;
                    for (std::uint8_t i = 0; i < 6; ++i)
                        if (kLcids[i] == f->lcid) lcid_index = i;
                    std::vector<std::uint8_t> one{
                        static_cast<std::uint8_t>((f->dst == kTarget ? 1 : 0) | lcid_index << 1),
                        static_cast<std::uint8_t>(f->pdu.size() >> 8),
                        static_cast<std::uint8_t>(f->pdu.size())};
                    one.insert(one.end(), f->pdu.begin(), f->pdu.end());
                    everything.insert(everything.end(), one.begin(), one.end());
                    write(std::string(dir) + (path ? "/l2_" : "/direct_") + std::to_string(n++) +
                              ".bin",
                          one);
                }
        }
        write(std::string(dir) + (path ? "/l2_all.bin" : "/direct_all.bin"), everything);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* dir = std::getenv("PC5SEC_FUZZ_LINK_SEEDS")) write_seeds(dir);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& fx = fixture();
    auto relay = link::Engine::create(fx.relay).value();
    auto target = link::Engine::create(fx.target).value();
    std::size_t at = 0;
    pc5::Time now{};
    while (at + 3 <= size) {
        const std::uint8_t hdr = data[at];
        const std::size_t len = static_cast<std::size_t>(data[at + 1]) << 8 | data[at + 2];
        at += 3;
        const std::size_t n = std::min(len, size - at);
        pc5::Frame f;
        const bool to_target = hdr & 1;
        f.src = to_target ? kRelay : kSource;
        f.dst = to_target ? kTarget : kRelay;
        f.lcid = kLcids[(hdr >> 1) & 7];
        f.pdu.assign(data + at, data + at + n);
        at += n;
        (to_target ? *target : *relay).receive(f, now);
        now += std::chrono::seconds(hdr >> 4);
        for (auto* e : {relay.get(), target.get()}) {
            if (e->next_timeout() <= now) e->handle_timeout(now);
            check_output(*e);
        }
    }
    return 0;
}
