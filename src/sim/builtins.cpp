// The built-in scenarios (`pc5sec scenarios`). Each is TOML text, parsed like a user's file, so
// `pc5sec scenarios --show NAME` gives a starting point for one's own.
#include <fmt/format.h>

#include "pc5sec/sim.hpp"

namespace pc5sec::sim {
namespace {

struct Spec {
    std::string name, summary;
    std::string solution = "A", path = "l3";
    std::string top;                // extra top-level keys
    std::string more;               // more [[ue]] and [[connect]] tables, after alice's connection
    std::string alice, bob, relay;  // extra keys of alice's [[ue]] table / bob's / the relay's
    std::string relay_name = "relay-1";
    std::string tables;  // [medium], [traffic], [expect] ...
};

constexpr const char* kTraffic = "[traffic]\npdus = 20\nsize = 200\ninterval_ms = 5\n";

std::string render(const Spec& s) {
    std::string t = fmt::format(
        "name = \"{}\"\ndescription = \"{}\"\nsolution = \"{}\"\n"
        "path = \"{}\"\nseed = 1\n{}\n",
        s.name, s.summary, s.solution, s.path, s.top);
    t += fmt::format("[[ue]]\nname = \"alice\"\nl2 = 0x00000A\n{}\n", s.alice);
    t += fmt::format("[[ue]]\nname = \"bob\"\nl2 = 0x00000B\n{}\n", s.bob);
    if (s.path != "direct")
        t += fmt::format("[[ue]]\nname = \"relay-1\"\nl2 = 0x000050\nrelay = true\n{}\n", s.relay);
    t += "[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\n";
    if (s.path != "direct") t += fmt::format("relay = \"{}\"\n", s.relay_name);
    t += "\n" + s.more + s.tables;
    return t;
}

std::string ooc() {
    return "in_coverage = false\n";
}

std::string expect_ok(int delivered = 20) {
    return fmt::format("{}\n[expect]\nestablished = true\ndelivered_min = {}\n", kTraffic,
                       delivered);
}

std::string expect_cause(int cause, bool established = false) {
    return fmt::format("[expect]\nestablished = {}\ncause = {}\n", established ? "true" : "false",
                       cause);
}

std::vector<Builtin> make() {
    std::vector<Spec> specs;
    auto add = [&](Spec s) { specs.push_back(std::move(s)); };
    // Solution A (seed 000), every path, in and out of coverage.
    add({"a-direct", "Solution A: a direct PC5 link (TS 33.536 as is)", "A", "direct", "", "", "",
         "", "", "relay-1", expect_ok()});
    add({"a-l3", "Solution A through a layer-3 UE-to-UE relay: two per-hop links", "A", "l3", "",
         "", "", "", "", "relay-1", expect_ok()});
    add({"a-l2", "Solution A through a layer-2 relay: two hops and an end-to-end link", "A", "l2",
         "", "", "", "", "", "relay-1", expect_ok()});
    // Two sources, one target, one relay: the target's answers reach only the source they are
    // for (layer 3: the relay routes IPv6 by address; layer 2: by SRAP local UE ID).
    const std::string carol =
        "[[ue]]\nname = \"carol\"\nl2 = 0x00000C\n\n"
        "[[connect]]\nsource = \"carol\"\ntarget = \"bob\"\nrelay = \"relay-1\"\nat_ms = 100\n\n";
    const std::string echo =
        std::string(kTraffic) + "echo = true\n\n[expect]\nestablished = true\ndelivered_min = 20\n";
    add({"a-l3-one-target", "Solution A: alice and carol reach bob through one layer-3 relay", "A",
         "l3", "", carol, "", "", "", "relay-1", echo});
    add({"a-l2-one-target", "Solution A: alice and carol reach bob through one layer-2 relay", "A",
         "l2", "", carol, "", "", "", "relay-1", echo});
    // One source, two targets, one relay: each target gets its own links and keys (layer 3: one
    // hop per target; layer 2: one end-to-end link per target over one hop), and each PDU
    // reaches only the target it was sent to.
    const std::string carol_target =
        "[[ue]]\nname = \"carol\"\nl2 = 0x00000C\n\n"
        "[[connect]]\nsource = \"alice\"\ntarget = \"carol\"\nrelay = \"relay-1\"\n"
        "at_ms = 100\n\n";
    add({"a-l3-two-targets", "Solution A: alice reaches bob and carol through one layer-3 relay",
         "A", "l3", "", carol_target, "", "", "", "relay-1", echo});
    add({"a-l2-two-targets", "Solution A: alice reaches bob and carol through one layer-2 relay",
         "A", "l2", "", carol_target, "", "", "", "relay-1", echo});
    add({"a-l3-ooc", "Solution A via a layer-3 relay, every UE out of coverage", "A", "l3", "", "",
         ooc(), ooc(), ooc(), "relay-1", expect_ok()});
    add({"a-l2-ooc", "Solution A via a layer-2 relay, every UE out of coverage", "A", "l2", "", "",
         ooc(), ooc(), ooc(), "relay-1", expect_ok()});
    add({"a-l3-discovery", "Solution A: the source finds its relay by discovery (step 1)", "A",
         "l3", "", "", "", "", "", "auto", expect_ok()});
    add({"a-l3-psk", "Solution A, step 3 with a pre-shared group key instead of certificates", "A",
         "l3", "psk = true\n", "", "", "", "", "relay-1", expect_ok()});
    add({"a-l3-reuse", "Solution A: release, then establish again reusing the KNRP (step 2)", "A",
         "l3", "reuse = true\n", "", "", "", "", "relay-1", "[expect]\nestablished = true\n"});
    add({"a-expired-renewed",
         "Solution A: the source's certificate has expired; in coverage it is renewed", "A", "l3",
         "", "", "credentials = \"expired\"\n", "", "", "relay-1", expect_ok()});
    add({"a-l3-lossy", "Solution A via a layer-3 relay on a bad radio: 20% loss, reordering", "A",
         "l3", "duration_s = 120\n", "", "", "", "", "relay-1",
         "[medium]\nloss = 0.2\nreorder = 0.2\nduplicate = 0.05\njitter_ms = 3\n\n"
         "[traffic]\npdus = 20\n"});
    // Solution B (seed 001).
    add({"b-literal", "Solution B as seed 001 writes it: raw keys, no certificates", "B-literal",
         "l2", "", "", "", "", "", "relay-1", expect_ok()});
    add({"b-hardened", "Solution B hardened: certificates, replay cache, relay identity signed",
         "B-hardened", "l2", "", "", "", "", "", "relay-1", expect_ok()});
    add({"b-hardened-ooc", "Solution B hardened, every UE out of coverage", "B-hardened", "l2", "",
         "", ooc(), ooc(), ooc(), "relay-1", expect_ok()});
    add({"b-literal-ooc", "Solution B as seed 001 writes it, every UE out of coverage", "B-literal",
         "l2", "", "", ooc(), ooc(), ooc(), "relay-1", expect_ok()});
    add({"b-hardened-expired-renewed",
         "Solution B hardened: the source's certificate has expired; in coverage it is renewed",
         "B-hardened", "l2", "", "", "credentials = \"expired\"\n", "", "", "relay-1",
         expect_ok()});
    add({"b-hardened-discovery",
         "Solution B hardened: the source finds its relay by Model B discovery (step 0)",
         "B-hardened", "l2", "", "", "", "", "", "auto", expect_ok()});
    add({"b-hardened-expired-ooc",
         "Solution B hardened: the source's certificate has expired out of coverage: refused #6, "
         "nothing sent (step 0)",
         "B-hardened", "l2", "", "", "credentials = \"expired\"\n" + ooc(), "", "", "relay-1",
         expect_cause(6)});
    // Re-keying every 25 PDUs (docs/solution-b.md "Re-keying"), then the source releases.
    const std::string rekeyed =
        "[traffic]\npdus = 100\nsize = 200\ninterval_ms = 5\n"
        "rekey_after = 25\n\n[expect]\nestablished = true\n"
        "delivered_min = 100\n";
    add({"b-literal-rekey-release",
         "Solution B literal: re-keyed every 25 PDUs (fresh nonces), then released", "B-literal",
         "l2", "release = true\n", "", "", "", "", "relay-1", rekeyed});
    add({"b-hardened-rekey-release",
         "Solution B hardened: re-keyed every 25 PDUs (fresh nonces and ECDH), then released",
         "B-hardened", "l2", "release = true\n", "", "", "", "", "relay-1", rekeyed});
    add({"b-hardened-lossy", "Solution B hardened on a bad radio: 20% loss, reordering",
         "B-hardened", "l2", "duration_s = 120\n", "", "", "", "", "relay-1",
         "[medium]\nloss = 0.2\nreorder = 0.2\nduplicate = 0.05\njitter_ms = 3\n\n"
         "[traffic]\npdus = 20\n"});
    // Solution B through a layer-3 relay (docs/solution-b.md "The layer-3 path"): a hop link to
    // each end, keyed from the ephemeral keys signed in steps 1-8; the data are PDUs under keys
    // from KD inside the IPv6 packets the relay routes, so the relay never opens them.
    add({"b-hardened-l3",
         "Solution B hardened through a layer-3 relay: per-hop links, KD-protected PDUs inside the "
         "hopped IPv6 packets",
         "B-hardened", "l3", "", "", "", "", "", "relay-1", expect_ok()});
    add({"b-literal-l3", "Solution B as seed 001 writes it, through a layer-3 relay", "B-literal",
         "l3", "", "", "", "", "", "relay-1", expect_ok()});
    add({"b-hardened-l3-ooc",
         "Solution B hardened through a layer-3 relay, every UE out of coverage", "B-hardened",
         "l3", "", "", ooc(), ooc(), ooc(), "relay-1", expect_ok()});
    add({"b-literal-l3-ooc",
         "Solution B as seed 001 writes it, through a layer-3 relay, every UE out of coverage",
         "B-literal", "l3", "", "", ooc(), ooc(), ooc(), "relay-1", expect_ok()});
    add({"b-hardened-l3-one-target",
         "Solution B hardened: alice and carol reach bob through one layer-3 relay", "B-hardened",
         "l3", "", carol, "", "", "", "relay-1", echo});
    add({"b-hardened-l3-rekey-release",
         "Solution B hardened through a layer-3 relay: re-keyed every 25 PDUs end to end, then "
         "released (its hops with it)",
         "B-hardened", "l3", "release = true\n", "", "", "", "", "relay-1", rekeyed});
    add({"b-literal-l3-rekey-release",
         "Solution B literal through a layer-3 relay: re-keyed every 25 PDUs, then released",
         "B-literal", "l3", "release = true\n", "", "", "", "", "relay-1", rekeyed});
    // One scenario per attack, with what each solution resists.
    add({"attack-tamper-request",
         "A: an attacker downgrades the request's security capabilities (bidding down)", "A", "l3",
         "attack = \"tamper-request\"\n", "", "", "", "", "relay-1", expect_cause(6)});
    add({"attack-tamper-mac", "A: one bit of the Security Mode Command's MAC-I flipped", "A", "l3",
         "attack = \"tamper-mac\"\n", "", "", "", "", "relay-1", expect_cause(4)});
    add({"attack-replay", "A: an old Direct Communication Request replayed after release", "A",
         "l3", "attack = \"replay\"\n", "", "", "", "", "relay-1", expect_cause(4, true)});
    add({"attack-foreign-ca", "A: the target's certificate comes from another CA", "A", "l3",
         "attack = \"foreign-ca\"\n", "", "", "", "", "relay-1", expect_cause(6)});
    add({"attack-revoked", "A: the source's certificate is revoked", "A", "l3",
         "attack = \"revoked\"\n", "", "", "", "", "relay-1", expect_cause(6)});
    add({"attack-expired", "A: the source's certificate expired, out of coverage (no renewal)", "A",
         "l3", "attack = \"expired\"\n", "", ooc(), ooc(), ooc(), "relay-1", expect_cause(6)});
    add({"attack-unauthorised-relay", "A: the relay is not authorised for the service code", "A",
         "l3", "attack = \"unauthorised-relay\"\n", "", "", "", "", "relay-1", expect_cause(11)});
    add({"attack-tampering-relay-b-literal",
         "B-literal: the relay changes the request it re-signs; only the source's signature "
         "catches it",
         "B-literal", "l2", "attack = \"tampering-relay\"\n", "", "", "", "", "relay-1",
         expect_cause(6)});
    add({"attack-tampering-relay-b-hardened",
         "B-hardened: the relay changes the request it re-signs", "B-hardened", "l2",
         "attack = \"tampering-relay\"\n", "", "", "", "", "relay-1", expect_cause(11)});
    add({"attack-foreign-ca-b-literal",
         "B-literal trusts any key: a UE of another CA gets a link (a gap of seed 001)",
         "B-literal", "l2", "attack = \"foreign-ca\"\n", "", "", "", "", "relay-1", expect_ok()});
    add({"attack-foreign-ca-b-hardened", "B-hardened: a target of another CA is refused",
         "B-hardened", "l2", "attack = \"foreign-ca\"\n", "", "", "", "", "relay-1",
         expect_cause(6)});
    add({"attack-tamper-data", "A via l3: data PDUs with a bit flipped on the air are dropped", "A",
         "l3", "attack = \"tamper-data\"\n", "", "", "", "", "relay-1",
         std::string(kTraffic) +
             "\n[expect]\nestablished = true\n[expect.drops_min]\nbad-mac = 1\n"});
    add({"attack-replay-data", "A via l2: replayed data PDUs are dropped end to end", "A", "l2",
         "attack = \"replay-data\"\n", "", "", "", "", "relay-1",
         std::string(kTraffic) + "\n[expect]\nestablished = true\ndelivered_min = "
                                 "20\n[expect.drops_min]\nreplay = 1\n"});
    add({"attack-inject-data",
         "B-hardened: data under a KNRP-sess ID the attacker made up is dropped", "B-hardened",
         "l2", "attack = \"inject-data\"\n", "", "", "", "", "relay-1",
         std::string(kTraffic) + "\n[expect]\nestablished = true\ndelivered_min = 20\n"
                                 "[expect.drops_min]\nunknown-session = 5\n"});

    // [a-state]'s attacks on solution A's establishment, as rule sets. Their [expect] holds only
    // what today's engine does (the live link survives); whether each attempt is refused shows
    // per rule in the summary and in metrics.json "attacker".
    add({"attack-forged-request-on-live-link",
         "A: a request with the live link's L2 IDs and a fresh Nonce_1, from no credentials", "A",
         "l3", "attack = \"forged-request-on-live-link\"\n", "", "", "", "", "relay-1",
         std::string(kTraffic) + "\n[expect]\nestablished = true\ndelivered_min = 20\n"});
    add({"attack-request-flood",
         "A: 50 requests with fresh nonces from made-up L2 IDs at the relay", "A", "l3",
         "attack = \"request-flood\"\n", "", "", "", "", "relay-1",
         std::string(kTraffic) + "\n[expect]\nestablished = true\ndelivered_min = 20\n"});
    add({"attack-revoked-with-cached-knrp",
         "A: the source is revoked after its first link and asks again with its cached KNRP ID: "
         "refused #6, the KNRP wiped",
         "A", "l3", "attack = \"revoked-with-cached-knrp\"\n", "", "", "", "", "relay-1",
         std::string(kTraffic) + "\n[expect]\nestablished = true\ncause = 6\n"});

    // [b-complete]: what each solution does with a forged unprotected reject, a request
    // replayed 62 minutes later, a target not authorised for the RSC, a lost key confirmation.
    for (const char* sol : {"A", "B-literal", "B-hardened"}) {
        const std::string b = sol == std::string("A")           ? ""
                              : sol == std::string("B-literal") ? "-b-literal"
                                                                : "-b-hardened";
        const char* path = b.empty() ? "l3" : "l2";
        add({"attack-forged-reject" + b,
             std::string(sol) +
                 ": ESTABLISHMENT REJECTs forged in every UE's name, during and after "
                 "establishment, change nothing",
             sol, path, "attack = \"forged-reject\"\n", "", "", "", "", "relay-1", expect_ok()});
        add({"attack-stale-replay" + b,
             std::string(sol) + ": the request that reached the target, replayed 62 minutes later" +
                 (b == "-b-literal" ? " (accepted: seed 001 has no freshness)" : ""),
             sol, path, "attack = \"stale-replay\"\nduration_s = 3800\n", "", "", "", "", "relay-1",
             b == "-b-hardened" ? expect_cause(6, true) : "[expect]\nestablished = true\n"});
        add({"attack-target-not-authorised" + b,
             std::string(sol) + ": the target's certificate does not authorise the RSC" +
                 (b == "-b-literal" ? " (linked: seed 001 checks no authorisation)" : ""),
             sol, path, "attack = \"target-not-authorised\"\n", "", "", "", "", "relay-1",
             b == "-b-literal" ? expect_ok() : expect_cause(11)});
    }
    add({"attack-unconfirmed-target-b-hardened",
         "B-hardened: the source's key confirmation never reaches the target, which wipes its keys",
         "B-hardened", "l2", "attack = \"unconfirmed-target\"\n", "", "", "", "", "relay-1",
         expect_cause(4)});
    add({"attack-unconfirmed-target-b-literal",
         "B-literal: nothing the source sends end to end reaches the target, which still holds "
         "the link as established (seed 001 has no key confirmation)",
         "B-literal", "l2", "attack = \"unconfirmed-target\"\n", "", "", "", "", "relay-1",
         "[expect]\nestablished = true\n"});
    add({"attack-relay-not-authorised-for-target-b-hardened",
         "B-hardened: a rogue relay whose certificate does not authorise the RSC re-signs anyway; "
         "the target refuses it (#11)",
         "B-hardened", "l2", "attack = \"relay-not-authorised-for-target\"\n", "", "", "", "",
         "relay-1", expect_cause(11)});
    add({"attack-relay-not-authorised-for-target-b-literal",
         "B-literal: the same rogue relay is not caught (seed 001 checks no authorisation)",
         "B-literal", "l2", "attack = \"relay-not-authorised-for-target\"\n", "", "", "", "",
         "relay-1", expect_ok()});

    add({"attack-key-substitution-b-literal",
         "B-literal: a rogue relay puts its own key in place of each end UE's and signs as them; "
         "both ends link, each with a KD the relay can compute (seed 001's literal-mode man in "
         "the middle)",
         "B-literal", "l2", "attack = \"key-substitution\"\n", "", "", "", "", "relay-1",
         "[expect]\nestablished = true\n"});
    add({"attack-key-substitution-b-hardened",
         "B-hardened: the same rogue relay signs with its own certificate, which does not name "
         "the end UE: refused #6",
         "B-hardened", "l2", "attack = \"key-substitution\"\n", "", "", "", "", "relay-1",
         expect_cause(6)});

    std::vector<Builtin> out;
    for (const auto& s : specs)
        out.push_back(
            {s.name, s.summary, render(s)});  // Scale: pairs through relays, each relay with its
                                              // own zone (discovery stays local).
    auto scale = [](const char* name, const char* summary, int pairs, int relays, int zone_relays) {
        return Builtin{name, summary,
                       fmt::format("name = \"{}\"\ndescription = \"{}\"\nsolution = \"A\"\n"
                                   "path = \"l3\"\nseed = 1\nduration_s = 60\n\n"
                                   "[scale]\npairs = {}\nrelays = {}\nzone_relays = {}\n\n"
                                   "[traffic]\npdus = 2\nsize = 100\n\n"
                                   "[expect]\nestablished = true\n",
                                   name, summary, pairs, relays, zone_relays)};
    };
    out.push_back(
        scale("scale-1k", "1,000 end UEs (500 pairs) through 100 layer-3 relays", 500, 100, 1));
    out.push_back(scale("scale-10k", "10,000 end UEs (5,000 pairs) through 1,000 layer-3 relays",
                        5000, 1000, 1));
    // Zones of 204 UEs: 4 relays and the 100 pairs they carry (docs/scale.md).
    out.push_back(scale("scale-100k",
                        "100,000 end UEs (50,000 pairs) through 2,000 layer-3 relays, in 500 "
                        "zones of 4 relays and 200 end UEs",
                        50000, 2000, 4));
    out.push_back(scale("scale-1m",
                        "1,000,000 end UEs (500,000 pairs) through 20,000 layer-3 relays, in "
                        "5,000 zones of 4 relays and 200 end UEs",
                        500000, 20000, 4));
    return out;
}

}  // namespace

const std::vector<Builtin>& builtin_scenarios() {
    static const std::vector<Builtin> all = make();
    return all;
}

}  // namespace pc5sec::sim
