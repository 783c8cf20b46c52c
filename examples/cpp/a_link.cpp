// One solution-A link and one protected data PDU between two UEs in memory.
//
// Step 0 makes credentials in memory (a provisioning function, one certificate per UE). Each UE
// is a station (pc5sec/station.hpp): its link engine and its user plane, wired together. alice's
// station establishes a PC5 unicast link to bob over pc5sec's in-process medium (pc5::Loopback),
// which puts the link's keys into both user planes; alice then sends bob one data PDU, ciphered
// and integrity-protected with NRPEK/NRPIK. Exits 0 when bob reads what alice sent.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "pc5sec/loopback.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/station.hpp"
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

// A solution-A UE: engine and user plane. Its policy is policy.toml's defaults (PolicyFile):
// data ciphered and integrity-protected where the link's algorithms allow.
std::unique_ptr<station::Station> ue(creds::ProvisioningFunction& pf, const std::string& name,
                                     pc5::L2Id l2) {
    station::Spec spec;
    spec.solution = pc5::Solution::a;
    spec.l2_id = l2;
    spec.credentials = credentials(pf, name);  // the user info ID is the certificate's CN
    auto made = station::Station::create(std::move(spec));
    if (!made) fail(made.error().describe());
    return std::move(*made);
}

}  // namespace

int main() {
    std::printf("pc5sec %s\n", PC5SEC_VERSION_STRING);
    constexpr pc5::L2Id kAlice = 0x0A, kBob = 0x0B;

    // Step 0: a root CA and one credential each.
    auto pf = creds::ProvisioningFunction::create(creds::Clock::now() - 1h, 24h * 365);
    if (!pf) fail(pf.error().describe());
    auto alice = ue(*pf, "alice", kAlice);
    auto bob = ue(*pf, "bob", kBob);

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

    // One protected PDU on data bearer 4: the stations installed the link's data keys.
    const std::string text = "hello bob";
    const std::vector<std::uint8_t> data(text.begin(), text.end());
    if (auto st = alice->send(link.id, userplane::kFirstBearer, data, air.now); !st)
        fail(st.error().describe());
    air.run();
    const auto sent = std::find_if(air.delivered.begin(), air.delivered.end(),
                                   [](const pc5::Frame& f) { return userplane::carries_data(f); });
    if (sent == air.delivered.end() || sent->dst != kBob) fail("no frame for bob");
    if (std::search(sent->pdu.begin(), sent->pdu.end(), data.begin(), data.end()) !=
        sent->pdu.end())
        fail("the data went in the clear");

    auto got = air.of<pc5::DataReceived>("bob");
    if (got.size() != 1 || got[0].data != data || got[0].peer != "alice")
        fail("bob did not read it");
    std::printf("bob read \"%s\" from %s (%zu octets on air)\n",
                std::string(got[0].data.begin(), got[0].data.end()).c_str(), got[0].peer.c_str(),
                sent->pdu.size());
    return 0;
}
