// trustgate/metrics.hpp — what the gateway decided, counted for Prometheus (behaviour §13).
//
//   trustgate::metrics m;                    // every built-in reason code
//   trustgate::basic_metrics<my_gateway, trustgate::origin_check> mine;   // a composition's codes
//   m.count(decision);                       // on the request path: relaxed atomics only
//   m.observe_request(elapsed);
//   std::string text = m.exposition();      // on a scrape: the text format 0.0.4
//
// Every label comes from an enum (decision, via), a reason list fixed at compile time
// (trustgate::reasons_of its sources: gateways, policies, origin_check) or a fixed word
// (`ok`, `error`), so the number of series is fixed when the registry's type compiles: no
// identity, address, header value, path or method name can ever become a label. A reason
// outside the list is counted under reason="unlisted", shown once it has happened.
// Counting takes no lock and allocates nothing: each thread adds to its own
// cache-line-aligned shard, and a scrape sums the shards.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "trustgate/decision.hpp"
#include "trustgate/detail/prometheus_text.hpp"

namespace trustgate {

template <class... Sources>
class basic_metrics {
public:
    // The reason label set, `ok` first.
    static constexpr auto reasons = reasons_of<Sources...>;

    // Upper bounds of trustgate_request_duration_seconds' buckets, in nanoseconds: a
    // decision takes microseconds, a request with its answer well under a millisecond.
    static constexpr std::array<std::uint64_t, 13> duration_bounds_ns = {
        50'000,     100'000,    250'000,     500'000,     1'000'000,   2'500'000,  5'000'000,
        10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 1'000'000'000,
    };

    basic_metrics() = default;
    basic_metrics(const basic_metrics&) = delete;
    basic_metrics& operator=(const basic_metrics&) = delete;

    // One authentication or authorisation decision (behaviour §7: one per audit line).
    void count(const decision& d) noexcept { count(d.allowed, d.why, d.how); }

    void count(bool allowed, const reason& why, via how) noexcept {
        add(local().decisions[allowed][index_of(why)][static_cast<std::size_t>(how)]);
    }

    // The time taken to decide a request, from its complete header section.
    void observe_request(std::chrono::nanoseconds elapsed) noexcept {
        const auto ns = static_cast<std::uint64_t>(elapsed.count() < 0 ? 0 : elapsed.count());
        shard& s = local();
        std::size_t bucket = 0;
        while (bucket < duration_bounds_ns.size() && ns > duration_bounds_ns[bucket]) ++bucket;
        add(s.duration_buckets[bucket]);
        s.duration_sum_ns.fetch_add(ns, std::memory_order_relaxed);
    }

    void count_reload(bool ok) noexcept { add(reloads_[ok ? 0 : 1]); }
    void set_config_generation(std::uint64_t generation) noexcept { generation_.store(generation, std::memory_order_relaxed); }
    // The key refresher counts its own fetches (assertion::jwks_refresher::refreshes()).
    void set_jwks_refreshes(std::uint64_t ok, std::uint64_t failed) noexcept {
        jwks_refreshes_[0].store(ok, std::memory_order_relaxed);
        jwks_refreshes_[1].store(failed, std::memory_order_relaxed);
    }
    void set_jwks_keys(std::uint64_t keys) noexcept { jwks_keys_.store(keys, std::memory_order_relaxed); }
    // The failed-attempt limiter counts its own lockouts (attempt_limiter::lockouts());
    // the owner reports their total here before a scrape.
    void set_lockouts(std::uint64_t total) noexcept { lockouts_.store(total, std::memory_order_relaxed); }
    // So does a shared store its unanswered attempts (attempt_store::errors()).
    void set_store_errors(std::uint64_t total) noexcept { store_errors_.store(total, std::memory_order_relaxed); }
    void websocket_opened() noexcept { websockets_.fetch_add(1, std::memory_order_relaxed); }
    void websocket_closed() noexcept { websockets_.fetch_sub(1, std::memory_order_relaxed); }

    // Sums of every shard, for tests and for the exposition.
    std::uint64_t decisions(bool allowed, const reason& why, via how) const noexcept {
        return decisions_at(allowed, index_of(why), how);
    }

    std::uint64_t requests() const noexcept {
        std::uint64_t total = 0;
        for (const auto& s : shards_)
            for (const auto& b : s.duration_buckets) total += read(b);
        return total;
    }

    // The text exposition of every family of behaviour §13. An allow is listed under each
    // `via`, a deny under each reason with `via="none"`, zeros included, so a query sees
    // a series before its first event; any other combination once it has happened (a
    // missing_scope deny keeps the via of the identity it refused).
    std::string exposition() const {
        std::string out;
        out.reserve(8192);
        detail::append_family(out, "trustgate_decisions_total", "counter",
                              "Authentication and authorisation decisions, by outcome, reason code and how the caller was authenticated.");
        for (int allowed = 1; allowed >= 0; --allowed)
            for (std::size_t why = 0; why <= reasons.size(); ++why)
                for (const auto how : all_vias) {
                    const auto n = decisions_at(allowed == 1, why, how);
                    // reasons[0] is ok; index reasons.size() is the unlisted row.
                    const bool listed = why < reasons.size() && (allowed == 1 ? why == 0 : why != 0 && how == via::none);
                    if (n == 0 && !listed) continue;
                    detail::append_sample(out, "trustgate_decisions_total",
                                          {{"decision", allowed == 1 ? "allow" : "deny"},
                                           {"reason", why < reasons.size() ? to_string(reasons[why]) : "unlisted"},
                                           {"via", to_string(how)}},
                                          n);
                }

        detail::append_family(out, "trustgate_request_duration_seconds", "histogram",
                              "Time taken to decide a request, from its complete header section to the answer or the decision to read its body.");
        std::array<std::uint64_t, duration_bounds_ns.size() + 1> buckets{};
        std::uint64_t sum_ns = 0;
        for (const auto& s : shards_) {
            for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += read(s.duration_buckets[i]);
            sum_ns += read(s.duration_sum_ns);
        }
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            cumulative += buckets[i];
            std::string le;
            detail::append_number(le, i < duration_bounds_ns.size() ? double(duration_bounds_ns[i]) / 1e9 : HUGE_VAL);
            detail::append_sample(out, "trustgate_request_duration_seconds_bucket", {{"le", le}}, cumulative);
        }
        detail::append_sample(out, "trustgate_request_duration_seconds_sum", {}, double(sum_ns) / 1e9);
        detail::append_sample(out, "trustgate_request_duration_seconds_count", {}, cumulative);

        detail::append_family(out, "trustgate_config_reloads_total", "counter", "Configuration reloads, by result.");
        detail::append_sample(out, "trustgate_config_reloads_total", {{"result", "ok"}}, read(reloads_[0]));
        detail::append_sample(out, "trustgate_config_reloads_total", {{"result", "error"}}, read(reloads_[1]));
        detail::append_family(out, "trustgate_config_generation", "gauge",
                              "Generation of the configuration in force: 1 at start-up, one more per successful reload.");
        detail::append_sample(out, "trustgate_config_generation", {}, read(generation_));
        detail::append_family(out, "trustgate_jwks_refresh_total", "counter", "Fetches of the assertion keys (JWKS), by result.");
        detail::append_sample(out, "trustgate_jwks_refresh_total", {{"result", "ok"}}, read(jwks_refreshes_[0]));
        detail::append_sample(out, "trustgate_jwks_refresh_total", {{"result", "error"}}, read(jwks_refreshes_[1]));
        detail::append_family(out, "trustgate_jwks_keys", "gauge", "Usable keys in the assertion key set.");
        detail::append_sample(out, "trustgate_jwks_keys", {}, read(jwks_keys_));
        detail::append_family(out, "trustgate_rate_limit_lockouts_total", "counter",
                              "Client keys locked out after too many failed token attempts.");
        detail::append_sample(out, "trustgate_rate_limit_lockouts_total", {}, read(lockouts_));
        detail::append_family(out, "trustgate_rate_limit_store_errors_total", "counter",
                              "Shared failed-attempt store requests that failed or timed out.");
        detail::append_sample(out, "trustgate_rate_limit_store_errors_total", {}, read(store_errors_));
        detail::append_family(out, "trustgate_websocket_connections", "gauge", "Open WebSocket connections.");
        detail::append_sample(out, "trustgate_websocket_connections", {}, websockets_.load(std::memory_order_relaxed));
        return out;
    }

private:
    static constexpr std::array<via, 4> all_vias{via::none, via::trusted_proxy, via::loopback_user, via::token};
    // The via enum indexes the counters directly; a reason by its position in `reasons`.
    static_assert(static_cast<std::size_t>(all_vias[std::size(all_vias) - 1]) == std::size(all_vias) - 1);
    static constexpr std::size_t shard_count = 8;
    using counter = std::atomic<std::uint64_t>;

    struct alignas(64) shard {
        counter decisions[2][reasons.size() + 1][std::size(all_vias)] = {};  // + the unlisted row
        counter duration_buckets[duration_bounds_ns.size() + 1] = {};
        counter duration_sum_ns{0};
    };

    // Compares the codes' hashes, then the one candidate's code: no string compare per entry.
    static constexpr std::size_t index_of(const reason& why) noexcept {
        std::size_t i = 0;
        while (i < reasons.size() && reasons[i] != why) ++i;
        return i;
    }

    std::uint64_t decisions_at(bool allowed, std::size_t why, via how) const noexcept {
        std::uint64_t total = 0;
        for (const auto& s : shards_) total += read(s.decisions[allowed][why][static_cast<std::size_t>(how)]);
        return total;
    }

    static void add(counter& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }
    static std::uint64_t read(const counter& c) noexcept { return c.load(std::memory_order_relaxed); }

    // Threads take shards in turn, the first time they count.
    shard& local() noexcept {
        static std::atomic<unsigned> next{0};
        thread_local const unsigned mine = next.fetch_add(1, std::memory_order_relaxed) % shard_count;
        return shards_[mine];
    }

    std::array<shard, shard_count> shards_{};
    alignas(64) counter reloads_[2] = {};
    counter generation_{0};
    counter jwks_refreshes_[2] = {};
    counter jwks_keys_{0};
    counter lockouts_{0};
    counter store_errors_{0};
    std::atomic<std::int64_t> websockets_{0};
};

// Every built-in reason code: what trustgate-gateway and a composition of trustgate's own
// policies can report.
using metrics = basic_metrics<builtin_reasons>;

}  // namespace trustgate
