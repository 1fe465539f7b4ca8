// Shared value pools for the generators: configurations and requests draw from the same
// names, so requests hit the configured users, headers, proxies and tokens often.
#pragma once

#include <array>
#include <string_view>

namespace trustgate::testing::detail {

// localUsers entries: a name every POSIX host has, and ids (a digit string is an id).
inline constexpr std::array<std::string_view, 4> local_users = {"root", "0", "1000", "4242"};

// Identities a proxy might vouch for; `Carol@Example.COM` tests case sensitivity and
// `operator@localhost` doubles as a loopbackUser.
inline constexpr std::array<std::string_view, 6> users = {
    "alice@example.com", "bob@example.com", "Carol@Example.COM", "operator@localhost", "svc-deploy", "dave",
};

// The identity headers of docs/behaviour.md's background: oauth2-proxy, Pomerium, Cloudflare Access.
inline constexpr std::array<std::string_view, 4> user_headers = {
    "x-forwarded-user", "x-auth-request-email", "x-pomerium-claim-email", "cf-access-authenticated-user-email",
};

// `x-forwarded-email` is also forwarded evidence; the mixed-case name tests that names
// compare case-insensitively.
inline constexpr std::array<std::string_view, 4> required_header_names = {
    "x-auth-request-user", "x-proxy-secret", "x-forwarded-email", "X-Auth-Request-Groups",
};

// Client certificate names (behaviour §11): a proxy's DNS name in two cases, a CN-style
// name, and near misses (a wildcard is not expanded, a suffix is another name).
inline constexpr std::array<std::string_view, 6> certificate_names = {
    "front-proxy.example.internal", "Front-Proxy.Example.Internal", "oauth2-proxy", "*.example.internal",
    "proxy.example.internal.evil", "other.example.internal",
};

// trustedProxies entries: loopback, private ranges, single hosts inside ranges, IPv6
// ranges (`::/80` spans the IPv4-mapped space, which it must not match) and, rarely
// drawn, everything IPv4 or IPv6.
inline constexpr std::array<std::string_view, 3> loopback_entries = {"127.0.0.1", "::1", "127.0.0.0/8"};
inline constexpr std::array<std::string_view, 10> proxy_entries = {
    "10.0.0.0/8",    "10.1.2.3",     "192.168.1.0/24", "172.16.0.0/12", "fd00::/8",
    "2001:db8::/32", "2001:db8::10", "::/80",          "198.18.0.0/15", "100.64.0.0/10",
};
inline constexpr std::string_view everything_ipv4 = "0.0.0.0/0";
inline constexpr std::string_view everything_ipv6 = "::/0";

inline constexpr std::array<std::string_view, 2> tokens = {"s3cr3t-gateway-token", "tok"};

// Built-in methods, one that is not (needs operator.admin), and near misses.
inline constexpr std::array<std::string_view, 9> methods = {
    "health", "status", "chat.send", "approvals.resolve", "config.get", "config.set", "nodes.list", "Chat.Send", "",
};

// Headers no docs/behaviour.md rule reads, including near misses of ones it does.
inline constexpr std::array<std::string_view, 8> unrelated_headers = {
    "accept", "user-agent", "cookie", "x-request-id", "x-forwarded", "forwarded-for", "x_forwarded_for", "x-real-ip-hint",
};

// Host values: local spellings first, then near misses that are not local.
inline constexpr std::array<std::string_view, 10> local_hosts = {
    "localhost", "LocalHost:18789", "127.0.0.1", "127.0.0.1:18789", "127.1.2.3:80", "[::1]", "[::1]:18789",
    "[::ffff:127.0.0.1]:443", "localhost:65535", "[0:0:0:0:0:0:0:1]",
};
inline constexpr std::array<std::string_view, 16> non_local_hosts = {
    "", "localhost.", "::1", "127.1", "localhost:65536", "localhost:", "[::1]:123456", "127.0.0.1:80:80", "localhost:00080",
    "[::1]:0",
    "evil.example", "gateway.example.com", "[127.0.0.1]", "10.0.0.1", "[::2]", "localhost.evil.example",
};
inline constexpr std::array<std::string_view, 10> origin_schemes = {"http", "https", "HTTP", "ws", "chrome-extension",
                                                                    "a+b.c-d", "", "ht tp", "1http", "-x"};

// Address spellings docs/behaviour.md rejects (behaviour §2), for x-forwarded-for entries.
inline constexpr std::array<std::string_view, 14> malformed_addresses = {
    "127.1",    "0x7f.0.0.1", "0177.0.0.1", "2130706433", "1.2.3.4.5", "fe80::1%eth0", "1.2.3.4 5",
    "unknown",  "",           "1.2.3.4:",   "[::1]:",     "[::1",       "::1]",         "1.2.3.256",
};

}  // namespace trustgate::testing::detail
