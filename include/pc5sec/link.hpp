/// @file
/// Solution A (seed 000, TS 33.503 / TS 33.536 reuse): the sans-I/O PC5 unicast link security
/// engine of one UE — an end UE (source or target) or a UE-to-UE relay of layer 2 or 3.
///
/// @verbatim
///   step 0  credentials and policies: a creds::CredentialManager (renewed in coverage, refused
///           when expired out of coverage) and a PolicyFile
///   step 1  UE-to-UE relay discovery, Model A (the relay announces its RSC) or Model B (the
///           source solicits); not protected (a known gap, docs/solution-a.md)
///   step 2  PROSE DIRECT LINK ESTABLISHMENT REQUEST with Key_Est_Info, Nonce_1, the MSB of the
///           KNRP-sess ID, the signalling policy and, when a KNRP exists for the peer, its KNRP ID
///   step 3  Direct Authentication and Key Establishment (certificate-based authenticated
///           ephemeral ECDH, or a pre-shared group key) giving a fresh 256-bit KNRP
///   step 4  Direct Security Mode Command (Nonce_2, LSB of KNRP-sess ID, MSB of KNRP ID,
///           algorithms, echoed capabilities and policy), integrity-protected, not ciphered
///   step 5  Direct Security Mode Complete (LSB of KNRP ID), then the ESTABLISHMENT ACCEPT
/// @endverbatim
///
/// between source and relay, relay and target, and end to end through a layer-2 relay. The flow
/// of each side is one table (src/link/transitions.cpp). docs/solution-a.md describes it all.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pc5sec/creds.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/policy.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/rng.hpp"

/// Solution A: the sans-I/O PC5 unicast link security engine of one UE (see link.hpp).
namespace pc5sec::link {

using namespace std::chrono_literals;

/// The UE's role in the protocol: pc5::UeRole, the one role enum of both engines (end_ue: a
/// source or target; relay: a UE-to-UE relay of layer 2 or 3).
using UeRole = pc5::UeRole;
using DiscoveryModel = discovery::Model;  ///< one discovery machinery (pc5sec/discovery.hpp)
/// Step 3 method: certificate-based (the default) or a pre-shared group key (policy.toml
/// [group_keys]).
enum class AuthMethod : std::uint8_t {
    certificate,  ///< certificate-based authenticated ephemeral ECDH (the default)
    psk           ///< a pre-shared group key (policy.toml [group_keys])
};

/// Timer names follow TS 24.554 where pc5sec knows them: T5080 (8 s), T5085 and T5087 (5 s, TS
/// 24.554 Table 12.3.1 as the ns-3 ProSe model cites it: code-only). The others are pc5sec's own
/// names and defaults (docs/solution-a.md, "Timers").
struct Timers {
    pc5::Time t5080 = 8s;              ///< establishment request
    pc5::Time t_auth = 8s;             ///< authentication request / response
    pc5::Time t_smc = 8s;              ///< security mode command / complete
    pc5::Time t5087 = 5s;              ///< T5087: release request, until the release accept
    pc5::Time t_rekey = 8s;            ///< re-keying request
    pc5::Time t5085 = 5s;              ///< T5085: keep-alive request, until the response
    pc5::Time t_discovery = 1s;        ///< Model B solicitation retransmission; Model A wait
    pc5::Time announce_interval = 1s;  ///< a relay's Model A announcements
    /// T5084, the keep-alive timer: how long without a PDU from the peer before a keep-alive
    /// request; 0: no keep-alive.
    pc5::Time keepalive_interval = 0s;
    /// T5090, the privacy timer (TS 24.554 7.2.4; its name as [standards] gives it, its value
    /// pc5sec's): an established link's L2 IDs and KNRP-sess ID are changed by the link
    /// identifier update this long after they were set. The end that set the link up runs it.
    /// 0: only on request (Engine::update_identifiers).
    pc5::Time t5090 = 0s;
    /// The link identifier update request, until the accept (and the accept, until the ack):
    /// pc5sec's name, TS 24.554 7.2.4's supervision timer whose number was not found.
    pc5::Time t_identifier_update = 5s;
    /// How long the identifiers an update replaced still take PDUs (late frames, a repeated
    /// accept answered by the ack again); at least t_identifier_update x (max_retransmissions
    /// + 1), the longest the peer may repeat its accept.
    pc5::Time identifier_grace = 0s;
    /// How long a relay holds a first hop for its second; 0: second_hop_wait (derived below).
    pc5::Time relay_hold = 0s;
    /// Each request is sent at most max_retransmissions + 1 times (docs/solution-a.md, "Timers").
    unsigned max_retransmissions = 3;
};

// docs/solution-a.md, "Timers" and "Bounds".
/// The longest one establishment takes when each of its four exchanges (request / authentication
// request, authentication request / response, command / complete, complete / accept) uses all
// its retransmissions: (T5080 + t_auth + 2 t_smc) x (max_retransmissions + 1).
pc5::Time establishment_budget(const Timers& t) noexcept;
/// How long a relay's first hop waits for its second hop to the target: relay_hold if set,
/// else that hop's establishment_budget plus one t_smc of margin (the hop's own timers end it
/// first; this wait is a safety net).
pc5::Time second_hop_wait(const Timers& t) noexcept;
/// How long replaced identifiers still take PDUs: Timers::identifier_grace if longer, else
/// t_identifier_update x (max_retransmissions + 1) plus one t_identifier_update.
pc5::Time identifier_grace(const Timers& t) noexcept;
/// Answers sent again to repeated requests, per link, at most (4 x (max_retransmissions + 1)):
/// further repeats are dropped unanswered.
std::uint32_t reanswer_budget(const Timers& t) noexcept;
/// The most establishment-phase frames one end sends on one link: its first transmissions, its
/// timer retransmissions, and reanswer_budget. Keep-alives, data, re-keying and release are
/// not counted. No livelock by construction: an answer is never answered, and every repeat has
/// a bound.
std::uint32_t establishment_frame_bound(const Timers& t) noexcept;

/// What Engine::create() builds an engine from.
struct Config {
    std::string user_info;         ///< this UE's user info ID (its certificate's CN)
    pc5::L2Id l2_id = 0;           ///< this UE's layer-2 ID
    UeRole role = UeRole::end_ue;  ///< end UE or relay
    /// Step 0: the UE's key, certificate and trust store, with the renewal rule for expired
    /// credentials. Shared so that a simulator can hand the same manager to a restarted engine.
    std::shared_ptr<creds::CredentialManager> credentials;
    PolicyFile policy;                             ///< the policies (step 0)
    AuthMethod method = AuthMethod::certificate;   ///< the step 3 method
    std::string psk_identity;                      ///< the [group_keys] entry for AuthMethod::psk
    DiscoveryModel discovery = DiscoveryModel::b;  ///< discovery Model A or Model B (step 1)
    /// Discovery security material per RSC (step 0, from the bundle): discovery for an RSC held
    /// here is restricted and protected (pc5sec/discovery.hpp); for any other RSC it is open.
    std::vector<discovery::Material> discovery_material;
    bool in_coverage = true;  ///< in coverage: expired credentials are renewed, else refused
    /// Wall-clock time at the driver's Time 0: certificates are checked at wall_epoch + now.
    creds::TimePoint wall_epoch = creds::Clock::now();
    Rng* rng = nullptr;                 ///< nullptr: system_rng()
    pc5::KeyLogSink* keylog = nullptr;  ///< where the keys are reported; nullptr: nowhere
    /// UEs this UE can hear, as PC5 discovery of end UEs tells a relay (user info -> L2 ID).
    std::map<std::string, pc5::L2Id> directory;
    Timers timers;  ///< the timers and retransmissions
    /// Certificates verified once per peer (shared by engines of one process if given).
    std::shared_ptr<creds::VerificationCache> verification_cache;
    /// Half-open links: links a peer asked for that are not authenticated yet (seed 000 step 3
    /// not done). At most `max_half_open` at once (the oldest goes first), each for at most
    /// `half_open_lifetime`: a flood of requests cannot grow memory without bound.
    std::size_t max_half_open = 64;
    pc5::Time half_open_lifetime = 32s;  ///< see max_half_open
    /// A relay answers at most this many discovery solicitations a second (Model B); a flood of
    /// solicitations draws no more (issue 17).
    unsigned discovery_answers_per_second = 50;
    /// A cached KNRP (seed 000 step 2) is reused at most this long after step 3 made it, and
    /// never after the peer's certificate expires or is revoked (checked again at each reuse).
    pc5::Time knrp_lifetime = std::chrono::hours(24);
    /// Attach a pc5::FrameCapture (the PC5-S message before protection) to each frame sent, for
    /// a driver that writes a capture (trace::CaptureRecorder). Off: no copy is made.
    bool capture = false;
};

/// The solution-A engine of one UE (see link.hpp), sans-I/O: the driver feeds it frames
/// (receive()) and time (handle_timeout() at next_timeout()), and polls the frames to send
/// (poll_transmit()) and the events (poll_event()).
class Engine final : public pc5::Endpoint {
  public:
    /// An engine built from `config`.
    /// Errc::invalid_argument naming the Config field at fault (credentials, user_info, l2_id,
    /// psk_identity).
    static Result<std::unique_ptr<Engine>> create(Config config);
    ~Engine() override;

    /// This UE's user info ID.
    const std::string& user_info() const noexcept override;
    /// This UE's layer-2 ID.
    pc5::L2Id l2_id() const noexcept override;
    /// Whether frames to `id` are for this UE (its L2 ID, or a link's after an identifier update).
    bool owns_l2(pc5::L2Id id) const noexcept override;
    /// Starts establishing; the outcome arrives as LinkEstablished or LinkFailed.
    void connect(const pc5::ConnectRequest& request, pc5::Time now) override;
    /// Takes one frame received at `now`.
    void receive(const pc5::Frame& frame, pc5::Time now) override;
    /// Runs the timers due at `now`.
    void handle_timeout(pc5::Time now) override;
    /// When handle_timeout() is next due; kNever when no timer runs.
    pc5::Time next_timeout() const noexcept override;
    /// The next frame to send, if any.
    std::optional<pc5::Frame> poll_transmit() override;
    /// The next event, if any.
    std::optional<pc5::Event> poll_event() override;
    /// Releases every link (PROSE DIRECT LINK RELEASE) and wipes their keys.
    void release_all(pc5::Time now) override;
    /// The engine's counters.
    const pc5::Counters& counters() const noexcept override;
    /// The current data keys of an established link, or nothing (no such link, not established).
    std::optional<pc5::DataKeys> data_keys(const std::string& link_id) const override;

    /// Re-keys a link: new nonces give a new KNRP-sess; `reauthenticate` also runs step 3 again
    /// for a new KNRP.
    Status rekey(const std::string& link_id, bool reauthenticate, pc5::Time now);
    /// PROSE DIRECT LINK RELEASE; the keys are wiped when the peer accepts or the timer ends.
    Status release(const std::string& link_id, pc5::Time now);
    /// One keep-alive exchange now.
    Status keepalive(const std::string& link_id, pc5::Time now);
    /// The link identifier update (TS 24.554 7.2.4) now: new layer-2 IDs at both ends and a new
    /// KNRP-sess (fresh nonces, a new KNRP-sess ID), so that nothing on the air links the old
    /// identifiers to the new ones. Ends with LinkRekeyed (identifiers_updated). End to end
    /// through a layer-2 relay the L2 IDs are the hops', so only the KNRP-sess changes.
    /// Errc::state naming "link_id" unless the link is established.
    Status update_identifiers(const std::string& link_id, pc5::Time now);
    /// Whether the UE is in coverage (Config::in_coverage).
    void set_in_coverage(bool in_coverage) noexcept;

    /// The established links.
    std::vector<pc5::LinkSummary> links() const;
    /// The number of links in any state (established or in progress).
    std::size_t link_count() const noexcept;
    /// KNRPs cached for reuse (peer user info, KNRP ID).
    std::size_t cached_knrps() const noexcept;
    /// Forget every cached KNRP (a UE that lost its cache, for tests of the fallback).
    void clear_knrp_cache() noexcept;
    /// Links (ids) that tried to send more than establishment_frame_bound() establishment-phase
    /// frames (at most 64 are named): empty unless something is wrong. A simulator checks it.
    const std::vector<std::string>& links_over_frame_bound() const noexcept;
    /// The most establishment-phase frames this engine sent on one link so far.
    std::uint32_t max_establishment_frames() const noexcept;

    /// The engine's state (private to src/link/).
    struct Impl;

  private:
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pc5sec::link
