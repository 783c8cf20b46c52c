// `pc5sec ue`: one UE as a real process, its PC5 frames carried over UDP (docs/udp.md). A source
// sends each line of its stdin to --target, a target prints each line it receives on stdout, a
// relay logs what it forwards; logs go to stderr and never show a key. SIGINT / SIGTERM release
// the links and exit 0; a lost peer exits 3.
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pc5sec/hex.hpp"
#include "pc5sec/net.hpp"

namespace pc5sec::cli {
namespace {

struct Args {
    std::string bundle, role, l2_id, bind, target, solution = "A", path, rsc, pcap, keylog;
    std::vector<std::string> peers;
    double keepalive = 2;
    double privacy_timer = 0;
};

void run_ue(const Args& args) {
    net::UeConfig c;
    c.bundle = args.bundle;
    c.role = take(net::ue_role_from_name(args.role, "--role"));
    c.l2_id = take(net::parse_l2_id(args.l2_id, "--l2-id"));
    c.bind = take(net::parse_address(args.bind, "--bind"));
    for (const auto& p : args.peers)
        c.peers.push_back(take(net::parse_peer(p, "--peer")));
    c.target = args.target;
    if (args.solution == "A")
        c.solution = pc5::Solution::a;
    else if (args.solution == "B-hardened")
        c.solution = pc5::Solution::b_hardened;
    else if (args.solution == "B-literal")
        c.solution = pc5::Solution::b_literal;
    else
        throw CommandError(
            kExitBadInput,
            fmt::format("--solution: \"{}\": A, B-hardened or B-literal", args.solution));
    const bool is_b = c.solution != pc5::Solution::a;
    if (args.path.empty())
        c.path = is_b ? pc5::Path::l2 : pc5::Path::l3;  // each solution's default
    else if (args.path == "l3")
        c.path = pc5::Path::l3;
    else if (args.path == "l2")
        c.path = pc5::Path::l2;
    else if (args.path == "direct")
        c.path = pc5::Path::direct;
    else
        throw CommandError(kExitBadInput,
                           fmt::format("--path: \"{}\": l2 or l3 (or direct)", args.path));
    if (is_b && c.path == pc5::Path::direct)
        throw CommandError(kExitBadInput,
                           "--path direct: solution B always goes through a relay (seed 001): l2 "
                           "or l3");
    if (!args.rsc.empty())
        c.rsc = static_cast<std::uint32_t>(take(parse_uint(args.rsc, "--rsc", 0xFFFFFF)));
    if (!(args.keepalive >= 0 && args.keepalive <= 3600))
        throw CommandError(kExitBadInput, "--keepalive: seconds, 0..3600 (0: never)");
    c.keepalive =
        std::chrono::duration_cast<pc5::Time>(std::chrono::duration<double>(args.keepalive));
    if (!(args.privacy_timer >= 0 && args.privacy_timer <= 86400))
        throw CommandError(kExitBadInput, "--privacy-timer: seconds, 0..86400 (0: off)");
    c.privacy_timer =
        std::chrono::duration_cast<pc5::Time>(std::chrono::duration<double>(args.privacy_timer));
    c.pcap = args.pcap;
    c.keylog = args.keylog;
    c.input_fd = c.role == net::UeRole::source ? 0 : -1;
    c.deliver = [](std::string_view line) { std::cout << line << std::endl; };
    auto created = net::Ue::create(std::move(c));
    if (!created) {
        // The library names UeConfig's fields; the user typed the options that set them.
        Error e = created.error();
        static const std::map<std::string, std::string> kOption = {
            {"l2_id", "--l2-id"},   {"peers", "--peer"}, {"target", "--target"}, {"path", "--path"},
            {"bundle", "--bundle"}, {"role", "--role"},  {"rsc", "--rsc"},       {"pcap", "--pcap"},
            {"keylog", "--keylog"}, {"bind", "--bind"}};
        if (auto it = kOption.find(e.field); it != kOption.end()) e.field = it->second;
        take(Result<int>(std::move(e)));
    }
    auto ue = std::move(*created);
    net::stop_on_signals(*ue);
    const int rc = ue->run();
    if (rc != 0)
        throw CommandError(rc, rc == net::kExitPeerLost ? "the peer is lost"
                               : rc == net::kExitLost
                                   ? "datagrams or data were lost on the way (see the done: line)"
                                   : "failed");
}

void register_ue(CLI::App& app) {
    auto args = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(
        "ue", "run one UE (source, relay or target) as a real process, PC5 over UDP (docs/udp.md)");
    cmd->add_option("--bundle", args->bundle,
                    "the UE's credentials, as `pc5sec provision` wrote "
                    "them (OUT/<name>)")
        ->required();
    cmd->add_option("--role", args->role,
                    "source (sends stdin lines to --target), relay, or target (prints lines)")
        ->required();
    cmd->add_option("--l2-id", args->l2_id, "this UE's layer-2 ID, hex (e.g. 0x00000a)")
        ->required();
    cmd->add_option("--bind", args->bind, "UDP address to listen on, e.g. 127.0.0.1:5001")
        ->required();
    cmd->add_option("--peer", args->peers,
                    "a UE in range: [NAME:]L2ID=ADDR:PORT (repeat; a relay names the UEs it "
                    "relays to)")
        ->required();
    cmd->add_option("--target", args->target, "source: the target's user info ID");
    cmd->add_option("--solution", args->solution, "A, B-hardened or B-literal")
        ->capture_default_str();
    cmd->add_option("--path", args->path,
                    "source: the relay path, l3 or l2 (default l3 for A, l2 for B; A also direct)");
    cmd->add_option("--rsc", args->rsc,
                    "source: relay service code (default: the first in its certificate)");
    cmd->add_option("--keepalive", args->keepalive,
                    "seconds between keep-alive checks of each link (0: never)")
        ->capture_default_str();
    cmd->add_option("--privacy-timer", args->privacy_timer,
                    "T5090, seconds between link identifier updates (new L2 IDs and session "
                    "keys on every link; solution B: on each end UE's hop to the relay; 0: off)")
        ->capture_default_str();
    cmd->add_option("--pcap", args->pcap, "write what this UE puts on the air (pcap)");
    cmd->add_option("--keylog", args->keylog, "write the key log (docs/keylog.md), mode 0600");
    cmd->callback([args] { run_ue(*args); });
}

}  // namespace

const CommandRegistrar kRegistrar{50, register_ue};

}  // namespace pc5sec::cli
