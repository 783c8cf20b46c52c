// Real UE processes over UDP (issue [udp], docs/udp.md): the same sans-I/O engines as the
// simulator and the tests, driven by a POSIX UDP socket, the monotonic clock and signals.
//
//   - the UDP frame: one PC5 frame (pc5::Frame) per datagram behind a 10-octet header
//     (encode_frame / decode_frame);
//   - addresses and peers as the command line gives them (parse_address, parse_l2_id,
//     parse_peer);
//   - UdpSocket: a bound, non-blocking IPv4 UDP socket;
//   - Ue: one UE (source, UE-to-UE relay or target) that joins a link engine (solution A
//     link::Engine or solution B sigauth::Engine), a userplane::Endpoint and the socket in one
//     poll() loop. `pc5sec ue` is a thin command line around it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pc5sec/error.hpp"
#include "pc5sec/pc5.hpp"

namespace pc5sec::net {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- the UDP frame
//
//   octet 0-1  magic "P5" (0x50 0x35)
//   octet 2    version (1)
//   octet 3-5  source layer-2 ID (24 bits, big-endian)
//   octet 6-8  destination layer-2 ID (24 bits, big-endian; 0xFFFFFF: broadcast)
//   octet 9    R R | LCID (6 bits, TS 38.321 Table 6.2.4-1)
//   octet 10-  the PDU, exactly as the engine or user plane made it (1..kMaxPdu octets)
inline constexpr std::uint8_t kMagic[2] = {0x50, 0x35};  // "P5"
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 10;
// The largest PDU: a 9000-octet SDU (TS 38.323 4.3.1) with its PDCP header, MAC-I and SRAP
// header, rounded up. Larger datagrams are refused.
inline constexpr std::size_t kMaxPdu = 9216;
inline constexpr std::size_t kMaxDatagram = kHeaderSize + kMaxPdu;

// What a datagram carries, as a view into it.
struct FrameView {
    pc5::L2Id src = 0;
    pc5::L2Id dst = 0;
    std::uint8_t lcid = 0;
    std::span<const std::uint8_t> pdu;
    pc5::Frame to_frame() const;  // an owning copy
};

// Errc::invalid_argument naming "src" / "dst" (above 24 bits; src may not be the broadcast
// ID), "lcid" (above 63) or "pdu" (empty or above kMaxPdu).
Result<std::vector<std::uint8_t>> encode_frame(const pc5::Frame& frame);
// Strict: Errc::malformed naming "udp.header" (shorter than the header), "udp.magic",
// "udp.version", "udp.reserved" (the two bits before the LCID), "udp.src" (the broadcast ID),
// "udp.pdu" (empty or above kMaxPdu).
Result<FrameView> decode_frame(std::span<const std::uint8_t> datagram);

// ---------------------------------------------------------------- addresses and peers

// An IPv4 address and port.
struct Address {
    std::uint32_t ip = 0;  // host byte order
    std::uint16_t port = 0;
    std::string to_string() const;  // "127.0.0.1:5001"
    friend bool operator==(const Address&, const Address&) = default;
};

// "A.B.C.D:PORT" (PORT 0..65535; 0 lets the kernel choose when binding). Errors
// (Errc::invalid_argument) name `field`.
Result<Address> parse_address(std::string_view text, std::string_view field);
// A layer-2 ID in hex, with or without "0x" (1 to 6 hex digits); 0 and 0xFFFFFF (broadcast) are
// refused. Errors name `field`.
Result<pc5::L2Id> parse_l2_id(std::string_view text, std::string_view field);
// Lower-case, six hex digits with 0x: "0x00000a".
std::string format_l2_id(pc5::L2Id id);

// A UE this UE can reach: `[NAME:]L2ID=ADDR:PORT`. NAME is the peer's user info ID (its
// certificate's CN); a relay needs it for the UEs it relays to (its directory), end UEs may
// leave it out (discovery names the relay).
struct Peer {
    std::string name;  // "" when not given
    pc5::L2Id l2 = 0;
    Address address;
};
Result<Peer> parse_peer(std::string_view text, std::string_view field = "peers");

// ---------------------------------------------------------------- the socket

class UdpSocket {
  public:
    // A non-blocking IPv4 UDP socket bound to `address` (port 0: any free port). Errc::io
    // naming "--bind" with the system's reason.
    static Result<UdpSocket> bind(const Address& address);
    UdpSocket(UdpSocket&& other) noexcept;
    UdpSocket& operator=(UdpSocket&& other) noexcept;
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    ~UdpSocket();

    int fd() const noexcept { return fd_; }
    const Address& local() const noexcept { return local_; }  // with the port the kernel chose
    // One datagram; Errc::io on failure (a full send buffer included).
    Status send_to(const Address& to, std::span<const std::uint8_t> datagram) const;
    struct Outgoing {
        Address to;
        std::span<const std::uint8_t> datagram;
    };
    // Datagrams in as few system calls as the kernel takes them (sendmmsg, in order). For each
    // one the kernel refused, `on_failure(index, error)` is called (Errc::io; field
    // "sendto.full" when the send buffer was full) and the rest are still sent. Returns how
    // many were sent.
    std::size_t send_batch(std::span<const Outgoing> out,
                           const std::function<void(std::size_t, const Error&)>& on_failure) const;
    struct Received {
        Address from;
        std::size_t size = 0;
        bool truncated = false;  // larger than the buffer
    };
    // One datagram into `buffer`, or nothing when none is waiting.
    std::optional<Received> receive(std::span<std::uint8_t> buffer) const;
    // Up to `out.size()` waiting datagrams in one system call (recvmmsg), the i-th into
    // `buffers[i * each, (i + 1) * each)`; how many were received (0: none waiting).
    std::size_t receive_batch(std::span<Received> out, std::span<std::uint8_t> buffers,
                              std::size_t each) const;
    // Datagrams the kernel dropped because this socket's receive buffer was full
    // (SO_RXQ_OVFL), as of the last receive_batch; 0 if the kernel does not say.
    std::uint64_t kernel_drops() const noexcept { return kernel_drops_; }
    // The same, asked of the kernel now (/proc/net/udp): also the drops after the last datagram
    // received. Falls back to kernel_drops().
    std::uint64_t refresh_kernel_drops() const;
    // The receive buffer the kernel granted (SO_RCVBUF), in octets.
    std::size_t receive_buffer() const noexcept;
    // Datagrams per receive_batch call, and the receive buffer asked for: room for bursts of
    // 4 sources x thousands of unpaced lines through one relay (docs/udp.md, "Loss").
    static constexpr std::size_t kBatch = 64;
    static constexpr int kReceiveBuffer = 16 << 20;

  private:
    UdpSocket(int fd, Address local) : fd_(fd), local_(local) {}
    int fd_ = -1;
    Address local_;
    mutable std::uint64_t kernel_drops_ = 0;
    mutable std::uint32_t kernel_counter_ = 0;  // the kernel's 32-bit counter, last seen
};

// ---------------------------------------------------------------- the UE

enum class UeRole : std::uint8_t { source, relay, target };
const char* name(UeRole r) noexcept;  // "source", "relay", "target"
Result<UeRole> ue_role_from_name(std::string_view text, std::string_view field = "role");

// Exit statuses of Ue::run (docs/udp.md).
inline constexpr int kExitOk = 0;        // stopped by a signal, or the source's input ended
inline constexpr int kExitFailed = 1;    // the source's link could not be established
inline constexpr int kExitPeerLost = 3;  // an end UE lost its peer (keep-alive unanswered)
// Would have exited 0, but lost something on the way (docs/udp.md, "Loss"): datagrams the kernel
// dropped from this UE's full receive buffer, datagrams it could not send, or data PDUs that
// never arrived (gaps in the PDCP SNs a target received).
inline constexpr int kExitLost = 4;

struct UeConfig {
    std::filesystem::path bundle;  // as `pc5sec provision` writes it (creds::Bundle)
    UeRole role = UeRole::source;
    pc5::Solution solution = pc5::Solution::a;
    pc5::Path path = pc5::Path::l3;  // the source's path to the target (l2 or l3)
    pc5::L2Id l2_id = 0;
    Address bind{0x7F000001, 0};
    std::optional<UdpSocket> socket;  // already bound (tests); otherwise `bind` is bound
    std::vector<Peer> peers;
    std::string target;                // source: the target's user info ID
    std::optional<std::uint32_t> rsc;  // source: the relay service code (default: the first
                                       // one its certificate allows)
    // How often each end of an established link checks that its peer is there (0: never). A
    // peer is lost after about interval + 4 s without an answer.
    pc5::Time keepalive = 2s;
    // T5090, the privacy timer (0: off): each link's L2 IDs and KNRP-sess ID change this often
    // by the link identifier update (docs/solution-a.md; solution B: each end UE's hop to the
    // relay, docs/solution-b.md); the peers' new L2 IDs are reached at the addresses of their
    // old ones.
    pc5::Time privacy_timer = 0s;
    std::string pcap;    // capture (docs/pcap-format.md), saved every second and at exit
    std::string keylog;  // key log (docs/keylog.md), mode 0600
    int input_fd = 0;    // source: lines to send (-1: none)
    // Bounds against floods (docs/udp.md, "Bounds"): L2 IDs learned from datagrams (not the
    // --peer ones) are kept up to this many, the least recently heard without a link evicted
    // first; a relay answers at most this many discovery solicitations a second.
    std::size_t max_learned_peers = 1024;
    unsigned discovery_answers_per_second = 50;
    // Target: each line received (required: the library never writes to stdout). Logs (default:
    // the log sink, pc5sec/log.hpp, component "ue", level info). Called on the thread that runs
    // Ue::run.
    std::function<void(std::string_view line)> deliver;
    std::function<void(std::string_view line)> log;
};

// What a UE did, for its last log line and the tests.
struct UeStats {
    std::uint64_t lines_sent = 0, lines_delivered = 0;
    std::uint64_t datagrams_sent = 0, datagrams_received = 0, datagrams_dropped = 0;
    std::uint64_t frames_forwarded = 0;  // a relay: PC5-S and data it passed on
    // Losses (docs/udp.md, "Loss"): dropped by the kernel for want of room in this UE's receive
    // buffer; not sent (the send buffer full, or no address); data PDUs missing at a receiver
    // (gaps in the PDCP SNs of each key).
    std::uint64_t datagrams_lost = 0, datagrams_unsent = 0, data_missing = 0;
    // Bounds: learned L2 IDs held now, evicted, and discovery solicitations left unanswered.
    std::uint64_t learned_peers = 0, peers_evicted = 0, discovery_unanswered = 0;
    std::uint64_t links_established = 0, links_released = 0, peers_lost = 0;
};

class Ue {
  public:
    // Loads the bundle and builds the engine, the user plane and the socket. Errors name the
    // field or file at fault ("--role", "--target", "DIR/cert.pem: notAfter", "--bind", ...).
    static Result<std::unique_ptr<Ue>> create(UeConfig config);
    ~Ue();
    Ue(const Ue&) = delete;
    Ue& operator=(const Ue&) = delete;

    // Runs the poll() loop until the UE is stopped (request_stop), a source's input has ended
    // and its lines are sent, or an end UE lost its peer. Before returning it releases every
    // link (PROSE DIRECT LINK RELEASE, waiting at most 2 s for the answers), saves the capture
    // and wipes the keys. Returns kExitOk, kExitFailed, kExitPeerLost or kExitLost.
    int run();
    // Asks run() to release the links and return. Async-signal-safe and thread-safe.
    void request_stop() noexcept;

    const Address& local_address() const noexcept;
    const std::string& user_info() const noexcept;
    UeStats stats() const;  // safe to call from another thread

    struct Impl;

  private:
    explicit Ue(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// SIGINT and SIGTERM call `ue.request_stop()` (until the UE is destroyed); SIGPIPE is ignored.
void stop_on_signals(Ue& ue);

}  // namespace pc5sec::net
