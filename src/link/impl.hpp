// The inside of link::Engine: one UE's links, their states and timers. Private to src/link/.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pc5/flow.hpp"
#include "pc5sec/codec.hpp"
#include "pc5sec/hash.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/pdcp.hpp"

namespace pc5sec::link {

// User info IDs travel as octet strings: views of a std::string, and back.
inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string string_of(const codec::Octets& o) {
    return {reinterpret_cast<const char*>(o.bytes.data()), o.bytes.size()};
}

// Where a link's PDUs travel: a PC5 hop to a neighbour, or end to end through a layer-2 relay's
// adaptation layer (LCID 55, SRAP local UE IDs).
struct Route {
    pc5::L2Id neighbour = 0;           // the peer, or the layer-2 relay in between
    bool end_to_end = false;           // via a layer-2 relay
    std::uint8_t remote_local_id = 0;  // the far end's SRAP local UE ID (0: not known yet)
    // Our layer-2 ID on this route: Config::l2_id (0) until a link identifier update gives the
    // link a fresh one (TS 24.554 7.2.4).
    pc5::L2Id own = 0;
};

// The states of one link. What may move a link from each, and to where, is the flow table
// (src/link/flow.cpp).
enum class State : std::uint8_t {
    idle,                // a link just made, before its first input (connect or a request)
    wait_discovery,      // source: waiting for a relay (step 1)
    wait_hop,            // source through an l2 relay: waiting for the first hop (e2e link)
    wait_peer,           // initiator: request sent (T5080)
    wait_smc,            // initiator: authentication response sent (step 3 done on our side)
    wait_accept,         // initiator: security mode complete sent
    wait_auth_response,  // responder: authentication request sent
    wait_smc_complete,   // responder: security mode command sent
    wait_second_hop,     // relay: first hop secured, its ESTABLISHMENT ACCEPT waits for hop 2
    established,
    rekey_wait_peer,  // re-keying request sent (by either end)
    rekey_wait_smc_complete,
    identifier_update_wait_accept,  // link identifier update request sent (TS 24.554 7.2.4)
    identifier_update_wait_ack,     // its accept sent, the old identifiers in use until the ack
    releasing,                      // release request sent
};
const char* name(State s) noexcept;

enum class Side : std::uint8_t { initiator, responder };

// ---- the flow of solution A as one ordered table (src/link/flow.cpp, docs/solution-a.md) ----

// What moves a link: a PC5 signalling message received on it, or a local event.
enum class Local : std::uint8_t {
    connect,            // the application asks for a link (seed 000 step 2 or step 1 first)
    relay_found,        // step 1: discovery found a relay for the RSC
    hop_up,             // layer 2: the hop to the relay is up, the end-to-end link may start
    timer,              // the link's deadline passed (T5080 and the others of Timers)
    rekey,              // Engine::rekey
    release,            // Engine::release
    second_hop_up,      // relay: the hop towards the target is established
    second_hop_failed,  // relay: the hop towards the target failed or went away
    identifier_update,  // T5090 expired, or Engine::update_identifiers (TS 24.554 7.2.4)
};
const char* name(Local e) noexcept;

struct Input {
    bool local = false;
    codec::MessageType message{};
    Local event{};
    static constexpr Input of(codec::MessageType m) { return {false, m, {}}; }
    static constexpr Input of(Local e) { return {true, {}, e}; }
};

// Who the link's UE is on it. A relay's first hop (towards a source) is `relay`; its second hop
// (towards the target) follows the initiator's rows.
enum class FlowRole : std::uint8_t { initiator, responder, relay, any };
// Where the link runs: a direct link, a hop to or from a layer-3 or layer-2 relay, or the
// end-to-end link through a layer-2 relay.
enum class Topology : std::uint8_t { direct, l3_hop, l2_hop, l2_e2e, any };

struct FlowRow {
    FlowRole role;
    Topology topology;
    State state;
    Input input;
    const char* step;     // the seed 000 step, or the TS clause, the row implements
    const char* handler;  // the function that runs it
    std::array<State, 3> next;
    std::uint8_t next_count;  // 0: the link ends here (or stays where it is, see `stay`)
    bool stay = false;        // the link may also stay in `state` (a refused or repeated input)
};
std::span<const FlowRow> flow_table() noexcept;
// How often each row was taken in this process (for the test that walks the table).
std::span<const std::uint64_t> flow_row_hits() noexcept;

// What a handler asks of the dispatcher (pc5/flow.hpp): stay(), move_to(state) the row allows,
// or gone() because the link is (failed or released, its keys wiped).
using Next = flow::Next<State>;
using flow::gone;
using flow::move_to;
using flow::stay;

// The signed or MACed handshake bytes, kept until the keys are derived.
struct Handshake {
    Nonce nonce_1{}, nonce_2{};
    std::uint8_t msb_sess = 0, lsb_sess = 0;
    std::optional<PrivateKey> ephemeral;  // ours (certificate method)
    std::optional<PublicKey> peer_ephemeral;
    std::vector<std::uint8_t> request_bytes;       // the establishment / re-keying request
    std::vector<std::uint8_t> auth_request_bytes;  // the authentication request
    std::optional<creds::VerifiedPeer> peer;       // from its certificate
    std::optional<Knrp> new_knrp;                  // step 3 result, before step 5 confirms it
    Nonce psk_nonce_peer{}, psk_nonce_ours{};
    bool reauth = false;
    codec::UeSecurityCapabilities sent_caps;  // what we sent (initiator): echo check
    codec::SignallingSecurityPolicy sent_policy;
    codec::UeSecurityCapabilities peer_caps;  // what the initiator sent (responder)
    codec::SignallingSecurityPolicy peer_policy;
    bool offered_knrp_id = false;
    std::optional<KnrpId> requested_knrp_id;  // the KNRP ID the initiator sent
    // Responder: the exchange of an earlier copy of the same request (same Nonce_1, other
    // octets: one no step-2 signature covers, such as its sequence number, was flipped on the
    // air, or one copy was forged). The newer copy is answered; an authentication response to
    // either one verifies (on_request, on_auth_response).
    struct Earlier {
        std::vector<std::uint8_t> request_bytes, auth_request_bytes;
        std::optional<PrivateKey> ephemeral;
    };
    std::optional<Earlier> earlier;
};

struct Link {
    std::string id;
    Side side = Side::initiator;
    pc5::LinkKind kind = pc5::LinkKind::hop;
    codec::RelayIndication relay_indication = codec::RelayIndication::direct;
    std::string peer;    // user info ID of the far end
    std::string target;  // Target User Info the request named (relays: the end target)
    std::uint32_t rsc = 0;
    // The RSC its SL-SRB0 messages are concealed under (pc5sec/request_privacy.hpp) when it is
    // not `rsc`: an end-to-end link's responder, whose request came concealed under it. 0: `rsc`.
    std::uint32_t conceal_rsc = 0;
    Route route;
    State state = State::idle;  // moved only by Engine::Impl::dispatch (flow table)
    bool security_active = false;
    // Authenticated (seed 000 step 3 signatures verified, or the Security Mode Complete verified
    // under the KNRP: PSK or a reused KNRP). A link with NIA0 never is.
    bool authenticated = false;
    // The peer's certificate (DER), kept to check it again when the KNRP is reused or the link
    // re-keyed (CRL, validity, authorisation at the time of use).
    std::shared_ptr<const std::vector<std::uint8_t>> peer_certificate;  // null: none (PSK, NIA0)
    // A link of the same identity that this one replaces once it is authenticated (TS 24.554
    // 7.2.2.6.2: the old link goes after the new one succeeds).
    std::string replaces;
    // A relay's hop towards a target: the first hops (link ids) it serves. It goes when none is
    // left.
    std::vector<std::string> serves;
    // An unprotected reject heard once (its cause): the request went again to confirm it.
    std::optional<codec::Cause> unconfirmed_reject;
    // Why the link ends with `unconfirmed_reject` if the timer runs out first (when it was not
    // a reject: a null-integrity command refused by Config::refuse_null_integrity).
    std::string refusal;
    // Why this link runs without integrity, when it does (reported with the link).
    std::string security_note;
    bool knrp_reused = false;
    pc5::Time started{}, established_at{};
    pc5::Time deadline = pc5::kNever;
    unsigned retransmissions = 0;
    // The initiator's wait for the ACCEPT ends here (COMPLETE again every t_smc until then).
    pc5::Time supervision_end = pc5::kNever;
    // Establishment-phase frames sent, and answers sent again to repeats (docs/solution-a.md,
    // "Bounds"); whether this link was reported over establishment_frame_bound.
    std::uint32_t establishment_frames = 0, reanswers = 0;
    bool over_frame_bound = false;

    // PC5 signalling sequence numbers (TS 24.554 octet 2): ours, and the peer's last.
    std::uint8_t tx_seq = 0;
    std::optional<std::pair<codec::MessageType, std::uint8_t>> last_rx;
    // The last request we sent (retransmitted on its timer) and the last answer (sent again
    // when the peer retransmits): plaintext message bytes, the bearer, and whether ciphered.
    struct Pending {
        std::vector<std::uint8_t> message;
        std::uint8_t bearer = 0;  // 0: SL-SRB0 unprotected
        bool cipher = true;
        bool next_context = false;  // protected with the context being activated (re-keying)
    };
    std::optional<Pending> last_request, last_answer;

    Handshake hs;
    std::optional<Knrp> knrp;
    KnrpId knrp_id;
    std::optional<KnrpSess> knrp_sess;
    CipheringAlgorithm ciphering = CipheringAlgorithm::nea0;
    IntegrityAlgorithm integrity = IntegrityAlgorithm::nia0;
    std::optional<pdcp::SecurityContext> security;           // current
    std::optional<pdcp::SecurityContext> next_security;      // being activated by re-keying
    std::optional<pdcp::SecurityContext> previous_security;  // grace after re-keying
    std::optional<KnrpSess> next_knrp_sess;
    std::optional<Knrp> next_knrp;
    KnrpId next_knrp_id;
    CipheringAlgorithm next_ciphering = CipheringAlgorithm::nea0;
    IntegrityAlgorithm next_integrity = IntegrityAlgorithm::nia0;
    bool rekey_initiator = false;
    // Re-keying initiator: the command verified, the new keys are in use and our complete went
    // (TS 33.536 5.3.3.2). From here the timer sends the complete again, never the request, and
    // if no REKEYING RESPONSE ever comes the link is released: the peer may hold either key.
    bool rekey_switched = false;
    // Fingerprints of NRPEK and NRPIK, taken when they were derived (for events and metrics).
    struct KeyFingerprints {
        std::string nrpek, nrpik;
    };
    KeyFingerprints fingerprints, next_fingerprints;

    // Relays: the local UE ID this relay gave the far end (SRAP), and for a first hop the id of
    // the second hop it waits for.
    std::uint8_t local_id = 0;
    // A layer-2 relay's hop after a link identifier update: the local UE ID it gave the far
    // end before, still routed to it until `retired_until` (the other end UE learns the new
    // one from the next PDU it gets from it).
    std::uint8_t previous_local_id = 0;
    // End to end through a layer-2 relay: the far end's local UE ID before the one learnt last
    // (a PDU still on its way with it is the link's, and teaches nothing).
    std::uint8_t previous_remote_local_id = 0;
    std::string waiting_for;
    // The link identifier update (TS 24.554 7.2.4, src/link/identifier_update.cpp): the
    // identifiers being changed to, and after the change the route they replaced, which still
    // takes PDUs until `retired_until` (a repeated accept, answered by `ack_frame` again).
    struct IdentifierUpdate {
        pc5::L2Id own = 0, peer = 0;  // the new L2 IDs (0: unchanged, end to end)
        std::uint8_t msb = 0, lsb = 0;
    };
    std::optional<IdentifierUpdate> id_update;
    std::optional<Route> retired_route;
    pc5::Time retired_until{};
    std::optional<pc5::Frame> ack_frame;
    pc5::Time privacy_deadline = pc5::kNever;  // T5090
    // Keep-alive.
    std::uint32_t keepalive_counter = 0;
    pc5::Time next_keepalive = pc5::kNever;
    bool keepalive_outstanding = false;

    // Whether this UE sent the request of the key establishment under way: the link's
    // establishment request, or a re-keying request.
    bool requested_by_us() const noexcept {
        return hs.reauth || state == State::rekey_wait_peer ||
                       state == State::rekey_wait_smc_complete
                   ? rekey_initiator
                   : side == Side::initiator;
    }
};

// Signed parts of step 3 (key_establishment.cpp).
std::vector<std::uint8_t> offer_signed_part(std::string_view initiator, std::string_view target,
                                            const Nonce& nonce_1,
                                            std::span<const std::uint8_t> ephemeral,
                                            codec::UeSecurityCapabilities caps,
                                            codec::SignallingSecurityPolicy policy,
                                            std::uint8_t msb_sess, std::uint32_t rsc);
std::vector<std::uint8_t> peer_signed_part(std::span<const std::uint8_t> request,
                                           std::span<const std::uint8_t> ephemeral,
                                           std::string_view initiator, std::string_view peer);
std::vector<std::uint8_t> initiator_signed_part(std::span<const std::uint8_t> request,
                                                std::span<const std::uint8_t> auth_request,
                                                std::string_view initiator, std::string_view peer);
codec::SignatureAlgorithm signature_algorithm_of(KeyType t);

// Public random values (nonces, IDs) drawn from the engine's Rng in blocks: one generator call
// per 256 octets instead of one per octet. Ephemeral keys are generated from the Rng directly.
class RandomPool {
  public:
    explicit RandomPool(Rng*& rng) : rng_(rng) {}
    void fill(std::span<std::uint8_t> out) {
        for (auto& b : out) {
            if (next_ == buf_.size()) {
                rng_->fill(buf_);
                next_ = 0;
            }
            b = buf_[next_++];
        }
    }
    template <std::size_t N>
    std::array<std::uint8_t, N> bytes() {
        std::array<std::uint8_t, N> out{};
        fill(out);
        return out;
    }
    std::uint8_t next_u8() { return bytes<1>()[0]; }
    std::uint16_t next_u16() {
        auto b = bytes<2>();
        return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
    }

  private:
    Rng*& rng_;
    std::array<std::uint8_t, 256> buf_{};
    std::size_t next_ = 256;
};

struct Engine::Impl {
    Config config;
    Rng* rng = nullptr;
    RandomPool random{rng};
    pc5::Counters counters;
    std::deque<pc5::Frame> tx;
    std::deque<pc5::Event> events;
    std::vector<std::unique_ptr<Link>> links;
    std::uint8_t next_local_id = 1;
    bool stopping = false;  // release_all under way
    pc5::Time next_announce = pc5::Time{0};

    // KNRPs kept for reuse (seed 000 step 2): (peer user info, KNRP ID) -> KNRP, tied to the
    // peer's certificate that made it, and the time it was made (Config::knrp_lifetime).
    struct CachedKnrp {
        Knrp knrp;
        std::shared_ptr<const std::vector<std::uint8_t>> peer_certificate;  // DER; null: PSK
        pc5::Time made{};
        // The last full check of the certificate (recheck_knrp): under which revocation list,
        // until when it holds, and for which use. A reuse that matches them needs no other.
        std::array<std::uint8_t, 32> checked_revocation_version{};
        creds::TimePoint checked_not_after{};
        std::uint32_t checked_rsc = 0;
        std::uint8_t checked_use = 0xFF;  // relay indication + link kind of the checked link
    };
    std::map<std::pair<std::string, std::uint32_t>, CachedKnrp> knrp_cache;
    // Relays heard in discovery (step 1): RSC -> (relay user info, L2 ID).
    std::map<std::uint32_t, std::pair<std::string, pc5::L2Id>> relays_heard;
    discovery::AnswerBudget discovery_answers;  // Config::discovery_answers_per_second
    discovery::Security discovery_security;     // Config::discovery_material, replay cache
    // Parsed certificates by the SHA-256 of their DER.
    std::map<Sha256Digest, creds::Certificate> certificates;

    // --- flow.cpp: the one dispatcher ---
    // Finds the row for `link` and `input`; none: the input is dropped and counted. Otherwise
    // runs `handler` and moves the link to the state it asks for, if the row allows it. Entering
    // `established` from an establishing state runs `establish`.
    template <typename Handler>
    void dispatch(Link& link, Input input, pc5::Time now, Handler&& handler);
    const FlowRow* row_for(const Link& link, Input input) const;
    void apply(Link& link, const FlowRow& row, Next next, pc5::Time now);

    // --- engine.cpp: plumbing ---
    Link* find(const std::string& id);
    Link* find_by_route(const Route& r);
    Link& add_link(std::unique_ptr<Link> link);
    void remove_link(Link& link);
    std::unique_ptr<Link> take(Link& link);
    creds::TimePoint wall(pc5::Time now) const;
    void emit(pc5::Event e) { events.push_back(std::move(e)); }
    void frame_out(const Route& r, std::uint8_t lcid_or_bearer, std::vector<std::uint8_t> pdu,
                   std::shared_ptr<const pc5::FrameCapture> capture = nullptr);
    // What a capture shows of `message` sent on `link` (Config::capture), or nothing.
    std::shared_ptr<const pc5::FrameCapture> capture_of(const Link& link,
                                                        const pdcp::SecurityContext* ctx,
                                                        bool cipher,
                                                        const std::vector<std::uint8_t>& message);
    // Step 1, Model B: the solicitation for a link waiting for a relay (broadcast).
    void send_solicitation(Link& link, pc5::Time now);
    // Encodes and sends `msg` on `link`, protected when its security is active (SRB1 for the
    // security mode messages, SRB2 otherwise), plain on SRB0 before.
    // The KNRP-sess ID of the protected PDU being handled (its PDCP header), for handlers that
    // must know which keys it verified under (the re-keying's complete: the new ones).
    KnrpSessId rx_knrp_sess_id{};
    // The RSC the SL-SRB0 message being handled came concealed under (0: in clear).
    std::uint32_t rx_concealed_rsc = 0;
    void send(Link& link, codec::Message msg, pc5::Time now, bool is_request);
    void send_with(Link& link, pdcp::SecurityContext* ctx, std::uint8_t bearer, bool cipher,
                   const std::vector<std::uint8_t>& message);
    // The time of the input being handled (set by each public entry point): the UTC-based counter
    // of a request concealed on its way out (send_with) comes from it.
    pc5::Time now_{};
    // Seed 000 steps 2 and 3 on the air: the identities of the request and of the
    // authentication request and response concealed under the RSC's material
    // (pc5sec/request_privacy.hpp) when the link has an RSC whose material this UE holds. False:
    // it could not be (the material expired), dropped and counted; nothing goes out in clear.
    bool conceal_srb0(const Link& link, std::vector<std::uint8_t>& pdu);
    // A message received on SL-SRB0, opened: the octets to decode (`pdu` itself if it came in
    // clear, else `storage`), or nothing when refused (dropped and counted on `link`).
    // A request concealed under an RSC this UE holds no material for (it is not authorised for
    // the RSC) is answered with an ESTABLISHMENT REJECT #11 on `route`, as a request in clear
    // for that RSC would be.
    std::optional<std::span<const std::uint8_t>> open_srb0(const Link* link, const Route& route,
                                                           std::span<const std::uint8_t> pdu,
                                                           std::vector<std::uint8_t>& storage,
                                                           pc5::Time now);
    void connect_link(const pc5::ConnectRequest& req, pc5::Time now);
    Status start_rekey(Link& link, bool reauth, pc5::Time now);
    void released(Link& link, codec::Cause cause, bool by_peer, pc5::Time now);
    // A timer retransmission of `p` (counted against the link's frame bound while it is being
    // established).
    void resend(Link& link, const Link::Pending& p);
    // `p` again in answer to a repeated request of type `repeated`: within reanswer_budget for
    // establishment messages, else dropped. Whether it went.
    bool reanswer(Link& link, const Link::Pending& p, codec::MessageType repeated);
    void count_establishment_frame(Link& link);
    pc5::Time accept_wait(const Link& link) const;
    void arm(Link& link, pc5::Time now, pc5::Time timeout);
    void arm_retransmission(Link& link, pc5::Time now, pc5::Time timeout);
    void fail(Link& link, codec::Cause cause, std::string reason, bool by_peer, pc5::Time now,
              bool send_reject);
    void establish(Link& link, pc5::Time now);
    void log_keys(const Link& link);
    pc5::LinkSummary summary(const Link& link) const;
    void drop(const Link* link, pc5::DropReason reason, std::string detail);
    void wipe(Link& link);
    void count_rx(codec::MessageType t);
    std::uint64_t total_drops() const;

    // --- handshake.cpp: the steps (each handler returns where the flow table goes next) ---
    Next send_request(Link& link, pc5::Time now);
    void on_pdu(const Route& route, std::uint8_t bearer, std::span<const std::uint8_t> pdu,
                pc5::Time now);
    // `bytes`: the message's plaintext encoding; `pdu`: the protected PDU it came in, if any.
    void on_message(Link& link, const codec::Message& msg, std::span<const std::uint8_t> bytes,
                    std::span<const std::uint8_t> pdu, pc5::Time now);
    void on_request(const Route& route, const codec::DirectLinkEstablishmentRequest& m,
                    std::span<const std::uint8_t> bytes, pc5::Time now);
    Next accept_request(Link& link, const codec::DirectLinkEstablishmentRequest& m, pc5::Time now);
    Next on_auth_request(Link& link, const codec::DirectLinkAuthenticationRequest& m,
                         std::span<const std::uint8_t> bytes, pc5::Time now);
    Next on_auth_response(Link& link, const codec::DirectLinkAuthenticationResponse& m,
                          pc5::Time now);
    Next send_security_mode_command(Link& link, pc5::Time now);
    Result<pdcp::SecurityContext> security_context(const Link& link, KnrpSessId id,
                                                   CipheringAlgorithm c, IntegrityAlgorithm i,
                                                   const Knrp* knrp, const Nonce& nonce_2,
                                                   std::optional<KnrpSess>& sess,
                                                   Link::KeyFingerprints& fingerprints);
    Next on_security_mode_command(Link& link, const codec::DirectLinkSecurityModeCommand& m,
                                  std::span<const std::uint8_t> pdu, pc5::Time now);
    Next on_security_mode_complete(Link& link, const codec::DirectLinkSecurityModeComplete& m,
                                   pc5::Time now);
    Next on_rekeying_request(Link& link, const codec::DirectLinkRekeyingRequest& m,
                             std::span<const std::uint8_t> bytes, pc5::Time now);
    // An unprotected reject (ESTABLISHMENT REJECT, AUTHENTICATION REJECT or FAILURE) proves
    // nothing: the first is taken as a reason to ask once more, the second ends the link.
    Next on_unprotected_reject(Link& link, codec::MessageType type, codec::Cause cause,
                               pc5::Time now);
    Next finish_responder(Link& link, pc5::Time now);
    void send_accept(Link& link, pc5::Time now);
    Next on_timeout(Link& link, pc5::Time now);
    // The link's peer is authenticated now (step 3, or the KNRP proved): a link it replaces
    // goes (TS 24.554 7.2.2.6.2), and a relay starts its hop towards the target.
    void authenticated(Link& link, pc5::Time now);

    // --- identifier_update.cpp: TS 24.554 7.2.4 ---
    Next start_identifier_update(Link& link, pc5::Time now);
    Next on_identifier_update_request(Link& link, const codec::DirectLinkIdentifierUpdateRequest& m,
                                      pc5::Time now);
    Next on_identifier_update_accept(Link& link, const codec::DirectLinkIdentifierUpdateAccept& m,
                                     pc5::Time now);
    Next on_identifier_update_ack(Link& link, const codec::DirectLinkIdentifierUpdateAck& m,
                                  pc5::Time now);
    Next on_identifier_update_reject(Link& link, codec::Cause cause, pc5::Time now);
    // The update's timer: the request again (requester) or, its retransmissions spent, the
    // current identifiers kept; the responder releases the link (the peer may use either).
    Next identifier_update_timeout(Link& link, pc5::Time now);
    // Both ends at the end of an update: the new keys, L2 IDs and KNRP-sess ID in use, the old
    // route kept for identifier_grace, links riding the route (end to end through a layer-2
    // relay) moved with it, LinkRekeyed reported, T5090 again.
    void switch_identifiers(Link& link, pc5::Time now);
    // The update given up: its keys wiped, the current identifiers kept, T5090 again.
    void abandon_identifier_update(Link& link, pc5::Time now, std::string why);
    void arm_privacy_timer(Link& link, pc5::Time now);
    // The update's keys (KNRP-sess from the link's KNRP and the two nonces, its new ID) into
    // link.next_security; false (dropped and counted) if they cannot be made.
    bool derive_update_keys(Link& link, const Link::IdentifierUpdate& u, const Nonce& nonce_2);
    // A fresh layer-2 ID for this UE: random, neither 0 nor the broadcast value, nor one in use.
    pc5::L2Id fresh_l2_id();
    // Whether `id` is one of this UE's L2 IDs now: Config::l2_id, a link's, a replaced one still
    // in its grace.
    bool owns_l2(pc5::L2Id id, pc5::Time now) const;
    // Whether PDUs on `route` may be `link`'s: its route, or the one an update replaced within
    // its grace.
    bool on_route(const Link& link, const Route& route, pc5::Time now) const;

    // --- engine.cpp: links on a route ---
    static bool same_route(const Route& a, const Route& b);
    // Is `id` a security context of some link on `route`?
    bool session_in_use(const Route& route, KnrpSessId id) const;
    // An MSB of the KNRP-sess ID that no other establishment of ours on the route uses.
    std::uint8_t fresh_msb(const Link& link);
    // Config::max_half_open: the oldest unauthenticated responder link goes if there is no room.
    void make_room_for_half_open(pc5::Time now);
    // Could an unprotected answer on `link`'s route be for another establishment of ours?
    bool route_busy(const Link& link) const;
    // Links in wait-hop whose hop is up or whose route is free now start (Local::hop_up).
    void start_waiting(pc5::Time now);
    // TS 33.536 5.3.3.1.2 allows NIA0 under PREFERRED; what is reported, and whether refused.
    std::string null_integrity_note(PolicyLevel theirs) const;
    bool refuses_null_integrity(const Link& link) const;

    // --- key_establishment.cpp: step 3 ---
    // The Key_Est_Info an initiator offers in its request (certificate or PSK).
    Result<codec::KeyEstInfo> make_offer(Link& link, std::vector<std::uint8_t>& storage,
                                         const std::vector<std::uint8_t>& signed_part);
    Result<creds::VerifiedPeer> verify_certificate(std::span<const std::uint8_t> der,
                                                   pc5::Time now);
    Result<void> authorise(const Link& link, const creds::VerifiedPeer& peer);
    Result<Knrp> derive_knrp_certificate(Link& link);
    Result<Knrp> derive_knrp_psk(std::string_view identity, const Nonce& initiator_nonce,
                                 const Nonce& responder_nonce, const std::string& initiator,
                                 const std::string& responder);
    // The peer's certificate, parsed (cached by digest), without any trust decision.
    const creds::Certificate* parse_certificate(std::span<const std::uint8_t> der);
    // The cached KNRP for `peer` if its credential still holds now (CRL, validity, authorisation
    // for `link`, Config::knrp_lifetime); a stale one is wiped.
    const std::pair<const std::pair<std::string, std::uint32_t>, CachedKnrp>* usable_knrp(
        const Link& link, const std::string& peer,
        std::optional<std::span<const std::uint8_t>> offered_certificate, pc5::Time now);
    // Checks one cache entry for reuse on `link`; false with `why` (a PC5 cause when the peer
    // must be refused: revoked, expired, not authorised) after wiping it.
    bool recheck_knrp(const Link& link,
                      std::map<std::pair<std::string, std::uint32_t>, CachedKnrp>::iterator it,
                      std::optional<std::span<const std::uint8_t>> offered_certificate,
                      pc5::Time now, Error& why);
    void cache_knrp(const Link& link, KnrpId id, const Knrp& knrp, pc5::Time now);
    // The peer's certificate checked again now (re-keying): CRL, validity, authorisation.
    Status recheck_peer(const Link& link, pc5::Time now);
    // Releases an established link whose peer no longer holds (#6) and wipes its KNRP.
    Next release_for(Link& link, const Error& why, pc5::Time now);
    const PrivateKey& key() const { return config.credentials->key(); }
    const creds::Certificate& certificate() const { return config.credentials->certificate(); }

    // --- relay.cpp: relay roles and discovery ---
    void on_discovery(const pc5::Frame& f, pc5::Time now);
    void announce(pc5::Time now);
    void relay_forward(const pc5::Frame& f, pc5::Time now);
    // The relay's hop towards `target` for the authenticated first hop `first` (made, or an
    // existing one now also serving it). nullptr: the target is not reachable.
    Link* start_second_hop(const Link& first, const std::string& target, pc5::Time now);
    Next on_first_hop_up(Link& hop, pc5::Time now);
    // The relay's hop towards a target came up or went: the first hops it serves follow.
    void second_hop_done(const Link& hop2, bool ok, codec::Cause cause, pc5::Time now);
    // A link went: the relay's hops towards targets that served only it go too.
    void forget_first_hop(const std::string& id, pc5::Time now);
    // A layer-3 relay's hop: the hops its IP packets are routed to (pc5::DataKeys::l3_routes):
    // from a first hop, the hop towards its target; from that hop, the first hops it serves.
    std::vector<std::string> l3_routes(const Link& hop) const;
    // A free local UE ID: the next in turn, or (`fresh`: a link identifier update) a random one,
    // so that the new ID says nothing of the old.
    std::uint8_t assign_local_id(bool fresh = false);
    void relay_found(std::uint32_t rsc, const std::string& relay, pc5::L2Id l2, pc5::Time now);
    bool may_relay(std::uint32_t rsc) const;
    // Layer 2: end-to-end requests held by the relay until its hop to their target is up.
    struct HeldFrame {
        std::string first_hop, target;
        pc5::Frame frame;
    };
    std::vector<HeldFrame> held_frames;
    // Engine::links_over_frame_bound, Engine::max_establishment_frames.
    std::vector<std::string> over_frame_bound;
    std::uint32_t max_establishment_frames = 0;
};

bool establishing(State s) noexcept;

template <typename Handler>
void Engine::Impl::dispatch(Link& link, Input input, pc5::Time now, Handler&& handler) {
    const FlowRow* row = row_for(link, input);
    if (!row) {
        if (input.local) {  // a local event the state does not take: nothing to do
            if (input.event == Local::timer) link.deadline = pc5::kNever;
            return;
        }
        drop(&link, pc5::DropReason::unexpected,
             std::string(codec::message_name(input.message)) + " in state " + name(link.state));
        return;
    }
    apply(link, *row, handler(), now);
}

// Capabilities this UE advertises: the algorithms of its policy, plus EA0/IA0.
codec::UeSecurityCapabilities capabilities_of(const PolicyFile& p);
codec::SignallingSecurityPolicy policy_of(const PolicyFile& p);

}  // namespace pc5sec::link
