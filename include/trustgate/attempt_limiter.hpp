// trustgate/attempt_limiter.hpp — failed-attempt limiting (SPEC §6).
//
// Failures are counted per key (the attributed client IP) in a sliding window: the
// `max_attempts`-th failure within `window` locks the key for `lockout`. A success clears
// the key. Thread-safe. Memory is fixed at construction: keys live in a set-associative
// table of `max_keys` entries, and a flood of distinct keys evicts idle entries first,
// then the oldest unlocked ones, so an attacker cannot grow memory or cheaply unlock
// a locked key. The clock is injectable for tests.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/net/address.hpp"

namespace trustgate {

class attempt_limiter {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using now_function = std::function<time_point()>;

    explicit attempt_limiter(const rate_limit_config& config, now_function now = &clock::now)
        : config_(sanitised(config)), now_(std::move(now)) {
        std::size_t buckets = 1;
        while (buckets * ways < config_.max_keys) buckets *= 2;
        entries_.resize(buckets * ways);
        failures_.resize(entries_.size() * config_.max_attempts);
    }

    const rate_limit_config& config() const noexcept { return config_; }

    // Keys that are never counted (loopback, unless exemptLoopback is false).
    bool exempt(const net::address& key) const noexcept { return config_.exempt_loopback && key.is_loopback(); }

    // Seconds left (rounded up) when `key` is locked out.
    std::optional<std::chrono::seconds> locked(const net::address& key) {
        if (exempt(key)) return std::nullopt;
        const auto now = now_();
        std::lock_guard lock(mutex_);
        entry* e = lookup(key);
        if (e == nullptr || e->locked_until <= now) return std::nullopt;
        return seconds_left(e->locked_until, now);
    }

    // Counts one failure; returns the lockout it started, if it started one.
    std::optional<std::chrono::seconds> record_failure(const net::address& key) {
        if (exempt(key)) return std::nullopt;
        const auto now = now_();
        std::lock_guard lock(mutex_);
        entry& e = acquire(key, now);
        if (e.locked_until > now) return seconds_left(e.locked_until, now);
        time_point* ring = &failures_[index_of(e) * config_.max_attempts];
        // Forget failures that slid out of the window.
        while (e.count > 0 && now - ring[e.head] >= config_.window) {
            e.head = (e.head + 1) % config_.max_attempts;
            --e.count;
        }
        ring[(e.head + e.count) % config_.max_attempts] = now;
        ++e.count;
        e.last_failure = now;
        if (e.count < config_.max_attempts) return std::nullopt;
        e.count = 0;
        e.head = 0;
        e.locked_until = now + config_.lockout;
        ++lockouts_;
        return seconds_left(e.locked_until, now);
    }

    void record_success(const net::address& key) {
        if (exempt(key)) return;
        std::lock_guard lock(mutex_);
        if (entry* e = lookup(key)) *e = entry{};
    }

    // Keys currently tracked, and the most there can ever be.
    std::size_t tracked() const {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](const entry& e) { return e.used; }));
    }
    std::size_t capacity() const noexcept { return entries_.size(); }

    // Lockouts started since construction (trustgate_rate_limit_lockouts_total).
    std::uint64_t lockouts() const {
        std::lock_guard lock(mutex_);
        return lockouts_;
    }

private:
    static constexpr std::size_t ways = 4;

    struct entry {
        net::address key;
        bool used = false;
        std::uint32_t head = 0;
        std::uint32_t count = 0;
        time_point last_failure{};
        time_point locked_until{};
    };

    static rate_limit_config sanitised(rate_limit_config c) {
        c.max_attempts = std::max(1u, c.max_attempts);
        c.max_keys = std::max<std::size_t>(ways, c.max_keys);
        return c;
    }

    static std::chrono::seconds seconds_left(time_point until, time_point now) {
        return std::chrono::ceil<std::chrono::seconds>(until - now);
    }

    std::size_t bucket_of(const net::address& key) const noexcept {
        std::uint64_t h = key.high() * 0x9e3779b97f4a7c15ull ^ key.low();
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 32;
        return static_cast<std::size_t>(h) & (entries_.size() / ways - 1);
    }

    std::size_t index_of(const entry& e) const noexcept { return static_cast<std::size_t>(&e - entries_.data()); }

    entry* lookup(const net::address& key) {
        entry* bucket = &entries_[bucket_of(key) * ways];
        for (std::size_t i = 0; i < ways; ++i)
            if (bucket[i].used && bucket[i].key == key) return &bucket[i];
        return nullptr;
    }

    entry& acquire(const net::address& key, time_point now) {
        if (entry* e = lookup(key)) return *e;
        entry* bucket = &entries_[bucket_of(key) * ways];
        // Prefer a free or idle way, then the unlocked way that failed longest ago, and
        // evict a locked key only when every way is locked (the one freed soonest).
        auto rank = [&](const entry& e) {
            if (!e.used) return std::pair{0, time_point{}};
            const bool locked = e.locked_until > now;
            const bool idle = !locked && (e.count == 0 || now - e.last_failure >= config_.window);
            if (idle) return std::pair{1, time_point{}};
            return locked ? std::pair{3, e.locked_until} : std::pair{2, e.last_failure};
        };
        entry* victim = std::min_element(bucket, bucket + ways, [&](const entry& a, const entry& b) {
            return rank(a) < rank(b);
        });
        *victim = entry{};
        victim->used = true;
        victim->key = key;
        return *victim;
    }

    rate_limit_config config_;
    now_function now_;
    mutable std::mutex mutex_;
    std::vector<entry> entries_;
    std::vector<time_point> failures_;
    std::uint64_t lockouts_ = 0;
};

}  // namespace trustgate
