// trustgate/decision.hpp — what an authentication says and why.
//
// A decision never owns memory: `identity` and `detail` point into the request or into
// the gateway's configuration, so producing one never allocates. Copy what you keep
// past the request (decision::owned does).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "trustgate/net/address.hpp"

namespace trustgate {

// The stable reason codes of behaviour §3, §5, §6, §7, §10 and §11. `ok` is the reason of every allow.
// `origin_not_allowed` comes from trustgate::origin_check (origin.hpp), after the
// composition has allowed a request.
enum class reason : std::uint8_t {
    ok,
    trusted_proxy_untrusted_source,
    trusted_proxy_loopback_source,
    trusted_proxy_missing_header,
    trusted_proxy_user_missing,
    trusted_proxy_user_ambiguous,
    trusted_proxy_user_invalid,
    trusted_proxy_user_not_allowed,
    token_missing,
    token_mismatch,
    rate_limited,
    missing_scope,
    trusted_proxy_assertion_missing,
    trusted_proxy_assertion_invalid,
    trusted_proxy_assertion_unknown_key,
    trusted_proxy_assertion_expired,
    trusted_proxy_assertion_issuer,
    trusted_proxy_assertion_audience,
    trusted_proxy_user_mismatch,
    origin_not_allowed,
    trusted_proxy_certificate_missing,
    trusted_proxy_certificate_not_allowed,
};

inline constexpr reason all_reasons[] = {
    reason::ok,
    reason::trusted_proxy_untrusted_source,
    reason::trusted_proxy_loopback_source,
    reason::trusted_proxy_missing_header,
    reason::trusted_proxy_user_missing,
    reason::trusted_proxy_user_ambiguous,
    reason::trusted_proxy_user_invalid,
    reason::trusted_proxy_user_not_allowed,
    reason::token_missing,
    reason::token_mismatch,
    reason::rate_limited,
    reason::missing_scope,
    reason::trusted_proxy_assertion_missing,
    reason::trusted_proxy_assertion_invalid,
    reason::trusted_proxy_assertion_unknown_key,
    reason::trusted_proxy_assertion_expired,
    reason::trusted_proxy_assertion_issuer,
    reason::trusted_proxy_assertion_audience,
    reason::trusted_proxy_user_mismatch,
    reason::origin_not_allowed,
    reason::trusted_proxy_certificate_missing,
    reason::trusted_proxy_certificate_not_allowed,
};

// snake_case, exactly as in docs/behaviour.md and on the wire.
constexpr std::string_view to_string(reason r) noexcept {
    switch (r) {
        case reason::ok: return "ok";
        case reason::trusted_proxy_untrusted_source: return "trusted_proxy_untrusted_source";
        case reason::trusted_proxy_loopback_source: return "trusted_proxy_loopback_source";
        case reason::trusted_proxy_missing_header: return "trusted_proxy_missing_header";
        case reason::trusted_proxy_user_missing: return "trusted_proxy_user_missing";
        case reason::trusted_proxy_user_ambiguous: return "trusted_proxy_user_ambiguous";
        case reason::trusted_proxy_user_invalid: return "trusted_proxy_user_invalid";
        case reason::trusted_proxy_user_not_allowed: return "trusted_proxy_user_not_allowed";
        case reason::token_missing: return "token_missing";
        case reason::token_mismatch: return "token_mismatch";
        case reason::rate_limited: return "rate_limited";
        case reason::missing_scope: return "missing_scope";
        case reason::trusted_proxy_assertion_missing: return "trusted_proxy_assertion_missing";
        case reason::trusted_proxy_assertion_invalid: return "trusted_proxy_assertion_invalid";
        case reason::trusted_proxy_assertion_unknown_key: return "trusted_proxy_assertion_unknown_key";
        case reason::trusted_proxy_assertion_expired: return "trusted_proxy_assertion_expired";
        case reason::trusted_proxy_assertion_issuer: return "trusted_proxy_assertion_issuer";
        case reason::trusted_proxy_assertion_audience: return "trusted_proxy_assertion_audience";
        case reason::trusted_proxy_user_mismatch: return "trusted_proxy_user_mismatch";
        case reason::origin_not_allowed: return "origin_not_allowed";
        case reason::trusted_proxy_certificate_missing: return "trusted_proxy_certificate_missing";
        case reason::trusted_proxy_certificate_not_allowed: return "trusted_proxy_certificate_not_allowed";
    }
    return "unknown";
}

// How an allowed request was authenticated. A deny carries `none`, as does an allow in
// `none` mode.
enum class via : std::uint8_t { none, trusted_proxy, loopback_user, token };

constexpr std::string_view to_string(via v) noexcept {
    switch (v) {
        case via::none: return "none";
        case via::trusted_proxy: return "trusted-proxy";
        case via::loopback_user: return "loopback-user";
        case via::token: return "token";
    }
    return "unknown";
}

struct decision {
    bool allowed = false;
    trustgate::reason why = reason::ok;
    trustgate::via how = via::none;
    std::string_view identity;       // empty on deny
    std::string_view detail;         // e.g. the missing header's name
    std::string_view policy;         // which policy decided, e.g. "allow_users"
    net::address client_ip;          // behaviour §4: for logs and rate-limit keys only
    std::chrono::seconds retry_after{0};  // rate_limited: seconds left in the lockout

    static constexpr decision allow(trustgate::via how, std::string_view identity,
                                    std::string_view policy) noexcept {
        decision d;
        d.allowed = true;
        d.how = how;
        d.identity = identity;
        d.policy = policy;
        return d;
    }

    static constexpr decision deny(trustgate::reason why, std::string_view policy,
                                   std::string_view detail = {}) noexcept {
        decision d;
        d.why = why;
        d.policy = policy;
        d.detail = detail;
        return d;
    }

    // A copy that owns its strings, for keeping past the request.
    struct owned_decision;
    owned_decision owned() const;
};

struct decision::owned_decision {
    bool allowed;
    trustgate::reason why;
    trustgate::via how;
    std::string identity;
    std::string detail;
    std::string policy;
    net::address client_ip;
    std::chrono::seconds retry_after;
};

inline decision::owned_decision decision::owned() const {
    return {allowed, why, how, std::string(identity), std::string(detail), std::string(policy),
            client_ip, retry_after};
}

// One bit per scope of a scope set (see trustgate/policy/scopes.hpp).
using scope_mask = std::uint64_t;

// behaviour §5: the answer to "may this decision call that method?".
struct authorization {
    bool allowed = false;
    std::string_view required_scope;  // the method's scope; when denied, the missing one
    scope_mask granted = 0;
};

}  // namespace trustgate
