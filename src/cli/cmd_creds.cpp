// `pc5sec creds check`: what a UE decides from its credentials, at a given time. Loads a bundle
// (as `pc5sec provision` writes it), checks the UE's own credentials as an out-of-coverage UE
// would, verifies a peer's certificate against the bundle's trust anchor and revocation list,
// and answers the authorisation questions. A "no" exits 1 naming the file, the field and the
// PC5 cause the link engines would send.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::cli {
namespace {

struct CheckArgs {
    std::string bundle, peer, at, target, relay_rsc, use_relay_rsc;
    bool as_peer = false;
};

// A failed check (verification or authorisation) exits 1; bad input exits 2.
void check(Status st) {
    if (st) return;
    const Error& e = st.error();
    const bool decision = e.code == Errc::verification_failed || e.code == Errc::policy;
    throw CommandError(decision ? kExitCheckFailed : kExitBadInput, e.describe());
}

creds::Rsc rsc_arg(const std::string& text, const char* field) {
    return static_cast<creds::Rsc>(take(parse_uint(text, field, creds::kMaxRsc)));
}

void run_check(const CheckArgs& a) {
    const creds::TimePoint now =
        a.at.empty() ? creds::from_unix_seconds(creds::to_unix_seconds(creds::Clock::now()))
                     : take(creds::parse_time(a.at, "--at"));
    auto bundle = take(creds::Bundle::load(a.bundle));
    const auto own = bundle.certificate;
    std::cout << fmt::format(
        "bundle {}: {} ({}), valid {} to {}, {}\n", a.bundle, own.subject(),
        creds::to_string(own.authorisation()), creds::format_time(own.not_before()),
        creds::format_time(own.not_after()),
        bundle.trust.revocation_list()
            ? fmt::format("revocation list number {}", bundle.trust.revocation_list()->number())
            : std::string("no revocation list"));
    auto manager = take(creds::CredentialManager::from_bundle(std::move(bundle)));
    manager.set_logger([](std::string_view line) { std::cout << "  " << line << "\n"; });
    check(manager.ensure_fresh(now, false));  // no provisioning function here: out of coverage
    std::cout << fmt::format("own credentials at {}: usable\n", creds::format_time(now));
    if (a.peer.empty()) return;

    const auto cert = take(creds::Certificate::load(a.peer));
    auto peer = manager.trust().verify(cert, now);
    if (!peer) check(std::move(peer).error());
    std::cout << fmt::format("peer {}: {} ({}) verified at {}\n", a.peer, peer->user_info_id,
                             creds::to_string(peer->authorisation), creds::format_time(now));
    if (!a.target.empty()) {
        check(creds::check_target_user_info(*peer, a.target, a.peer));
        std::cout << fmt::format("target user info '{}': matches\n", a.target);
    }
    if (a.as_peer) {
        check(creds::may_be_peer(*peer, a.peer));
        std::cout << "may be the peer of a direct or end-to-end link: yes\n";
    }
    if (!a.relay_rsc.empty()) {
        const auto rsc = rsc_arg(a.relay_rsc, "--relay-rsc");
        check(creds::may_act_as_relay(*peer, rsc, a.peer));
        std::cout << fmt::format("may act as UE-to-UE relay for RSC 0x{:06x}: yes\n", rsc);
    }
    if (!a.use_relay_rsc.empty()) {
        const auto rsc = rsc_arg(a.use_relay_rsc, "--use-relay");
        const auto self = manager.trust().verify(manager.certificate(), now);
        if (!self) check(self.error());
        check(creds::may_use_relay(*self, *peer, rsc, manager.certificate().source(), a.peer));
        std::cout << fmt::format("{} may use relay {} for RSC 0x{:06x}: yes\n", self->user_info_id,
                                 peer->user_info_id, rsc);
    }
}

void register_creds(CLI::App& app) {
    auto* creds_cmd = app.add_subcommand("creds", "inspect and check long-term credentials");
    creds_cmd->require_subcommand(1);
    auto args = std::make_shared<CheckArgs>();
    auto* sub = creds_cmd->add_subcommand(
        "check",
        "check a UE's bundle, verify a peer certificate and answer authorisation questions");
    sub->add_option("--bundle", args->bundle, "the UE's directory (key.pem, cert.pem, ca.pem, ...)")
        ->required();
    sub->add_option("--peer", args->peer, "a peer's cert.pem to verify with the bundle's trust");
    sub->add_option("--at", args->at,
                    "the time to check at: unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ "
                    "(default now)");
    sub->add_option("--target", args->target, "the Target User Info the peer must hold");
    sub->add_flag("--as-peer", args->as_peer,
                  "the peer must be allowed as a link's far end (end-ue)");
    sub->add_option("--relay-rsc", args->relay_rsc, "the peer must be a relay serving this RSC");
    sub->add_option("--use-relay", args->use_relay_rsc,
                    "this UE must be allowed to use the peer as relay for this RSC");
    sub->callback([args] { run_check(*args); });
}

}  // namespace

const CommandRegistrar kRegistrar{31, register_creds};

}  // namespace pc5sec::cli
