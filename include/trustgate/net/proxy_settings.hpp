// trustgate/net/proxy_settings.hpp — where outbound traffic goes: an operator's forward
// proxy, or nowhere but checked addresses.
//
// behaviour §9's `proxy` object: `{"enabled": false, "proxyUrl": null}`. With `enabled` true,
// every outbound HTTP and WebSocket call goes through the proxy at `proxyUrl`, or, when
// the configuration has no URL, at $TRUSTGATE_PROXY_URL. The URL is `http://host:port`
// and nothing else (HTTPS destinations still work, through CONNECT). Enabled without a
// valid URL is a start-up error: there is no silent fallback to direct connections.
//
//   auto proxy = trustgate::net::parse_proxy_settings(json_enabled, json_proxy_url,
//                                                     trustgate::net::environment_proxy_url());
//
// A URL with credentials is refused, and every message that shows a URL shows it through
// `redact_url`, so neither a password nor a path token reaches a log.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/net/impl/url_text.hpp"

namespace trustgate::net {

inline constexpr std::string_view proxy_url_environment_variable = "TRUSTGATE_PROXY_URL";

struct proxy_settings {
    bool enabled = false;
    std::string host;  // an address (IPv6 without brackets) or a host name
    std::uint16_t port = 0;
    std::string source;  // "proxy.proxyUrl" or "TRUSTGATE_PROXY_URL", for the start-up log

    // `http://host:port`; never carries credentials, so it is safe to print.
    std::string url() const {
        const bool v6 = host.find(':') != std::string::npos;
        return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }
};

// $TRUSTGATE_PROXY_URL; unset and empty are the same.
inline std::optional<std::string_view> environment_proxy_url() {
    const char* value = std::getenv(proxy_url_environment_variable.data());
    if (!value || !*value) return std::nullopt;
    return std::string_view(value);
}

// A URL shown with its credentials and anything after host:port replaced by `***`.
inline std::string redact_url(std::string_view url) { return detail::redact_url(url); }

namespace detail {

// What is wrong with a proxy URL, or empty when nothing is.
constexpr std::string_view proxy_url_problem(std::string_view url) noexcept {
    const auto u = split_url(url);
    if (!u) return "not of the form http://host:port";
    if (!trustgate::detail::iequals(u->scheme, "http"))
        return "the scheme must be http:// (HTTPS destinations still work, through CONNECT)";
    if (u->has_userinfo) return "credentials are not allowed in the URL";
    if (!u->port) return "the port is missing";
    if (!u->rest.empty() && u->rest != "/") return "a path, query or fragment is not allowed";
    return {};
}

}  // namespace detail

// Throws config_error at `proxy.proxyUrl` for a bad URL (from either source) and for
// `enabled` without a URL. A configured URL is validated even while disabled, so a typo
// shows at start-up rather than on the day someone turns the proxy on.
inline proxy_settings parse_proxy_settings(bool enabled, std::optional<std::string_view> config_url,
                                           std::optional<std::string_view> environment_url) {
    constexpr std::string_view path = "proxy.proxyUrl";
    const auto check = [&](std::string_view url, std::string_view from) {
        const auto problem = detail::proxy_url_problem(url);
        if (!problem.empty())
            throw config_error(std::string(path), "an http://host:port proxy URL and nothing else, like "
                                                  "http://127.0.0.1:3128; " + std::string(from) + " is " +
                                                      redact_url(url) + ": " + std::string(problem));
    };
    if (config_url) check(*config_url, "the configured value");
    if (!enabled) return {};
    std::string source(path);
    auto url = config_url;
    if (!url && environment_url) {
        url = environment_url;
        source = proxy_url_environment_variable;
        check(*url, source);
    }
    if (!url)
        throw config_error(std::string(path), "a proxy URL, because proxy.enabled is true (set proxy.proxyUrl or " +
                                                  std::string(proxy_url_environment_variable) +
                                                  "); outbound traffic never falls back to direct connections");
    const auto u = *detail::split_url(*url);
    return proxy_settings{true, std::string(u.host), *u.port, std::move(source)};
}

}  // namespace trustgate::net
