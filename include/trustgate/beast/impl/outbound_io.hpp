// Blocking steps of the outbound client, each bounded by one deadline: resolve,
// classify, connect, CONNECT, TLS. Every step runs its asynchronous operation on the
// caller's private io_context and cancels it when the deadline passes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/ssl.h>

#include "trustgate/net/address.hpp"
#include "trustgate/net/egress.hpp"
#include "trustgate/net/ssrf.hpp"

namespace trustgate::beast::detail::egress {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock = std::chrono::steady_clock;

// Starts one operation (`start(done)` must call `done(ec)` from its handler), runs the
// io_context until it completes or the deadline passes; on the deadline, `cancel()`
// and report timeout.
template <class Start, class Cancel>
error_code run_until(asio::io_context& io, clock::time_point deadline, Start&& start, Cancel&& cancel) {
    std::optional<error_code> result;
    start([&result](error_code ec) { result = ec; });
    io.restart();
    io.run_until(deadline);
    if (result) return *result;
    cancel();
    io.restart();
    io.run();  // lets the cancelled operation finish before its state goes away
    return boost::beast::error::timeout;
}

// Throws egress_error(failure) for an error, egress_error(timeout) for the deadline.
inline void expect_ok(error_code ec, net::egress_failure failure, const std::string& what) {
    if (!ec) return;
    if (ec == boost::beast::error::timeout) throw net::egress_error(net::egress_failure::timeout, what + ": timed out");
    throw net::egress_error(failure, what + ": " + ec.message());
}

template <class Stream, class Start>
void run_on_stream(asio::io_context& io, clock::time_point deadline, Stream& stream, net::egress_failure failure,
                   const std::string& what, Start&& start) {
    expect_ok(run_until(io, deadline, start, [&] { boost::beast::get_lowest_layer(stream).cancel(); }), failure, what);
}

inline net::address to_address(const asio::ip::address& a) {
    return a.is_v4() ? net::address::from_v4_bytes(a.to_v4().to_bytes()) : net::address::from_v6_bytes(a.to_v6().to_bytes());
}

inline std::vector<tcp::endpoint> resolve(asio::io_context& io, clock::time_point deadline, const std::string& host,
                                          std::uint16_t port) {
    tcp::resolver resolver(io);
    tcp::resolver::results_type results;
    const auto ec = run_until(
        io, deadline,
        [&](auto done) {
            resolver.async_resolve(host, std::to_string(port), tcp::resolver::numeric_service,
                                   [&results, done](error_code e, tcp::resolver::results_type r) {
                                       results = std::move(r);
                                       done(e);
                                   });
        },
        [&] { resolver.cancel(); });
    expect_ok(ec, net::egress_failure::resolve_failed, "cannot resolve " + host);
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    return endpoints;
}

// Every address must pass: one blocked answer among public ones is how DNS rebinding
// and split answers try to slip through.
inline void require_all_allowed(const std::string& host, const std::vector<tcp::endpoint>& endpoints,
                                const net::ssrf_options& options) {
    for (const auto& e : endpoints) {
        const auto decision = net::classify(to_address(e.address()), options);
        if (decision.blocked())
            throw net::egress_error(net::egress_failure::blocked,
                                    host + " resolves to " + e.address().to_string() + ": " + net::explain(decision));
    }
}

inline void connect(asio::io_context& io, clock::time_point deadline, boost::beast::tcp_stream& stream,
                    const std::vector<tcp::endpoint>& endpoints, const std::string& what) {
    run_on_stream(io, deadline, stream, net::egress_failure::connect_failed, "cannot connect to " + what, [&](auto done) {
        stream.async_connect(endpoints, [done](error_code e, const tcp::endpoint&) { done(e); });
    });
}

// Asks the proxy for a tunnel to `authority`; returns when the proxy said 2xx.
inline void open_tunnel(asio::io_context& io, clock::time_point deadline, boost::beast::tcp_stream& stream,
                        const std::string& authority, const std::string& proxy_url) {
    http::request<http::empty_body> connect_request{http::verb::connect, authority, 11};
    connect_request.set(http::field::host, authority);
    const auto what = "CONNECT " + authority + " via proxy " + proxy_url;
    run_on_stream(io, deadline, stream, net::egress_failure::protocol, what, [&](auto done) {
        http::async_write(stream, connect_request, [done](error_code e, std::size_t) { done(e); });
    });
    boost::beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a CONNECT response has no body: what follows is the tunnel
    run_on_stream(io, deadline, stream, net::egress_failure::protocol, what, [&](auto done) {
        http::async_read_header(stream, buffer, parser, [done](error_code e, std::size_t) { done(e); });
    });
    const auto status = parser.get().result_int();
    if (status < 200 || status > 299)
        throw net::egress_error(net::egress_failure::proxy_refused, what + ": the proxy answered " + std::to_string(status));
    // The destination speaks only after we do (TLS, WebSocket, HTTP): early bytes are not its.
    if (buffer.size() != 0)
        throw net::egress_error(net::egress_failure::protocol, what + ": the proxy sent data before the tunnel was used");
}

// Client TLS over an established stream: SNI for names, the peer certificate verified
// against the host (name or address).
inline void start_tls(asio::io_context& io, clock::time_point deadline, asio::ssl::stream<boost::beast::tcp_stream>& tls,
                      const net::target_url& target) {
    if (!net::address::parse(target.host)) SSL_set_tlsext_host_name(tls.native_handle(), target.host.c_str());
    tls.set_verify_mode(asio::ssl::verify_peer);
    tls.set_verify_callback(asio::ssl::host_name_verification(target.host));
    run_on_stream(io, deadline, tls, net::egress_failure::protocol, "TLS handshake with " + target.authority(),
                  [&](auto done) { tls.async_handshake(asio::ssl::stream_base::client, done); });
}

}  // namespace trustgate::beast::detail::egress
