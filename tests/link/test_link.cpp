// Solution A (seed 000) driven as a user would drive it: engines on a small test network,
// connect, and look at the events, the counters and the key log. Every reject path of the issue
// is provoked here, and after each one no keys and no half-built link remain.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/pdcp.hpp"

using namespace pc5sec;
using namespace pc5sec::testing;
using creds::Role;

// ------------------------------------------------------------------ direct links

TEST_F(LinkTest, DirectLinkStepsZeroToFiveGiveEqualKeysAtBothEnds) {
    end_ue("bob", 0x000B0B);
    end_ue("alice", 0x0A11CE);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto a = established("alice");
    auto b = established("bob");
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0].link.id, b[0].link.id);
    EXPECT_EQ(a[0].link.id.rfind("alice>bob#", 0), 0u);
    EXPECT_TRUE(a[0].link.security_active);
    EXPECT_FALSE(a[0].link.knrp_reused);
    EXPECT_EQ(a[0].link.integrity, IntegrityAlgorithm::nia2);  // policy preference
    EXPECT_EQ(a[0].link.ciphering, CipheringAlgorithm::nea2);
    EXPECT_NE(a[0].link.knrp_id.msb(), 0);  // MSB from the peer (step 4)
    EXPECT_NE(a[0].link.knrp_id.lsb(), 0);  // LSB from the initiator (step 5)
    expect_same_keys("alice", "bob", a[0].link.id);
    expect_keylog_recomputes("alice", a[0].link.id);
    expect_keylog_recomputes("bob", a[0].link.id);
    // Step 3 ran: one authentication request, one response; and the key log is the same at both.
    EXPECT_EQ(received("alice", codec::MessageType::authentication_request), 1u);
    EXPECT_EQ(received("bob", codec::MessageType::authentication_response), 1u);
    EXPECT_EQ(ue("alice").keylog.latest("NRPEK", a[0].link.id),
              ue("bob").keylog.latest("NRPEK", a[0].link.id));
    // The command is MACed but not ciphered; everything after it is ciphered.
    int protected_frames = 0;
    for (const auto& f : net.delivered)
        if (f.lcid == 1 || f.lcid == 2) ++protected_frames;
    EXPECT_EQ(protected_frames, 3);  // command, complete, accept
    const auto crypto = ue("alice").engine->counters().crypto;
    EXPECT_EQ(crypto.sign, 2u);  // the offer and the transcript
    EXPECT_EQ(crypto.keygen, 1u);
    EXPECT_EQ(crypto.key_agreement, 1u);
}

TEST_F(LinkTest, KeysDifferFromLinkToLink) {
    end_ue("bob", 0x0B);
    end_ue("carol", 0x0C);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    ue("alice").engine->connect(direct("carol"), net.now);
    net.run();
    auto links = ue("alice").engine->links();
    ASSERT_EQ(links.size(), 2u);
    for (const char* k : {"KNRP", "KNRP-sess", "NRPEK", "NRPIK"})
        EXPECT_NE(links[0].fingerprints.at(k), links[1].fingerprints.at(k)) << k;
    EXPECT_NE(links[0].knrp_sess_id, links[1].knrp_sess_id);
}

TEST_F(LinkTest, KnrpReuseSkipsStepThreeAndGivesFreshSessionKeys) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto first = established("alice").at(0).link;
    ASSERT_TRUE(ue("alice").engine->release(first.id, net.now));
    net.run();
    EXPECT_EQ(net.of<pc5::LinkReleased>("bob").size(), 1u);
    expect_no_state("alice");
    ASSERT_EQ(ue("bob").engine->cached_knrps(), 1u);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto second = established("alice").at(1).link;
    EXPECT_TRUE(second.knrp_reused);
    EXPECT_EQ(second.knrp_id, first.knrp_id);
    EXPECT_EQ(second.fingerprints.at("KNRP"), first.fingerprints.at("KNRP"));
    EXPECT_NE(second.fingerprints.at("KNRP-sess"), first.fingerprints.at("KNRP-sess"));
    EXPECT_EQ(received("alice", codec::MessageType::authentication_request), 1u);  // once only
    expect_same_keys("alice", "bob", second.id);
    expect_keylog_recomputes("bob", second.id);
}

TEST_F(LinkTest, UnknownKnrpIdFallsBackToFullAuthentication) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_TRUE(ue("alice").engine->release(established("alice").at(0).link.id, net.now));
    net.run();
    ue("bob").engine->clear_knrp_cache();  // bob no longer knows the KNRP ID alice will send
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto second = established("alice").at(1).link;
    EXPECT_FALSE(second.knrp_reused);
    EXPECT_EQ(received("alice", codec::MessageType::authentication_request), 2u);
    expect_same_keys("alice", "bob", second.id);
}

TEST_F(LinkTest, NullIntegrityWhenBothPoliciesSayNotNeeded) {
    auto none = [](link::Config& c) {
        c.policy.signalling = {PolicyLevel::not_needed, PolicyLevel::not_needed};
    };
    end_ue("bob", 0x0B, none);
    end_ue("alice", 0x0A, none);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto a = established("alice");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_FALSE(a[0].link.security_active);
    EXPECT_EQ(a[0].link.integrity, IntegrityAlgorithm::nia0);
    EXPECT_EQ(a[0].link.knrp_sess_id.value, 0);  // 0 = no security in the header
    EXPECT_EQ(ue("alice").keylog.latest("ALGS", a[0].link.id), "0 0");
    EXPECT_EQ(ue("alice").engine->counters().crypto.sign, 0u);
    EXPECT_EQ(established("bob").size(), 1u);
}

// ------------------------------------------------------------------ reject paths

TEST_F(LinkTest, PolicyMismatchIsRejectedWithCause10) {
    end_ue("bob", 0x0B);  // integrity REQUIRED (the default)
    end_ue("alice", 0x0A, [](link::Config& c) {
        c.policy.signalling = {PolicyLevel::not_needed, PolicyLevel::not_needed};
    });
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto f = failed("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::signalling_security_policy_mismatch);
    EXPECT_TRUE(f[0].by_peer);
    EXPECT_EQ(failed("bob").at(0).cause, codec::Cause::signalling_security_policy_mismatch);
    expect_no_state("alice");
    expect_no_state("bob");
    EXPECT_TRUE(ue("alice").keylog.records().empty());
}

TEST_F(LinkTest, CapabilitiesMismatchIsRejectedWithCause8) {
    end_ue("bob", 0x0B, [](link::Config& c) { c.policy.integrity = {IntegrityAlgorithm::nia2}; });
    end_ue("alice", 0x0A, [](link::Config& c) { c.policy.integrity = {IntegrityAlgorithm::nia1}; });
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::ue_security_capabilities_mismatch);
    expect_no_state("alice");
    expect_no_state("bob");
}

TEST_F(LinkTest, TamperedRequestIsCaughtByTheOfferSignature) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    // The attacker strips NIA2/NEA2 from alice's capabilities in the clear request (bidding down).
    net.attacker = [](pc5::Frame& f) {
        if (f.lcid == 0 && !f.pdu.empty() && f.pdu[0] == 0x01) {
            auto old = f.pdu;  // the decoded views point into these bytes
            auto m = codec::decode(old);
            auto req = std::get<codec::DirectLinkEstablishmentRequest>(*m);
            req.ue_security_capabilities.ia &= static_cast<std::uint8_t>(~0x20);
            f.pdu = *codec::encode(req);
        }
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(failed("bob").at(0).cause, codec::Cause::authentication_failure);
    EXPECT_NE(failed("bob").at(0).reason.find("signature"), std::string::npos);
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::authentication_failure);
    expect_no_state("alice");
    expect_no_state("bob");
}

TEST_F(LinkTest, TamperedEchoIsDetectedWhenNoSignatureCoversTheRequest) {
    // With a KNRP to reuse, step 3 does not run: only the echo in the command catches bidding down.
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_TRUE(ue("alice").engine->release(established("alice").at(0).link.id, net.now));
    net.run();
    net.attacker = [](pc5::Frame& f) {
        if (f.lcid == 0 && !f.pdu.empty() && f.pdu[0] == 0x01) {
            auto old = f.pdu;
            auto m = codec::decode(old);
            auto req = std::get<codec::DirectLinkEstablishmentRequest>(*m);
            req.ue_security_capabilities.ia = 0xC0;  // IA0 and NIA1 only
            req.ue_security_capabilities.ea = 0x80;  // EA0 only
            f.pdu = *codec::encode(req);
        }
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto f = failed("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::ue_security_capabilities_mismatch);
    EXPECT_FALSE(f[0].by_peer);
    // The reject travels in clear on SL-SRB0 (TS 38.331 5.8.1: SL-SRB1 carries only the command
    // and the complete), so bob cannot take it as alice's word: he ends with its cause when his
    // timer runs out (on_unprotected_reject), not at once.
    EXPECT_EQ(failed("bob").at(0).cause, codec::Cause::ue_security_capabilities_mismatch);
    EXPECT_FALSE(failed("bob").at(0).by_peer);
    EXPECT_EQ(received("bob", codec::MessageType::security_mode_reject), 1u);
    expect_no_state("alice");
    expect_no_state("bob");
}

TEST_F(LinkTest, BadMacIsDroppedAndCountedAndTheRetransmissionSucceeds) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    int flipped = 0;
    net.attacker = [&](pc5::Frame& f) {
        if (f.lcid == 1 && f.dst == 0x0A && flipped == 0) {  // the first command's MAC-I
            f.pdu.back() ^= 0x01;
            ++flipped;
        }
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(drops("alice", pc5::DropReason::bad_mac), 1u);
    EXPECT_GE(ue("bob").engine->counters().retransmissions, 1u);
    ASSERT_EQ(established("alice").size(), 1u);
    expect_same_keys("alice", "bob", established("alice")[0].link.id);
}

TEST_F(LinkTest, PersistentBadMacNeverInstallsKeys) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    net.attacker = [&](pc5::Frame& f) {
        if (f.lcid == 1 && f.dst == 0x0A) f.pdu.back() ^= 0x01;
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(drops("alice", pc5::DropReason::bad_mac), 4u);  // first + 3 retransmissions
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::direct_connection_not_available);
    EXPECT_EQ(failed("bob").at(0).cause, codec::Cause::direct_connection_not_available);
    expect_no_state("alice");
    expect_no_state("bob");
    EXPECT_TRUE(ue("alice").keylog.records().empty());
    EXPECT_TRUE(ue("bob").keylog.records().empty());
}

TEST_F(LinkTest, ForeignCertificateIsRefusedWithCause6) {
    end_ue("bob", 0x0B);
    auto other =
        creds::ProvisioningFunction::create(Pki::instance().epoch - 24h, 24h * 365, "another CA");
    ASSERT_TRUE(other);
    creds::UeProfile p;
    p.user_info_id = "alice";
    p.authorisation = {{Role::end_ue}, {kRsc}};
    auto issued = other->issue(p, Pki::instance().epoch - 1h, 24h * 30);
    ASSERT_TRUE(issued);
    auto mine = std::make_shared<creds::CredentialManager>(
        issued->key, issued->certificate, *creds::TrustStore::create(other->ca_certificate()));
    mine->set_logger([](std::string_view) {});
    auto c = config("alice", 0x0A, mine);
    c.directory["bob"] = 0x0B;
    add(std::move(c));
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(failed("bob").at(0).cause, codec::Cause::authentication_failure);
    EXPECT_NE(failed("bob").at(0).reason.find("issuer"), std::string::npos)
        << failed("bob").at(0).reason;
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::authentication_failure);
    expect_no_state("alice");
    expect_no_state("bob");
}

TEST_F(LinkTest, RevokedCertificateIsRefused) {
    end_ue("bob", 0x0B);
    auto& pki = Pki::instance();
    auto alice_creds = pki.issue("alice", {Role::end_ue}, {kRsc});
    ASSERT_TRUE(pki.pf.revoke(alice_creds->certificate(), pki.epoch));
    // Bob learns of the revocation (the provisioning function's latest list).
    auto bob_creds = pki.issue("bob2", {Role::end_ue}, {kRsc});
    ASSERT_TRUE(bob_creds->trust().set_revocation_list(*pki.pf.revocation_list()));
    auto c = config("bob2", 0x0D, bob_creds);
    add(std::move(c));
    auto a = config("alice", 0x0A, alice_creds);
    a.directory["bob2"] = 0x0D;
    add(std::move(a));
    ue("alice").engine->connect(direct("bob2"), net.now);
    net.run();
    // Refused at each request: alice asks once more at once, then on T5080 until it runs out
    // (an unprotected reject never ends an attempt by itself; docs/solution-a.md).
    auto f = failed("bob2");
    ASSERT_EQ(f.size(), 2u + link::Timers{}.max_retransmissions);
    for (const auto& x : f) {
        EXPECT_EQ(x.cause, codec::Cause::authentication_failure);
        EXPECT_NE(x.reason.find("serialNumber"), std::string::npos) << x.reason;
    }
    ASSERT_EQ(failed("alice").size(), 1u);
    EXPECT_EQ(failed("alice")[0].cause, codec::Cause::authentication_failure);
    expect_no_state("alice");
    expect_no_state("bob2");
}

// A tampered AUTHENTICATION REQUEST does not verify under the key of the certificate it
// carries: it is not from bob, so alice drops it (counted as a bad signature) and waits for the
// genuine one. An attacker who tampers with every copy gets no key and no link, and bob's
// half-open link goes with Config::half_open_lifetime; neither end is told "bob refused".
TEST_F(LinkTest, BadSignatureInTheAuthenticationRequestIsDroppedNotBelieved) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    net.attacker = [](pc5::Frame& f) {
        if (f.lcid == 0 && !f.pdu.empty() && f.pdu[0] == 0x09) {  // authentication request
            auto old = f.pdu;
            auto m = codec::decode(old);
            auto ar = std::get<codec::DirectLinkAuthenticationRequest>(*m);
            std::vector<std::uint8_t> sig(ar.key_est_info.signature->bytes.begin(),
                                          ar.key_est_info.signature->bytes.end());
            sig[sig.size() / 2] ^= 0x40;
            ar.key_est_info.signature = codec::Octets{sig};
            f.pdu = *codec::encode(ar);
        }
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::direct_connection_not_available);
    EXPECT_FALSE(failed("alice").at(0).by_peer);
    EXPECT_GE(
        ue("alice").engine->counters().drops[static_cast<std::size_t>(pc5::DropReason::bad_mac)],
        4u);  // each copy of the request
    EXPECT_EQ(failed("bob").at(0).cause, codec::Cause::direct_connection_not_available);
    EXPECT_NE(failed("bob").at(0).reason.find("half-open"), std::string::npos);
    expect_no_state("alice");
    expect_no_state("bob");
}

TEST_F(LinkTest, WrongPeerIdentityIsRefused) {
    // Mallory answers at bob's address with her own valid certificate.
    auto c = config("mallory", 0x0B, Pki::instance().issue("mallory", {Role::end_ue}, {kRsc}));
    add(std::move(c));
    auto a = config("alice", 0x0A, Pki::instance().issue("alice", {Role::end_ue}, {kRsc}));
    a.directory["bob"] = 0x0B;
    add(std::move(a));
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    // Mallory is not the target named in the request: she refuses (#1) ...
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::direct_communication_not_allowed);
    expect_no_state("alice");
    expect_no_state("mallory");
}

TEST_F(LinkTest, ReplayedRequestLeavesNoKeysAndNoState) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    pc5::Frame recorded;
    net.attacker = [&](pc5::Frame& f) {
        if (f.lcid == 0 && !f.pdu.empty() && f.pdu[0] == 0x01) recorded = f;
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_EQ(established("bob").size(), 1u);
    ASSERT_TRUE(ue("alice").engine->release(established("alice").at(0).link.id, net.now));
    net.run();
    ue("bob").engine->clear_knrp_cache();
    net.attacker = nullptr;
    net.inject(recorded);  // the attacker replays alice's old request to bob
    net.run();
    EXPECT_EQ(established("bob").size(), 1u);                    // nothing new came up
    EXPECT_GE(drops("alice", pc5::DropReason::unexpected), 1u);  // alice ignores bob's answer
    EXPECT_EQ(failed("bob").back().cause, codec::Cause::direct_connection_not_available);
    expect_no_state("bob");
    expect_no_state("alice");
}

TEST_F(LinkTest, ReplayedProtectedPduIsDroppedAndCounted) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto id = established("alice").at(0).link.id;
    std::vector<pc5::Frame> seen;
    net.attacker = [&](pc5::Frame& f) {
        seen.push_back(f);
        return true;
    };
    ASSERT_TRUE(ue("alice").engine->keepalive(id, net.now));
    net.run();
    ASSERT_FALSE(seen.empty());
    net.attacker = nullptr;
    net.inject(seen.front());  // the keep-alive request again
    net.run();
    EXPECT_EQ(drops("bob", pc5::DropReason::replay), 1u);
}

TEST_F(LinkTest, RetransmittedRequestIsAnsweredOnceAndDuplicatesAreCounted) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    int lost = 0;
    net.attacker = [&](pc5::Frame& f) {
        if (f.src == 0x0B && f.lcid == 0 && lost == 0) {  // bob's first answer is lost
            ++lost;
            return false;
        }
        return true;
    };
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_GE(ue("alice").engine->counters().retransmissions, 1u);
    EXPECT_EQ(drops("bob", pc5::DropReason::duplicate), 1u);
    ASSERT_EQ(established("alice").size(), 1u);
    EXPECT_GE(net.now, 8s);  // T5080
}

TEST_F(LinkTest, NoAnswerGivesUpAfterRetransmissionsWithACause) {
    auto c = config("alice", 0x0A, Pki::instance().issue("alice", {Role::end_ue}, {kRsc}));
    c.directory["ghost"] = 0x0F;
    add(std::move(c));
    ue("alice").engine->connect(direct("ghost"), net.now);
    net.run();
    auto f = failed("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::direct_connection_not_available);
    EXPECT_EQ(ue("alice").engine->counters().retransmissions, 3u);
    EXPECT_EQ(net.now, 32s);  // 4 x T5080
    expect_no_state("alice");
}

// ------------------------------------------------------------------ credentials (step 0)

TEST_F(LinkTest, ExpiredCredentialsOutOfCoverageAreRefusedInCoverageRenewed) {
    end_ue("bob", 0x0B);
    auto& pki = Pki::instance();
    auto expired = pki.issue("alice", {Role::end_ue}, {kRsc}, 24h, pki.epoch - 48h);
    auto c = config("alice", 0x0A, expired);
    c.directory["bob"] = 0x0B;
    c.in_coverage = false;
    add(std::move(c));
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto f = failed("alice");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].cause, codec::Cause::authentication_failure);
    EXPECT_NE(f[0].reason.find("notAfter"), std::string::npos) << f[0].reason;
    EXPECT_TRUE(net.delivered.empty());  // nothing was sent
    // In coverage, with the provisioning function reachable, the credentials are renewed.
    expired->set_provisioning_function(&pki.pf);
    ue("alice").engine->set_in_coverage(true);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(established("alice").size(), 1u);
    EXPECT_EQ(expired->renewals(), 1u);
}

TEST_F(LinkTest, PreSharedGroupKeyMethod) {
    auto psk = [](link::Config& c) {
        std::array<std::uint8_t, 32> k{};
        k.fill(0x5A);
        c.policy.group_keys.emplace("fleet", GroupKey(k));
        c.method = link::AuthMethod::psk;
        c.psk_identity = "fleet";
    };
    end_ue("bob", 0x0B, psk);
    end_ue("alice", 0x0A, psk);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_EQ(established("alice").size(), 1u);
    EXPECT_EQ(received("alice", codec::MessageType::authentication_request), 0u);
    EXPECT_EQ(ue("alice").engine->counters().crypto.sign, 0u);
    expect_same_keys("alice", "bob", established("alice")[0].link.id);
    expect_keylog_recomputes("bob", established("alice")[0].link.id);
}

TEST_F(LinkTest, UnknownGroupKeyIsRefused) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A, [](link::Config& c) {
        std::array<std::uint8_t, 32> k{};
        c.policy.group_keys.emplace("other", GroupKey(k));
        c.method = link::AuthMethod::psk;
        c.psk_identity = "other";
    });
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    EXPECT_EQ(failed("alice").at(0).cause, codec::Cause::authentication_failure);
    expect_no_state("bob");
}

// ------------------------------------------------------------------ established links

TEST_F(LinkTest, RekeyingGivesANewSessionKeyAndReauthenticationANewKnrp) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto first = established("alice").at(0).link;
    ASSERT_TRUE(ue("bob").engine->rekey(first.id, false, net.now));  // the peer may re-key too
    net.run();
    auto r1 = net.of<pc5::LinkRekeyed>("alice");
    ASSERT_EQ(r1.size(), 1u);
    EXPECT_EQ(r1[0].link.fingerprints.at("KNRP"), first.fingerprints.at("KNRP"));
    EXPECT_NE(r1[0].link.fingerprints.at("KNRP-sess"), first.fingerprints.at("KNRP-sess"));
    EXPECT_NE(r1[0].link.knrp_sess_id, first.knrp_sess_id);
    expect_same_keys("alice", "bob", first.id);
    ASSERT_TRUE(ue("alice").engine->rekey(first.id, true, net.now));
    net.run();
    auto r2 = net.of<pc5::LinkRekeyed>("alice");
    ASSERT_EQ(r2.size(), 2u);
    EXPECT_TRUE(r2[1].reauthenticated);
    EXPECT_NE(r2[1].link.fingerprints.at("KNRP"), first.fingerprints.at("KNRP"));
    EXPECT_NE(r2[1].link.knrp_id, first.knrp_id);
    expect_same_keys("alice", "bob", first.id);
    expect_keylog_recomputes("alice", first.id);
    // The link still works under the new keys.
    ASSERT_TRUE(ue("alice").engine->keepalive(first.id, net.now));
    net.run();
    EXPECT_EQ(drops("bob", pc5::DropReason::bad_mac), 0u);
    EXPECT_EQ(received("alice", codec::MessageType::keepalive_response), 1u);
}

TEST_F(LinkTest, ReleaseWipesBothEnds) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    ASSERT_TRUE(ue("alice").engine->release(established("alice").at(0).link.id, net.now));
    net.run();
    EXPECT_EQ(net.of<pc5::LinkReleased>("alice").size(), 1u);
    EXPECT_TRUE(net.of<pc5::LinkReleased>("bob").at(0).by_peer);
    expect_no_state("alice");
    expect_no_state("bob");
}

TEST_F(LinkTest, KeepAliveNoticesALostPeer) {
    auto ka = [](link::Config& c) { c.timers.keepalive_interval = 5s; };
    end_ue("bob", 0x0B, ka);
    end_ue("alice", 0x0A, ka);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run(30s);
    ASSERT_EQ(established("alice").size(), 1u);
    net.ues.erase(0x0B);  // bob is gone
    net.run(net.now + 60s);
    auto r = net.of<pc5::LinkReleased>("alice");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].cause, codec::Cause::direct_connection_not_available);
    expect_no_state("alice");
}

TEST_F(LinkTest, UnprotectedMessageOnASecuredLinkIsDropped) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    codec::DirectLinkReleaseRequest forged;
    forged.cause = codec::Cause::direct_communication_no_longer_needed;
    net.inject(pc5::Frame{0x0A, 0x0B, 0, *codec::encode(forged)});
    net.run();
    EXPECT_EQ(drops("bob", pc5::DropReason::unexpected), 1u);
    EXPECT_EQ(ue("bob").engine->links().size(), 1u);  // still up
}

TEST_F(LinkTest, GarbageNeverCrashesAndNeverLeavesState) {
    end_ue("bob", 0x0B);
    std::vector<std::uint8_t> junk{0x01, 0x00, 0xff, 0xff};
    for (std::uint8_t lcid : {0, 1, 2, 55, 58, 63, 7})
        net.inject(pc5::Frame{0x0A, 0x0B, lcid, junk});
    net.run();
    EXPECT_EQ(ue("bob").engine->counters().drops_total(), 7u);
    expect_no_state("bob");
}

TEST(LinkConfig, BadConfigNamesTheField) {
    link::Config c;
    EXPECT_EQ(link::Engine::create(c).error().field, "credentials");
    c = config("alice", 0x0A, Pki::instance().issue("alice", {Role::end_ue}, {kRsc}));
    c.user_info = "not-alice";
    EXPECT_EQ(link::Engine::create(c).error().field, "user_info");
    c.user_info = "alice";
    c.l2_id = 0;
    EXPECT_EQ(link::Engine::create(c).error().field, "l2_id");
    c.l2_id = 0x0A;
    c.method = link::AuthMethod::psk;
    c.psk_identity = "none";
    EXPECT_EQ(link::Engine::create(c).error().field, "psk_identity");
}

TEST_F(LinkTest, DataKeysAreTheLinksKeysAndOnlyOnRequest) {
    end_ue("bob", 0x0B);
    end_ue("alice", 0x0A);
    ue("alice").engine->connect(direct("bob"), net.now);
    net.run();
    auto id = established("alice").at(0).link.id;
    auto a = ue("alice").engine->data_keys(id);
    auto b = ue("bob").engine->data_keys(id);
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->nrpek == b->nrpek);
    EXPECT_TRUE(a->nrpik == b->nrpik);
    EXPECT_NE(a->initiator, b->initiator);
    EXPECT_EQ(to_hex(a->nrpek.reveal()), ue("alice").keylog.latest("NRPEK", id));
    EXPECT_EQ(a->knrp_sess_id, established("alice").at(0).link.knrp_sess_id);
    EXPECT_FALSE(ue("alice").engine->data_keys("no-such-link"));
}
