// Cost of one authentication decision, and proof that it does not allocate.
//
// Counts heap allocations (tests/support/counting_new.hpp): every benchmark reports them
// per decision, and the program exits non-zero if any decision allocated.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <new>
#include <string>
#include <vector>

#include <unistd.h>

#include <trustgate/attempt_limiter.hpp>
#include <trustgate/detail/ascii.hpp>
#include <trustgate/presets.hpp>

#include "support/counting_new.hpp"

namespace {
std::atomic<std::size_t> allocating_benchmarks{0};
}  // namespace


namespace {

using namespace trustgate;

// OpenClaw-typical: 4 trusted entries (2 CIDRs), 1 required header, `users` allowed
// users, 20 identity-scope entries; `extra_cidrs` more trusted /24s for the scale case.
auth_config make_config(std::size_t users, std::size_t extra_cidrs) {
    auth_config c;
    c.trusted_proxies = {"127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"};
    for (std::size_t i = 0; i < extra_cidrs; ++i)
        c.trusted_proxies.push_back(net::cidr::make(net::address::from_v4_uint(0xc6000000u + (std::uint32_t(i) << 8)), 24)->to_string());
    c.trusted_proxy.user_header = "x-auth-request-email";
    c.trusted_proxy.required_headers = {"x-auth-request-user"};
    c.trusted_proxy.allow_loopback = true;
    c.trusted_proxy.loopback_user = "user0@example.com";
    for (std::size_t i = 0; i < users; ++i) c.trusted_proxy.allow_users.push_back("user" + std::to_string(i) + "@example.com");
    for (std::size_t i = 0; i < 20; ++i)
        c.scopes.identity_scopes.push_back({"user" + std::to_string(i) + "@example.com", {"operator.write"}});
    return c;
}

// What oauth2-proxy behind nginx sends for a signed-in user.
basic_request proxied_request(const std::string& user) {
    basic_request r(*net::address::parse("10.0.3.7"));
    r.add("Host", "gateway.example.com")
        .add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
        .add("Accept", "application/json")
        .add("X-Forwarded-For", "203.0.113.50")
        .add("X-Forwarded-Proto", "https")
        .add("X-Auth-Request-User", "someone")
        .add("X-Auth-Request-Email", user)
        .add("Cookie", "_oauth2_proxy=abc");
    return r;
}

void count_allocations(benchmark::State& state, std::size_t before) {
    const auto allocs = trustgate_test::allocations_on_this_thread - before;
    if (allocs != 0) allocating_benchmarks.fetch_add(1);
    state.counters["allocs/op"] = benchmark::Counter(double(allocs) / double(state.iterations()));
}

template <class Gateway>
void run_decisions(benchmark::State& state, const Gateway& gw, const basic_request& request, reason expected) {
    if (gw.authenticate(request).why != expected) {
        state.SkipWithError("unexpected decision");
        return;
    }
    const auto before = trustgate_test::allocations_on_this_thread;
    for (auto _ : state) {
        auto d = gw.authenticate(request);
        benchmark::DoNotOptimize(d);
    }
    count_allocations(state, before);
}

void run_decisions(benchmark::State& state, const auth_config& config, const basic_request& request, reason expected,
                   attempt_limiter* limiter = nullptr) {
    run_decisions(state, trusted_proxy_gateway::from_config(config, limiter), request, expected);
}

const auth_config& typical() {
    static const auth_config c = make_config(50, 0);
    return c;
}

basic_request with_peer(basic_request r, const char* peer) {
    r.set_peer(*net::address::parse(peer));
    return r;
}

// A CLI run by the gateway's own user, as the server's kernel lookup proves it.
basic_request local_request() {
    basic_request r(*net::address::parse("127.0.0.1"));
    r.add("Host", "127.0.0.1:18789").add("User-Agent", "openclaw-cli/1.0").add("Accept", "application/json");
    r.set_local_proof(local_proof::of(static_cast<std::uint32_t>(geteuid())));
    return r;
}

// The floor: one case-insensitive pass over the same request looking for the same six
// headers a decision reads, and nothing else.
void baseline_header_lookup(benchmark::State& state) {
    const auto request = proxied_request("user42@example.com");
    constexpr std::string_view wanted[] = {"x-auth-request-email", "x-auth-request-user", "host",
                                           "origin", "authorization", "x-forwarded-for"};
    const auto before = trustgate_test::allocations_on_this_thread;
    for (auto _ : state) {
        std::string_view found[std::size(wanted)]{};
        request.for_each_header([&](std::string_view name, std::string_view value) {
            for (std::size_t i = 0; i < std::size(wanted); ++i)
                if (detail::iequals_lower(name, wanted[i])) found[i] = value;
        });
        benchmark::DoNotOptimize(found);
    }
    count_allocations(state, before);
}

void allowed_typical(benchmark::State& state) {
    run_decisions(state, typical(), proxied_request("user42@example.com"), reason::ok);
}
void allowed_large(benchmark::State& state) {
    run_decisions(state, make_config(10'000, 1'000), proxied_request("user4242@example.com"), reason::ok);
}
void allowed_loopback_user(benchmark::State& state) {
    run_decisions(state, typical(), local_request(), reason::ok);
}
void allowed_local_token(benchmark::State& state) {
    auto c = typical();
    c.token = "0123456789abcdef0123456789abcdef";
    auto r = local_request();
    r.add("Authorization", "Bearer 0123456789abcdef0123456789abcdef");
    run_decisions(state, c, r, reason::ok);
}
void denied_untrusted_source(benchmark::State& state) {
    run_decisions(state, typical(), with_peer(proxied_request("user42@example.com"), "192.0.2.1"),
                  reason::trusted_proxy_untrusted_source);
}
// A same-host proxy that dropped its headers (nginx's `location /ws` pitfall): another
// user, so not a local tool, and the header path finds the typical required header absent.
void denied_unproven_local(benchmark::State& state) {
    auto r = local_request();
    r.set_local_proof(local_proof::of(static_cast<std::uint32_t>(geteuid()) + 1));
    run_decisions(state, typical(), r, reason::trusted_proxy_missing_header);
}
void denied_loopback_source(benchmark::State& state) {
    auto c = typical();
    c.trusted_proxy.allow_loopback = false;
    run_decisions(state, c, with_peer(proxied_request("user42@example.com"), "127.0.0.1"),
                  reason::trusted_proxy_loopback_source);
}
void denied_missing_header(benchmark::State& state) {
    auto c = typical();
    c.trusted_proxy.required_headers.push_back("x-proxy-secret");
    run_decisions(state, c, proxied_request("user42@example.com"), reason::trusted_proxy_missing_header);
}
void denied_user_missing(benchmark::State& state) {
    auto r = proxied_request("user42@example.com");
    r.headers().erase(r.headers().begin() + 6);
    run_decisions(state, typical(), r, reason::trusted_proxy_user_missing);
}
void denied_user_ambiguous(benchmark::State& state) {
    run_decisions(state, typical(), proxied_request("user42@example.com, user1@example.com"), reason::trusted_proxy_user_ambiguous);
}
void denied_user_invalid(benchmark::State& state) {
    run_decisions(state, typical(), proxied_request("user42@example.com\x01"), reason::trusted_proxy_user_invalid);
}
void denied_user_not_allowed(benchmark::State& state) {
    run_decisions(state, typical(), proxied_request("mallory@example.com"), reason::trusted_proxy_user_not_allowed);
}
void denied_token_missing(benchmark::State& state) {
    auto c = typical();
    c.token = "0123456789abcdef0123456789abcdef";
    c.trusted_proxy.loopback_user.reset();
    run_decisions(state, c, local_request(), reason::token_missing);
}
void denied_token_mismatch(benchmark::State& state) {
    auto c = typical();
    c.token = "0123456789abcdef0123456789abcdef";
    auto r = local_request();
    r.add("Authorization", "Bearer 0123456789abcdef0123456789abcdeX");
    run_decisions(state, c, r, reason::token_mismatch);
}
void denied_rate_limited(benchmark::State& state) {
    auto c = typical();
    c.token = "0123456789abcdef0123456789abcdef";
    c.rate_limit.exempt_loopback = false;
    attempt_limiter limiter(c.rate_limit);
    auto r = local_request();
    r.add("Authorization", "Bearer wrong");
    const auto gw = trusted_proxy_gateway::from_config(c, &limiter);
    for (unsigned i = 0; i < c.rate_limit.max_attempts; ++i) (void)gw.authenticate(r);
    run_decisions(state, gw, r, reason::rate_limited);
}

// behaviour §4 from RFC 7239 Forwarded: a quoted IPv6 with a port, a quoted-pair; in one line
// (kept by request_facts) or in five (walked over the request again).
void allowed_forwarded(benchmark::State& state) {
    auto c = typical();
    c.client_ip_header = forwarding_header::forwarded;
    auto r = proxied_request("user42@example.com");
    for (int i = 0; i < state.range(0); ++i)
        r.add("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=\"\\10.0.0.9\";host=\"a,b\"");
    run_decisions(state, c, r, reason::ok);
}
// behaviour §6: an IPv6 network locked out (its /64 is the key), with the global ceiling on.
void denied_rate_limited_ipv6(benchmark::State& state) {
    auth_config c;
    c.mode = auth_mode::token;
    c.token = "0123456789abcdef0123456789abcdef";
    c.rate_limit.global_max_attempts = 1000;
    attempt_limiter limiter(c.rate_limit);
    const auto gw = token_gateway::from_config(c, &limiter);
    basic_request r(*net::address::parse("2001:db8:1:2::5"));
    r.add("Authorization", "Bearer wrong");
    for (unsigned i = 0; i < c.rate_limit.max_attempts; ++i) {
        r.set_peer(net::address::from_v6_bytes({0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, std::uint8_t(i)}));
        (void)gw.authenticate(r);
    }
    run_decisions(state, gw, r, reason::rate_limited);
}

// Cost as the lists grow: state.range(0) allowed users, or trusted CIDRs.
void scale_allowed_users(benchmark::State& state) {
    const auto users = static_cast<std::size_t>(state.range(0));
    run_decisions(state, make_config(users, 0), proxied_request("user" + std::to_string(users / 2) + "@example.com"), reason::ok);
}
void scale_trusted_cidrs(benchmark::State& state) {
    const auto cidrs = static_cast<std::size_t>(state.range(0));
    run_decisions(state, make_config(50, cidrs - 1), proxied_request("user42@example.com"), reason::ok);
}

}  // namespace

BENCHMARK(baseline_header_lookup);
BENCHMARK(allowed_typical);
BENCHMARK(allowed_large);
BENCHMARK(allowed_loopback_user);
BENCHMARK(denied_unproven_local);
BENCHMARK(allowed_local_token);
BENCHMARK(denied_untrusted_source);
BENCHMARK(denied_loopback_source);
BENCHMARK(denied_missing_header);
BENCHMARK(denied_user_missing);
BENCHMARK(denied_user_ambiguous);
BENCHMARK(denied_user_invalid);
BENCHMARK(denied_user_not_allowed);
BENCHMARK(denied_token_missing);
BENCHMARK(denied_token_mismatch);
BENCHMARK(denied_rate_limited);
BENCHMARK(allowed_forwarded)->Arg(1)->Arg(5);
BENCHMARK(denied_rate_limited_ipv6);
BENCHMARK(scale_allowed_users)->RangeMultiplier(10)->Range(10, 100'000);
BENCHMARK(scale_trusted_cidrs)->RangeMultiplier(10)->Range(1, 10'000);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (allocating_benchmarks.load() != 0) {
        std::fprintf(stderr, "FAIL: %zu benchmark(s) allocated during decisions\n", allocating_benchmarks.load());
        return 1;
    }
    return 0;
}
