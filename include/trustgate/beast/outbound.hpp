// trustgate/beast/outbound.hpp — the gateway's own outbound HTTP and WebSocket calls
// (webhooks, model providers), routed as trustgate/net/egress.hpp plans them.
//
//   trustgate::beast::outbound_client client({.proxy = proxy_settings});
//   http::request<http::string_body> req{http::verb::post, "/", 11};
//   req.body() = payload;
//   auto res = client.send("https://hooks.example.com/notify", std::move(req));
//
// - With a proxy: plain HTTP goes to the proxy in absolute form; HTTPS, WS and WSS go
//   through a CONNECT tunnel. The proxy resolves names and applies its policy (export it
//   with `trustgate-egress export`).
// - Without a proxy: the host is resolved here, every address is classified, and the
//   connection goes to those checked addresses only, never to a second lookup.
// - On every route a blocked host (address or name) is refused before anything is sent.
// - A proxy that refuses a plain HTTP request answers it (squid: 403 with
//   X-Squid-Error), and that response is returned; a refused CONNECT throws
//   egress_error(proxy_refused).
// - The gateway control plane (`egress_purpose::gateway_control`) on a literal loopback
//   address (127.0.0.1, [::1]) connects directly; nothing else does.
//
// Calls block the calling thread (each runs a private io_context) and finish by
// `timeout`, except that a DNS lookup takes as long as the system resolver does. Call
// them from a worker thread, not from a thread that runs the server's io_context.
// Failures throw net::egress_error; its message never holds credentials or a URL path.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <openssl/ssl.h>

#include "trustgate/beast/impl/outbound_io.hpp"
#include "trustgate/net/egress.hpp"
#include "trustgate/net/proxy_settings.hpp"
#include "trustgate/net/ssrf.hpp"

namespace trustgate::beast {

// Verifies servers against the system trust store, or against `ca_file` (PEM) alone.
// TLS 1.2 is the oldest protocol offered.
inline std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file = {}) {
    auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    if (ca_file.empty()) context->set_default_verify_paths();
    else context->load_verify_file(ca_file);
    return context;
}

struct outbound_options {
    net::proxy_settings proxy;   // from net::parse_proxy_settings
    net::ssrf_options ssrf;      // what the classifier lets through
    std::chrono::milliseconds timeout{30'000};  // one whole call: connect, tunnel, TLS, request, response
    std::size_t max_response_body = 8 * 1024 * 1024;
    std::shared_ptr<boost::asio::ssl::context> tls;  // for https and wss; null: make_client_tls_context()
};

// A client WebSocket over the route its URL took. Each read, write and close finishes
// within the client's timeout or throws egress_error(timeout).
class outbound_websocket {
public:
    void write(std::string_view text) {
        visit([&](auto& ws) {
            ws.text(true);
            run(ws, "WebSocket write", [&](auto done) {
                ws.async_write(boost::asio::buffer(text.data(), text.size()), [done](auto ec, std::size_t) { done(ec); });
            });
        });
    }

    std::string read() {
        boost::beast::flat_buffer buffer;
        visit([&](auto& ws) {
            run(ws, "WebSocket read", [&](auto done) {
                ws.async_read(buffer, [done](auto ec, std::size_t) { done(ec); });
            });
        });
        return boost::beast::buffers_to_string(buffer.data());
    }

    void close() {
        visit([&](auto& ws) {
            run(ws, "WebSocket close", [&](auto done) {
                ws.async_close(boost::beast::websocket::close_code::normal, done);
            });
        });
    }

private:
    friend class outbound_client;
    using plain = boost::beast::websocket::stream<boost::beast::tcp_stream>;
    using secure = boost::beast::websocket::stream<boost::asio::ssl::stream<boost::beast::tcp_stream>>;

    explicit outbound_websocket(std::chrono::milliseconds timeout)
        : io_(std::make_unique<boost::asio::io_context>()), timeout_(timeout) {}

    template <class F>
    void visit(F&& f) {
        std::visit([&](auto& ws) { f(*ws); }, stream_);
    }

    template <class Ws, class Start>
    void run(Ws& ws, const char* what, Start&& start) {
        detail::egress::run_on_stream(*io_, detail::egress::clock::now() + timeout_, ws,
                                      net::egress_failure::protocol, what, std::forward<Start>(start));
    }

    std::unique_ptr<boost::asio::io_context> io_;  // declared first: outlives the stream
    std::variant<std::unique_ptr<plain>, std::unique_ptr<secure>> stream_;
    std::chrono::milliseconds timeout_;
};

class outbound_client {
public:
    explicit outbound_client(outbound_options options) : options_(std::move(options)) {
        if (!options_.tls) options_.tls = make_client_tls_context();
    }

    const outbound_options& options() const noexcept { return options_; }

    // The route `url` would take; throws egress_error (bad_url, blocked). No I/O.
    net::route plan(std::string_view url, net::egress_purpose purpose = net::egress_purpose::general) const {
        return net::plan_route(url, options_.proxy, options_.ssrf, purpose);
    }

    // One request, one response, one connection. `request` keeps its method, headers
    // and body; the client sets the target (absolute form through the proxy), Host,
    // Content-Length and `Connection: close`.
    boost::beast::http::response<boost::beast::http::string_body> send(
        std::string_view url, boost::beast::http::request<boost::beast::http::string_body> request,
        net::egress_purpose purpose = net::egress_purpose::general) const {
        const auto r = plan(url, purpose);
        if (net::is_websocket(r.target.scheme))
            throw net::egress_error(net::egress_failure::bad_url, "send() takes http and https URLs; use websocket()");
        boost::asio::io_context io;
        const auto deadline = detail::egress::clock::now() + options_.timeout;
        auto tcp = open(io, deadline, r);
        request.target(r.kind == net::route_kind::proxy_absolute_form ? r.target.absolute_form() : r.target.target);
        request.set(boost::beast::http::field::host, r.target.host_header());
        request.keep_alive(false);
        request.prepare_payload();
        if (!net::uses_tls(r.target.scheme)) return exchange(io, deadline, tcp, request, r);
        boost::asio::ssl::stream<boost::beast::tcp_stream> tls(std::move(tcp), *options_.tls);
        detail::egress::start_tls(io, deadline, tls, r.target);
        return exchange(io, deadline, tls, request, r);
    }

    // A WebSocket handshake with `url` (ws or wss) over its route.
    outbound_websocket websocket(std::string_view url, net::egress_purpose purpose = net::egress_purpose::general) const {
        const auto r = plan(url, purpose);
        if (!net::is_websocket(r.target.scheme))
            throw net::egress_error(net::egress_failure::bad_url, "websocket() takes ws and wss URLs; use send()");
        outbound_websocket session(options_.timeout);
        auto& io = *session.io_;
        const auto deadline = detail::egress::clock::now() + options_.timeout;
        auto tcp = open(io, deadline, r);
        const auto handshake = [&](auto& ws) {
            ws.read_message_max(options_.max_response_body);
            detail::egress::run_on_stream(io, deadline, ws, net::egress_failure::protocol,
                                          "WebSocket handshake with " + r.target.authority(), [&](auto done) {
                                              ws.async_handshake(r.target.host_header(), r.target.target, done);
                                          });
        };
        if (net::uses_tls(r.target.scheme)) {
            auto ws = std::make_unique<outbound_websocket::secure>(std::move(tcp), *options_.tls);
            detail::egress::start_tls(io, deadline, ws->next_layer(), r.target);
            handshake(*ws);
            session.stream_ = std::move(ws);
        } else {
            auto ws = std::make_unique<outbound_websocket::plain>(std::move(tcp));
            handshake(*ws);
            session.stream_ = std::move(ws);
        }
        return session;
    }

private:
    // A TCP stream where the application protocol starts: at the proxy (absolute form),
    // at the far end of a CONNECT tunnel, or at a checked address.
    boost::beast::tcp_stream open(boost::asio::io_context& io, detail::egress::clock::time_point deadline,
                                  const net::route& r) const {
        namespace eg = detail::egress;
        boost::beast::tcp_stream stream(io);
        switch (r.kind) {
            case net::route_kind::proxy_absolute_form:
            case net::route_kind::proxy_connect: {
                const auto& proxy = options_.proxy;
                eg::connect(io, deadline, stream, eg::resolve(io, deadline, proxy.host, proxy.port), "proxy " + proxy.url());
                if (r.kind == net::route_kind::proxy_connect)
                    eg::open_tunnel(io, deadline, stream, r.target.authority(), proxy.url());
                break;
            }
            case net::route_kind::direct_checked: {
                const auto endpoints = eg::resolve(io, deadline, r.target.host, r.target.port);
                eg::require_all_allowed(r.target.host, endpoints, options_.ssrf);
                eg::connect(io, deadline, stream, endpoints, r.target.authority());
                break;
            }
            case net::route_kind::direct_loopback_gateway:
                eg::connect(io, deadline, stream, eg::resolve(io, deadline, r.target.host, r.target.port),
                            r.target.authority());
                break;
        }
        return stream;
    }

    template <class Stream>
    boost::beast::http::response<boost::beast::http::string_body> exchange(
        boost::asio::io_context& io, detail::egress::clock::time_point deadline, Stream& stream,
        const boost::beast::http::request<boost::beast::http::string_body>& request, const net::route& r) const {
        namespace http = boost::beast::http;
        const auto what = "HTTP exchange with " + r.target.authority();
        detail::egress::run_on_stream(io, deadline, stream, net::egress_failure::protocol, what, [&](auto done) {
            http::async_write(stream, request, [done](auto ec, std::size_t) { done(ec); });
        });
        boost::beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(options_.max_response_body);
        detail::egress::run_on_stream(io, deadline, stream, net::egress_failure::protocol, what, [&](auto done) {
            http::async_read(stream, buffer, parser, [done](auto ec, std::size_t) { done(ec); });
        });
        return parser.release();
    }

    outbound_options options_;
};

}  // namespace trustgate::beast
