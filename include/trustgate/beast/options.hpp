// trustgate/beast/options.hpp — where the server listens and what it tolerates.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <sched.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include "trustgate/net/address.hpp"

namespace trustgate::beast {

// How many CPUs this process may run on: its affinity mask (what taskset, numactl or a
// cgroup cpuset left it), not the machine's count. At least 1.
inline std::size_t usable_cpus() noexcept {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return 1;
    return static_cast<std::size_t>(std::max(CPU_COUNT(&mask), 1));
}

struct server_options {
    // `::` listens dual-stack: IPv4 clients then arrive as ::ffff:a.b.c.d, which trustgate
    // treats as a.b.c.d.
    net::address bind = net::address::from_v4_uint(0x7f000001);  // 127.0.0.1
    std::uint16_t port = 0;                                       // 0: the kernel picks one

    // A path: also listen on this Unix socket, for local tools (behaviour §1 "local socket").
    // Its file gets mode 0660; a stale socket file there is replaced, anything else at the
    // path makes the constructor throw; the server removes the file when it goes away.
    // Its requests come from peer 127.0.0.1, plain HTTP, with the SO_PEERCRED user as
    // their local proof (incoming::local_socket() tells them apart). Empty: none.
    std::string local_socket;

    // Threads running the server, each with its own io_context; usable_cpus() is a good
    // choice (runtime::server_options_of makes it).
    std::size_t threads = 1;
    std::size_t max_connections = 1024;    // beyond this a connection gets 503 and is closed
    // One peer address may hold at most this many of them (then 503 too), so that one
    // client cannot take every place. Raise it for a proxy that funnels many clients.
    std::size_t max_connections_per_peer = 64;
    std::size_t max_header_bytes = 16 * 1024;   // request line + headers; beyond: 431
    std::size_t max_body_bytes = 1024 * 1024;   // request body or WebSocket message; beyond: 413 / close 1009

    // A new connection must have sent its whole first request header (TLS handshake
    // included) within header_timeout of being accepted: a client that sends one byte at
    // a time never extends it. Bodies and responses get io_timeout; a keep-alive
    // connection or WebSocket with nothing to do is closed after idle_timeout (WebSockets
    // are pinged meanwhile), and a later request's header must be complete within
    // header_timeout of its first byte.
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds io_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};

    // SIGINT/SIGTERM (or server::drain) stop accepting, let requests in flight finish,
    // close idle connections and WebSockets (1001), and force-close whatever is still
    // open after drain_timeout. A second SIGINT/SIGTERM while draining ends the process at
    // once; a signal registered with server::on_signal (SIGHUP) is ignored then.
    bool handle_signals = true;
    std::chrono::milliseconds drain_timeout{10'000};

    // Serve TLS instead of plain HTTP on the same port (see tls.hpp); a plain HTTP request
    // on a TLS port gets 400.
    std::shared_ptr<boost::asio::ssl::context> tls;

    // Called on every response the server sends: handler responses, its own errors
    // (400, 413, 431, 500), WebSocket upgrade responses, and once at construction for the
    // over-capacity 503 (prepared then, so a full server spends nothing on it). E.g. adds
    // Strict-Transport-Security. Must be thread-safe.
    std::function<void(boost::beast::http::response_header<>&)> decorate;
};

}  // namespace trustgate::beast
