// Lockouts this gateway has learnt from Redis, so that a locked-out client is answered
// locally, without a round trip, until its lockout ends (behaviour §12). Fixed memory: a
// set-associative table; a full set forgets the lockout that ends first (forgetting only
// costs a round trip). Thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

namespace trustgate::redis::detail {

class lockout_cache {
public:
    using key = std::array<std::uint64_t, 2>;  // the client key's 128 bits

    // Time left, while `k` is known to be locked at `now`.
    std::optional<std::chrono::milliseconds> locked(const key& k, std::chrono::milliseconds now) {
        std::lock_guard lock(mutex_);
        for (const entry& e : set_of(k))
            if (e.k == k && e.until > now) return e.until - now;
        return std::nullopt;
    }

    void lock(const key& k, std::chrono::milliseconds until) {
        std::lock_guard lock(mutex_);
        auto& set = set_of(k);
        auto* slot = std::find_if(set.begin(), set.end(), [&](const entry& e) { return e.k == k; });
        if (slot == set.end())
            slot = std::min_element(set.begin(), set.end(), [](const entry& a, const entry& b) { return a.until < b.until; });
        *slot = entry{k, until};
    }

private:
    static constexpr std::size_t sets = 256;
    static constexpr std::size_t ways = 4;

    struct entry {
        key k{};
        std::chrono::milliseconds until{std::chrono::milliseconds::min()};
    };

    std::array<entry, ways>& set_of(const key& k) {
        std::uint64_t h = k[0] * 0x9e3779b97f4a7c15ull ^ k[1];
        h ^= h >> 31;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        return table_[h % sets];
    }

    std::mutex mutex_;
    std::array<std::array<entry, ways>, sets> table_{};
};

}  // namespace trustgate::redis::detail
