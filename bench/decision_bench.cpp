// Cost of one authentication decision, and proof that it does not allocate.
//
// Replaces the global operator new to count heap allocations; every benchmark reports
// allocations per decision, and the program exits non-zero if any decision allocated.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <trustgate/presets.hpp>

namespace {
std::atomic<std::size_t> allocations{0};
std::atomic<std::size_t> allocating_benchmarks{0};
}  // namespace

void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }  // NOLINT: pairs with the malloc above
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

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

void run_decisions(benchmark::State& state, const auth_config& config, const basic_request& request, bool expect_allow) {
    const auto gw = trusted_proxy_gateway::from_config(config);
    if (gw.authenticate(request).allowed != expect_allow) {
        state.SkipWithError("unexpected decision");
        return;
    }
    const auto before = allocations.load();
    for (auto _ : state) {
        auto d = gw.authenticate(request);
        benchmark::DoNotOptimize(d);
    }
    const auto allocs = allocations.load() - before;
    if (allocs != 0) allocating_benchmarks.fetch_add(1);
    state.counters["allocs/op"] = benchmark::Counter(double(allocs) / double(state.iterations()));
}

void allowed_typical(benchmark::State& state) {
    run_decisions(state, make_config(50, 0), proxied_request("user42@example.com"), true);
}
void allowed_large(benchmark::State& state) {
    run_decisions(state, make_config(10'000, 1'000), proxied_request("user4242@example.com"), true);
}
void denied_not_allowed(benchmark::State& state) {
    run_decisions(state, make_config(50, 0), proxied_request("mallory@example.com"), false);
}
void denied_untrusted(benchmark::State& state) {
    auto r = proxied_request("user42@example.com");
    r.set_peer(*net::address::parse("192.0.2.1"));
    run_decisions(state, make_config(50, 0), r, false);
}
void allowed_loopback_user(benchmark::State& state) {
    basic_request r(*net::address::parse("127.0.0.1"));
    r.add("Host", "127.0.0.1:18789").add("User-Agent", "openclaw-cli/1.0");
    run_decisions(state, make_config(50, 0), r, true);
}

}  // namespace

BENCHMARK(allowed_typical);
BENCHMARK(allowed_large);
BENCHMARK(denied_not_allowed);
BENCHMARK(denied_untrusted);
BENCHMARK(allowed_loopback_user);

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
