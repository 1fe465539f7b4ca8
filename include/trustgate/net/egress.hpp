// trustgate/net/egress.hpp — how an outbound URL is reached, decided before any I/O.
//
//   proxy enabled:  http://       -> the proxy, request in absolute form
//                   https, ws, wss -> the proxy, CONNECT tunnel
//   no proxy:       every scheme   -> resolve, classify every address, connect to those
//   gateway control plane on a literal loopback IP (127.0.0.1, [::1]) -> direct
//
// The host is classified first on every route (ssrf.hpp): a blocked address or name is
// refused here and nothing is sent anywhere, not even to the proxy. `localhost` is a
// name, so it never takes the loopback gateway path.
// The I/O half is trustgate/beast/outbound.hpp.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "trustgate/detail/ascii.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/impl/url_text.hpp"
#include "trustgate/net/proxy_settings.hpp"
#include "trustgate/net/ssrf.hpp"

namespace trustgate::net {

enum class egress_failure : std::uint8_t {
    bad_url,         // not an http, https, ws or wss URL this client will send
    blocked,         // the classifier refused the host or a resolved address
    resolve_failed,
    connect_failed,
    proxy_refused,   // the proxy answered CONNECT with a non-2xx status
    timeout,
    protocol,        // the peer broke HTTP, TLS or WebSocket
};

constexpr std::string_view to_string(egress_failure f) noexcept {
    switch (f) {
        case egress_failure::bad_url: return "bad_url";
        case egress_failure::blocked: return "blocked";
        case egress_failure::resolve_failed: return "resolve_failed";
        case egress_failure::connect_failed: return "connect_failed";
        case egress_failure::proxy_refused: return "proxy_refused";
        case egress_failure::timeout: return "timeout";
        case egress_failure::protocol: return "protocol";
    }
    return "unknown";
}

// The message never contains a URL's credentials or path (see redact_url).
class egress_error : public std::runtime_error {
public:
    egress_error(egress_failure failure, const std::string& message)
        : std::runtime_error(std::string(to_string(failure)) + ": " + message), failure_(failure) {}

    egress_failure failure() const noexcept { return failure_; }

private:
    egress_failure failure_;
};

enum class url_scheme : std::uint8_t { http, https, ws, wss };

constexpr bool uses_tls(url_scheme s) noexcept { return s == url_scheme::https || s == url_scheme::wss; }
constexpr bool is_websocket(url_scheme s) noexcept { return s == url_scheme::ws || s == url_scheme::wss; }

struct target_url {
    url_scheme scheme = url_scheme::http;
    std::string host;  // IPv6 without brackets
    std::uint16_t port = 0;
    std::string target;  // origin form: "/path?query", never empty; the fragment is dropped

    bool host_is_ipv6() const noexcept { return host.find(':') != std::string::npos; }

    // `host:port` ("[::1]:443" for IPv6): the CONNECT request target.
    std::string authority() const {
        return (host_is_ipv6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }

    // The Host header: the port only when it is not the scheme's default.
    std::string host_header() const {
        const std::uint16_t default_port = uses_tls(scheme) ? 443 : 80;
        return port == default_port ? (host_is_ipv6() ? "[" + host + "]" : host) : authority();
    }

    // `http://host:port/path?query`: what a forward proxy needs for plain HTTP.
    std::string absolute_form() const { return "http://" + authority() + target; }
};

namespace detail {

constexpr bool is_request_target_char(char c) noexcept {
    return c > 0x20 && c < 0x7f && c != '\\';  // no spaces, controls, CR/LF or DEL
}

}  // namespace detail

// Throws egress_error(bad_url). Credentials in a target URL are refused: they are a
// classic way to dress `http://169.254.169.254@example.com` up as something else.
inline target_url parse_target_url(std::string_view url) {
    const auto fail = [&](std::string_view why) -> egress_error {
        return egress_error(egress_failure::bad_url, redact_url(url) + ": " + std::string(why));
    };
    const auto u = detail::split_url(url);
    if (!u) throw fail("expected scheme://host[:port][/path][?query] with a canonical host");
    target_url t;
    using trustgate::detail::iequals;
    if (iequals(u->scheme, "http")) t.scheme = url_scheme::http;
    else if (iequals(u->scheme, "https")) t.scheme = url_scheme::https;
    else if (iequals(u->scheme, "ws")) t.scheme = url_scheme::ws;
    else if (iequals(u->scheme, "wss")) t.scheme = url_scheme::wss;
    else throw fail("the scheme must be http, https, ws or wss");
    if (u->has_userinfo) throw fail("credentials in the URL are not allowed");
    t.host = std::string(u->host);
    t.port = u->port.value_or(uses_tls(t.scheme) ? 443 : 80);
    auto rest = u->rest.substr(0, u->rest.find('#'));
    for (char c : rest)
        if (!detail::is_request_target_char(c)) throw fail("the path or query has a space, control or backslash");
    t.target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
    return t;
}

enum class egress_purpose : std::uint8_t {
    general,
    // The gateway's own control plane (CLI, sub-agents). Direct only when the URL names
    // a literal loopback address; any other host routes like general traffic.
    gateway_control,
};

enum class route_kind : std::uint8_t {
    proxy_absolute_form,      // plain HTTP through the proxy
    proxy_connect,            // HTTPS, WS and WSS through a CONNECT tunnel
    direct_checked,           // no proxy: only addresses the classifier allowed
    direct_loopback_gateway,  // the gateway control plane on a literal loopback address
};

struct route {
    route_kind kind;
    target_url target;
};

// Throws egress_error: bad_url, or blocked with the classifier's reason.
inline route plan_route(std::string_view url, const proxy_settings& proxy, const ssrf_options& options,
                        egress_purpose purpose = egress_purpose::general) {
    auto target = parse_target_url(url);
    if (purpose == egress_purpose::gateway_control) {
        const auto literal = address::parse(target.host);
        if (literal && literal->is_loopback()) return {route_kind::direct_loopback_gateway, std::move(target)};
    }
    const auto decision = classify_host(target.host, options);
    if (decision.blocked()) throw egress_error(egress_failure::blocked, target.host + ": " + explain(decision));
    if (!proxy.enabled) return {route_kind::direct_checked, std::move(target)};
    const auto kind = target.scheme == url_scheme::http ? route_kind::proxy_absolute_form : route_kind::proxy_connect;
    return {kind, std::move(target)};
}

// For logs: "http://example.com:80/ via proxy http://127.0.0.1:3128 (absolute form)".
inline std::string describe(const route& r, const proxy_settings& proxy) {
    constexpr std::string_view schemes[] = {"http", "https", "ws", "wss"};
    std::string out = std::string(schemes[static_cast<int>(r.target.scheme)]) + "://" + r.target.authority();
    switch (r.kind) {
        case route_kind::proxy_absolute_form: return out + " via proxy " + proxy.url() + " (absolute form)";
        case route_kind::proxy_connect: return out + " via proxy " + proxy.url() + " (CONNECT tunnel)";
        case route_kind::direct_checked: return out + " direct to classifier-checked addresses";
        case route_kind::direct_loopback_gateway: return out + " direct (gateway control plane on loopback)";
    }
    return out;
}

}  // namespace trustgate::net
