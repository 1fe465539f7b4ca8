// trustgate/token_auth.hpp — the shared bearer-token check: constant-time compare plus
// failed-attempt limiting (behaviour §3 step 5.1, token mode, behaviour §6). Used by
// loopback_policy's fallback and by bearer_token; not a policy by itself.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "trustgate/attempt_store.hpp"
#include "trustgate/detail/constant_time.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/policy.hpp"

namespace trustgate {

class token_auth {
public:
    enum class outcome { match, mismatch, locked, store_unavailable };

    struct result {
        outcome what;
        std::chrono::seconds retry_after{0};
    };

    // No token configured: configured() is false and nothing ever matches.
    token_auth() = default;

    // `limiter` may be null (no limiting); it must outlive this object.
    explicit token_auth(std::string token, attempt_store* limiter = nullptr)
        : token_(std::move(token)), limiter_(limiter) {}

    // The detail of a rate_limited refusal when the store could not answer.
    static constexpr std::string_view store_unavailable = "store_unavailable";

    bool configured() const noexcept { return !token_.empty(); }

    // `key` is the attributed client IP. A malformed bearer (several authorization
    // headers) is a failed attempt that matches nothing.
    result verify(bearer_state bearer, std::string_view presented, const net::address& key) const {
        const bool equal = detail::constant_time_equal(presented, token_) && bearer == bearer_state::present;
        const result compared{equal ? outcome::match : outcome::mismatch};
        if (limiter_ == nullptr) return compared;
        const auto counted = limiter_->attempt(key, equal);
        switch (counted.what) {
            case attempt_verdict::status::locked: return {outcome::locked, counted.retry_after};
            case attempt_verdict::status::unavailable: return {outcome::store_unavailable};
            case attempt_verdict::status::open: break;
        }
        return compared;
    }

    // The deny decision `policy` gives for a failed verify; nullopt when the token matched.
    static verdict refusal(const result& r, std::string_view policy) noexcept {
        if (r.what == outcome::match) return next_policy;
        if (r.what == outcome::mismatch) return decision::deny(reason::token_mismatch, policy);
        // behaviour §12: a shared store that cannot answer refuses the attempt, with no lockout to wait for.
        if (r.what == outcome::store_unavailable) return decision::deny(reason::rate_limited, policy, store_unavailable);
        auto d = decision::deny(reason::rate_limited, policy);
        d.retry_after = r.retry_after;
        return d;
    }

private:
    std::string token_;
    attempt_store* limiter_ = nullptr;
};

}  // namespace trustgate
