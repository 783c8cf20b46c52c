// A non-blocking IPv4 UDP socket (POSIX).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "pc5sec/net.hpp"

namespace pc5sec::net {

namespace {
sockaddr_in to_sockaddr(const Address& a) {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(a.ip);
    s.sin_port = htons(a.port);
    return s;
}
}  // namespace

Result<UdpSocket> UdpSocket::bind(const Address& address) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return make_error(Errc::io, "bind", fmt::format("socket: {}", std::strerror(errno)));
    UdpSocket s(fd, address);
    // Room for bursts of frames: a sidelink has no flow control either. SO_RCVBUF is capped by
    // net.core.rmem_max; SO_RCVBUFFORCE (CAP_NET_ADMIN) is not, so try it first.
    const int buffer = kReceiveBuffer, send_buffer = 1 << 21;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
    // Each received datagram then carries the count of datagrams the kernel dropped for want
    // of room: a loss is counted, never silent.
    const int on = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    const sockaddr_in sa = to_sockaddr(address);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
        return make_error(Errc::io, "bind",
                          fmt::format("{}: {}", address.to_string(), std::strerror(errno)));
    sockaddr_in got{};
    socklen_t len = sizeof got;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len) == 0)
        s.local_ = Address{ntohl(got.sin_addr.s_addr), ntohs(got.sin_port)};
    return s;
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      local_(other.local_),
      kernel_drops_(other.kernel_drops_),
      kernel_counter_(other.kernel_counter_) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        local_ = other.local_;
        kernel_drops_ = other.kernel_drops_;
        kernel_counter_ = other.kernel_counter_;
    }
    return *this;
}

UdpSocket::~UdpSocket() {
    if (fd_ >= 0) ::close(fd_);
}

Status UdpSocket::send_to(const Address& to, std::span<const std::uint8_t> datagram) const {
    const sockaddr_in sa = to_sockaddr(to);
    for (;;) {
        const auto n = ::sendto(fd_, datagram.data(), datagram.size(), 0,
                                reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
        if (n >= 0) return {};
        if (errno == EINTR) continue;
        // "sendto.full": the datagram is lost here (the send buffer is full).
        const bool full = errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS;
        return make_error(Errc::io, full ? "sendto.full" : "sendto",
                          fmt::format("to {}: {}", to.to_string(), std::strerror(errno)));
    }
}

std::size_t UdpSocket::send_batch(
    std::span<const Outgoing> out,
    const std::function<void(std::size_t, const Error&)>& on_failure) const {
    std::array<sockaddr_in, kBatch> to{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    std::size_t sent = 0;
    for (std::size_t base = 0; base < out.size();) {
        const std::size_t n = std::min(kBatch, out.size() - base);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& o = out[base + i];
            to[i] = to_sockaddr(o.to);
            // sendmmsg takes non-const buffers; it only reads them.
            iov[i] = {const_cast<std::uint8_t*>(o.datagram.data()), o.datagram.size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &to[i];
            msgs[i].msg_hdr.msg_namelen = sizeof to[i];
        }
        int got;
        do {
            got = ::sendmmsg(fd_, msgs.data(), static_cast<unsigned>(n), 0);
        } while (got < 0 && errno == EINTR);
        if (got > 0) {
            sent += static_cast<std::size_t>(got);
            base += static_cast<std::size_t>(got);
            continue;
        }
        // The first of the batch was refused: it is lost here (as send_to says); go on with the
        // next.
        const bool full = errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS;
        if (on_failure)
            on_failure(base, Error{Errc::io, full ? "sendto.full" : "sendto",
                                   fmt::format("to {}: {}", out[base].to.to_string(),
                                               std::strerror(errno)),
                                   std::nullopt});
        ++base;
    }
    return sent;
}

std::optional<UdpSocket::Received> UdpSocket::receive(std::span<std::uint8_t> buffer) const {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    for (;;) {
        const auto n = ::recvfrom(fd_, buffer.data(), buffer.size(), MSG_TRUNC,
                                  reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;  // EAGAIN: nothing waiting; anything else: nothing usable
        }
        Received r;
        r.from = Address{ntohl(from.sin_addr.s_addr), ntohs(from.sin_port)};
        r.truncated = static_cast<std::size_t>(n) > buffer.size();
        r.size = r.truncated ? buffer.size() : static_cast<std::size_t>(n);
        return r;
    }
}

std::size_t UdpSocket::receive_batch(std::span<Received> out, std::span<std::uint8_t> buffers,
                                     std::size_t each) const {
    const std::size_t n = std::min({out.size(), kBatch, buffers.size() / each});
    if (n == 0) return 0;
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::array<sockaddr_in, kBatch> from{};
    constexpr std::size_t kControl = CMSG_SPACE(sizeof(std::uint32_t));
    alignas(cmsghdr) std::array<std::array<std::uint8_t, kControl>, kBatch> control{};
    for (std::size_t i = 0; i < n; ++i) {
        iov[i] = {buffers.data() + i * each, each};
        auto& h = msgs[i].msg_hdr;
        h.msg_iov = &iov[i];
        h.msg_iovlen = 1;
        h.msg_name = &from[i];
        h.msg_namelen = sizeof from[i];
        h.msg_control = control[i].data();
        h.msg_controllen = kControl;
    }
    int got;
    do {
        got = ::recvmmsg(fd_, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return 0;  // EAGAIN: nothing waiting; anything else: nothing usable
    for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
        auto& h = msgs[i].msg_hdr;
        Received& r = out[i];
        r.from = Address{ntohl(from[i].sin_addr.s_addr), ntohs(from[i].sin_port)};
        r.truncated = (h.msg_flags & MSG_TRUNC) != 0;
        r.size = std::min<std::size_t>(msgs[i].msg_len, each);
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                std::uint32_t counter = 0;
                std::memcpy(&counter, CMSG_DATA(c), sizeof counter);
                kernel_drops_ += static_cast<std::uint32_t>(counter - kernel_counter_);
                kernel_counter_ = counter;
            }
    }
    return static_cast<std::size_t>(got);
}

std::uint64_t UdpSocket::refresh_kernel_drops() const {
    // /proc/net/udp: one line per socket, "... inode ref pointer drops"; ours by its inode.
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return kernel_drops_;
    std::ifstream in("/proc/net/udp");
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
        if (f.size() < 13 || f[9] != std::to_string(st.st_ino)) continue;
        std::uint64_t value = 0;
        const auto& text = f[12];
        if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc{}) break;
        const auto counter = static_cast<std::uint32_t>(value);
        kernel_drops_ += static_cast<std::uint32_t>(counter - kernel_counter_);
        kernel_counter_ = counter;
        break;
    }
    return kernel_drops_;
}

std::size_t UdpSocket::receive_buffer() const noexcept {
    int size = 0;
    socklen_t len = sizeof size;
    if (::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, &len) != 0) return 0;
    return static_cast<std::size_t>(size);
}

}  // namespace pc5sec::net
