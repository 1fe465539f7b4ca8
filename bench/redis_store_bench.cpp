// Cost of a decision with the failed-attempt limit shared through Redis (behaviour §12): a
// failed token attempt (one round trip to a redis-server on loopback, which this program
// starts on a free port in a temporary directory and stops by its pid), a locked-out
// client (answered from the store's cache, no round trip), the header path (never
// consults the store), and the in-memory limiter's failed attempt for comparison.
//
// Counts the deciding thread's heap allocations (the connection thread's are its own)
// and exits non-zero if a decision allocated.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trustgate/attempt_limiter.hpp>
#include <trustgate/presets.hpp>
#include <trustgate/redis/store.hpp>

#include "support/counting_new.hpp"

namespace {
std::size_t allocating_benchmarks = 0;
}  // namespace


namespace {

using namespace trustgate;

// redis-server on a free loopback port, for as long as the program runs.
class redis_server {
public:
    redis_server() {
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t n = sizeof a;
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
        ::close(s);
        port = ntohs(a.sin_port);
        char pattern[] = "/tmp/trustgate-redis-bench-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        const auto port_text = std::to_string(port);
        const auto log = dir_ + "/redis.log";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execlp("redis-server", "redis-server", "--port", port_text.c_str(), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", log.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~redis_server() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        std::filesystem::remove_all(dir_);
    }
    std::uint16_t port = 0;

private:
    std::string dir_;
    pid_t pid_ = -1;
};

redis_server& server() {
    static redis_server s;
    return s;
}

auth_config token_config() {
    auth_config c;
    c.mode = auth_mode::token;
    c.token = "0123456789abcdef0123456789abcdef";
    // Every iteration fails: a 1 ms window never gathers 1000 failures, so the client is
    // never locked out while the failed attempt is measured.
    c.rate_limit.max_attempts = 1000;
    c.rate_limit.window = std::chrono::milliseconds(1);
    return c;
}

basic_request bearer_request(const char* peer, const char* token) {
    basic_request r(*net::address::parse(peer));
    r.add("Host", "gateway.example.com").add("Authorization", std::string("Bearer ") + token);
    return r;
}

// A store on the bench's server, connected.
std::unique_ptr<redis::store> connected_store(const rate_limit_config& limits) {
    redis::store_options options;
    options.port = server().port;
    options.key_prefix = "bench:" + std::to_string(::getpid()) + ":";
    auto s = std::make_unique<redis::store>(limits, options, nullptr, nullptr);
    const auto probe = *net::address::parse("192.0.2.1");
    for (int i = 0; i < 500 && s->attempt(probe, true).what == attempt_verdict::status::unavailable; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return s;
}

template <class Gateway>
void run_decisions(benchmark::State& state, const Gateway& gw, const basic_request& request, reason expected) {
    if (gw.authenticate(request).why != expected) {
        state.SkipWithError("unexpected decision (is redis-server installed?)");
        return;
    }
    const auto before = trustgate_test::allocations_on_this_thread;
    for (auto _ : state) {
        auto d = gw.authenticate(request);
        benchmark::DoNotOptimize(d);
    }
    const auto allocs = trustgate_test::allocations_on_this_thread - before;
    if (allocs != 0) ++allocating_benchmarks;
    state.counters["allocs/op"] = benchmark::Counter(double(allocs) / double(state.iterations()));
}

void failed_attempt_memory(benchmark::State& state) {
    const auto c = token_config();
    attempt_limiter limiter(c.rate_limit);
    run_decisions(state, token_gateway::from_config(c, &limiter), bearer_request("203.0.113.7", "wrong"), reason::token_mismatch);
}

void failed_attempt_redis(benchmark::State& state) {
    const auto c = token_config();
    const auto store = connected_store(c.rate_limit);
    run_decisions(state, token_gateway::from_config(c, store.get()), bearer_request("203.0.113.8", "wrong"), reason::token_mismatch);
}

void locked_out_redis(benchmark::State& state) {
    auto c = token_config();
    c.rate_limit.max_attempts = 3;
    c.rate_limit.window = std::chrono::milliseconds(60'000);
    const auto store = connected_store(c.rate_limit);
    const auto gw = token_gateway::from_config(c, store.get());
    const auto r = bearer_request("203.0.113.9", "wrong");
    for (unsigned i = 0; i < c.rate_limit.max_attempts; ++i) (void)gw.authenticate(r);
    run_decisions(state, gw, r, reason::rate_limited);
}

// The header path of a trusted-proxy gateway whose store is Redis: no token, no store.
void header_path_redis(benchmark::State& state) {
    auth_config c;
    c.trusted_proxies = {"10.0.0.0/8"};
    c.trusted_proxy.user_header = "x-auth-request-email";
    c.token = "0123456789abcdef0123456789abcdef";
    const auto store = connected_store(c.rate_limit);
    basic_request r(*net::address::parse("10.0.3.7"));
    r.add("Host", "gateway.example.com").add("X-Forwarded-For", "203.0.113.50").add("X-Auth-Request-Email", "user42@example.com");
    run_decisions(state, trusted_proxy_gateway::from_config(c, store.get()), r, reason::ok);
}

}  // namespace

BENCHMARK(failed_attempt_memory);
BENCHMARK(failed_attempt_redis)->UseRealTime();
BENCHMARK(locked_out_redis);
BENCHMARK(header_path_redis);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (allocating_benchmarks != 0) {
        std::fprintf(stderr, "FAIL: %zu benchmark(s) allocated during decisions\n", allocating_benchmarks);
        return 1;
    }
    return 0;
}
