// Benchmark workloads of sim/ (docs/scale.md "Benchmarks").
//
// - sim-scale-1k, sim-scale-10k-vs-1k: does the simulator grow linearly with the population?
//   ratio = wall(10k) / wall(1k), in this process (target <= 12).
// - From one run each of builtin:scale-10k and builtin:scale-100k on one thread, and of
//   scale-10k on two, each in a child process (fork) so that nothing before it counts:
//   - sim-scale-100k: wall time / crypto floor (target <= 1.3). The floor is every crypto
//     operation the run counted (metrics.json `crypto` and the NEA/NIA passes of `roles`) plus
//     its set-up (the CA, and one key pair and certificate issued per UE), each at its rate
//     sampled through the run itself (FloorRates);
//   - sim-scale-100k-bytes-per-ue: the child's peak resident memory over what it held as the
//     run began, per UE (target <= 8192);
//   - sim-scale-100k-vs-10k: wall(100k) / wall(10k) (target <= 11);
//   - sim-threads-2-vs-1: wall(10k, 1 thread) / wall(10k, 2 threads) (target >= 1.7).
// Capture, key log and diagrams are off: this measures the engines and the event loop.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
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

// The rates of a run's crypto floor, sampled through the run they price: the machines here are
// shared, and a rate timed once, before or after a run of minutes, may come from a quieter or
// busier minute than the run. Each sample times every kind of operation in warm loops (the
// median of 5 batches), as establish-* rows do; a run's floor is its counted operations at the
// mean of its samples' rates.
class FloorRates {
  public:
    explicit FloorRates(pc5::Solution solution)
        // Solution A's ephemeral keys are X25519; solution B's end UEs agree on P-256.
        : eph_(solution == pc5::Solution::a ? KeyType::x25519 : KeyType::p256),
          signer_(PrivateKey::generate(KeyType::p256).value()),
          signature_(sign(signer_, message_).value()),
          mine_(PrivateKey::generate(eph_).value()),
          theirs_(PrivateKey::generate(eph_).value()),
          pf_(creds::ProvisioningFunction::create(now_ - 24h, 24h * 365).value()),
          issued_(pf_.issue(profile(), now_ - 1h, 24h).value()),
          trust_(creds::TrustStore::create(pf_.ca_certificate()).value()),
          nea_(CipheringContext::create(CipheringAlgorithm::nea2, k16_)),
          nia_(IntegrityContext::create(IntegrityAlgorithm::nia2, k16_)) {
        if (!nea_ || !nia_) throw std::runtime_error("bench: NEA2/NIA2");
    }

    // One rate of each operation, about a second in all.
    void sample() {
        const auto t0 = Clock::now();
        sign_ += seconds_per(200, [&] { (void)sign(signer_, message_); });
        verify_ +=
            seconds_per(200, [&] { (void)verify(signer_.public_key(), message_, signature_); });
        cert_verify_ += seconds_per(100, [&] { (void)trust_.verify(issued_.certificate, now_); });
        key_agreement_ +=
            seconds_per(200, [&] { (void)key_agreement(mine_, theirs_.public_key()); });
        keygen_ += seconds_per(200, [&] { (void)PrivateKey::generate(eph_); });
        kdf_ += seconds_per(2000, [&] { (void)kdf(k32_, 0xB1, {message_, message_}); });
        pdcp_ += seconds_per(2000, [&] {
            (void)nea_->apply({1, 4, 0}, pdu_, pdu_, pdu_.size() * 8);
            (void)nia_->compute({1, 4, 0}, pdu_, pdu_.size() * 8);
        });
        issue_ += seconds_per(100, [&] { (void)pf_.issue(profile(), now_ - 1h, 24h); });
        ca_ += seconds_per(20, [&] { (void)creds::ProvisioningFunction::create(now_ - 24h, 24h); });
        sampling_s_ += std::chrono::duration<double>(Clock::now() - t0).count();
        ++samples_;
    }
    std::size_t samples() const { return samples_; }
    // Wall seconds spent sampling (to take off the run's wall time).
    double sampling_s() const { return sampling_s_; }

    // Every operation the run counted, and its set-up (the CA, and a key pair and a
    // certificate issued per UE), at the sampled rates.
    double floor(const nlohmann::json& crypto, std::uint64_t pdcp, std::uint64_t ues) const {
        const auto n = [&](const char* k) {
            return static_cast<double>(crypto[k].get<std::uint64_t>());
        };
        const double k = samples_ ? 1.0 / static_cast<double>(samples_) : 0;  // the mean rate
        return k * (n("sign") * sign_ + n("verify") * verify_ + n("cert_verify") * cert_verify_ +
                    n("key_agreement") * key_agreement_ + n("keygen") * keygen_ + n("kdf") * kdf_ +
                    static_cast<double>(pdcp) * pdcp_ + ca_ + static_cast<double>(ues) * issue_);
    }

  private:
    // Seconds per operation, the median of 5 batches.
    template <class F>
    static double seconds_per(std::size_t n, F&& f) {
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
    static creds::UeProfile profile() {
        creds::UeProfile p;
        p.user_info_id = "floor";
        p.authorisation = {{creds::Role::end_ue}, {0x00A001}};
        return p;
    }

    creds::TimePoint now_ = creds::Clock::now();
    std::vector<std::uint8_t> message_ = std::vector<std::uint8_t>(256, 0x5a);
    std::vector<std::uint8_t> pdu_ = std::vector<std::uint8_t>(200, 0x11);
    std::array<std::uint8_t, 32> k32_{};
    std::array<std::uint8_t, 16> k16_{};
    KeyType eph_;
    PrivateKey signer_;
    std::vector<std::uint8_t> signature_;
    PrivateKey mine_, theirs_;
    creds::ProvisioningFunction pf_;
    creds::IssuedCredentials issued_;
    creds::TrustStore trust_;
    Result<CipheringContext> nea_;
    Result<IntegrityContext> nia_;
    // Sums over the samples of seconds per operation.
    double sign_ = 0, verify_ = 0, cert_verify_ = 0, key_agreement_ = 0, keygen_ = 0, kdf_ = 0,
           pdcp_ = 0, issue_ = 0, ca_ = 0;
    double sampling_s_ = 0;
    std::size_t samples_ = 0;
};

// One run of a built-in in a child process.
struct ChildRun {
    double wall_s = 0;
    double added_bytes = 0;  // peak resident memory over what the child held as the run began
    std::uint64_t ues = 0;   // relays included
    double floor_s = 0;      // with `price`: the crypto floor (FloorRates)
    std::size_t samples = 0;
};

std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

// With `price`, the child also prices the run's crypto floor, sampling its rates before, during
// (at a quarter, half and three quarters of the pairs, the time taken off the wall) and after
// the run.
ChildRun run_in_child(const char* name, unsigned threads, bool price = false) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("bench: pipe");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("bench: fork");
    if (pid == 0) {
        close(fds[0]);
        std::string line;
        try {
            auto s = sim::builtin(name);
            if (!s) throw std::runtime_error(s.error().describe());
            std::optional<FloorRates> rates;
            auto o = quiet(threads);
            if (price) {
                rates.emplace(s->solution);
                rates->sample();
                o.progress = [&rates, next = 0.25](const sim::Progress& p) mutable {
                    if (p.fraction < next || p.fraction >= 1) return;
                    rates->sample();
                    next += 0.25;
                };
            }
            const double sampled_before = rates ? rates->sampling_s() : 0;
            const std::uint64_t at_fork = resident_bytes();
            const auto t0 = Clock::now();
            auto r = sim::run(*s, o);
            const double wall = std::chrono::duration<double>(Clock::now() - t0).count() -
                                (rates ? rates->sampling_s() - sampled_before : 0);
            if (!r || !r->expectations_met) throw std::runtime_error("did not establish");
            if (rates) rates->sample();
            const auto j = nlohmann::json::parse(r->json);
            std::uint64_t pdcp = 0;
            for (const auto& [role, v] : j["roles"].items())
                pdcp += v["crypto"]["pdcp"].get<std::uint64_t>();
            rusage u{};
            getrusage(RUSAGE_SELF, &u);
            const double peak = static_cast<double>(u.ru_maxrss) * 1024.0;  // Linux: KiB
            nlohmann::json out{
                {"wall", wall}, {"added", peak - static_cast<double>(at_fork)}, {"ues", r->ues}};
            if (rates) {
                out["floor"] = rates->floor(j["crypto"], pdcp, r->ues);
                out["samples"] = rates->samples();
            }
            line = out.dump();
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
    out.floor_s = j.value("floor", 0.0);
    out.samples = j.value("samples", std::size_t{0});
    return out;
}

// The runs the rows share: each made once, when a row first needs it.
struct Runs {
    std::optional<ChildRun> ten_k, ten_k_two, hundred_k;
    const ChildRun& get(std::optional<ChildRun>& slot, const char* name, unsigned threads,
                        bool price = false) {
        if (!slot) slot = run_in_child(name, threads, price);
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
         "set-up at rates sampled through the run)",
         [runs] {
             const auto& r = runs->get(runs->hundred_k, "scale-100k", 1, true);
             if (r.floor_s <= 0) throw std::runtime_error("bench: sim-scale-100k: no floor");
             return r.wall_s / r.floor_s;
         });
    once("sim-scale-100k-bytes-per-ue", "bytes/UE", "", "<=8192", false,
         "the same run: peak resident memory over what the child held as it began, per UE", [runs] {
             const auto& r = runs->get(runs->hundred_k, "scale-100k", 1, true);
             return r.added_bytes / static_cast<double>(r.ues);
         });
    once("sim-scale-100k-vs-10k", "s", "sim-scale-10k-wall", "<=11", false,
         "the same run: wall seconds; ratio = wall(100k) / wall(10k)",
         [runs] { return runs->get(runs->hundred_k, "scale-100k", 1, true).wall_s; });
    once("sim-threads-2-vs-1", "s", "sim-scale-10k-wall", ">=1.7", true,
         "builtin:scale-10k on two threads: wall seconds; ratio = wall(1 thread) / wall(2)",
         [runs] { return runs->get(runs->ten_k_two, "scale-10k", 2).wall_s; });
    return out;
}

}  // namespace pc5sec::bench
