// One UE of either solution: its engine and its user plane wired together (station.hpp). Every
// driver (net::Ue, the simulator, `pc5sec establish`, the examples) builds its UEs here.
#include "pc5sec/station.hpp"

#include <fmt/format.h>

#include <system_error>
#include <utility>
#include <variant>

#include "pc5sec/log.hpp"
#include "pc5sec/text.hpp"

namespace pc5sec::station {

struct Station::Impl {
    pc5::Solution solution = pc5::Solution::a;
    pc5::UeRole role = pc5::UeRole::end_ue;
    PolicyFile policy;
    std::shared_ptr<creds::CredentialManager> credentials;
    std::unique_ptr<link::Engine> a;
    std::unique_ptr<sigauth::Engine> b;
    pc5::Endpoint* engine = nullptr;
    std::unique_ptr<userplane::Endpoint> up;
    pc5::Time now{0};  // of the last call from the driver

    // The keys of a link that came up or was re-keyed go into the user plane, with the
    // protection this UE's [user_plane] policy gives them; a link it refuses is released.
    void install(const std::string& id) {
        auto keys = engine->data_keys(id);
        if (!keys) return;
        auto protection = protection_for(*keys);
        Status st = protection ? up->install(*keys, *protection, now) : Status(protection.error());
        if (st) return;
        log::write(
            log::Level::warning, "station",
            fmt::format("{}: link {}: no data: {}; releasing it", escape_text(engine->user_info()),
                        escape_text(id), st.error().describe()));
        (void)release(id);
    }

    Result<userplane::Protection> protection_for(const pc5::DataKeys& keys) const {
        // The peer's [user_plane] policy is not exchanged (docs/library.md "The station"): both
        // ends apply their own, which must agree for data to pass.
        return userplane::resolve_policy(policy.user_plane, policy.user_plane, keys.ciphering,
                                         keys.integrity);
    }

    Status release(const std::string& id) {
        if (a) return a->release(id, now);
        return b->release(id, now);
    }

    Status rekey(const std::string& id) {
        if (a) return a->rekey(id, false, now);
        return b->rekey(id, now);  // docs/solution-b.md "Re-keying"
    }

    // Acts on an engine event before it is passed on.
    void act_on(const pc5::Event& ev) {
        if (const auto* e = std::get_if<pc5::LinkEstablished>(&ev)) {
            install(e->link.id);
        } else if (const auto* r = std::get_if<pc5::LinkRekeyed>(&ev)) {
            install(r->link.id);
        } else if (const auto* rel = std::get_if<pc5::LinkReleased>(&ev)) {
            up->remove(rel->id);
        }
    }
};

namespace {

Status check_spec(const Spec& s) {
    if (!s.credentials)
        return make_error(Errc::invalid_argument, "credentials",
                          "a station needs its credentials (a creds::CredentialManager)");
    return {};
}

// Copies the common fields into solution A's configuration.
link::Config a_config(Spec& s) {
    link::Config c = std::move(s.a);
    c.user_info = s.user_info;
    c.l2_id = s.l2_id;
    c.role = s.role;
    c.credentials = s.credentials;
    c.policy = s.policy;
    c.in_coverage = s.in_coverage;
    c.wall_epoch = s.wall_epoch;
    c.rng = s.rng;
    c.keylog = s.keylog;
    c.directory = s.directory;
    c.discovery_material = s.discovery_material;
    c.capture = s.capture;
    if (s.keepalive_interval) c.timers.keepalive_interval = *s.keepalive_interval;
    if (s.t5085) c.timers.t5085 = *s.t5085;
    return c;
}

// Copies the common fields into solution B's configuration: hardened mode takes step 0 from
// the credential manager (renewal in coverage, #6 out of coverage, as solution A); literal mode
// only the key (raw public keys, seed 001).
sigauth::Config b_config(Spec& s) {
    sigauth::Config c = std::move(s.b);
    c.role = s.role;
    c.user_info = s.user_info;
    c.l2_id = s.l2_id;
    c.mode =
        s.solution == pc5::Solution::b_literal ? sigauth::Mode::literal : sigauth::Mode::hardened;
    if (c.mode == sigauth::Mode::hardened) {
        c.credentials = s.credentials;
        c.in_coverage = s.in_coverage;
    } else {
        c.key = s.credentials->key();
    }
    c.rscs = s.rscs;
    if (c.rscs.empty() && s.role == pc5::UeRole::relay)
        c.rscs = s.credentials->certificate().authorisation().rscs;
    c.rng = s.rng;
    c.keylog = s.keylog;
    c.capture = s.capture;
    c.directory = s.directory;
    c.discovery_material = s.discovery_material;
    c.wall_clock_at_zero = s.wall_epoch;
    c.policy = s.policy;  // checked as solution A checks it
    if (s.keepalive_interval) c.keepalive_interval = *s.keepalive_interval;
    if (s.t5085) c.t5085 = *s.t5085;
    return c;
}

}  // namespace

Result<std::unique_ptr<Station>> Station::create(Spec spec) {
    PC5SEC_TRY(check_spec(spec));
    if (spec.user_info.empty()) spec.user_info = spec.credentials->certificate().subject();
    auto d = std::make_unique<Impl>();
    d->solution = spec.solution;
    d->role = spec.role;
    d->policy = spec.policy;
    d->credentials = spec.credentials;
    // The discovery material goes to the key log once, so that a capture's restricted discovery
    // can be read with it (pc5sec/discovery.hpp).
    if (spec.keylog && spec.log_discovery_material)
        for (const auto& m : spec.discovery_material)
            discovery::log_material(*spec.keylog, m);
    if (spec.solution == pc5::Solution::a) {
        auto e = link::Engine::create(a_config(spec));
        if (!e) return std::move(e).error();
        d->a = std::move(*e);
        d->engine = d->a.get();
    } else {
        auto e = sigauth::Engine::create(b_config(spec));
        if (!e) return std::move(e).error();
        d->b = std::move(*e);
        d->engine = d->b.get();
    }
    userplane::Config uc;
    uc.l2_id = spec.l2_id;
    uc.grace = spec.grace;
    uc.rekey_threshold = spec.rekey_threshold;
    uc.key_source = d->engine;  // keys of a link the peer re-keyed first
    uc.capture = spec.capture;
    d->up = std::make_unique<userplane::Endpoint>(uc);
    return std::unique_ptr<Station>(new Station(std::move(d)));
}

Result<std::unique_ptr<Station>> Station::from_bundle(const std::filesystem::path& dir, Spec spec) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return make_error(Errc::io, "bundle",
                          fmt::format("{}: not a directory (pc5sec provision --out OUT writes "
                                      "one bundle per UE, OUT/<name>/)",
                                      dir.string()));
    auto bundle = creds::Bundle::load(dir);
    if (!bundle) return std::move(bundle).error();
    if (auto own = bundle->trust.verify(bundle->certificate, spec.wall_epoch); !own)
        return std::move(own).error();
    const creds::Authorisation auth = bundle->certificate.authorisation();
    const std::string cert_file = bundle->certificate.source();
    const bool relay = spec.role == pc5::UeRole::relay;
    if (!auth.has_role(relay ? creds::Role::u2u_relay : creds::Role::end_ue))
        return make_error(Errc::policy, "role",
                          fmt::format("{} does not authorise the {} role ({})", cert_file,
                                      relay ? "u2u-relay" : "end-ue", creds::to_string(auth)));
    spec.policy = bundle->policy;
    if (spec.discovery_material.empty()) spec.discovery_material = bundle->discovery;
    if (spec.user_info.empty()) spec.user_info = bundle->certificate.subject();
    auto manager = creds::CredentialManager::from_bundle(std::move(*bundle));
    if (!manager) return std::move(manager).error();
    spec.credentials = std::make_shared<creds::CredentialManager>(std::move(*manager));
    return create(std::move(spec));
}

Station::Station(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Station::~Station() = default;

const std::string& Station::user_info() const noexcept {
    return impl_->engine->user_info();
}

pc5::L2Id Station::l2_id() const noexcept {
    return impl_->engine->l2_id();
}

void Station::connect(const pc5::ConnectRequest& request, pc5::Time now) {
    impl_->now = now;
    impl_->engine->connect(request, now);
}

void Station::receive(const pc5::Frame& frame, pc5::Time now) {
    impl_->now = now;
    if (userplane::carries_data(frame))
        impl_->up->receive(frame, now);
    else
        impl_->engine->receive(frame, now);
}

void Station::handle_timeout(pc5::Time now) {
    impl_->now = now;
    impl_->engine->handle_timeout(now);
}

pc5::Time Station::next_timeout() const noexcept {
    return impl_->engine->next_timeout();
}

std::optional<pc5::Frame> Station::poll_transmit() {
    if (auto f = impl_->engine->poll_transmit()) {
        // A layer-2 relay's user plane learns where SRAP local UE IDs lead from what its engine
        // forwards (either solution).
        if (impl_->role == pc5::UeRole::relay) impl_->up->observe_relayed(*f);
        return f;
    }
    return impl_->up->poll_transmit();
}

std::optional<pc5::Event> Station::poll_event() {
    if (auto e = impl_->engine->poll_event()) {
        impl_->act_on(*e);
        return e;
    }
    if (auto e = impl_->up->poll_event()) return e;
    // Key contexts at their threshold: the engine re-keys (its frames and events follow).
    while (auto r = impl_->up->poll_rekey())
        if (auto st = impl_->rekey(r->link_id); !st)
            log::write(log::Level::warning, "station",
                       fmt::format("link {}: re-keying: {}", escape_text(r->link_id),
                                   st.error().describe()));
    if (auto e = impl_->engine->poll_event()) {
        impl_->act_on(*e);
        return e;
    }
    return std::nullopt;
}

void Station::release_all(pc5::Time now) {
    impl_->now = now;
    impl_->engine->release_all(now);
}

const pc5::Counters& Station::counters() const noexcept {
    return impl_->engine->counters();
}

std::optional<pc5::DataKeys> Station::data_keys(const std::string& link_id) const {
    return impl_->engine->data_keys(link_id);
}

Status Station::send(const std::string& link_id, std::uint8_t bearer,
                     std::span<const std::uint8_t> data, pc5::Time now) {
    impl_->now = now;
    return impl_->up->send(link_id, bearer, data, now);
}

Status Station::release(const std::string& link_id, pc5::Time now) {
    impl_->now = now;
    return impl_->release(link_id);
}

Status Station::rekey(const std::string& link_id, pc5::Time now) {
    impl_->now = now;
    return impl_->rekey(link_id);
}

bool Station::owns_l2(pc5::L2Id id) const noexcept {
    return engine().owns_l2(id);
}

Status Station::update_identifiers(const std::string& link_id, pc5::Time now) {
    impl_->now = now;
    if (impl_->a) return impl_->a->update_identifiers(link_id, now);
    return impl_->b->update_identifiers(link_id, now);  // docs/solution-b.md
}

pc5::Solution Station::solution() const noexcept {
    return impl_->solution;
}

pc5::UeRole Station::role() const noexcept {
    return impl_->role;
}

const PolicyFile& Station::policy() const noexcept {
    return impl_->policy;
}

Result<userplane::Protection> Station::protection_for(const pc5::DataKeys& keys) const {
    return impl_->protection_for(keys);
}

pc5::Endpoint& Station::engine() noexcept {
    return *impl_->engine;
}

const pc5::Endpoint& Station::engine() const noexcept {
    return *impl_->engine;
}

link::Engine* Station::a() noexcept {
    return impl_->a.get();
}

sigauth::Engine* Station::b() noexcept {
    return impl_->b.get();
}

userplane::Endpoint& Station::user_plane() noexcept {
    return *impl_->up;
}

const userplane::Endpoint& Station::user_plane() const noexcept {
    return *impl_->up;
}

const std::shared_ptr<creds::CredentialManager>& Station::credentials() const noexcept {
    return impl_->credentials;
}

}  // namespace pc5sec::station
