// trustgate/testing/show.hpp — readable counterexamples.
//
// RapidCheck prints every generated value of a failing case through `showValue`, found
// by argument-dependent lookup; these overloads print configurations and requests the
// way a reviewer wants to read them (header values escaped, tokens shown, because they
// are test tokens), so a shrunk counterexample can be pasted into a regression test.
#pragma once

#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/request.hpp"

namespace trustgate {

namespace testing::detail {

// A C++ string literal for `s`, so control characters stay visible.
inline std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u >= 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x\"\"", u);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// For std::string arguments: otherwise argument-dependent lookup prefers std::quoted
// (an exact-match template) wherever <iomanip> happens to be included.
inline std::string quoted(const std::string& s) { return quoted(std::string_view(s)); }

inline std::string quoted_list(const std::vector<std::string>& list) {
    std::string out = "{";
    for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + quoted(list[i]);
    return out + "}";
}

inline std::string quoted_optional(const std::optional<std::string>& s) { return s ? quoted(*s) : "nullopt"; }

}  // namespace testing::detail

namespace net {
inline void showValue(const address& a, std::ostream& os) { os << a.to_string(); }
}  // namespace net

inline void showValue(const basic_request::header& h, std::ostream& os) {
    os << "{" << testing::detail::quoted(h.name) << ", " << testing::detail::quoted(h.value) << "}";
}

inline void showValue(const local_proof& p, std::ostream& os) {
    switch (p.result) {
        case local_proof::outcome::none: os << "none"; return;
        case local_proof::outcome::failed: os << "failed"; return;
        case local_proof::outcome::found: os << "uid " << p.uid; return;
    }
}

inline void showValue(const basic_request& r, std::ostream& os) {
    os << "peer " << r.peer().to_string() << ", local proof ";
    showValue(r.local_proof(), os);
    const auto& certificate = r.peer_certificate();
    if (certificate.verified) os << ", verified certificate " << testing::detail::quoted_list(certificate.names);
    os << ", headers {";
    for (std::size_t i = 0; i < r.headers().size(); ++i) {
        os << (i ? ", " : "");
        showValue(r.headers()[i], os);
    }
    os << "}";
}

inline void showValue(const auth_config& c, std::ostream& os) {
    using testing::detail::quoted;
    using testing::detail::quoted_list;
    const auto& tp = c.trusted_proxy;
    const auto& rl = c.rate_limit;
    os << "mode " << to_string(c.mode)
       << "\n  trusted_proxies " << quoted_list(c.trusted_proxies)
       << ", client_ip_header " << (c.client_ip_header == forwarding_header::forwarded ? "forwarded" : "x-forwarded-for")
       << "\n  token " << testing::detail::quoted_optional(c.token)
       << "\n  user_header " << quoted(tp.user_header) << ", required_headers " << quoted_list(tp.required_headers)
       << "\n  allow_users " << quoted_list(tp.allow_users) << (tp.allow_users_case_insensitive ? " (case-insensitive)" : "")
       << "\n  allow_loopback " << tp.allow_loopback << ", loopback_user " << testing::detail::quoted_optional(tp.loopback_user)
       << ", local_users " << quoted_list(tp.local_users);
    if (tp.client_certificate) os << "\n  client_certificate allowed_names " << quoted_list(tp.client_certificate->allowed_names);
    os
       << "\n  scopes header " << quoted(c.scopes.header) << ", default " << quoted_list(c.scopes.default_scopes)
       << ", token " << quoted_list(c.scopes.token_scopes);
    for (const auto& [identity, scopes] : c.scopes.identity_scopes)
        os << "\n  identity_scopes[" << quoted(identity) << "] " << quoted_list(scopes);
    for (const auto& [method, scope] : c.scopes.methods) os << "\n  methods[" << quoted(method) << "] " << quoted(scope);
    os << "\n  rate_limit max_attempts " << rl.max_attempts << ", window " << rl.window.count() << "ms, lockout "
       << rl.lockout.count() << "ms, exempt_loopback " << rl.exempt_loopback << ", ipv6_prefix_length "
       << rl.ipv6_prefix_length << ", global_max_attempts " << rl.global_max_attempts << "\n";
}

inline void showValue(const decision& d, std::ostream& os) {
    os << (d.allowed ? "allow" : "deny") << " reason " << to_string(d.why) << " via " << to_string(d.how) << " identity "
       << testing::detail::quoted(d.identity) << " client_ip " << d.client_ip.to_string();
    if (!d.detail.empty()) os << " detail " << testing::detail::quoted(d.detail);
    if (d.retry_after.count() != 0) os << " retry_after " << d.retry_after.count() << "s";
}

}  // namespace trustgate
