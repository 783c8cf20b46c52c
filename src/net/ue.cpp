// One UE over UDP (docs/udp.md): a station (pc5sec/station.hpp: the link engine of solution A
// or B and its user plane, wired together) and a UDP socket joined in one poll() loop with the
// monotonic clock. The station routes frames, installs keys and re-keys; this driver adds the
// socket, the peers' addresses, the source's lines and the target's deliveries, a capture and a
// key log, and its own bound on discovery answers (UeStats).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "pc5sec/codec.hpp"
#include "pc5sec/discovery.hpp"
#include "pc5sec/files.hpp"
#include "pc5sec/keylog.hpp"
#include "pc5sec/link.hpp"
#include "pc5sec/log.hpp"
#include "pc5sec/net.hpp"
#include "pc5sec/provisioning.hpp"
#include "pc5sec/sigauth.hpp"
#include "pc5sec/srap.hpp"
#include "pc5sec/station.hpp"
#include "pc5sec/text.hpp"
#include "pc5sec/trace.hpp"
#include "pc5sec/userplane.hpp"

namespace pc5sec::net {

namespace {

using Clock = std::chrono::steady_clock;
using pc5::Time;

constexpr std::uint8_t kBearer = userplane::kFirstBearer;  // LCID 4: the one data bearer
constexpr Time kKeepaliveAnswer = 1s;     // T5085 (the engines' default: 5 s): then ask again
constexpr Time kE2eReleaseWait = 1500ms;  // end-to-end links go first (through the relay)
constexpr Time kSaveInterval = 1s;
constexpr std::size_t kMaxQueuedLines = 4096;
constexpr std::size_t kLinesPerTurn = 64;
constexpr int kDatagramsPerTurn = 256;
// Lines about drops, unknown senders and forwarding, which anyone on the medium can provoke, are
// logged at most kLogBurst per kind in each kLogWindow; the rest are counted and summarised.
constexpr unsigned kLogBurst = 10;
constexpr Time kLogWindow = 1s;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string fingerprints(const pc5::LinkSummary& l) {
    std::string out;
    for (const char* k : {"NRPEK", "NRPIK", "KD"})
        if (auto it = l.fingerprints.find(k); it != l.fingerprints.end())
            out += fmt::format(" {} {}", k, it->second);
    return out;
}

std::string cause_text(codec::Cause c) {
    return fmt::format(
        "#{} {}", static_cast<unsigned>(c),
        codec::code_point_name(codec::CodePointKind::cause, static_cast<std::uint8_t>(c)));
}

std::atomic<Ue*> g_stop_target{nullptr};

extern "C" void on_stop_signal(int) {
    if (Ue* ue = g_stop_target.load()) ue->request_stop();
}

}  // namespace

struct Ue::Impl {
    UeConfig cfg;
    std::string user;
    // Behind a layer-3 relay (docs/userplane.md): this UE's address and its target's.
    userplane::Ipv6Address ip_address{}, target_ip_address{};
    std::uint32_t rsc = 0;
    std::map<std::string, pc5::L2Id> directory;  // named --peer entries

    std::unique_ptr<std::ofstream> keylog_file;
    std::unique_ptr<pc5::KeyLogWriter> keylog;
    // The UE: engine and user plane (pc5sec/station.hpp), and its parts.
    std::unique_ptr<station::Station> station;
    link::Engine* a = nullptr;
    sigauth::Engine* b = nullptr;
    pc5::Endpoint* engine = nullptr;
    userplane::Endpoint* up = nullptr;
    std::optional<UdpSocket> sock;
    int wake[2] = {-1, -1};
    std::atomic<bool> stop{false};
    Clock::time_point t0 = Clock::now();
    std::uint64_t epoch_us = 0;
    Time now{0};

    struct PeerEntry {
        Address address;
        std::string name;
        bool configured = false;
        Time heard{0};  // learned peers: when last heard
    };
    std::map<pc5::L2Id, PeerEntry> peers;
    std::size_t learned = 0;  // entries of `peers` not from --peer
    // Discovery answers: the current one-second window and how many were answered in it.
    discovery::AnswerBudget discovery_answers;  // UeConfig::discovery_answers_per_second

    std::optional<trace::CaptureRecorder> capture;
    std::size_t capture_saved = 0;
    Time next_save{0};

    struct LinkState {
        pc5::LinkSummary s;
    };
    std::map<std::string, LinkState> links;

    // The source.
    bool input_open = false;
    std::string partial;
    std::deque<std::string> queue;
    std::uint64_t line_no = 0;
    std::string data_link;
    bool ready = false;

    // Shutdown.
    enum class Phase { running, releasing_e2e, done } phase = Phase::running;
    bool finishing = false;
    Time e2e_deadline{0};
    int exit_code = kExitOk;

    std::uint64_t forwarded_mark = 0;
    // Rate-limited log lines, by kind: how many were logged in the current window, and how many
    // were suppressed.
    struct LogLimit {
        Time window_end{0};
        unsigned logged = 0;
        std::uint64_t suppressed = 0;
    };
    std::map<std::string, LogLimit> log_limits;

    // A receiver's data PDUs: the highest PDCP SN seen under each key (KNRP-sess ID), to count
    // the PDUs that never arrived (docs/udp.md, "Loss").
    struct SnTrack {
        bool started = false;
        std::uint32_t top = 0;
    };
    std::map<std::uint16_t, SnTrack> rx_sn;
    std::optional<userplane::Header> rx_header;  // of the data PDU being received
    std::vector<std::uint8_t> rx;
    mutable std::mutex stats_mutex;
    UeStats stats;

    bool is_a() const { return cfg.solution == pc5::Solution::a; }
    bool is_relay() const { return cfg.role == UeRole::relay; }
    bool is_end() const { return cfg.role != UeRole::relay; }

    Time clock() const { return std::chrono::duration_cast<Time>(Clock::now() - t0); }

    template <class F>
    void count(F f) {
        std::lock_guard lock(stats_mutex);
        f(stats);
    }

    // "13:45:14.557 relay relay1: ..." (UTC wall-clock time, to line up the logs of processes).
    // The text is escaped here (pc5sec/text.hpp), where it becomes output: user info IDs, names
    // and failure reasons may carry a peer's octets, and none may forge a line or reach the
    // terminal as a control sequence.
    void log(std::string_view text) const {
        const auto wall = std::chrono::system_clock::now();
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
        const std::time_t secs = static_cast<std::time_t>(ms / 1000);
        std::tm tm{};
        ::gmtime_r(&secs, &tm);
        const auto line =
            fmt::format("{:02}:{:02}:{:02}.{:03} {} {}: {}", tm.tm_hour, tm.tm_min, tm.tm_sec,
                        ms % 1000, name(cfg.role), escape_text(user), escape_text(text));
        if (cfg.log)
            cfg.log(line);
        else
            pc5sec::log::write(pc5sec::log::Level::info, "ue",
                               line);  // the application's sink, if any
    }

    // A line of a `kind` a flood can provoke: at most kLogBurst of each kind per kLogWindow, the
    // rest counted and summarised when the window ends (flush_log_limits).
    void log_limited(const std::string& kind, std::string_view text) {
        auto& l = log_limits[kind];
        if (now >= l.window_end) {
            summarise(kind, l);
            l.window_end = now + kLogWindow;
            l.logged = 0;
        }
        if (l.logged < kLogBurst) {
            ++l.logged;
            log(text);
        } else {
            ++l.suppressed;
        }
    }

    void summarise(const std::string& kind, LogLimit& l) {
        if (l.suppressed == 0) return;
        log(fmt::format("... {} more \"{}\" lines suppressed (at most {} a second are logged)",
                        l.suppressed, kind, kLogBurst));
        l.suppressed = 0;
    }

    void flush_log_limits(bool all) {
        for (auto& [kind, l] : log_limits)
            if (all || now >= l.window_end) summarise(kind, l);
    }

    Time next_log_summary() const {
        Time t = pc5::kNever;
        for (const auto& [kind, l] : log_limits)
            if (l.suppressed) t = std::min(t, l.window_end);
        return t;
    }

    std::string who(pc5::L2Id l2) const {
        if (l2 == pc5::kBroadcastL2Id) return "broadcast";
        auto it = peers.find(l2);
        if (it != peers.end() && !it->second.name.empty())
            return fmt::format("{} ({})", format_l2_id(l2), it->second.name);
        return format_l2_id(l2);
    }

    // ------------------------------------------------------------ sending

    void send_datagram(pc5::L2Id dst, std::span<const std::uint8_t> d) {
        auto it = peers.find(dst);
        if (it == peers.end()) {
            log_limited("no address",
                        fmt::format("no address for layer-2 ID {} (add --peer {}=ADDR:PORT): "
                                    "frame dropped",
                                    format_l2_id(dst), format_l2_id(dst)));
            return;
        }
        // Queued, and sent in batches (sendmmsg) by flush_outbox: when kBatch are waiting, and
        // before the loop waits again.
        outbox.push_back(Queued{it->second.address, std::vector<std::uint8_t>(d.begin(), d.end())});
        if (outbox.size() >= UdpSocket::kBatch) flush_outbox();
    }

    struct Queued {
        Address to;
        std::vector<std::uint8_t> datagram;
    };
    std::vector<Queued> outbox;

    void flush_outbox() {
        if (outbox.empty()) return;
        std::vector<UdpSocket::Outgoing> out;
        out.reserve(outbox.size());
        for (const auto& q : outbox)
            out.push_back({q.to, q.datagram});
        std::size_t unsent = 0;
        const std::size_t sent = sock->send_batch(out, [&](std::size_t, const Error& e) {
            // A full send buffer loses the datagram here; a refusal (ECONNREFUSED: the peer's
            // port is closed) concerns one sent earlier, which the peer was not there to take.
            if (e.field == "sendto.full") ++unsent;
            log_limited("unsent", fmt::format("UDP: {}: datagram lost", e.describe()));
        });
        outbox.clear();
        count([&](UeStats& s) {
            s.datagrams_sent += sent;
            s.datagrams_unsent += unsent;
        });
    }

    void transmit(const pc5::Frame& f, const std::string& link_id = {}) {
        auto d = encode_frame(f);
        if (!d) {
            log(fmt::format("frame not sent: {}", d.error().describe()));
            return;
        }
        if (capture) capture->record(now, f, link_id);
        if (f.dst == pc5::kBroadcastL2Id) {
            for (const auto& [l2, p] : peers)
                send_datagram(l2, *d);
        } else {
            send_datagram(f.dst, *d);
        }
    }

    // ------------------------------------------------------------ the loop

    // The station acts on its engine's events first (keys into the user plane, re-keying at
    // the threshold), then passes them on.
    void pump() {
        for (bool any = true; any;) {
            any = false;
            while (auto ev = station->poll_event()) {
                any = true;
                on_event(*ev);
            }
            while (auto f = station->poll_transmit()) {
                any = true;
                if (is_relay()) note_forwarded(*f);
                transmit(*f);
            }
        }
    }

    void note_forwarded(const pc5::Frame& f) {
        if (userplane::carries_data(f)) {  // from the user plane
            count([](UeStats& s) { ++s.frames_forwarded; });
            log_limited("forwarded data", fmt::format("forwarded data to {}: LCID {}, {} octets",
                                                      who(f.dst), f.lcid, f.pdu.size()));
            return;
        }
        const auto fwd = engine->counters().frames_forwarded;
        if (fwd <= forwarded_mark) return;
        forwarded_mark = fwd;
        count([](UeStats& s) { ++s.frames_forwarded; });
        log_limited("forwarded PC5-S",
                    fmt::format("forwarded PC5-S to {}: LCID {}, {} octets{}", who(f.dst), f.lcid,
                                f.pdu.size(), describe_pc5s(f)));
    }

    static std::string describe_pc5s(const pc5::Frame& f) {
        if (f.lcid != pc5::lcid::kSrb0) return " (protected)";
        auto m = codec::decode(f.pdu);
        if (!m) return "";
        return fmt::format(" ({})", codec::message_name(codec::message_type(*m)));
    }

    Time next_deadline() const {
        Time t = engine->next_timeout();
        if (capture) t = std::min(t, next_save);
        if (phase == Phase::releasing_e2e) t = std::min(t, e2e_deadline);
        t = std::min(t, next_log_summary());
        if (ready && !queue.empty() && !finishing) t = std::min(t, now + 1ms);
        return t;
    }

    int run() {
        now = clock();
        start();
        pump();
        while (phase != Phase::done) {
            flush_outbox();
            now = clock();
            const Time deadline = next_deadline();
            int timeout_ms = -1;
            if (deadline != pc5::kNever)
                timeout_ms =
                    deadline <= now
                        ? 0
                        : static_cast<int>(std::min<std::int64_t>(
                              std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count(),
                              60'000));
            pollfd fds[3] = {{sock->fd(), POLLIN, 0}, {wake[0], POLLIN, 0}, {-1, POLLIN, 0}};
            const bool want_input =
                input_open && !finishing && queue.size() < kMaxQueuedLines && cfg.input_fd >= 0;
            if (want_input) fds[2].fd = cfg.input_fd;
            const int n = ::poll(fds, 3, timeout_ms);
            if (n < 0 && errno != EINTR) {
                log(fmt::format("poll: {}", std::strerror(errno)));
                finish(kExitFailed, "stopping");
            }
            now = clock();
            if (n > 0 && (fds[1].revents & POLLIN)) {
                char buf[64];
                while (::read(wake[0], buf, sizeof buf) > 0) {
                }
            }
            if (stop.load() && !finishing) finish(kExitOk, "stopping: releasing the links");
            if (n > 0 && (fds[0].revents & POLLIN)) receive_datagrams();
            if (n > 0 && want_input && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
                read_input();
            if (engine->next_timeout() <= now) engine->handle_timeout(now);
            pump();
            tick();
            pump();
        }
        shutdown();
        return exit_code;
    }

    void start() {
        std::string heard;
        for (const auto& [l2, p] : peers)
            heard += fmt::format(" {}{}={}", p.name.empty() ? "" : p.name + ":", format_l2_id(l2),
                                 p.address.to_string());
        log(fmt::format("{} UE {}, solution {}, on {}; peers{}", name(cfg.role),
                        format_l2_id(cfg.l2_id), pc5::name(cfg.solution), sock->local().to_string(),
                        heard));
        if (cfg.role != UeRole::source) return;
        input_open = cfg.input_fd >= 0;
        pc5::ConnectRequest r;
        r.target = cfg.target;
        r.path = cfg.path;  // B: l2 or l3 (docs/solution-b.md "The paths")
        r.rsc = rsc;
        if (cfg.path == pc5::Path::direct) {
            r.target_l2 = directory.at(cfg.target);
            log(fmt::format("connecting to {} directly", cfg.target));
        } else {
            log(
                fmt::format("connecting to {} through a layer-{} relay for RSC 0x{:06x} "
                            "(discovery first)",
                            cfg.target, cfg.path == pc5::Path::l3 ? 3 : 2, rsc));
        }
        engine->connect(r, now);  // either engine discovers the relay (seed 000/001 step 1)
    }

    void tick() {
        send_lines();
        if (cfg.role == UeRole::source && !finishing && ready && !input_open && queue.empty())
            finish(kExitOk, fmt::format("input ended: {} lines sent; releasing the links",
                                        stats_copy().lines_sent));
        if (phase == Phase::releasing_e2e && (now >= e2e_deadline || !has_e2e_links()))
            release_rest();
        if (capture && now >= next_save) save_capture();
        flush_log_limits(false);
    }

    void peer_lost(const std::string& id, const std::string& peer) {
        count([](UeStats& s) { ++s.peers_lost; });
        log(fmt::format("peer {} lost: keep-alive unanswered on link {}", peer, id));
        if (is_end()) finish(kExitPeerLost, "the peer is lost: stopping (exit 3)");
    }

    // ------------------------------------------------------------ receiving

    // Drains the socket in batches (recvmmsg), at most kDatagramsPerTurn a turn, so that timers
    // and input still get their turn under a flood.
    void receive_datagrams() {
        std::array<UdpSocket::Received, UdpSocket::kBatch> got;
        for (int done = 0; done < kDatagramsPerTurn;) {
            const std::size_t n = sock->receive_batch(got, rx, kMaxDatagram);
            note_kernel_drops(sock->kernel_drops());
            if (n == 0) return;
            done += static_cast<int>(n);
            for (std::size_t i = 0; i < n; ++i)
                receive_one(got[i], std::span<const std::uint8_t>(rx.data() + i * kMaxDatagram,
                                                                  got[i].size));
        }
    }

    // Datagrams the kernel dropped for want of room in this UE's receive buffer: counted and
    // logged, never silent.
    void note_kernel_drops(std::uint64_t lost) {
        if (lost <= stats_copy().datagrams_lost) return;
        count([&](UeStats& s) { s.datagrams_lost = lost; });
        log_limited("kernel drops",
                    fmt::format("datagrams lost: this UE's receive buffer ({} KiB) was full; {} "
                                "lost so far",
                                sock->receive_buffer() / 1024, lost));
    }

    void receive_one(const UdpSocket::Received& r, std::span<const std::uint8_t> datagram) {
        count([](UeStats& s) { ++s.datagrams_received; });
        if (r.truncated) {
            bad_datagram(r.from, fmt::format("udp.pdu: above {} octets", kMaxDatagram));
            return;
        }
        auto v = decode_frame(datagram);
        if (!v) {
            bad_datagram(r.from, v.error().describe());
            return;
        }
        if (v->src == cfg.l2_id) return;  // our own broadcast, if a peer is ourselves
        if (v->dst != pc5::kBroadcastL2Id && !station->owns_l2(v->dst)) {
            bad_datagram(r.from, fmt::format("udp.dst: {} is not this UE ({})",
                                             format_l2_id(v->dst), format_l2_id(cfg.l2_id)));
            return;
        }
        auto it = peers.find(v->src);
        if (it == peers.end()) {
            if (!make_room_for_a_peer()) {
                bad_datagram(r.from, fmt::format("udp.src: {} not learned: {} learned layer-2 IDs, "
                                                 "all with links",
                                                 format_l2_id(v->src), learned));
                return;
            }
            peers[v->src] = PeerEntry{r.from, "", false, now};
            ++learned;
            count([&](UeStats& s) { s.learned_peers = learned; });
            log_limited("heard",
                        fmt::format("heard {} at {}", format_l2_id(v->src), r.from.to_string()));
        } else if (it->second.address != r.from) {
            if (it->second.configured) {
                bad_datagram(r.from,
                             fmt::format("udp.src: {} is at {} (--peer)", format_l2_id(v->src),
                                         it->second.address.to_string()));
                return;
            }
            it->second.address = r.from;
        }
        if (it != peers.end() && !it->second.configured) it->second.heard = now;
        on_frame(v->to_frame());
        // Everything one frame causes goes out before the next frame is read: a relay
        // forwards data and the release that follows it in the order they came.
        pump();
    }

    // The learned-peer table is bounded (UeConfig::max_learned_peers): when it is full, the
    // learned L2 ID heard least recently that no link uses is forgotten. False: every learned
    // ID has a link.
    bool make_room_for_a_peer() {
        if (learned < cfg.max_learned_peers) return true;
        std::set<pc5::L2Id> in_use;
        for (const auto& [id, l] : links)
            in_use.insert(l.s.peer_l2);
        auto oldest = peers.end();
        for (auto it = peers.begin(); it != peers.end(); ++it)
            if (!it->second.configured && !in_use.contains(it->first) &&
                (oldest == peers.end() || it->second.heard < oldest->second.heard))
                oldest = it;
        if (oldest == peers.end()) return false;
        peers.erase(oldest);
        --learned;
        count([](UeStats& s) { ++s.peers_evicted; });
        return true;
    }

    // A relay answers at most UeConfig::discovery_answers_per_second solicitations a second.
    bool discovery_allowed() {
        if (discovery_answers.take(now, cfg.discovery_answers_per_second)) return true;
        count([](UeStats& s) { ++s.discovery_unanswered; });
        log_limited("discovery unanswered",
                    fmt::format("discovery solicitation not answered: more than {} a second",
                                cfg.discovery_answers_per_second));
        return false;
    }

    void bad_datagram(const Address& from, const std::string& why) {
        count([](UeStats& s) { ++s.datagrams_dropped; });
        log_limited("dropped datagram",
                    fmt::format("dropped a datagram from {}: {}", from.to_string(), why));
    }

    void on_frame(const pc5::Frame& f) {
        // Either engine answers discovery itself, within its own budget; this UE's budget
        // (counted in UeStats) comes first.
        if (is_relay() && f.lcid == pc5::lcid::kDiscovery && !discovery_allowed()) return;
        if (userplane::carries_data(f)) {
            const std::size_t at = f.lcid == pc5::lcid::kEndToEnd ? srap::kHeaderSize : 0;
            rx_header.reset();
            if (f.pdu.size() > at)
                if (auto h = userplane::parse_header(std::span(f.pdu).subspan(at))) rx_header = *h;
            station->receive(f, now);  // to the user plane
            return;
        }
        forwarded_mark = engine->counters().frames_forwarded;
        constexpr std::size_t kKnrpAt = srap::kHeaderSize;  // B's PC5-S: SRAP, then PDCP
        if (!is_a() && is_end() && !ready && f.lcid == pc5::lcid::kEndToEnd &&
            f.pdu.size() >= kKnrpAt + 2) {
            auto answers = [&] {
                const auto& rx_msgs = engine->counters().received_messages;
                auto it = rx_msgs.find(codec::MessageType::keepalive_response);
                return it == rx_msgs.end() ? std::uint64_t{0} : it->second;
            };
            const auto before = answers();
            station->receive(f, now);
            // A KEEPALIVE RESPONSE that verified (its MAC-I under keys from KD) on the data link:
            // the path through the relay works both ways.
            if (answers() > before)
                path_answers(static_cast<std::uint16_t>(f.pdu[kKnrpAt] << 8 | f.pdu[kKnrpAt + 1]));
            return;
        }
        station->receive(f, now);
    }

    void path_answers(std::uint16_t knrp_sess_id) {
        auto it = links.find(data_link);
        if (it == links.end() || it->second.s.knrp_sess_id.value != knrp_sess_id) return;
        ready = true;
        log("the path through the relay answers: sending lines");
    }

    // ------------------------------------------------------------ events

    bool is_data_link(const pc5::LinkSummary& s) const {
        if (cfg.role != UeRole::source || !s.initiator) return false;
        if (!is_a() || cfg.path == pc5::Path::l2) return s.kind == pc5::LinkKind::e2e;
        return s.kind == pc5::LinkKind::hop;
    }

    bool has_e2e_links() const {
        return std::any_of(links.begin(), links.end(),
                           [](const auto& p) { return p.second.s.kind == pc5::LinkKind::e2e; });
    }

    void on_event(const pc5::Event& ev) {
        if (std::holds_alternative<pc5::DataReceived>(ev))
            return on_data(std::get<pc5::DataReceived>(ev));
        if (const auto* e = std::get_if<pc5::LinkEstablished>(&ev)) {
            const auto& s = e->link;
            links[s.id] = LinkState{s};
            count([](UeStats& st) { ++st.links_established; });
            log(fmt::format("link {} established: {} {} {} {} ({}), {}/{}, KNRP-sess ID {:04x}{}",
                            s.id, pc5::name(s.kind), s.local, s.initiator ? "->" : "<-", s.peer,
                            format_l2_id(s.peer_l2), short_name(s.ciphering),
                            short_name(s.integrity), s.knrp_sess_id.value, fingerprints(s)));
            if (!s.security_note.empty()) log(fmt::format("link {}: {}", s.id, s.security_note));
            // The station put its keys into the user plane; a layer-3 relay's hops route to each
            // other (pc5::DataKeys::l3_routes).
            if (auto k = engine->data_keys(s.id); is_relay() && k && !k->l3_routes.empty())
                log(fmt::format("layer-3 route: {} (link {}) <-> link {}", s.peer, s.id,
                                fmt::join(k->l3_routes, ", ")));
            if (is_data_link(s) && data_link.empty()) {
                data_link = s.id;
                if (is_a()) {
                    ready = true;
                    log(fmt::format("sending lines to {} on link {}", cfg.target, s.id));
                } else {
                    (void)b->send_keepalive(s.id, now);  // the relay learns the route both ways
                }
            }
        } else if (const auto* r = std::get_if<pc5::LinkRekeyed>(&ev)) {
            if (auto it = links.find(r->link.id); it != links.end()) it->second.s = r->link;
            // A link identifier update: the peer's new L2 ID is at its old one's address.
            if (r->identifiers_updated && r->link.peer_l2 != r->previous_peer_l2) {
                if (auto old = peers.find(r->previous_peer_l2);
                    old != peers.end() && !peers.contains(r->link.peer_l2))
                    peers[r->link.peer_l2] =
                        PeerEntry{old->second.address, old->second.name, false, now};
                log(fmt::format("link {}: identifiers updated: this UE {} -> {}, the peer {} -> {}",
                                r->link.id, format_l2_id(r->previous_local_l2),
                                format_l2_id(r->link.local_l2), format_l2_id(r->previous_peer_l2),
                                format_l2_id(r->link.peer_l2)));
            }
            log(fmt::format("link {} re-keyed: KNRP-sess ID {:04x}{}", r->link.id,
                            r->link.knrp_sess_id.value, fingerprints(r->link)));
        } else if (const auto* f = std::get_if<pc5::LinkFailed>(&ev)) {
            log_limited(
                "link failed",
                fmt::format("link {} {} -> {} failed: cause {}{}: {}", f->id.empty() ? "-" : f->id,
                            f->local, f->peer, cause_text(f->cause),
                            f->by_peer ? " (refused by the peer)" : "", f->reason));
            if (cfg.role == UeRole::source && !ready && !finishing)
                finish(kExitFailed, "the link to the target could not be established");
        } else if (const auto* r = std::get_if<pc5::LinkReleased>(&ev)) {
            on_released(*r);
        } else if (const auto* d = std::get_if<pc5::PduDropped>(&ev)) {
            log_limited("dropped PDU",
                        fmt::format("dropped a PDU{}: {}: {}",
                                    d->link_id.empty() ? "" : " on link " + d->link_id,
                                    pc5::name(d->reason), d->detail));
        } else if (const auto* rd = std::get_if<pc5::RelayDiscovered>(&ev)) {
            if (auto it = peers.find(rd->relay_l2); it != peers.end() && it->second.name.empty())
                it->second.name = rd->relay;
            log(fmt::format("discovered relay {} at {} for RSC 0x{:06x}", rd->relay,
                            format_l2_id(rd->relay_l2), rd->rsc));
        }
    }

    void on_released(const pc5::LinkReleased& r) {
        const bool known = links.erase(r.id) > 0;
        if (known) count([](UeStats& s) { ++s.links_released; });
        const bool lost =
            !r.by_peer && r.cause == codec::Cause::direct_connection_not_available && !finishing;
        if (lost) {
            peer_lost(r.id, r.peer);
        } else {
            log(fmt::format("link {} with {} released {}, cause {}", r.id, r.peer,
                            r.by_peer ? "by the peer" : "by this UE", cause_text(r.cause)));
        }
        if (lost) return;
        if (cfg.role == UeRole::source && r.by_peer && !finishing)
            finish(kExitOk, "the peer released the link: stopping");
    }

    void on_data(const pc5::DataReceived& d) {
        if (rx_header) note_sn(*rx_header);
        if (cfg.role != UeRole::target) {
            log(
                fmt::format("received {} octets from {} on link {} (only a target prints what it "
                            "receives)",
                            d.data.size(), d.peer, d.link_id));
            return;
        }
        // From a layer-3 relay: an IPv6 packet for this UE's address carries the line.
        std::span<const std::uint8_t> data = d.data;
        if (auto packet = userplane::parse_l3_packet(d.data)) {
            if (packet->dst != ip_address) {
                log_limited("dropped packet",
                            fmt::format("dropped an IPv6 packet for {} (not this UE's address)",
                                        userplane::to_string(packet->dst)));
                return;
            }
            data = packet->data;
        }
        count([](UeStats& s) { ++s.lines_delivered; });
        const std::string_view line(reinterpret_cast<const char*>(data.data()), data.size());
        cfg.deliver(line);  // Ue::create refuses a target without one
    }

    // An accepted data PDU (its MAC-I checked): SNs skipped since the highest one seen under its
    // key are PDUs missing; one that arrives late, below the highest, was counted missing and
    // is taken back. Each key's SNs start at 0.
    void note_sn(const userplane::Header& h) {
        auto& t = rx_sn[h.knrp_sess_id.value];
        std::uint64_t missing = 0;
        bool late = false;
        if (!t.started) {
            t.started = true;
            t.top = h.sn;
            missing = h.sn < userplane::kWindowSize ? h.sn : 0;
        } else {
            const std::uint32_t d = (h.sn - t.top) & (userplane::kSnModulus - 1);
            if (d == 0) return;
            if (d < userplane::kWindowSize) {
                missing = d - 1;
                t.top = h.sn;
            } else {
                late = true;
            }
        }
        if (missing)
            log_limited("missing", fmt::format("data PDUs missing: SN {} arrived, {} before it "
                                               "never did",
                                               h.sn, missing));
        count([&](UeStats& s) {
            s.data_missing += missing;
            if (late && s.data_missing) --s.data_missing;
        });
    }

    // ------------------------------------------------------------ the source's lines

    void read_input() {
        char buf[65536];
        const auto n = ::read(cfg.input_fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) {
            input_open = false;
            if (!partial.empty()) queue_line(std::exchange(partial, {}));
            log(fmt::format("input ended after {} lines", line_no));
            return;
        }
        partial.append(buf, static_cast<std::size_t>(n));
        for (std::size_t pos; (pos = partial.find('\n')) != std::string::npos;) {
            queue_line(partial.substr(0, pos));
            partial.erase(0, pos + 1);
        }
        if (partial.size() > userplane::kMaxSdu) {
            queue_line(std::exchange(partial, {}));  // refused with its line number
        }
    }

    void queue_line(std::string line) {
        ++line_no;
        if (line.size() > userplane::kMaxSdu) {
            log(fmt::format("input line {}: {} octets, above {} (one PDCP SDU): not sent", line_no,
                            line.size(), userplane::kMaxSdu));
            return;
        }
        queue.push_back(std::move(line));
    }

    void send_lines() {
        if (!ready || finishing) return;
        for (std::size_t i = 0; i < kLinesPerTurn && !queue.empty(); ++i) {
            const auto& line = queue.front();
            // Through a layer-3 relay a line travels as an IPv6 packet to the target's address,
            // which the relay routes by (docs/userplane.md).
            std::vector<std::uint8_t> packet;
            std::span<const std::uint8_t> sdu = bytes_of(line);
            if (is_a() && cfg.path == pc5::Path::l3) {
                auto p = userplane::l3_packet(ip_address, target_ip_address, sdu);
                if (!p) {
                    log(fmt::format("line not sent: {}", p.error().describe()));
                    queue.pop_front();
                    continue;
                }
                packet = std::move(*p);
                sdu = packet;
            }
            if (auto st = up->send(data_link, kBearer, sdu, now); !st) {
                log(fmt::format("line not sent: {}", st.error().describe()));
            } else {
                count([](UeStats& s) { ++s.lines_sent; });
                while (auto f = up->poll_transmit())
                    transmit(*f, data_link);
            }
            queue.pop_front();
        }
    }

    UeStats stats_copy() const {
        std::lock_guard lock(stats_mutex);
        return stats;
    }

    // ------------------------------------------------------------ shutdown

    void finish(int code, const std::string& why) {
        if (finishing) return;
        finishing = true;
        exit_code = code;
        log(why);
        // Solution A through a layer-2 relay: release the end-to-end links first, while the
        // hop that carries their release still exists (not worth waiting for when a peer is
        // lost: the path is gone).
        if (a && has_e2e_links() && code != kExitPeerLost) {
            for (const auto& [id, l] : links)
                if (l.s.kind == pc5::LinkKind::e2e) (void)a->release(id, now);
            phase = Phase::releasing_e2e;
            e2e_deadline = now + kE2eReleaseWait;
            return;
        }
        release_rest();
    }

    // Releases what is left (PROSE DIRECT LINK RELEASE); the loop sends the requests and ends.
    void release_rest() {
        engine->release_all(now);
        phase = Phase::done;
    }

    void save_capture() {
        next_save = now + kSaveInterval;
        if (capture->frames() == capture_saved) return;
        capture_saved = capture->frames();
        if (auto st = capture->save(cfg.pcap); !st)
            log(fmt::format("pcap: {}", st.error().describe()));
    }

    void shutdown() {
        now = clock();
        pump();
        flush_outbox();
        note_kernel_drops(sock->refresh_kernel_drops());
        flush_log_limits(true);
        for (const auto& [id, l] : links)
            up->remove(id);
        links.clear();
        if (capture) {
            capture_saved = static_cast<std::size_t>(-1);
            save_capture();
            log(fmt::format("capture: {} frames in {}", capture->frames(), cfg.pcap));
        }
        const auto s = stats_copy();
        const bool lost = s.datagrams_lost || s.datagrams_unsent || s.data_missing;
        log(fmt::format(
            "done: {} links established, {} released, {} peers lost; {} lines sent, "
            "{} delivered, {} frames forwarded; {} datagrams sent, {} received, {} "
            "dropped; lost: {} datagrams (receive buffer full), {} not sent, {} data PDUs "
            "missing{}; keys wiped",
            s.links_established, s.links_released, s.peers_lost, s.lines_sent, s.lines_delivered,
            s.frames_forwarded, s.datagrams_sent, s.datagrams_received, s.datagrams_dropped,
            s.datagrams_lost, s.datagrams_unsent, s.data_missing,
            lost && exit_code == kExitOk ? fmt::format(" (exit {})", kExitLost) : ""));
        // Nothing is lost silently: a run that would have ended well says so in its status.
        if (lost && exit_code == kExitOk) exit_code = kExitLost;
        // The engines wipe each link's keys on release; destroying the station (engine and user
        // plane) wipes whatever remains.
        up = nullptr;
        a = nullptr;
        b = nullptr;
        engine = nullptr;
        station.reset();
    }

    ~Impl() {
        for (int fd : wake)
            if (fd >= 0) ::close(fd);
    }
};

// ---------------------------------------------------------------- create

namespace {

Status open_key_log(const std::string& path, std::unique_ptr<std::ofstream>& out) {
    // A new file of mode 0600 replaces the old one atomically (pc5sec/files.hpp): keys are never
    // readable by others, and never written through a symbolic link or into a non-regular file.
    auto fd = files::create_secret_file(path);
    if (!fd) return make_error(Errc::io, "keylog", fd.error().describe());
    // The stream opens the very file the descriptor holds (not the path again, which another
    // program could have replaced meanwhile).
    out = std::make_unique<std::ofstream>(fmt::format("/proc/self/fd/{}", *fd),
                                          std::ios::out | std::ios::app);
    ::close(*fd);
    if (!*out) return make_error(Errc::io, "keylog", fmt::format("{}: cannot write", path));
    return {};
}

}  // namespace

Result<std::unique_ptr<Ue>> Ue::create(UeConfig config) {
    auto d = std::make_unique<Impl>();
    d->cfg = std::move(config);
    UeConfig& cfg = d->cfg;
    // Checks of the command line first: they need no file.
    if (cfg.l2_id == 0 || cfg.l2_id >= pc5::kBroadcastL2Id)
        return make_error(Errc::invalid_argument, "l2_id", "this UE's layer-2 ID is required");
    std::map<pc5::L2Id, Impl::PeerEntry> peers;
    std::map<std::string, pc5::L2Id> directory;
    for (const auto& p : cfg.peers) {
        if (p.l2 == cfg.l2_id)
            return make_error(Errc::invalid_argument, "peers",
                              fmt::format("{} is this UE's own layer-2 ID", format_l2_id(p.l2)));
        if (peers.contains(p.l2))
            return make_error(Errc::invalid_argument, "peers",
                              fmt::format("layer-2 ID {} given twice", format_l2_id(p.l2)));
        peers[p.l2] = Impl::PeerEntry{p.address, p.name, true};
        if (!p.name.empty()) {
            if (directory.contains(p.name))
                return make_error(Errc::invalid_argument, "peers",
                                  fmt::format("name \"{}\" given twice", p.name));
            directory[p.name] = p.l2;
        }
    }
    if (cfg.role == UeRole::source) {
        if (cfg.target.empty())
            return make_error(Errc::invalid_argument, "target",
                              "a source needs the target's user info ID (its certificate's CN)");
        if (cfg.solution != pc5::Solution::a && cfg.path == pc5::Path::direct)
            return make_error(Errc::invalid_argument, "path",
                              "solution B runs through a relay (seed 001)");
        if (cfg.path == pc5::Path::direct && !directory.contains(cfg.target))
            return make_error(Errc::invalid_argument, "peers",
                              fmt::format("a direct path needs the target among the peers, "
                                          "by name ({}:L2ID=ADDR:PORT)",
                                          cfg.target));
    } else if (!cfg.target.empty()) {
        return make_error(Errc::invalid_argument, "target", "only a source names a target");
    }
    if (peers.empty())
        return make_error(Errc::invalid_argument, "peers",
                          "at least one peer: [NAME:]L2ID=ADDR:PORT");
    if (cfg.role == UeRole::target && !cfg.deliver)
        return make_error(Errc::invalid_argument, "deliver",
                          "a target needs a deliver function for the lines it receives (the "
                          "library writes nothing to stdout)");

    // The bundle: everything else a UE needs. The station checks the certificate now and the
    // role it authorises, and builds the engine and the user plane.
    const auto wall = creds::Clock::now();
    if (!cfg.keylog.empty()) {
        PC5SEC_TRY(open_key_log(cfg.keylog, d->keylog_file));
        d->keylog = std::make_unique<pc5::KeyLogWriter>(*d->keylog_file);
    }
    Impl* self = d.get();
    station::Spec spec;
    spec.solution = cfg.solution;
    spec.role = cfg.role == UeRole::relay ? pc5::UeRole::relay : pc5::UeRole::end_ue;
    spec.l2_id = cfg.l2_id;
    spec.in_coverage = false;  // no provisioning function is reachable from a UE process
    spec.wall_epoch = wall;
    spec.keylog = d->keylog.get();
    spec.directory = directory;
    spec.capture = !cfg.pcap.empty();
    spec.keepalive_interval = cfg.keepalive;  // each engine watches its peer
    spec.a.timers.t5090 = cfg.privacy_timer;
    spec.b.t5090 = cfg.privacy_timer;
    spec.t5085 = kKeepaliveAnswer;
    auto made = station::Station::from_bundle(cfg.bundle, std::move(spec));
    if (!made) return std::move(made).error();
    d->station = std::move(*made);
    d->engine = &d->station->engine();
    d->a = d->station->a();
    d->b = d->station->b();
    d->up = &d->station->user_plane();
    d->station->credentials()->set_logger(
        [self](std::string_view line) { self->log(fmt::format("creds: {}", line)); });
    const auto& certificate = d->station->credentials()->certificate();
    const creds::Authorisation auth = certificate.authorisation();
    const std::string cert_file = certificate.source();
    if (cfg.role == UeRole::source && cfg.path != pc5::Path::direct) {
        if (cfg.rsc && !auth.has_rsc(*cfg.rsc))
            return make_error(Errc::policy, "rsc",
                              fmt::format("0x{:06x} is not among the relay service codes of {} "
                                          "({})",
                                          *cfg.rsc, cert_file, creds::to_string(auth)));
        if (!cfg.rsc && auth.rscs.empty())
            return make_error(Errc::policy, "rsc",
                              fmt::format("{} allows no relay service code", cert_file));
        d->rsc = cfg.rsc ? *cfg.rsc : auth.rscs.front();
    }
    if (cfg.role == UeRole::relay && directory.empty())
        d->log(
            "warning: no peer has a name: this relay reaches no target (give a peer as "
            "NAME:L2ID=ADDR:PORT)");

    d->user = d->station->user_info();
    d->ip_address = userplane::l3_address(d->user);
    d->target_ip_address = userplane::l3_address(cfg.target);
    d->directory = directory;
    d->peers = std::move(peers);
    d->t0 = Clock::now();
    d->epoch_us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(wall.time_since_epoch()).count());
    if (!cfg.pcap.empty()) {
        d->capture.emplace(d->epoch_us);
        if (auto st = d->capture->save(cfg.pcap); !st)
            return make_error(Errc::io, "pcap", st.error().describe());
    }

    if (cfg.socket) {
        d->sock = std::move(*cfg.socket);
        cfg.socket.reset();
    } else {
        auto s = UdpSocket::bind(cfg.bind);
        if (!s) return std::move(s).error();
        d->sock = std::move(*s);
    }
    if (::pipe2(d->wake, O_NONBLOCK | O_CLOEXEC) != 0)
        return make_error(Errc::io, "pipe", std::strerror(errno));
    d->rx.resize(UdpSocket::kBatch * kMaxDatagram);
    return std::unique_ptr<Ue>(new Ue(std::move(d)));
}

Ue::Ue(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Ue::~Ue() {
    Ue* self = this;
    g_stop_target.compare_exchange_strong(self, nullptr);
}

int Ue::run() {
    return impl_->run();
}

void Ue::request_stop() noexcept {
    impl_->stop.store(true);
    const char c = 's';
    [[maybe_unused]] const auto n = ::write(impl_->wake[1], &c, 1);
}

const Address& Ue::local_address() const noexcept {
    return impl_->sock->local();
}

const std::string& Ue::user_info() const noexcept {
    return impl_->user;
}

UeStats Ue::stats() const {
    return impl_->stats_copy();
}

void stop_on_signals(Ue& ue) {
    g_stop_target.store(&ue);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

}  // namespace pc5sec::net
