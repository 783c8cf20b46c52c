// The attacker of the simulator's attack scenarios (docs/scenarios.md [attack]). It sits on the
// medium: it edits frames in flight, records them and sends them again, or makes up its own.
// Credential attacks (expired, revoked, foreign CA, unauthorised relay) are staged at set-up,
// and the tampering relay is solution B's relay hook (sigauth::Tamper).
#include <fmt/format.h>

#include "pc5sec/codec.hpp"
#include "sim/world.hpp"

namespace pc5sec::sim {

using namespace std::chrono_literals;

namespace {

enum Step : std::uint32_t {
    release_all = 0,
    replay_request = 1,
    reconnect = 2,
    replay_data = 3,
    inject_data = 4
};

}  // namespace

// Called for every frame about to be delivered; false drops it.
bool World::tamper(pc5::Frame& f) {
    if (pairs.empty()) return true;
    const Ue& source = *ues[pairs.front().source];
    const bool from_source = f.src == source.spec.l2;
    const bool data = userplane::carries_data(f, scenario.solution == pc5::Solution::a);
    switch (scenario.attack) {
        case Attack::tamper_request:
            // Bidding down (TS 33.536 5.3.3.1.4): the capabilities the source sent, downgraded.
            if (from_source && f.lcid == pc5::lcid::kSrb0 && !f.pdu.empty() && f.pdu[0] == 0x01) {
                if (auto m = codec::decode(f.pdu))
                    if (auto* r = std::get_if<codec::DirectLinkEstablishmentRequest>(&*m)) {
                        r->ue_security_capabilities = {0x80, 0xC0};  // EA0, IA0/NIA1 only
                        if (auto b = codec::encode(*r)) {
                            f.pdu = *b;
                            ++medium.tampered;
                            record_altered(f);
                        }
                    }
            }
            break;
        case Attack::tamper_mac:
            if (f.lcid == pc5::lcid::kSrb1 && f.dst == source.spec.l2 && !f.pdu.empty()) {
                f.pdu.back() ^= 0x01;
                ++medium.tampered;
                record_altered(f);
            }
            break;
        case Attack::replay:
            if (!recorded_request && from_source && f.lcid == pc5::lcid::kSrb0 && !f.pdu.empty() &&
                f.pdu[0] == 0x01)
                recorded_request = f;
            break;
        case Attack::tamper_data:
            // Every fourth data PDU from the source gets one payload bit flipped.
            if (from_source && data && f.pdu.size() > 8 && data_seen++ % 4 == 0) {
                f.pdu[f.pdu.size() / 2] ^= 0x10;
                ++medium.tampered;
                record_altered(f);
            }
            break;
        case Attack::replay_data:
            if (from_source && data && recorded_data.size() < 5) recorded_data.push_back(f);
            break;
        default:
            break;
    }
    return true;
}

// What the attacker (or the radio) put on the air in place of, or besides, what a UE sent: the
// capture shows it as on the air, so the key log proves its MAC-I bad or its COUNT replayed.
void World::record_altered(const pc5::Frame& f) {
    if (!options.capture) return;
    pc5::Frame copy{f.src, f.dst, f.lcid, f.pdu};
    capture.record(now, copy);
}

// Once the first pair is ready: the attacks that act later, and the scenario's reuse.
void World::stage_attacks(std::size_t pi) {
    if (pi != 0) return;
    const pc5::Time traffic_end =
        now +
        pc5::Time{static_cast<std::int64_t>(scenario.traffic.interval_ms * 1e6) *
                  (scenario.traffic.pdus + 1)} +
        100ms;
    if (scenario.attack == Attack::replay || scenario.reuse) {
        for (std::size_t i = 0; i < ues.size(); ++i)
            schedule(traffic_end + 1s, Kind::release, i);
        schedule(traffic_end + 3s, Kind::attack, pi, {},
                 scenario.attack == Attack::replay ? replay_request : reconnect);
    }
    if (scenario.attack == Attack::replay_data)
        schedule(traffic_end, Kind::attack, pi, {}, replay_data);
    if (scenario.attack == Attack::inject_data)
        schedule(now + 1ms +
                     pc5::Time{static_cast<std::int64_t>(scenario.traffic.interval_ms * 1e6 / 2)},
                 Kind::attack, pi, {}, inject_data);
}

void World::attack_action(std::size_t pi, std::uint32_t step) {
    const Pair& p = pairs[pi];
    const Ue& source = *ues[p.source];
    touched = ues.size();  // nothing to drain: the frames go straight onto the medium
    switch (step) {
        case replay_request:
            if (recorded_request) {
                ++medium.injected;
                record_altered(*recorded_request);
                carry(p.source, by_l2.at(recorded_request->dst), *recorded_request, false);
            }
            break;
        case reconnect:
            connect(pi);
            touched = p.source;
            break;
        case replay_data:
            for (const auto& f : recorded_data) {
                ++medium.injected;
                record_altered(f);
                carry(p.source, by_l2.at(f.dst), f, false);
            }
            break;
        case inject_data: {
            // Five data PDUs under a KNRP-sess ID and keys the attacker made up, to the UE the
            // source sends its data to, as if from the source.
            const pc5::L2Id to = p.relay ? ues[*p.relay]->spec.l2 : ues[p.target]->spec.l2;
            for (std::uint32_t n = 0; n < 5; ++n) {
                pc5::Frame f;
                f.src = source.spec.l2;
                f.dst = to;
                f.lcid = scenario.traffic.bearer;
                f.pdu.resize(userplane::kHeaderSize + 40 + userplane::kMacSize);
                rng.fill(f.pdu);
                userplane::write_header({KnrpSessId{static_cast<std::uint16_t>(0xBAD0 + n)}, n},
                                        f.pdu.data());
                ++medium.injected;
                record_altered(f);
                carry(p.source, by_l2.at(to), std::move(f), false);
            }
            break;
        }
        default:
            break;
    }
}

}  // namespace pc5sec::sim
