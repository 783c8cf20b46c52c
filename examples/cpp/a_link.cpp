// One solution-A link and one protected data PDU between two UEs in memory.
//
// Step 0 makes credentials in memory (a provisioning function, one certificate per UE); alice's
// link engine then establishes a PC5 unicast link to bob over pc5sec's in-process medium
// (pc5::Loopback); each UE's user plane is given the link's keys, and alice sends bob one data
// PDU, ciphered and integrity-protected with NRPEK/NRPIK. Exits 0 when bob reads what alice sent.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "pc5sec/link.hpp"
#include "pc5sec/loopback.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/userplane.hpp"
#include "pc5sec/version.hpp"

using namespace pc5sec;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "a_link: %s\n", what.c_str());
    std::exit(1);
}

// A UE's credentials from the provisioning function: key, certificate and trust anchor.
std::shared_ptr<creds::CredentialManager> credentials(creds::ProvisioningFunction& pf,
                                                      const std::string& name) {
    creds::UeProfile profile;
    profile.user_info_id = name;  // the certificate's CN: the UE's user info ID
    profile.authorisation = creds::Authorisation{{creds::Role::end_ue}, {}};
    auto issued = pf.issue(profile, creds::Clock::now() - 1h, 24h * 30);
    if (!issued) fail(issued.error().describe());
    auto trust = creds::TrustStore::create(pf.ca_certificate());
    if (!trust) fail(trust.error().describe());
    return std::make_shared<creds::CredentialManager>(issued->key, issued->certificate,
                                                      std::move(*trust));
}

std::unique_ptr<link::Engine> engine(creds::ProvisioningFunction& pf, const std::string& name,
                                     pc5::L2Id l2) {
    link::Config c;
    c.user_info = name;
    c.l2_id = l2;
    c.credentials = credentials(pf, name);
    auto e = link::Engine::create(std::move(c));
    if (!e) fail(e.error().describe());
    return std::move(*e);
}

}  // namespace

int main() {
    std::printf("pc5sec %s\n", PC5SEC_VERSION_STRING);
    constexpr pc5::L2Id kAlice = 0x0A, kBob = 0x0B;

    // Step 0: a root CA and one credential each.
    auto pf = creds::ProvisioningFunction::create(creds::Clock::now() - 1h, 24h * 365);
    if (!pf) fail(pf.error().describe());
    auto alice = engine(*pf, "alice", kAlice);
    auto bob = engine(*pf, "bob", kBob);

    // The medium: a virtual clock and a 2 ms delay per frame.
    pc5::Loopback air;
    air.add(*alice);
    air.add(*bob);

    // alice asks for a direct link to bob (seed 000: request, authentication, security mode).
    pc5::ConnectRequest request;
    request.target = "bob";
    request.target_l2 = kBob;
    alice->connect(request, air.now);
    air.run();

    auto at_alice = air.of<pc5::LinkEstablished>("alice");
    auto at_bob = air.of<pc5::LinkEstablished>("bob");
    if (at_alice.size() != 1 || at_bob.size() != 1) fail("the link was not established");
    const pc5::LinkSummary& link = at_alice[0].link;
    if (at_bob[0].link.id != link.id || at_bob[0].link.fingerprints != link.fingerprints)
        fail("the two ends disagree on the link or its keys");
    std::printf("link %s: %s/%s, NRPEK %s\n", link.id.c_str(),
                std::string(name(link.ciphering)).c_str(),
                std::string(name(link.integrity)).c_str(), link.fingerprints.at("NRPEK").c_str());

    // The user plane: each UE installs the link's data keys, asked from its engine.
    userplane::Endpoint alice_up(userplane::Config{.l2_id = kAlice});
    userplane::Endpoint bob_up(userplane::Config{.l2_id = kBob});
    const userplane::Protection protect{.integrity = true, .ciphering = true};
    for (auto [up, eng] : {std::pair{&alice_up, alice.get()}, std::pair{&bob_up, bob.get()}}) {
        auto keys = eng->data_keys(link.id);
        if (!keys) fail("no data keys");
        if (auto st = up->install(*keys, protect, air.now); !st) fail(st.error().describe());
    }

    // One protected PDU on data bearer 4, carried to bob by hand.
    const std::string text = "hello bob";
    const std::vector<std::uint8_t> data(text.begin(), text.end());
    if (auto st = alice_up.send(link.id, userplane::kFirstBearer, data, air.now); !st)
        fail(st.error().describe());
    auto frame = alice_up.poll_transmit();
    if (!frame || frame->dst != kBob) fail("no frame for bob");
    if (std::search(frame->pdu.begin(), frame->pdu.end(), data.begin(), data.end()) !=
        frame->pdu.end())
        fail("the data went in the clear");
    bob_up.receive(*frame, air.now);

    auto event = bob_up.poll_event();
    auto* got = event ? std::get_if<pc5::DataReceived>(&*event) : nullptr;
    if (got == nullptr || got->data != data || got->peer != "alice") fail("bob did not read it");
    std::printf("bob read \"%s\" from %s (%zu octets on air)\n",
                std::string(got->data.begin(), got->data.end()).c_str(), got->peer.c_str(),
                frame->pdu.size());
    return 0;
}
