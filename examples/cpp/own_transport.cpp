// Bring your own transport: a station (pc5sec/station.hpp: a link engine and its user plane) is
// sans-I/O, so the application owns the socket, the loop and the clock. Here alice and bob (one
// process, two UDP sockets on 127.0.0.1) establish a solution-A link and alice sends one
// protected PDU, with nothing but:
//   station.poll_transmit()                   frames to put on the wire
//   station.receive(frame, now)               frames that came from the wire
//   station.next_timeout() / handle_timeout   its timers, on our clock
//   station.poll_event()                      what happened (link up, data)
//   station.send(link, bearer, data, now)     data on an established link
// The wire format is this program's own: 3 octets source L2 ID, 3 destination, 1 LCID, the PDU.
// Exits 0 when bob has read alice's message.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pc5sec/provisioning.hpp"
#include "pc5sec/station.hpp"

using namespace pc5sec;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "own_transport: %s\n", what.c_str());
    std::exit(1);
}

// Our clock: the engines only ever see time since the program started.
const auto kStart = std::chrono::steady_clock::now();
pc5::Time now() {
    return std::chrono::steady_clock::now() - kStart;
}

std::vector<std::uint8_t> encode(const pc5::Frame& f) {
    std::vector<std::uint8_t> out(7 + f.pdu.size());
    for (int i = 0; i < 3; ++i) {
        out[std::size_t(i)] = std::uint8_t(f.src >> (16 - 8 * i));
        out[std::size_t(3 + i)] = std::uint8_t(f.dst >> (16 - 8 * i));
    }
    out[6] = f.lcid;
    std::copy(f.pdu.begin(), f.pdu.end(), out.begin() + 7);
    return out;
}

std::optional<pc5::Frame> decode(const std::uint8_t* p, std::size_t n) {
    if (n < 7) return std::nullopt;
    pc5::Frame f;
    f.src = pc5::L2Id(p[0]) << 16 | pc5::L2Id(p[1]) << 8 | p[2];
    f.dst = pc5::L2Id(p[3]) << 16 | pc5::L2Id(p[4]) << 8 | p[5];
    f.lcid = p[6];
    f.pdu.assign(p + 7, p + n);
    return f;
}

struct Ue {
    std::unique_ptr<station::Station> station;
    int fd = -1;
    sockaddr_in addr{};
    std::string link;  // established link id
    std::vector<std::string> received;
};

Ue make_ue(creds::ProvisioningFunction& pf, const std::string& name, pc5::L2Id l2,
           const std::map<std::string, pc5::L2Id>& directory) {
    creds::UeProfile profile;
    profile.user_info_id = name;
    profile.authorisation = creds::Authorisation{{creds::Role::end_ue}, {}};
    auto issued = pf.issue(profile, creds::Clock::now() - 1h, 24h * 30);
    if (!issued) fail(issued.error().describe());
    auto trust = creds::TrustStore::create(pf.ca_certificate());
    if (!trust) fail(trust.error().describe());
    station::Spec spec;
    spec.solution = pc5::Solution::a;
    spec.l2_id = l2;
    spec.credentials = std::make_shared<creds::CredentialManager>(issued->key, issued->certificate,
                                                                  std::move(*trust));
    spec.directory = directory;
    // Certificates are checked at wall_epoch + the station's time: our clock's zero.
    spec.wall_epoch = creds::Clock::now();
    auto made = station::Station::create(std::move(spec));
    if (!made) fail(made.error().describe());

    Ue ue;
    ue.station = std::move(*made);
    // A UDP socket on 127.0.0.1, port chosen by the kernel.
    ue.fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ue.addr.sin_family = AF_INET;
    ue.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof ue.addr;
    if (ue.fd < 0 || ::bind(ue.fd, reinterpret_cast<sockaddr*>(&ue.addr), sizeof ue.addr) != 0 ||
        ::getsockname(ue.fd, reinterpret_cast<sockaddr*>(&ue.addr), &len) != 0)
        fail("socket");
    return ue;
}

}  // namespace

int main() {
    const std::map<std::string, pc5::L2Id> directory = {{"alice", 0x0A}, {"bob", 0x0B}};
    auto pf = creds::ProvisioningFunction::create(creds::Clock::now() - 1h, 24h * 365);
    if (!pf) fail(pf.error().describe());
    std::map<pc5::L2Id, Ue> ues;
    ues.emplace(0x0A, make_ue(*pf, "alice", 0x0A, directory));
    ues.emplace(0x0B, make_ue(*pf, "bob", 0x0B, directory));
    Ue& alice = ues.at(0x0A);
    Ue& bob = ues.at(0x0B);

    pc5::ConnectRequest request;
    request.target = "bob";
    request.target_l2 = 0x0B;
    alice.station->connect(request, now());

    bool sent = false;
    const std::string text = "hello over UDP";
    while (bob.received.empty()) {
        if (now() > 10s) fail("no data after 10 s");
        // 1. Everything the engines and user planes want sent: to the destination's socket.
        auto send = [&](const Ue& from, const pc5::Frame& f) {
            auto it = ues.find(f.dst);
            if (it == ues.end()) return;  // nobody there (e.g. broadcast)
            auto bytes = encode(f);
            ::sendto(from.fd, bytes.data(), bytes.size(), 0,
                     reinterpret_cast<const sockaddr*>(&it->second.addr), sizeof(sockaddr_in));
        };
        for (auto& [l2, ue] : ues)
            while (auto f = ue.station->poll_transmit())
                send(ue, *f);
        // 2. Events: a link is up (its keys are in the user plane already), data was read.
        for (auto& [l2, ue] : ues) {
            while (auto ev = ue.station->poll_event()) {
                if (auto* e = std::get_if<pc5::LinkEstablished>(&*ev)) {
                    ue.link = e->link.id;
                    std::printf("%s: link %s up\n", ue.station->user_info().c_str(),
                                e->link.id.c_str());
                } else if (auto* f = std::get_if<pc5::LinkFailed>(&*ev)) {
                    fail("link failed: " + f->reason);
                } else if (auto* d = std::get_if<pc5::DataReceived>(&*ev)) {
                    ue.received.emplace_back(d->data.begin(), d->data.end());
                }
            }
        }
        if (!alice.link.empty() && !sent) {
            const std::vector<std::uint8_t> data(text.begin(), text.end());
            if (auto st = alice.station->send(alice.link, userplane::kFirstBearer, data, now());
                !st)
                fail(st.error().describe());
            sent = true;
            continue;  // send it before sleeping
        }
        // 3. Sleep until a datagram comes or the next engine timer is due.
        pc5::Time deadline = std::min(alice.station->next_timeout(), bob.station->next_timeout());
        auto wait = deadline == pc5::kNever
                        ? 100ms
                        : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now());
        pollfd fds[2] = {{alice.fd, POLLIN, 0}, {bob.fd, POLLIN, 0}};
        ::poll(fds, 2, int(std::clamp<std::int64_t>(wait.count() + 1, 0, 100)));
        for (auto& [l2, ue] : ues) {
            std::uint8_t buf[65536];
            ssize_t n;
            while ((n = ::recv(ue.fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
                auto f = decode(buf, std::size_t(n));
                if (!f || f->dst != l2) continue;
                ue.station->receive(*f, now());  // data to its user plane, the rest to its engine
            }
        }
        // 4. Timers that are due.
        for (auto& [l2, ue] : ues)
            if (ue.station->next_timeout() <= now()) ue.station->handle_timeout(now());
    }
    if (bob.received.front() != text) fail("bob read \"" + bob.received.front() + "\"");
    std::printf("bob read \"%s\" over UDP\n", bob.received.front().c_str());
    for (auto& [l2, ue] : ues)
        ::close(ue.fd);
    return 0;
}
