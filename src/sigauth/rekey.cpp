// Re-keying of an established link, end to end through the relay (docs/solution-b.md
// "Re-keying"). Seed 001 has none; pc5sec reuses TS 33.536 5.3.3.2's three messages, protected
// under keys from KD:
//   requester  REKEYING REQUEST (current keys): UE security capabilities, Nonce_1', the MSB of
//              the new KNRP-sess ID, hardened: a fresh ephemeral key (Key_Est_Info)
//   responder  SECURITY MODE COMMAND (new keys, integrity only, as TS 33.536 sends it): the
//              algorithms, the capabilities echoed, Nonce_2', the LSB (unchanged: the relay
//              routes by it), hardened: its fresh ephemeral key
//   requester  SECURITY MODE COMPLETE (new keys), then confirms them as at establishment
// KD-sess' = KDF(KD, FC 0xB2, Nonce_1', Nonce_2' [, Z_eph']) (keys.cpp). The relay sees three
// protected PDUs it cannot read; it never holds KD.
#include <fmt/format.h>

#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

// Engine::rekey: established -> rekey_wait_command.
Next Engine::Impl::start_rekey(Link& l, Time now) {
    Rekeying r;
    r.nonce_1 = rng->bytes<16>();
    // An MSB this link has not used yet: a KNRP-sess ID that comes back would tell an observer
    // that the old and the new keys are one link's (the LSB stays: the relay routes by it).
    if (l.msbs_used.all()) {
        l.msbs_used.reset();
        l.msbs_used.set(l.summary.knrp_sess_id.msb());
    }
    std::uint8_t msb = rng->next_u8();
    while (l.msbs_used.test(msb))
        msb = static_cast<std::uint8_t>(msb + 1);
    r.next_id = KnrpSessId{static_cast<std::uint16_t>(msb << 8 | l.summary.knrp_sess_id.lsb())};
    if (cfg.mode == Mode::hardened) {
        counters.crypto.keygen++;
        auto eph = PrivateKey::generate(kEphemeralKeyType, *rng);
        if (!eph) {
            drop(pc5::DropReason::unexpected,
                 fmt::format("re-keying not started: {}", eph.error().describe()), l.summary.id);
            return stay();
        }
        r.ephemeral.emplace(std::move(*eph));
    }
    r.deadline = now + cfg.t5080;
    l.rekey.emplace(std::move(r));
    send_rekeying_request(l);
    return move_to(State::rekey_wait_command);
}

void Engine::Impl::send_rekeying_request(Link& l) {
    const Rekeying& r = *l.rekey;
    codec::DirectLinkRekeyingRequest m;
    m.seq = rng->next_u8();
    m.ue_security_capabilities = {ea_bitmap(cfg.policy.ciphering), ia_bitmap(cfg.policy.integrity)};
    m.nonce_1 = r.nonce_1;
    m.msb_knrp_sess_id = r.next_id.msb();
    if (r.ephemeral) {
        codec::KeyEstInfo k;
        k.method = codec::KeyEstMethod::ephemeral;
        k.ephemeral_public_key = octets(r.ephemeral->public_key().encoded());
        m.key_est_info = k;
    }
    send_protected(l, m);
}

// The responder (established, or asked again in rekey_wait_complete, or both ends at once).
Next Engine::Impl::on_rekeying_request(Link& l, const codec::DirectLinkRekeyingRequest& m,
                                       Time now) {
    auto refuse_it = [&](std::string why) {
        drop(pc5::DropReason::unexpected,
             fmt::format("re-keying request refused, the current keys stay: {}", why),
             l.summary.id);
        return stay();
    };
    // Both ends asked at once: the source's re-keying goes on; the target's gives way once the
    // source's request passes the checks below (its own is replaced at the end, not before: a
    // refused request leaves it as it was).
    if (l.state == State::rekey_wait_command && l.summary.initiator)
        return refuse_it("both ends asked at once; the source's re-keying goes on");
    const auto cur = l.summary.knrp_sess_id;
    if (m.msb_knrp_sess_id == cur.msb())
        return refuse_it("the new KNRP-sess ID MSB is the current one");
    // B keeps the link's algorithms: the requester must still support them.
    const auto c = l.summary.ciphering;
    const auto i = l.summary.integrity;
    if (!(m.ue_security_capabilities.ea & (0x80 >> static_cast<unsigned>(c))) ||
        !(m.ue_security_capabilities.ia & (0x80 >> static_cast<unsigned>(i))))
        return refuse_it("the requester no longer supports the link's algorithms");
    std::optional<PublicKey> eph_peer;
    std::optional<PrivateKey> eph;
    if (cfg.mode == Mode::hardened) {
        if (!m.key_est_info || !m.key_est_info->ephemeral_public_key)
            return refuse_it("hardened re-keying without a fresh ephemeral key");
        auto pe =
            PublicKey::from_encoded(kEphemeralKeyType, m.key_est_info->ephemeral_public_key->bytes);
        if (!pe) return refuse_it(fmt::format("ephemeral key: {}", pe.error().describe()));
        eph_peer.emplace(std::move(*pe));
        counters.crypto.keygen++;
        auto e = PrivateKey::generate(kEphemeralKeyType, *rng);
        if (!e) return refuse_it(e.error().describe());
        eph.emplace(std::move(*e));
    }
    Rekeying r;
    r.next_id = KnrpSessId{static_cast<std::uint16_t>(m.msb_knrp_sess_id << 8 | cur.lsb())};
    r.nonce_1 = m.nonce_1;
    r.nonce_2 = rng->bytes<16>();
    Refusal why;
    auto keys = rekey_keys(l, r.nonce_1, r.nonce_2, eph ? &*eph : nullptr,
                           eph_peer ? &*eph_peer : nullptr, why);
    if (!keys) return refuse_it(why.reason);
    auto ctx = pdcp::SecurityContext::create(r.next_id, c, i, &keys->nrpek, &keys->nrpik,
                                             l.summary.initiator);
    if (!ctx) return refuse_it(ctx.error().describe());
    codec::DirectLinkSecurityModeCommand smc;
    smc.seq = rng->next_u8();
    smc.selected_algorithms = {static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(i)};
    smc.ue_security_capabilities = m.ue_security_capabilities;  // echoed: no bidding down
    smc.signalling_security_policy = {
        static_cast<codec::PolicyValue>(cfg.policy.signalling.integrity),
        static_cast<codec::PolicyValue>(cfg.policy.signalling.ciphering)};
    smc.nonce_2 = r.nonce_2;
    smc.lsb_knrp_sess_id = cur.lsb();
    std::vector<std::uint8_t> eph_pub;
    if (eph) {
        eph_pub = eph->public_key().encoded();
        codec::KeyEstInfo k;
        k.method = codec::KeyEstMethod::ephemeral;
        k.ephemeral_public_key = octets(eph_pub);
        smc.key_est_info = k;
    }
    r.ctx.emplace(std::move(*ctx));
    // TS 33.536 5.3.3.2: integrity-protected under the new keys, not ciphered (the requester
    // needs Nonce_2' and the ephemeral key to derive them).
    if (!send_protected(l, *r.ctx, smc, false)) return refuse_it("the command did not protect");
    r.nrpek.emplace(keys->nrpek);
    r.nrpik.emplace(keys->nrpik);
    r.kd_sess.emplace(keys->kd_sess);
    // Long enough for the requester's SECURITY MODE COMPLETE and its confirmation retries.
    r.deadline = now + 2 * retransmission_window();
    l.rekey.emplace(std::move(r));
    return move_to(State::rekey_wait_complete);
}

bool Engine::Impl::try_rekey_command(Link& l, std::span<const std::uint8_t> pdu, Time now) {
    const Rekeying& r = *l.rekey;
    auto h = pdcp::peek_header(pdu);
    if (!h || h->knrp_sess_id != r.next_id || pdu.size() < pdcp::kHeaderSize + 4) return false;
    const auto payload = pdu.subspan(pdcp::kHeaderSize, pdu.size() - pdcp::kHeaderSize - 4);
    auto decoded = codec::decode(payload);
    if (!decoded) return false;
    const auto* smc = std::get_if<codec::DirectLinkSecurityModeCommand>(&*decoded);
    if (!smc || smc->lsb_knrp_sess_id != r.next_id.lsb()) return false;
    std::optional<PublicKey> eph_peer;
    if (cfg.mode == Mode::hardened) {
        if (!smc->key_est_info || !smc->key_est_info->ephemeral_public_key) return false;
        auto pe = PublicKey::from_encoded(kEphemeralKeyType,
                                          smc->key_est_info->ephemeral_public_key->bytes);
        if (!pe) return false;
        eph_peer.emplace(std::move(*pe));
    }
    Refusal why;
    auto keys = rekey_keys(l, r.nonce_1, smc->nonce_2, r.ephemeral ? &*r.ephemeral : nullptr,
                           eph_peer ? &*eph_peer : nullptr, why);
    if (!keys) return false;
    auto ctx = pdcp::SecurityContext::create(r.next_id, l.summary.ciphering, l.summary.integrity,
                                             &keys->nrpek, &keys->nrpik, l.summary.initiator);
    if (!ctx) return false;
    // The MAC-I under NRPIK' proves the command comes from the peer: only it holds KD.
    if (!ctx->unprotect(kE2eBearer, pdu, false)) return false;
    counters.received_messages[MessageType::security_mode_command]++;
    l.last_alive = now;
    dispatch(l, l.role(), Input::e2e(MessageType::security_mode_command),
             [&] { return on_rekey_command(l, *smc, std::move(*ctx), std::move(*keys), now); });
    return true;
}

// The requester: the command verified under the new keys.
Next Engine::Impl::on_rekey_command(Link& l, const codec::DirectLinkSecurityModeCommand& m,
                                    pdcp::SecurityContext ctx, DerivedKeys keys, Time now) {
    const codec::UeSecurityCapabilities mine{ea_bitmap(cfg.policy.ciphering),
                                             ia_bitmap(cfg.policy.integrity)};
    // TS 33.536 5.3.3.2: the echo of our capabilities and the link's algorithms (no downgrade).
    if (!(m.ue_security_capabilities == mine) ||
        m.selected_algorithms.ciphering != static_cast<std::uint8_t>(l.summary.ciphering) ||
        m.selected_algorithms.integrity != static_cast<std::uint8_t>(l.summary.integrity)) {
        drop(pc5::DropReason::unexpected,
             "re-keying command does not echo our capabilities or the link's algorithms: the "
             "current keys stay",
             l.summary.id);
        l.rekey.reset();
        return move_to(State::established);
    }
    const Nonce n1 = l.rekey->nonce_1;
    switch_keys(l, std::move(ctx), keys, n1, m.nonce_2);
    codec::DirectLinkSecurityModeComplete done;
    done.seq = m.seq;
    send_protected(l, done);
    // Confirm the new keys as at establishment: the responder switches on the first PDU under
    // them, so a lost SECURITY MODE COMPLETE does not split the link.
    send_confirmation(l, now);
    return move_to(State::established);
}

// The responder: SECURITY MODE COMPLETE, or any PDU, verified under the new keys.
Next Engine::Impl::on_rekey_complete(Link& l, Time) {
    Rekeying& r = *l.rekey;
    const DerivedKeys keys{*l.kd, *r.kd_sess, *r.nrpek, *r.nrpik};
    const Nonce n1 = r.nonce_1, n2 = r.nonce_2;
    auto ctx = std::move(*r.ctx);
    switch_keys(l, std::move(ctx), keys, n1, n2);
    return move_to(State::established);
}

// No command (again on T5080, then the current keys stay), or no complete (the current keys
// stay).
Next Engine::Impl::on_rekey_timeout(Link& l, Time now) {
    if (l.state == State::rekey_wait_command && l.rekey->tries < cfg.max_retransmissions) {
        l.rekey->tries++;
        l.rekey->deadline = now + cfg.t5080;
        counters.retransmissions++;
        send_rekeying_request(l);
        return stay();
    }
    drop(pc5::DropReason::unexpected,
         l.state == State::rekey_wait_command
             ? "re-keying: no SECURITY MODE COMMAND after the last retransmission; the current "
               "keys stay"
             : "re-keying: the requester never used the new keys; the current keys stay",
         l.summary.id);
    l.rekey.reset();
    return move_to(State::established);
}

void Engine::Impl::switch_keys(Link& l, pdcp::SecurityContext ctx, const DerivedKeys& keys,
                               const Nonce& n1, const Nonce& n2) {
    l.ctx.emplace(std::move(ctx));
    l.nrpek.emplace(keys.nrpek);
    l.nrpik.emplace(keys.nrpik);
    auto& s = l.summary;
    s.knrp_sess_id = l.ctx->id();
    l.msbs_used.set(s.knrp_sess_id.msb());
    s.fingerprints = {{"KD", keys.kd.fingerprint()},
                      {"KD-sess", keys.kd_sess.fingerprint()},
                      {"NRPEK", keys.nrpek.fingerprint()},
                      {"NRPIK", keys.nrpik.fingerprint()}};
    l.rekey.reset();
    l.awaiting = 0;
    l.answer_deadline = pc5::kNever;
    log_keys(l, keys, n1, n2);
    events.push_back(pc5::LinkRekeyed{s, false});
}

}  // namespace pc5sec::sigauth
