// A UE-to-UE relay that forwards for two sources: alice and carol each reach bob through
// relay-1, a solution-A layer-2 relay (seed 000; TS 23.304 layer-2 UE-to-UE relay).
//
// Each UE is a station (pc5sec/station.hpp): a link engine (signalling) and a user plane (data),
// wired together. The loop below is the whole driver: frames go first in, first out on one
// in-memory radio to the station of their destination, which gives data to its user plane and
// the rest to its engine, puts a link's keys into the user plane when the link comes up, and
// has the relay's user plane learn where to forward from what its engine sends (SRAP local UE
// IDs). Exits 0 when bob has read each source's message on its own end-to-end link.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "pc5sec/provisioning.hpp"
#include "pc5sec/station.hpp"

using namespace pc5sec;
using namespace std::chrono_literals;

namespace {

constexpr creds::Rsc kRsc = 0x00A001;  // the relay service code relay-1 serves
const std::map<std::string, pc5::L2Id> kDirectory = {
    {"alice", 0x0A}, {"carol", 0x0C}, {"bob", 0x0B}, {"relay-1", 0x50}};

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "relay: %s\n", what.c_str());
    std::exit(1);
}

struct Ue {
    std::unique_ptr<station::Station> station;
    std::vector<pc5::LinkSummary> links;  // established
    std::vector<pc5::DataReceived> received;
};

class World {
  public:
    pc5::Time now{0};

    explicit World(creds::ProvisioningFunction& pf) : pf_(pf) {}

    Ue& add(const std::string& name, bool relay) {
        // Step 0: the UE's certificate says which roles and relay service codes it may use.
        creds::UeProfile profile;
        profile.user_info_id = name;
        profile.authorisation =
            creds::Authorisation{{relay ? creds::Role::u2u_relay : creds::Role::end_ue}, {kRsc}};
        auto issued = pf_.issue(profile, creds::Clock::now() - 1h, 24h * 30);
        if (!issued) fail(issued.error().describe());
        auto trust = creds::TrustStore::create(pf_.ca_certificate());
        if (!trust) fail(trust.error().describe());

        station::Spec spec;
        spec.solution = pc5::Solution::a;
        spec.role = relay ? pc5::UeRole::relay : pc5::UeRole::end_ue;
        spec.l2_id = kDirectory.at(name);
        spec.credentials = std::make_shared<creds::CredentialManager>(
            issued->key, issued->certificate, std::move(*trust));
        spec.directory = kDirectory;  // whom each UE can hear (discovery's result)
        auto made = station::Station::create(std::move(spec));
        if (!made) fail(made.error().describe());
        Ue& ue = ues_[kDirectory.at(name)];
        ue.station = std::move(*made);
        return ue;
    }

    // Runs until the air is quiet and no timer is due within `horizon`.
    void run(pc5::Time horizon = 60s) {
        const pc5::Time until = now + horizon;
        for (;;) {
            pump();
            if (!air_.empty()) {
                pc5::Frame f = std::move(air_.front());
                air_.pop_front();
                auto it = ues_.find(f.dst);
                if (it != ues_.end()) it->second.station->receive(f, now);
                continue;
            }
            pc5::Time next = pc5::kNever;
            for (auto& [l2, ue] : ues_)
                next = std::min(next, ue.station->next_timeout());
            if (next == pc5::kNever || next > until) return;
            now = std::max(now, next);
            for (auto& [l2, ue] : ues_)
                if (ue.station->next_timeout() <= now) ue.station->handle_timeout(now);
        }
    }

    // What each station has to say: frames onto the air, events.
    void pump() {
        for (auto& [l2, ue] : ues_) {
            while (auto f = ue.station->poll_transmit())
                air_.push_back(std::move(*f));
            while (auto ev = ue.station->poll_event()) {
                if (auto* e = std::get_if<pc5::LinkEstablished>(&*ev))
                    ue.links.push_back(e->link);  // its keys are in the user plane already
                else if (auto* f = std::get_if<pc5::LinkFailed>(&*ev))
                    fail("link failed: " + f->reason);
                else if (auto* d = std::get_if<pc5::DataReceived>(&*ev))
                    ue.received.push_back(*d);
            }
        }
    }

  private:
    creds::ProvisioningFunction& pf_;
    std::map<pc5::L2Id, Ue> ues_;
    std::deque<pc5::Frame> air_;
};

// The end-to-end link a source has to bob.
std::string e2e_link(const Ue& source) {
    for (const auto& l : source.links)
        if (l.kind == pc5::LinkKind::e2e && l.peer == "bob") return l.id;
    fail("no end-to-end link to bob");
}

}  // namespace

int main() {
    auto pf = creds::ProvisioningFunction::create(creds::Clock::now() - 1h, 24h * 365);
    if (!pf) fail(pf.error().describe());
    World world(*pf);
    Ue& bob = world.add("bob", false);
    world.add("relay-1", true);
    Ue& alice = world.add("alice", false);
    Ue& carol = world.add("carol", false);

    // Both sources ask for bob through relay-1 (a hop to the relay, then the end-to-end link).
    for (const Ue* source : {&alice, &carol}) {
        pc5::ConnectRequest r;
        r.target = "bob";
        r.path = pc5::Path::l2;
        r.rsc = kRsc;
        r.relay = "relay-1";
        r.relay_l2 = kDirectory.at("relay-1");
        source->station->connect(r, world.now);
        world.run();
    }

    // Each source sends on its own end-to-end link; the relay forwards without the keys.
    for (auto [source, text] : {std::pair{&alice, "from alice"}, std::pair{&carol, "from carol"}}) {
        const std::string s = text;
        const std::vector<std::uint8_t> data(s.begin(), s.end());
        if (auto st =
                source->station->send(e2e_link(*source), userplane::kFirstBearer, data, world.now);
            !st)
            fail(st.error().describe());
    }
    world.run();

    if (bob.received.size() != 2) fail("bob read " + std::to_string(bob.received.size()) + " PDUs");
    for (const auto& d : bob.received) {
        const std::string text(d.data.begin(), d.data.end());
        if (text != "from " + d.peer) fail("bob read \"" + text + "\" from " + d.peer);
        std::printf("bob read \"%s\" on %s\n", text.c_str(), d.link_id.c_str());
    }
    return 0;
}
