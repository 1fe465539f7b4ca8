// Linux NETLINK_SOCK_DIAG: which user owns a TCP socket on this host, by exact 4-tuple.
//
// The kernel's inet_diag "find one" lookup (no NLM_F_DUMP) takes the socket's own
// address and port as `src`/`sport` and its peer's as `dst`/`dport`, and answers with
// one inet_diag_msg (idiag_uid is the socket's owner, mapped into our user namespace) or
// an error. Asked about the client end of a connection we accepted, it names the
// client's user. Every failure is "nobody": the caller proves nothing then.
#pragma once

#if defined(__linux__)

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>

namespace trustgate::net::detail {

// One end of a TCP connection as the kernel stores it: address bytes (4 for AF_INET,
// 16 for AF_INET6) and the port in network byte order.
struct tcp_end {
    const void* address;
    std::uint16_t port_be;
};

// The owner of the TCP socket whose local end is `self` and whose remote end is `other`,
// within `timeout`. Nothing when the kernel finds no such socket, or finds one that no
// process holds any more (a TIME_WAIT or orphaned socket reports inode 0 and uid 0,
// which must never read as root).
inline std::optional<std::uint32_t> tcp_socket_owner(int family, tcp_end self, tcp_end other,
                                                     std::chrono::milliseconds timeout) noexcept {
    const int nl = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0) return std::nullopt;
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } const guard{nl};

    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
    if (::setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) return std::nullopt;

    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } query{};
    constexpr std::uint32_t sequence = 1;
    query.header.nlmsg_len = sizeof query;
    query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    query.header.nlmsg_flags = NLM_F_REQUEST;
    query.header.nlmsg_seq = sequence;
    query.request.sdiag_family = static_cast<std::uint8_t>(family);
    query.request.sdiag_protocol = IPPROTO_TCP;
    query.request.idiag_states = ~0u;
    const std::size_t address_size = family == AF_INET ? 4 : 16;
    std::memcpy(query.request.id.idiag_src, self.address, address_size);
    std::memcpy(query.request.id.idiag_dst, other.address, address_size);
    query.request.id.idiag_sport = self.port_be;
    query.request.id.idiag_dport = other.port_be;
    query.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    query.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(nl, &query, sizeof query, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) !=
        static_cast<ssize_t>(sizeof query))
        return std::nullopt;

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    alignas(nlmsghdr) unsigned char buffer[8192];
    while (true) {
        sockaddr_nl from{};
        socklen_t from_size = sizeof from;
        const ssize_t n = ::recvfrom(nl, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_size);
        if (n < 0) {
            if (errno == EINTR && std::chrono::steady_clock::now() < deadline) continue;
            return std::nullopt;  // timed out, or the kernel refused
        }
        if (from.nl_pid != 0) continue;  // only the kernel answers this
        auto left = static_cast<unsigned>(n);
        for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != sequence) continue;
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
                return std::nullopt;  // NLMSG_ERROR: no such socket, or not allowed
            const auto* found = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
            if (found->id.idiag_sport != self.port_be || found->id.idiag_dport != other.port_be || found->idiag_inode == 0)
                return std::nullopt;
            return found->idiag_uid;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    }
}

}  // namespace trustgate::net::detail

#endif
