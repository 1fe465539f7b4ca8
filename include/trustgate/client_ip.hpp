// trustgate/client_ip.hpp — behaviour §4: who the client is, for logs and rate-limit keys.
//
// Never grants anything. For a trusted peer, walks the configured header from the right
// (every line, in order), skipping trusted hops; the first untrusted entry is the client.
// `x-forwarded-for` lists addresses; RFC 7239 `forwarded` lists elements whose `for=`
// parameter names the node. Empty list elements are skipped (RFC 9110 §5.6.1). A
// malformed entry stops the walk and the peer is used. When every entry is trusted,
// the leftmost is the client (as nginx's real_ip_recursive does).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/detail/uri_text.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/prefix_set.hpp"
#include "trustgate/request.hpp"

namespace trustgate {

namespace detail {
// `a.b.c.d`, `a.b.c.d:port`, `v6`, `[v6]`, `[v6]:port`, the port as parse_port reads it.
inline std::optional<net::address> parse_forwarded_entry(std::string_view entry) noexcept {
    if (!entry.empty() && entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto rest = entry.substr(close + 1);
        if (!rest.empty() && (rest.front() != ':' || !parse_port(rest.substr(1)))) return std::nullopt;
        return net::address::parse(entry.substr(0, close + 1));
    }
    const auto colon = entry.find(':');
    if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
        if (!parse_port(entry.substr(colon + 1))) return std::nullopt;
        entry = entry.substr(0, colon);
    }
    return net::address::parse(entry);
}

// RFC 7239 §6: a `for=` node is an entry as above, except that IPv6 needs its brackets.
// `unknown` and obfuscated `_names` are no address: malformed for attribution.
inline std::optional<net::address> parse_forwarded_node(std::string_view node) noexcept {
    if (!node.empty() && node.front() != '[' && node.find(':') != node.rfind(':')) return std::nullopt;
    return parse_forwarded_entry(node);
}

// Where `separator` first stands outside a quoted string (RFC 9110 §5.6.4), or npos.
constexpr std::size_t find_unquoted(std::string_view s, char separator) noexcept {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (quoted) {
            if (s[i] == '\\') ++i;
            else if (s[i] == '"') quoted = false;
        } else if (s[i] == '"') {
            quoted = true;
        } else if (s[i] == separator) {
            return i;
        }
    }
    return std::string_view::npos;
}

// RFC 9110 §5.6.4: `"`, then text or `\`-escaped characters, then `"` as the last character.
constexpr bool is_quoted_string(std::string_view s) noexcept {
    if (s.size() < 2 || s.front() != '"') return false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == '"') return i + 1 == s.size();
        if (s[i] == '\\' && ++i == s.size()) return false;
        if (is_control(s[i]) && s[i] != '\t') return false;
    }
    return false;
}

// Longer `for=` values are malformed: no address with a port comes near it.
inline constexpr std::size_t max_forwarded_node = 64;

// The client named by one RFC 7239 element, `[pair] *(";" [pair])` with pair =
// token "=" (token / quoted-string): nullopt when it is malformed, has no `for=` or
// more than one, or its node is no address.
inline std::optional<net::address> parse_forwarded_element(std::string_view element) noexcept {
    std::optional<std::string_view> node;
    while (true) {
        const auto semicolon = find_unquoted(element, ';');
        if (const auto pair = trim(element.substr(0, semicolon)); !pair.empty()) {
            const auto equals = pair.find('=');
            if (equals == std::string_view::npos || !is_token(pair.substr(0, equals))) return std::nullopt;
            const auto value = pair.substr(equals + 1);
            if (!is_token(value) && !is_quoted_string(value)) return std::nullopt;
            if (iequals_lower(pair.substr(0, equals), "for")) {
                if (node) return std::nullopt;
                node = value;
            }
        }
        if (semicolon == std::string_view::npos) break;
        element.remove_prefix(semicolon + 1);
    }
    if (!node) return std::nullopt;
    if (node->front() != '"') return node->size() <= max_forwarded_node ? parse_forwarded_node(*node) : std::nullopt;
    char text[max_forwarded_node];
    std::size_t n = 0;
    const auto quoted = node->substr(1, node->size() - 2);
    for (std::size_t i = 0; i < quoted.size(); ++i) {
        if (n == max_forwarded_node) return std::nullopt;
        text[n++] = quoted[i] == '\\' ? quoted[++i] : quoted[i];
    }
    return parse_forwarded_node(std::string_view(text, n));
}

// Feeds header lines left to right, remembering the rightmost entry that is not a
// trusted hop: that is where a right-to-left walk stops. O(1) memory however many
// lines there are.
class client_ip_walk {
public:
    client_ip_walk(const net::prefix_set& trusted, forwarding_header header) noexcept : trusted_(&trusted), header_(header) {}

    void add_line(std::string_view value) noexcept {
        const bool forwarded = header_ == forwarding_header::forwarded;
        while (true) {
            const auto comma = forwarded ? find_unquoted(value, ',') : value.find(',');
            if (const auto item = trim(value.substr(0, comma)); !item.empty())
                add(forwarded ? parse_forwarded_element(item) : parse_forwarded_entry(item));
            if (comma == std::string_view::npos) return;
            value.remove_prefix(comma + 1);
        }
    }

    net::address client(const net::address& peer) const noexcept {
        if (!any_) return peer;
        if (stopped_) return stop_is_malformed_ ? peer : stop_at_;
        return leftmost_;
    }

private:
    void add(const std::optional<net::address>& parsed) noexcept {
        if (parsed && !any_) leftmost_ = *parsed;
        if (!parsed || !trusted_->contains(*parsed)) {
            stopped_ = true;
            stop_is_malformed_ = !parsed;
            if (parsed) stop_at_ = *parsed;
        }
        any_ = true;
    }

    const net::prefix_set* trusted_;
    forwarding_header header_;
    bool any_ = false, stopped_ = false, stop_is_malformed_ = false;
    net::address leftmost_, stop_at_;
};

constexpr std::string_view header_name(forwarding_header h) noexcept {
    return h == forwarding_header::forwarded ? "forwarded" : "x-forwarded-for";
}
}  // namespace detail

// The client IP of a request whose peer is trusted (call it only then: an untrusted
// peer's client IP is the peer itself), from `header`.
template <request_view R>
net::address attribute_client_ip(const R& request, const net::prefix_set& trusted,
                                 forwarding_header header = forwarding_header::x_forwarded_for) {
    detail::client_ip_walk walk(trusted, header);
    request.for_each_header([&](std::string_view name, std::string_view value) {
        if (detail::iequals_lower(name, detail::header_name(header))) walk.add_line(value);
    });
    return walk.client(request.peer());
}

}  // namespace trustgate
