// The attacker's rules ([[attacker]], docs/scenarios.md): each action, the match (n-th, every,
// time window), the attacker's knowledge (no IE of a ciphered frame without a compromised UE),
// the judged outcome (refused with a cause, detected, undetected) and its check, every
// malformed rule refused naming its key, and the named attacks as rule sets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pc5sec/codec.hpp"
#include "pc5sec/pcap.hpp"
#include "pc5sec/sim.hpp"

namespace pc5sec::sim {
namespace {

using nlohmann::json;

// `top` keys and the `rules`, then alice and bob (and relay-1 unless direct), alice connects,
// 20 data PDUs.
std::string scenario(const std::string& path, const std::string& rules,
                     const std::string& top = "") {
    std::string t = "name = \"t\"\npath = \"" + path + "\"\n" + top + rules +
                    "\n[[ue]]\nname = \"alice\"\nl2 = 0x0A\n[[ue]]\nname = \"bob\"\nl2 = 0x0B\n";
    if (path != "direct") t += "[[ue]]\nname = \"relay-1\"\nl2 = 0x50\nrelay = true\n";
    t += "[[connect]]\nsource = \"alice\"\ntarget = \"bob\"\n";
    if (path != "direct") t += "relay = \"relay-1\"\n";
    t += "[traffic]\npdus = 20\n";
    return t;
}

struct Run {
    Report report;
    json j;
    const json& rule(std::size_t i) const { return j["attacker"].at(i); }
};

Run run_text(const std::string& text) {
    auto s = parse_scenario(text, "t.toml");
    if (!s) throw std::runtime_error(s.error().describe());
    auto r = run(*s);
    if (!r) throw std::runtime_error(r.error().describe());
    Run out{std::move(*r), {}};
    out.j = json::parse(out.report.json);
    return out;
}

TEST(Action, DropStopsTheRequestAndTheSourceGivesUp) {
    const auto r = run_text(scenario("direct",
                                     "[[attacker]]\naction = \"drop\"\nmatch = { from = \"alice\", "
                                     "message = \"establishment_request\" }\n"));
    EXPECT_EQ(r.j["establishment"]["established"], 0);
    EXPECT_GE(r.rule(0)["fired"].get<int>(), 2);  // the request and its retransmissions
    EXPECT_EQ(r.rule(0)["victims"]["accepted"], 0);
    EXPECT_FALSE(r.j["messages"].contains("security_mode_command"));
}

TEST(Action, DelayHoldsTheSecurityModeCommandBack) {
    const auto plain = run_text(scenario("direct", ""));
    const auto r = run_text(scenario("direct",
                                     "[[attacker]]\naction = \"delay\"\ndelay_ms = 40\nmatch = { "
                                     "message = \"security_mode_command\" }\n"));
    EXPECT_EQ(r.rule(0)["fired"], 1);
    EXPECT_EQ(r.rule(0)["outcome"], "undetected");
    EXPECT_EQ(r.rule(0)["victims"]["accepted"], 1);
    EXPECT_GE(r.j["establishments"][0]["latency_ms"].get<double>(),
              plain.j["establishments"][0]["latency_ms"].get<double>() + 40);
}

TEST(Action, DuplicateDataIsDetectedAsReplay) {
    const auto r = run_text(
        scenario("direct",
                 "[[attacker]]\naction = \"duplicate\"\nmatch = { from = \"alice\", plane = "
                 "\"data\" }\nexpect = \"detected\"\n"));
    EXPECT_EQ(r.rule(0)["fired"], 20);
    EXPECT_EQ(r.rule(0)["victims"]["dropped"]["replay"], 20);
    EXPECT_EQ(r.j["data"]["delivered"], 20);
    EXPECT_TRUE(r.report.expectations_met) << r.report.summary;
    EXPECT_NE(r.report.summary.find("attacker attacker[0] (duplicate): fired 20 times -> detected"),
              std::string::npos)
        << r.report.summary;
}

TEST(Action, RecordThenReplayOnALaterMatch) {
    const auto r = run_text(scenario(
        "direct",
        "[[attacker]]\nname = \"rec\"\naction = \"record\"\nrecord = \"first\"\nmatch = { from = "
        "\"alice\", plane = \"data\", nth = 1 }\n\n[[attacker]]\nname = \"again\"\naction = "
        "\"replay\"\nmatch = { from = \"alice\", plane = \"data\", nth = 10 }\nreplay = { record = "
        "\"first\" }\n"));
    EXPECT_EQ(r.rule(0)["fired"], 1);
    EXPECT_EQ(r.rule(1)["fired"], 1);
    EXPECT_EQ(r.rule(1)["outcome"], "detected");
    EXPECT_EQ(r.rule(1)["victims"]["dropped"]["replay"], 1);
    EXPECT_EQ(r.j["medium"]["attacker_injected"], 1);
}

TEST(Action, ReflectSendsTheCommandBackToItsSender) {
    const auto r = run_text(scenario("direct",
                                     "[[attacker]]\naction = \"reflect\"\nmatch = { to = "
                                     "\"alice\", message = \"security_mode_command\" }\n"));
    EXPECT_EQ(r.rule(0)["fired"], 1);
    // bob gets his own command back from alice's L2 ID: not a message he takes.
    EXPECT_EQ(r.rule(0)["victims"]["accepted"], 0);
    EXPECT_EQ(r.rule(0)["outcome"], "detected");
    EXPECT_EQ(r.j["establishment"]["established"], 1);
}

TEST(Action, ModifySetIsRefusedWithCauseSix) {
    const auto r = run_text(
        scenario("l3",
                 "[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\", message = "
                 "\"establishment_request\" }\nmodify = { set = { ue_security_capabilities = "
                 "\"0x80c0\" } }\nexpect = \"refused\"\nexpect_cause = 6\n"));
    EXPECT_TRUE(r.report.expectations_met) << r.report.summary;
    EXPECT_EQ(r.rule(0)["outcome"], "refused");
    EXPECT_GE(r.rule(0)["victims"]["refused"]["6"].get<int>(), 1);
    EXPECT_GE(r.j["medium"]["attacker_tampered"].get<int>(), 1);
}

TEST(Action, ModifyRemoveAndAddIes) {
    const auto removed = run_text(
        scenario("direct",
                 "[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\", message = "
                 "\"establishment_request\" }\nmodify = { remove = [\"key_est_info\"] }\n"));
    EXPECT_GE(removed.rule(0)["fired"].get<int>(), 1);
    EXPECT_EQ(removed.rule(0)["edit_errors"], 0);
    EXPECT_EQ(removed.j["establishment"]["established"], 0);
    EXPECT_NE(removed.rule(0)["outcome"], "undetected");
    const auto added = run_text(
        scenario("direct",
                 "[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\", message = "
                 "\"establishment_request\", nth = 1 }\nmodify = { add = { relay_service_code = "
                 "0x00B002, target_end_ue_l2_id = 0x000077 } }\n"));
    EXPECT_EQ(added.rule(0)["fired"], 1);
    EXPECT_EQ(added.rule(0)["edit_errors"], 0);
    // The capture holds the altered request as it went on the air.
    int altered = 0;
    const auto frames = pcap::parse(added.report.pcap);
    ASSERT_TRUE(frames);
    for (const auto& f : *frames)
        if (auto m = codec::decode(f.message))
            if (auto* q = std::get_if<codec::DirectLinkEstablishmentRequest>(&*m))
                altered += q->relay_service_code == codec::RelayServiceCode{0x00B002};
    EXPECT_EQ(altered, 1);
}

TEST(Action, FlipBitsOfTheMacIsDetected) {
    const auto r =
        run_text(scenario("direct",
                          "[[attacker]]\naction = \"modify\"\nmatch = { to = \"alice\", message = "
                          "\"security_mode_command\" }\nmodify = { flip_bits = [-1] }\n"));
    EXPECT_EQ(r.rule(0)["victims"]["dropped"]["bad-mac"], r.rule(0)["fired"]);
    EXPECT_EQ(r.j["establishment"]["established"], 0);
}

TEST(Action, InjectDataAndAForgedRequest) {
    const auto data = run_text(
        scenario("direct",
                 "[[attacker]]\naction = \"inject\"\nanchor = \"ready\"\ninject = { data = "
                 "true, knrp_sess_id = 0xBAD0, as = \"alice\", to = \"bob\", at_ms = 1, count = "
                 "3, interval_ms = 2 }\n"));
    EXPECT_EQ(data.rule(0)["fired"], 3);
    EXPECT_EQ(data.rule(0)["victims"]["dropped"]["unknown-session"], 3);
    const auto forged = run_text(scenario(
        "direct",
        "[[attacker]]\naction = \"inject\"\nanchor = \"ready\"\ninject = { message = "
        "\"establishment_request\", set = { source_user_info = \"mallory\", prose_identifiers = "
        "\"0x01\", ue_security_capabilities = \"0xe0e0\", signalling_security_policy = 0x22, "
        "nonce_1 = \"random\" }, as = \"random\", to = \"bob\", at_ms = 5 }\n"));
    EXPECT_EQ(forged.rule(0)["fired"], 1);
    EXPECT_NE(forged.rule(0)["outcome"], "never-fired");
    EXPECT_EQ(forged.j["establishment"]["established"], 1);
}

TEST(Match, NthEveryLimitAndTimeWindow) {
    const auto r = run_text(scenario(
        "direct",
        "[[attacker]]\naction = \"duplicate\"\nmatch = { from = \"alice\", plane = \"data\", nth "
        "= 3 }\n\n[[attacker]]\naction = \"duplicate\"\nmatch = { from = \"alice\", plane = "
        "\"data\", every = 4 }\n\n[[attacker]]\naction = \"duplicate\"\nmatch = { from = "
        "\"alice\", plane = \"data\", limit = 2 }\n\n[[attacker]]\naction = \"duplicate\"\nanchor "
        "= \"ready\"\nmatch = { from = \"alice\", plane = \"data\", from_ms = 20, until_ms = 40 "
        "}\n"));
    EXPECT_EQ(r.rule(0)["fired"], 1);
    EXPECT_EQ(r.rule(1)["fired"], 5);
    EXPECT_EQ(r.rule(2)["fired"], 2);
    // PDUs leave 1 ms after ready, 5 ms apart, and arrive ~2 ms later: those due 20..40 ms.
    EXPECT_GE(r.rule(3)["fired"].get<int>(), 3);
    EXPECT_LE(r.rule(3)["fired"].get<int>(), 5);
}

TEST(Knowledge, NoIeOfACipheredMessageWithoutACompromisedUe) {
    const std::string rule =
        "[[attacker]]\naction = \"record\"\nrecord = \"acc\"\nmatch = { from = \"bob\", message = "
        "\"establishment_accept\" }\n";
    auto refused = parse_scenario(scenario("direct", rule), "t.toml");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().field, "t.toml: attacker[0].match.message");
    // With bob's keys it reads bob's accept (and only that), but does not re-protect edits.
    const auto r = run_text(scenario("direct", rule, "compromised = [\"bob\"]\n"));
    EXPECT_EQ(r.rule(0)["fired"], 1);
    auto edit = parse_scenario(
        scenario("direct",
                 "[[attacker]]\naction = \"modify\"\nmatch = { from = \"bob\", message = "
                 "\"establishment_accept\" }\nmodify = { remove = [\"key_est_info\"] }\n",
                 "compromised = [\"bob\"]\n"),
        "t.toml");
    ASSERT_FALSE(edit);
    EXPECT_EQ(edit.error().field, "t.toml: attacker[0].modify");
    // The Security Mode Command is integrity-only: readable without keys.
    EXPECT_TRUE(parse_scenario(scenario("direct",
                                        "[[attacker]]\naction = \"drop\"\nmatch = { "
                                        "message = \"security_mode_command\" }\n"),
                               "t.toml"));
}

TEST(Outcome, AWrongExpectationIsReported) {
    const auto r =
        run_text(scenario("direct",
                          "[[attacker]]\nname = \"dup\"\naction = \"duplicate\"\nmatch = { from = "
                          "\"alice\", plane = \"data\" }\nexpect = \"undetected\"\n"));
    EXPECT_FALSE(r.report.expectations_met);
    ASSERT_EQ(r.report.failed_expectations.size(), 1u);
    EXPECT_NE(r.report.failed_expectations[0].find("expected rule dup undetected"),
              std::string::npos);
    EXPECT_FALSE(r.j["expectations"]["met"].get<bool>());
    const auto never = run_text(
        scenario("direct",
                 "[[attacker]]\naction = \"drop\"\nmatch = { from = \"bob\", plane = \"data\" "
                 "}\nexpect = \"never-fired\"\n"));
    EXPECT_TRUE(never.report.expectations_met) << never.report.summary;
    EXPECT_EQ(never.rule(0)["outcome"], "never-fired");
}

TEST(Reproducible, RandomValuesComeFromTheSeed) {
    for (const char* name : {"attack-request-flood", "attack-forged-request-on-live-link"}) {
        auto s = builtin(name).value();
        const auto x = run(s).value(), y = run(s).value();
        EXPECT_EQ(x.json, y.json) << name;
        EXPECT_EQ(x.pcap, y.pcap) << name;
        EXPECT_EQ(x.keylog, y.keylog) << name;
        s.seed = 2;
        EXPECT_NE(run(s).value().pcap, x.pcap) << name;
    }
}

TEST(NamedAttacks, EveryMediumAttackIsARuleSet) {
    for (auto a : {Attack::tamper_request, Attack::tamper_mac, Attack::replay, Attack::tamper_data,
                   Attack::replay_data, Attack::inject_data, Attack::tampering_relay,
                   Attack::forged_request_on_live_link, Attack::request_flood,
                   Attack::revoked_with_cached_knrp})
        for (const char* relay : {"", "relay-1"}) {
            if (a == Attack::tampering_relay && !*relay) continue;
            EXPECT_FALSE(attack_rules(a, "alice", "bob", relay).rules.empty()) << name(a);
        }
    for (auto a : {Attack::none, Attack::revoked, Attack::expired, Attack::foreign_ca,
                   Attack::unauthorised_relay})
        EXPECT_TRUE(attack_rules(a, "alice", "bob", "relay-1").rules.empty()) << name(a);
}

struct BadRule {
    const char* rules;
    const char* field;
};
class MalformedRule : public ::testing::TestWithParam<BadRule> {};

TEST_P(MalformedRule, NamesTheKey) {
    auto r = parse_scenario(scenario("direct", GetParam().rules), "t.toml");
    ASSERT_FALSE(r) << GetParam().rules;
    EXPECT_EQ(r.error().field, std::string("t.toml: ") + GetParam().field) << r.error().describe();
}

INSTANTIATE_TEST_SUITE_P(
    Keys, MalformedRule,
    ::testing::Values(
        BadRule{"[[attacker]]\nmatch = { from = \"alice\" }\n", "attacker[0].action"},
        BadRule{"[[attacker]]\naction = \"zap\"\n", "attacker[0].action"},
        BadRule{"[[attacker]]\naction = \"drop\"\ncolour = 1\n", "attacker[0].colour"},
        BadRule{"[[attacker]]\naction = \"drop\"\n", "attacker[0].match"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { from = \"carol\" }\n",
                "attacker[0].match.from"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { message = \"hello\" }\n",
                "attacker[0].match.message"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { message = "
                "\"security_mode_command\", lcid = 0 }\n",
                "attacker[0].match.lcid"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { message = "
                "\"modification_request\" }\n",
                "attacker[0].match.message"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { message = "
                "\"establishment_request\", plane = \"data\" }\n",
                "attacker[0].match.plane"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { from = \"alice\", to = \"alice\" }\n",
                "attacker[0].match.to"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { from_ms = 5, until_ms = 1 }\n",
                "attacker[0].match.until_ms"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmatch = { every = 0 }\n",
                "attacker[0].match.every"},
        BadRule{"[[attacker]]\naction = \"delay\"\nmatch = { from = \"alice\" }\n",
                "attacker[0].delay_ms"},
        BadRule{"[[attacker]]\naction = \"record\"\nmatch = { from = \"alice\" }\n",
                "attacker[0].record"},
        BadRule{"[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\", message = "
                "\"establishment_request\" }\nmodify = { set = { foo = 1 } }\n",
                "attacker[0].modify.set.foo"},
        BadRule{"[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\", message = "
                "\"establishment_request\" }\nmodify = { set = { nonce_2 = \"random\" } }\n",
                "attacker[0].modify.set.nonce_2"},
        BadRule{"[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\", message = "
                "\"establishment_request\" }\nmodify = { set = { nonce_1 = \"0x0102\" } }\n",
                "attacker[0].modify.set.nonce_1"},
        BadRule{"[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\", message = "
                "\"establishment_request\" }\nmodify = { remove = [\"source_user_info\"] }\n",
                "attacker[0].modify.remove"},
        BadRule{"[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\" }\nmodify = { "
                "set = { nonce_1 = \"random\" } }\n",
                "attacker[0].modify"},
        BadRule{"[[attacker]]\naction = \"modify\"\nmatch = { from = \"alice\" }\nmodify = {}\n",
                "attacker[0].modify"},
        BadRule{"[[attacker]]\naction = \"replay\"\nreplay = { record = \"never\", at_ms = 5 }\n",
                "attacker[0].replay.record"},
        BadRule{"[[attacker]]\naction = \"replay\"\nreplay = { record = \"x\" }\n",
                "attacker[0].replay.at_ms"},
        BadRule{"[[attacker]]\naction = \"inject\"\ninject = { message = "
                "\"establishment_request\", at_ms = 1, to = \"bob\" }\n",
                "attacker[0].inject"},
        BadRule{"[[attacker]]\naction = \"inject\"\ninject = { data = true, as = \"eve\", at_ms "
                "= 1 }\n",
                "attacker[0].inject.as"},
        BadRule{"[[attacker]]\naction = \"inject\"\ninject = { data = true, size = 0, at_ms = 1 "
                "}\n",
                "attacker[0].inject.size"},
        BadRule{"[[attacker]]\naction = \"inject\"\ninject = { message = "
                "\"establishment_reject\", set = { cause = 6 }, seq = 256, at_ms = 1, to = "
                "\"bob\" }\n",
                "attacker[0].inject.seq"},
        BadRule{"[[attacker]]\naction = \"inject\"\ninject = { message = "
                "\"establishment_reject\", set = { cause = 6 }, seq = \"often\", at_ms = 1, to "
                "= \"bob\" }\n",
                "attacker[0].inject.seq"},
        BadRule{"[[attacker]]\naction = \"inject\"\ninject = { message = "
                "\"establishment_reject\", set = { cause = 6 }, seq = \"record:never\", at_ms = "
                "1, to = \"bob\" }\n",
                "attacker[0].inject.seq"},
        BadRule{"[[attacker]]\naction = \"inject\"\ninject = { data = true, seq = 1, at_ms = 1 "
                "}\n",
                "attacker[0].inject.seq"},
        BadRule{"[[attacker]]\naction = \"drop\"\nexpect = \"maybe\"\nmatch = { from = "
                "\"alice\" }\n",
                "attacker[0].expect"},
        BadRule{"[[attacker]]\naction = \"drop\"\nexpect = \"detected\"\nexpect_cause = 6\nmatch "
                "= { from = \"alice\" }\n",
                "attacker[0].expect_cause"},
        BadRule{"[[attacker]]\naction = \"drop\"\nmodify = { flip_bits = [1] }\nmatch = { from = "
                "\"alice\" }\n",
                "attacker[0].modify"},
        BadRule{"attacker = 5\n", "attacker"},
        BadRule{"compromised = [\"eve\"]\n", "compromised"}));

}  // namespace
}  // namespace pc5sec::sim
