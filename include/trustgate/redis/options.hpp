// trustgate/redis/options.hpp — where the shared failed-attempt store lives and what it
// does when it cannot answer (behaviour §12). Plain values without hiredis, so that a
// configuration reader can fill them in without linking the client.
//
//   auto options = trustgate::redis::parse_url("redis://10.0.0.5:6379/2");  // nullopt: not such a URL
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/net/impl/url_text.hpp"

namespace trustgate::redis {

enum class on_error : std::uint8_t {
    deny,   // refuse the token attempt: rate_limited, detail store_unavailable
    local,  // count in this instance's in-memory limiter instead
};

struct store_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    unsigned database = 0;
    // Keys are key_prefix + "fail:" or "lock:" + the client key (an IPv4 address, an IPv6 prefix).
    std::string key_prefix = "trustgate:";
    // The longest an attempt waits for Redis; then on_error decides.
    std::chrono::milliseconds timeout{50};
    redis::on_error when_unavailable = on_error::deny;
    std::optional<std::string> password;  // AUTH; never logged
};

// A store's own limits (validate()): keys stay short and printable, and an attempt never
// waits long for Redis.
inline constexpr std::size_t max_key_prefix = 64;
inline constexpr std::chrono::milliseconds longest_timeout{10'000};

// Whether `prefix` can start every key: at most max_key_prefix characters, none of them
// a space or a control character.
inline bool valid_key_prefix(std::string_view prefix) noexcept {
    return prefix.size() <= max_key_prefix &&
           std::none_of(prefix.begin(), prefix.end(), [](char ch) { return trustgate::detail::is_control(ch) || ch == ' '; });
}

// Throws config_error, naming gateway.auth.rateLimit.store.<key>, for options outside the
// store's limits; the store's constructor calls it, whoever built the options.
inline void validate(const store_options& options) {
    if (!valid_key_prefix(options.key_prefix))
        throw config_error("gateway.auth.rateLimit.store.keyPrefix", "expected at most 64 characters without spaces or control characters");
    if (options.timeout < std::chrono::milliseconds(1) || options.timeout > longest_timeout)
        throw config_error("gateway.auth.rateLimit.store.timeoutMs", "expected an integer from 1 to 10000");
}

// The most databases a URL may name (Redis's default is 16; a server can have more).
inline constexpr unsigned max_database = 1'000'000;

// `redis://HOST[:PORT][/DB]` into host, port and database (the rest keeps its defaults).
// No userinfo: a password belongs in a secret, not in a URL that may be logged.
inline std::optional<store_options> parse_url(std::string_view url, store_options defaults = {}) {
    const auto parts = net::detail::split_url(url);
    if (!parts || parts->scheme != "redis" || parts->has_userinfo || parts->host.empty()) return std::nullopt;
    defaults.host = std::string(parts->host);
    if (parts->port) defaults.port = *parts->port;
    auto rest = parts->rest;
    if (rest.empty() || rest == "/") return defaults;
    rest.remove_prefix(1);
    if (rest.size() > 7 || (rest.size() > 1 && rest[0] == '0')) return std::nullopt;
    unsigned db = 0;
    for (const char c : rest) {
        if (!trustgate::detail::is_digit(c)) return std::nullopt;
        db = db * 10 + unsigned(c - '0');
    }
    if (db > max_database) return std::nullopt;
    defaults.database = db;
    return defaults;
}

}  // namespace trustgate::redis
