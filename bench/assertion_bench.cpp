// Cost of behaviour §10's signed assertions: the first verification of a token per algorithm
// (a signature check), and a repeat of the same token (a verified-token cache hit)
// through the whole trusted-proxy decision, next to the same decision without an
// assertion. Exits non-zero if a cached decision allocated.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <unistd.h>

#include <trustgate/assertion/proxy_assertion.hpp>
#include <trustgate/presets.hpp>

#include "support/counting_new.hpp"
#include "support/jose_signer.hpp"

namespace {
std::atomic<std::size_t> allocating_benchmarks{0};
}  // namespace


namespace {

using namespace trustgate;
using trustgate_test::key_kind;
using trustgate_test::signing_key;

std::int64_t now() { return assertion::system_seconds(); }

nlohmann::json pomerium_claims(const std::string& email) {
    // The claims Pomerium puts in X-Pomerium-Jwt-Assertion.
    return {{"iss", "authenticate.example.com"}, {"aud", "gateway.example.com"}, {"exp", now() + 3600},
            {"iat", now()}, {"nbf", now()}, {"sub", "f1e2d3c4-b5a6-4978-8899-aabbccddeeff"},
            {"user", "f1e2d3c4-b5a6-4978-8899-aabbccddeeff"}, {"email", email},
            {"groups", {"engineering", "oncall"}}, {"sid", "b7c1a2f0-9d8e-4c3b-a1f2-e3d4c5b6a7f8"},
            {"jti", "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"}};
}

const signing_key& key_for(assertion::algorithm a) {
    static const signing_key rsa(key_kind::rsa, "rsa"), p256(key_kind::p256, "p256"), p384(key_kind::p384, "p384"),
        ed(key_kind::ed25519, "ed");
    switch (assertion::key_type_for(a)) {
        case assertion::key_type::rsa: return rsa;
        case assertion::key_type::ec_p256: return p256;
        case assertion::key_type::ec_p384: return p384;
        case assertion::key_type::ed25519: return ed;
    }
    return rsa;
}

// First verification: the uncached check, signature and claims, per algorithm.
void first_verification(benchmark::State& state) {
    const auto a = assertion::all_algorithms[state.range(0)];
    state.SetLabel(std::string(to_string(a)));
    const auto& key = key_for(a);
    const auto keys = assertion::parse_jwks(trustgate_test::jwks_of({key.jwk()}));
    assertion::rules r;
    r.issuer = "authenticate.example.com";
    r.audiences = {"gateway.example.com"};
    r.algorithms = assertion::bit(a);
    const auto token = trustgate_test::make_token(key, to_string(a), pomerium_claims("user42@example.com"));
    const auto at = now();
    if (assertion::check_token(token, keys, r, at).why != assertion::failure::none) return state.SkipWithError("not verified");
    for (auto _ : state) {
        auto checked = assertion::check_token(token, keys, r, at);
        benchmark::DoNotOptimize(checked);
    }
}

auth_config pomerium_config(const std::string& jwks_file) {
    auth_config c;
    c.trusted_proxies = {"127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"};
    c.trusted_proxy.user_header = "x-pomerium-claim-email";
    c.trusted_proxy.required_headers = {"x-pomerium-claim-user"};
    for (int i = 0; i < 50; ++i) c.trusted_proxy.allow_users.push_back("user" + std::to_string(i) + "@example.com");
    for (int i = 0; i < 20; ++i) c.scopes.identity_scopes.push_back({"user" + std::to_string(i) + "@example.com", {"operator.write"}});
    assertion_config a;
    a.preset = "pomerium";
    a.jwks_file = jwks_file;
    a.issuer = "authenticate.example.com";
    a.audience = {"gateway.example.com"};
    c.trusted_proxy.assertion = a;
    return c;
}

// What Pomerium forwards for a signed-in user.
basic_request pomerium_request(const std::string& token, bool with_assertion) {
    basic_request r(*net::address::parse("10.0.3.7"));
    r.add("Host", "gateway.example.com")
        .add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
        .add("Accept", "application/json")
        .add("X-Forwarded-For", "203.0.113.50")
        .add("X-Forwarded-Proto", "https")
        .add("X-Pomerium-Claim-User", "f1e2d3c4-b5a6-4978-8899-aabbccddeeff")
        .add("X-Pomerium-Claim-Email", "user42@example.com");
    if (with_assertion) r.add("X-Pomerium-Jwt-Assertion", token);
    return r;
}

std::string jwks_file() {
    static const std::string path = [] {
        char name[] = "/tmp/trustgate-bench-jwks-XXXXXX";
        ::close(::mkstemp(name));
        std::ofstream(name) << trustgate_test::jwks_of({key_for(assertion::algorithm::es256).jwk()});
        return std::string(name);
    }();
    return path;
}

template <class Gateway>
void run_decisions(benchmark::State& state, const Gateway& gw, const basic_request& request) {
    if (!gw.authenticate(request).allowed) return state.SkipWithError("not allowed");
    const auto before = trustgate_test::allocations_on_this_thread;
    for (auto _ : state) {
        auto d = gw.authenticate(request);
        benchmark::DoNotOptimize(d);
    }
    const auto allocs = trustgate_test::allocations_on_this_thread - before;
    if (allocs != 0) allocating_benchmarks.fetch_add(1);
    state.counters["allocs/op"] = benchmark::Counter(double(allocs) / double(state.iterations()));
}

// Today's typical decision, on the same request without the assertion header.
void decision_without_assertion(benchmark::State& state) {
    auto c = pomerium_config(jwks_file());
    c.trusted_proxy.assertion.reset();
    run_decisions(state, trusted_proxy_gateway::from_config(c), pomerium_request({}, false));
}

// The same request with a Pomerium-shaped ES256 assertion, verified once, then cached.
void decision_cached_assertion(benchmark::State& state) {
    const auto token = trustgate_test::make_token(key_for(assertion::algorithm::es256), "ES256", pomerium_claims("user42@example.com"));
    state.counters["token_bytes"] = double(token.size());
    run_decisions(state, assertion::trusted_proxy_assertion_gateway::from_config(pomerium_config(jwks_file())),
                  pomerium_request(token, true));
}

}  // namespace

BENCHMARK(first_verification)->DenseRange(0, 8);
BENCHMARK(decision_without_assertion);
BENCHMARK(decision_cached_assertion);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::remove(jwks_file().c_str());
    if (allocating_benchmarks.load() != 0) {
        std::fprintf(stderr, "FAIL: %zu decision benchmark(s) allocated\n", allocating_benchmarks.load());
        return 1;
    }
    return 0;
}
