// Solution B engine internals (seed 001), shared by the files of src/sigauth/, one job each:
//   flow.cpp       the flow table and its dispatcher (the only code that moves a state)
//   source.cpp     the source: step 1 (connect), step 8 (the accept), key confirmation
//   relay.cpp      the relay: steps 2-3 and 6-7 (verify, re-sign, forward: written once),
//                  rejects along the path, routing of protected PDUs
//   target.cpp     the target: steps 4-5, the replay cache, refused requests
//   checks.cpp     step 0 and the checks on an Authentication_Info: key, certificate,
//                  signature, freshness
//   keys.cpp       KD, KD-sess, NRPEK/NRPIK, the link they make, the key log
//   protected.cpp  PC5-S end to end under keys from KD: keep-alive, release, lost peer
//   rekey.cpp      re-keying end to end (TS 33.536 5.3.3.2 reused): a fresh KD-sess
//   identifier_update.cpp  a hop's link identifier update (TS 24.554 7.2.4), on T5090
//   discovery.cpp  step 0: the source finds its relay (Model A or B), the relay answers
//   engine.cpp     configuration, output, timers and the public Engine
// Every check names the seed step or clause it enforces. A handler computes everything into
// locals and commits state only at its end, so a refused message leaves nothing behind.
#pragma once

#include <array>
#include <bitset>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5/flow.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/pdcp.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/srap.hpp"

namespace pc5sec::sigauth {

using codec::Cause;
using codec::MessageType;
using pc5::Time;

// End-to-end SL-SRB2 through the relay (3gpp-facts §4: BEARER = 2 for SL-SRB2).
inline constexpr std::uint8_t kE2eBearer = 2;

// ---- small helpers (keys.cpp) ----

inline std::string_view as_string(const codec::Octets& o) {
    return {reinterpret_cast<const char*>(o.bytes.data()), o.bytes.size()};
}
inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline codec::Octets octets(std::span<const std::uint8_t> b) {
    return codec::Octets{b};
}
inline codec::Octets octets(std::string_view s) {
    return codec::Octets{as_bytes(s)};
}
std::array<std::uint8_t, 32> sha256_of(std::span<const std::uint8_t> data);
// Link tag (pc5::make_link_id): literal, the first 4 octets of SHA-256(SIGN-Source) (the only
// per-request value the seed has); hardened, the first 4 octets of Nonce_1.
std::uint32_t link_tag(Mode mode, std::span<const std::uint8_t> source_signature,
                       const std::optional<Nonce>& nonce_1);
// KNRP-sess ID of the end-to-end link: the tag's low 16 bits, its LSB never 0. The relay routes
// by SRAP header, and between the same two UEs by the LSB of the KNRP-sess ID; re-keying changes
// the MSB only.
KnrpSessId key_id_of(std::uint32_t tag);
// Literal mode has no nonces: the signatures' digests are the only per-run values.
std::vector<std::uint8_t> freshness(const std::optional<Nonce>& nonce,
                                    std::span<const std::uint8_t> signature);
codec::SignatureAlgorithm signature_algorithm_of(KeyType t);
std::optional<KeyType> key_type_of(codec::SignatureAlgorithm a);
std::uint8_t ea_bitmap(const std::vector<CipheringAlgorithm>& algs);
std::uint8_t ia_bitmap(const std::vector<IntegrityAlgorithm>& algs);

// A failed check: the cause to send and the reason to report.
struct Refusal {
    Cause cause = Cause::protocol_error_unspecified;
    std::string reason;
};
Refusal refuse(Cause c, std::string reason);
Refusal refuse(const Error& e, Cause fallback, std::string_view what);

// A signer whose Authentication_Info was checked: the key to verify with and, in hardened
// mode, what its certificate says.
struct CheckedSigner {
    PublicKey key;
    std::optional<creds::VerifiedPeer> peer;
};

// A received establishment message as its signatures cover it (wire::to_be_signed).
struct Signed {
    MessageType type;
    std::span<const std::uint8_t> body;       // wire::body of the message
    const codec::AuthenticationInfo& end_ue;  // the source's (request) or target's (accept)
    const codec::AuthenticationInfo* relay;   // the relay's, once it signed
    const wire::HardenedContext* context;     // hardened only
};

// Re-keying in progress (docs/solution-b.md "Re-keying"): the requester's fresh nonce and
// ephemeral key; the responder's new keys and context, used once the requester shows it has
// them too.
struct Rekeying {
    KnrpSessId next_id;  // the new KNRP-sess ID: the requester's new MSB, the same LSB
    Nonce nonce_1{};
    std::optional<PrivateKey> ephemeral;  // requester, hardened
    std::optional<pdcp::SecurityContext> ctx{};
    std::optional<Nrpek> nrpek;
    std::optional<Nrpik> nrpik;
    std::optional<KdSess> kd_sess;
    Nonce nonce_2{};
    Time deadline = pc5::kNever;
    unsigned tries = 0;
};

// Freshly derived end-to-end keys, not yet installed.
struct DerivedKeys {
    Kd kd;
    KdSess kd_sess;
    Nrpek nrpek;
    Nrpik nrpik;
};

// ---- the flow table (flow.cpp) ----

// The states of the three things the engine keeps: a source's attempt and its link, a target's
// link, a relay's route. Each has one state, moved only by the dispatcher.
enum class State : std::uint8_t {
    idle,            // just made, before its first input (connect, or a request heard)
    wait_discovery,  // source: no relay given; discovering one (step 0)
    wait_accept,     // source: request sent (step 1), T5080 running
    confirming,      // source (hardened): KD held (step 8), its key confirmation not yet answered
    unconfirmed,     // target (hardened): accept sent (step 5), no PDU from the source verified yet
    established,     // either end: KD confirmed (literal: at steps 5 and 8)
    rekey_wait_command,   // either end: REKEYING REQUEST sent, waiting for the command
    rekey_wait_complete,  // either end: SECURITY MODE COMMAND sent under the new keys
    releasing,            // either end: RELEASE REQUEST sent, waiting for RELEASE ACCEPT
    pending,              // relay: request forwarded (step 3), waiting for the target's accept
    routed,               // relay: accept forwarded (step 7), protected PDUs routed end to end
    // A hop's own machine (identifier_update.cpp), beside its link's or route's:
    hop_up,           // either end of a hop: in use, no identifier update under way
    hop_wait_accept,  // end UE: IDENTIFIER UPDATE REQUEST sent on the hop
    hop_wait_ack,     // relay: IDENTIFIER UPDATE ACCEPT sent, waiting for the ack
};
const char* name(State s) noexcept;

// The engine's protocol role on one link. Not creds::Role (what a certificate allows), not
// Config::role (what the UE is): an end UE is the source of some links and the target of others.
enum class FlowRole : std::uint8_t { source, relay, target, end_ue };
const char* name(FlowRole r) noexcept;

// How a message arrived: unprotected on SL-SRB0 (LCID 0 from the UE that sent it, or the
// relay's adaptation layer, SRAP bearer 0 on LCID 55, for what the relay forwards), or end to end
// under keys from KD (SRAP bearer 2 on LCID 55). The relay cannot read the latter; it routes
// them by their SRAP header (Local::forward).
// A hop's own PC5-S (SL-SRB2, LCID 2) goes between an end UE and the relay under the hop's
// keys: the link identifier update.
enum class Channel : std::uint8_t { srb0, e2e, hop };

enum class Local : std::uint8_t {
    connect,            // the application asks for a link (seed 001 step 1)
    timer,              // the thing's deadline passed
    confirmed,          // target: a PDU from the source verified under keys from KD
    release,            // Engine::release, release_all
    keepalive,          // Engine::send_keepalive
    rekey,              // Engine::rekey
    new_keys_used,      // re-keying: a PDU from the peer verified under the new keys
    relay_found,        // step 0: discovery found a relay for the RSC
    forward,            // relay: a protected PDU of a route it carries
    identifier_update,  // Engine::update_identifiers, or T5090 (a hop's identifiers)
    relay_lost,         // a hop's identifier update never answered: the relay is gone
};
const char* name(Local e) noexcept;

struct Input {
    bool local = false;
    Channel channel = Channel::srb0;
    codec::MessageType message{};
    Local event{};
    static constexpr Input srb0(codec::MessageType m) { return {false, Channel::srb0, m, {}}; }
    static constexpr Input e2e(codec::MessageType m) { return {false, Channel::e2e, m, {}}; }
    static constexpr Input hop(codec::MessageType m) { return {false, Channel::hop, m, {}}; }
    static constexpr Input of(Local e) { return {true, Channel::srb0, {}, e}; }
};

struct FlowRow {
    FlowRole role;
    State state;
    Input input;
    const char* step;     // the seed 001 step, or the clause, the row implements
    const char* handler;  // the function that runs it
    std::array<State, 2> next;
    std::uint8_t next_count;  // 0: the thing ends here (or stays, see `stay`)
    bool stay = false;        // it may also stay in `state` (a refused or repeated input)
};
std::span<const FlowRow> flow_table() noexcept;
// How often each row was taken in this process (for the test that walks the table).
std::span<const std::uint64_t> flow_row_hits() noexcept;

// What a handler asks of the dispatcher (pc5/flow.hpp): stay(), move_to(state) the row allows,
// or gone() because the thing is (failed, released or expired; its keys wiped).
using Next = flow::Next<State>;
using flow::gone;
using flow::move_to;
using flow::stay;

// One hop of solution B's path (docs/solution-b.md "The hops"): a PC5 link of its own between an
// end UE and the relay, keyed from the ephemeral keys both signed in steps 1-8 (seed 001 step 0:
// each UE signs and verifies). Through a layer-3 relay the user plane carries the end-to-end
// PDUs inside IPv6 packets on it; through a layer-2 relay they go beside it, in the relay's
// adaptation layer. It never holds KD.
// A link identifier update of a hop in progress (identifier_update.cpp; TS 24.554 7.2.4 on the
// hop, docs/solution-b.md "Link identifier update"): the end UE asks, the relay answers.
struct HopUpdate {
    std::uint8_t seq = 0;
    pc5::L2Id requester_l2 = 0;  // the end UE's new L2 ID on the hop
    pc5::L2Id responder_l2 = 0;  // the relay's new L2 ID on the hop (0 until the accept)
    std::uint8_t msb = 0, lsb = 0;
    Nonce nonce_1{}, nonce_2{};
    std::uint8_t local_id = srap::kUnknownUeId;  // relay: the end UE's new SRAP local UE ID
    std::vector<std::uint8_t> accept;            // relay: the ACCEPT's PDU, for a repeat
    std::shared_ptr<const pc5::FrameCapture> accept_capture;
    Time deadline = pc5::kNever;
    unsigned tries = 0;
};

struct Hop {
    pc5::LinkSummary summary;  // kind hop; target = the end-to-end link's target
    Nrpek nrpek;
    Nrpik nrpik;
    // KD-hop, then the KNRP-sess of each identifier update: the next update's input.
    KnrpSess key;
    // PC5-S on the hop itself (SL-SRB2, LCID 2) under NRPEK/NRPIK: the identifier update.
    std::optional<pdcp::SecurityContext> ctx{};
    State state = State::hop_up;
    pc5::L2Id own = 0;  // this end's L2 ID on the hop; 0 until an update (Config::l2_id)
    std::optional<HopUpdate> update{};
    // Relay: the update it took last, for a repeat of its request within the grace (its accept
    // was lost and the relay's wait ended first): answered with the same accept.
    std::optional<HopUpdate> last_update{};
    // What the last update replaced, still taken until `retired_until` (frames on their way).
    pc5::L2Id retired_own = 0, retired_peer = 0;
    std::uint8_t retired_local = srap::kUnknownUeId;  // relay: the end UE's old local UE ID
    std::optional<pdcp::SecurityContext> retired_ctx{};
    Time retired_until{};
    std::uint32_t establishment_frames = 0;  // (the dispatcher's; a hop is never establishing)
    bool gone = false;                       // (a hop goes with its link or route)
};

// ---- what the engine keeps ----

// Source: its request, from step 1 until the accept (step 8) makes the link's keys.
struct Attempt {
    std::string relay;  // the relay's User Info ID (hardened: signed)
    std::uint32_t rsc = 0, tag = 0;
    std::vector<std::uint8_t> pdu;  // the request, for T5080 retransmissions
    std::vector<std::uint8_t> source_signature;
    std::array<std::uint8_t, 32> request_digest{};
    std::optional<Nonce> nonce_1;
    std::optional<PrivateKey> ephemeral;  // hardened: KD's; and the hop's key (literal too)
    bool l3 = false;                      // through a layer-3 relay
    Time next{};                          // T5080
    unsigned retransmissions = 0;
    // Unprotected answers that could not be believed (docs/solution-b.md "Unprotected rejects",
    // issue 17): an ESTABLISHMENT REJECT (anyone can forge one) or an accept that does not
    // verify (forged, or corrupted on the air). None ends the attempt: the first makes the source
    // ask again at once, each is noted, and when T5080 runs out the attempt fails with the last
    // one's cause instead of #4.
    bool asked_again = false;
    std::optional<Refusal> last_refusal;
    bool refused_by_peer = false;  // last_refusal is a peer's reject (not the source's finding)
};

// End UE: an end-to-end link, from step 1 (source) or step 4 (target) on. Its keys exist from
// step 5 (target) or step 8 (source).
struct Link {
    State state = State::idle;
    pc5::LinkSummary summary;        // id, peer (the target, at the source), initiator, started ...
    std::optional<Attempt> attempt;  // source, until step 8
    // Source discovering its relay (step 0): what the application asked for, and the timer.
    struct Discovering {
        pc5::ConnectRequest request;
        Time deadline{};
        unsigned tries = 0;
    };
    std::optional<Discovering> discovering;
    pc5::L2Id relay_l2 = 0;
    // The peer's local UE ID at the relay (TS 38.351 SRAP), from the header of the request
    // (target) or accept (source) the relay forwarded: the destination of our end-to-end PDUs.
    std::uint8_t remote_local_id = srap::kUnknownUeId;
    bool l3 = false;       // through a layer-3 relay: data rides inside IPv6 packets on the hop
    std::uint8_t seq = 0;  // of the request that made it
    std::optional<pdcp::SecurityContext> ctx{};
    // NRPEK / NRPIK, handed to the user plane only by Engine::data_keys.
    std::optional<Nrpek> nrpek;
    std::optional<Nrpik> nrpik;
    // Target: the accept it sent, re-sent for a retransmitted request (T5080).
    std::array<std::uint8_t, 32> request_digest{};
    std::vector<std::uint8_t> accept_pdu;
    Time accepted_at{};
    unsigned reanswers = 0;  // accepts sent again for repeats (Impl::reanswer_budget at most)
    std::uint32_t establishment_frames = 0;  // sent while establishing (frame bound)
    Time release_deadline = pc5::kNever;
    std::uint32_t keepalive_counter = 0;
    // Hardened key confirmation, target: wiped at `confirm_deadline` unless a PDU from the
    // source verifies under keys from KD first.
    Time confirm_deadline = pc5::kNever;
    std::optional<Cause> reject_heard;  // target: an unprotected reject, for the report
    // A KEEPALIVE REQUEST waiting for its response (counter `awaiting`): the source's key
    // confirmation, or a liveness probe (Config::keepalive_interval). Retransmitted at
    // `answer_deadline`, `probe_tries` times at most; then the peer is lost.
    std::uint32_t awaiting = 0;
    Time answer_deadline = pc5::kNever;
    Time answer_wait{};
    unsigned probe_tries = 0;
    Time last_alive{};           // the last verified PDU from the peer (or the establishment)
    std::optional<Kd> kd;        // for re-keying (KD-sess' comes from it)
    std::bitset<256> msbs_used;  // the KNRP-sess ID MSBs this link has had (re-keying avoids them)
    std::optional<Rekeying> rekey;
    // The hop to the relay (both paths), reported (LinkEstablished) with the link and released
    // with it.
    std::optional<Hop> hop;
    bool hop_reported = false;
    // T5090 (Config::t5090): when this end next updates its hop's identifiers.
    Time privacy_deadline = pc5::kNever;
    // The far end's local UE ID before it last changed (learnt from a PDU that verified),
    // still taken until the hop's grace ends.
    std::uint8_t previous_remote_local_id = srap::kUnknownUeId;
    bool gone = false;

    FlowRole role() const { return summary.initiator ? FlowRole::source : FlowRole::target; }
    // Usable: its keys may protect data (Engine::links, data_keys).
    bool usable() const {
        return state == State::established || state == State::confirming ||
               state == State::rekey_wait_command || state == State::rekey_wait_complete;
    }
};

// Relay: one request it forwarded, then the route of the link it made.
struct Route {
    State state = State::idle;
    pc5::L2Id source_l2 = 0, target_l2 = 0;
    // The local UE IDs (TS 38.351 SRAP) this relay gave the two ends (Impl::local_ids).
    std::uint8_t source_local = srap::kUnknownUeId, target_local = srap::kUnknownUeId;
    bool l3 = false;  // a layer-3 path: the hops route IPv6 packets between them
    std::string source, target, id;
    std::uint8_t seq = 0;
    std::uint32_t rsc = 0;
    KnrpSessId key_id;
    std::array<std::uint8_t, 32> request_digest{};
    std::optional<wire::HardenedContext> context;
    std::vector<std::uint8_t> forwarded_request, forwarded_accept;
    Time requested_at{};     // a copy of the request later than its retransmissions is a replay
    unsigned reanswers = 0;  // repeats answered (Impl::reanswer_budget at most)
    unsigned rejects_passed = 0;  // unprotected rejects passed on (reanswer_budget at most)
    std::uint32_t establishment_frames = 0;  // sent while pending (frame bound)
    // The last accept the relay could not verify (forged, or corrupted on the air): dropped, the
    // route waits for the genuine one; told to the target if none comes (issue 17).
    std::optional<Refusal> last_refusal;
    // The relay's ephemeral key (signed into both messages it forwards), and from step 6 the two
    // hops (docs/solution-b.md "The hops").
    std::optional<PrivateKey> hop_ephemeral;
    std::vector<Hop> hops;
    std::vector<std::uint8_t> source_ephemeral, f1;  // for the hop to the source
    std::uint32_t tag = 0;
    Time expires = pc5::kNever;
    bool gone = false;
};

// What a relay re-signs (steps 2-3 and 6-7): the message, and what the end UE signed of it.
template <class M>
struct ToForward {
    const M& received;                        // verified: the end UE's signature is good
    const codec::AuthenticationInfo& signer;  // the end UE's Authentication_Info in it
    std::optional<wire::HardenedContext> context;
    const PrivateKey* hop_ephemeral = nullptr;  // the hops' key: signed into the relay's info
};

// ---------------------------------------------------------------------------------------------

struct Engine::Impl {
    Config cfg;
    Rng* rng = nullptr;
    pc5::Counters counters;
    std::deque<pc5::Frame> tx;
    std::deque<pc5::Event> events;
    std::optional<creds::VerifiedPeer> self;  // hardened: our own certificate (creds::own_view)
    // A relay's secret for the layer-3 path, random, in memory for the engine's life only: its
    // ephemeral key for a request is KDF(hop_seed, FC 0xB4, request digest), so every copy of
    // one request it forwards (a retransmission after its route expired, a delayed copy) carries
    // the same key, and the target's hop and the relay's always agree (docs/solution-b.md).
    std::optional<KdfOutput> hop_seed;

    std::vector<Link> links;    // end UE: as source or target
    std::vector<Route> routes;  // relay

    // Relay: the local UE ID (TS 38.351 SRAP, 1..255) of each end UE it routes for, given with
    // the UE's first route and freed with its last (sweep).
    std::map<pc5::L2Id, std::uint8_t> local_ids;
    // End UE: the SRAP header of the SL-SRB0 message being handled, if the relay forwarded it
    // through its adaptation layer (receive sets it for that dispatch only).
    const srap::Header* heard_srap = nullptr;

    // Discovery (discovery.cpp): relays heard, per RSC (a source); a relay's announcements and
    // its answers in the current one-second window.
    static constexpr std::size_t kRelaysHeard = 64;
    std::map<std::uint32_t, discovery::RelayHeard> relays_heard;
    Time next_announce{};
    discovery::AnswerBudget answers;         // Config::discovery_answers_per_second
    discovery::Security discovery_security;  // Config::discovery_material, replay cache

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
        unsigned reanswers = 0;
    };
    static constexpr std::size_t kRecentRejects = 64;
    std::deque<RecentReject> recent_rejects;

    // Parsed once (checks.cpp); parsing is not trusting.
    static constexpr std::size_t kKeyCacheSize = 256;
    std::map<std::vector<std::uint8_t>, PublicKey> key_cache;
    std::map<std::vector<std::uint8_t>, creds::Certificate> cert_cache;

    explicit Impl(Config c) : cfg(std::move(c)), rng(cfg.rng ? cfg.rng : &system_rng()) {}

    // --- flow.cpp: the one dispatcher ---
    // Finds the row of (role, state, input), runs `handler` and moves the state as it asks,
    // if the row allows it. No row: a message is dropped as unexpected, a local event ignored.
    template <class Thing, class Handler>
    void dispatch(Thing& thing, FlowRole role, Input input, Handler&& handler);
    const FlowRow* row_for(FlowRole role, State state, Input input) const;
    // Moves `state` as `next` asks, if the row allows it; a move the table does not have is
    // refused and reported.
    void apply(const FlowRow& row, State& state, Next next, const std::string& id);
    void count(const FlowRow& row);
    // An input with no row: a message is dropped as unexpected, a local event ignored.
    void unexpected(FlowRole role, State state, Input input, const std::string& id);
    static const std::string& id_of(const Link& l) { return l.summary.id; }
    static const std::string& id_of(const Route& r) { return r.id; }
    static const std::string& id_of(const Hop& h) { return h.summary.id; }

    // Establishment-phase frames (establishment_frame_bound): what send() counts them against
    // while a handler of an establishing state runs, the most on one thing, and what went over.
    std::uint32_t* counting = nullptr;
    std::uint32_t max_establishment_frames = 0;
    std::vector<std::string> over_frame_bound;
    void check_frame_bound(std::uint32_t frames, const std::string& id);

    // --- engine.cpp: output, time, plumbing ---
    Time retransmission_window() const { return cfg.t5080 * (cfg.max_retransmissions + 1); }
    // Repeats of one request answered at most: its retransmissions and the source asking once
    // more after an unprotected reject, twice over for a duplicating radio. More copies are
    // someone replaying it: dropped unanswered, so one recorded frame cannot make a relay or a
    // target transmit without bound (issue 17: no livelock, no amplification).
    unsigned reanswer_budget() const { return 2 * (cfg.max_retransmissions + 1); }
    creds::TimePoint wall(Time now) const;
    std::uint64_t wall_ms(Time now) const;  // this UE's clock as signing_time carries it
    // From `src`, or Config::l2_id when 0.
    void send(pc5::L2Id dst, std::uint8_t lcid, MessageType type, std::vector<std::uint8_t> pdu,
              pc5::L2Id src = 0);
    // The time of the input being handled (set by each public entry point): the UTC-based
    // counter of a request concealed on its way out comes from it.
    Time now_{};
    // Seed 001 steps 1, 3, 5 and 7 on the air: the identities of a request or an accept
    // concealed under its RSC (pc5sec/request_privacy.hpp; an accept's is `answer_rsc`) when this
    // UE holds its material. False: it could not be (the material expired), dropped and counted;
    // nothing goes out in clear.
    bool conceal_srb0(std::vector<std::uint8_t>& pdu);
    // The RSC an ESTABLISHMENT ACCEPT being sent is concealed under (it names none: its
    // request's), set around the send by the target and by forward_to; 0 otherwise.
    std::uint32_t answer_rsc = 0;
    void send_message(pc5::L2Id dst, const codec::Message& m);
    void send_reject(pc5::L2Id dst, std::uint8_t seq, Cause cause);
    // Through the relay's adaptation layer (TS 38.351, 3gpp-facts §4): `pdu` behind an SRAP
    // header on LCID 55.
    void send_srap(pc5::L2Id dst, srap::Header h, MessageType type,
                   std::span<const std::uint8_t> pdu, pc5::L2Id src = 0);
    // Relay: a message of one end forwarded to the other, on SL-SRB0 of their end-to-end link
    // (SRAP bearer 0 with both local UE IDs).
    void forward_to(const Route& r, bool to_target, MessageType type,
                    std::span<const std::uint8_t> pdu);
    // Relay: the local UE ID of an end UE (given on first use; kUnknownUeId when all are used).
    std::uint8_t local_id_of(pc5::L2Id ue);
    // Relay: the local UE IDs given (0 counted as used), replaced ones within their grace, and
    // those an identifier update under way has promised.
    std::array<bool, 256> local_ids_in_use() const;
    void receive_srap(const pc5::Frame& f, Time now);
    void drop(pc5::DropReason reason, std::string detail, std::string link_id = {});
    void failed(std::string id, std::string peer, const Refusal& r, bool by_peer, Time now);
    void receive(const pc5::Frame& f, Time now);
    void receive_srb0(const pc5::Frame& f, std::span<const std::uint8_t> pdu, Time now);
    void receive_message(const pc5::Frame& f, const codec::DirectLinkEstablishmentRequest& m,
                         Time now);
    void receive_message(const pc5::Frame& f, const codec::DirectLinkEstablishmentAccept& m,
                         Time now);
    void receive_message(const pc5::Frame& f, const codec::DirectLinkEstablishmentReject& m,
                         Time now);
    template <class M>
    void receive_message(const pc5::Frame& f, const M& m, Time now);
    Time next_timeout() const;
    void handle_timeout(Time now);
    void release_all(Time now);
    void release(Link& l, Time now);
    Link* find_link(std::string_view id);
    void sweep(Time now);  // removes what handlers ended (and releases their hops)

    // --- checks.cpp: step 0 and the checks on an Authentication_Info ---
    const PrivateKey& key() const;
    const creds::Certificate& certificate() const;
    const creds::TrustStore& trust() const;
    bool step0(Time now, Refusal& why);
    std::optional<creds::VerifiedPeer> verify_certificate(const creds::Certificate& cert, Time now,
                                                          Refusal& why, std::string_view who);
    Result<PublicKey> parse_public_key(KeyType type, std::span<const std::uint8_t> bytes);
    Result<creds::Certificate> parse_certificate(std::span<const std::uint8_t> der,
                                                 std::string_view who);
    std::optional<CheckedSigner> check_info(const codec::AuthenticationInfo& info, Time now,
                                            Refusal& why, std::string_view who);
    bool check_signature(const PublicKey& key, std::span<const std::uint8_t> tbs,
                         const codec::Octets& sig, Refusal& why, std::string_view which);
    bool check_fresh(const codec::AuthenticationInfo& info, Time now, Refusal& why,
                     std::string_view who) const;
    // Seed 001 steps 2, 4, 6, 8: `who`'s signature over `s` verifies with `signer`.
    bool check_signed_by(const PublicKey& signer, const Signed& s, wire::Signer who, Refusal& why,
                         std::string_view which);
    // This UE's Authentication_Info, unsigned (hardened: with its clock, signing_time).
    codec::AuthenticationInfo own_info(Time now) const;
    std::optional<std::vector<std::uint8_t>> sign_tbs(std::span<const std::uint8_t> tbs);

    // --- keys.cpp ---
    std::optional<DerivedKeys> derive(const PublicKey& peer_static, const PrivateKey* eph_mine,
                                      const PublicKey* eph_peer, std::span<const std::uint8_t> f1,
                                      std::span<const std::uint8_t> f2, std::string_view source,
                                      std::string_view target, CipheringAlgorithm c,
                                      IntegrityAlgorithm i, Refusal& why);
    // The link's keys installed (its PDCP context, NRPEK/NRPIK) and its summary completed.
    bool install_keys(Link& link, pc5::L2Id relay_l2, KnrpSessId key_id, CipheringAlgorithm c,
                      IntegrityAlgorithm i, const DerivedKeys& keys, Time now, Refusal& why);
    void log_keys(const Link& link, const DerivedKeys& keys, const std::optional<Nonce>& n1,
                  const std::optional<Nonce>& n2);
    // The layer-3 path: a hop's keys from this UE's ephemeral key and the other end's (both
    // signed in steps 1-8), logged (KD_HOP, KNRP_SESS_ID, ALGS, NRPEK, NRPIK under its id).
    // `summary` names the hop (id, peer, target, initiator, peer_l2, started, algorithms); the
    // keys fill the rest.
    std::optional<Hop> derive_hop(const PrivateKey& mine,
                                  std::span<const std::uint8_t> peer_ephemeral,
                                  std::span<const std::uint8_t> f1,
                                  std::span<const std::uint8_t> f2, std::string_view end_ue,
                                  std::string_view relay, pc5::LinkSummary summary, Time now,
                                  Refusal& why);
    // Reports a link's hop (LinkEstablished) just before the link itself.
    void report_hop(Link& l);
    std::optional<pc5::DataKeys> hop_keys(const Hop& h, std::vector<std::string> routes) const;
    // Re-keying: KD-sess' from KD and the fresh nonces (hardened: and a fresh ephemeral ECDH).
    std::optional<DerivedKeys> rekey_keys(const Link& l, const Nonce& n1, const Nonce& n2,
                                          const PrivateKey* eph_mine, const PublicKey* eph_peer,
                                          Refusal& why);

    // --- discovery.cpp: step 0 (solution A's machinery, pc5sec/discovery.hpp) ---
    Next start_discovery(Link& l, const pc5::ConnectRequest& req, Time now);
    void on_discovery(const pc5::Frame& f, Time now);
    Next on_relay_found(Link& l, const discovery::RelayHeard& relay, Time now);
    Next on_discovery_timeout(Link& l, Time now);
    void solicit(const pc5::ConnectRequest& req, Time now);  // Model B, to the broadcast ID
    void announce(Time now);

    // --- source.cpp ---
    void connect(const pc5::ConnectRequest& req, Time now);
    // What refuses a connect before anything is sent (role, target, RSC, step 0, authorisation).
    std::optional<Refusal> check_connect(const pc5::ConnectRequest& req, Time now);
    Next send_request(Link& l, const pc5::ConnectRequest& req, Time now);
    Next on_accept(Link& l, const codec::DirectLinkEstablishmentAccept& m, Time now);
    Next on_reject(Link& l, const codec::DirectLinkEstablishmentReject& m, Time now);
    Next on_request_timeout(Link& l, Time now);
    Next unverified_answer(Link& l, Refusal r, bool by_peer);
    Next abandon(Link& l, Time now);

    // --- relay.cpp ---
    Next on_request(Route& r, const pc5::Frame& f, const codec::DirectLinkEstablishmentRequest& m,
                    Time now);
    Next on_accept(Route& r, const pc5::Frame& f, const codec::DirectLinkEstablishmentAccept& m,
                   Time now);
    Next pass_reject(Route& r, const pc5::Frame& f);
    Next ignore_reject(Route& r);
    Next forward_protected(Route& r, const pc5::Frame& f, Time now);
    Next on_timeout(Route& r, Time now);
    bool replayed_from_elsewhere(const pc5::Frame& f,
                                 const codec::DirectLinkEstablishmentRequest& m);
    void make_room_for_pending(Time now);
    // Seed 001 steps 2-3 and 6-7: the relay signs what it forwards (SIGN1-relay, SIGN2-relay)
    // and adds its Authentication_Info; the Tamper hooks of a misbehaving relay run here.
    template <class M>
    std::optional<std::vector<std::uint8_t>> sign_and_forward(const ToForward<M>& in, Time now,
                                                              Refusal& why);
    bool answer_retransmission(const pc5::Frame& f, const codec::DirectLinkEstablishmentRequest& m,
                               Time now);

    // --- target.cpp ---
    Next on_request(Link& l, const pc5::Frame& f, const codec::DirectLinkEstablishmentRequest& m,
                    Time now);
    Next note_reject(Link& l, const codec::DirectLinkEstablishmentReject& m);
    Next on_confirmed(Link& l, Time now);
    Next on_confirm_timeout(Link& l, Time now);
    bool answer_retransmission(const pc5::Frame& f, const codec::DirectLinkEstablishmentRequest& m,
                               const std::string& id, const std::array<std::uint8_t, 32>& digest,
                               Time now);
    void expire_replay_cache(Time now);
    void remember_nonce(const std::string& key, Time now);

    // --- protected.cpp ---
    void send_protected(Link& l, const codec::Message& m);
    bool send_protected(Link& l, pdcp::SecurityContext& ctx, const codec::Message& m, bool cipher);
    void receive_protected(const pc5::Frame& f, const srap::Header& h,
                           std::span<const std::uint8_t> pdu, Time now);
    Next on_message(Link& l, const codec::Message& m, Time now);
    Next on_timeout(Link& l, Time now);
    Next start_release(Link& l, Cause cause, Time now);
    Next send_keepalive(Link& l, Time now);
    void send_probe(Link& l, Time now, Time wait);
    void send_confirmation(Link& l, Time now);
    Time keepalive_due(const Link& l) const;
    Time deadline(const Link& l) const;

    // --- identifier_update.cpp: a hop's link identifier update (TS 24.554 7.2.4) ---
    Time identifier_grace() const {
        return cfg.t_identifier_update * (cfg.max_retransmissions + 2);
    }
    // Whether frames to `id` are ours: Config::l2_id, or an L2 ID of a hop (new, or replaced
    // and within its grace).
    bool owns_l2(pc5::L2Id id, Time now) const;
    pc5::L2Id fresh_l2_id(Time now);
    // This end's L2 ID on a link's frames (its hop's, once updated).
    pc5::L2Id own_l2(const Link& l) const { return l.hop && l.hop->own ? l.hop->own : cfg.l2_id; }
    pc5::L2Id own_l2(const Hop& h) const { return h.own ? h.own : cfg.l2_id; }
    // Relay: which end of `r` a frame from `src` comes from (0 source, 1 target), by its current
    // L2 ID, the one an update is giving it, or the one it replaced (within the grace); -1: none.
    int side_of(const Route& r, pc5::L2Id src, Time now) const;
    // Relay: whether `local` names end `side` of `r` (its local UE ID, new or replaced).
    bool names(const Route& r, int side, std::uint8_t local, Time now) const;
    void arm_privacy_timer(Link& l, Time now);
    Time hop_deadline(const Link& l) const;
    void receive_hop(const pc5::Frame& f, Time now);
    bool send_on_hop(Hop& h, pc5::L2Id src, pc5::L2Id dst, const codec::Message& m);
    Next start_hop_update(Link& l, Hop& h, Time now);
    void send_hop_update_request(Hop& h);
    Next on_hop_update_accept(Link& l, Hop& h, const codec::DirectLinkIdentifierUpdateAccept& m,
                              Time now);
    Next on_hop_update_reject(Link& l, Hop& h, const codec::DirectLinkIdentifierUpdateReject& m);
    Next on_hop_timeout(Link& l, Hop& h, Time now);
    Next on_hop_update_request(Route& r, int side,
                               const codec::DirectLinkIdentifierUpdateRequest& m, Time now);
    Next on_hop_update_ack(Route& r, int side, const codec::DirectLinkIdentifierUpdateAck* m,
                           Time now);
    Next on_hop_timeout(Route& r, int side, Time now);
    Next on_relay_lost(Link& l, Time now);
    // The hop's next keys (KNRP-sess' = TS 33.536 A.2 from its key and the two nonces, NRPEK' /
    // NRPIK' = A.3) and their PDCP context; nullopt if they could not be made.
    struct HopKeys {
        KnrpSess key;
        Nrpek nrpek;
        Nrpik nrpik;
        pdcp::SecurityContext ctx;
    };
    std::optional<HopKeys> next_hop_keys(const Hop& h, const HopUpdate& u);
    // Both ends: the hop's new identifiers and keys in use, the old ones retired for the grace;
    // LinkRekeyed for the hop (and, at an end UE, for its link, which follows the hop's L2 IDs).
    void switch_hop(Hop& h, HopKeys keys, pc5::L2Id own, pc5::L2Id peer, Time now);
    void log_hop_keys(const Hop& h);  // keys.cpp: KNRP_SESS, its ID, NRPEK/NRPIK

    // --- rekey.cpp ---
    Next start_rekey(Link& l, Time now);
    void send_rekeying_request(Link& l);
    Next on_rekeying_request(Link& l, const codec::DirectLinkRekeyingRequest& m, Time now);
    // The requester: a PDU its current keys do not open may be the command of its re-keying,
    // integrity-protected under the new keys and not ciphered. True if it was.
    bool try_rekey_command(Link& l, std::span<const std::uint8_t> pdu, Time now);
    Next on_rekey_command(Link& l, const codec::DirectLinkSecurityModeCommand& m,
                          pdcp::SecurityContext ctx, DerivedKeys keys, Time now);
    Next on_rekey_complete(Link& l, Time now);
    Next on_rekey_timeout(Link& l, Time now);
    // The new keys in use: context, NRPEK/NRPIK, summary, key log, LinkRekeyed.
    void switch_keys(Link& l, pdcp::SecurityContext ctx, const DerivedKeys& keys, const Nonce& n1,
                     const Nonce& n2);
};

// ---- the dispatcher (flow.cpp has the table) ----

template <class Thing, class Handler>
void Engine::Impl::dispatch(Thing& thing, FlowRole role, Input input, Handler&& handler) {
    const FlowRow* row = row_for(role, thing.state, input);
    if (!row) return unexpected(role, thing.state, input, id_of(thing));
    // What an establishing state's handler sends counts against the frame bound.
    const bool establishing = thing.state == State::idle || thing.state == State::wait_discovery ||
                              thing.state == State::wait_accept ||
                              thing.state == State::confirming ||
                              thing.state == State::unconfirmed || thing.state == State::pending;
    std::uint32_t* const outer = counting;
    if (establishing) counting = &thing.establishment_frames;
    const Next next = handler();
    counting = outer;
    if (establishing) check_frame_bound(thing.establishment_frames, id_of(thing));
    if (next.kind == Next::Kind::gone) {
        thing.gone = true;  // removed by sweep(), after the dispatch
        count(*row);
        return;
    }
    apply(*row, thing.state, next, id_of(thing));
}

}  // namespace pc5sec::sigauth
