/// @file
/// One UE of either solution, ready to drive: its link engine (solution A's link::Engine or
/// solution B's sigauth::Engine) and its user plane (userplane::Endpoint), built from one Spec or
/// from a credential bundle, and wired together.
///
/// A Station is itself a pc5::Endpoint, sans-I/O like the engines: the driver feeds it every
/// frame heard (receive()) and the time (handle_timeout() at next_timeout()), and polls what it
/// sends (poll_transmit()) and what happened (poll_event()). Inside, the station does what every
/// driver would otherwise write again:
///
/// @verbatim
///   receive        data frames (userplane::carries_data) to the user plane, the rest to the engine
///   poll_transmit  the engine's frames first (a relay's user plane learns its SRAP forwarding
///                  table from them), then the user plane's
///   poll_event     LinkEstablished / LinkRekeyed: the link's keys go into the user plane, with
///                  the protection the user-plane policy (policy.toml [user_plane]) gives for the
///                  algorithms the link negotiated; a link the policy refuses is released
///                  LinkReleased: the user plane forgets the link and wipes its keys
///                  a user-plane key context at its re-keying threshold: the engine re-keys
/// @endverbatim
///
/// A layer-3 relay's hops are joined by the keys the engine gives (pc5::DataKeys::l3_routes), so
/// no driver joins them. docs/library.md shows a station in use; examples/cpp/ drives some.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pc5sec/error.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/pc5.hpp"
#include "pc5sec/policy.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/rng.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/userplane.hpp"

/// One UE of either solution: engine and user plane wired together (see station.hpp).
namespace pc5sec::station {

/// What a UE is and holds. The common fields go to the engine of `solution`; `a` and `b` carry
/// each engine's own settings (timers, limits, discovery model, tamper hooks), and the station
/// overwrites their common fields (user info, L2 ID, role, credentials, policy, clock, RNG, key
/// log, directory, capture) with the ones here.
struct Spec {
    pc5::Solution solution = pc5::Solution::a;  ///< A, B-literal or B-hardened
    pc5::UeRole role = pc5::UeRole::end_ue;     ///< an end UE (source or target) or a relay
    std::string user_info;                      ///< empty: the certificate's subject
    pc5::L2Id l2_id = 0;                        ///< this UE's layer-2 ID
    /// Step 0: key, certificate and trust store with the renewal rule (renewed in coverage when
    /// a provisioning function is set, refused with #6 when expired out of coverage). Solution A
    /// and B-hardened use all of it; B-literal only the key (raw public keys, seed 001).
    std::shared_ptr<creds::CredentialManager> credentials;
    bool in_coverage = true;  ///< whether the provisioning function is reachable
    /// The UE's policy.toml: signalling policy and algorithms (checked by the engine), the
    /// user-plane policy (applied by the station to each link's data), group keys (A's PSK).
    PolicyFile policy;
    /// Solution B: the RSCs a relay serves, or an end UE may use. Empty: those the certificate
    /// authorises.
    std::vector<creds::Rsc> rscs;
    /// The UEs this UE can hear (user info ID -> L2 ID), as discovery of end UEs tells a relay.
    std::map<std::string, pc5::L2Id> directory;
    /// Discovery security material per RSC (step 0; from_bundle: the bundle's discovery.toml):
    /// relay discovery for these RSCs is protected (pc5sec/discovery.hpp).
    std::vector<discovery::Material> discovery_material;
    /// Write discovery_material to `keylog` (DUSK, DUIK, DUCK, DISCOVERY_ALGS) when the station
    /// is made. A driver of many stations that logs each RSC once itself sets this false.
    bool log_discovery_material = true;
    creds::TimePoint wall_epoch = creds::Clock::now();  ///< wall-clock time at pc5::Time 0
    Rng* rng = nullptr;                                 ///< nullptr: system_rng()
    pc5::KeyLogSink* keylog = nullptr;                  ///< where keys are reported, if anywhere
    bool capture = false;  ///< attach a pc5::FrameCapture to each frame (for a capture writer)
    /// Keep-alive with lost-peer detection in either engine: the interval without a verified PDU
    /// from the peer. Unset: the engine's default.
    std::optional<pc5::Time> keepalive_interval;
    /// How long a keep-alive answer may take (TS 24.554 T5085). Unset: the engine's default (5 s).
    std::optional<pc5::Time> t5085;
    /// The user plane: re-key a link after this many PDUs under one key, and how long the old
    /// keys still open PDUs after re-keying (userplane::Config).
    std::uint32_t rekey_threshold = userplane::kDefaultRekeyThreshold;
    pc5::Time grace = std::chrono::seconds(2);  ///< see rekey_threshold
    link::Config a;                             ///< solution A's own settings
    sigauth::Config b;                          ///< solution B's own settings (mode: from solution)
};

/// One UE: engine and user plane (see station.hpp).
class Station final : public pc5::Endpoint {
  public:
    /// A station built from `spec`. Errors name the field at fault: "credentials" (none, or a
    /// B end UE whose key is not P-256), and the engine's own (Engine::create).
    static Result<std::unique_ptr<Station>> create(Spec spec);
    /// A station from a bundle directory (`pc5sec provision --out OUT` writes one per UE under
    /// OUT): key, certificate, CA, revocation list and policy.toml fill spec.credentials,
    /// spec.policy and (if empty) spec.user_info. The certificate must verify now and authorise
    /// spec.role (u2u-relay or end-ue): Errc::policy naming "role" otherwise; "bundle" if `dir` is
    /// not a bundle directory.
    static Result<std::unique_ptr<Station>> from_bundle(const std::filesystem::path& dir,
                                                        Spec spec);
    ~Station() override;
    Station(const Station&) = delete;
    Station& operator=(const Station&) = delete;

    /// This UE's user info ID.
    const std::string& user_info() const noexcept override;
    /// This UE's layer-2 ID.
    pc5::L2Id l2_id() const noexcept override;
    /// Whether frames to `id` are for this UE (the engine's, see pc5::Endpoint::owns_l2).
    bool owns_l2(pc5::L2Id id) const noexcept override;
    /// Starts a link (the engine's connect).
    void connect(const pc5::ConnectRequest& request, pc5::Time now) override;
    /// A frame heard: data to the user plane, the rest to the engine.
    void receive(const pc5::Frame& frame, pc5::Time now) override;
    /// The engine's timers.
    void handle_timeout(pc5::Time now) override;
    /// When handle_timeout is due next (pc5::kNever: no timer runs).
    pc5::Time next_timeout() const noexcept override;
    /// A frame to send: the engine's first, then the user plane's.
    std::optional<pc5::Frame> poll_transmit() override;
    /// What happened: the engine's events (acted on first, see station.hpp), then the user
    /// plane's (DataReceived, PduDropped).
    std::optional<pc5::Event> poll_event() override;
    /// Releases every link.
    void release_all(pc5::Time now) override;
    /// The engine's counters (the user plane's: user_plane().counters()).
    const pc5::Counters& counters() const noexcept override;
    /// The current data keys of an established link (the engine's).
    std::optional<pc5::DataKeys> data_keys(const std::string& link_id) const override;

    /// Protects `data` for `bearer` of an established link and queues it (poll_transmit):
    /// userplane::Endpoint::send.
    Status send(const std::string& link_id, std::uint8_t bearer, std::span<const std::uint8_t> data,
                pc5::Time now);
    /// Releases one established link. Errc::state naming "link_id" if no such link.
    Status release(const std::string& link_id, pc5::Time now);
    /// Re-keys one established link now (A: without re-authentication).
    Status rekey(const std::string& link_id, pc5::Time now);
    /// The link identifier update of one established link now (TS 24.554 7.2.4: new L2 IDs and
    /// KNRP-sess ID; link::Engine::update_identifiers; solution B: the link's hop to the relay,
    /// then the link re-keyed, sigauth::Engine::update_identifiers).
    Status update_identifiers(const std::string& link_id, pc5::Time now);

    pc5::Solution solution() const noexcept;    ///< the solution this UE runs
    pc5::UeRole role() const noexcept;          ///< end UE or relay
    const PolicyFile& policy() const noexcept;  ///< the policies it applies
    /// The user-plane protection a link of `keys` gets under this UE's policy.toml
    /// [user_plane]: userplane::resolve_policy with the link's negotiated algorithms.
    /// Errc::verification_failed with cause #12 when the policy requires what the link lacks.
    Result<userplane::Protection> protection_for(const pc5::DataKeys& keys) const;

    pc5::Endpoint& engine() noexcept;              ///< the link engine, whichever solution
    const pc5::Endpoint& engine() const noexcept;  ///< the link engine, whichever solution
    link::Engine* a() noexcept;                    ///< solution A's engine, or nullptr
    sigauth::Engine* b() noexcept;                 ///< solution B's engine, or nullptr
    userplane::Endpoint& user_plane() noexcept;    ///< the user plane
    const userplane::Endpoint& user_plane() const noexcept;  ///< the user plane
    /// The credential manager (nullptr for none).
    const std::shared_ptr<creds::CredentialManager>& credentials() const noexcept;

  private:
    struct Impl;
    explicit Station(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pc5sec::station
