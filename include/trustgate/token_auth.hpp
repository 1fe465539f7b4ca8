// trustgate/token_auth.hpp — the shared bearer-token check: constant-time compare plus
// failed-attempt limiting (SPEC §3 step 5.1, token mode, SPEC §6). Used by
// loopback_policy's fallback and by bearer_token; not a policy by itself.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "trustgate/attempt_limiter.hpp"
#include "trustgate/detail/constant_time.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/policy.hpp"

namespace trustgate {

class token_auth {
public:
    enum class outcome { match, mismatch, locked };

    struct result {
        outcome what;
        std::chrono::seconds retry_after{0};
    };

    // No token configured: configured() is false and nothing ever matches.
    token_auth() = default;

    // `limiter` may be null (no limiting); it must outlive this object.
    explicit token_auth(std::string token, attempt_limiter* limiter = nullptr)
        : token_(std::move(token)), limiter_(limiter) {}

    bool configured() const noexcept { return !token_.empty(); }

    // `key` is the attributed client IP. A malformed bearer (several authorization
    // headers) is a failed attempt that matches nothing.
    result verify(bearer_state bearer, std::string_view presented, const net::address& key) const {
        if (limiter_ != nullptr) {
            if (const auto left = limiter_->locked(key)) return {outcome::locked, *left};
        }
        const bool equal = detail::constant_time_equal(presented, token_) && bearer == bearer_state::present;
        if (limiter_ != nullptr) {
            if (equal) limiter_->record_success(key);
            else limiter_->record_failure(key);
        }
        return {equal ? outcome::match : outcome::mismatch};
    }

    // The deny decision `policy` gives for a failed verify; nullopt when the token matched.
    static verdict refusal(const result& r, std::string_view policy) noexcept {
        if (r.what == outcome::match) return next_policy;
        if (r.what == outcome::mismatch) return decision::deny(reason::token_mismatch, policy);
        auto d = decision::deny(reason::rate_limited, policy);
        d.retry_after = r.retry_after;
        return d;
    }

private:
    std::string token_;
    attempt_limiter* limiter_ = nullptr;
};

}  // namespace trustgate
