// trustgate/runtime/security_audit.hpp — the start-up security audit (behaviour §3's risky
// settings, and a few of the gateway's own).
//
//   for (const finding& f : security_audit(settings, notices)) …
//
// A finding has a stable id (documented in README.md, safe to match in scripts), a
// severity, the JSON path of the setting to look at, and a sentence for people. Findings
// never stop the gateway: what must stop it is a config_error instead (for example
// "none" on a non-loopback bind without allowInsecureNone). --check-config prints them;
// at start and after every reload each is one `finding` line on the audit log.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/runtime/config_json.hpp"
#include "trustgate/runtime/secrets.hpp"
#include "trustgate/detail/local_users.hpp"
#include "trustgate/net/cidr.hpp"

namespace trustgate::runtime {

enum class severity { info, warn, critical };

inline std::string_view to_string(severity s) {
    switch (s) {
        case severity::warn: return "warn";
        case severity::critical: return "critical";
        case severity::info: break;
    }
    return "info";
}

struct finding {
    std::string_view id;
    severity level;
    std::string path;
    std::string message;
};

// Stable ids.
namespace finding_id {
inline constexpr std::string_view none_exposed = "auth.none_exposed";
inline constexpr std::string_view allow_users_empty = "trusted_proxy.allow_users_empty";
inline constexpr std::string_view loopback_user_with_allow_loopback = "trusted_proxy.loopback_user_with_allow_loopback";
inline constexpr std::string_view wide_trusted_cidr = "trusted_proxies.wide_cidr";
inline constexpr std::string_view plaintext_exposed = "tls.plaintext_exposed";
inline constexpr std::string_view short_token = "auth.token_short";
inline constexpr std::string_view secret_file_permissions = "secrets.file_permissions";
inline constexpr std::string_view local_users_root = "trusted_proxy.local_users_root";
inline constexpr std::string_view admits_nobody = "trusted_proxy.admits_nobody";
inline constexpr std::string_view jwks_key_skipped = "assertion.jwks_key_skipped";
inline constexpr std::string_view client_certificate_any_name = "trusted_proxy.client_certificate_any_name";
}  // namespace finding_id

// The widest trustedProxies block that draws no finding, per family.
inline constexpr unsigned narrowest_wide_v4 = 16, narrowest_wide_v6 = 48;
inline constexpr std::size_t min_token_length = 32;

namespace detail {

// The peers that can reach the gateway at all, as blocks: a loopback bind only hears its
// own family's loopback, an IPv4 bind only IPv4; the local socket adds 127.0.0.1.
inline std::vector<trustgate::net::cidr> reachable_peers(const gateway_config& c) {
    using trustgate::net::cidr;
    std::vector<cidr> out;
    if (c.bind.is_loopback()) out.push_back(*cidr::parse(c.bind.is_v4() ? "127.0.0.0/8" : "::1"));
    else if (c.bind.is_v4()) out.push_back(*cidr::parse("0.0.0.0/0"));
    else out.push_back(*cidr::parse("::/0"));
    if (c.local_socket) out.push_back(*cidr::parse("127.0.0.1"));
    return out;
}

inline bool overlap(const trustgate::net::cidr& a, const trustgate::net::cidr& b) {
    return a.first() <= b.last() && b.first() <= a.last();
}

inline bool is_loopback_block(const trustgate::net::cidr& b) { return b.first().is_loopback() && b.last().is_loopback(); }

// behaviour §3: no trusted entry any peer can come from; or only loopback ones, which without
// allowLoopback get nothing but a loopback fallback that is not configured.
inline std::optional<std::string> why_nobody_is_admitted(const gateway_config& c) {
    const auto& tp = c.auth.trusted_proxy;
    bool reachable = false, remote = false;
    for (const auto& block : trustgate::net::parse_cidr_list(c.auth.trusted_proxies, "gateway.trustedProxies")) {
        for (const auto& peers : reachable_peers(c)) {
            if (!overlap(block, peers)) continue;
            reachable = true;
            remote = remote || (!is_loopback_block(block) && !is_loopback_block(peers));
        }
    }
    if (!reachable)
        return "no entry is an address that can reach gateway.bind " + c.bind.to_string() +
               (c.local_socket ? " or the local socket" : "") + ": every request is refused as untrusted";
    if (!remote && !tp.allow_loopback && !tp.loopback_user && !c.auth.token && !c.token_ref)
        return "only loopback entries, allowLoopback false and neither loopbackUser nor a token: every request is refused";
    return std::nullopt;
}

}  // namespace detail

inline std::vector<finding> security_audit(const gateway_config& c, std::span<const secret_notice> notices) {
    using trustgate::auth_mode;
    std::vector<finding> out;
    const bool loopback_bind = c.bind.is_loopback();
    const auto& tp = c.auth.trusted_proxy;

    if (c.auth.mode == auth_mode::none && !loopback_bind)
        out.push_back({finding_id::none_exposed, severity::critical, "gateway.auth.mode",
                       "auth mode \"none\" on a non-loopback bind: anyone who reaches the port is let in"});

    if (c.auth.mode == auth_mode::trusted_proxy) {
        if (tp.allow_users.empty())
            out.push_back({finding_id::allow_users_empty, severity::warn, "gateway.auth.trustedProxy.allowUsers",
                           "empty: every identity the proxy vouches for is let in; list the people who may use the gateway"});
        if (tp.allow_loopback && tp.loopback_user)
            out.push_back({finding_id::loopback_user_with_allow_loopback, severity::warn, "gateway.auth.trustedProxy.allowLoopback",
                           "allowLoopback together with loopbackUser: a same-host proxy that strips forwarding headers "
                           "would hand out loopbackUser to everyone behind it"});
        if (tp.local_users.empty() && trustgate::detail::running_user() == 0u && (tp.loopback_user || c.auth.token || c.token_ref))
            out.push_back({finding_id::local_users_root, severity::warn, "gateway.auth.trustedProxy.localUsers",
                           "the gateway runs as root and localUsers is the default: every root process on this host, a "
                           "reverse proxy running as root included, counts as a local tool; run the gateway as its own user "
                           "or list the local tools' users"});
        if (const auto why = detail::why_nobody_is_admitted(c))
            out.push_back({finding_id::admits_nobody, severity::warn, "gateway.trustedProxies", *why});
        const auto blocks = trustgate::net::parse_cidr_list(c.auth.trusted_proxies, "gateway.trustedProxies");
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            const auto& block = blocks[i];
            const unsigned limit = block.base().is_v4() ? narrowest_wide_v4 : narrowest_wide_v6;
            if (block.prefix_length() < limit)
                out.push_back({finding_id::wide_trusted_cidr, severity::warn, "gateway.trustedProxies[" + std::to_string(i) + "]",
                               block.to_string() + " is wider than /" + std::to_string(limit) +
                                   ": every address in it may claim any identity; list only the proxies' addresses"});
        }
    }

    // Behind a trusted proxy, TLS ends at the proxy; otherwise a token (or, in none mode,
    // everything) crosses the network in clear text.
    if (!c.tls.enabled && !loopback_bind && c.auth.mode != auth_mode::trusted_proxy)
        out.push_back({finding_id::plaintext_exposed, severity::warn, "gateway.tls.enabled",
                       "TLS is off on a non-loopback bind with no proxy in front: requests and bearer tokens travel in "
                       "clear text"});

    // behaviour §11: every certificate the CA ever issued, for any purpose, passes as the proxy.
    if (c.auth.mode == auth_mode::trusted_proxy && c.auth.trusted_proxy.client_certificate &&
        c.auth.trusted_proxy.client_certificate->allowed_names.empty())
        out.push_back({finding_id::client_certificate_any_name, severity::warn,
                       "gateway.auth.trustedProxy.clientCertificate.allowedNames",
                       "empty: any certificate from gateway.tls.clientCaPath passes as the proxy; list the proxy's name"});

    if (c.auth.token && c.auth.token->size() < min_token_length)
        out.push_back({finding_id::short_token, severity::warn, "gateway.auth.token",
                       "shorter than " + std::to_string(min_token_length) + " characters: use a long random token"});

    for (const auto& notice : notices)
        out.push_back({finding_id::secret_file_permissions, severity::warn, notice.path, notice.message});
    return out;
}

// `warn [trusted_proxy.allow_users_empty] gateway.auth.trustedProxy.allowUsers: …`
inline std::string format_finding(const finding& f) {
    return std::string(to_string(f.level)) + " [" + std::string(f.id) + "] " + f.path + ": " + f.message;
}

}  // namespace trustgate::runtime
