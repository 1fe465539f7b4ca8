// trustgate/local_proof.hpp — what the kernel says about the process behind a connection.
//
// Headers can be dropped by a misconfigured proxy (an nginx `location` with its own
// `proxy_set_header` lines inherits none of the outer ones), so a request that looks like
// a local tool's must also be proven one (behaviour §1 "local process proof"): the user id
// that owns the peer's socket, found once per connection by the server (see
// trustgate/net/peer_credentials.hpp). A request view that has
//
//   trustgate::local_proof local_proof() const noexcept;
//
// hands it to the policies; a request without it carries no proof, which is never
// direct-local where the platform can prove (local_proof_available).
#pragma once

#include <cstdint>

namespace trustgate {

// Whether this platform has a lookup (Linux: NETLINK_SOCK_DIAG and SO_PEERCRED). Without
// one, nothing is proven and loopback_policy refuses `allowLoopback` with a loopback
// fallback at start-up instead (behaviour §1).
#if defined(__linux__)
inline constexpr bool local_proof_available = true;
#else
inline constexpr bool local_proof_available = false;
#endif

struct local_proof {
    enum class outcome : std::uint8_t {
        none,    // not looked up: a remote peer, or a server that does not look
        failed,  // looked up, and the kernel named nobody (error, timeout, no such socket)
        found,   // the kernel named the user owning the peer's socket
    };

    outcome result = outcome::none;
    std::uint32_t uid = 0;  // valid when found()

    static constexpr local_proof of(std::uint32_t user) noexcept { return {outcome::found, user}; }
    static constexpr local_proof failure() noexcept { return {outcome::failed, 0}; }

    constexpr bool found() const noexcept { return result == outcome::found; }

    friend constexpr bool operator==(const local_proof&, const local_proof&) noexcept = default;
};

}  // namespace trustgate
