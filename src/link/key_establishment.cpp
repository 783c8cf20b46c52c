// Step 3 of seed 000, Direct Authentication and Key Establishment, by two methods
// (docs/solution-a.md, "Step 3"):
//
// (a) certificate-based authenticated ephemeral ECDH (X25519 ephemerals, signatures by the
//     long-term key of [creds]):
//       request:   Key_Est_Info{cert_I, eI, sig_I("pc5sec-A offer v1" | I | T | Nonce_1 | eI |
//                  caps | policy | MSB(KNRP-sess ID) | RSC)}
//       auth req:  Key_Est_Info{cert_P, eP, sig_P("pc5sec-A peer v1" | H(request) | eP | I | P)}
//       auth resp: Key_Est_Info{sig_I("pc5sec-A initiator v1" | H(request) | H(auth req) | I | P)}
//       KNRP = KDF(ECDH(eI, eP), FC 0xA0, H(request | auth req), I, P)
//     Every signature covers the whole transcript up to it; both identities are in the KDF.
// (b) pre-shared group key (policy.toml [group_keys]):
//       request:   Key_Est_Info{psk, identity, N_I};  security mode command: {psk, identity, N_P}
//       KNRP = KDF(group key, FC 0xA1, N_I, N_P, I, P)
//
// FC 0xA0 and 0xA1 are pc5sec's own (provisional): TS 33.536 leaves KNRP derivation to the
// Key_Est_Info method. They collide with no FC of 3gpp-facts §1.
#include <fmt/format.h>

#include "link/impl.hpp"
#include "pc5sec/pc5_cause.hpp"

namespace pc5sec::link {

namespace fc_own {  // pc5sec's own, provisional (pc5sec::fc, kdf.hpp)
using pc5sec::fc::kKnrpCertificate;
using pc5sec::fc::kKnrpPsk;
}  // namespace fc_own

namespace {

void append(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> b) {
    // Length-prefixed, so that no two field sequences give the same signed bytes.
    out.push_back(static_cast<std::uint8_t>(b.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
}

Error auth_failure(std::string field, std::string message) {
    return make_error(Errc::verification_failed, std::move(field), std::move(message),
                      cause::kAuthenticationFailure);
}

}  // namespace

std::vector<std::uint8_t> offer_signed_part(std::string_view initiator, std::string_view target,
                                            const Nonce& nonce_1,
                                            std::span<const std::uint8_t> ephemeral,
                                            codec::UeSecurityCapabilities caps,
                                            codec::SignallingSecurityPolicy policy,
                                            std::uint8_t msb_sess, std::uint32_t rsc) {
    std::vector<std::uint8_t> s;
    append(s, bytes_of("pc5sec-A offer v1"));
    append(s, bytes_of(initiator));
    append(s, bytes_of(target));
    append(s, nonce_1);
    append(s, ephemeral);
    const std::uint8_t rest[] = {caps.ea,
                                 caps.ia,
                                 static_cast<std::uint8_t>(policy.integrity),
                                 static_cast<std::uint8_t>(policy.ciphering),
                                 msb_sess,
                                 static_cast<std::uint8_t>(rsc >> 16),
                                 static_cast<std::uint8_t>(rsc >> 8),
                                 static_cast<std::uint8_t>(rsc)};
    append(s, rest);
    return s;
}

std::vector<std::uint8_t> peer_signed_part(std::span<const std::uint8_t> request,
                                           std::span<const std::uint8_t> ephemeral,
                                           std::string_view initiator, std::string_view peer) {
    std::vector<std::uint8_t> s;
    append(s, bytes_of("pc5sec-A peer v1"));
    append(s, sha256({request}));
    append(s, ephemeral);
    append(s, bytes_of(initiator));
    append(s, bytes_of(peer));
    return s;
}

std::vector<std::uint8_t> initiator_signed_part(std::span<const std::uint8_t> request,
                                                std::span<const std::uint8_t> auth_request,
                                                std::string_view initiator, std::string_view peer) {
    std::vector<std::uint8_t> s;
    append(s, bytes_of("pc5sec-A initiator v1"));
    append(s, sha256({request}));
    append(s, sha256({auth_request}));
    append(s, bytes_of(initiator));
    append(s, bytes_of(peer));
    return s;
}

codec::SignatureAlgorithm signature_algorithm_of(KeyType t) {
    return t == KeyType::ed25519 ? codec::SignatureAlgorithm::ed25519
                                 : codec::SignatureAlgorithm::ecdsa_p256_sha256;
}

Result<codec::KeyEstInfo> Engine::Impl::make_offer(Link& link, std::vector<std::uint8_t>& storage,
                                                   const std::vector<std::uint8_t>& signed_part) {
    codec::KeyEstInfo info;
    if (config.method == AuthMethod::psk) {
        link.hs.psk_nonce_ours = random.bytes<16>();
        info.method = codec::KeyEstMethod::psk;
        info.psk_identity = codec::Octets{bytes_of(config.psk_identity)};
        info.nonce = link.hs.psk_nonce_ours;
        info.user_info_id = codec::Octets{bytes_of(config.user_info)};
        return info;
    }
    auto sig = sign(key(), signed_part);
    if (!sig) return sig.error();
    ++counters.crypto.sign;
    storage = std::move(*sig);
    info.method = codec::KeyEstMethod::certificate;
    info.certificate = codec::Octets{certificate().der()};
    info.ephemeral_public_key = codec::Octets{link.hs.ephemeral->public_key().encoded()};
    info.signature = codec::Octets{storage};
    info.user_info_id = codec::Octets{bytes_of(config.user_info)};
    return info;
}

const creds::Certificate* Engine::Impl::parse_certificate(std::span<const std::uint8_t> der) {
    const auto digest = sha256({der});
    auto it = certificates.find(digest);
    if (it == certificates.end()) {
        auto cert = creds::Certificate::from_der(der, "peer certificate");
        if (!cert) return nullptr;
        if (certificates.size() >= 4096) certificates.clear();
        it = certificates.emplace(digest, std::move(*cert)).first;
    }
    return &it->second;
}

Result<creds::VerifiedPeer> Engine::Impl::verify_certificate(std::span<const std::uint8_t> der,
                                                             pc5::Time now) {
    const creds::Certificate* cert = parse_certificate(der);
    if (!cert)
        return auth_failure(
            "key_est_info.certificate",
            creds::Certificate::from_der(der, "peer certificate").error().describe());
    const auto misses = config.verification_cache->misses();
    auto peer = config.verification_cache->verify(config.credentials->trust(), *cert, wall(now));
    if (config.verification_cache->misses() != misses) ++counters.crypto.cert_verify;
    return peer;  // failures carry cause #6 and name the certificate field (creds.hpp)
}

Result<void> Engine::Impl::authorise(const Link& link, const creds::VerifiedPeer& peer) {
    const bool via_relay =
        link.kind == pc5::LinkKind::hop && link.relay_indication != codec::RelayIndication::direct;
    if (via_relay && config.role == UeRole::relay) {
        // TR 33.740 KI#3 (seed 000 step 3 FFS): the relay serves an end UE only for an RSC both
        // are authorised for; no: cause #11.
        // Our own certificate: checked at step 0 (ensure_fresh), as solution B does (creds.hpp).
        const auto self = creds::own_view(certificate());
        return creds::may_use_relay(peer, self, link.rsc, "end UE " + peer.user_info_id,
                                    "relay " + config.user_info);
    }
    if (via_relay) {
        // The end UE asks of the relay: may it relay this RSC, and may we use it? (#11)
        const auto self = creds::own_view(certificate());
        PC5SEC_TRY(creds::may_use_relay(self, peer, link.rsc, "end UE " + config.user_info,
                                        "relay " + peer.user_info_id));
        if (link.side == Side::initiator && !link.peer.empty())
            PC5SEC_TRY(creds::check_target_user_info(peer, link.peer, "relay"));
        return {};
    }
    // A direct or end-to-end link: the far end must be an end UE (#1) and, for the initiator,
    // the one it asked for (#6).
    PC5SEC_TRY(creds::may_be_peer(peer, "peer " + peer.user_info_id));
    if (link.side == Side::initiator)
        PC5SEC_TRY(creds::check_target_user_info(peer, link.peer, "peer"));
    return {};
}

// ---------------------------------------------------------------- the KNRP cache (step 2)

// Seed 000 step 2 lets a KNRP ID skip step 3. pc5sec ties each cached KNRP to the certificate
// of the peer that step 3 authenticated, and checks that certificate again at each reuse, at the
// time of use: the CRL, its validity and its authorisation for this role and RSC. A KNRP older
// than Config::knrp_lifetime is not reused. What fails is wiped.
bool Engine::Impl::recheck_knrp(
    const Link& link, std::map<std::pair<std::string, std::uint32_t>, CachedKnrp>::iterator it,
    std::optional<std::span<const std::uint8_t>> offered_certificate, pc5::Time now, Error& why) {
    CachedKnrp& c = it->second;
    auto refuse = [&](Error e) {
        why = std::move(e);
        knrp_cache.erase(it);  // the Knrp wipes itself
        return false;
    };
    if (now - c.made > config.knrp_lifetime)
        return refuse(make_error(Errc::state, "knrp", "older than Config::knrp_lifetime"));
    if (!c.peer_certificate) {  // made with a pre-shared group key
        if (config.method != AuthMethod::psk)
            return refuse(make_error(Errc::state, "knrp", "made by a group key no longer in use"));
        return true;
    }
    const auto& der = *c.peer_certificate;
    if (offered_certificate && !std::equal(offered_certificate->begin(), offered_certificate->end(),
                                           der.begin(), der.end()))
        return refuse(make_error(Errc::state, "knrp", "the peer now holds another certificate"));
    // Checked already under this revocation list, for this use, and still valid: nothing changed.
    const auto version = config.credentials->trust().revocation_version();
    const std::uint8_t use = static_cast<std::uint8_t>(
        static_cast<unsigned>(link.side) << 5 | static_cast<unsigned>(link.relay_indication) << 2 |
        static_cast<unsigned>(link.kind));
    if (version == c.checked_revocation_version && wall(now) <= c.checked_not_after &&
        link.rsc == c.checked_rsc && use == c.checked_use)
        return true;
    auto peer = verify_certificate(der, now);
    if (!peer) return refuse(peer.error());  // revoked or expired: #6
    if (peer->user_info_id != it->first.first)
        return refuse(auth_failure("knrp", "certificate of another UE"));
    if (auto st = authorise(link, *peer); !st) {
        Error e = st.error();
        if (!e.pc5_cause) e.pc5_cause = cause::kAuthenticationFailure;
        return refuse(std::move(e));
    }
    c.checked_revocation_version = version;
    c.checked_not_after = peer->not_after;
    c.checked_rsc = link.rsc;
    c.checked_use = use;
    return true;
}

const std::pair<const std::pair<std::string, std::uint32_t>, Engine::Impl::CachedKnrp>*
Engine::Impl::usable_knrp(const Link& link, const std::string& peer,
                          std::optional<std::span<const std::uint8_t>> offered_certificate,
                          pc5::Time now) {
    for (auto it = knrp_cache.begin(); it != knrp_cache.end(); ++it) {
        if (it->first.first != peer) continue;
        Error why;
        if (!recheck_knrp(link, it, offered_certificate, now, why)) return nullptr;
        return &*it;
    }
    return nullptr;
}

void Engine::Impl::cache_knrp(const Link& link, KnrpId id, const Knrp& knrp, pc5::Time now) {
    for (auto it = knrp_cache.begin(); it != knrp_cache.end();)
        it = it->first.first == link.peer ? knrp_cache.erase(it) : std::next(it);
    knrp_cache.insert_or_assign({link.peer, id.value},
                                CachedKnrp{knrp, link.peer_certificate, now});
}

Status Engine::Impl::recheck_peer(const Link& link, pc5::Time now) {
    if (!link.peer_certificate) return {};  // PSK or null integrity: no certificate
    auto peer = verify_certificate(*link.peer_certificate, now);
    if (!peer) return peer.error();
    if (auto st = authorise(link, *peer); !st) {
        Error e = st.error();
        if (!e.pc5_cause) e.pc5_cause = cause::kAuthenticationFailure;
        return e;
    }
    return {};
}

Result<Knrp> Engine::Impl::derive_knrp_certificate(Link& link) {
    if (!link.hs.ephemeral || !link.hs.peer_ephemeral)
        return make_error(Errc::state, "key_est_info.ephemeral_public_key",
                          "no ephemeral key pair to agree on");
    auto z = key_agreement(*link.hs.ephemeral, *link.hs.peer_ephemeral);
    if (!z) return auth_failure("key_est_info.ephemeral_public_key", z.error().describe());
    ++counters.crypto.key_agreement;
    const bool ours = link.requested_by_us();  // the request's sender is "I" in the KDF
    const std::string& i_name = ours ? config.user_info : link.peer;
    const std::string& p_name = ours ? link.peer : config.user_info;
    const auto transcript = sha256({link.hs.request_bytes, link.hs.auth_request_bytes});
    ++counters.crypto.kdf;
    auto out = kdf(z->reveal(), fc_own::kKnrpCertificate,
                   {transcript, bytes_of(i_name), bytes_of(p_name)});
    return Knrp(out.reveal());
}

Result<Knrp> Engine::Impl::derive_knrp_psk(std::string_view identity, const Nonce& initiator_nonce,
                                           const Nonce& responder_nonce,
                                           const std::string& initiator,
                                           const std::string& responder) {
    auto it = config.policy.group_keys.find(std::string(identity));
    if (it == config.policy.group_keys.end())  // seed 000 step 3: no such key, no link (#6)
        return auth_failure("key_est_info.psk_identity",
                            fmt::format("no group key named \"{}\"", identity));
    ++counters.crypto.kdf;
    auto out = kdf(it->second.reveal(), fc_own::kKnrpPsk,
                   {initiator_nonce, responder_nonce, bytes_of(initiator), bytes_of(responder)});
    return Knrp(out.reveal());
}

}  // namespace pc5sec::link
