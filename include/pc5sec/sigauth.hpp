// Solution B (seed 001, TR 33.740 KI#2): signature-based establishment of a source-to-target
// link through a UE-to-UE relay, as a sans-I/O engine (pc5::Endpoint). See docs/solution-b.md.
//
//   source --DCR + Auth_Info(S)-------------------> relay        steps 1-2
//   relay  --DCR + Auth_Info(S) + Auth_Info(R)----> target       steps 3-4  (target derives KD)
//   target --Accept + Auth_Info(T)----------------> relay        steps 5-6
//   relay  --Accept + Auth_Info(T) + Auth_Info(R)-> source       steps 7-8  (source derives KD)
//
// Two modes, per UE:
//   literal   exactly the seed: raw public keys, signatures over the messages, KD = static ECDH.
//   hardened  (default) certificates bind keys to identities and ProSe authorisations;
//             signatures cover both nonces, the three identities, the RSC and the message type;
//             an ephemeral X25519 exchange on top of the static ECDH gives forward secrecy; the
//             target keeps a replay cache.
// After KD both ends derive KD-sess (pc5sec's own FC 0xB1) and NRPEK/NRPIK from it with the
// TS 33.536 A.3 derivation, and protect PC5-S end to end (pdcp::SecurityContext) through the
// relay, which routes by L2 ID and the KNRP-sess ID's LSB and never holds KD. Re-keying end to
// end gives a fresh KD-sess (Engine::rekey); a source with no relay given discovers one.
// Through a layer-3 relay (ConnectRequest::path l3, signed into the request) each end also gets a
// hop link to the relay, keyed from ephemeral keys signed in steps 1-8; the user plane carries
// the end-to-end PDUs inside IPv6 packets on it (DataKeys::carrier). docs/solution-b.md "The
// layer-3 path".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/asymmetric.hpp"
#include "pc5sec/creds.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/error.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/keys.hpp"
#include "pc5sec/messages.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/policy.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/rng.hpp"

namespace pc5sec::sigauth {

enum class Mode : std::uint8_t { literal, hardened };
const char* name(Mode m) noexcept;  // "literal", "hardened"
Result<Mode> mode_from_name(std::string_view text, std::string_view field = "mode");
pc5::Solution solution_of(Mode m) noexcept;

// The UE's role in the protocol: pc5::UeRole, the one role enum of both engines.
using Role = pc5::UeRole;

// pc5sec's own FC values for solution B, provisional (the seed defines no derivation past KD),
// written with all the others in pc5sec::fc (kdf.hpp); docs/solution-b.md lists them.
namespace fc {
using pc5sec::fc::kKd;           // hardened KD from the static and ephemeral ECDH
using pc5sec::fc::kKdHop;        // layer-3 path: a hop's key from an ephemeral ECDH
using pc5sec::fc::kKdSess;       // KD-sess from KD and the two freshness values
using pc5sec::fc::kKdSessRekey;  // re-keying: KD-sess' from KD, fresh nonces
using pc5sec::fc::kRelayHopKey;  // layer-3 path: the relay's ephemeral key
}  // namespace fc

// What literal mode leaves out on purpose (seed 001 as written), said wherever it runs
// (`pc5sec establish`, `pc5sec simulate`), not only in docs/solution-b.md.
inline constexpr std::string_view kLiteralModeNote =
    "B-literal is seed 001 as written, its gaps kept on purpose: raw public keys (no certificate: "
    "no identity binding, no authorisation of any party, a key from anyone is trusted), no "
    "freshness (a recorded request is accepted again), no key confirmation (the target reports "
    "the link established at step 5)";

// The ephemeral key type of the hardened mode.
inline constexpr KeyType kEphemeralKeyType = KeyType::x25519;

// A relay's misbehaviour, for attack tests and the simulator's attack scenarios (and a rogue end
// UE's: `on_request` edits its own request before it signs it). An honest UE leaves them empty. The
// hooks run after the relay verified the incoming message: `before_sign` edits what the relay then
// signs honestly (only the end UE's signature can catch it); `after_sign` edits the message after
// the relay signed it (the relay's signature catches it). Octets the hooks put in must point to
// storage that outlives the engine's call.
struct Tamper {
    enum class Phase : std::uint8_t { before_sign, after_sign };
    Phase phase = Phase::before_sign;
    std::function<void(codec::DirectLinkEstablishmentRequest&)> on_request;
    std::function<void(codec::DirectLinkEstablishmentAccept&)> on_accept;
    // Forward requests whatever the certificates say about the RSC (a relay lying about its
    // authorisation: the end UEs must catch it, cause #11).
    bool ignore_authorisation = false;
    // Seed 001's literal-mode man in the middle: the relay puts its own public key (literal) or
    // certificate (hardened) in place of each end UE's, in the request and in the accept, and
    // signs each anew as that end UE with its own key before it signs as the relay. Literal mode
    // binds no name to a key, so each end derives KD with the relay's key; hardened mode's
    // certificate names the relay, not the end UE (#6).
    bool substitute_end_keys = false;
};

struct Config {
    Role role = Role::end_ue;
    std::string user_info;  // this UE's User Info ID (the certificate subject in hardened mode)
    pc5::L2Id l2_id = 0;
    Mode mode = Mode::hardened;
    // Long-term credentials (seed 001 step 0). An end UE's key must be P-256: KD comes from ECDH
    // with it (step 4). Hardened mode also needs the certificate and the trust store.
    std::optional<PrivateKey> key;
    std::optional<creds::Certificate> certificate;
    std::optional<creds::TrustStore> trust;
    // Or (hardened) solution A's CredentialManager: then key, certificate and trust come from
    // it, and before each signature (step 0) an expired certificate is renewed in coverage or,
    // out of coverage, the UE refuses with #6 and sends nothing (as solution A does).
    std::shared_ptr<creds::CredentialManager> credentials;
    bool in_coverage = true;
    creds::VerificationCache* cache = nullptr;  // optional, may be shared between engines
    // Relay: the RSCs it serves. End UE: the RSCs it may use (empty: any its certificate allows).
    std::vector<std::uint32_t> rscs;
    Rng* rng = nullptr;                 // nullptr: system_rng()
    pc5::KeyLogSink* keylog = nullptr;  // where established keys are reported, if anywhere
    // Attach a pc5::FrameCapture (the PC5-S message before protection) to each protected frame
    // sent, for a driver that writes a capture (trace::CaptureRecorder).
    bool capture = false;
    // The UEs this UE can hear, as PC5 discovery told it (user info ID -> L2 ID). A relay finds
    // the target named by the Target User Info here.
    std::map<std::string, pc5::L2Id> directory;
    // Seed 001 step 0, "the source has selected a relay", with solution A's discovery machinery
    // (pc5sec/discovery.hpp): a source whose ConnectRequest names no relay_l2 solicits one
    // (Model B) every `t_discovery`, `max_retransmissions` times again, or listens as long for an
    // announcement (Model A), then fails #4. A relay answers a solicitation for an RSC it serves
    // and a target in its directory, at most `discovery_answers_per_second`, and announces each
    // of its RSCs every `announce_interval` (Model A). Protected under `discovery_material` (per
    // RSC, from step 0) as TS 33.503 protects relay discovery; open for an RSC without material.
    // A relay that lies is caught by the signatures of steps 4 and 8 too.
    discovery::Model discovery = discovery::Model::b;
    std::vector<discovery::Material> discovery_material;
    pc5::Time t_discovery = std::chrono::seconds(1);
    pc5::Time announce_interval = std::chrono::seconds(1);
    unsigned discovery_answers_per_second = 50;
    // The wall-clock time at pc5::Time 0, for certificate validity (engines read no clock).
    creds::TimePoint wall_clock_at_zero{};
    pc5::Time t5080 = std::chrono::seconds(8);  // retransmission of the request (3gpp-facts §3)
    unsigned max_retransmissions = 3;
    // Hardened target: how long and how many request nonces the replay cache keeps.
    pc5::Time replay_cache_lifetime = std::chrono::hours(1);
    std::size_t replay_cache_capacity = 4096;
    // Hardened freshness (docs/solution-b.md "Freshness"): every Authentication_Info carries its
    // signer's clock (signing_time, signed). A request whose source or relay signed it more than
    // `freshness_window` before or after this UE's clock is refused as stale (or from the
    // future), however long ago it was recorded: a replay cannot be waited out past the replay
    // cache, whose lifetime must be longer than the window. Clock assumption: out of coverage,
    // UEs' clocks drift apart; the largest drift tolerated is freshness_window minus the
    // request's time on the air (t5080 x max_retransmissions, its last retransmission): 4 min
    // 36 s with the defaults.
    pc5::Time freshness_window = std::chrono::minutes(5);
    // Hardened key confirmation (docs/solution-b.md "Key confirmation"): the source confirms KD
    // with a protected KEEPALIVE REQUEST as soon as it holds it (retransmitted on t5080); the
    // target holds its link as establishing until a PDU from the source verifies under keys from
    // KD, and wipes it if none does within this time.
    pc5::Time key_confirmation_timeout = std::chrono::seconds(32);
    // Keep-alive with lost-peer detection, as solution A's (TS 24.554 T5084/T5085): after
    // `keepalive_interval` (T5084) without a verified PDU from the peer, a protected KEEPALIVE
    // REQUEST end to end, answered within `t5085`, retransmitted `max_retransmissions`
    // times; then the peer is lost and the link released (LinkReleased, cause #4). 0: off.
    pc5::Time keepalive_interval = std::chrono::seconds(0);
    pc5::Time t5085 = std::chrono::seconds(5);  // TS 24.554 Table 12.3.1 (code-only): 5 s
    // T5087 (TS 24.554 Table 12.3.1, code-only: 5 s): how long a releasing end keeps the link's
    // security context for the peer's RELEASE ACCEPT.
    pc5::Time t5087 = std::chrono::seconds(5);
    // Relay: a route (the end-to-end link it carries) is forgotten after this long without a
    // frame to forward; the relay cannot read the end-to-end release.
    pc5::Time route_idle_timeout = std::chrono::minutes(30);
    // The link identifier update (docs/solution-b.md "Link identifier update"; TS 24.554 7.2.4
    // on each end UE's hop to the relay): T5090, the privacy timer, after which an end UE gives
    // its hop new L2 IDs, a new KNRP-sess ID and keys, and a new SRAP local UE ID, then re-keys
    // the link end to end. Each end UE runs it for its own hop. 0: only on request
    // (Engine::update_identifiers).
    pc5::Time t5090 = std::chrono::seconds(0);
    // The update's request, until the accept (and the accept, until the ack); sent
    // max_retransmissions + 1 times at most, then the relay is lost and the link released (#4).
    // The identifiers an update replaced still take frames for t_identifier_update x
    // (max_retransmissions + 2).
    pc5::Time t_identifier_update = std::chrono::seconds(5);
    // Relay: requests waiting for the target's accept (steps 2-3 done, 6 not yet), at most this
    // many at once; a newer one pushes out the oldest (as solution A's max_half_open). Each
    // waits at most the request's retransmission window (t5080 x (max_retransmissions + 1)), and
    // the same signed request heard from another L2 ID is refused as a replay, so a flood of
    // requests from fresh L2 IDs cannot grow a relay's memory (bench row relay-flood-b).
    std::size_t max_pending_routes = 64;
    // This UE's policy.toml (pc5sec/policy.hpp), checked as solution A checks it: algorithms,
    // most preferred first (the source advertises them as its UE security capabilities, the
    // target picks the first of its own list that the source supports), and the signalling
    // security policy (the request carries the source's; the target refuses a mismatch with #10,
    // and a required ciphering with no common algorithm with #8: the target chooses, and signs
    // its choice, as solution A's responder does). Integrity is always active in solution B: it has
    // no null-integrity mode. A relay uses none of it: it cannot read the end-to-end PC5-S.
    PolicyFile policy;
    Tamper tamper;  // relays only; see Tamper
};

// The most establishment-phase frames one link (or, at a relay, one route) may send, whatever
// the radio or an attacker does (issue 17: no livelock, no amplification; docs/solution-b.md
// "Bounds"): discovery, the request and its retransmissions, asking again after an unprotected
// reject, refusing the accept, key confirmation (source: 3n + 5 with n = max_retransmissions);
// a relay's or a target's answers to repeats and the rejects a relay passes on (2 x the re-answer
// budget 2(n + 1)). 7n + 9 = 30 with the defaults.
std::uint32_t establishment_frame_bound(const Config& c) noexcept;

class Engine final : public pc5::Endpoint {
  public:
    // Checks the configuration: errors name the field ("key", "certificate", "trust", ...).
    static Result<std::unique_ptr<Engine>> create(Config config);
    ~Engine() override;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    const std::string& user_info() const noexcept override;
    pc5::L2Id l2_id() const noexcept override;
    // Source: this solution always goes through a relay. With `request.relay_l2` (and, hardened,
    // `request.relay`: the relay's identity is signed) it asks that relay; without, it discovers
    // one first (Config::discovery). `request.path` l3 asks for the layer-3 path (hop links and
    // data inside IPv6 packets); any other value for the layer-2 path.
    void connect(const pc5::ConnectRequest& request, pc5::Time now) override;
    void receive(const pc5::Frame& frame, pc5::Time now) override;
    void handle_timeout(pc5::Time now) override;
    pc5::Time next_timeout() const noexcept override;
    std::optional<pc5::Frame> poll_transmit() override;
    std::optional<pc5::Event> poll_event() override;
    void release_all(pc5::Time now) override;
    const pc5::Counters& counters() const noexcept override;
    // The end-to-end NRPEK/NRPIK (from KD-sess) of an established link, for the user plane.
    std::optional<pc5::DataKeys> data_keys(const std::string& link_id) const override;

    Mode mode() const noexcept;
    // The established end-to-end links of this UE (a relay has none).
    std::vector<pc5::LinkSummary> links() const;
    // Sends a protected PROSE DIRECT LINK KEEPALIVE REQUEST end to end; the peer answers with a
    // protected KEEPALIVE RESPONSE. Errc::state naming "link_id" if no such link.
    Status send_keepalive(std::string_view link_id, pc5::Time now);
    // Re-keys one established link end to end (docs/solution-b.md "Re-keying"): fresh nonces
    // (hardened: and fresh ephemeral keys) give a new KD-sess, NRPEK/NRPIK and KNRP-sess ID MSB;
    // LinkRekeyed at both ends. Errc::state naming "link_id" if no such established link.
    Status rekey(std::string_view link_id, pc5::Time now);
    // The link identifier update of one established link's hop (docs/solution-b.md "Link
    // identifier update"), as T5090 starts it: new L2 IDs at both ends of the hop, a new
    // KNRP-sess ID and keys for it, a new SRAP local UE ID at the relay, then the link re-keyed
    // end to end; LinkRekeyed (identifiers_updated) for the hop and the link. Errc::state naming
    // "link_id" if no such established link, or its hop is updating already.
    Status update_identifiers(std::string_view link_id, pc5::Time now);
    // Frames to `id` are this UE's: its L2 ID, or one its hops use (new, or replaced and within
    // the grace).
    bool owns_l2(pc5::L2Id id) const noexcept override;
    // Links or routes (ids) that tried to send more than establishment_frame_bound() frames
    // while establishing (at most 64 are named): empty unless something is wrong. The simulator
    // checks it on every run.
    const std::vector<std::string>& links_over_frame_bound() const noexcept;
    // The most establishment-phase frames this engine sent for one link or route so far.
    std::uint32_t max_establishment_frames() const noexcept;
    // Relay: the routes it holds, pending (waiting for the accept) and routed; at most
    // Config::max_pending_routes pending whatever arrives.
    std::size_t route_count() const noexcept;
    // Releases one established link (TS 24.554 release: a protected RELEASE REQUEST end to end;
    // the peer answers RELEASE ACCEPT). Errc::state naming "link_id" if no such link.
    Status release(std::string_view link_id, pc5::Time now);

  private:
    struct Impl;
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// ---- what each signature covers (docs/solution-b.md), exposed for tests and tools ----
namespace wire {

enum class Signer : std::uint8_t { source = 1, relay = 2, target = 3 };

// The message without either Authentication_Info IE, re-encoded: "the Authentication Request
// (Response) message" that the seed's signatures cover. Errors are the codec's.
Result<std::vector<std::uint8_t>> body(const codec::DirectLinkEstablishmentRequest& m);
Result<std::vector<std::uint8_t>> body(const codec::DirectLinkEstablishmentAccept& m);
// An Authentication_Info without its signature item: version, then every other item as on the
// wire (tag, 2-octet length, value) in tag order.
std::vector<std::uint8_t> unsigned_info(const codec::AuthenticationInfo& info);

// The hardened mode's context, which every hardened signature covers.
struct HardenedContext {
    std::string source, target, relay;  // User Info IDs
    std::uint32_t rsc = 0;
    Nonce nonce_1{};
    std::optional<Nonce> nonce_2;                   // accept only
    std::array<std::uint8_t, 32> request_digest{};  // accept only: SHA-256(request body || info_S)
};

// To-be-signed octets.
//   literal, end UE:  body || unsigned_info(own)
//   literal, relay:   body || unsigned_info(end UE) || unsigned_info(relay)
//   hardened:         "pc5sec/sigauth/hardened/v1" || message type || signer || context
//                     || lv(body) || lv(unsigned_info(end UE)) [relay: || lv(end UE signature)
//                     || lv(unsigned_info(relay))]
// `end_ue_signature` and `relay_info` are used for the relay's signature only.
std::vector<std::uint8_t> to_be_signed(Mode mode, codec::MessageType type, Signer signer,
                                       std::span<const std::uint8_t> body,
                                       const codec::AuthenticationInfo& end_ue_info,
                                       const HardenedContext* context,
                                       std::span<const std::uint8_t> end_ue_signature = {},
                                       const codec::AuthenticationInfo* relay_info = nullptr);

// SHA-256 of the request part the target's signature binds (hardened).
std::array<std::uint8_t, 32> request_digest(std::span<const std::uint8_t> request_body,
                                            const codec::AuthenticationInfo& source_info);

}  // namespace wire

}  // namespace pc5sec::sigauth
