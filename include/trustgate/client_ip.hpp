// trustgate/client_ip.hpp — SPEC §4: who the client is, for logs and rate-limit keys.
//
// Never grants anything. For a trusted peer, walks `x-forwarded-for` from the right
// (every line, in order), skipping trusted hops; the first untrusted entry is the client.
// A malformed entry stops the walk and the peer is used. When every entry is trusted,
// the leftmost is the client (as nginx's real_ip_recursive does).
#pragma once

#include <optional>
#include <string_view>

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
}  // namespace detail

namespace detail {
// Feeds `x-forwarded-for` lines left to right, remembering the rightmost entry that is
// not a trusted hop: that is where a right-to-left walk stops. O(1) memory however many
// lines there are.
class forwarded_for_walk {
public:
    explicit forwarded_for_walk(const net::prefix_set& trusted) noexcept : trusted_(&trusted) {}

    void add_line(std::string_view value) noexcept {
        while (true) {
            const auto comma = value.find(',');
            const auto parsed = parse_forwarded_entry(trim(value.substr(0, comma)));
            if (parsed && !any_) leftmost_ = *parsed;
            if (!parsed || !trusted_->contains(*parsed)) {
                stopped_ = true;
                stop_is_malformed_ = !parsed;
                if (parsed) stop_at_ = *parsed;
            }
            any_ = true;
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
    const net::prefix_set* trusted_;
    bool any_ = false, stopped_ = false, stop_is_malformed_ = false;
    net::address leftmost_, stop_at_;
};
}  // namespace detail

// The client IP of a request whose peer is trusted (call it only then: an untrusted
// peer's client IP is the peer itself).
template <request_view R>
net::address attribute_client_ip(const R& request, const net::prefix_set& trusted) {
    detail::forwarded_for_walk walk(trusted);
    request.for_each_header([&](std::string_view name, std::string_view value) {
        if (detail::iequals_lower(name, "x-forwarded-for")) walk.add_line(value);
    });
    return walk.client(request.peer());
}

}  // namespace trustgate
