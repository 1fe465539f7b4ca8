// trustgate/net/peer_credentials.hpp — the kernel's word on who is at the other end.
//
//   const trustgate::local_proof proof = trustgate::net::peer_owner(socket.native_handle());
//
// For an accepted connection: on a Unix socket, SO_PEERCRED; for a loopback TCP peer
// (127.0.0.0/8, ::1, or ::ffff:127.x on a dual-stack listener), the owner of the peer's
// socket by an exact NETLINK_SOCK_DIAG lookup of the connection's 4-tuple. A remote peer
// is not looked up (`none`). Anything that goes wrong is `failed`, never a user: the
// proof fails closed. Costs a few system calls, so a server asks once per connection, at
// accept, never per request (behaviour §1). Elsewhere than Linux it proves nothing.
#pragma once

#include <chrono>
#include <cstdint>

#include "trustgate/local_proof.hpp"

#if defined(__linux__)
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "trustgate/net/detail/sock_diag.hpp"
#endif

namespace trustgate::net {

// The kernel answers from memory; this only bounds a kernel that does not answer.
inline constexpr std::chrono::milliseconds default_peer_lookup_timeout{100};

inline local_proof peer_owner(int connected_socket,
                              std::chrono::milliseconds timeout = default_peer_lookup_timeout) noexcept {
#if defined(__linux__)
    sockaddr_storage self{}, peer{};
    socklen_t self_size = sizeof self, peer_size = sizeof peer;
    if (::getsockname(connected_socket, reinterpret_cast<sockaddr*>(&self), &self_size) != 0 ||
        ::getpeername(connected_socket, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0)
        return local_proof::failure();

    const auto found = [](const auto& uid) { return uid ? local_proof::of(*uid) : local_proof::failure(); };
    if (peer.ss_family == AF_UNIX) {
        ucred credentials{};
        socklen_t size = sizeof credentials;
        if (::getsockopt(connected_socket, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 || size != sizeof credentials)
            return local_proof::failure();
        return local_proof::of(static_cast<std::uint32_t>(credentials.uid));
    }
    // The peer's socket has the peer's end as its local end, and ours as its remote end.
    if (peer.ss_family == AF_INET) {
        const auto& p = reinterpret_cast<const sockaddr_in&>(peer);
        const auto& s = reinterpret_cast<const sockaddr_in&>(self);
        if ((ntohl(p.sin_addr.s_addr) >> 24) != 127) return {};
        return found(detail::tcp_socket_owner(AF_INET, {&p.sin_addr, p.sin_port}, {&s.sin_addr, s.sin_port}, timeout));
    }
    if (peer.ss_family == AF_INET6) {
        const auto& p = reinterpret_cast<const sockaddr_in6&>(peer);
        const auto& s = reinterpret_cast<const sockaddr_in6&>(self);
        const unsigned char* pb = p.sin6_addr.s6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&p.sin6_addr))
            return found(detail::tcp_socket_owner(AF_INET6, {pb, p.sin6_port}, {s.sin6_addr.s6_addr, s.sin6_port}, timeout));
        // An IPv4 client of a dual-stack listener: its socket lives in the IPv4 tables.
        if (IN6_IS_ADDR_V4MAPPED(&p.sin6_addr) && pb[12] == 127 && IN6_IS_ADDR_V4MAPPED(&s.sin6_addr))
            return found(detail::tcp_socket_owner(AF_INET, {pb + 12, p.sin6_port}, {s.sin6_addr.s6_addr + 12, s.sin6_port},
                                                  timeout));
        return {};
    }
    return local_proof::failure();
#else
    (void)connected_socket;
    (void)timeout;
    return {};
#endif
}

}  // namespace trustgate::net
