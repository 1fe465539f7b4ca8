// trustgate/attempt_limiter.hpp — failed-attempt limiting (behaviour §6).
//
// Failures are counted per key in a sliding window: the `max_attempts`-th failure within
// `window` locks the key for `lockout`. A success clears the key. The key is the
// attributed client IP for IPv4, and its `/ipv6_prefix_length` network for IPv6: one host
// holds a whole /64, so rotating addresses inside it buys no extra guesses. With
// `global_max_attempts` set, that many failures within one window from all keys together
// lock every non-exempt key for `lockout` (guesses spread over many networks); a success
// does not lift that lock, and failures are not counted while it holds.
//
// Thread-safe. Memory is fixed at construction: keys live in a set-associative table of
// `max_keys` entries, and a flood of distinct keys evicts idle entries first, then the
// oldest unlocked ones, so an attacker cannot grow memory or cheaply unlock a locked key.
// The constructor refuses settings outside `bounds` (config_error naming the JSON path).
// The clock is injectable for tests. It is the in-memory attempt_store.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "trustgate/attempt_store.hpp"
#include "trustgate/config.hpp"
#include "trustgate/net/address.hpp"

namespace trustgate {

class attempt_limiter final : public attempt_store {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using now_function = std::function<time_point()>;

    // What rate_limit_config may hold: memory is allocated up front, and a period of up
    // to a year never overflows a clock.
    struct bounds {
        static constexpr unsigned max_attempts = 1000;
        static constexpr std::size_t min_keys = 4, max_keys = std::size_t{1} << 20;
        static constexpr std::uint64_t failure_slots = std::uint64_t{1} << 24;  // maxKeys × maxAttempts
        static constexpr std::chrono::milliseconds longest_period{365ll * 24 * 3600 * 1000};
        static constexpr unsigned min_ipv6_prefix_length = 32;  // an ISP's allocation; shorter would pool strangers
        static constexpr unsigned global_max_attempts = 100'000;
    };

    // Throws config_error for the first setting outside `bounds`.
    static void validate(const rate_limit_config& c) {
        const std::string at = "gateway.auth.rateLimit.";
        const auto in = [&](const char* key, std::uint64_t value, std::uint64_t lowest, std::uint64_t highest) {
            if (value < lowest || value > highest)
                throw config_error(at + key, "expected an integer from " + std::to_string(lowest) + " to " +
                                                 std::to_string(highest) + ", got " + std::to_string(value));
        };
        in("maxAttempts", c.max_attempts, 1, bounds::max_attempts);
        in("windowMs", std::uint64_t(std::max<std::int64_t>(0, c.window.count())), 1, std::uint64_t(bounds::longest_period.count()));
        in("lockoutMs", std::uint64_t(std::max<std::int64_t>(0, c.lockout.count())), 1, std::uint64_t(bounds::longest_period.count()));
        in("maxKeys", c.max_keys, bounds::min_keys, bounds::max_keys);
        if (std::uint64_t(c.max_keys) * c.max_attempts > bounds::failure_slots)
            throw config_error(at + "maxKeys", "expected maxKeys × maxAttempts of at most " + std::to_string(bounds::failure_slots) +
                                                   " (the limiter allocates its memory at start-up)");
        in("ipv6PrefixLength", c.ipv6_prefix_length, bounds::min_ipv6_prefix_length, 128);
        if (c.global_max_attempts != 0) in("globalMaxAttempts", c.global_max_attempts, 1, bounds::global_max_attempts);
    }

    explicit attempt_limiter(const rate_limit_config& config, now_function now = &clock::now)
        : config_((validate(config), config)), now_(std::move(now)) {
        std::size_t buckets = 1;
        while (buckets * ways < config_.max_keys) buckets *= 2;
        entries_.resize(buckets * ways);
        failures_.resize(entries_.size() * config_.max_attempts);
        global_failures_.resize(config_.global_max_attempts);
    }

    const rate_limit_config& config() const noexcept { return config_; }

    // Clients that are never counted (loopback, unless exemptLoopback is false).
    bool exempt(const net::address& client) const noexcept { return config_.exempt_loopback && client.is_loopback(); }

    // The key `client` is counted under: itself for IPv4, its network for IPv6.
    net::address key_of(const net::address& client) const noexcept { return key_of(client, config_.ipv6_prefix_length); }

    // The same, for any store that counts under these keys (trustgate::redis::store).
    static net::address key_of(const net::address& client, unsigned ipv6_prefix_length) noexcept {
        if (client.is_v4()) return client;
        auto bytes = client.bytes();
        for (unsigned i = 0; i < 16; ++i) {
            const unsigned kept = std::min(8u, ipv6_prefix_length - std::min(ipv6_prefix_length, 8 * i));
            bytes[i] = static_cast<std::uint8_t>(bytes[i] & (0xff00u >> kept));
        }
        return net::address::from_v6_bytes(bytes);
    }

    // Seconds left (rounded up) while `client` is locked out, by its key or by all of them.
    std::optional<std::chrono::seconds> locked(const net::address& client) {
        if (exempt(client)) return std::nullopt;
        const auto key = key_of(client);
        const auto now = now_();
        std::lock_guard lock(mutex_);
        const entry* e = lookup(key);
        return lock_left(e != nullptr ? e->locked_until : time_point{}, now);
    }

    // Counts one failure; returns the lockout `client` is under afterwards, if any.
    std::optional<std::chrono::seconds> record_failure(const net::address& client) {
        if (exempt(client)) return std::nullopt;
        const auto key = key_of(client);
        const auto now = now_();
        std::lock_guard lock(mutex_);
        if (global_locked_until_ > now) {
            const entry* e = lookup(key);
            return lock_left(e != nullptr ? e->locked_until : time_point{}, now);
        }
        entry& e = acquire(key, now);
        if (e.locked_until > now) return lock_left(e.locked_until, now);
        e.last_failure = now;
        if (count(e.failures, &failures_[index_of(e) * config_.max_attempts], config_.max_attempts, now)) {
            e.locked_until = now + config_.lockout;
            ++lockouts_;
        }
        if (config_.global_max_attempts != 0 && count(global_, global_failures_.data(), config_.global_max_attempts, now)) {
            global_locked_until_ = now + config_.lockout;
            ++lockouts_;
        }
        return lock_left(e.locked_until, now);
    }

    void record_success(const net::address& client) {
        if (exempt(client)) return;
        const auto key = key_of(client);
        std::lock_guard lock(mutex_);
        if (entry* e = lookup(key)) *e = entry{};
    }

    attempt_verdict attempt(const net::address& client, bool matched) override {
        if (const auto left = locked(client)) return {attempt_verdict::status::locked, *left};
        if (matched) record_success(client);
        else record_failure(client);
        return {};
    }

    // Keys currently tracked, and the most there can ever be.
    std::size_t tracked() const {
        std::lock_guard lock(mutex_);
        return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](const entry& e) { return e.used; }));
    }
    std::size_t capacity() const noexcept { return entries_.size(); }

    // Lockouts started since construction, of one key or of all (trustgate_rate_limit_lockouts_total).
    std::uint64_t lockouts() const {
        std::lock_guard lock(mutex_);
        return lockouts_;
    }

private:
    static constexpr std::size_t ways = 4;

    // Failures inside the window, as a ring over a caller's slots.
    struct window_count {
        std::uint32_t head = 0;
        std::uint32_t count = 0;
    };

    struct entry {
        net::address key;
        bool used = false;
        window_count failures;
        time_point last_failure{};
        time_point locked_until{};
    };

    static std::chrono::seconds seconds_left(time_point until, time_point now) {
        return std::chrono::ceil<std::chrono::seconds>(until - now);
    }

    std::optional<std::chrono::seconds> lock_left(time_point key_locked_until, time_point now) const {
        const auto until = std::max(key_locked_until, global_locked_until_);
        if (until <= now) return std::nullopt;
        return seconds_left(until, now);
    }

    // Adds a failure at `now` to `w` (slots: `ring`, `size` of them), forgetting those
    // that slid out of the window. True when that makes `size`: the count starts again.
    bool count(window_count& w, time_point* ring, std::uint32_t size, time_point now) const noexcept {
        while (w.count > 0 && now - ring[w.head] >= config_.window) {
            w.head = (w.head + 1) % size;
            --w.count;
        }
        ring[(w.head + w.count) % size] = now;
        if (++w.count < size) return false;
        w = {};
        return true;
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
            const bool idle = !locked && (e.failures.count == 0 || now - e.last_failure >= config_.window);
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
    std::vector<time_point> global_failures_;
    window_count global_;
    time_point global_locked_until_{};
    std::uint64_t lockouts_ = 0;
};

}  // namespace trustgate
