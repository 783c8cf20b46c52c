// Seed 001 steps 4 and 8: KD, then pc5sec's KD-sess and the TS 33.536 A.3 keys from it; the
// end-to-end link they make; the key log. The relay never comes here: it holds no KD.
#include <fmt/format.h>
#include <openssl/evp.h>

#include "pc5sec/kdf.hpp"
#include "sigauth/impl.hpp"

namespace pc5sec::sigauth {

std::array<std::uint8_t, 32> sha256_of(std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
        throw CryptoLibraryError("EVP_Digest(SHA-256) failed");
    return out;
}

namespace {
// What decode --keylog opens PDUs with: the KNRP-sess ID, the algorithms, NRPEK and NRPIK.
void log_data_keys(pc5::KeyLogSink& k, const pc5::LinkSummary& s, const Nrpek& nrpek,
                   const Nrpik& nrpik) {
    const std::uint8_t kid[2] = {s.knrp_sess_id.msb(), s.knrp_sess_id.lsb()};
    k.bytes("KNRP_SESS_ID", s.id, kid);
    k.algorithms(s.id, static_cast<unsigned>(s.ciphering), static_cast<unsigned>(s.integrity));
    k.bytes("NRPEK", s.id, nrpek.reveal());
    k.bytes("NRPIK", s.id, nrpik.reveal());
}

std::uint32_t be32(std::span<const std::uint8_t> b) {
    return static_cast<std::uint32_t>(b[0]) << 24 | static_cast<std::uint32_t>(b[1]) << 16 |
           static_cast<std::uint32_t>(b[2]) << 8 | b[3];
}
}  // namespace

std::uint32_t link_tag(Mode mode, std::span<const std::uint8_t> source_signature,
                       const std::optional<Nonce>& nonce_1) {
    if (mode == Mode::hardened && nonce_1) return be32(*nonce_1);
    const auto d = sha256_of(source_signature);
    return be32(d);
}

KnrpSessId key_id_of(std::uint32_t tag) {
    auto v = static_cast<std::uint16_t>(tag & 0xffff);
    if ((v & 0xff) == 0) v |= 1;  // the LSB, the relay's routing label, is never 0
    return KnrpSessId{v};
}

std::vector<std::uint8_t> freshness(const std::optional<Nonce>& nonce,
                                    std::span<const std::uint8_t> signature) {
    if (nonce) return {nonce->begin(), nonce->end()};
    const auto d = sha256_of(signature);
    return {d.begin(), d.begin() + 16};
}

codec::SignatureAlgorithm signature_algorithm_of(KeyType t) {
    return t == KeyType::ed25519 ? codec::SignatureAlgorithm::ed25519
                                 : codec::SignatureAlgorithm::ecdsa_p256_sha256;
}
std::optional<KeyType> key_type_of(codec::SignatureAlgorithm a) {
    switch (a) {
        case codec::SignatureAlgorithm::ecdsa_p256_sha256:
            return KeyType::p256;
        case codec::SignatureAlgorithm::ed25519:
            return KeyType::ed25519;
    }
    return std::nullopt;
}

std::uint8_t ea_bitmap(const std::vector<CipheringAlgorithm>& algs) {
    std::uint8_t b = 0;
    for (auto a : algs)
        b |= static_cast<std::uint8_t>(0x80 >> static_cast<unsigned>(a));
    return b;
}
std::uint8_t ia_bitmap(const std::vector<IntegrityAlgorithm>& algs) {
    std::uint8_t b = 0;
    for (auto a : algs)
        b |= static_cast<std::uint8_t>(0x80 >> static_cast<unsigned>(a));
    return b;
}

// Seed 001 steps 4 and 8: KD from our private key and the peer's public key. Literal: KD is the
// ECDH output itself. Hardened: KD = KDF(Z_eph, FC 0xB0, Z_static, N1, N2, S, T). Then
// KD-sess = KDF(KD, FC 0xB1, F1, F2) and NRPEK/NRPIK = TS 33.536 A.3 from KD-sess.
std::optional<DerivedKeys> Engine::Impl::derive(
    const PublicKey& peer_static, const PrivateKey* eph_mine, const PublicKey* eph_peer,
    std::span<const std::uint8_t> f1, std::span<const std::uint8_t> f2, std::string_view source,
    std::string_view target, CipheringAlgorithm c, IntegrityAlgorithm i, Refusal& why) {
    if (peer_static.type() != KeyType::p256) {
        why = refuse(Cause::authentication_failure,
                     fmt::format("peer key: an {} key cannot do ECDH (seed 001 step 4 needs "
                                 "P-256)",
                                 name(peer_static.type())));
        return std::nullopt;
    }
    counters.crypto.key_agreement++;
    auto z = key_agreement(key(), peer_static);
    if (!z) {
        why = refuse(z.error(), Cause::authentication_failure, "static ECDH");
        return std::nullopt;
    }
    Kd kd;
    if (cfg.mode == Mode::hardened && (!eph_mine || !eph_peer)) {
        why = refuse(Cause::authentication_failure, "hardened mode needs both ephemeral keys");
        return std::nullopt;
    }
    if (cfg.mode == Mode::literal) {
        kd = Kd(z->reveal());
    } else {
        counters.crypto.key_agreement++;
        auto ze = key_agreement(*eph_mine, *eph_peer);
        if (!ze) {
            why = refuse(ze.error(), Cause::authentication_failure, "ephemeral ECDH");
            return std::nullopt;
        }
        counters.crypto.kdf++;
        const auto out =
            kdf(ze->reveal(), fc::kKd, {z->reveal(), f1, f2, as_bytes(source), as_bytes(target)});
        kd = Kd(out.reveal());
    }
    counters.crypto.kdf += 3;
    const auto sess = kdf(kd.reveal(), fc::kKdSess, {f1, f2});
    KdSess kd_sess(sess.reveal());
    const KnrpSess as_knrp_sess(kd_sess.reveal());  // TS 33.536 A.3 takes the session key
    return DerivedKeys{kd, kd_sess, derive_nrpek(as_knrp_sess, c), derive_nrpik(as_knrp_sess, i)};
}

// The link's keys installed: a PDCP security context for PC5-S end to end, NRPEK/NRPIK for the
// user plane. `link` keeps its identity and state; only the keys and the summary's key fields
// change.
bool Engine::Impl::install_keys(Link& link, pc5::L2Id relay_l2, KnrpSessId key_id,
                                CipheringAlgorithm c, IntegrityAlgorithm i, const DerivedKeys& keys,
                                Time now, Refusal& why) {
    auto ctx = pdcp::SecurityContext::create(key_id, c, i, &keys.nrpek, &keys.nrpik,
                                             link.summary.initiator);
    if (!ctx) {
        why = refuse(ctx.error(), Cause::protocol_error_unspecified, "security context");
        return false;
    }
    auto& s = link.summary;
    s.local = cfg.user_info;
    s.peer_l2 = relay_l2;  // the peer is reached through the relay
    s.kind = pc5::LinkKind::e2e;
    s.solution = solution_of(cfg.mode);
    s.security_active = true;
    s.knrp_sess_id = key_id;
    s.ciphering = c;
    s.integrity = i;
    s.fingerprints = {{"KD", keys.kd.fingerprint()},
                      {"KD-sess", keys.kd_sess.fingerprint()},
                      {"NRPEK", keys.nrpek.fingerprint()},
                      {"NRPIK", keys.nrpik.fingerprint()}};
    s.established = now;
    link.last_alive = now;
    link.relay_l2 = relay_l2;
    link.msbs_used.set(key_id.msb());
    arm_privacy_timer(link, now);
    link.ctx.emplace(std::move(*ctx));
    link.nrpek.emplace(keys.nrpek);
    link.nrpik.emplace(keys.nrpik);
    link.kd.emplace(keys.kd);
    return true;
}

// Re-keying (docs/solution-b.md "Re-keying"), TS 33.536 5.3.3.2 in spirit: fresh nonces give a
// fresh KD-sess from the same KD. Hardened: KD-sess' = KDF(KD, FC 0xB2, N1', N2', Z_eph'), a fresh
// ephemeral X25519 exchange, so a later leak of KD-sess' keys says nothing of the earlier ones
// and vice versa. Literal (the seed has no ephemeral key): KD-sess' = KDF(KD, FC 0xB2, N1', N2').
std::optional<DerivedKeys> Engine::Impl::rekey_keys(const Link& l, const Nonce& n1, const Nonce& n2,
                                                    const PrivateKey* eph_mine,
                                                    const PublicKey* eph_peer, Refusal& why) {
    std::optional<SharedSecret> z;
    if (cfg.mode == Mode::hardened) {
        if (!eph_mine || !eph_peer) {
            why = refuse(Cause::protocol_error_unspecified,
                         "hardened re-keying needs both fresh ephemeral keys");
            return std::nullopt;
        }
        counters.crypto.key_agreement++;
        auto ze = key_agreement(*eph_mine, *eph_peer);
        if (!ze) {
            why = refuse(ze.error(), Cause::protocol_error_unspecified, "ephemeral ECDH");
            return std::nullopt;
        }
        z.emplace(std::move(*ze));
    }
    counters.crypto.kdf += 3;
    const auto sess = z ? kdf(l.kd->reveal(), fc::kKdSessRekey, {n1, n2, z->reveal()})
                        : kdf(l.kd->reveal(), fc::kKdSessRekey, {n1, n2});
    KdSess kd_sess(sess.reveal());
    const KnrpSess as_knrp_sess(kd_sess.reveal());
    return DerivedKeys{*l.kd, kd_sess, derive_nrpek(as_knrp_sess, l.summary.ciphering),
                       derive_nrpik(as_knrp_sess, l.summary.integrity)};
}

// The hops (docs/solution-b.md "The hops", both paths): a hop's key from the ephemeral
// X25519 exchange of its two ends, each signed in steps 1-8 (the end UE's by SIGN-Source or
// SIGN-Target, the relay's by SIGN1-relay and SIGN2-relay), so each hop is authenticated by the
// same signatures as the end-to-end link. KD-hop = KDF(Z_eph, FC 0xB3, F1, F2, end UE, relay);
// NRPEK/NRPIK = TS 33.536 A.3 from KD-hop; the hop's KNRP-sess ID = 16 bits of SHA-256(KD-hop).
// The relay holds KD-hop, never KD.
std::optional<Hop> Engine::Impl::derive_hop(const PrivateKey& mine,
                                            std::span<const std::uint8_t> peer_ephemeral,
                                            std::span<const std::uint8_t> f1,
                                            std::span<const std::uint8_t> f2,
                                            std::string_view end_ue, std::string_view relay,
                                            pc5::LinkSummary s, Time now, Refusal& why) {
    auto peer = PublicKey::from_encoded(kEphemeralKeyType, peer_ephemeral);
    if (!peer) {
        why = refuse(peer.error(), Cause::authentication_failure, "hop ephemeral key");
        return std::nullopt;
    }
    counters.crypto.key_agreement++;
    auto z = key_agreement(mine, *peer);
    if (!z) {
        why = refuse(z.error(), Cause::authentication_failure, "hop ECDH");
        return std::nullopt;
    }
    counters.crypto.kdf += 3;
    const auto out = kdf(z->reveal(), fc::kKdHop, {f1, f2, as_bytes(end_ue), as_bytes(relay)});
    const KnrpSess kd_hop(out.reveal());
    const auto digest = sha256_of(kd_hop.reveal());
    auto nrpek = derive_nrpek(kd_hop, s.ciphering);
    auto nrpik = derive_nrpik(kd_hop, s.integrity);
    const auto key_id = key_id_of(be32(digest));
    // The hop's own PC5-S (its identifier update) under the same keys, on SL-SRB2: a bearer of
    // its own, so no COUNT it uses meets the user plane's.
    auto ctx = pdcp::SecurityContext::create(key_id, s.ciphering, s.integrity, &nrpek, &nrpik,
                                             s.initiator);
    if (!ctx) {
        why = refuse(ctx.error(), Cause::protocol_error_unspecified, "hop security context");
        return std::nullopt;
    }
    Hop h{std::move(s), std::move(nrpek), std::move(nrpik), kd_hop, std::move(*ctx)};
    h.summary.local = cfg.user_info;
    h.summary.kind = pc5::LinkKind::hop;
    h.summary.solution = solution_of(cfg.mode);
    h.summary.security_active = true;
    h.summary.knrp_sess_id = key_id;
    h.summary.fingerprints = {{"KD-hop", kd_hop.fingerprint()},
                              {"NRPEK", h.nrpek.fingerprint()},
                              {"NRPIK", h.nrpik.fingerprint()}};
    h.summary.established = now;
    if (auto* k = cfg.keylog) {
        const auto& id = h.summary.id;
        k->bytes("KD_HOP", id, kd_hop.reveal());
        log_data_keys(*k, h.summary, h.nrpek, h.nrpik);
    }
    return h;
}

// A hop's identifier update (identifier_update.cpp): KNRP-sess' = TS 33.536 A.2 from the hop's
// key (KD-hop, or the last update's KNRP-sess) and the update's nonces; NRPEK' / NRPIK' = A.3;
// the new KNRP-sess ID is the requester's MSB and the relay's LSB.
std::optional<Engine::Impl::HopKeys> Engine::Impl::next_hop_keys(const Hop& h, const HopUpdate& u) {
    counters.crypto.kdf += 3;
    const Knrp knrp(h.key.reveal());
    auto key = derive_knrp_sess(knrp, u.nonce_1, u.nonce_2);
    auto nrpek = derive_nrpek(key, h.summary.ciphering);
    auto nrpik = derive_nrpik(key, h.summary.integrity);
    const KnrpSessId id{static_cast<std::uint16_t>(u.msb << 8 | u.lsb)};
    auto ctx = pdcp::SecurityContext::create(id, h.summary.ciphering, h.summary.integrity, &nrpek,
                                             &nrpik, h.summary.initiator);
    if (!ctx) return std::nullopt;
    return HopKeys{std::move(key), std::move(nrpek), std::move(nrpik), std::move(*ctx)};
}

void Engine::Impl::log_hop_keys(const Hop& h) {
    if (auto* k = cfg.keylog) {
        k->bytes("KNRP_SESS", h.summary.id, h.key.reveal());
        log_data_keys(*k, h.summary, h.nrpek, h.nrpik);
    }
}

void Engine::Impl::report_hop(Link& l) {
    if (!l.hop || l.hop_reported) return;
    l.hop_reported = true;
    events.push_back(pc5::LinkEstablished{l.hop->summary});
}

std::optional<pc5::DataKeys> Engine::Impl::hop_keys(const Hop& h,
                                                    std::vector<std::string> routes) const {
    pc5::DataKeys k;
    k.link_id = h.summary.id;
    k.kind = pc5::LinkKind::hop;
    k.peer_l2 = h.summary.peer_l2;
    k.local_l2 = h.own;
    k.initiator = h.summary.initiator;
    k.knrp_sess_id = h.summary.knrp_sess_id;
    k.ciphering = h.summary.ciphering;
    k.integrity = h.summary.integrity;
    k.nrpek = h.nrpek;
    k.nrpik = h.nrpik;
    k.l3_routes = std::move(routes);
    return k;
}

void Engine::Impl::log_keys(const Link& link, const DerivedKeys& keys,
                            const std::optional<Nonce>& n1, const std::optional<Nonce>& n2) {
    auto* k = cfg.keylog;
    if (!k) return;
    const auto& id = link.summary.id;
    k->bytes("KD", id, keys.kd.reveal());
    if (n1) k->bytes("NONCE_1", id, *n1);
    if (n2) k->bytes("NONCE_2", id, *n2);
    k->bytes("KD_SESS", id, keys.kd_sess.reveal());
    log_data_keys(*k, link.summary, keys.nrpek, keys.nrpik);
}

}  // namespace pc5sec::sigauth
