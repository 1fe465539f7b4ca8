// trustgate/origin.hpp — behaviour §7: cross-site requests.
//
//   const auto origins = trustgate::origin_check::parse(config.allowed_origins);   // start-up
//   if (request_is_upgrade_or_post && !origins.admits(request)) -> 403 origin_not_allowed
//
// A browser sends `Origin` with every WebSocket upgrade and cross-site POST. A page on
// another site can make a signed-in browser open the gateway's WebSocket (cross-site
// WebSocket hijacking): the proxy's cookie goes along, so authentication alone lets it in.
// The check runs after authentication and admits a request whose `origin` is absent,
// names the request's own `host`, or is one of the configured origins. Nothing here
// allocates per request.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/detail/uri_text.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/impl/url_text.hpp"
#include "trustgate/request.hpp"

namespace trustgate {

namespace detail {

constexpr std::optional<std::uint16_t> default_port(std::string_view scheme) noexcept {
    if (iequals(scheme, "http") || iequals(scheme, "ws")) return 80;
    if (iequals(scheme, "https") || iequals(scheme, "wss")) return 443;
    return std::nullopt;
}

constexpr bool is_loopback_host(const net::detail::authority_parts& a) noexcept {
    if (!a.host_is_ipv6 && iequals_lower(a.host, "localhost")) return true;
    const auto address = net::address::parse(a.host);
    return address && address->is_loopback();
}

struct origin_parts {
    std::string_view scheme;
    net::detail::authority_parts authority;
};

// `scheme://host[:port]` and nothing else: no userinfo, path, query or fragment.
constexpr std::optional<origin_parts> split_origin(std::string_view origin) noexcept {
    const auto sep = origin.find("://");
    if (sep == std::string_view::npos || !trustgate::detail::is_uri_scheme(origin.substr(0, sep))) return std::nullopt;
    const auto authority = net::detail::split_authority(origin.substr(sep + 3));
    if (!authority) return std::nullopt;
    return origin_parts{origin.substr(0, sep), *authority};
}

}  // namespace detail

// Whether `origin` (an Origin header value) names the host and port of `host` (a Host
// header value): hosts compared ASCII case-insensitively (IP literals as addresses), a
// missing port being the default of the origin's scheme (80 for http/ws, 443 for
// https/wss). Any two loopback names (`localhost`, `127.x.y.z`, `[::1]`) are the same
// host whatever their ports, so a direct-local request (behaviour §1) is never cross-site.
// `null` and anything that is not `scheme://host[:port]` names no host.
constexpr bool same_host(std::string_view origin, std::string_view host) noexcept {
    const auto o = detail::split_origin(detail::trim(origin));
    const auto h = net::detail::split_authority(detail::trim(host));
    if (!o || !h) return false;
    const auto& oa = o->authority;
    if (detail::is_loopback_host(oa) && detail::is_loopback_host(*h)) return true;
    const auto o_address = net::address::parse(oa.host);
    const auto h_address = net::address::parse(h->host);
    const bool same_name = o_address || h_address ? o_address == h_address : detail::iequals(oa.host, h->host);
    if (!same_name) return false;
    const auto implied = detail::default_port(o->scheme);
    return (oa.port ? oa.port : implied) == (h->port ? h->port : implied);
}

class origin_check {
public:
    // What a refusal is reported as; a source for trustgate::reasons_of and metrics.
    static constexpr std::array reasons{reason::origin_not_allowed};

    // No configured origins: only a request's own host is admitted.
    origin_check() = default;

    // `allowed`: exact `scheme://host[:port]` origins (compared ASCII case-insensitively),
    // as browsers send them: without a path, and without the scheme's default port.
    static origin_check parse(std::span<const std::string> allowed, const std::string& path = "gateway.http.allowedOrigins") {
        origin_check check;
        for (std::size_t i = 0; i < allowed.size(); ++i) {
            const auto& entry = allowed[i];
            const auto parts = detail::split_origin(entry);
            const auto at = path + "[" + std::to_string(i) + "]";
            if (!parts)
                throw config_error(at, "expected an origin scheme://host[:port] such as https://app.example.com (no path), "
                                       "got \"" + entry + "\"");
            if (parts->authority.port && parts->authority.port == detail::default_port(parts->scheme))
                throw config_error(at, "expected the origin without its default port " + std::to_string(*parts->authority.port) +
                                           " (browsers never send it), got \"" + entry + "\"");
            check.allowed_.push_back(entry);
        }
        return check;
    }

    // `origin` and `host`: the header values, nothing when the header is absent.
    bool admits(std::optional<std::string_view> origin, std::optional<std::string_view> host) const noexcept {
        if (!origin) return true;
        return (host ? same_host(*origin, *host) : is_loopback_origin(*origin)) || listed(*origin);
    }

    // A repeated `origin` or `host` header names no host (fail closed); only the
    // configured origins can admit such a request.
    template <request_view R>
    bool admits(const R& request) const {
        unsigned origin_lines = 0, host_lines = 0;
        std::string_view origin, host;
        request.for_each_header([&](std::string_view name, std::string_view value) {
            if (detail::iequals_lower(name, "origin")) ++origin_lines, origin = value;
            else if (detail::iequals_lower(name, "host")) ++host_lines, host = value;
        });
        if (origin_lines == 0) return true;
        if (origin_lines > 1) return false;
        if (host_lines > 1) return listed(origin);
        return admits(origin, host_lines == 1 ? std::optional<std::string_view>(host) : std::nullopt);
    }

private:
    bool listed(std::string_view origin) const noexcept {
        for (const auto& allowed : allowed_)
            if (detail::iequals(detail::trim(origin), allowed)) return true;
        return false;
    }

    // Without a `host` header only a loopback origin is the request's own (behaviour §1: a
    // direct-local request may omit `host`).
    static bool is_loopback_origin(std::string_view origin) noexcept {
        const auto o = detail::split_origin(detail::trim(origin));
        return o && detail::is_loopback_host(o->authority);
    }

    std::vector<std::string> allowed_;
};

}  // namespace trustgate
