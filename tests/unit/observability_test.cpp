// behaviour §13: the metrics registry and its text exposition, and the decision trace.
#include <support/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <trustgate/attempt_limiter.hpp>
#include <trustgate/local_proof.hpp>
#include <trustgate/metrics.hpp>
#include <trustgate/presets.hpp>
#include <trustgate/trace.hpp>

// Counts the allocations of the thread that asks, so a test can say "this allocates nothing".
namespace {
thread_local bool counting_allocations = false;
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
    if (counting_allocations) ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
// GCC 12 takes free() in a replaced operator delete for a mismatch; it is the pairing.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace trustgate;

namespace {

template <class F>
std::size_t allocations_of(F&& f) {
    allocations = 0;
    counting_allocations = true;
    f();
    counting_allocations = false;
    return allocations;
}

net::address ip(const char* text) { return *net::address::parse(text); }

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

auth_config proxy_config() {
    auth_config c;
    c.trusted_proxies = {"127.0.0.1", "10.0.0.0/8"};
    c.trusted_proxy.user_header = "x-forwarded-user";
    c.trusted_proxy.required_headers = {"x-proxy-secret"};
    c.trusted_proxy.allow_users = {"alice@example.com"};
    c.trusted_proxy.allow_loopback = true;
    c.token = "s3cret-token-value";
    return c;
}

}  // namespace

TEST_CASE("metrics: every decision is counted under its decision, reason and via") {
    metrics m;
    m.count(decision::allow(via::trusted_proxy, "alice", "proxy_identity"));
    m.count(decision::allow(via::trusted_proxy, "bob", "proxy_identity"));
    m.count(decision::deny(reason::token_mismatch, "bearer_token"));
    m.count(false, reason::missing_scope, via::trusted_proxy);
    CHECK(m.decisions(true, reason::ok, via::trusted_proxy) == 2);
    CHECK(m.decisions(false, reason::token_mismatch, via::none) == 1);

    const auto text = m.exposition();
    CHECK(has_line(text, R"(trustgate_decisions_total{decision="allow",reason="ok",via="trusted-proxy"} 2)"));
    CHECK(has_line(text, R"(trustgate_decisions_total{decision="deny",reason="token_mismatch",via="none"} 1)"));
    CHECK(has_line(text, R"(trustgate_decisions_total{decision="deny",reason="missing_scope",via="trusted-proxy"} 1)"));
    // Zeros are listed for every plausible series, so a query sees them before the first event.
    CHECK(has_line(text, R"(trustgate_decisions_total{decision="allow",reason="ok",via="loopback-user"} 0)"));
    CHECK(has_line(text, R"(trustgate_decisions_total{decision="deny",reason="rate_limited",via="none"} 0)"));
    // ... but not impossible ones.
    CHECK(text.find(R"(decision="allow",reason="token_missing")") == std::string::npos);
    CHECK(text.find(R"(# TYPE trustgate_decisions_total counter)") != std::string::npos);
}

TEST_CASE("metrics: the duration histogram is cumulative and ends in +Inf") {
    metrics m;
    m.observe_request(std::chrono::microseconds(10));   // first bucket (50 µs)
    m.observe_request(std::chrono::microseconds(300));  // the 500 µs bucket
    m.observe_request(std::chrono::seconds(3));         // only +Inf
    const auto text = m.exposition();
    CHECK(has_line(text, R"(trustgate_request_duration_seconds_bucket{le="0.00005"} 1)"));
    CHECK(has_line(text, R"(trustgate_request_duration_seconds_bucket{le="0.00025"} 1)"));
    CHECK(has_line(text, R"(trustgate_request_duration_seconds_bucket{le="0.0005"} 2)"));
    CHECK(has_line(text, R"(trustgate_request_duration_seconds_bucket{le="1"} 2)"));
    CHECK(has_line(text, R"(trustgate_request_duration_seconds_bucket{le="+Inf"} 3)"));
    CHECK(has_line(text, "trustgate_request_duration_seconds_count 3"));
    CHECK(has_line(text, "trustgate_request_duration_seconds_sum 3.00031"));
    CHECK(m.requests() == 3);
}

TEST_CASE("metrics: gauges and operational counters") {
    metrics m;
    m.count_reload(true);
    m.count_reload(false);
    m.count_reload(false);
    m.set_config_generation(4);
    m.set_jwks_refreshes(1, 0);
    m.set_jwks_keys(2);
    m.set_lockouts(3);
    m.count_store_error();
    m.websocket_opened();
    m.websocket_opened();
    m.websocket_closed();
    const auto text = m.exposition();
    CHECK(has_line(text, R"(trustgate_config_reloads_total{result="ok"} 1)"));
    CHECK(has_line(text, R"(trustgate_config_reloads_total{result="error"} 2)"));
    CHECK(has_line(text, "trustgate_config_generation 4"));
    CHECK(has_line(text, R"(trustgate_jwks_refresh_total{result="ok"} 1)"));
    CHECK(has_line(text, "trustgate_jwks_keys 2"));
    CHECK(has_line(text, "trustgate_rate_limit_lockouts_total 3"));
    CHECK(has_line(text, "trustgate_rate_limit_store_errors_total 1"));
    CHECK(has_line(text, "trustgate_websocket_connections 1"));
}

TEST_CASE("metrics: counting allocates nothing and loses nothing across threads") {
    metrics m;
    const auto allow = decision::allow(via::token, "token", "bearer_token");
    CHECK(allocations_of([&] {
              m.count(allow);
              m.observe_request(std::chrono::microseconds(120));
              m.websocket_opened();
          }) == 0);

    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) m.count(allow);
        });
    for (auto& t : threads) t.join();
    CHECK(m.decisions(true, reason::ok, via::token) == 60001);
}

TEST_CASE("prometheus text: label values and help text are escaped") {
    std::string out;
    detail::append_family(out, "x_total", "counter", "a \\ b\nc");
    detail::append_sample(out, "x_total", {{"l", "q\"\\\n"}}, std::uint64_t{7});
    CHECK(out == "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\nx_total{l=\"q\\\"\\\\\\n\"} 7\n");
}

TEST_CASE("trace: each policy that ran, what it read and what it concluded") {
    attempt_limiter limiter(rate_limit_config{});
    const auto gw = trusted_proxy_gateway::from_config(proxy_config(), &limiter);
    basic_request req(ip("10.1.2.3"));
    req.add("X-Forwarded-User", "mallory@example.com");
    req.add("X-Proxy-Secret", "proxy-shared-secret");
    req.add("X-Forwarded-For", "203.0.113.9");

    decision_trace trace;
    const auto d = gw.authenticate(req, trace);
    const auto plain = gw.authenticate(req);
    CHECK((d.allowed == plain.allowed && d.why == plain.why && d.identity == plain.identity));
    CHECK(d.why == reason::trusted_proxy_user_not_allowed);

    REQUIRE(trace.steps.size() == 5);
    const char* names[] = {"trusted_source", "loopback_policy", "required_headers", "proxy_identity", "allow_users"};
    for (std::size_t i = 0; i < 5; ++i) CHECK(trace.steps[i].policy == names[i]);
    for (std::size_t i = 0; i < 4; ++i) CHECK(!trace.steps[i].decided);
    REQUIRE(trace.steps[4].decided);
    CHECK(trace.steps[4].decided->why == reason::trusted_proxy_user_not_allowed);
    CHECK(trace.steps[4].decided->client_ip == ip("203.0.113.9"));
    CHECK(!trace.concluded_by_gateway);

    auto note = [&](std::size_t step, const std::string& what) {
        for (const auto& n : trace.steps[step].read)
            if (n.what == what) return n.value;
        return std::string("(no such note)");
    };
    CHECK(note(0, "trustedProxies entry") == "10.0.0.0/8");
    CHECK(note(0, "client IP") == "203.0.113.9");
    CHECK(note(2, "header x-proxy-secret") == "present");
    CHECK(note(3, "value") == "mallory@example.com");
    CHECK(note(4, "identity") == "mallory@example.com");
    for (const auto& step : trace.steps)
        for (const auto& n : step.read) CHECK(n.value.find("proxy-shared-secret") == std::string::npos);
}

TEST_CASE("trace: a token is described, never shown; an untrusted peer stops at the first step") {
    attempt_limiter limiter(rate_limit_config{});
    const auto gw = trusted_proxy_gateway::from_config(proxy_config(), &limiter);
    basic_request local(ip("127.0.0.1"));
    local.set_local_proof(local_proof::of(::geteuid()));  // a CLI of the gateway's own user
    local.add("Authorization", "Bearer s3cret-token-value");
    decision_trace trace;
    const auto d = gw.authenticate(local, trace);
    CHECK((d.allowed && d.how == via::token));
    REQUIRE(trace.steps.size() >= 2);
    CHECK(trace.steps[1].decided);
    for (const auto& step : trace.steps)
        for (const auto& n : step.read) CHECK(n.value.find("s3cret") == std::string::npos);

    basic_request outsider(ip("192.0.2.1"));
    outsider.add("X-Forwarded-User", "alice@example.com");
    gw.authenticate(outsider, trace);
    REQUIRE(trace.steps.size() == 1);
    CHECK(trace.steps[0].read.back().value == "none matches");
    CHECK(trace.steps[0].decided->why == reason::trusted_proxy_untrusted_source);
}

TEST_CASE("trace: the untraced path allocates nothing") {
    attempt_limiter limiter(rate_limit_config{});
    const auto gw = trusted_proxy_gateway::from_config(proxy_config(), &limiter);
    basic_request req(ip("10.1.2.3"));
    req.add("X-Forwarded-User", "alice@example.com");
    req.add("X-Proxy-Secret", "x");
    decision d;
    CHECK(allocations_of([&] { d = gw.authenticate(req); }) == 0);
    CHECK(d.allowed);
}

// Hidden: the ctest `metrics_exposition_promtool` runs it and pipes the output to
// `promtool check metrics` (every family, with a sample in each series kind).
TEST_CASE("metrics: print an exposition", "[.exposition]") {
    metrics m;
    for (const auto why : all_reasons) m.count(why == reason::ok, why, why == reason::ok ? via::trusted_proxy : via::none);
    m.observe_request(std::chrono::microseconds(700));
    m.count_reload(true);
    m.set_config_generation(2);
    m.websocket_opened();
    const auto text = m.exposition();
    std::fwrite(text.data(), 1, text.size(), stdout);
}
