// Whole UEs over real loopback sockets: a source and a target on threads of this process, the
// relay in a child process (so that it can be killed with SIGKILL, as a crashed relay would
// be). Bundles come from a provisioning function, as `pc5sec provision` writes them. Every
// wait is bounded; every UE is stopped and every child reaped at the end of each test.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "pc5sec/codec.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/net.hpp"
#include "pc5sec/provisioning.hpp"

using namespace pc5sec;
using namespace pc5sec::net;
using namespace std::chrono_literals;

namespace {

constexpr pc5::L2Id kAlice = 0x00000A, kRelay = 0x000050, kBob = 0x00000B;
constexpr Address kLoopback{0x7F000001, 0};

// One provisioning function and three bundles for the whole program.
struct Bundles {
    std::filesystem::path dir;
    static Bundles& get() {
        static Bundles b = [] {
            char tmpl[] = "/tmp/pc5sec-net-XXXXXX";
            if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
            Bundles out{tmpl};
            const auto now = creds::Clock::now();
            auto pf = creds::ProvisioningFunction::create(now - 1h, 24h * 3650).value();
            for (auto [name, role] : {std::pair{"alice", creds::Role::end_ue},
                                      std::pair{"relay1", creds::Role::u2u_relay},
                                      std::pair{"bob", creds::Role::end_ue}}) {
                creds::UeProfile p;
                p.user_info_id = name;
                p.authorisation = creds::Authorisation{{role}, {0x000001}};
                auto issued = pf.issue(p, now - 1h, 24h * 30).value();
                pf.write_bundle(out.dir / name, issued, PolicyFile{}).value();
            }
            return out;
        }();
        return b;
    }
    ~Bundles() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

struct Log {
    mutable std::mutex m;
    std::vector<std::string> lines;
    void add(std::string_view s) {
        std::lock_guard lock(m);
        lines.emplace_back(s);
    }
    std::size_t size() const {
        std::lock_guard lock(m);
        return lines.size();
    }
    bool contains(std::string_view needle) const {
        std::lock_guard lock(m);
        for (const auto& l : lines)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
    std::vector<std::string> copy() const {
        std::lock_guard lock(m);
        return lines;
    }
    std::string all() const {
        std::string out;
        for (const auto& l : copy())
            out += l + "\n";
        return out;
    }
};

bool wait_for(const std::function<bool()>& cond, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (cond()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return cond();
}

// A UE running on its own thread.
struct Running {
    std::unique_ptr<Ue> ue;
    std::thread thread;
    std::atomic<int> rc{-1};
    void start() {
        thread = std::thread([this] { rc = ue->run(); });
    }
    bool exited() const { return rc.load() != -1; }
    void stop() {
        if (!thread.joinable()) return;
        ue->request_stop();
        thread.join();
    }
    ~Running() { stop(); }
};

// The relay in a child process.
struct Child {
    pid_t pid = -1;
    std::optional<int> status;
    // Waits at most `limit` for the child to exit; its exit code, or nullopt.
    std::optional<int> wait(std::chrono::seconds limit) {
        if (status) return status;
        const auto until = std::chrono::steady_clock::now() + limit;
        for (;;) {
            int st = 0;
            if (::waitpid(pid, &st, WNOHANG) == pid) {
                status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                return status;
            }
            if (std::chrono::steady_clock::now() >= until) return std::nullopt;
            std::this_thread::sleep_for(20ms);
        }
    }
    void kill(int sig) {
        if (pid > 0 && !status) ::kill(pid, sig);
    }
    ~Child() {
        if (pid > 0 && !status) {
            ::kill(pid, SIGKILL);
            (void)wait(10s);
        }
    }
};

struct Scenario {
    pc5::Solution solution;
    pc5::Path path;
    const char* name;
};

// Source alice, relay relay1, target bob, on three loopback sockets.
class Trio {
  public:
    explicit Trio(Scenario s, std::string keylog = {}, std::string pcap = {}) {
        auto& b = Bundles::get();
        auto relay_sock = UdpSocket::bind(kLoopback).value();
        auto target_sock = UdpSocket::bind(kLoopback).value();
        auto source_sock = UdpSocket::bind(kLoopback).value();
        const Address relay_addr = relay_sock.local(), target_addr = target_sock.local(),
                      source_addr = source_sock.local();
        if (::pipe(input_) != 0) throw std::runtime_error("pipe");

        UeConfig r;
        r.bundle = b.dir / "relay1";
        r.role = UeRole::relay;
        r.solution = s.solution;
        r.l2_id = kRelay;
        r.peers = {{"alice", kAlice, source_addr}, {"bob", kBob, target_addr}};
        r.keepalive = kKeepalive;
        r.input_fd = -1;
        r.socket = std::move(relay_sock);
        auto relay = Ue::create(std::move(r));
        if (!relay) throw std::runtime_error(relay.error().describe());
        const int keep_open[] = {target_sock.fd(), source_sock.fd(), input_[0], input_[1]};
        relay_.pid = ::fork();
        if (relay_.pid == 0) {  // the relay: logs to stderr, exits with its status
            for (int fd : keep_open)
                ::close(fd);
            stop_on_signals(**relay);
            const int rc = (*relay)->run();
            ::_exit(rc);
        }
        if (relay_.pid < 0) throw std::runtime_error("fork");
        relay->reset();

        UeConfig t;
        t.bundle = b.dir / "bob";
        t.role = UeRole::target;
        t.solution = s.solution;
        t.l2_id = kBob;
        t.peers = {{"", kRelay, relay_addr}};
        t.keepalive = kKeepalive;
        t.input_fd = -1;
        target_fd = target_sock.fd();
        t.socket = std::move(target_sock);
        t.deliver = [this](std::string_view line) { delivered.add(line); };
        t.log = [this](std::string_view line) { target_log.add(line); };
        target.ue = Ue::create(std::move(t)).value();

        UeConfig c;
        c.bundle = b.dir / "alice";
        c.role = UeRole::source;
        c.solution = s.solution;
        c.path = s.path;
        c.l2_id = kAlice;
        c.peers = {{"", kRelay, relay_addr}};
        c.target = "bob";
        c.keepalive = kKeepalive;
        c.input_fd = input_[0];
        c.keylog = std::move(keylog);
        c.pcap = std::move(pcap);
        c.socket = std::move(source_sock);
        c.log = [this](std::string_view line) { source_log.add(line); };
        source.ue = Ue::create(std::move(c)).value();

        target.start();
        source.start();
    }

    void send(const std::string& text) {
        const auto n = ::write(input_[1], text.data(), text.size());
        ASSERT_EQ(n, static_cast<ssize_t>(text.size()));
    }
    void end_input() {
        if (input_[1] >= 0) ::close(std::exchange(input_[1], -1));
    }

    ~Trio() {
        source.stop();
        target.stop();
        relay_.kill(SIGKILL);
        (void)relay_.wait(10s);
        end_input();
        if (input_[0] >= 0) ::close(input_[0]);
    }

    static constexpr pc5::Time kKeepalive = 500ms;
    int target_fd = -1;  // the target's socket (owned by its Ue)
    Log delivered, target_log, source_log;
    Running target, source;
    Child relay_;

  private:
    int input_[2] = {-1, -1};
};

std::vector<std::string> lines(int n, const std::string& tag) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i)
        out.push_back(tag + " line " + std::to_string(i) + (i % 3 == 0 ? " ünïcödé" : ""));
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& l : v)
        s += l + "\n";
    return s;
}

class ThreeUes : public ::testing::TestWithParam<Scenario> {};

// Every line reaches the target, in order; then the relay is killed (SIGKILL) and both ends
// notice by keep-alive and stop with exit status 3.
TEST_P(ThreeUes, DeliversEveryLineThenBothEndsNoticeTheKilledRelay) {
    Trio trio(GetParam());
    const auto want = lines(25, GetParam().name);
    trio.send(join(want));
    ASSERT_TRUE(wait_for([&] { return trio.delivered.size() >= want.size(); }, 60s))
        << "delivered " << trio.delivered.size() << "\nsource:\n"
        << trio.source_log.all() << "target:\n"
        << trio.target_log.all();
    EXPECT_EQ(trio.delivered.copy(), want);
    EXPECT_EQ(trio.source.ue->stats().lines_sent, want.size());

    trio.relay_.kill(SIGKILL);
    ASSERT_EQ(trio.relay_.wait(10s), 128 + SIGKILL);
    EXPECT_TRUE(wait_for([&] { return trio.source.exited() && trio.target.exited(); }, 60s))
        << "source:\n"
        << trio.source_log.all() << "target:\n"
        << trio.target_log.all();
    EXPECT_EQ(trio.source.rc.load(), kExitPeerLost);
    EXPECT_EQ(trio.target.rc.load(), kExitPeerLost);
    EXPECT_TRUE(trio.source_log.contains("lost")) << trio.source_log.all();
    EXPECT_TRUE(trio.target_log.contains("lost")) << trio.target_log.all();
}

// The source's input ends: it sends what it read, releases its links (PROSE DIRECT LINK
// RELEASE) and exits 0; the target sees the release and keeps listening until it is stopped.
// The key log is private, the capture is written, and no log line holds a key.
TEST_P(ThreeUes, InputEndReleasesTheLinksAndTheTargetStaysUp) {
    const auto dir = Bundles::get().dir / GetParam().name;
    std::filesystem::create_directories(dir);
    const auto keylog = (dir / "keys.log").string(), pcap = (dir / "alice.pcap").string();
    Trio trio(GetParam(), keylog, pcap);
    const auto want = lines(5, "bye");
    trio.send(join(want));
    trio.end_input();
    ASSERT_TRUE(wait_for([&] { return trio.source.exited(); }, 60s)) << trio.source_log.all();
    EXPECT_EQ(trio.source.rc.load(), kExitOk) << trio.source_log.all();
    EXPECT_TRUE(wait_for([&] { return trio.delivered.size() >= want.size(); }, 20s));
    EXPECT_EQ(trio.delivered.copy(), want);
    EXPECT_TRUE(wait_for([&] { return trio.target_log.contains("released by the peer"); }, 20s))
        << trio.target_log.all();
    EXPECT_FALSE(trio.target.exited());
    trio.target.stop();
    EXPECT_EQ(trio.target.rc.load(), kExitOk);
    trio.relay_.kill(SIGTERM);  // a relay stops cleanly on SIGTERM
    EXPECT_EQ(trio.relay_.wait(20s), 0);

    struct stat st {};
    ASSERT_EQ(::stat(keylog.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::ifstream in(keylog);
    std::stringstream text;
    text << in.rdbuf();
    auto records = pc5::parse_key_log(text.str());
    ASSERT_TRUE(records);
    ASSERT_FALSE(records->empty());
    const auto logs = trio.source_log.all() + trio.target_log.all();
    for (const auto& r : *records)
        if (r.label != "ALGS" && r.label != "KNRP_SESS_ID") {
            EXPECT_EQ(logs.find(r.value), std::string::npos) << r.label << " in a log line";
        }
    EXPECT_GT(std::filesystem::file_size(pcap), 24u + 16u);  // a header and frames
}

// No silent loss (docs/udp.md, "Loss"): the target's receive buffer is shrunk to the least the
// kernel allows once the link is up, and 3,000 lines are sent unpaced. Lines are lost, and every
// one of them is reported by the target: as datagrams the kernel dropped, or as data PDUs
// missing (SN gaps); its summary says so and its exit status is kExitLost.
TEST_P(ThreeUes, EveryLostLineIsReported) {
    Trio trio(GetParam());
    trio.send("first\n");
    ASSERT_TRUE(wait_for([&] { return trio.delivered.size() >= 1; }, 60s))
        << trio.source_log.all() << trio.target_log.all();
    const int least = 1;
    ASSERT_EQ(::setsockopt(trio.target_fd, SOL_SOCKET, SO_RCVBUF, &least, sizeof least), 0);
    constexpr std::size_t kLines = 3000;
    trio.send(join(lines(kLines, "flood")));
    trio.end_input();
    ASSERT_TRUE(wait_for([&] { return trio.source.exited(); }, 60s)) << trio.source_log.all();
    EXPECT_EQ(trio.source.ue->stats().lines_sent, kLines + 1);
    std::this_thread::sleep_for(500ms);  // what is still on its way
    trio.target.stop();
    const auto t = trio.target.ue->stats();
    const std::uint64_t sent = kLines + 1, delivered = trio.delivered.size();
    ASSERT_LT(delivered, sent) << "nothing was lost: the test proves nothing";
    EXPECT_GE(t.datagrams_lost + t.data_missing, sent - delivered)
        << "lost " << sent - delivered << ", reported " << t.datagrams_lost << " + "
        << t.data_missing << "\n"
        << trio.target_log.all();
    EXPECT_EQ(trio.target.rc.load(), kExitLost);
    EXPECT_TRUE(trio.target_log.contains("(exit 4)")) << trio.target_log.all();
}

INSTANTIATE_TEST_SUITE_P(Udp, ThreeUes,
                         ::testing::Values(Scenario{pc5::Solution::a, pc5::Path::l3, "A_l3"},
                                           Scenario{pc5::Solution::a, pc5::Path::l2, "A_l2"},
                                           Scenario{pc5::Solution::b_hardened, pc5::Path::l2,
                                                    "B_hardened"}),
                         [](const auto& info) { return std::string(info.param.name); });

// A target alone: datagrams that are not pc5sec frames, frames for another UE and frames
// claiming a configured peer's ID from another address are dropped, counted and logged; the
// UE keeps running and stops cleanly.
// Issue 17 item 5: a UE sends what one turn produced in batches (sendmmsg). 200 datagrams (more
// than one batch) arrive in order; one the kernel refuses (over 65,507 octets: EMSGSIZE) is
// reported by its index and the rest still go.
TEST(Socket, SendBatchSendsEveryDatagramInOrderAndReportsARefusedOne) {
    auto a = UdpSocket::bind(kLoopback).value();
    auto b = UdpSocket::bind(kLoopback).value();
    std::vector<std::vector<std::uint8_t>> data;
    for (int i = 0; i < 200; ++i)
        data.push_back({static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8), 0x5a});
    data[7].assign(70000, 0x01);  // too large for one UDP datagram
    std::vector<UdpSocket::Outgoing> out;
    for (const auto& d : data)
        out.push_back({b.local(), d});
    std::vector<std::size_t> refused;
    std::string field;
    const auto sent = a.send_batch(out, [&](std::size_t i, const Error& e) {
        refused.push_back(i);
        field = e.field;
    });
    EXPECT_EQ(sent, 199u);
    ASSERT_EQ(refused, std::vector<std::size_t>{7});
    EXPECT_EQ(field, "sendto");
    std::vector<int> got;
    std::array<std::uint8_t, 64> buf{};
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (got.size() < 199 && std::chrono::steady_clock::now() < until)
        if (auto r = b.receive(buf)) got.push_back(buf[0] | buf[1] << 8);
    ASSERT_EQ(got.size(), 199u);
    for (std::size_t k = 0, i = 0; i < 200; ++i) {
        if (i == 7) continue;
        EXPECT_EQ(got[k++], static_cast<int>(i));
    }
}

TEST(Ue, BadDatagramsAreDroppedAndTheUeCarriesOn) {
    auto relay_sock = UdpSocket::bind(kLoopback).value();
    Log log;
    UeConfig t;
    t.bundle = Bundles::get().dir / "bob";
    t.role = UeRole::target;
    t.l2_id = kBob;
    t.peers = {{"", kRelay, relay_sock.local()}};
    t.input_fd = -1;
    t.log = [&](std::string_view l) { log.add(l); };
    t.deliver = [](std::string_view) {};
    Running target;
    target.ue = Ue::create(std::move(t)).value();
    const Address to = target.ue->local_address();
    target.start();
    auto stranger = UdpSocket::bind(kLoopback).value();
    pc5::Frame f;
    f.src = kRelay;
    f.dst = kBob;
    f.lcid = 4;
    f.pdu = {1, 2, 3, 4, 5, 6};
    const std::string hello = "hello, not a pc5sec frame";
    ASSERT_TRUE(stranger.send_to(
        to, std::span(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size())));
    ASSERT_TRUE(stranger.send_to(to, *encode_frame(f)));  // the relay's ID, wrong address
    f.dst = 0x000077;
    ASSERT_TRUE(relay_sock.send_to(to, *encode_frame(f)));  // for another UE
    f.dst = kBob;
    ASSERT_TRUE(relay_sock.send_to(to, *encode_frame(f)));  // well framed, not a valid PDU
    ASSERT_TRUE(wait_for([&] { return target.ue->stats().datagrams_received >= 4; }, 20s));
    EXPECT_EQ(target.ue->stats().datagrams_dropped, 3u);
    EXPECT_TRUE(log.contains("udp.magic")) << log.all();
    EXPECT_TRUE(log.contains("udp.src")) << log.all();
    EXPECT_TRUE(log.contains("udp.dst")) << log.all();
    EXPECT_FALSE(target.exited());
    target.stop();
    EXPECT_EQ(target.rc.load(), kExitOk);
}

TEST(Ue, BadConfigurationNamesTheField) {
    auto& b = Bundles::get();
    // The error of a source's configuration changed by `change`.
    auto error_of = [&](const std::function<void(UeConfig&)>& change) {
        UeConfig c;
        c.bundle = b.dir / "alice";
        c.role = UeRole::source;
        c.l2_id = kAlice;
        c.target = "bob";
        c.peers = {{"", kRelay, {0x7F000001, 9}}};
        c.input_fd = -1;
        change(c);
        auto u = Ue::create(std::move(c));
        return u ? std::string("(created)") : u.error().describe();
    };
    auto expect_field = [&](const std::string& field,
                            const std::function<void(UeConfig&)>& change) {
        const auto e = error_of(change);
        EXPECT_EQ(e.rfind(field, 0), 0u) << e;
    };
    expect_field("bundle", [&](UeConfig& c) { c.bundle = b.dir / "nobody"; });
    expect_field("role", [&](UeConfig& c) { c.bundle = b.dir / "relay1"; });
    expect_field("role", [&](UeConfig& c) {
        c.role = UeRole::relay;
        c.target.clear();
    });
    expect_field("target", [&](UeConfig& c) { c.target.clear(); });
    expect_field("target", [&](UeConfig& c) { c.role = UeRole::target; });
    expect_field("peers", [&](UeConfig& c) { c.peers.push_back({"", kRelay, {0x7F000001, 10}}); });
    expect_field("peers", [&](UeConfig& c) { c.peers = {{"", kAlice, {0x7F000001, 10}}}; });
    expect_field("peers", [&](UeConfig& c) { c.peers.clear(); });
    expect_field("rsc", [&](UeConfig& c) { c.rsc = 0x000002; });
    expect_field("deliver", [&](UeConfig& c) {  // the library writes nothing to stdout itself
        c.bundle = b.dir / "bob";
        c.role = UeRole::target;
        c.target.clear();
    });
    expect_field("l2_id", [&](UeConfig& c) { c.l2_id = 0; });
    // A direct path needs the target's address. (The library names UeConfig's fields; `pc5sec ue`
    // names its options, tests/cli.)
    expect_field("peers", [&](UeConfig& c) { c.path = pc5::Path::direct; });
    expect_field("keylog",
                 [&](UeConfig& c) { c.keylog = (b.dir / "no-such-dir" / "keys.log").string(); });
    expect_field("pcap",
                 [&](UeConfig& c) { c.pcap = (b.dir / "no-such-dir" / "a.pcap").string(); });
    // A bundle with a missing file names the file.
    std::filesystem::create_directories(b.dir / "broken");
    std::filesystem::copy_file(b.dir / "alice" / "cert.pem", b.dir / "broken" / "cert.pem",
                               std::filesystem::copy_options::overwrite_existing);
    const auto e = error_of([&](UeConfig& c) { c.bundle = b.dir / "broken"; });
    EXPECT_NE(e.find("key.pem"), std::string::npos) << e;
}

}  // namespace

namespace {

// A relay alone (solution A), its log collected.
struct LoneRelay {
    UdpSocket bob = UdpSocket::bind(kLoopback).value();
    Log log;
    Running relay;
    Address address;
    explicit LoneRelay(const std::function<void(UeConfig&)>& tweak = {}) {
        UeConfig r;
        r.bundle = Bundles::get().dir / "relay1";
        r.role = UeRole::relay;
        r.l2_id = kRelay;
        r.peers = {{"bob", kBob, bob.local()}};
        r.input_fd = -1;
        r.log = [this](std::string_view l) { log.add(l); };
        if (tweak) tweak(r);
        relay.ue = Ue::create(std::move(r)).value();
        address = relay.ue->local_address();
        relay.start();
    }
};

// Every log line is one line of printable text: no newline, no ESC, no other control octet.
void expect_clean(const Log& log) {
    for (const auto& line : log.copy())
        for (char c : line) {
            const auto u = static_cast<unsigned char>(c);
            ASSERT_TRUE(u >= 0x20 && u != 0x7F) << "control octet " << int(u) << " in: " << line;
        }
}

}  // namespace

// One unauthenticated establishment request whose user info IDs carry a newline, a forged log
// line and terminal escape sequences: the relay's log gets them escaped (\x0a, \x1b), as one
// line each, and the relay carries on.
TEST(Ue, HostileUserInfoReachesTheRelayLogEscaped) {
    LoneRelay r;
    const std::string hostile =
        "bob\n13:45:14.557 relay relay1: link established (forged)\x1b[2J\x1b]0;owned\x07\xff";
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(hostile.data());
    std::optional<codec::DirectLinkEstablishmentRequest> req;
    for (const auto& m : codec::sample_messages(true))
        if (const auto* q = std::get_if<codec::DirectLinkEstablishmentRequest>(&m)) req = *q;
    ASSERT_TRUE(req);
    req->source_user_info = codec::Octets{std::span(bytes, hostile.size())};
    req->target_user_info = codec::Octets{std::span(bytes, hostile.size())};
    req->relay_indication = codec::RelayIndication::via_layer3_relay;
    pc5::Frame f;
    f.src = kAlice;
    f.dst = kRelay;
    f.lcid = pc5::lcid::kSrb0;
    f.pdu = codec::encode(codec::Message{*req}).value();
    auto stranger = UdpSocket::bind(kLoopback).value();
    ASSERT_TRUE(stranger.send_to(r.address, *encode_frame(f)));
    f.dst = 0x000077;  // and one for another UE, which names nothing of the peer's
    ASSERT_TRUE(stranger.send_to(r.address, *encode_frame(f)));
    ASSERT_TRUE(wait_for([&] { return r.relay.ue->stats().datagrams_received >= 2; }, 20s));
    std::this_thread::sleep_for(200ms);
    EXPECT_FALSE(r.relay.exited());
    r.relay.stop();
    EXPECT_EQ(r.relay.rc.load(), kExitOk);
    expect_clean(r.log);
    EXPECT_FALSE(r.log.contains("\n13:45:14.557")) << r.log.all();
    EXPECT_TRUE(r.log.contains("\\x0a13:45:14.557 relay relay1: link established (forged)\\x1b[2J"))
        << r.log.all();
}

// A flood of bad datagrams: every one is counted, at most a burst of lines a second is logged,
// and the rest is summarised ("... N more ... suppressed").
TEST(Ue, AFloodOfBadDatagramsLogsABoundedNumberOfLines) {
    LoneRelay r;
    auto stranger = UdpSocket::bind(kLoopback).value();
    const std::string junk = "\x1b[31mnot a pc5sec frame\n";
    constexpr int kFlood = 5000;
    for (int i = 0; i < kFlood; ++i) {
        while (!stranger.send_to(
            r.address, std::span(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size())))
            std::this_thread::sleep_for(1ms);                  // our own send buffer is full: wait
        if (i % 500 == 499) std::this_thread::sleep_for(5ms);  // let the relay's buffer drain
    }
    ASSERT_TRUE(wait_for(
        [&] {
            const auto s = r.relay.ue->stats();
            return s.datagrams_received >= kFlood * 9 / 10 &&
                   s.datagrams_dropped >= kFlood * 9 / 10;
        },
        20s))
        << r.relay.ue->stats().datagrams_received;
    r.relay.stop();
    const auto s = r.relay.ue->stats();
    EXPECT_EQ(s.datagrams_dropped, s.datagrams_received);
    expect_clean(r.log);
    std::size_t drop_lines = 0;
    for (const auto& l : r.log.copy())
        drop_lines += l.find("dropped a datagram") != std::string::npos;
    EXPECT_GE(drop_lines, 1u);
    EXPECT_LE(drop_lines, 40u) << r.log.all();  // 10 a second, the flood lasts a few seconds
    EXPECT_LE(r.log.size(), 60u) << r.log.all();
    EXPECT_TRUE(r.log.contains("more \"dropped datagram\" lines suppressed")) << r.log.all();
}

// A flood of frames from fresh layer-2 IDs: the learned-peer table stays within
// UeConfig::max_learned_peers (the least recently heard forgotten first), the relay carries on.
TEST(Ue, AFloodOfFreshL2IdsDoesNotGrowThePeerTablePastItsBound) {
    LoneRelay r([](UeConfig& c) { c.max_learned_peers = 16; });
    auto stranger = UdpSocket::bind(kLoopback).value();
    pc5::Frame f;
    f.dst = kRelay;
    f.lcid = 4;
    f.pdu = {1, 2, 3, 4, 5, 6};
    constexpr int kFlood = 2000;
    for (int i = 0; i < kFlood; ++i) {
        f.src = 0x100000 + static_cast<pc5::L2Id>(i);
        ASSERT_TRUE(stranger.send_to(r.address, *encode_frame(f)));
        if (i % 200 == 199) std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(wait_for([&] { return r.relay.ue->stats().datagrams_received >= kFlood; }, 20s))
        << r.relay.ue->stats().datagrams_received << " received, "
        << r.relay.ue->stats().datagrams_lost << " lost";
    const auto s = r.relay.ue->stats();
    EXPECT_LE(s.learned_peers, 16u);
    EXPECT_EQ(s.learned_peers, 16u);
    EXPECT_EQ(s.peers_evicted, kFlood - 16u);
    EXPECT_FALSE(r.relay.exited());
    r.relay.stop();
    EXPECT_EQ(r.relay.rc.load(), kExitOk);
    expect_clean(r.log);
}

// A flood of discovery solicitations: a relay answers at most
// UeConfig::discovery_answers_per_second a second, counts the rest and carries on.
TEST(Ue, DiscoveryAnswersAreRateLimited) {
    LoneRelay r([](UeConfig& c) { c.discovery_answers_per_second = 10; });
    auto stranger = UdpSocket::bind(kLoopback).value();
    pc5::Frame f;
    f.src = kAlice;
    f.dst = pc5::kBroadcastL2Id;
    f.lcid = pc5::lcid::kDiscovery;
    f.pdu = {0xff, 0x00};  // not even a message: refused by the bound before it is parsed
    constexpr int kFlood = 300;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kFlood; ++i)
        ASSERT_TRUE(stranger.send_to(r.address, *encode_frame(f)));
    ASSERT_TRUE(wait_for([&] { return r.relay.ue->stats().datagrams_received >= kFlood; }, 20s));
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
            .count();
    const auto s = r.relay.ue->stats();
    EXPECT_GE(s.discovery_unanswered, static_cast<std::uint64_t>(kFlood - 10 * (seconds + 2)));
    EXPECT_LE(s.discovery_unanswered, static_cast<std::uint64_t>(kFlood - 10));
    EXPECT_TRUE(r.log.contains("discovery solicitation not answered")) << r.log.all();
    r.relay.stop();
    EXPECT_EQ(r.relay.rc.load(), kExitOk);
}
