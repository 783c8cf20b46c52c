// Benchmark workload of net/: does `pc5sec ue` lose lines under a burst? Four sources each send
// 5,000 unpaced lines to one target through one relay, all on loopback UDP in this process (one
// thread per UE, as tests/net does). The row is the share of lines the target did not print, in
// percent (target <= 1 %; before batched receive and large buffers it was 28 % for A through a
// layer-3 relay, issue [robust]). Every UE's own loss counters are in docs/udp.md, "Loss".
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "bench/registry.hpp"
#include "pc5sec/net.hpp"
#include "pc5sec/provisioning.hpp"

namespace pc5sec::bench {
namespace {

using namespace std::chrono_literals;

constexpr int kSources = 4;
constexpr int kLines = 5000;
constexpr pc5::L2Id kRelay = 0x000050, kTarget = 0x00000B;
constexpr net::Address kLoopback{0x7F000001, 0};

// Bundles for relay1, bob and s1..s4, written once.
const std::filesystem::path& bundles() {
    static const std::filesystem::path dir = [] {
        char tmpl[] = "/tmp/pc5sec-bench-net-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
        const std::filesystem::path out = tmpl;
        const auto now = creds::Clock::now();
        auto pf = creds::ProvisioningFunction::create(now - 1h, 24h * 365).value();
        auto issue = [&](const std::string& name, creds::Role role) {
            creds::UeProfile p;
            p.user_info_id = name;
            p.authorisation = creds::Authorisation{{role}, {0x000001}};
            auto issued = pf.issue(p, now - 1h, 24h * 30).value();
            pf.write_bundle(out / name, issued, PolicyFile{}).value();
        };
        issue("relay1", creds::Role::u2u_relay);
        issue("bob", creds::Role::end_ue);
        for (int i = 1; i <= kSources; ++i)
            issue(fmt::format("s{}", i), creds::Role::end_ue);  // not "s" + (GCC 12 -Wrestrict)
        return out;
    }();
    return dir;
}

struct Running {
    std::unique_ptr<net::Ue> ue;
    std::thread thread;
    std::atomic<int> rc{-1};
    void start() {
        thread = std::thread([this] { rc = ue->run(); });
    }
    void stop() {
        if (!thread.joinable()) return;
        ue->request_stop();
        thread.join();
    }
    ~Running() { stop(); }
};

bool wait_for(const std::function<bool()>& cond, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (cond()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return cond();
}

// One burst: the percentage of the 4 x 5,000 lines the target did not receive.
double loss_percent(pc5::Solution solution, pc5::Path path) {
    const auto& dir = bundles();
    auto relay_sock = net::UdpSocket::bind(kLoopback).value();
    auto target_sock = net::UdpSocket::bind(kLoopback).value();
    std::vector<net::UdpSocket> source_socks;
    for (int i = 0; i < kSources; ++i)
        source_socks.push_back(net::UdpSocket::bind(kLoopback).value());
    const auto relay_addr = relay_sock.local();
    auto quiet = [](std::string_view) {};

    net::UeConfig r;
    r.bundle = dir / "relay1";
    r.role = net::UeRole::relay;
    r.solution = solution;
    r.l2_id = kRelay;
    r.peers = {{"bob", kTarget, target_sock.local()}};
    for (int i = 0; i < kSources; ++i)
        r.peers.push_back({"s" + std::to_string(i + 1), static_cast<pc5::L2Id>(i + 1),
                           source_socks[static_cast<std::size_t>(i)].local()});
    r.input_fd = -1;
    r.socket = std::move(relay_sock);
    r.log = quiet;
    Running relay;
    relay.ue = net::Ue::create(std::move(r)).value();

    std::atomic<std::uint64_t> delivered{0};
    net::UeConfig t;
    t.bundle = dir / "bob";
    t.role = net::UeRole::target;
    t.solution = solution;
    t.l2_id = kTarget;
    t.peers = {{"", kRelay, relay_addr}};
    t.input_fd = -1;
    t.socket = std::move(target_sock);
    t.log = quiet;
    t.deliver = [&](std::string_view) { ++delivered; };
    Running target;
    target.ue = net::Ue::create(std::move(t)).value();
    relay.start();
    target.start();

    std::array<Running, kSources> sources;
    std::array<int, kSources> write_ends{}, read_ends{};
    std::vector<std::thread> writers;
    for (int i = 0; i < kSources; ++i) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        write_ends[static_cast<std::size_t>(i)] = fds[1];
        read_ends[static_cast<std::size_t>(i)] = fds[0];
        net::UeConfig c;
        c.bundle = dir / ("s" + std::to_string(i + 1));
        c.role = net::UeRole::source;
        c.solution = solution;
        c.path = path;
        c.l2_id = static_cast<pc5::L2Id>(i + 1);
        c.peers = {{"", kRelay, relay_addr}};
        c.target = "bob";
        c.input_fd = fds[0];
        c.socket = std::move(source_socks[static_cast<std::size_t>(i)]);
        c.log = quiet;
        auto& s = sources[static_cast<std::size_t>(i)];
        s.ue = net::Ue::create(std::move(c)).value();
        s.start();
    }
    // Unpaced: each source's lines are written as fast as the pipe takes them.
    for (int i = 0; i < kSources; ++i)
        writers.emplace_back([fd = write_ends[static_cast<std::size_t>(i)], i] {
            std::string text;
            for (int n = 0; n < kLines; ++n)
                text += fmt::format("s{} line {}\n", i + 1, n);
            for (std::size_t done = 0; done < text.size();) {
                const auto w = ::write(fd, text.data() + done, text.size() - done);
                if (w <= 0) break;
                done += static_cast<std::size_t>(w);
            }
            ::close(fd);
        });
    for (auto& w : writers)
        w.join();
    const bool ended = wait_for(
        [&] {
            for (const auto& s : sources)
                if (s.rc.load() == -1) return false;
            return true;
        },
        120s);
    // What is still on its way: until everything arrived, or nothing more arrives for 500 ms.
    std::uint64_t last = delivered.load();
    for (int quiet_rounds = 0; quiet_rounds < 5 && delivered.load() < kSources * kLines;) {
        std::this_thread::sleep_for(100ms);
        const auto now = delivered.load();
        quiet_rounds = now == last ? quiet_rounds + 1 : 0;
        last = now;
    }
    for (auto& s : sources)
        s.stop();
    for (int fd : read_ends)
        ::close(fd);
    target.stop();
    relay.stop();
    if (!ended) throw std::runtime_error("net-loss: a source did not finish in 120 s");
    for (const auto& s : sources)
        if (s.rc.load() != net::kExitOk)
            throw std::runtime_error("net-loss: a source failed (exit " +
                                     std::to_string(s.rc.load()) + ")");
    const double total = kSources * kLines;
    return 100.0 * (total - static_cast<double>(delivered.load())) / total;
}

}  // namespace

std::vector<Workload> net_workloads() {
    auto row = [](std::string name, pc5::Solution s, pc5::Path p, std::string note) {
        Workload w{std::move(name), "% lost", {}, 1.0, "", "<=1", false, std::move(note)};
        w.measure_once = [s, p] { return loss_percent(s, p); };
        return w;
    };
    return {
        row("net-loss-4x5000-a-l3", pc5::Solution::a, pc5::Path::l3,
            "pc5sec ue on loopback: 4 sources x 5,000 unpaced lines through a layer-3 relay; "
            "lines the target did not print (worst of 3 runs)"),
        row("net-loss-4x5000-b-hardened", pc5::Solution::b_hardened, pc5::Path::l2,
            "the same with solution B (hardened) through its relay"),
    };
}

}  // namespace pc5sec::bench
