// trustgate/net/ssrf.hpp — is an outbound destination safe to connect to?
//
// The gateway's own outbound calls (webhooks, model providers) must not be steerable to
// loopback, private networks or a cloud metadata service (server-side request forgery).
// `classify` judges one resolved address; `classify_host` judges the host of a URL before
// anything is resolved. Each answer names the rule that decided, so a log line or the
// `trustgate-egress classify` tool can say why.
//
//   auto d = trustgate::net::classify_host("169.254.169.254");
//   d.blocked();          // true
//   d.rule->pattern;      // "169.254.169.254/32"
//   describe(d);          // "blocked: 169.254.169.254/32 - cloud metadata service"
//
// Rules (the tables `ssrf_address_rules` and `ssrf_name_rules` below):
// - every IPv4 and IPv6 special-use range of the table; the longest matching block decides;
// - IPv4 embedded in IPv6 (IPv4-compatible, NAT64, 6to4, Teredo, ISATAP) is also judged
//   by the IPv4 rules, so `2002:7f00:1::` reports 127.0.0.0/8 rather than only 2002::/16;
// - an IPv4-mapped address (`::ffff:a.b.c.d`) *is* its IPv4 address here (behaviour §1):
//   the IPv4 rules judge it and `::ffff:0:0/96` needs no rule of its own;
// - host names `localhost`, `localhost.localdomain`, `metadata.google.internal` and
//   anything under `localhost`, `local` or `internal`;
// - text that is neither a canonical address nor a canonical host name (`127.1`,
//   `0x7f.0.0.1`, `0177.0.0.1`, `2130706433`, `fe80::1%eth0`, `localhost.`) fails closed.
//
// Options allow the benchmark range 198.18.0.0/15 (test networks) and IPv6 unique-local
// fc00::/7 (private IPv6 services). The cloud metadata addresses (169.254.169.254,
// 100.100.100.200, fd00:ec2::254) stay blocked whatever the options say.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trustgate/net/address.hpp"
#include "trustgate/net/cidr.hpp"
#include "trustgate/net/detail/host_name.hpp"

namespace trustgate::net {

struct ssrf_options {
    bool allow_benchmark = false;     // 198.18.0.0/15 (RFC 2544)
    bool allow_unique_local = false;  // fc00::/7 (RFC 4193), except fd00:ec2::254
};

// Which option, if any, lifts a rule.
enum class ssrf_allowance : std::uint8_t { never, benchmark, unique_local };

enum class ssrf_rule_kind : std::uint8_t {
    address_block,  // a CIDR
    host_name,      // one name, compared ASCII case-insensitively
    host_suffix,    // `*.x`: x itself and every name under it
};

struct ssrf_rule {
    std::string_view pattern;  // "127.0.0.0/8", "localhost", "*.internal"
    std::string_view why;
    ssrf_rule_kind kind;
    ssrf_allowance allowance = ssrf_allowance::never;
    bool metadata = false;  // a cloud metadata service: never allowed

    constexpr bool lifted_by(const ssrf_options& o) const noexcept {
        return (allowance == ssrf_allowance::benchmark && o.allow_benchmark) ||
               (allowance == ssrf_allowance::unique_local && o.allow_unique_local);
    }
};

// How an IPv4 address sits inside an IPv6 one.
enum class ipv4_embedding : std::uint8_t {
    none,
    mapped,          // ::ffff:a.b.c.d — only ever reported by classify_host, see above
    compatible,      // ::a.b.c.d (deprecated), except :: and ::1
    nat64,           // 64:ff9b::a.b.c.d
    nat64_local,     // 64:ff9b:1::/48, IPv4 in the last 32 bits
    six_to_four,     // 2002:AABB:CCDD::/48
    teredo,          // 2001:0::/32, the client address in the last 32 bits, inverted
    isatap,          // interface identifier 0:5efe:a.b.c.d or 200:5efe:a.b.c.d
};

constexpr std::string_view to_string(ipv4_embedding e) noexcept {
    switch (e) {
        case ipv4_embedding::none: return "none";
        case ipv4_embedding::mapped: return "IPv4-mapped";
        case ipv4_embedding::compatible: return "IPv4-compatible";
        case ipv4_embedding::nat64: return "NAT64";
        case ipv4_embedding::nat64_local: return "NAT64 local-use";
        case ipv4_embedding::six_to_four: return "6to4";
        case ipv4_embedding::teredo: return "Teredo";
        case ipv4_embedding::isatap: return "ISATAP";
    }
    return "unknown";
}

struct embedded_ipv4 {
    ipv4_embedding form;
    address v4;
};

// The IPv4 address an IPv6 address carries, if it has one of the forms above (the
// mapped form is an IPv4 address already and is not reported here).
constexpr std::optional<embedded_ipv4> find_embedded_ipv4(const address& a) noexcept {
    if (a.is_v4()) return std::nullopt;
    const auto& b = a.bytes();
    const auto hextet = [&](std::size_t i) { return std::uint16_t((b[2 * i] << 8) | b[2 * i + 1]); };
    const auto v4_at = [&](std::size_t byte, std::uint32_t flip) {
        const std::uint32_t v = (std::uint32_t{b[byte]} << 24) | (std::uint32_t{b[byte + 1]} << 16) |
                                (std::uint32_t{b[byte + 2]} << 8) | std::uint32_t{b[byte + 3]};
        return address::from_v4_uint(v ^ flip);
    };
    const bool top_80_zero = hextet(0) == 0 && hextet(1) == 0 && hextet(2) == 0 && hextet(3) == 0 && hextet(4) == 0;
    if (top_80_zero && hextet(5) == 0 && !(a.high() == 0 && a.low() <= 1))
        return embedded_ipv4{ipv4_embedding::compatible, v4_at(12, 0)};
    if (hextet(0) == 0x64 && hextet(1) == 0xff9b) {
        if (hextet(2) == 0 && hextet(3) == 0 && hextet(4) == 0 && hextet(5) == 0)
            return embedded_ipv4{ipv4_embedding::nat64, v4_at(12, 0)};
        if (hextet(2) == 1) return embedded_ipv4{ipv4_embedding::nat64_local, v4_at(12, 0)};
    }
    if (hextet(0) == 0x2002) return embedded_ipv4{ipv4_embedding::six_to_four, v4_at(2, 0)};
    if (hextet(0) == 0x2001 && hextet(1) == 0) return embedded_ipv4{ipv4_embedding::teredo, v4_at(12, 0xffffffffu)};
    // RFC 5214: the u/g bits (0x0200, 0x0100) may be set in the identifier's first hextet.
    if ((hextet(4) & 0xfcff) == 0 && hextet(5) == 0x5efe) return embedded_ipv4{ipv4_embedding::isatap, v4_at(12, 0)};
    return std::nullopt;
}

namespace detail {

// The block's ends as 64-bit halves, worked out once at compile time: a lookup is then
// four integer compares per rule.
struct address_rule {
    ssrf_rule rule;
    cidr block;
    std::uint64_t first_high, first_low, last_high, last_low;

    constexpr bool contains(std::uint64_t high, std::uint64_t low) const noexcept {
        return (high > first_high || (high == first_high && low >= first_low)) &&
               (high < last_high || (high == last_high && low <= last_low));
    }
};

// Compile-time parse: a typo in the table below is a compile error, not a hole.
constexpr address_rule block(std::string_view pattern, std::string_view why,
                             ssrf_allowance allowance = ssrf_allowance::never, bool metadata = false) {
    const auto b = cidr::parse(pattern).value();
    return {ssrf_rule{pattern, why, ssrf_rule_kind::address_block, allowance, metadata}, b,
            b.first().high(), b.first().low(), b.last().high(), b.last().low()};
}

constexpr ssrf_rule name(std::string_view pattern, std::string_view why, bool metadata = false) {
    const bool suffix = pattern.starts_with("*.");
    return ssrf_rule{pattern, why, suffix ? ssrf_rule_kind::host_suffix : ssrf_rule_kind::host_name,
                     ssrf_allowance::never, metadata};
}

}  // namespace detail

// The address denylist. A lookup takes the longest matching block, so the metadata
// addresses win over the ranges around them.
inline constexpr std::array ssrf_address_rules{
    detail::block("169.254.169.254/32", "cloud metadata service", ssrf_allowance::never, true),
    detail::block("100.100.100.200/32", "cloud metadata service (Alibaba Cloud)", ssrf_allowance::never, true),
    detail::block("fd00:ec2::254/128", "cloud metadata service (AWS, IPv6)", ssrf_allowance::never, true),
    detail::block("0.0.0.0/8", "\"this network\" (RFC 791)"),
    detail::block("10.0.0.0/8", "private network (RFC 1918)"),
    detail::block("100.64.0.0/10", "shared address space, carrier-grade NAT (RFC 6598)"),
    detail::block("127.0.0.0/8", "loopback"),
    detail::block("169.254.0.0/16", "link-local"),
    detail::block("172.16.0.0/12", "private network (RFC 1918)"),
    detail::block("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    detail::block("192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)"),
    detail::block("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
    detail::block("192.168.0.0/16", "private network (RFC 1918)"),
    detail::block("198.18.0.0/15", "benchmarking (RFC 2544)", ssrf_allowance::benchmark),
    detail::block("198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)"),
    detail::block("203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)"),
    detail::block("224.0.0.0/4", "multicast"),
    detail::block("240.0.0.0/4", "reserved (RFC 1112)"),
    detail::block("255.255.255.255/32", "limited broadcast"),
    detail::block("::/128", "unspecified"),
    detail::block("::1/128", "loopback"),
    detail::block("::/96", "IPv4-compatible (deprecated, RFC 4291)"),
    detail::block("64:ff9b::/96", "NAT64 well-known prefix (RFC 6052)"),
    detail::block("64:ff9b:1::/48", "NAT64 local-use prefix (RFC 8215)"),
    detail::block("100::/64", "discard-only (RFC 6666)"),
    detail::block("2001::/32", "Teredo (RFC 4380)"),
    detail::block("2001:2::/48", "benchmarking (RFC 5180)"),
    detail::block("2001:20::/28", "ORCHIDv2 (RFC 7343)"),
    detail::block("2001:db8::/32", "documentation (RFC 3849)"),
    detail::block("2002::/16", "6to4 (RFC 3056)"),
    detail::block("fc00::/7", "unique-local (RFC 4193)", ssrf_allowance::unique_local),
    detail::block("fe80::/10", "link-local"),
    detail::block("fec0::/10", "site-local (deprecated, RFC 3879)"),
    detail::block("ff00::/8", "multicast"),
};

// The host-name denylist, checked in this order.
inline constexpr std::array ssrf_name_rules{
    detail::name("metadata.google.internal", "cloud metadata service (Google Cloud)", true),
    detail::name("localhost", "loopback name"),
    detail::name("localhost.localdomain", "loopback name"),
    detail::name("*.localhost", "loopback names (RFC 6761)"),
    detail::name("*.local", "multicast DNS names (RFC 6762)"),
    detail::name("*.internal", "private-use names"),
};

enum class ssrf_verdict : std::uint8_t { allowed, blocked };

struct ssrf_decision {
    ssrf_verdict verdict = ssrf_verdict::blocked;
    // The rule that decided; null for a public address, an unlisted host name, and
    // text that does not parse (see `canonical`).
    const ssrf_rule* rule = nullptr;
    bool canonical = true;  // false: blocked because the text is not a canonical address or name
    bool is_name = false;   // an allowed name still has every resolved address to pass
    embedded_ipv4 via{ipv4_embedding::none, address{}};  // the IPv4 the decision is about, when embedded

    constexpr bool blocked() const noexcept { return verdict == ssrf_verdict::blocked; }
    constexpr bool allowed_by_option() const noexcept { return !blocked() && rule != nullptr; }
};

namespace detail {

// An index, not a pointer: GCC's UBSan instrumentation makes comparing a pointer into a
// static table with null non-constant, and the classifier must stay constexpr.
constexpr std::size_t longest_match(const address& a) noexcept {
    const auto high = a.high(), low = a.low();
    std::size_t best = ssrf_address_rules.size();
    unsigned best_length = 0;
    for (std::size_t i = 0; i < ssrf_address_rules.size(); ++i) {
        const auto& r = ssrf_address_rules[i];
        if (r.contains(high, low) && (best == ssrf_address_rules.size() || r.block.normalised_length() > best_length)) {
            best = i;
            best_length = r.block.normalised_length();
        }
    }
    return best;
}

constexpr ssrf_decision judge(const address& a, const ssrf_options& options) noexcept {
    ssrf_decision d;
    const auto i = longest_match(a);
    if (i == ssrf_address_rules.size()) {
        d.verdict = ssrf_verdict::allowed;
        return d;
    }
    d.rule = &ssrf_address_rules[i].rule;
    d.verdict = ssrf_address_rules[i].rule.lifted_by(options) ? ssrf_verdict::allowed : ssrf_verdict::blocked;
    return d;
}

}  // namespace detail

// One resolved address. An IPv6 address that embeds a blocked IPv4 address is blocked
// and reported by the IPv4 rule; otherwise the IPv6 rules decide.
constexpr ssrf_decision classify(const address& a, const ssrf_options& options = {}) noexcept {
    const auto embedded = find_embedded_ipv4(a);
    if (embedded) {
        auto inner = detail::judge(embedded->v4, options);
        if (inner.blocked()) {
            inner.via = *embedded;
            return inner;
        }
    }
    auto d = detail::judge(a, options);
    if (embedded) d.via = *embedded;
    return d;
}

// The host part of a URL: an address (IPv6 with or without brackets) or a host name.
// An allowed name is only a first check: its resolved addresses must pass `classify`.
constexpr ssrf_decision classify_host(std::string_view host, const ssrf_options& options = {}) noexcept {
    if (const auto a = address::parse(host)) {
        auto d = classify(*a, options);
        if (a->is_v4() && host.find(':') != std::string_view::npos) d.via = {ipv4_embedding::mapped, *a};
        return d;
    }
    ssrf_decision d;
    if (!detail::is_canonical_host_name(host)) {
        d.canonical = false;
        return d;
    }
    d.is_name = true;
    for (const auto& r : ssrf_name_rules) {
        const auto pattern = r.kind == ssrf_rule_kind::host_suffix ? r.pattern.substr(2) : r.pattern;
        const bool hit = r.kind == ssrf_rule_kind::host_suffix ? detail::is_name_or_subdomain(host, pattern)
                                                               : trustgate::detail::iequals(host, pattern);
        if (hit) {
            d.rule = &r;
            return d;
        }
    }
    d.verdict = ssrf_verdict::allowed;
    return d;
}

// Why, without the verdict: "127.0.0.0/8 - loopback; embedded IPv4 127.0.0.1 (6to4)".
inline std::string explain(const ssrf_decision& d) {
    if (!d.canonical) return "not a canonical address or host name (fail closed)";
    std::string out;
    if (d.rule) {
        out.append(d.rule->pattern).append(" - ").append(d.rule->why);
        if (d.allowed_by_option()) out += "; allowed by option";
    } else {
        out = d.is_name ? "host name on no denylist; its resolved addresses are checked before connecting"
                        : "no special-use range";
    }
    if (d.via.form != ipv4_embedding::none)
        out.append("; embedded IPv4 ").append(d.via.v4.to_string()).append(" (").append(to_string(d.via.form)).append(")");
    return out;
}

// One line for logs and the tool, e.g.
//   "blocked: 127.0.0.0/8 - loopback; embedded IPv4 127.0.0.1 (6to4)"
//   "allowed: 198.18.0.0/15 - benchmarking (RFC 2544); allowed by option"
inline std::string describe(const ssrf_decision& d) { return (d.blocked() ? "blocked: " : "allowed: ") + explain(d); }

}  // namespace trustgate::net
