// Splitting `scheme://authority/rest` for proxy and target URLs, and redacting a URL
// for messages. Deliberately narrower than RFC 3986: what it cannot split cleanly is
// refused, never guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trustgate/detail/ascii.hpp"
#include "trustgate/detail/uri_text.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/detail/host_name.hpp"

namespace trustgate::net::detail {

struct url_parts {
    std::string_view scheme;
    bool has_userinfo = false;
    std::string_view host;  // IPv6 without its brackets
    bool host_is_ipv6 = false;
    std::optional<std::uint16_t> port;
    std::string_view rest;  // from the first '/', '?' or '#' after the authority
};

// A canonical address or host name: the only hosts a URL may name.
constexpr bool is_url_host(std::string_view host, bool ipv6) noexcept {
    if (ipv6) return address::parse(host).has_value() && host.find(':') != std::string_view::npos;
    return address::parse(host).has_value() || is_canonical_host_name(host);
}

// `host[:port]`, the host an address or name (IPv6 in brackets): a URL's authority after
// any userinfo, or a `Host` header.
struct authority_parts {
    std::string_view host;  // IPv6 without its brackets
    bool host_is_ipv6 = false;
    std::optional<std::uint16_t> port;
};

constexpr std::optional<authority_parts> split_authority(std::string_view authority) noexcept {
    authority_parts a;
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        a.host = authority.substr(1, close - 1);
        a.host_is_ipv6 = true;
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            has_port = true;
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        a.host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
    }
    if (!is_url_host(a.host, a.host_is_ipv6)) return std::nullopt;
    if (has_port) {
        a.port = trustgate::detail::parse_port(port_text);
        if (!a.port) return std::nullopt;
    }
    return a;
}

constexpr std::optional<url_parts> split_url(std::string_view text) noexcept {
    url_parts u;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos || !trustgate::detail::is_uri_scheme(text.substr(0, sep))) return std::nullopt;
    u.scheme = text.substr(0, sep);
    auto authority = text.substr(sep + 3);
    const auto end = authority.find_first_of("/?#\\");
    if (end != std::string_view::npos) {
        u.rest = authority.substr(end);
        authority = authority.substr(0, end);
    }
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        u.has_userinfo = true;
        authority.remove_prefix(at + 1);
    }
    const auto parts = split_authority(authority);
    if (!parts) return std::nullopt;
    u.host = parts->host;
    u.host_is_ipv6 = parts->host_is_ipv6;
    u.port = parts->port;
    return u;
}

// A URL as it may appear in a message: credentials and everything after the authority
// become `***`; text that does not split cleanly is not shown at all, because there is
// no telling which part of it is secret.
inline std::string redact_url(std::string_view text) {
    const auto u = split_url(text);
    if (!u) return "<not shown: not a URL of the form http://host:port>";
    std::string out(u->scheme);
    out += "://";
    if (u->has_userinfo) out += "***@";
    if (u->host_is_ipv6) out.append("[").append(u->host).append("]");
    else out += u->host;
    if (u->port) out.append(":").append(std::to_string(*u->port));
    if (!u->rest.empty() && u->rest != "/") out += "/***";
    return out;
}

}  // namespace trustgate::net::detail
