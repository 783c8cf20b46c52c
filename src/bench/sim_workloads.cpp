// Benchmark workloads of sim/ (docs/scale.md "Benchmarks").
//
// - sim-scale-1k, sim-scale-10k-vs-1k: does the simulator grow linearly with the population?
//   ratio = wall(10k) / wall(1k), in this process (target <= 12).
// - From one run each of builtin:scale-10k and builtin:scale-100k on one thread, and of
//   scale-10k on two, each in a child process (fork) so that nothing before it counts:
//   - sim-scale-100k: wall time / crypto floor (target <= 1.3). The floor is every crypto
//     operation the run counted (metrics.json `crypto` and the NEA/NIA passes of `roles`) plus
//     its set-up (the CA, and one key pair and certificate issued per UE), each at the rate
//     measured here, in the same run;
//   - sim-scale-100k-bytes-per-ue: the child's peak resident memory over what it held at the
//     fork, per UE (target <= 8192);
//   - sim-scale-100k-vs-10k: wall(100k) / wall(10k) (target <= 11);
//   - sim-threads-2-vs-1: wall(10k, 1 thread) / wall(10k, 2 threads) (target >= 1.7).
// Capture, key log and diagrams are off: this measures the engines and the event loop.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "bench/registry.hpp"
#include "pc5sec/asymmetric.hpp"
#include "pc5sec/kdf.hpp"
#include "pc5sec/nea_nia.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sim.hpp"

namespace pc5sec::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

sim::Options quiet(unsigned threads) {
    sim::Options o;
    o.capture = false;
    o.keylog = false;
    o.diagrams = 0;
    o.threads = threads;
    return o;
}

double run_scale(const char* name) {
    auto s = sim::builtin(name);
    if (!s) throw std::runtime_error(s.error().describe());
    auto r = sim::run(*s, quiet(1));
    if (!r || !r->expectations_met)
        throw std::runtime_error(std::string(name) + ": the scale scenario did not establish");
    return 1.0;  // one run
}

// One run of a built-in in a child process.
struct ChildRun {
    double wall_s = 0;
    double added_bytes = 0;  // peak resident memory over what the child held at the fork
    std::uint64_t ues = 0;   // relays included
    nlohmann::json crypto;   // metrics.json `crypto`
    std::uint64_t pdcp = 0;  // NEA/NIA passes, every role
    std::string solution;
};

std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

ChildRun run_in_child(const char* name, unsigned threads) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("bench: pipe");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("bench: fork");
    if (pid == 0) {
        close(fds[0]);
        std::string line;
        try {
            const std::uint64_t at_fork = resident_bytes();
            auto s = sim::builtin(name);
            if (!s) throw std::runtime_error(s.error().describe());
            const auto t0 = Clock::now();
            auto r = sim::run(*s, quiet(threads));
            const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
            if (!r || !r->expectations_met) throw std::runtime_error("did not establish");
            const auto j = nlohmann::json::parse(r->json);
            std::uint64_t pdcp = 0;
            for (const auto& [role, v] : j["roles"].items())
                pdcp += v["crypto"]["pdcp"].get<std::uint64_t>();
            rusage u{};
            getrusage(RUSAGE_SELF, &u);
            const double peak = static_cast<double>(u.ru_maxrss) * 1024.0;  // Linux: KiB
            line = nlohmann::json{{"wall", wall},  {"added", peak - static_cast<double>(at_fork)},
                                  {"ues", r->ues}, {"crypto", j["crypto"]},
                                  {"pdcp", pdcp},  {"solution", j["solution"]}}
                       .dump();
        } catch (const std::exception& e) {
            line = nlohmann::json{{"error", e.what()}}.dump();
        }
        const char* p = line.data();
        std::size_t left = line.size();
        while (left > 0) {
            const auto n = write(fds[1], p, left);
            if (n <= 0) break;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        _exit(0);
    }
    close(fds[1]);
    std::string text;
    std::array<char, 4096> buf{};
    for (ssize_t n; (n = read(fds[0], buf.data(), buf.size())) > 0;)
        text.append(buf.data(), static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || j.contains("error"))
        throw std::runtime_error(fmt::format("bench: {} in a child process: {}", name,
                                             j.is_discarded() ? "no result" : j["error"].dump()));
    ChildRun out;
    out.wall_s = j["wall"];
    out.added_bytes = j["added"];
    out.ues = j["ues"];
    out.crypto = j["crypto"];
    out.pdcp = j["pdcp"];
    out.solution = j["solution"];
    return out;
}

// Seconds per operation, the median of 5 batches.
template <class F>
double seconds_per(std::size_t n, F&& f) {
    std::array<double, 5> batches{};
    for (auto& b : batches) {
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i)
            f();
        b = std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(n);
    }
    std::sort(batches.begin(), batches.end());
    return batches[2];
}

// The crypto floor of a run: its counted operations and set-up at the rates measured now.
double crypto_floor_s(const ChildRun& r) {
    const auto now = creds::Clock::now();
    const std::vector<std::uint8_t> message(256, 0x5a);
    const auto signer = PrivateKey::generate(KeyType::p256).value();
    const auto signature = sign(signer, message).value();
    // Solution A's ephemeral keys are X25519; solution B's end UEs agree on P-256.
    const KeyType eph = r.solution == "A" ? KeyType::x25519 : KeyType::p256;
    const auto mine = PrivateKey::generate(eph).value(), theirs = PrivateKey::generate(eph).value();
    auto pf = creds::ProvisioningFunction::create(now - 24h, 24h * 365).value();
    creds::UeProfile p;
    p.user_info_id = "floor";
    p.authorisation = {{creds::Role::end_ue}, {0x00A001}};
    const auto issued = pf.issue(p, now - 1h, 24h).value();
    const auto trust = creds::TrustStore::create(pf.ca_certificate()).value();
    const std::array<std::uint8_t, 32> k{};
    const std::array<std::uint8_t, 16> k16{};
    auto nea = CipheringContext::create(CipheringAlgorithm::nea2, k16);
    auto nia = IntegrityContext::create(IntegrityAlgorithm::nia2, k16);
    if (!nea || !nia) throw std::runtime_error("bench: NEA2/NIA2");
    std::vector<std::uint8_t> pdu(200, 0x11);

    const auto& c = r.crypto;
    const auto n = [&](const char* k) { return static_cast<double>(c[k].get<std::uint64_t>()); };
    double floor = 0;
    floor += n("sign") * seconds_per(200, [&] { (void)sign(signer, message); });
    floor += n("verify") *
             seconds_per(200, [&] { (void)verify(signer.public_key(), message, signature); });
    floor +=
        n("cert_verify") * seconds_per(100, [&] { (void)trust.verify(issued.certificate, now); });
    floor += n("key_agreement") *
             seconds_per(200, [&] { (void)key_agreement(mine, theirs.public_key()); });
    floor += n("keygen") * seconds_per(200, [&] { (void)PrivateKey::generate(eph); });
    floor += n("kdf") * seconds_per(2000, [&] { (void)kdf(k, 0xB1, {message, message}); });
    floor += static_cast<double>(r.pdcp) * seconds_per(2000, [&] {
                 (void)nea->apply({1, 4, 0}, pdu, pdu, pdu.size() * 8);
                 (void)nia->compute({1, 4, 0}, pdu, pdu.size() * 8);
             });
    // Set-up: the CA, then a key pair and a certificate for each UE.
    floor += seconds_per(20, [&] { (void)creds::ProvisioningFunction::create(now - 24h, 24h); });
    floor +=
        static_cast<double>(r.ues) * seconds_per(100, [&] { (void)pf.issue(p, now - 1h, 24h); });
    return floor;
}

// The runs the rows share: each made once, when a row first needs it.
struct Runs {
    std::optional<ChildRun> ten_k, ten_k_two, hundred_k;
    std::optional<double> floor_100k;
    const ChildRun& get(std::optional<ChildRun>& slot, const char* name, unsigned threads) {
        if (!slot) slot = run_in_child(name, threads);
        return *slot;
    }
};

}  // namespace

std::vector<Workload> sim_workloads() {
    auto runs = std::make_shared<Runs>();
    std::vector<Workload> out{
        Workload{"sim-scale-1k", "runs/s", [] { return run_scale("scale-1k"); }, 1.0, "", "", false,
                 "builtin:scale-1k: 1,000 end UEs, 100 relays, one run"},
        Workload{"sim-scale-10k-vs-1k", "runs/s", [] { return run_scale("scale-10k"); }, 1.0,
                 "sim-scale-1k", "<=12", true,
                 "builtin:scale-10k; ratio = wall(10k) / wall(1k): about 10 is linear"},
    };
    const auto once = [&](std::string name, std::string unit, std::string baseline,
                          std::string target, bool inverse, std::string note,
                          std::function<double()> f) {
        Workload w{std::move(name),     std::move(unit),   {},      1.0,
                   std::move(baseline), std::move(target), inverse, std::move(note)};
        w.measure_once = std::move(f);
        out.push_back(std::move(w));
    };
    once("sim-scale-10k-wall", "s", "", "", false,
         "builtin:scale-10k on one thread, in a child process: wall seconds",
         [runs] { return runs->get(runs->ten_k, "scale-10k", 1).wall_s; });
    once("sim-scale-100k", "x floor", "", "<=1.3", false,
         "builtin:scale-100k on one thread: wall / crypto floor (its counted operations and "
         "set-up at the rates measured in this run)",
         [runs] {
             const auto& r = runs->get(runs->hundred_k, "scale-100k", 1);
             if (!runs->floor_100k) runs->floor_100k = crypto_floor_s(r);
             return r.wall_s / *runs->floor_100k;
         });
    once("sim-scale-100k-bytes-per-ue", "bytes/UE", "", "<=8192", false,
         "the same run: peak resident memory over what the child held at the fork, per UE", [runs] {
             const auto& r = runs->get(runs->hundred_k, "scale-100k", 1);
             return r.added_bytes / static_cast<double>(r.ues);
         });
    once("sim-scale-100k-vs-10k", "s", "sim-scale-10k-wall", "<=11", false,
         "the same run: wall seconds; ratio = wall(100k) / wall(10k)",
         [runs] { return runs->get(runs->hundred_k, "scale-100k", 1).wall_s; });
    once("sim-threads-2-vs-1", "s", "sim-scale-10k-wall", ">=1.7", true,
         "builtin:scale-10k on two threads: wall seconds; ratio = wall(1 thread) / wall(2)",
         [runs] { return runs->get(runs->ten_k_two, "scale-10k", 2).wall_s; });
    return out;
}

}  // namespace pc5sec::bench
