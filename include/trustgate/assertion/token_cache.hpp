// trustgate/assertion/token_cache.hpp — verified assertions remembered (behaviour §10), so the
// token a session sends on every request costs a hash probe and a compare, not a
// signature check.
//
// Bounded: a fixed number of slots, 4-way set-associative in 16 locked shards; a full set
// replaces its entry that expires first. An entry answers only while `now < exp + leeway`
// and only while its key is in the current key set: drop_keys_missing_from() removes the
// rest when the set changes, and an entry verified under an older set is never stored.
// A lookup never allocates.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/assertion/keys.hpp"

namespace trustgate::assertion {

class token_cache {
public:
    static constexpr std::size_t max_identity_bytes = 256;
    static constexpr std::size_t ways = 4;
    static constexpr std::size_t shard_count = 16;

    // `capacity` entries at most (rounded up to a multiple of ways * shards); each holds
    // its token (at most 8 KiB), so memory stays under capacity * ~8.5 KiB.
    explicit token_cache(std::size_t capacity = 1024) : seed_(std::random_device{}() | (std::uint64_t(std::random_device{}()) << 32)) {
        const std::size_t per_shard = std::max<std::size_t>(1, (capacity + ways * shard_count - 1) / (ways * shard_count));
        for (auto& s : shards_) s.slots.resize(per_shard * ways);
    }

    token_cache(const token_cache&) = delete;
    token_cache& operator=(const token_cache&) = delete;

    // The key set generation an entry must have been verified under to be stored.
    std::uint64_t generation() const noexcept { return generation_.load(); }

    // On a hit copies the identity into `identity` and returns its length; -1 on a miss.
    int find(std::string_view token, std::int64_t now, char (&identity)[max_identity_bytes]) const noexcept {
        const auto h = hash(token);
        auto& s = shard_of(h);
        const std::lock_guard lock(s.lock);
        const std::size_t base = set_of(h, s);
        for (std::size_t i = base; i < base + ways; ++i) {
            const slot& e = s.slots[i];
            // The hash only picks the slot; the whole token decides, so a collision can
            // cost a signature check but never lend an identity.
            if (e.used && e.hash == h && now < e.valid_until && e.token.size() == token.size() &&
                std::memcmp(e.token.data(), token.data(), token.size()) == 0) {
                std::memcpy(identity, e.identity.data(), e.identity_size);
                return int(e.identity_size);
            }
        }
        return -1;
    }

    // Remembers a verified token until `valid_until` (exp + leeway). Ignored when the key
    // set changed since `generation` was read, or the identity does not fit.
    void insert(std::string_view token, std::string_view identity, std::int64_t valid_until, const jwk& key,
                std::uint64_t generation) {
        if (identity.size() > max_identity_bytes) return;
        const auto h = hash(token);
        auto& s = shard_of(h);
        const std::lock_guard lock(s.lock);
        if (generation != generation_.load()) return;
        const std::size_t base = set_of(h, s);
        slot* victim = &s.slots[base];
        for (std::size_t i = base; i < base + ways; ++i) {
            slot& e = s.slots[i];
            if (!e.used || (e.hash == h && e.token == token)) {
                victim = &e;
                break;
            }
            if (e.valid_until < victim->valid_until) victim = &e;
        }
        victim->used = true;
        victim->hash = h;
        victim->token.assign(token);
        std::memcpy(victim->identity.data(), identity.data(), identity.size());
        victim->identity_size = std::uint16_t(identity.size());
        victim->valid_until = valid_until;
        victim->key = key.material;
    }

    // Called after a new key set became current: entries whose key left it are dropped,
    // and entries verified under the old set will not be stored.
    void drop_keys_missing_from(const key_set& current) {
        generation_.fetch_add(1);
        for (auto& s : shards_) {
            const std::lock_guard lock(s.lock);
            for (auto& e : s.slots) {
                if (!e.used) continue;
                bool kept = false;
                for (const auto& k : current.keys) kept = kept || k.material == e.key;
                if (!kept) e.used = false;
            }
        }
    }

    std::size_t size() const {
        std::size_t n = 0;
        for (auto& s : shards_) {
            const std::lock_guard lock(s.lock);
            for (const auto& e : s.slots) n += e.used ? 1 : 0;
        }
        return n;
    }

private:
    struct slot {
        bool used = false;
        std::uint64_t hash = 0;
        std::int64_t valid_until = 0;
        std::string token;
        std::array<char, max_identity_bytes> identity{};
        std::uint16_t identity_size = 0;
        std::string key;  // the verifying key's material, compared when the set changes
    };

    struct shard {
        mutable std::mutex lock;
        std::vector<slot> slots;
    };

    // The signature is the token's last part and, for a genuine token, random bytes: its
    // last 64 characters and the length spread tokens well. Seeded per cache.
    std::uint64_t hash(std::string_view token) const noexcept {
        std::uint64_t h = seed_ ^ (token.size() * 0x9e3779b97f4a7c15ull);
        const auto tail = token.substr(token.size() > 64 ? token.size() - 64 : 0);
        std::size_t i = 0;
        for (; i + 8 <= tail.size(); i += 8) {
            std::uint64_t w;
            std::memcpy(&w, tail.data() + i, 8);
            h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
            h ^= h >> 31;
        }
        for (; i < tail.size(); ++i) h = (h ^ static_cast<unsigned char>(tail[i])) * 0x100000001b3ull;
        h ^= h >> 29;
        return h * 0x94d049bb133111ebull;
    }

    shard& shard_of(std::uint64_t h) const noexcept { return shards_[h % shard_count]; }
    static std::size_t set_of(std::uint64_t h, const shard& s) noexcept {
        return ((h / shard_count) % (s.slots.size() / ways)) * ways;
    }

    std::uint64_t seed_;
    std::atomic<std::uint64_t> generation_{0};
    mutable std::array<shard, shard_count> shards_;
};

}  // namespace trustgate::assertion
