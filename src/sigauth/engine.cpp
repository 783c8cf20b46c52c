// Solution B engine (seed 001): one class per UE, in the role of an end UE (source or target) or
// of the UE-to-UE relay. Sans-I/O: frames and time come in, frames, events and a timer go out.
//
// Every check names the seed step or clause it enforces. A handler computes everything into
// locals and commits state only at its end, so a rejected message leaves nothing behind.
#include <algorithm>
#include <deque>
#include <variant>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/sigauth.hpp"

namespace pc5sec::sigauth {
namespace {

using codec::Cause;
using codec::MessageType;
using pc5::Time;

// Which message each role accepts on which channel: the whole flow on one screen
// (design.md, "one transitions table per (role, solution, topology)").
struct Transition {
    Role role;
    std::uint8_t lcid;
    MessageType type;
    const char* clause;
};
constexpr Transition kTransitions[] = {
    {Role::relay, pc5::lcid::kSrb0, MessageType::establishment_request, "seed 001 steps 2-3"},
    {Role::relay, pc5::lcid::kSrb0, MessageType::establishment_accept, "seed 001 steps 6-7"},
    {Role::relay, pc5::lcid::kSrb0, MessageType::establishment_reject, "reject along the path"},
    {Role::end_ue, pc5::lcid::kSrb0, MessageType::establishment_request, "seed 001 steps 4-5"},
    {Role::end_ue, pc5::lcid::kSrb0, MessageType::establishment_accept, "seed 001 step 8"},
    {Role::end_ue, pc5::lcid::kSrb0, MessageType::establishment_reject, "TS 24.554 reject"},
    {Role::end_ue, pc5::lcid::kEndToEnd, MessageType::release_request, "TS 24.554 release"},
    {Role::end_ue, pc5::lcid::kEndToEnd, MessageType::release_accept, "TS 24.554 release"},
    {Role::end_ue, pc5::lcid::kEndToEnd, MessageType::keepalive_request, "TS 24.554 keep-alive"},
    {Role::end_ue, pc5::lcid::kEndToEnd, MessageType::keepalive_response, "TS 24.554 keep-alive"},
};

bool transition_allowed(Role role, std::uint8_t lcid, MessageType type) {
    return std::any_of(std::begin(kTransitions), std::end(kTransitions), [&](const Transition& t) {
        return t.role == role && t.lcid == lcid && t.type == type;
    });
}

// End-to-end SL-SRB2 through the relay (3gpp-facts §4: BEARER = 2 for SL-SRB2).
constexpr std::uint8_t kE2eBearer = 2;

std::string_view as_string(const codec::Octets& o) {
    return {reinterpret_cast<const char*>(o.bytes.data()), o.bytes.size()};
}
std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
codec::Octets octets(std::span<const std::uint8_t> b) {
    return codec::Octets{b};
}
codec::Octets octets(std::string_view s) {
    return codec::Octets{as_bytes(s)};
}

std::array<std::uint8_t, 32> sha256_of(std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
        throw CryptoLibraryError("EVP_Digest(SHA-256) failed");
    return out;
}

std::uint32_t be32(std::span<const std::uint8_t> b) {
    return static_cast<std::uint32_t>(b[0]) << 24 | static_cast<std::uint32_t>(b[1]) << 16 |
           static_cast<std::uint32_t>(b[2]) << 8 | b[3];
}

// Link tag (pc5::make_link_id): literal, the first 4 octets of SHA-256(SIGN-Source) (the only
// per-request value the seed has); hardened, the first 4 octets of Nonce_1.
std::uint32_t link_tag(Mode mode, std::span<const std::uint8_t> source_signature,
                       const std::optional<Nonce>& nonce_1) {
    if (mode == Mode::hardened && nonce_1) return be32(*nonce_1);
    const auto d = sha256_of(source_signature);
    return be32(d);
}

// KNRP-sess ID of the end-to-end link: the tag's low 16 bits (0 means "no security").
KnrpSessId key_id_of(std::uint32_t tag) {
    const auto v = static_cast<std::uint16_t>(tag & 0xffff);
    return KnrpSessId{v == 0 ? std::uint16_t{1} : v};
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

// A failed check: the cause to send and the reason to report.
struct Refusal {
    Cause cause;
    std::string reason;
};
Refusal refuse(Cause c, std::string reason) {
    return Refusal{c, std::move(reason)};
}
Refusal refuse(const Error& e, Cause fallback, std::string_view what) {
    const Cause c = e.pc5_cause ? static_cast<Cause>(*e.pc5_cause) : fallback;
    return Refusal{c, fmt::format("{}: {}", what, e.describe())};
}

// A signer whose Authentication_Info was checked: the key to verify with and, in hardened
// mode, what its certificate says.
struct CheckedSigner {
    PublicKey key;
    std::optional<creds::VerifiedPeer> peer;
};

// Freshly derived end-to-end keys, not yet installed.
struct DerivedKeys {
    Kd kd;
    KdSess kd_sess;
    Nrpek nrpek;
    Nrpik nrpik;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Engine::Impl {
    Config cfg;
    Rng* rng = nullptr;
    pc5::Counters counters;
    std::deque<pc5::Frame> tx;
    std::deque<pc5::Event> events;
    std::optional<creds::VerifiedPeer> self;  // hardened: our own certificate, verified

    // Source: a request waiting for its accept (seed 001 steps 1-8).
    struct Pending {
        std::string id, target, relay;
        std::uint32_t rsc = 0, tag = 0;
        pc5::L2Id relay_l2 = 0;
        std::uint8_t seq = 0;
        std::vector<std::uint8_t> pdu;  // the request, for T5080 retransmissions
        std::vector<std::uint8_t> source_signature;
        std::array<std::uint8_t, 32> request_digest{};
        std::optional<Nonce> nonce_1;
        std::optional<PrivateKey> ephemeral;
        Time started{}, next{};
        unsigned retransmissions = 0;
        // An unprotected ESTABLISHMENT REJECT heard once: anyone can forge one, so the source
        // asks once more at once and believes only a second reject (docs/solution-b.md).
        std::optional<Cause> unconfirmed_reject;
    };
    std::vector<Pending> pending;

    // End UE: an established end-to-end link.
    struct Link {
        pc5::LinkSummary summary;
        pc5::L2Id relay_l2 = 0;
        std::uint8_t seq = 0;  // of the request that made it
        std::optional<pdcp::SecurityContext> ctx;
        // NRPEK / NRPIK, handed to the user plane only by Engine::data_keys.
        std::optional<Nrpek> nrpek;
        std::optional<Nrpik> nrpik;
        // Target: the accept it sent, re-sent for a retransmitted request (T5080).
        std::array<std::uint8_t, 32> request_digest{};
        std::vector<std::uint8_t> accept_pdu;
        Time accepted_at{};
        bool releasing = false;
        Time release_deadline = pc5::kNever;
        std::uint32_t keepalive_counter = 0;
        // Hardened key confirmation, target: established only once a PDU from the source
        // verifies under keys from KD; wiped at `confirm_deadline` otherwise.
        bool confirmed = true;
        Time confirm_deadline = pc5::kNever;
        std::optional<Cause> reject_heard;  // target: an unprotected reject, for the report
        // A KEEPALIVE REQUEST waiting for its response (counter `awaiting`): the source's key
        // confirmation, or a liveness probe (Config::keepalive_interval). Retransmitted at
        // `answer_deadline`, `probe_tries` times at most; then the peer is lost.
        std::uint32_t awaiting = 0;
        Time answer_deadline = pc5::kNever;
        Time answer_wait{};
        unsigned probe_tries = 0;
        Time last_alive{};  // the last verified PDU from the peer (or the establishment)
    };
    std::vector<Link> links;

    // Relay: one request it forwarded, then the route of the link it made.
    struct Session {
        enum class State : std::uint8_t { pending, established };
        State state = State::pending;
        pc5::L2Id source_l2 = 0, target_l2 = 0;
        std::string source, target, id;
        std::uint8_t seq = 0;
        std::uint32_t rsc = 0;
        KnrpSessId key_id;
        std::array<std::uint8_t, 32> request_digest{};
        std::optional<wire::HardenedContext> context;
        std::vector<std::uint8_t> forwarded_request, forwarded_accept;
        Time requested_at{};  // a copy of the request later than its retransmissions is a replay
        Time expires = pc5::kNever;
    };
    std::vector<Session> sessions;

    // Hardened target: Nonce_1 values already seen, per source (replay cache).
    struct ReplayEntry {
        std::string key;
        Time expires;
    };
    std::deque<ReplayEntry> replay_order;
    std::map<std::string, Time> replay_cache;

    // Target: requests it refused lately, so that a retransmission (or the source asking again
    // to confirm an unprotected reject) gets the same reject without a second verification or
    // a second report. Bounded: the oldest goes first.
    struct RecentReject {
        pc5::L2Id from = 0;
        std::uint8_t seq = 0;
        std::array<std::uint8_t, 32> digest{};
        Cause cause = Cause::protocol_error_unspecified;
        Time until{};
    };
    static constexpr std::size_t kRecentRejects = 64;
    std::deque<RecentReject> recent_rejects;

    explicit Impl(Config c) : cfg(std::move(c)), rng(cfg.rng ? cfg.rng : &system_rng()) {}

    Time retransmission_window() const { return cfg.t5080 * (cfg.max_retransmissions + 1); }
    creds::TimePoint wall(Time now) const {
        return cfg.wall_clock_at_zero + std::chrono::duration_cast<creds::Clock::duration>(now);
    }
    // This UE's clock as the signing_time item carries it (ms since the Unix epoch).
    std::uint64_t wall_ms(Time now) const {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(wall(now).time_since_epoch());
        return ms.count() < 0 ? 0 : static_cast<std::uint64_t>(ms.count());
    }

    // Hardened freshness (Config::freshness_window): the signer's clock within the window of
    // ours. Refused as stale (#6) however long ago a replayed request was recorded.
    bool check_fresh(const codec::AuthenticationInfo& info, Time now, Refusal& why,
                     std::string_view who) const {
        if (!info.signing_time) {
            why = refuse(Cause::authentication_failure,
                         fmt::format("{}: hardened Authentication_Info without signing_time", who));
            return false;
        }
        const auto ours = static_cast<std::int64_t>(wall_ms(now));
        const auto theirs = static_cast<std::int64_t>(
            std::min<std::uint64_t>(*info.signing_time, std::uint64_t{1} << 62));
        const auto window =
            std::chrono::duration_cast<std::chrono::milliseconds>(cfg.freshness_window).count();
        if (theirs < ours - window) {
            why = refuse(Cause::authentication_failure,
                         fmt::format("{}: stale, signed {} s before this UE's clock (freshness "
                                     "window {} s)",
                                     who, (ours - theirs) / 1000, window / 1000));
            return false;
        }
        if (theirs > ours + window) {
            why = refuse(Cause::authentication_failure,
                         fmt::format("{}: signed {} s after this UE's clock, in the future "
                                     "(freshness window {} s)",
                                     who, (theirs - ours) / 1000, window / 1000));
            return false;
        }
        return true;
    }

    // ---- output ----

    void send(pc5::L2Id dst, std::uint8_t lcid, MessageType type, std::vector<std::uint8_t> pdu) {
        counters.frames_sent++;
        counters.bytes_sent += pdu.size();
        counters.sent_messages[type]++;
        counters.sent_bytes[type] += pdu.size();
        tx.push_back(pc5::Frame{cfg.l2_id, dst, lcid, std::move(pdu)});
    }
    void send_message(pc5::L2Id dst, const codec::Message& m) {
        auto pdu = codec::encode(m);
        if (!pdu) return;  // our own messages always encode; nothing is sent otherwise
        send(dst, pc5::lcid::kSrb0, codec::message_type(m), std::move(*pdu));
    }
    void send_reject(pc5::L2Id dst, std::uint8_t seq, Cause cause) {
        codec::DirectLinkEstablishmentReject r;
        r.seq = seq;
        r.cause = cause;
        send_message(dst, r);
    }
    void drop(pc5::DropReason reason, std::string detail, std::string link_id = {}) {
        counters.drops[static_cast<std::size_t>(reason)]++;
        events.push_back(pc5::PduDropped{std::move(link_id), reason, std::move(detail)});
    }
    void failed(std::string id, std::string peer, const Refusal& r, bool by_peer, Time now) {
        events.push_back(pc5::LinkFailed{std::move(id), cfg.user_info, std::move(peer),
                                         pc5::LinkKind::e2e, solution_of(cfg.mode), r.cause,
                                         r.reason, by_peer, now});
    }

    // ---- credentials ----

    const PrivateKey& key() const { return cfg.credentials ? cfg.credentials->key() : *cfg.key; }
    const creds::Certificate& certificate() const {
        return cfg.credentials ? cfg.credentials->certificate() : *cfg.certificate;
    }
    const creds::TrustStore& trust() const {
        return cfg.credentials ? cfg.credentials->trust() : *cfg.trust;
    }
    static creds::VerifiedPeer self_of(const creds::Certificate& c) {
        return creds::VerifiedPeer{c.subject(),    c.authorisation(), c.public_key(),
                                   c.not_before(), c.not_after(),     c.serial_hex()};
    }

    // Seed 001 step 0 (FFS there, answered as solution A does): this UE's certificate must be
    // valid now before it signs; renewed in coverage, else refused with #6 (nothing is sent).
    bool step0(Time now, Refusal& why) {
        if (!cfg.credentials) return true;
        if (auto st = cfg.credentials->ensure_fresh(wall(now), cfg.in_coverage); !st) {
            why = refuse(st.error(), Cause::authentication_failure, "own credentials (step 0)");
            return false;
        }
        if (!self || self->serial_hex != certificate().serial_hex()) self = self_of(certificate());
        return true;
    }

    std::optional<creds::VerifiedPeer> verify_certificate(const creds::Certificate& cert, Time now,
                                                          Refusal& why, std::string_view who) {
        const auto misses = cfg.cache ? cfg.cache->misses() : 0;
        auto r = cfg.cache ? cfg.cache->verify(trust(), cert, wall(now))
                           : trust().verify(cert, wall(now));
        if (!cfg.cache || cfg.cache->misses() != misses) counters.crypto.cert_verify++;
        if (!r) {
            why = refuse(r.error(), Cause::authentication_failure,
                         fmt::format("{} certificate", who));
            return std::nullopt;
        }
        return std::move(*r);
    }

    // Static public keys, parsed and validated once (a P-256 point check costs about as much as
    // a verification; a relay meets the same UEs again and again). Only keys that parsed are
    // kept; the cache is emptied when full.
    static constexpr std::size_t kKeyCacheSize = 256;
    std::map<std::vector<std::uint8_t>, PublicKey> key_cache;

    Result<PublicKey> parse_public_key(KeyType type, std::span<const std::uint8_t> bytes) {
        std::vector<std::uint8_t> k;
        k.reserve(bytes.size() + 1);
        k.push_back(static_cast<std::uint8_t>(type));
        k.insert(k.end(), bytes.begin(), bytes.end());
        if (auto it = key_cache.find(k); it != key_cache.end()) return it->second;
        auto key = PublicKey::from_encoded(type, bytes);
        if (!key) return key;
        if (key_cache.size() >= kKeyCacheSize) key_cache.clear();
        key_cache.emplace(std::move(k), *key);
        return key;
    }

    // Certificates, parsed once (the DER parse and its strict checks cost about as much as the
    // chain check itself). Parsing is not trusting: every use still goes through the trust
    // store at the time of use (or the VerificationCache, when the driver gave one).
    std::map<std::vector<std::uint8_t>, creds::Certificate> cert_cache;

    Result<creds::Certificate> parse_certificate(std::span<const std::uint8_t> der,
                                                 std::string_view who) {
        std::vector<std::uint8_t> k(der.begin(), der.end());
        if (auto it = cert_cache.find(k); it != cert_cache.end()) return it->second;
        auto cert = creds::Certificate::from_der(der, who);
        if (!cert) return cert;
        if (cert_cache.size() >= kKeyCacheSize) cert_cache.clear();
        cert_cache.emplace(std::move(k), *cert);
        return cert;
    }

    // The checks common to every Authentication_Info: the key it carries (literal) or the
    // certificate that binds the key to the User Info ID (hardened).
    std::optional<CheckedSigner> check_info(const codec::AuthenticationInfo& info, Time now,
                                            Refusal& why, std::string_view who) {
        const auto type = key_type_of(info.signature_algorithm);
        if (!type) {
            why =
                refuse(Cause::authentication_failure, fmt::format("{}: signature algorithm", who));
            return std::nullopt;
        }
        if (cfg.mode == Mode::literal) {
            // Seed 001 steps 1/3/5/7: Authentication_Info carries the signer's public key.
            if (!info.public_key) {
                why = refuse(
                    Cause::authentication_failure,
                    fmt::format("{}: literal mode needs a public key (seed 001 step 1)", who));
                return std::nullopt;
            }
            auto key = parse_public_key(*type, info.public_key->bytes);
            if (!key) {
                why = refuse(key.error(), Cause::authentication_failure,
                             fmt::format("{} public key", who));
                return std::nullopt;
            }
            return CheckedSigner{std::move(*key), std::nullopt};
        }
        // Hardened: a certificate from our trust anchor, valid now and not revoked, whose
        // subject is the User Info ID the signer claims.
        if (!info.certificate) {
            why = refuse(Cause::authentication_failure,
                         fmt::format("{}: hardened mode needs a certificate", who));
            return std::nullopt;
        }
        auto cert = parse_certificate(info.certificate->bytes, who);
        if (!cert) {
            why = refuse(cert.error(), Cause::authentication_failure,
                         fmt::format("{} certificate", who));
            return std::nullopt;
        }
        auto peer = verify_certificate(*cert, now, why, who);
        if (!peer) return std::nullopt;
        if (peer->user_info_id != as_string(info.user_info_id)) {
            why = refuse(Cause::authentication_failure,
                         fmt::format("{}: User Info ID '{}' is not the certificate subject '{}'",
                                     who, as_string(info.user_info_id), peer->user_info_id));
            return std::nullopt;
        }
        if (peer->public_key.type() != *type) {
            why = refuse(
                Cause::authentication_failure,
                fmt::format("{}: signature algorithm does not match the certified key", who));
            return std::nullopt;
        }
        PublicKey key = peer->public_key;
        return CheckedSigner{std::move(key), std::move(peer)};
    }

    bool check_signature(const PublicKey& key, std::span<const std::uint8_t> tbs,
                         const codec::Octets& sig, Refusal& why, std::string_view which) {
        counters.crypto.verify++;
        if (!verify(key, tbs, sig.bytes)) {
            why = refuse(Cause::authentication_failure, fmt::format("{} does not verify", which));
            return false;
        }
        return true;
    }

    // Our own Authentication_Info without its signature: the storage it points into lives in
    // `cfg` (user info, certificate) or in `own_key` / the caller's buffers.
    codec::AuthenticationInfo own_info() const {
        codec::AuthenticationInfo info;
        info.user_info_id = octets(cfg.user_info);
        if (cfg.mode == Mode::literal)
            info.public_key = octets(key().public_key().encoded());
        else
            info.certificate = octets(certificate().der());
        info.signature_algorithm = signature_algorithm_of(key().type());
        return info;
    }

    std::optional<std::vector<std::uint8_t>> sign_tbs(std::span<const std::uint8_t> tbs) {
        counters.crypto.sign++;
        auto s = sign(key(), tbs);
        if (!s) return std::nullopt;
        return std::move(*s);
    }

    // ---- keys ----

    // Seed 001 steps 4 and 8: KD from our private key and the peer's public key. Literal: KD is
    // the ECDH output itself. Hardened: KD = KDF(Z_eph, FC 0xB0, Z_static, N1, N2, S, T).
    // Then KD-sess = KDF(KD, FC 0xB1, F1, F2) and NRPEK/NRPIK = TS 33.536 A.3 from KD-sess.
    std::optional<DerivedKeys> derive(const PublicKey& peer_static, const PrivateKey* eph_mine,
                                      const PublicKey* eph_peer, std::span<const std::uint8_t> f1,
                                      std::span<const std::uint8_t> f2, std::string_view source,
                                      std::string_view target, CipheringAlgorithm c,
                                      IntegrityAlgorithm i, Refusal& why) {
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
            const auto out = kdf(ze->reveal(), fc::kKd,
                                 {z->reveal(), f1, f2, as_bytes(source), as_bytes(target)});
            kd = Kd(out.reveal());
        }
        counters.crypto.kdf += 3;
        const auto sess = kdf(kd.reveal(), fc::kKdSess, {f1, f2});
        KdSess kd_sess(sess.reveal());
        const KnrpSess as_knrp_sess(kd_sess.reveal());  // TS 33.536 A.3 takes the session key
        return DerivedKeys{kd, kd_sess, derive_nrpek(as_knrp_sess, c),
                           derive_nrpik(as_knrp_sess, i)};
    }

    std::optional<Link> make_link(std::string id, std::string peer, bool initiator,
                                  pc5::L2Id relay_l2, std::uint8_t seq, KnrpSessId key_id,
                                  CipheringAlgorithm c, IntegrityAlgorithm i,
                                  const DerivedKeys& keys, Time started, Time now, Refusal& why) {
        auto ctx = pdcp::SecurityContext::create(key_id, c, i, &keys.nrpek, &keys.nrpik, initiator);
        if (!ctx) {
            why = refuse(ctx.error(), Cause::protocol_error_unspecified, "security context");
            return std::nullopt;
        }
        Link link;
        auto& s = link.summary;
        s.id = std::move(id);
        s.local = cfg.user_info;
        s.peer = std::move(peer);
        s.peer_l2 = relay_l2;  // the peer is reached through the relay
        s.kind = pc5::LinkKind::e2e;
        s.solution = solution_of(cfg.mode);
        s.initiator = initiator;
        s.security_active = true;
        s.knrp_sess_id = key_id;
        s.ciphering = c;
        s.integrity = i;
        s.fingerprints = {{"KD", keys.kd.fingerprint()},
                          {"KD-sess", keys.kd_sess.fingerprint()},
                          {"NRPEK", keys.nrpek.fingerprint()},
                          {"NRPIK", keys.nrpik.fingerprint()}};
        s.started = started;
        s.established = now;
        link.last_alive = now;
        link.relay_l2 = relay_l2;
        link.seq = seq;
        link.ctx.emplace(std::move(*ctx));
        link.nrpek.emplace(keys.nrpek);
        link.nrpik.emplace(keys.nrpik);
        return link;
    }

    void log_keys(const Link& link, const DerivedKeys& keys, const std::optional<Nonce>& n1,
                  const std::optional<Nonce>& n2) {
        auto* k = cfg.keylog;
        if (!k) return;
        const auto& id = link.summary.id;
        k->bytes("KD", id, keys.kd.reveal());
        if (n1) k->bytes("NONCE_1", id, *n1);
        if (n2) k->bytes("NONCE_2", id, *n2);
        k->bytes("KD_SESS", id, keys.kd_sess.reveal());
        const std::uint8_t kid[2] = {link.summary.knrp_sess_id.msb(),
                                     link.summary.knrp_sess_id.lsb()};
        k->bytes("KNRP_SESS_ID", id, kid);
        k->algorithms(id, static_cast<unsigned>(link.summary.ciphering),
                      static_cast<unsigned>(link.summary.integrity));
        k->bytes("NRPEK", id, keys.nrpek.reveal());
        k->bytes("NRPIK", id, keys.nrpik.reveal());
    }

    Link* find_link(std::string_view id) {
        for (auto& l : links)
            if (l.summary.id == id) return &l;
        return nullptr;
    }

    // ---- source: connect (seed 001 step 1) ----

    void connect(const pc5::ConnectRequest& req, Time now) {
        const std::string target = req.target;
        Refusal why{Cause::protocol_error_unspecified, ""};
        auto fail_now = [&](Refusal r) { failed("", target, r, false, now); };
        if (cfg.role != Role::end_ue)
            return fail_now(
                refuse(Cause::protocol_error_unspecified, "connect: a relay does not start links"));
        // Seed 001 step 0: the source has selected a relay (its L2 ID from discovery).
        if (!req.relay_l2)
            return fail_now(refuse(Cause::protocol_error_unspecified,
                                   "connect: relay_l2 is required (solution B always goes through "
                                   "a UE-to-UE relay)"));
        if (target.empty() || target.size() > 255)
            return fail_now(refuse(Cause::protocol_error_unspecified,
                                   "connect: target user info must be 1..255 octets"));
        if (req.rsc > creds::kMaxRsc)
            return fail_now(refuse(Cause::protocol_error_unspecified, "connect: rsc over 24 bits"));
        const std::string relay = req.relay.value_or("");
        if (!step0(now, why)) return fail_now(why);
        if (cfg.mode == Mode::hardened) {
            // Hardened: the relay's identity is signed, so the source must know it.
            if (relay.empty() || relay.size() > 255)
                return fail_now(refuse(Cause::protocol_error_unspecified,
                                       "connect: hardened mode needs the relay's user info "
                                       "(ConnectRequest::relay)"));
            // docs/credentials.md: may this UE use a relay for this RSC at all?
            if (!self->authorisation.has_role(creds::Role::end_ue) ||
                !self->authorisation.has_rsc(req.rsc))
                return fail_now(refuse(Cause::required_service_not_allowed,
                                       fmt::format("connect: own certificate does not allow rsc "
                                                   "0x{:06x}",
                                                   req.rsc)));
        }
        if (!cfg.rscs.empty() &&
            std::find(cfg.rscs.begin(), cfg.rscs.end(), req.rsc) == cfg.rscs.end())
            return fail_now(refuse(Cause::required_service_not_allowed,
                                   fmt::format("connect: rsc 0x{:06x} not configured", req.rsc)));

        Pending p;
        p.target = target;
        p.relay = relay;
        p.rsc = req.rsc;
        p.relay_l2 = *req.relay_l2;
        p.seq = rng->next_u8();
        std::vector<std::uint8_t> eph_pub;
        if (cfg.mode == Mode::hardened) {
            p.nonce_1 = rng->bytes<16>();
            counters.crypto.keygen++;
            auto eph = PrivateKey::generate(kEphemeralKeyType, *rng);
            if (!eph)
                return fail_now(refuse(eph.error(), Cause::protocol_error_unspecified, "keygen"));
            p.ephemeral.emplace(std::move(*eph));
            eph_pub = p.ephemeral->public_key().encoded();
        }

        codec::DirectLinkEstablishmentRequest m;
        m.seq = p.seq;
        m.source_user_info = octets(cfg.user_info);
        const std::uint8_t prose_id[3] = {static_cast<std::uint8_t>(req.rsc >> 16),
                                          static_cast<std::uint8_t>(req.rsc >> 8),
                                          static_cast<std::uint8_t>(req.rsc)};
        m.prose_identifiers = octets(prose_id);
        m.ue_security_capabilities = {ea_bitmap(cfg.ciphering), ia_bitmap(cfg.integrity)};
        m.signalling_security_policy = {codec::PolicyValue::required,
                                        codec::PolicyValue::preferred};
        m.target_user_info = octets(p.target);
        m.relay_indication = codec::RelayIndication::via_layer2_relay;
        m.relay_service_code = codec::RelayServiceCode{req.rsc};
        if (!relay.empty()) m.u2u_relay_ue_user_info = octets(p.relay);
        m.nonce_1 = p.nonce_1;
        auto body = wire::body(m);
        if (!body)
            return fail_now(refuse(body.error(), Cause::protocol_error_unspecified, "request"));

        // Seed 001 step 1: Authentication_Info = User Info ID, public key (or certificate),
        // SIGN-Source.
        codec::AuthenticationInfo info = own_info();
        if (!eph_pub.empty()) info.ephemeral_public_key = octets(eph_pub);
        if (cfg.mode == Mode::hardened) info.signing_time = wall_ms(now);
        std::optional<wire::HardenedContext> ctx;
        if (cfg.mode == Mode::hardened)
            ctx =
                wire::HardenedContext{cfg.user_info, p.target, p.relay, p.rsc, *p.nonce_1, {}, {}};
        const auto tbs =
            wire::to_be_signed(cfg.mode, MessageType::establishment_request, wire::Signer::source,
                               *body, info, ctx ? &*ctx : nullptr);
        auto sig = sign_tbs(tbs);
        if (!sig) return fail_now(refuse(Cause::protocol_error_unspecified, "sign: SIGN-Source"));
        info.signature = octets(*sig);
        m.authentication_info = info;
        auto pdu = codec::encode(m);
        if (!pdu)
            return fail_now(refuse(pdu.error(), Cause::protocol_error_unspecified, "request"));

        p.source_signature = *sig;
        p.request_digest = wire::request_digest(*body, info);
        p.tag = link_tag(cfg.mode, p.source_signature, p.nonce_1);
        p.id = pc5::make_link_id(cfg.user_info, p.target, p.tag);
        p.pdu = *pdu;
        p.started = now;
        p.next = now + cfg.t5080;
        send(p.relay_l2, pc5::lcid::kSrb0, MessageType::establishment_request, std::move(*pdu));
        pending.push_back(std::move(p));
    }

    // ---- receive ----

    void receive(const pc5::Frame& f, Time now) {
        counters.frames_received++;
        if (f.dst != cfg.l2_id) return drop(pc5::DropReason::not_for_us, "frame for another L2 ID");
        if (f.lcid == pc5::lcid::kEndToEnd) {
            if (cfg.role == Role::relay) return forward_protected(f, now);
            return receive_protected(f, now);
        }
        if (f.lcid != pc5::lcid::kSrb0)
            return drop(pc5::DropReason::unexpected, fmt::format("lcid {}", f.lcid));
        auto decoded = codec::decode(f.pdu);
        if (!decoded) return drop(pc5::DropReason::malformed, decoded.error().describe());
        const auto type = codec::message_type(*decoded);
        counters.received_messages[type]++;
        if (!transition_allowed(cfg.role, f.lcid, type))
            return drop(pc5::DropReason::unexpected,
                        fmt::format("{} not expected on SL-SRB0", codec::message_name(type)));
        std::visit(
            [&](const auto& m) {
                using M = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<M, codec::DirectLinkEstablishmentRequest>) {
                    if (cfg.role == Role::relay)
                        relay_request(f, m, now);
                    else
                        target_request(f, m, now);
                } else if constexpr (std::is_same_v<M, codec::DirectLinkEstablishmentAccept>) {
                    if (cfg.role == Role::relay)
                        relay_accept(f, m, now);
                    else
                        source_accept(f, m, now);
                } else if constexpr (std::is_same_v<M, codec::DirectLinkEstablishmentReject>) {
                    if (cfg.role == Role::relay)
                        relay_reject(f, m);
                    else
                        end_reject(f, m, now);
                }
            },
            *decoded);
    }

    // ---- relay: steps 2-3 ----

    void relay_request(const pc5::Frame& f, const codec::DirectLinkEstablishmentRequest& m,
                       Time now) {
        const std::string source(as_string(m.source_user_info));
        Refusal why{Cause::protocol_error_unspecified, ""};
        auto reject = [&](Refusal r) {
            send_reject(f.src, m.seq, r.cause);
            failed("", source, r, false, now);
        };
        // A retransmitted request (T5080): answer from the session, do not sign again.
        if (m.authentication_info) {
            auto body = wire::body(m);
            if (body) {
                const auto digest = wire::request_digest(*body, *m.authentication_info);
                for (auto& s : sessions) {
                    if (s.source_l2 != f.src || s.seq != m.seq || s.request_digest != digest ||
                        now - s.requested_at > retransmission_window())
                        continue;
                    counters.retransmissions++;
                    if (s.state == Session::State::pending)
                        send(s.target_l2, pc5::lcid::kSrb0, MessageType::establishment_request,
                             s.forwarded_request);
                    else
                        send(s.source_l2, pc5::lcid::kSrb0, MessageType::establishment_accept,
                             s.forwarded_accept);
                    return drop(pc5::DropReason::duplicate, "retransmitted request", s.id);
                }
            }
        }
        // Seed 001 step 1: the request carries the source's Authentication_Info.
        if (!m.authentication_info)
            return reject(refuse(Cause::authentication_failure,
                                 "request without Authentication_Info (seed 001 step 1)"));
        if (m.relay_authentication_info)
            return reject(refuse(Cause::protocol_error_unspecified,
                                 "a source must not send a relay Authentication_Info"));
        if (!m.target_user_info || !m.relay_service_code)
            return reject(refuse(Cause::protocol_error_unspecified,
                                 "request without Target User Info or relay service code"));
        const std::string target(as_string(*m.target_user_info));
        const std::uint32_t rsc = m.relay_service_code->value;
        // docs/credentials.md: the relay serves only its configured RSCs.
        if (std::find(cfg.rscs.begin(), cfg.rscs.end(), rsc) == cfg.rscs.end())
            return reject(refuse(Cause::required_service_not_allowed,
                                 fmt::format("relay does not serve rsc 0x{:06x}", rsc)));
        // Seed 001 step 0: the relay reaches the target it discovered.
        const auto dir = cfg.directory.find(target);
        if (dir == cfg.directory.end())
            return reject(
                refuse(Cause::direct_connection_not_available,
                       fmt::format("target '{}' is not in the relay's directory", target)));
        const auto& info = *m.authentication_info;
        // Seed 001 step 2: the relay checks the source's key (hardened: its certificate).
        auto src = check_info(info, now, why, "source");
        if (!src) return reject(why);
        // Seed 001 step 1: the Authentication_Info names the UE that sent the request.
        if (as_string(info.user_info_id) != source)
            return reject(refuse(Cause::authentication_failure,
                                 "source Authentication_Info names another UE"));
        std::optional<wire::HardenedContext> ctx;
        if (cfg.mode == Mode::hardened) {
            // Hardened: nonce, ephemeral key and this relay's identity must be in the request.
            if (!m.nonce_1 || !info.ephemeral_public_key)
                return reject(refuse(Cause::authentication_failure,
                                     "hardened request without Nonce_1 or ephemeral key"));
            if (!m.u2u_relay_ue_user_info || as_string(*m.u2u_relay_ue_user_info) != cfg.user_info)
                return reject(refuse(Cause::authentication_failure, "request names another relay"));
            // Hardened freshness: a request signed outside the window is stale (a replay).
            if (!check_fresh(info, now, why, "source")) return reject(why);
            // docs/credentials.md: an end UE may use a relay for this RSC (#11 if not).
            if (!cfg.tamper.ignore_authorisation) {
                if (auto st = creds::may_use_relay(*src->peer, *self, rsc, "source", "relay"); !st)
                    return reject(
                        refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
            }
            ctx = wire::HardenedContext{source, target, cfg.user_info, rsc, *m.nonce_1, {}, {}};
        }
        auto body = wire::body(m);
        if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
        // Seed 001 step 2: verify SIGN-Source with the source's public key.
        const auto tbs_src =
            wire::to_be_signed(cfg.mode, MessageType::establishment_request, wire::Signer::source,
                               *body, info, ctx ? &*ctx : nullptr);
        if (!check_signature(src->key, tbs_src, info.signature, why, "SIGN-Source"))
            return reject(why);
        const auto digest = wire::request_digest(*body, info);
        const std::uint32_t tag = link_tag(cfg.mode, info.signature.bytes, m.nonce_1);
        const KnrpSessId key_id = key_id_of(tag);
        // The relay routes protected PDUs by (L2 ID, KNRP-sess ID): refuse a clash (#9).
        for (const auto& s : sessions)
            if (s.key_id == key_id && (s.source_l2 == f.src || s.target_l2 == f.src ||
                                       s.source_l2 == dir->second || s.target_l2 == dir->second))
                return reject(refuse(Cause::lsb_knrp_sess_id_conflict,
                                     "KNRP-sess ID already routed for this UE"));

        if (!step0(now, why)) return reject(why);
        // Seed 001 steps 2-3: sign the request and the relay's own user info; forward both.
        codec::DirectLinkEstablishmentRequest out = m;
        if (cfg.tamper.phase == Tamper::Phase::before_sign && cfg.tamper.on_request)
            cfg.tamper.on_request(out);
        auto out_body = wire::body(out);
        if (!out_body)
            return reject(refuse(out_body.error(), Cause::protocol_error_unspecified, "body"));
        codec::AuthenticationInfo rinfo = own_info();
        if (cfg.mode == Mode::hardened) rinfo.signing_time = wall_ms(now);
        if (ctx) {
            // A tampering relay signs what it forwards.
            if (out.nonce_1) ctx->nonce_1 = *out.nonce_1;
            if (out.target_user_info) ctx->target = std::string(as_string(*out.target_user_info));
            ctx->source = std::string(as_string(out.source_user_info));
            if (out.relay_service_code) ctx->rsc = out.relay_service_code->value;
        }
        const auto& sinfo = out.authentication_info ? *out.authentication_info : info;
        const auto tbs = wire::to_be_signed(cfg.mode, MessageType::establishment_request,
                                            wire::Signer::relay, *out_body, sinfo,
                                            ctx ? &*ctx : nullptr, sinfo.signature.bytes, &rinfo);
        auto sig = sign_tbs(tbs);
        if (!sig) return reject(refuse(Cause::protocol_error_unspecified, "sign: SIGN1-relay"));
        rinfo.signature = octets(*sig);
        out.relay_authentication_info = rinfo;
        if (cfg.tamper.phase == Tamper::Phase::after_sign && cfg.tamper.on_request)
            cfg.tamper.on_request(out);
        auto pdu = codec::encode(out);
        if (!pdu) return reject(refuse(pdu.error(), Cause::protocol_error_unspecified, "encode"));

        Session s;
        s.source_l2 = f.src;
        s.target_l2 = dir->second;
        s.source = source;
        s.target = target;
        s.id = pc5::make_link_id(source, target, tag);
        s.seq = m.seq;
        s.rsc = rsc;
        s.key_id = key_id;
        s.request_digest = digest;
        if (cfg.mode == Mode::hardened)
            s.context =
                wire::HardenedContext{source, target, cfg.user_info, rsc, *m.nonce_1, {}, digest};
        s.forwarded_request = *pdu;
        s.requested_at = now;
        s.expires = now + retransmission_window();
        counters.frames_forwarded++;
        send(s.target_l2, pc5::lcid::kSrb0, MessageType::establishment_request, std::move(*pdu));
        sessions.push_back(std::move(s));
    }

    // ---- target: steps 4-5 ----

    void target_request(const pc5::Frame& f, const codec::DirectLinkEstablishmentRequest& m,
                        Time now) {
        const std::string source(as_string(m.source_user_info));
        Refusal why{Cause::protocol_error_unspecified, ""};
        // TS 24.554: a request names its target; one for another UE is not ours to answer.
        if (!m.target_user_info || as_string(*m.target_user_info) != cfg.user_info)
            return drop(pc5::DropReason::not_for_us, "Target User Info names another UE");
        std::string id;
        std::function<void(Refusal)> reject = [&](Refusal r) {
            send_reject(f.src, m.seq, r.cause);
            failed(id, source, r, false, now);
        };
        // Seed 001 step 3: the request carries the source's and the relay's Authentication_Info.
        if (!m.authentication_info || !m.relay_authentication_info)
            return reject(refuse(Cause::authentication_failure,
                                 "request without both Authentication_Info (seed 001 step 3)"));
        const auto& sinfo = *m.authentication_info;
        const auto& rinfo = *m.relay_authentication_info;
        auto body = wire::body(m);
        if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
        const auto digest = wire::request_digest(*body, sinfo);
        const std::uint32_t tag = link_tag(cfg.mode, sinfo.signature.bytes, m.nonce_1);
        id = pc5::make_link_id(source, cfg.user_info, tag);
        std::erase_if(recent_rejects, [&](const RecentReject& r) { return r.until <= now; });
        for (const auto& r : recent_rejects) {
            if (r.from != f.src || r.seq != m.seq || r.digest != digest) continue;
            counters.retransmissions++;
            send_reject(f.src, m.seq, r.cause);
            return drop(pc5::DropReason::duplicate, "retransmitted request: refused again", id);
        }
        reject = [&, digest](Refusal r) {
            if (recent_rejects.size() >= kRecentRejects) recent_rejects.pop_front();
            recent_rejects.push_back(
                RecentReject{f.src, m.seq, digest, r.cause, now + retransmission_window()});
            send_reject(f.src, m.seq, r.cause);
            failed(id, source, r, false, now);
        };
        // A retransmitted request (T5080) for a link we just made: send the same accept again.
        for (auto& l : links) {
            if (l.summary.id == id && l.request_digest == digest && !l.accept_pdu.empty() &&
                now - l.accepted_at <= retransmission_window()) {
                counters.retransmissions++;
                send(f.src, pc5::lcid::kSrb0, MessageType::establishment_accept, l.accept_pdu);
                return drop(pc5::DropReason::duplicate, "retransmitted request", id);
            }
        }
        std::string replay_key;
        if (cfg.mode == Mode::hardened) {
            if (!m.nonce_1 || !sinfo.ephemeral_public_key)
                return reject(refuse(Cause::authentication_failure,
                                     "hardened request without Nonce_1 or ephemeral key"));
            // Hardened replay cache: a Nonce_1 this source already used is refused (silently:
            // the sender is not who it claims, so a reject would only tell an attacker more).
            replay_key = source + '\0' + std::string(m.nonce_1->begin(), m.nonce_1->end());
            expire_replay_cache(now);
            if (replay_cache.count(replay_key))
                return drop(pc5::DropReason::replay,
                            "Nonce_1 already seen from this source (replay cache)", id);
        }
        // Seed 001 step 4: the source's key (hardened: certificate) and the relay's.
        auto src = check_info(sinfo, now, why, "source");
        if (!src) return reject(why);
        if (as_string(sinfo.user_info_id) != source)
            return reject(refuse(Cause::authentication_failure,
                                 "source Authentication_Info names another UE"));
        auto rel = check_info(rinfo, now, why, "relay");
        if (!rel) return reject(why);
        std::optional<wire::HardenedContext> ctx;
        std::uint32_t rsc = m.relay_service_code ? m.relay_service_code->value : 0;
        if (cfg.mode == Mode::hardened) {
            // docs/credentials.md: the source must be an end UE (#1) ...
            if (auto st = creds::may_be_peer(*src->peer, "source"); !st)
                return reject(
                    refuse(st.error(), Cause::direct_communication_not_allowed, "authorisation"));
            // ... the relay must be the one the source named, and signed as ...
            if (!m.u2u_relay_ue_user_info ||
                as_string(*m.u2u_relay_ue_user_info) != rel->peer->user_info_id)
                return reject(refuse(Cause::authentication_failure,
                                     "the relay is not the one the source named"));
            if (!m.relay_service_code)
                return reject(refuse(Cause::protocol_error_unspecified,
                                     "hardened request without relay service code"));
            // ... and both authorised for the RSC (#11).
            if (auto st = creds::may_use_relay(*src->peer, *rel->peer, rsc, "source", "relay"); !st)
                return reject(
                    refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
            // ... and this UE itself is authorised for the RSC (#11), as solution A's target
            // checks its own certificate.
            if (!self->authorisation.has_rsc(rsc))
                return reject(refuse(
                    Cause::required_service_not_allowed,
                    fmt::format("authorisation: own certificate: prose-authorisation.rscs: '{}' is "
                                "not authorised to use relay service code 0x{:06x}",
                                cfg.user_info, rsc)));
            // Hardened freshness: the source and the relay signed within the window.
            if (!check_fresh(sinfo, now, why, "source") || !check_fresh(rinfo, now, why, "relay"))
                return reject(why);
            ctx = wire::HardenedContext{
                source, cfg.user_info, rel->peer->user_info_id, rsc, *m.nonce_1, {}, {}};
        }
        // Seed 001 step 4: verify SIGN-Source and SIGN1-relay.
        const auto tbs_src =
            wire::to_be_signed(cfg.mode, MessageType::establishment_request, wire::Signer::source,
                               *body, sinfo, ctx ? &*ctx : nullptr);
        if (!check_signature(src->key, tbs_src, sinfo.signature, why, "SIGN-Source"))
            return reject(why);
        const auto tbs_rel =
            wire::to_be_signed(cfg.mode, MessageType::establishment_request, wire::Signer::relay,
                               *body, sinfo, ctx ? &*ctx : nullptr, sinfo.signature.bytes, &rinfo);
        if (!check_signature(rel->key, tbs_rel, rinfo.signature, why, "SIGN1-relay"))
            return reject(why);

        // Algorithms: the first of ours that the source offered (TS 33.536 5.3.3.1.3).
        const auto ea = m.ue_security_capabilities.ea, ia = m.ue_security_capabilities.ia;
        std::optional<CipheringAlgorithm> cipher;
        std::optional<IntegrityAlgorithm> integ;
        for (auto a : cfg.ciphering)
            if (!cipher && (ea & (0x80 >> static_cast<unsigned>(a)))) cipher = a;
        for (auto a : cfg.integrity)
            if (!integ && a != IntegrityAlgorithm::nia0 &&
                (ia & (0x80 >> static_cast<unsigned>(a))))
                integ = a;
        if (!cipher || !integ)
            return reject(refuse(Cause::ue_security_capabilities_mismatch,
                                 "no common ciphering or integrity algorithm"));
        const KnrpSessId key_id = key_id_of(tag);
        for (const auto& l : links)
            if (l.relay_l2 == f.src && l.summary.knrp_sess_id == key_id && l.summary.id != id)
                return reject(refuse(Cause::lsb_knrp_sess_id_conflict,
                                     "KNRP-sess ID already in use through this relay"));

        if (!step0(now, why)) return reject(why);
        // Seed 001 step 5: the accept with the target's Authentication_Info.
        std::optional<Nonce> n2;
        std::optional<PrivateKey> eph;
        std::optional<PublicKey> eph_peer;
        std::vector<std::uint8_t> eph_pub;
        if (cfg.mode == Mode::hardened) {
            auto pe = PublicKey::from_encoded(kEphemeralKeyType, sinfo.ephemeral_public_key->bytes);
            if (!pe)
                return reject(
                    refuse(pe.error(), Cause::authentication_failure, "source ephemeral key"));
            eph_peer.emplace(std::move(*pe));
            n2 = rng->bytes<16>();
            counters.crypto.keygen++;
            auto e = PrivateKey::generate(kEphemeralKeyType, *rng);
            if (!e) return reject(refuse(e.error(), Cause::protocol_error_unspecified, "keygen"));
            eph.emplace(std::move(*e));
            eph_pub = eph->public_key().encoded();
        }
        codec::DirectLinkEstablishmentAccept acc;
        acc.seq = m.seq;
        acc.source_user_info = octets(cfg.user_info);
        acc.relay_indication = codec::RelayIndication::via_layer2_relay;
        auto abody = wire::body(acc);
        if (!abody) return reject(refuse(abody.error(), Cause::protocol_error_unspecified, "body"));
        codec::AuthenticationInfo tinfo = own_info();
        tinfo.nonce = n2;
        if (cfg.mode == Mode::hardened) tinfo.signing_time = wall_ms(now);
        if (!eph_pub.empty()) tinfo.ephemeral_public_key = octets(eph_pub);
        tinfo.selected_algorithms = codec::SecurityAlgorithms{static_cast<std::uint8_t>(*cipher),
                                                              static_cast<std::uint8_t>(*integ)};
        if (ctx) {
            ctx->nonce_2 = n2;
            ctx->request_digest = digest;
        }
        const auto tbs =
            wire::to_be_signed(cfg.mode, MessageType::establishment_accept, wire::Signer::target,
                               *abody, tinfo, ctx ? &*ctx : nullptr);
        auto sig = sign_tbs(tbs);
        if (!sig) return reject(refuse(Cause::protocol_error_unspecified, "sign: SIGN-Target"));
        tinfo.signature = octets(*sig);
        acc.authentication_info = tinfo;
        auto pdu = codec::encode(acc);
        if (!pdu) return reject(refuse(pdu.error(), Cause::protocol_error_unspecified, "encode"));

        // Seed 001 step 4: KD from our private key and the source's public key.
        const auto f1 = freshness(m.nonce_1, sinfo.signature.bytes);
        const auto f2 = freshness(n2, *sig);
        auto keys = derive(src->key, eph ? &*eph : nullptr, eph_peer ? &*eph_peer : nullptr, f1, f2,
                           source, cfg.user_info, *cipher, *integ, why);
        if (!keys) return reject(why);
        auto link = make_link(id, source, false, f.src, m.seq, key_id, *cipher, *integ, *keys, now,
                              now, why);
        if (!link) return reject(why);
        link->request_digest = digest;
        link->accept_pdu = *pdu;
        link->accepted_at = now;
        if (cfg.mode == Mode::hardened) {
            // Key confirmation: established once a PDU from the source verifies (seed 001 has
            // no third message; docs/solution-b.md "Key confirmation").
            link->confirmed = false;
            link->confirm_deadline = now + cfg.key_confirmation_timeout;
        }

        // Commit: the replay cache, the link (replacing one of the same id), the accept.
        if (!replay_key.empty()) remember_nonce(replay_key, now);
        log_keys(*link, *keys, m.nonce_1, n2);
        if (link->confirmed) events.push_back(pc5::LinkEstablished{link->summary});
        std::erase_if(links, [&](const Link& l) { return l.summary.id == id; });
        links.push_back(std::move(*link));
        send(f.src, pc5::lcid::kSrb0, MessageType::establishment_accept, std::move(*pdu));
    }

    // Literal mode has no nonces: the signatures' digests are the only per-run values.
    static std::vector<std::uint8_t> freshness(const std::optional<Nonce>& nonce,
                                               std::span<const std::uint8_t> signature) {
        if (nonce) return {nonce->begin(), nonce->end()};
        const auto d = sha256_of(signature);
        return {d.begin(), d.begin() + 16};
    }

    void expire_replay_cache(Time now) {
        while (!replay_order.empty() && (replay_order.front().expires <= now ||
                                         replay_order.size() > cfg.replay_cache_capacity)) {
            auto it = replay_cache.find(replay_order.front().key);
            if (it != replay_cache.end() && it->second == replay_order.front().expires)
                replay_cache.erase(it);
            replay_order.pop_front();
        }
    }
    void remember_nonce(const std::string& key, Time now) {
        const Time expires = now + cfg.replay_cache_lifetime;
        replay_cache[key] = expires;
        replay_order.push_back(ReplayEntry{key, expires});
        expire_replay_cache(now);
    }

    // ---- relay: steps 6-7 ----

    void relay_accept(const pc5::Frame& f, const codec::DirectLinkEstablishmentAccept& m,
                      Time now) {
        auto it = std::find_if(sessions.begin(), sessions.end(), [&](const Session& s) {
            return s.state == Session::State::pending && s.target_l2 == f.src && s.seq == m.seq;
        });
        if (it == sessions.end())
            return drop(pc5::DropReason::unexpected, "accept for no request this relay forwarded");
        Session& s = *it;
        Refusal why{Cause::protocol_error_unspecified, ""};
        auto reject = [&](Refusal r) {
            // The relay refuses: both ends hear it (the target has already installed keys).
            send_reject(s.source_l2, s.seq, r.cause);
            send_reject(s.target_l2, s.seq, r.cause);
            failed(s.id, s.target, r, false, now);
            sessions.erase(it);
        };
        // Seed 001 step 5: the accept carries the target's Authentication_Info.
        if (!m.authentication_info || m.relay_authentication_info)
            return reject(refuse(Cause::authentication_failure,
                                 "accept without the target's Authentication_Info alone"));
        const auto& tinfo = *m.authentication_info;
        // Seed 001 step 6: verify SIGN-Target with the target's key (hardened: certificate).
        auto tgt = check_info(tinfo, now, why, "target");
        if (!tgt) return reject(why);
        if (as_string(tinfo.user_info_id) != s.target || as_string(m.source_user_info) != s.target)
            return reject(refuse(Cause::authentication_failure,
                                 "accept from another UE than the requested target"));
        std::optional<wire::HardenedContext> ctx = s.context;
        if (ctx && !cfg.tamper.ignore_authorisation) {
            // docs/credentials.md: the target must be an end UE (#1) that may be reached
            // through this relay for the RSC (#11).
            if (auto st = creds::may_be_peer(*tgt->peer, "target"); !st)
                return reject(
                    refuse(st.error(), Cause::direct_communication_not_allowed, "authorisation"));
            if (auto st = creds::may_use_relay(*tgt->peer, *self, s.rsc, "target", "relay"); !st)
                return reject(
                    refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
        }
        if (ctx) {
            if (!tinfo.nonce || !tinfo.ephemeral_public_key)
                return reject(refuse(Cause::authentication_failure,
                                     "hardened accept without nonce or ephemeral key"));
            ctx->nonce_2 = *tinfo.nonce;
        }
        auto body = wire::body(m);
        if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
        const auto tbs_t =
            wire::to_be_signed(cfg.mode, MessageType::establishment_accept, wire::Signer::target,
                               *body, tinfo, ctx ? &*ctx : nullptr);
        if (!check_signature(tgt->key, tbs_t, tinfo.signature, why, "SIGN-Target"))
            return reject(why);

        if (!step0(now, why)) return reject(why);
        // Seed 001 steps 6-7: sign the accept and the relay's own info; forward both.
        codec::DirectLinkEstablishmentAccept out = m;
        if (cfg.tamper.phase == Tamper::Phase::before_sign && cfg.tamper.on_accept)
            cfg.tamper.on_accept(out);
        auto out_body = wire::body(out);
        if (!out_body)
            return reject(refuse(out_body.error(), Cause::protocol_error_unspecified, "body"));
        const auto& oinfo = out.authentication_info ? *out.authentication_info : tinfo;
        if (ctx && oinfo.nonce) ctx->nonce_2 = *oinfo.nonce;
        codec::AuthenticationInfo rinfo = own_info();
        if (cfg.mode == Mode::hardened) rinfo.signing_time = wall_ms(now);
        const auto tbs = wire::to_be_signed(cfg.mode, MessageType::establishment_accept,
                                            wire::Signer::relay, *out_body, oinfo,
                                            ctx ? &*ctx : nullptr, oinfo.signature.bytes, &rinfo);
        auto sig = sign_tbs(tbs);
        if (!sig) return reject(refuse(Cause::protocol_error_unspecified, "sign: SIGN2-relay"));
        rinfo.signature = octets(*sig);
        out.relay_authentication_info = rinfo;
        if (cfg.tamper.phase == Tamper::Phase::after_sign && cfg.tamper.on_accept)
            cfg.tamper.on_accept(out);
        auto pdu = codec::encode(out);
        if (!pdu) return reject(refuse(pdu.error(), Cause::protocol_error_unspecified, "encode"));
        s.state = Session::State::established;
        s.forwarded_accept = *pdu;
        // Refreshed by every frame it forwards. Hardened: a route no protected frame has used
        // goes with the target's key confirmation timeout (the source confirms at once).
        s.expires = now + (cfg.mode == Mode::hardened
                               ? cfg.key_confirmation_timeout + retransmission_window()
                               : cfg.route_idle_timeout);
        counters.frames_forwarded++;
        send(s.source_l2, pc5::lcid::kSrb0, MessageType::establishment_accept, std::move(*pdu));
    }

    // ---- source: step 8 ----

    void source_accept(const pc5::Frame& f, const codec::DirectLinkEstablishmentAccept& m,
                       Time now) {
        auto it = std::find_if(pending.begin(), pending.end(), [&](const Pending& p) {
            return p.relay_l2 == f.src && p.seq == m.seq;
        });
        if (it == pending.end())
            return drop(pc5::DropReason::unexpected, "accept for no pending request");
        Pending& p = *it;
        Refusal why{Cause::protocol_error_unspecified, ""};
        auto reject = [&](Refusal r) {
            // The source refuses the accept: the relay and the target hear it.
            send_reject(p.relay_l2, p.seq, r.cause);
            failed(p.id, p.target, r, false, now);
            pending.erase(it);
        };
        // Seed 001 step 7: the accept carries the target's and the relay's Authentication_Info.
        if (!m.authentication_info || !m.relay_authentication_info)
            return reject(refuse(Cause::authentication_failure,
                                 "accept without both Authentication_Info (seed 001 step 7)"));
        const auto& tinfo = *m.authentication_info;
        const auto& rinfo = *m.relay_authentication_info;
        // Seed 001 step 8: the target's key (hardened: certificate) ...
        auto tgt = check_info(tinfo, now, why, "target");
        if (!tgt) return reject(why);
        // ... belongs to the target we asked for.
        if (as_string(tinfo.user_info_id) != p.target || as_string(m.source_user_info) != p.target)
            return reject(refuse(Cause::authentication_failure,
                                 "accept from another UE than the requested target"));
        auto rel = check_info(rinfo, now, why, "relay");
        if (!rel) return reject(why);
        std::optional<wire::HardenedContext> ctx;
        std::optional<PublicKey> eph_peer;
        if (cfg.mode == Mode::hardened) {
            if (auto st = creds::check_target_user_info(*tgt->peer, p.target, "target"); !st)
                return reject(refuse(st.error(), Cause::authentication_failure, "target"));
            if (auto st = creds::may_be_peer(*tgt->peer, "target"); !st)
                return reject(
                    refuse(st.error(), Cause::direct_communication_not_allowed, "authorisation"));
            if (rel->peer->user_info_id != p.relay)
                return reject(refuse(Cause::authentication_failure,
                                     "accept signed by another relay than the one selected"));
            // The relay serves the RSC, and the target may be reached through it for it (#11).
            if (auto st = creds::may_use_relay(*tgt->peer, *rel->peer, p.rsc, "target", "relay");
                !st)
                return reject(
                    refuse(st.error(), Cause::required_service_not_allowed, "authorisation"));
            if (!tinfo.nonce || !tinfo.ephemeral_public_key)
                return reject(refuse(Cause::authentication_failure,
                                     "hardened accept without nonce or ephemeral key"));
            auto pe = PublicKey::from_encoded(kEphemeralKeyType, tinfo.ephemeral_public_key->bytes);
            if (!pe)
                return reject(
                    refuse(pe.error(), Cause::authentication_failure, "target ephemeral key"));
            eph_peer.emplace(std::move(*pe));
            ctx = wire::HardenedContext{cfg.user_info, p.target,     p.relay,         p.rsc,
                                        *p.nonce_1,    *tinfo.nonce, p.request_digest};
        }
        auto body = wire::body(m);
        if (!body) return reject(refuse(body.error(), Cause::protocol_error_unspecified, "body"));
        // Seed 001 step 8: verify SIGN-Target and SIGN2-relay.
        const auto tbs_t =
            wire::to_be_signed(cfg.mode, MessageType::establishment_accept, wire::Signer::target,
                               *body, tinfo, ctx ? &*ctx : nullptr);
        if (!check_signature(tgt->key, tbs_t, tinfo.signature, why, "SIGN-Target"))
            return reject(why);
        const auto tbs_r =
            wire::to_be_signed(cfg.mode, MessageType::establishment_accept, wire::Signer::relay,
                               *body, tinfo, ctx ? &*ctx : nullptr, tinfo.signature.bytes, &rinfo);
        if (!check_signature(rel->key, tbs_r, rinfo.signature, why, "SIGN2-relay"))
            return reject(why);
        // The target's algorithm choice must be one we offered.
        if (!tinfo.selected_algorithms)
            return reject(refuse(Cause::ue_security_capabilities_mismatch,
                                 "accept without selected algorithms"));
        const auto c = static_cast<CipheringAlgorithm>(tinfo.selected_algorithms->ciphering);
        const auto i = static_cast<IntegrityAlgorithm>(tinfo.selected_algorithms->integrity);
        if (std::find(cfg.ciphering.begin(), cfg.ciphering.end(), c) == cfg.ciphering.end() ||
            std::find(cfg.integrity.begin(), cfg.integrity.end(), i) == cfg.integrity.end() ||
            i == IntegrityAlgorithm::nia0)
            return reject(refuse(Cause::ue_security_capabilities_mismatch,
                                 "selected algorithms were not offered"));
        // Seed 001 step 8: KD from our private key and the target's public key.
        const auto f1 = freshness(p.nonce_1, p.source_signature);
        const auto f2 = freshness(tinfo.nonce, tinfo.signature.bytes);
        auto keys =
            derive(tgt->key, p.ephemeral ? &*p.ephemeral : nullptr, eph_peer ? &*eph_peer : nullptr,
                   f1, f2, cfg.user_info, p.target, c, i, why);
        if (!keys) return reject(why);
        auto link = make_link(p.id, p.target, true, p.relay_l2, p.seq, key_id_of(p.tag), c, i,
                              *keys, p.started, now, why);
        if (!link) return reject(why);
        log_keys(*link, *keys, p.nonce_1, tinfo.nonce);
        events.push_back(pc5::LinkEstablished{link->summary});
        std::erase_if(links, [&](const Link& l) { return l.summary.id == p.id; });
        links.push_back(std::move(*link));
        pending.erase(it);
        // Hardened key confirmation: show the target at once that this UE holds KD.
        if (cfg.mode == Mode::hardened) send_confirmation(links.back(), now);
    }

    // ---- rejects along the path ----

    // An ESTABLISHMENT REJECT is unprotected: anyone on the air can send `03 <seq> <cause>`
    // under any L2 ID. It never removes or changes anything by itself (docs/solution-b.md
    // "Unprotected rejects"): the relay passes one on for a request still pending and keeps its
    // state, an established route ignores it, the source believes only a reject it hears again
    // after asking once more, and the target's unconfirmed link ends only by its timer.
    void relay_reject(const pc5::Frame& f, const codec::DirectLinkEstablishmentReject& m) {
        auto it = std::find_if(sessions.begin(), sessions.end(), [&](const Session& s) {
            return s.seq == m.seq && (s.target_l2 == f.src || s.source_l2 == f.src);
        });
        if (it == sessions.end())
            return drop(pc5::DropReason::unexpected, "reject for no request this relay forwarded");
        if (it->state == Session::State::established)
            return drop(pc5::DropReason::unexpected,
                        "unprotected reject for an established route (ignored: anyone can forge "
                        "one)",
                        it->id);
        const pc5::L2Id to = it->target_l2 == f.src ? it->source_l2 : it->target_l2;
        counters.frames_forwarded++;
        send(to, pc5::lcid::kSrb0, MessageType::establishment_reject, f.pdu);
    }

    void end_reject(const pc5::Frame& f, const codec::DirectLinkEstablishmentReject& m, Time now) {
        auto it = std::find_if(pending.begin(), pending.end(), [&](const Pending& p) {
            return p.relay_l2 == f.src && p.seq == m.seq;
        });
        if (it != pending.end()) {
            if (!it->unconfirmed_reject) {
                // Ask once more at once: a genuine refusal comes again, a forged one does not
                // stop the genuine accept.
                it->unconfirmed_reject = m.cause;
                counters.retransmissions++;
                send(it->relay_l2, pc5::lcid::kSrb0, MessageType::establishment_request, it->pdu);
                return drop(pc5::DropReason::unexpected,
                            fmt::format("unprotected reject #{}: asked again to confirm it",
                                        static_cast<unsigned>(m.cause)),
                            it->id);
            }
            failed(it->id, it->target,
                   refuse(m.cause, fmt::format("rejected with cause #{} (heard twice)",
                                               static_cast<unsigned>(m.cause))),
                   true, now);
            pending.erase(it);
            return;
        }
        // Target: a reject of our accept. Hardened, the unconfirmed link ends by its timer (the
        // reject's cause is reported then); literal, the link stays (the seed's weakness: the
        // target cannot tell whether the source holds KD).
        auto lt = std::find_if(links.begin(), links.end(), [&](const Link& l) {
            return !l.summary.initiator && !l.confirmed && l.relay_l2 == f.src && l.seq == m.seq;
        });
        if (lt != links.end()) lt->reject_heard = m.cause;
        return drop(pc5::DropReason::unexpected,
                    "unprotected reject (ignored: anyone can forge one; an unconfirmed link ends "
                    "by its key confirmation timer)",
                    lt != links.end() ? lt->summary.id : std::string{});
    }

    // ---- protected PC5-S end to end ----

    void forward_protected(const pc5::Frame& f, Time now) {
        auto h = pdcp::peek_header(f.pdu);
        if (!h) return drop(pc5::DropReason::malformed, h.error().describe());
        for (auto& s : sessions) {
            if (s.state != Session::State::established || s.key_id != h->knrp_sess_id) continue;
            if (s.source_l2 != f.src && s.target_l2 != f.src) continue;
            counters.frames_forwarded++;
            s.expires = now + cfg.route_idle_timeout;
            const pc5::L2Id to = s.source_l2 == f.src ? s.target_l2 : s.source_l2;
            tx.push_back(pc5::Frame{cfg.l2_id, to, f.lcid, f.pdu});
            counters.frames_sent++;
            counters.bytes_sent += f.pdu.size();
            return;
        }
        drop(pc5::DropReason::not_for_us, "no route for this KNRP-sess ID");
    }

    void send_protected(Link& l, const codec::Message& m) {
        auto bytes = codec::encode(m);
        if (!bytes) return;
        auto pdu = l.ctx->protect(kE2eBearer, *bytes);
        if (!pdu) return;  // COUNT would wrap: nothing is sent
        send(l.relay_l2, pc5::lcid::kEndToEnd, codec::message_type(m), std::move(*pdu));
        if (cfg.capture) {
            auto c = std::make_shared<pc5::FrameCapture>();
            c->link_id = l.summary.id;
            c->from_initiator = l.summary.initiator;
            c->integrity = l.ctx->integrity() != IntegrityAlgorithm::nia0;
            c->ciphered = l.ctx->ciphering() != CipheringAlgorithm::nea0;
            c->via_relay = true;
            c->message = std::move(*bytes);
            tx.back().capture = std::move(c);
        }
    }

    void receive_protected(const pc5::Frame& f, Time now) {
        auto h = pdcp::peek_header(f.pdu);
        if (!h) return drop(pc5::DropReason::malformed, h.error().describe());
        auto it = std::find_if(links.begin(), links.end(), [&](const Link& l) {
            return l.relay_l2 == f.src && l.ctx && l.ctx->id() == h->knrp_sess_id;
        });
        if (it == links.end())
            return drop(pc5::DropReason::unknown_session, "no link with this KNRP-sess ID");
        auto plain = it->ctx->unprotect(kE2eBearer, f.pdu);
        if (!plain) {
            const bool replay = plain.error().field == "pdcp.count";
            return drop(replay ? pc5::DropReason::replay : pc5::DropReason::bad_mac,
                        plain.error().describe(), it->summary.id);
        }
        auto decoded = codec::decode(*plain);
        if (!decoded)
            return drop(pc5::DropReason::malformed, decoded.error().describe(), it->summary.id);
        const auto type = codec::message_type(*decoded);
        counters.received_messages[type]++;
        if (!transition_allowed(cfg.role, f.lcid, type))
            return drop(pc5::DropReason::unexpected,
                        fmt::format("{} not expected end to end", codec::message_name(type)),
                        it->summary.id);
        it->last_alive = now;
        if (!it->confirmed) {
            // Key confirmation: the source holds KD. Now the link is established.
            it->confirmed = true;
            it->confirm_deadline = pc5::kNever;
            it->summary.established = now;
            events.push_back(pc5::LinkEstablished{it->summary});
        }
        if (const auto* rr = std::get_if<codec::DirectLinkReleaseRequest>(&*decoded)) {
            // TS 24.554 release: answer, report, wipe.
            codec::DirectLinkReleaseAccept ra;
            ra.seq = rr->seq;
            send_protected(*it, ra);
            events.push_back(
                pc5::LinkReleased{it->summary.id, it->summary.peer, rr->cause, true, now});
            links.erase(it);
        } else if (std::holds_alternative<codec::DirectLinkReleaseAccept>(*decoded)) {
            if (it->releasing) links.erase(it);
        } else if (const auto* ka = std::get_if<codec::DirectLinkKeepaliveRequest>(&*decoded)) {
            codec::DirectLinkKeepaliveResponse resp;
            resp.seq = ka->seq;
            resp.keepalive_counter = ka->keepalive_counter;
            send_protected(*it, resp);
        } else if (const auto* kr = std::get_if<codec::DirectLinkKeepaliveResponse>(&*decoded)) {
            if (it->awaiting != 0 && kr->keepalive_counter == it->awaiting) {
                it->awaiting = 0;  // answered: the peer is there (and, first, holds KD)
                it->answer_deadline = pc5::kNever;
                it->probe_tries = 0;
            }
        }
    }

    // A protected KEEPALIVE REQUEST end to end, waiting `wait` for its response. Hardened key
    // confirmation, source side: the first one, right after step 8 (TS 24.554 keep-alive,
    // reused: no new message), on t5080; then the liveness probes, on t_keepalive.
    void send_probe(Link& l, Time now, Time wait) {
        codec::DirectLinkKeepaliveRequest ka;
        ka.seq = rng->next_u8();
        ka.keepalive_counter = ++l.keepalive_counter;
        l.awaiting = ka.keepalive_counter;
        l.answer_wait = wait;
        l.answer_deadline = now + wait;
        send_protected(l, ka);
    }
    void send_confirmation(Link& l, Time now) {
        l.probe_tries = 0;
        send_probe(l, now, cfg.t5080);
    }
    Time keepalive_due(const Link& l) const {
        if (cfg.keepalive_interval <= Time::zero() || !l.confirmed || l.releasing || l.awaiting)
            return pc5::kNever;
        return l.last_alive + cfg.keepalive_interval;
    }

    // Releases one link: a protected RELEASE REQUEST, then only its security context is kept,
    // for the release accept, until t5080.
    void release(Link& l, Cause cause, Time now) {
        codec::DirectLinkReleaseRequest rr;
        rr.seq = rng->next_u8();
        rr.cause = cause;
        send_protected(l, rr);
        events.push_back(pc5::LinkReleased{l.summary.id, l.summary.peer, rr.cause, false, now});
        l.releasing = true;
        l.awaiting = 0;
        l.answer_deadline = pc5::kNever;
        l.release_deadline = now + cfg.t5080;
    }

    // ---- timers ----

    Time next_timeout() const {
        Time t = pc5::kNever;
        for (const auto& p : pending)
            t = std::min(t, p.next);
        for (const auto& s : sessions)
            t = std::min(t, s.expires);
        for (const auto& l : links) {
            if (l.releasing) t = std::min(t, l.release_deadline);
            t = std::min({t, l.confirm_deadline, l.answer_deadline, keepalive_due(l)});
        }
        return t;
    }

    void handle_timeout(Time now) {
        for (auto it = pending.begin(); it != pending.end();) {
            if (it->next > now) {
                ++it;
                continue;
            }
            if (it->retransmissions >= cfg.max_retransmissions) {
                // T5080 expired after the last retransmission: give up.
                failed(it->id, it->target,
                       refuse(Cause::direct_connection_not_available,
                              fmt::format("T5080 expired {} times: no accept",
                                          it->retransmissions + 1)),
                       false, now);
                it = pending.erase(it);
                continue;
            }
            it->retransmissions++;
            it->next = now + cfg.t5080;
            counters.retransmissions++;
            send(it->relay_l2, pc5::lcid::kSrb0, MessageType::establishment_request, it->pdu);
            ++it;
        }
        std::erase_if(sessions, [&](const Session& s) { return s.expires <= now; });
        std::erase_if(links,
                      [&](const Link& l) { return l.releasing && l.release_deadline <= now; });
        for (auto it = links.begin(); it != links.end();) {
            if (!it->confirmed && it->confirm_deadline <= now) {
                // Target: no PDU from the source verified under keys from KD: wipe the link.
                const Cause c = it->reject_heard.value_or(Cause::direct_connection_not_available);
                failed(it->summary.id, it->summary.peer,
                       refuse(c, fmt::format(
                                     "key confirmation: no protected PDU from the source "
                                     "within {} s{}",
                                     std::chrono::duration_cast<std::chrono::seconds>(
                                         cfg.key_confirmation_timeout)
                                         .count(),
                                     it->reject_heard ? " (an unprotected reject was heard)" : "")),
                       false, now);
                it = links.erase(it);
                continue;
            }
            if (it->awaiting != 0 && it->answer_deadline <= now) {
                if (it->probe_tries >= cfg.max_retransmissions) {
                    // No answer to the key confirmation or to the keep-alive: the peer is lost.
                    events.push_back(pc5::LinkReleased{it->summary.id, it->summary.peer,
                                                       Cause::direct_connection_not_available,
                                                       false, now});
                    it = links.erase(it);
                    continue;
                }
                it->probe_tries++;
                counters.retransmissions++;
                send_probe(*it, now, it->answer_wait);
            } else if (keepalive_due(*it) <= now) {
                it->probe_tries = 0;
                send_probe(*it, now, cfg.t_keepalive);
            }
            ++it;
        }
    }

    void release_all(Time now) {
        for (auto& l : links)
            if (!l.releasing) release(l, Cause::direct_communication_no_longer_needed, now);
        for (auto& p : pending)
            failed(p.id, p.target, refuse(Cause::direct_communication_no_longer_needed, "released"),
                   false, now);
        pending.clear();
    }
};

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<Engine>> Engine::create(Config config) {
    if (config.user_info.empty() || config.user_info.size() > 255)
        return make_error(Errc::invalid_argument, "user_info", "must be 1..255 octets");
    if (config.l2_id > pc5::kMaxL2Id)
        return make_error(Errc::invalid_argument, "l2_id", "a layer-2 ID has 24 bits");
    if (config.credentials) {
        if (config.mode == Mode::literal)
            return make_error(Errc::invalid_argument, "credentials",
                              "literal mode carries raw public keys (seed 001): no certificate");
        if (config.key || config.certificate || config.trust)
            return make_error(Errc::invalid_argument, "credentials",
                              "give the credential manager or key, certificate and trust, not "
                              "both");
        // Checked below like the fields they stand for; used through the manager afterwards.
        config.key = config.credentials->key();
        config.certificate = config.credentials->certificate();
        config.trust = config.credentials->trust();
    }
    if (!config.key)
        return make_error(Errc::invalid_argument, "key",
                          "a private key is required (seed 001 step 0: each UE signs)");
    if (config.key->type() == KeyType::x25519)
        return make_error(Errc::invalid_argument, "key", "an X25519 key cannot sign");
    // Seed 001 step 4: an end UE derives KD by ECDH with its long-term key.
    if (config.role == Role::end_ue && config.key->type() != KeyType::p256)
        return make_error(Errc::invalid_argument, "key",
                          fmt::format("an {} key cannot do ECDH: seed 001 step 4 derives KD from "
                                      "the end UE's private key, so it must be P-256",
                                      name(config.key->type())));
    if (config.t5080 <= Time::zero())
        return make_error(Errc::invalid_argument, "t5080", "must be positive");
    if (config.freshness_window <= Time::zero() ||
        config.freshness_window >= config.replay_cache_lifetime)
        return make_error(Errc::invalid_argument, "freshness_window",
                          "must be positive and shorter than replay_cache_lifetime (a replay "
                          "older than the window is refused as stale, a newer one by the cache)");
    if (config.key_confirmation_timeout <= Time::zero())
        return make_error(Errc::invalid_argument, "key_confirmation_timeout", "must be positive");
    if (config.role == Role::relay && config.rscs.empty())
        return make_error(Errc::invalid_argument, "rscs", "a relay serves at least one RSC");
    for (auto r : config.rscs)
        if (r > creds::kMaxRsc) return make_error(Errc::invalid_argument, "rscs", "over 24 bits");
    std::optional<creds::VerifiedPeer> self;
    if (config.mode == Mode::hardened) {
        if (!config.certificate)
            return make_error(Errc::invalid_argument, "certificate",
                              "hardened mode needs the UE's certificate");
        if (!config.trust)
            return make_error(Errc::invalid_argument, "trust",
                              "hardened mode needs a trust store (the provisioning CA)");
        PC5SEC_TRY(creds::check_key_matches(*config.key, *config.certificate, "key"));
        if (config.certificate->subject() != config.user_info)
            return make_error(Errc::invalid_argument, "certificate",
                              fmt::format("subject '{}' is not the user info '{}'",
                                          config.certificate->subject(), config.user_info));
        // What our own certificate says (checking its dates is CredentialManager's job, and a
        // peer will refuse it if it is revoked: that is what the attack tests show).
        const auto& c = *config.certificate;
        self.emplace(creds::VerifiedPeer{c.subject(), c.authorisation(), c.public_key(),
                                         c.not_before(), c.not_after(), c.serial_hex()});
    }
    if (config.mode == Mode::literal && config.certificate)
        return make_error(Errc::invalid_argument, "certificate",
                          "literal mode carries raw public keys (seed 001): no certificate");
    auto impl = std::make_unique<Impl>(std::move(config));
    impl->self = std::move(self);
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

const std::string& Engine::user_info() const noexcept {
    return impl_->cfg.user_info;
}
pc5::L2Id Engine::l2_id() const noexcept {
    return impl_->cfg.l2_id;
}
void Engine::connect(const pc5::ConnectRequest& request, Time now) {
    impl_->connect(request, now);
}
void Engine::receive(const pc5::Frame& frame, Time now) {
    impl_->receive(frame, now);
}
void Engine::handle_timeout(Time now) {
    impl_->handle_timeout(now);
}
Time Engine::next_timeout() const noexcept {
    return impl_->next_timeout();
}
std::optional<pc5::Frame> Engine::poll_transmit() {
    if (impl_->tx.empty()) return std::nullopt;
    auto f = std::move(impl_->tx.front());
    impl_->tx.pop_front();
    return f;
}
std::optional<pc5::Event> Engine::poll_event() {
    if (impl_->events.empty()) return std::nullopt;
    auto e = std::move(impl_->events.front());
    impl_->events.pop_front();
    return e;
}
void Engine::release_all(Time now) {
    impl_->release_all(now);
}
const pc5::Counters& Engine::counters() const noexcept {
    return impl_->counters;
}
Mode Engine::mode() const noexcept {
    return impl_->cfg.mode;
}
std::vector<pc5::LinkSummary> Engine::links() const {
    std::vector<pc5::LinkSummary> out;
    for (const auto& l : impl_->links)
        if (!l.releasing && l.confirmed) out.push_back(l.summary);
    return out;
}
std::optional<pc5::DataKeys> Engine::data_keys(const std::string& link_id) const {
    for (const auto& l : impl_->links) {
        if (l.summary.id != link_id || l.releasing || !l.confirmed || !l.nrpek || !l.nrpik)
            continue;
        pc5::DataKeys k;  // the end-to-end keys from KD-sess (docs/solution-b.md), via the relay
        k.link_id = l.summary.id;
        k.kind = pc5::LinkKind::e2e;
        k.peer_l2 = l.relay_l2;
        k.remote_local_id = 0;  // no SRAP: the relay routes by (sender L2 ID, KNRP-sess ID)
        k.initiator = l.summary.initiator;
        k.knrp_sess_id = l.summary.knrp_sess_id;
        k.ciphering = l.summary.ciphering;
        k.integrity = l.summary.integrity;
        k.nrpek = *l.nrpek;
        k.nrpik = *l.nrpik;
        return k;
    }
    return std::nullopt;
}
Status Engine::release(std::string_view link_id, Time now) {
    auto* l = impl_->find_link(link_id);
    if (!l || l->releasing)
        return make_error(Errc::state, "link_id", fmt::format("no link '{}'", link_id));
    impl_->release(*l, Cause::direct_communication_no_longer_needed, now);
    return {};
}
Status Engine::send_keepalive(std::string_view link_id, Time) {
    auto* l = impl_->find_link(link_id);
    if (!l || l->releasing)
        return make_error(Errc::state, "link_id", fmt::format("no link '{}'", link_id));
    codec::DirectLinkKeepaliveRequest ka;
    ka.seq = impl_->rng->next_u8();
    ka.keepalive_counter = ++l->keepalive_counter;
    impl_->send_protected(*l, ka);
    return {};
}

}  // namespace pc5sec::sigauth
