// trustgate/redis/store.hpp — failed-attempt limiting shared through Redis (behaviour §12).
//
//   trustgate::attempt_limiter local(config.rate_limit);
//   trustgate::redis::store shared(config.rate_limit, options, &local, log);  // connects by itself
//   auto gw = trustgate::token_gateway::from_config(config, &shared);
//
// Several gateway instances given the same Redis count one client's failures together,
// so a client is locked out after rateLimit.maxAttempts failures in all, whichever
// instances they reached (behaviour §8 invariant 12). Each token attempt is one atomic script
// call (detail/script.hpp): the same keys (an IPv6 client counts as its network), sliding
// window, lockout and global ceiling as attempt_limiter, timed by the Redis server's
// clock, so the instances' clocks never matter. A lockout this instance has seen (a
// client's or the global one) is answered locally until it ends, without a round trip.
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
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <utility>

#include "trustgate/attempt_limiter.hpp"
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
        : exempt_loopback_(limits.exempt_loopback), ipv6_prefix_length_(limits.ipv6_prefix_length),
          fallback_(options.when_unavailable == on_error::local ? fallback : nullptr),
          now_(std::move(now)),
          connection_(detail::endpoint{std::move(options.host), options.port, options.database, std::move(options.password),
                                       std::move(options.key_prefix), options.timeout},
                      detail::limits{std::max(1u, limits.max_attempts), limits.window, limits.lockout, limits.global_max_attempts},
                      std::move(log)) {}

    attempt_verdict attempt(const net::address& client, bool matched) override {
        if (exempt_loopback_ && client.is_loopback()) return {};
        const auto counted_as = attempt_limiter::key_of(client, ipv6_prefix_length_);
        const detail::lockout_cache::key key{counted_as.high(), counted_as.low()};
        const auto now = local_now();
        const auto global_left = milliseconds(global_locked_until_.load(std::memory_order_relaxed)) - now;
        const auto key_left = cache_.locked(key, now);
        if (key_left || global_left > milliseconds(0)) return locked(std::max(key_left.value_or(milliseconds(0)), global_left));
        detail::call c;
        c.client_size = key_text(counted_as, c.client.data());
        c.matched = matched;
        c.now_ms = now_ ? now.count() : -1;
        if (!connection_.execute(c)) {
            if (fallback_ != nullptr) return fallback_->attempt(client, matched);
            return {attempt_verdict::status::unavailable};
        }
        if (c.status == 0) return {};
        if (c.global_ms > 0) global_locked_until_.store((now + milliseconds(c.global_ms)).count(), std::memory_order_relaxed);
        if (c.ms > c.global_ms || (c.status == 2 && c.ms > 0)) cache_.lock(key, now + milliseconds(c.ms));
        // The failure that starts a lockout is still an ordinary failure (behaviour §6).
        return c.status == 1 ? locked(milliseconds(c.ms)) : attempt_verdict{};
    }

    // Attempts Redis did not answer (trustgate_rate_limit_store_errors_total).
    std::uint64_t errors() const noexcept { return connection_.errors(); }

private:
    using milliseconds = std::chrono::milliseconds;

    // The key's text in Redis: the address, and the prefix length for an IPv6 network.
    std::size_t key_text(const net::address& key, char* out) const noexcept {
        std::size_t n = key.format(out);
        if (key.is_v4() || ipv6_prefix_length_ == 128) return n;
        out[n++] = '/';
        if (ipv6_prefix_length_ >= 100) out[n++] = char('0' + ipv6_prefix_length_ / 100);
        if (ipv6_prefix_length_ >= 10) out[n++] = char('0' + ipv6_prefix_length_ / 10 % 10);
        out[n++] = char('0' + ipv6_prefix_length_ % 10);
        return n;
    }

    static attempt_verdict locked(std::chrono::milliseconds left) {
        return {attempt_verdict::status::locked, std::chrono::ceil<std::chrono::seconds>(left)};
    }

    std::chrono::milliseconds local_now() const {
        if (now_) return now_();
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
    }

    const bool exempt_loopback_;
    const unsigned ipv6_prefix_length_;
    attempt_store* const fallback_;
    const now_function now_;
    detail::lockout_cache cache_;
    // The global ceiling's lockout (behaviour §6), as this instance last learnt it: ms on local_now's clock.
    std::atomic<std::int64_t> global_locked_until_{std::numeric_limits<std::int64_t>::min() / 2};
    detail::connection connection_;
};

}  // namespace trustgate::redis
