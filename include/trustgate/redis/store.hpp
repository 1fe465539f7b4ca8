// trustgate/redis/store.hpp — failed-attempt limiting shared through Redis (SPEC §12).
//
//   trustgate::attempt_limiter local(config.rate_limit);
//   trustgate::redis::store shared(config.rate_limit, options, &local, log);  // connects by itself
//   auto gw = trustgate::token_gateway::from_config(config, &shared);
//
// Several gateway instances given the same Redis count one client's failures together,
// so a client is locked out after rateLimit.maxAttempts failures in all, whichever
// instances they reached (SPEC §8 invariant 12). Each token attempt is one atomic script
// call (detail/script.hpp): the same sliding window and lockout as attempt_limiter, timed
// by the Redis server's clock, so the instances' clocks never matter. A lockout this
// instance has seen is answered locally until it ends.
//
// The request path waits for Redis at most options.timeout. When Redis is down, slow or
// refuses (a wrong password), an attempt is refused with store_unavailable (on_error::deny)
// or counted by `fallback` (on_error::local), and a connection thread reconnects with
// backoff (at most a second apart), logging at most one line a second. Construction never
// waits for Redis: a gateway starts while it is down.
//
// @par Thread Safety
// attempt() may be called from any number of threads at once; it does not allocate.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "trustgate/attempt_store.hpp"
#include "trustgate/config.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/redis/detail/connection.hpp"
#include "trustgate/redis/detail/lockout_cache.hpp"
#include "trustgate/redis/options.hpp"

namespace trustgate::redis {

class store final : public attempt_store {
public:
    using log_function = std::function<void(std::string_view message)>;
    // Milliseconds on some clock: given, it times both the cache and the script (tests
    // run Redis on their own clock); left empty, the script uses the server's clock.
    using now_function = std::function<std::chrono::milliseconds()>;

    // `fallback` counts attempts while Redis cannot answer, with on_error::local (it must
    // then be non-null and outlive the store). `log` receives the store's error lines,
    // from the connection thread; none holds the password.
    store(const rate_limit_config& limits, store_options options, attempt_store* fallback, log_function log,
          now_function now = {})
        : exempt_loopback_(limits.exempt_loopback),
          fallback_(options.when_unavailable == on_error::local ? fallback : nullptr),
          now_(std::move(now)),
          connection_(detail::endpoint{std::move(options.host), options.port, options.database, std::move(options.password),
                                       std::move(options.key_prefix), options.timeout},
                      detail::limits{std::max(1u, limits.max_attempts), limits.window, limits.lockout}, std::move(log)) {}

    attempt_verdict attempt(const net::address& client, bool matched) override {
        if (exempt_loopback_ && client.is_loopback()) return {};
        const detail::lockout_cache::key key{client.high(), client.low()};
        const auto now = local_now();
        if (const auto left = cache_.locked(key, now)) return locked(*left);
        detail::call c;
        c.client_size = client.format(c.client.data());
        c.matched = matched;
        c.now_ms = now_ ? now.count() : -1;
        if (!connection_.execute(c)) {
            if (fallback_ != nullptr) return fallback_->attempt(client, matched);
            return {attempt_verdict::status::unavailable};
        }
        if (c.status == 0) return {};
        cache_.lock(key, now + std::chrono::milliseconds(c.ms));
        // The failure that starts a lockout is still an ordinary failure (SPEC §6).
        return c.status == 1 ? locked(std::chrono::milliseconds(c.ms)) : attempt_verdict{};
    }

    // Attempts Redis did not answer (trustgate_rate_limit_store_errors_total).
    std::uint64_t errors() const noexcept { return connection_.errors(); }

private:
    static attempt_verdict locked(std::chrono::milliseconds left) {
        return {attempt_verdict::status::locked, std::chrono::ceil<std::chrono::seconds>(left)};
    }

    std::chrono::milliseconds local_now() const {
        if (now_) return now_();
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
    }

    const bool exempt_loopback_;
    attempt_store* const fallback_;
    const now_function now_;
    detail::lockout_cache cache_;
    detail::connection connection_;
};

}  // namespace trustgate::redis
