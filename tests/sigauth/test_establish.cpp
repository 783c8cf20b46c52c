// Solution B through a relay, as a user runs it: both modes establish, both ends hold the same
// keys (fingerprints, and NRPEK/NRPIK recomputed from the key log), the relay never holds KD,
// protected PC5-S goes end to end, timers, configuration errors, decode errors.
#include <gtest/gtest.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/pdcp.hpp"
#include "world.hpp"

namespace pc5sec::sigauth::test {
namespace {

class Establish : public ::testing::TestWithParam<Mode> {};

KnrpSess knrp_sess_from_log(const pc5::KeyLogCollector& log, const std::string& id) {
    auto bytes = from_hex(log.latest("KD_SESS", id)).value();
    return KnrpSess::from_bytes(bytes).value();
}

TEST_P(Establish, BothEndsAgreeThroughTheRelay) {
    World w(GetParam());
    w.build();
    w.connect();
    auto s = w.established(*w.source);
    auto t = w.established(*w.target);
    ASSERT_EQ(s.size(), 1u) << (w.failures(*w.source).empty() ? ""
                                                              : w.failures(*w.source)[0].reason);
    ASSERT_EQ(t.size(), 1u);
    const auto& ls = s[0].link;
    const auto& lt = t[0].link;
    EXPECT_EQ(ls.id, lt.id);
    EXPECT_EQ(ls.id.rfind("alice>bob#", 0), 0u);
    EXPECT_EQ(ls.solution, solution_of(GetParam()));
    EXPECT_EQ(ls.kind, pc5::LinkKind::e2e);
    EXPECT_TRUE(ls.initiator);
    EXPECT_FALSE(lt.initiator);
    EXPECT_EQ(ls.peer, kTarget);
    EXPECT_EQ(lt.peer, kSource);
    EXPECT_EQ(ls.knrp_sess_id, lt.knrp_sess_id);
    EXPECT_NE(ls.knrp_sess_id.value, 0);
    EXPECT_EQ(ls.ciphering, CipheringAlgorithm::nea2);
    EXPECT_EQ(ls.integrity, IntegrityAlgorithm::nia2);
    for (const char* k : {"KD", "KD-sess", "NRPEK", "NRPIK"}) {
        ASSERT_TRUE(ls.fingerprints.count(k)) << k;
        EXPECT_EQ(ls.fingerprints.at(k), lt.fingerprints.at(k)) << k;
    }

    // The key logs of both ends: the same lines, and NRPEK/NRPIK follow from KD_SESS by the
    // TS 33.536 A.3 derivation.
    for (const char* label : {"KD", "KD_SESS", "KNRP_SESS_ID", "ALGS", "NRPEK", "NRPIK"}) {
        EXPECT_NE(w.log_source.latest(label, ls.id), "") << label;
        EXPECT_EQ(w.log_source.latest(label, ls.id), w.log_target.latest(label, ls.id)) << label;
    }
    const bool hardened = GetParam() == Mode::hardened;
    EXPECT_EQ(w.log_source.latest("NONCE_1", ls.id) != "", hardened);
    EXPECT_EQ(w.log_source.latest("NONCE_2", ls.id) != "", hardened);
    EXPECT_EQ(w.log_source.latest("ALGS", ls.id), "2 2");
    EXPECT_EQ(w.log_source.latest("KNRP_SESS_ID", ls.id),
              fmt::format("{:04x}", ls.knrp_sess_id.value));
    const auto sess = knrp_sess_from_log(w.log_source, ls.id);
    EXPECT_EQ(to_hex(derive_nrpek(sess, CipheringAlgorithm::nea2).reveal()),
              w.log_target.latest("NRPEK", ls.id));
    EXPECT_EQ(to_hex(derive_nrpik(sess, IntegrityAlgorithm::nia2).reveal()),
              w.log_target.latest("NRPIK", ls.id));
    // KD-sess = KDF(KD, 0xB1, F1, F2): recomputed from the log (hardened: F1/F2 = nonces).
    if (hardened) {
        auto kd = from_hex(w.log_source.latest("KD", ls.id)).value();
        auto n1 = from_hex(w.log_source.latest("NONCE_1", ls.id)).value();
        auto n2 = from_hex(w.log_source.latest("NONCE_2", ls.id)).value();
        EXPECT_EQ(to_hex(kdf(kd, fc::kKdSess, {n1, n2}).reveal()),
                  w.log_target.latest("KD_SESS", ls.id));
        // The link tag is the first 4 octets of Nonce_1.
        EXPECT_EQ(ls.id.substr(ls.id.size() - 8),
                  w.log_source.latest("NONCE_1", ls.id).substr(0, 8));
    }

    // The relay: no end-to-end link and no key from KD; its two hops only (docs/solution-b.md
    // "The hops"), each from one key agreement, in its key log and its events.
    EXPECT_TRUE(w.relay->links().empty());
    EXPECT_FALSE(w.relay->data_keys(ls.id));
    expect_relay_holds_no_end_to_end_key(w.log_relay, ls.id);
    EXPECT_EQ(w.relay->counters().crypto.key_agreement, 2u);
    // Request and accept; hardened adds the key confirmation (KEEPALIVE REQUEST and RESPONSE).
    EXPECT_EQ(w.relay->counters().frames_forwarded, hardened ? 4u : 2u);
    const auto hops = w.all_established(*w.relay);
    ASSERT_EQ(hops.size(), 2u);
    for (const auto& h : hops) {
        EXPECT_EQ(h.link.kind, pc5::LinkKind::hop);
        EXPECT_EQ(w.log_relay.latest("NRPEK", h.link.id).size(), 32u);
        const auto k = w.relay->data_keys(h.link.id);
        ASSERT_TRUE(k);
        EXPECT_TRUE(k->l3_routes.empty());  // layer 2: data go beside the hops, by SRAP
    }
}

TEST_P(Establish, LiteralKdIsTheStaticEcdhHardenedIsNot) {
    World w(GetParam());
    w.build();
    w.connect();
    auto s = w.established(*w.source);
    ASSERT_EQ(s.size(), 1u);
    const auto id = s[0].link.id;
    const auto z = key_agreement(*w.source_cfg.key, w.target_cfg.key->public_key()).value();
    // Seed 001 step 4: literal KD is ECDH(own private key, peer's public key) and nothing else.
    EXPECT_EQ(to_hex(z.reveal()) == w.log_target.latest("KD", id), GetParam() == Mode::literal);
}

TEST_P(Establish, CryptoOperationCounts) {
    World w(GetParam());
    w.build();
    w.connect();
    ASSERT_EQ(w.established(*w.source).size(), 1u);
    pc5::CryptoOps total;
    total += w.source->counters().crypto;
    total += w.relay->counters().crypto;
    total += w.target->counters().crypto;
    // The issue: literal = 4 signatures, 6 verifications, 2 ECDH. Hardened adds 6 certificate
    // verifications, 2 ephemeral key pairs and 2 more ECDH (docs/solution-b.md). The two hops
    // add 4 X25519 (one at each end, two at the relay) and the relay's ephemeral key pair;
    // literal mode makes ephemeral key pairs at both ends for them, hardened reuses KD's.
    EXPECT_EQ(total.sign, 4u);
    EXPECT_EQ(total.verify, 6u);
    if (GetParam() == Mode::literal) {
        EXPECT_EQ(total.key_agreement, 2u + 4u);
        EXPECT_EQ(total.cert_verify, 0u);
        EXPECT_EQ(total.keygen, 3u);
    } else {
        EXPECT_EQ(total.key_agreement, 4u + 4u);
        EXPECT_EQ(total.cert_verify, 6u);
        EXPECT_EQ(total.keygen, 3u);
    }
}

TEST_P(Establish, ProtectedSignallingRoundTripsEndToEndThroughTheRelay) {
    World w(GetParam());
    w.build();
    w.connect();
    auto s = w.established(*w.source);
    ASSERT_EQ(s.size(), 1u);
    const auto id = s[0].link.id;
    const auto forwarded = w.relay->counters().frames_forwarded;

    // Hardened: the source's key confirmation was the first keep-alive.
    using MT = codec::MessageType;
    const auto before = GetParam() == Mode::hardened ? 1u : 0u;
    ASSERT_TRUE(w.source->send_keepalive(id, w.radio.now));
    w.radio.run();
    EXPECT_EQ(w.target->counters().received_messages.at(MT::keepalive_request), before + 1);
    EXPECT_EQ(w.source->counters().received_messages.at(MT::keepalive_response), before + 1);
    EXPECT_EQ(w.relay->counters().frames_forwarded, forwarded + 2);
    // The relay saw only ciphertext: the keep-alive frames it forwarded are PDCP PDUs whose
    // payload is not the plain encoding, and it could not open them (it has no key).
    bool saw_e2e = false;
    for (const auto& f : w.radio.sent) {
        if (!protected_pc5s(f)) continue;
        saw_e2e = true;
        EXPECT_FALSE(codec::decode(payload(f).subspan(pdcp::kHeaderSize)).ok());
    }
    EXPECT_TRUE(saw_e2e);

    // Release from the target: the source hears it end to end and answers.
    w.target->release_all(w.radio.now);
    w.radio.run();
    auto rel = w.released(*w.source);
    ASSERT_EQ(rel.size(), 1u);
    EXPECT_TRUE(rel[0].by_peer);
    EXPECT_EQ(rel[0].id, id);
    EXPECT_TRUE(w.source->links().empty());
    EXPECT_TRUE(w.target->links().empty());
    EXPECT_EQ(w.target->counters().received_messages.at(MT::release_accept), 1u);
    EXPECT_FALSE(w.source->send_keepalive(id, w.radio.now));
    expect_relay_holds_no_end_to_end_key(w.log_relay, id);
}

TEST_P(Establish, TamperedProtectedPduIsDroppedNotDelivered) {
    World w(GetParam());
    w.build();
    w.connect();
    auto s = w.established(*w.source);
    ASSERT_EQ(s.size(), 1u);
    w.radio.on_air = [](pc5::Frame& f) {
        if (protected_pc5s(f) && f.src == kRelayL2) f.pdu[srap::kHeaderSize + 6] ^= 0x01;
        return true;
    };
    ASSERT_TRUE(w.source->send_keepalive(s[0].link.id, w.radio.now));
    w.radio.run();
    auto drops = w.radio.events_of<pc5::PduDropped>(*w.target);
    ASSERT_EQ(drops.size(), 1u);
    EXPECT_EQ(drops[0].reason, pc5::DropReason::bad_mac);
    // Hardened: only the source's key confirmation, sent before the tampering, got through.
    const auto before = GetParam() == Mode::hardened ? 1u : 0u;
    EXPECT_EQ(w.target->counters().received_messages.count(codec::MessageType::keepalive_request),
              before);
}

TEST_P(Establish, LostRequestIsRetransmittedOnT5080) {
    World w(GetParam());
    w.build();
    int lost = 0;
    w.radio.on_air = [&](pc5::Frame& f) {
        // The relay's first forwarded request is lost on the air.
        if (f.src == kRelayL2 && f.dst == kTargetL2 && lost == 0) return ++lost, false;
        return true;
    };
    w.connect();
    ASSERT_EQ(w.established(*w.source).size(), 1u);
    ASSERT_EQ(w.established(*w.target).size(), 1u);
    EXPECT_EQ(w.source->counters().retransmissions, 1u);
    EXPECT_GE(w.radio.now, std::chrono::seconds(8));
    EXPECT_EQ(w.established(*w.source)[0].link.fingerprints.at("KD"),
              w.established(*w.target)[0].link.fingerprints.at("KD"));
}

TEST_P(Establish, LostAcceptIsAnsweredFromTheTargetsCopy) {
    World w(GetParam());
    w.build();
    int lost = 0;
    w.radio.on_air = [&](pc5::Frame& f) {
        if (f.src == kRelayL2 && f.dst == kSourceL2 && lost == 0) return ++lost, false;
        return true;
    };
    w.connect();
    ASSERT_EQ(w.established(*w.source).size(), 1u);
    ASSERT_EQ(w.established(*w.target).size(), 1u);  // one link, not two
    EXPECT_EQ(w.established(*w.source)[0].link.fingerprints.at("NRPIK"),
              w.established(*w.target)[0].link.fingerprints.at("NRPIK"));
}

TEST_P(Establish, NoAnswerFailsAfterTheLastRetransmission) {
    World w(GetParam());
    w.build();
    w.radio.on_air = [](pc5::Frame& f) { return f.dst != kRelayL2; };
    w.connect();
    auto f = w.failures(*w.source);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::direct_connection_not_available);
    EXPECT_NE(f[0].reason.find("T5080"), std::string::npos);
    EXPECT_EQ(w.source->counters().retransmissions, 3u);
    EXPECT_EQ(w.radio.now, std::chrono::seconds(32));
    EXPECT_EQ(w.source->next_timeout(), pc5::kNever);
}

TEST_P(Establish, UnknownTargetAtTheRelay) {
    World w(GetParam());
    w.relay_cfg.directory.erase(kTarget);
    w.build();
    w.connect();
    auto f = w.failures(*w.source);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_TRUE(f[0].by_peer);
    EXPECT_EQ(f[0].cause, codec::Cause::direct_connection_not_available);
}

TEST_P(Establish, NoCommonAlgorithmIsCause8) {
    World w(GetParam());
    w.source_cfg.policy.integrity = {IntegrityAlgorithm::nia1};
    w.target_cfg.policy.integrity = {IntegrityAlgorithm::nia3};
    w.build();
    w.connect();
    auto f = w.failures(*w.source);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::ue_security_capabilities_mismatch);
    EXPECT_TRUE(f[0].by_peer);
}

// policy.toml, checked as solution A checks it (TS 33.536 5.3.3.1.2): NOT NEEDED against
// REQUIRED is #10 for integrity and for ciphering; a required ciphering with no common
// algorithm is #8; ciphering NOT NEEDED on one side gives NEA0.
TEST_P(Establish, SignallingPolicyMismatchIsCause10) {
    for (bool integrity : {true, false}) {
        SCOPED_TRACE(integrity ? "integrity" : "ciphering");
        World w(GetParam());
        auto& mine = w.source_cfg.policy.signalling;
        auto& theirs = w.target_cfg.policy.signalling;
        (integrity ? mine.integrity : mine.ciphering) = PolicyLevel::required;
        (integrity ? theirs.integrity : theirs.ciphering) = PolicyLevel::not_needed;
        w.build();
        w.connect();
        auto f = w.failures(*w.source);
        ASSERT_EQ(f.size(), 1u);
        EXPECT_EQ(f[0].cause, codec::Cause::signalling_security_policy_mismatch);
        EXPECT_TRUE(f[0].by_peer);
        auto t = w.failures(*w.target);
        ASSERT_EQ(t.size(), 1u);
        EXPECT_NE(t[0].reason.find(integrity ? "signalling integrity: ours not-needed, theirs "
                                               "required"
                                             : "signalling ciphering: ours not-needed, theirs "
                                               "required"),
                  std::string::npos)
            << t[0].reason;
        EXPECT_TRUE(w.target->links().empty());
        EXPECT_TRUE(w.log_target.records().empty());  // no key was installed
    }
}

TEST_P(Establish, RequiredCipheringWithoutACommonAlgorithmIsCause8) {
    World w(GetParam());
    w.source_cfg.policy.ciphering = {CipheringAlgorithm::nea1, CipheringAlgorithm::nea0};
    w.target_cfg.policy.ciphering = {CipheringAlgorithm::nea2};
    w.target_cfg.policy.signalling.ciphering = PolicyLevel::required;
    w.build();
    w.connect();
    auto f = w.failures(*w.source);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::ue_security_capabilities_mismatch);
}

TEST_P(Establish, CipheringNotNeededOnOneSideGivesNea0AndIntegrityStays) {
    World w(GetParam());
    w.source_cfg.policy.signalling.ciphering = PolicyLevel::not_needed;
    w.target_cfg.policy.signalling.ciphering = PolicyLevel::preferred;
    w.build();
    w.connect();
    auto s = w.established(*w.source);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].link.ciphering, CipheringAlgorithm::nea0);
    EXPECT_EQ(s[0].link.integrity, IntegrityAlgorithm::nia2);
    // The request carried the source's policy, as solution A's does.
    for (const auto& fr : w.radio.sent) {
        if (fr.src != kSourceL2 || fr.lcid != pc5::lcid::kSrb0) continue;
        auto m = codec::decode(fr.pdu).value();
        const auto& req = std::get<codec::DirectLinkEstablishmentRequest>(m);
        EXPECT_EQ(req.signalling_security_policy.ciphering, codec::PolicyValue::not_needed);
        EXPECT_EQ(req.signalling_security_policy.integrity, codec::PolicyValue::required);
        break;
    }
}

TEST_P(Establish, GarbageFramesAreDroppedWithoutAnswerOrState) {
    World w(GetParam());
    w.build();
    const std::vector<std::vector<std::uint8_t>> bad = {
        {},
        {0x01},
        {0x01, 0x05},
        {0x7f, 0x01},
        {0x02, 0x01, 0x05, 'a', 'l', 'i', 'c', 'e'},
        {0x01, 0x01, 0x05, 'a', 'l', 'i', 'c', 'e', 0x01, 0x00, 0x02, 0xf0, 0x70, 0x12},
        {0x03, 0x09, 0x06},
    };
    for (const auto& pdu : bad) {
        for (pc5::L2Id to : {kRelayL2, kTargetL2, kSourceL2}) {
            for (std::uint8_t lcid : {pc5::lcid::kSrb0, pc5::lcid::kEndToEnd, std::uint8_t{9}})
                w.radio.inject(pc5::Frame{kSourceL2, to, lcid, pdu});
            // Behind a well-formed SRAP header (SL-SRB0, SL-SRB2, data), from the relay too.
            for (std::uint8_t bearer : {0, 2, 4})
                for (pc5::L2Id from : {kSourceL2, kRelayL2}) {
                    pc5::Frame f{from, to, pc5::lcid::kEndToEnd, {}};
                    ASSERT_TRUE(srap::append_header({bearer, 1, 2}, f.pdu));
                    f.pdu.insert(f.pdu.end(), pdu.begin(), pdu.end());
                    if (from != to) w.radio.inject(f);
                }
        }
    }
    for (const Engine* e : {w.source.get(), w.relay.get(), w.target.get()}) {
        EXPECT_TRUE(e->links().empty());
        EXPECT_GT(e->counters().drops_total(), 0u);
        EXPECT_TRUE(w.radio.events_of<pc5::LinkEstablished>(*e).empty());
    }
    // A decodable request without Authentication_Info is refused with cause #6, not dropped.
    EXPECT_EQ(w.failures(*w.relay).size(), 1u);
    EXPECT_EQ(w.failures(*w.relay)[0].cause, codec::Cause::authentication_failure);
    EXPECT_TRUE(w.log_target.records().empty());
    // And the engines still work.
    w.connect();
    EXPECT_EQ(w.established(*w.source).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Modes, Establish, ::testing::Values(Mode::literal, Mode::hardened),
                         [](const auto& info) { return std::string(name(info.param)); });

// ---- configuration ----

TEST(SigauthConfig, Ed25519EndUeKeyIsRefusedByName) {
    World w(Mode::literal);
    DeterministicRng rng(3);
    w.source_cfg.key = PrivateKey::generate(KeyType::ed25519, rng).value();
    auto e = Engine::create(w.source_cfg);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().field, "key");
    EXPECT_NE(e.error().message.find("Ed25519"), std::string::npos);
    EXPECT_NE(e.error().message.find("ECDH"), std::string::npos);
    // A relay only signs: Ed25519 is fine there.
    w.relay_cfg.key = PrivateKey::generate(KeyType::ed25519, rng).value();
    EXPECT_TRUE(Engine::create(w.relay_cfg));
}

TEST(SigauthConfig, LiteralRelayWithEd25519Works) {
    World w(Mode::literal);
    DeterministicRng rng(4);
    w.relay_cfg.key = PrivateKey::generate(KeyType::ed25519, rng).value();
    w.build();
    w.connect();
    EXPECT_EQ(w.established(*w.source).size(), 1u);
    EXPECT_EQ(w.established(*w.target).size(), 1u);
}

TEST(SigauthConfig, HardenedNeedsCertificateAndTrust) {
    World w(Mode::hardened);
    auto c = w.source_cfg;
    c.certificate.reset();
    EXPECT_EQ(Engine::create(c).error().field, "certificate");
    c = w.source_cfg;
    c.trust.reset();
    EXPECT_EQ(Engine::create(c).error().field, "trust");
    c = w.source_cfg;
    c.key = w.target_cfg.key;  // not the certificate's key
    EXPECT_FALSE(Engine::create(c));
    c = w.relay_cfg;
    c.rscs.clear();
    EXPECT_EQ(Engine::create(c).error().field, "rscs");
    EXPECT_EQ(mode_from_name("hardened").value(), Mode::hardened);
    EXPECT_FALSE(mode_from_name("strong"));
}

TEST(SigauthConfig, ModesArePerUeAndAMismatchIsRefused) {
    // A literal source (raw public key) through a hardened relay: no certificate, cause #6.
    World hw(Mode::hardened);
    World lw(Mode::literal);
    hw.source_cfg = lw.source_cfg;
    hw.build();
    hw.connect();
    auto f = hw.failures(*hw.source);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_TRUE(f[0].by_peer);
    EXPECT_EQ(f[0].cause, codec::Cause::authentication_failure);
}

TEST(SigauthCodec, AuthenticationInfoHardenedTagsRoundTrip) {
    const std::vector<std::uint8_t> user{'b', 'o', 'b'}, key(65, 4), sig(70, 9), eph(32, 7);
    codec::AuthenticationInfo a;
    a.user_info_id = codec::Octets{user};
    a.public_key = codec::Octets{key};
    a.signature = codec::Octets{sig};
    a.nonce = Nonce{1, 2, 3};
    a.ephemeral_public_key = codec::Octets{eph};
    a.selected_algorithms = codec::SecurityAlgorithms{2, 3};
    std::vector<std::uint8_t> buf;
    ASSERT_TRUE(codec::encode_authentication_info(a, buf));
    auto back = codec::decode_authentication_info(buf);
    ASSERT_TRUE(back) << back.error().describe();
    EXPECT_EQ(*back, a);
    // A nonce of the wrong size, and a reserved algorithm id, are refused by name.
    auto bad = buf;
    const std::uint8_t pattern[] = {0x06, 0x00, 0x10};
    const auto at = std::search(bad.begin(), bad.end(), std::begin(pattern), std::end(pattern));
    ASSERT_NE(at, bad.end());
    *(at + 2) = 0x0f;
    bad.erase(at + 3);
    auto r = codec::decode_authentication_info(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().field.find("nonce"), std::string::npos);
    a.selected_algorithms = codec::SecurityAlgorithms{9, 2};
    buf.clear();
    EXPECT_FALSE(codec::encode_authentication_info(a, buf));
    EXPECT_TRUE(buf.empty());
}

}  // namespace
}  // namespace pc5sec::sigauth::test
