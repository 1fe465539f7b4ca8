// trustgate/decision.hpp — what an authentication says and why.
//
// A decision never owns memory: `identity` and `detail` point into the request or into
// the gateway's configuration, so producing one never allocates. Copy what you keep
// past the request (decision::owned does).
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "trustgate/detail/reason_code.hpp"
#include "trustgate/net/address.hpp"

namespace trustgate {

// A reason code: why a decision allowed or refused. Its identity is its stable snake_case
// code, exactly as in docs/behaviour.md, in audit lines and metrics labels: two reasons are
// equal when their codes are. The built-in codes of behaviour §3, §5, §6, §7, §10 and §11 are
// `reason::ok`, `reason::token_missing`, ...; a policy of its own makes its own, e.g.
//   static constexpr trustgate::reason tenant_not_allowed{"tenant_not_allowed"};
// and lists it in its `reasons` (trustgate/policy.hpp). A code is fixed at compile time (the
// constructor is consteval), so a decision never builds or copies a string to carry one.
// `ok` is the reason of every allow, and of a default-constructed reason.
class reason {
public:
    constexpr reason() noexcept : reason(std::string_view("ok"), nullptr) {}
    consteval explicit reason(std::string_view code) : reason(code, nullptr) {
        if (!detail::is_snake_case(code)) detail::reason_code_must_be_snake_case_such_as_tenant_not_allowed();
    }

    constexpr std::string_view code() const noexcept { return {data_, size_}; }

    friend constexpr bool operator==(const reason& a, const reason& b) noexcept {
        return a.hash_ == b.hash_ && a.code() == b.code();
    }
    friend constexpr std::strong_ordering operator<=>(const reason& a, const reason& b) noexcept {
        return a.code() <=> b.code();
    }

    // `origin_not_allowed` comes from trustgate::origin_check (origin.hpp), after the
    // composition has allowed a request.
    static const reason
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
        trusted_proxy_certificate_not_allowed;

private:
    // Sets the fields; the public constructors check the code (the default "ok" needs none).
    constexpr reason(std::string_view code, std::nullptr_t) noexcept
        : data_(code.data()), size_(static_cast<std::uint32_t>(code.size())), hash_(detail::reason_hash(code)) {}

    // 16 bytes, not a string_view and a hash: a decision is copied along the policy chain.
    const char* data_;
    std::uint32_t size_;
    std::uint32_t hash_;
};

inline constexpr reason reason::ok{"ok"};
inline constexpr reason reason::trusted_proxy_untrusted_source{"trusted_proxy_untrusted_source"};
inline constexpr reason reason::trusted_proxy_loopback_source{"trusted_proxy_loopback_source"};
inline constexpr reason reason::trusted_proxy_missing_header{"trusted_proxy_missing_header"};
inline constexpr reason reason::trusted_proxy_user_missing{"trusted_proxy_user_missing"};
inline constexpr reason reason::trusted_proxy_user_ambiguous{"trusted_proxy_user_ambiguous"};
inline constexpr reason reason::trusted_proxy_user_invalid{"trusted_proxy_user_invalid"};
inline constexpr reason reason::trusted_proxy_user_not_allowed{"trusted_proxy_user_not_allowed"};
inline constexpr reason reason::token_missing{"token_missing"};
inline constexpr reason reason::token_mismatch{"token_mismatch"};
inline constexpr reason reason::rate_limited{"rate_limited"};
inline constexpr reason reason::missing_scope{"missing_scope"};
inline constexpr reason reason::trusted_proxy_assertion_missing{"trusted_proxy_assertion_missing"};
inline constexpr reason reason::trusted_proxy_assertion_invalid{"trusted_proxy_assertion_invalid"};
inline constexpr reason reason::trusted_proxy_assertion_unknown_key{"trusted_proxy_assertion_unknown_key"};
inline constexpr reason reason::trusted_proxy_assertion_expired{"trusted_proxy_assertion_expired"};
inline constexpr reason reason::trusted_proxy_assertion_issuer{"trusted_proxy_assertion_issuer"};
inline constexpr reason reason::trusted_proxy_assertion_audience{"trusted_proxy_assertion_audience"};
inline constexpr reason reason::trusted_proxy_user_mismatch{"trusted_proxy_user_mismatch"};
inline constexpr reason reason::origin_not_allowed{"origin_not_allowed"};
inline constexpr reason reason::trusted_proxy_certificate_missing{"trusted_proxy_certificate_missing"};
inline constexpr reason reason::trusted_proxy_certificate_not_allowed{"trusted_proxy_certificate_not_allowed"};

// Every code trustgate's own policies and checks produce, in docs/behaviour.md's order. A
// gateway lists its own composition's codes (gateway<...>::reasons).
struct builtin_reasons {
    static constexpr std::array reasons{
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
};

namespace detail {
template <class... Sources>
constexpr auto listed_reasons() {
    std::array<reason, 1 + (Sources::reasons.size() + ... + 0)> all{};  // all[0] is ok
    std::size_t i = 1;
    ((void)[&] {
        for (const reason& r : Sources::reasons) all[i++] = r;
    }(), ...);
    return all;
}

template <std::size_t N>
constexpr std::size_t count_distinct(const std::array<reason, N>& all) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < N; ++i) {
        bool seen = false;
        for (std::size_t j = 0; j < i; ++j) seen = seen || all[j] == all[i];
        n += seen ? 0 : 1;
    }
    return n;
}

template <class... Sources>
constexpr auto distinct_reasons() {
    constexpr auto all = listed_reasons<Sources...>();
    std::array<reason, count_distinct(all)> out{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        bool seen = false;
        for (std::size_t j = 0; j < n; ++j) seen = seen || out[j] == all[i];
        if (!seen) out[n++] = all[i];
    }
    return out;
}
}  // namespace detail

// `ok`, then every code the `reasons` lists of `Sources` name, each once, in order: a
// std::array<reason, N> fixed at compile time. gateway<...>::reasons is this over its
// policies; a metrics registry takes its label set from it (trustgate/metrics.hpp).
template <class... Sources>
inline constexpr auto reasons_of = detail::distinct_reasons<Sources...>();

// snake_case, exactly as in docs/behaviour.md and on the wire.
constexpr std::string_view to_string(const reason& r) noexcept { return r.code(); }

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
