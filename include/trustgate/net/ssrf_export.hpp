// trustgate/net/ssrf_export.hpp — the classifier's denylist as a forward-proxy policy, so
// the operator's proxy refuses what trustgate refuses, also after its own DNS lookups.
//
//   std::cout << trustgate::net::export_policy(trustgate::net::policy_format::squid, {});
//
// Formats:
// - squid: `acl` + `http_access deny` lines to include before any `http_access allow`.
//   squid resolves names and checks every resolved address before connecting, for plain
//   requests and CONNECT alike, and stores IPv4 as IPv4-mapped IPv6, so the IPv4 entries
//   also cover `::ffff:a.b.c.d`.
// - nginx: a `geo $host` block setting $trustgate_egress_blocked. nginx cannot check
//   where a name resolves; a name is not an address to `geo`, which then uses
//   255.255.255.255, a blocked address: with nginx only literal allowed addresses pass.
// - cidr: one block per line, for firewalls and other tools.
//
// What no CIDR list can say: the IPv4 inside an ISATAP identifier under an ordinary
// prefix. trustgate's own client refuses such literals before sending anything.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/net/ssrf.hpp"

namespace trustgate::net {

enum class policy_format : std::uint8_t { squid, nginx, cidr };

constexpr std::optional<policy_format> parse_policy_format(std::string_view name) noexcept {
    if (name == "squid") return policy_format::squid;
    if (name == "nginx") return policy_format::nginx;
    if (name == "cidr") return policy_format::cidr;
    return std::nullopt;
}

namespace detail {

// Rules in force with these options, without entries another exported entry covers
// (squid warns about those, and they change nothing).
inline std::vector<const address_rule*> exported_blocks(const ssrf_options& options) {
    std::vector<const address_rule*> in_force;
    for (const auto& r : ssrf_address_rules)
        if (!r.rule.lifted_by(options)) in_force.push_back(&r);
    std::vector<const address_rule*> out;
    for (const auto* r : in_force) {
        const bool covered = std::any_of(in_force.begin(), in_force.end(), [&](const address_rule* other) {
            return other != r && other->block.normalised_length() < r->block.normalised_length() &&
                   other->block.contains(r->block.base());
        });
        if (!covered) out.push_back(r);
    }
    return out;
}

inline std::vector<const ssrf_rule*> exported_names() {
    std::vector<const ssrf_rule*> out;
    for (const auto& r : ssrf_name_rules) {
        const bool covered = r.kind == ssrf_rule_kind::host_name &&
                             std::any_of(ssrf_name_rules.begin(), ssrf_name_rules.end(), [&](const ssrf_rule& s) {
                                 return s.kind == ssrf_rule_kind::host_suffix &&
                                        is_name_or_subdomain(r.pattern, s.pattern.substr(2));
                             });
        if (!covered) out.push_back(&r);
    }
    return out;
}

inline std::string options_note(const ssrf_options& options) {
    std::string note = "# Options: benchmark range 198.18.0.0/15 ";
    note += options.allow_benchmark ? "allowed" : "blocked";
    note += "; IPv6 unique-local fc00::/7 ";
    note += options.allow_unique_local ? "allowed (its cloud metadata address stays blocked)" : "blocked";
    return note + ".\n";
}

inline void append_block_comment(std::string& out, const address_rule& r, std::string_view indent) {
    out.append(indent).append("# ").append(r.rule.pattern).append(": ").append(r.rule.why).append("\n");
}

inline std::string squid_policy(const ssrf_options& options) {
    std::string out =
        "# trustgate SSRF denylist for squid, from `trustgate-egress export --format squid`.\n" +
        options_note(options) +
        "# Include it in squid.conf before any `http_access allow` line. squid checks every address\n"
        "# a destination resolves to before it connects, for plain requests and CONNECT alike.\n";
    for (const auto* r : exported_blocks(options)) {
        append_block_comment(out, *r, "");
        out.append("acl trustgate_egress_blocked dst ").append(r->rule.pattern).append("\n");
    }
    out += "# Host names (-n: compare the name as written, no reverse DNS for literal addresses).\n";
    out += "acl trustgate_egress_blocked_names dstdomain -n";
    for (const auto* r : exported_names())
        out.append(" ").append(r->kind == ssrf_rule_kind::host_suffix ? r->pattern.substr(1) : r->pattern);
    out += "\nhttp_access deny trustgate_egress_blocked_names\nhttp_access deny trustgate_egress_blocked\n";
    return out;
}

inline std::string nginx_policy(const ssrf_options& options) {
    std::string out =
        "# trustgate SSRF denylist for nginx, from `trustgate-egress export --format nginx`.\n" +
        options_note(options) +
        "# In the http{} block of a forward proxy:  if ($trustgate_egress_blocked) { return 403; }\n"
        "# nginx cannot check where a host name resolves: a name is not an address to geo, which\n"
        "# then uses 255.255.255.255, a blocked address. Only literal allowed addresses pass.\n"
        "geo $host $trustgate_egress_blocked {\n    default 0;\n";
    for (const auto* r : exported_blocks(options)) {
        append_block_comment(out, *r, "    ");
        out.append("    ").append(r->rule.pattern).append(" 1;\n");
    }
    return out + "}\n";
}

inline std::string cidr_policy(const ssrf_options& options) {
    std::string out;
    for (const auto* r : exported_blocks(options)) out.append(r->rule.pattern).append("\n");
    return out;
}

}  // namespace detail

inline std::string export_policy(policy_format format, const ssrf_options& options = {}) {
    switch (format) {
        case policy_format::squid: return detail::squid_policy(options);
        case policy_format::nginx: return detail::nginx_policy(options);
        case policy_format::cidr: return detail::cidr_policy(options);
    }
    return {};
}

}  // namespace trustgate::net
