// A non-blocking IPv4 UDP socket (POSIX).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

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
        return make_error(Errc::io, "--bind", fmt::format("socket: {}", std::strerror(errno)));
    UdpSocket s(fd, address);
    // Room for bursts of frames: a sidelink has no flow control either.
    const int buffer = 1 << 21;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    const sockaddr_in sa = to_sockaddr(address);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
        return make_error(Errc::io, "--bind",
                          fmt::format("{}: {}", address.to_string(), std::strerror(errno)));
    sockaddr_in got{};
    socklen_t len = sizeof got;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len) == 0)
        s.local_ = Address{ntohl(got.sin_addr.s_addr), ntohs(got.sin_port)};
    return s;
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), local_(other.local_) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        local_ = other.local_;
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
        return make_error(Errc::io, "sendto",
                          fmt::format("to {}: {}", to.to_string(), std::strerror(errno)));
    }
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

}  // namespace pc5sec::net
