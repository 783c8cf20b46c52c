// The link tests' fixture: engines of solution A on the in-process medium, with helpers to
// read their events, counters, links and key logs. Shared by test_link.cpp and test_attacks.cpp.
#pragma once

#include <gtest/gtest.h>

#include "net.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/pdcp.hpp"

namespace pc5sec::testing {

using creds::Role;

namespace {

constexpr creds::Rsc kRsc = 0x00A001;

struct Ue {
    std::unique_ptr<link::Engine> engine;
    pc5::KeyLogCollector keylog;
};

link::Config config(const std::string& name, pc5::L2Id l2,
                    std::shared_ptr<creds::CredentialManager> creds) {
    link::Config c;
    c.user_info = name;
    c.l2_id = l2;
    c.credentials = std::move(creds);
    c.wall_epoch = Pki::instance().epoch;
    return c;
}

class LinkTest : public ::testing::Test {
  public:  // tests make more than one world at a time
    Net net;
    std::map<std::string, std::unique_ptr<Ue>> ues;

    Ue& add(link::Config c) {
        auto ue = std::make_unique<Ue>();
        c.keylog = &ue->keylog;
        auto e = link::Engine::create(std::move(c));
        EXPECT_TRUE(e) << e.error().describe();
        ue->engine = std::move(*e);
        net.add(*ue->engine);
        auto& ref = *ue;
        ues[ref.engine->user_info()] = std::move(ue);
        return ref;
    }
    Ue& end_ue(const std::string& name, pc5::L2Id l2,
               std::function<void(link::Config&)> tweak = {}) {
        auto c = config(name, l2, Pki::instance().issue(name, {Role::end_ue}, {kRsc}));
        for (auto& [n, u] : ues)
            c.directory[n] = u->engine->l2_id();
        if (tweak) tweak(c);
        return add(std::move(c));
    }
    Ue& relay(const std::string& name, pc5::L2Id l2,
              std::function<void(link::Config&)> tweak = {}) {
        auto c = config(name, l2, Pki::instance().issue(name, {Role::u2u_relay}, {kRsc}));
        c.role = link::UeRole::relay;
        for (auto& [n, u] : ues)
            c.directory[n] = u->engine->l2_id();
        if (tweak) tweak(c);
        return add(std::move(c));
    }
    Ue& ue(const std::string& n) { return *ues.at(n); }
    std::vector<pc5::LinkEstablished> established(const std::string& n) {
        return net.of<pc5::LinkEstablished>(n);
    }
    std::vector<pc5::LinkFailed> failed(const std::string& n) { return net.of<pc5::LinkFailed>(n); }

    // Both ends report the link with the same id and the same key fingerprints.
    void expect_same_keys(const std::string& a, const std::string& b, const std::string& id) {
        auto find = [&](const std::string& n) {
            for (const auto& s : ue(n).engine->links())
                if (s.id == id) return s;
            ADD_FAILURE() << n << " has no link " << id;
            return pc5::LinkSummary{};
        };
        auto sa = find(a), sb = find(b);
        EXPECT_FALSE(sa.fingerprints.empty());
        EXPECT_EQ(sa.fingerprints, sb.fingerprints);
        EXPECT_EQ(sa.knrp_sess_id, sb.knrp_sess_id);
        EXPECT_EQ(sa.knrp_id, sb.knrp_id);
        EXPECT_EQ(sa.ciphering, sb.ciphering);
        EXPECT_EQ(sa.integrity, sb.integrity);
        EXPECT_NE(sa.initiator, sb.initiator);
    }

    // The key log alone gives NRPEK and NRPIK again: KNRP + nonces -> KNRP-sess -> keys.
    void expect_keylog_recomputes(const std::string& n, const std::string& id) {
        auto& log = ue(n).keylog;
        auto knrp = from_hex(log.latest("KNRP", id));
        auto n1 = from_hex(log.latest("NONCE_1", id));
        auto n2 = from_hex(log.latest("NONCE_2", id));
        ASSERT_TRUE(knrp && n1 && n2) << n << " " << id;
        Nonce nonce_1{}, nonce_2{};
        std::copy(n1->begin(), n1->end(), nonce_1.begin());
        std::copy(n2->begin(), n2->end(), nonce_2.begin());
        auto sess = derive_knrp_sess(*Knrp::from_bytes(*knrp), nonce_1, nonce_2);
        EXPECT_EQ(to_hex(sess.reveal()), log.latest("KNRP_SESS", id));
        auto algs = log.latest("ALGS", id);
        ASSERT_EQ(algs.size(), 3u);
        auto c = static_cast<CipheringAlgorithm>(algs[0] - '0');
        auto i = static_cast<IntegrityAlgorithm>(algs[2] - '0');
        EXPECT_EQ(to_hex(derive_nrpek(sess, c).reveal()), log.latest("NRPEK", id));
        EXPECT_EQ(to_hex(derive_nrpik(sess, i).reveal()), log.latest("NRPIK", id));
    }

    void expect_no_state(const std::string& n) {
        EXPECT_EQ(ue(n).engine->link_count(), 0u) << n << " kept a link";
        EXPECT_TRUE(ue(n).engine->links().empty());
    }

    // A frame `from` could send on its established link `id`, protected under that link's keys
    // (a peer that really sends it: the test holds its keys), COUNT ahead of what it used.
    // `ahead`: COUNTs skipped (a second frame made this way needs a larger one).
    pc5::Frame as_peer(const std::string& from, const std::string& id, std::uint8_t bearer,
                       codec::Message m, int ahead = 40) {
        auto k = ue(from).engine->data_keys(id);
        EXPECT_TRUE(k) << from << " " << id;
        auto ctx = pdcp::SecurityContext::create(k->knrp_sess_id, k->ciphering, k->integrity,
                                                 &k->nrpek, &k->nrpik, k->initiator);
        const std::uint8_t filler[] = {0};
        for (int i = 0; i < ahead; ++i)
            (void)ctx->protect(bearer, filler);
        std::visit([&](auto& x) { x.seq = static_cast<std::uint8_t>(160 + ahead); }, m);
        auto pdu = ctx->protect(bearer, *codec::encode(m), true);
        return pc5::Frame{k->local_l2, k->peer_l2, bearer, *pdu, nullptr};
    }

    std::uint64_t drops(const std::string& n, pc5::DropReason r) {
        return ue(n).engine->counters().drops[static_cast<std::size_t>(r)];
    }
    std::uint64_t received(const std::string& n, codec::MessageType t) {
        auto& m = ue(n).engine->counters().received_messages;
        auto it = m.find(t);
        return it == m.end() ? 0 : it->second;
    }
};

pc5::ConnectRequest direct(const std::string& target) {
    pc5::ConnectRequest r;
    r.target = target;
    return r;
}

}  // namespace

}  // namespace pc5sec::testing
