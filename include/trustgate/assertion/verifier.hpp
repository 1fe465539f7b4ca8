// trustgate/assertion/verifier.hpp — assertions checked against a key set that can change
// while requests run (behaviour §10): the current keys, the verified-token cache, and the
// request for a refetch when a token names a key the set lacks.
//
//   auto v = std::make_shared<trustgate::assertion::verifier>(rules, parse_jwks(text));
//   auto outcome = v->verify(token, now_seconds);  // from any thread
//   v->replace_keys(parse_jwks(newer));             // a refresh: requests see one set or the other
//
// A repeat of a verified token is a cache hit: no allocation, no signature check.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "trustgate/assertion/keys.hpp"
#include "trustgate/assertion/token.hpp"
#include "trustgate/assertion/token_cache.hpp"

namespace trustgate::assertion {

namespace detail {
// Where a verified identity lives after verify() returns: the decision's identity must
// not point into the cache, whose slots other threads reuse. Valid until the calling
// thread's next verification.
inline thread_local char identity_slot[token_cache::max_identity_bytes];
}  // namespace detail

class verifier {
public:
    // behaviour §10: a token naming an unknown key asks for a refetch at most this often.
    static constexpr std::int64_t refetch_interval_seconds = 30;

    struct outcome {
        failure why = failure::none;
        std::string_view detail;    // which rule failed (a fixed text)
        std::string_view identity;  // on success: valid until this thread's next verify()
    };

    verifier(assertion::rules rules, key_set keys, std::size_t cache_capacity = 1024)
        : rules_(std::move(rules)), keys_(std::make_shared<const key_set>(std::move(keys))), cache_(cache_capacity) {}

    const assertion::rules& rules() const noexcept { return rules_; }
    std::shared_ptr<const key_set> keys() const noexcept { return keys_.load(); }
    const token_cache& cache() const noexcept { return cache_; }

    // `token` is the header value, trimmed; `now` seconds since the Unix epoch.
    outcome verify(std::string_view token, std::int64_t now) const {
        const int cached = cache_.find(token, now, detail::identity_slot);
        if (cached >= 0) return {failure::none, {}, std::string_view(detail::identity_slot, std::size_t(cached))};
        // Generation first, keys second: replace_keys() stores the keys first, so an entry
        // verified under an older set is refused by the cache (see token_cache::insert).
        const auto generation = cache_.generation();
        const auto keys = keys_.load();
        auto checked = check_token(token, *keys, rules_, now);
        if (checked.why == failure::unknown_key) ask_for_refetch(now);
        if (checked.why != failure::none) return {checked.why, checked.detail, {}};
        const auto valid_until = checked.expires > INT64_MAX - rules_.leeway_seconds ? INT64_MAX : checked.expires + rules_.leeway_seconds;
        cache_.insert(token, checked.identity, valid_until, *checked.key, generation);
        const auto size = std::min(checked.identity.size(), sizeof detail::identity_slot);
        std::copy_n(checked.identity.data(), size, detail::identity_slot);
        return {failure::none, {}, std::string_view(detail::identity_slot, size)};
    }

    // Makes `next` the current set; cached tokens whose key left it are forgotten.
    void replace_keys(key_set next) {
        auto fresh = std::make_shared<const key_set>(std::move(next));
        keys_.store(fresh);
        cache_.drop_keys_missing_from(*fresh);
    }

    // For the thread that fetches keys: waits until `deadline` or until a request met an
    // unknown key (true), whichever is first, or until stop() (false).
    template <class Clock, class Duration>
    bool wait_for_refetch(std::chrono::time_point<Clock, Duration> deadline) {
        std::unique_lock lock(signal_lock_);
        signal_.wait_until(lock, deadline, [&] { return refetch_wanted_ || stopped_; });
        const bool wanted = refetch_wanted_ && !stopped_;
        refetch_wanted_ = false;
        return wanted;
    }

    bool stopped() const {
        const std::lock_guard lock(signal_lock_);
        return stopped_;
    }

    void stop() {
        {
            const std::lock_guard lock(signal_lock_);
            stopped_ = true;
        }
        signal_.notify_all();
    }

    // How many refetches requests have asked for (at most one per 30 s).
    std::uint64_t refetches_asked() const noexcept { return refetches_asked_.load(); }

private:
    void ask_for_refetch(std::int64_t now) const {
        auto last = last_refetch_.load();
        if (now - last < refetch_interval_seconds || !last_refetch_.compare_exchange_strong(last, now)) return;
        refetches_asked_.fetch_add(1);
        {
            const std::lock_guard lock(signal_lock_);
            refetch_wanted_ = true;
        }
        signal_.notify_all();
    }

    assertion::rules rules_;
    std::atomic<std::shared_ptr<const key_set>> keys_;
    mutable token_cache cache_;
    mutable std::atomic<std::int64_t> last_refetch_{INT64_MIN / 2};
    mutable std::atomic<std::uint64_t> refetches_asked_{0};
    mutable std::mutex signal_lock_;
    mutable std::condition_variable signal_;
    mutable bool refetch_wanted_ = false;
    bool stopped_ = false;
};

}  // namespace trustgate::assertion
