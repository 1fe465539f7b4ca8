// Shrunk counterexamples the property suite reported, kept as fixed cases. Each names
// the bug that produced it (bugs planted to prove the suite catches them: a flipped
// comparison, a dropped check, steps out of order) and pins docs/behaviour.md outcome: the
// gateway, the reference model and the outcome written here must all agree.
#include <support/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <trustgate/model/reference_model.hpp>
#include <trustgate/testing/impl/compare.hpp>
#include <trustgate/trustgate.hpp>

using namespace trustgate;
using std::chrono::milliseconds;

namespace {

struct expected {
    reason why;
    via how = via::none;
    std::string identity = {};
};

struct step {
    basic_request request;
    expected outcome;
    milliseconds after{0};
};

// A loopback peer is a tool run by this test's own user, as the kernel would say.
basic_request from(const char* peer, std::vector<basic_request::header> headers = {}) {
    basic_request r(*net::address::parse(peer), std::move(headers));
    if (r.peer().is_loopback()) r.set_local_proof(local_proof::of(std::uint32_t(geteuid())));
    return r;
}

basic_request with_proof(basic_request r, local_proof proof) {
    r.set_local_proof(proof);
    return r;
}

auth_config config_trusting(std::vector<std::string> proxies) {
    auth_config c;
    c.trusted_proxies = std::move(proxies);
    return c;
}

// Runs `steps` through the full trusted-proxy gateway (with a limiter on a test clock)
// and through the model.
void require_outcomes(const auth_config& config, const std::vector<step>& steps) {
    milliseconds now{1'000'000'000};
    attempt_limiter limiter(config.rate_limit, [&now] { return attempt_limiter::time_point(now); });
    const auto gw = trusted_proxy_gateway::from_config(config, &limiter);
    model::failed_attempts attempts(config.rate_limit);
    for (const auto& s : steps) {
        now += s.after;
        const auto d = gw.authenticate(s.request);
        const auto m = model::authenticate(model::steps{}, config, s.request, {&attempts, now});
        INFO(testing::detail::describe(d));
        CHECK(testing::detail::difference(d, m).empty());
        CHECK(d.allowed == (s.outcome.why == reason::ok));
        CHECK(d.why == s.outcome.why);
        CHECK(d.how == s.outcome.how);
        CHECK(d.identity == s.outcome.identity);
    }
}

}  // namespace

TEST_CASE("an identity of exactly 256 bytes is valid (flipped length comparison)", "[regression]") {
    auto config = config_trusting({"127.0.0.1", "2001:db8::10"});
    config.trusted_proxy.allow_users = {"alice@example.com"};
    const std::string long_user(256, 'a');
    require_outcomes(config, {{from("2001:db8::10", {{"x-forwarded-user", long_user}}), {reason::trusted_proxy_user_not_allowed}}});
    config.trusted_proxy.allow_users.clear();
    require_outcomes(config, {{from("2001:db8::10", {{"x-forwarded-user", long_user}}), {reason::ok, via::trusted_proxy, long_user}},
                              {from("2001:db8::10", {{"x-forwarded-user", long_user + "a"}}), {reason::trusted_proxy_user_invalid}}});
}

TEST_CASE("a required x-forwarded-* header is forwarded evidence (dropped evidence check)", "[regression]") {
    auto config = config_trusting({"fd00::/8", "127.0.0.1"});
    config.token = "s3cr3t-gateway-token";
    config.trusted_proxy.required_headers = {"x-forwarded-email"};
    config.trusted_proxy.allow_users = {"dave"};
    config.trusted_proxy.loopback_user = "dave";
    require_outcomes(config, {{from("127.0.0.1", {{"x-forwarded-email", "proxy-set"}}), {reason::trusted_proxy_loopback_source}},
                              {from("127.0.0.1"), {reason::ok, via::loopback_user, "dave"}}});
}

TEST_CASE("a local bearer token is compared before loopbackUser applies (step 5.1 after 5.2)", "[regression]") {
    auto config = config_trusting({"10.0.0.0/8", "127.0.0.1"});
    config.token = "s3cr3t-gateway-token";
    config.trusted_proxy.loopback_user = "alice@example.com";
    require_outcomes(config, {{from("127.0.0.1"), {reason::ok, via::loopback_user, "alice@example.com"}},
                              {from("127.0.0.1", {{"authorization", "Bearer s3cr3t-gateway-token"}}), {reason::ok, via::token, "alice@example.com"}},
                              {from("127.0.0.1", {{"authorization", "Bearer guess"}}), {reason::token_mismatch}}});
}

TEST_CASE("a bare local request without allowLoopback is a loopback source (step 3 before step 2)", "[regression]") {
    require_outcomes(config_trusting({"127.0.0.1"}), {{from("127.0.0.1"), {reason::trusted_proxy_loopback_source}}});
    auto config = config_trusting({"127.0.0.1"});
    config.trusted_proxy.allow_loopback = true;
    require_outcomes(config, {{from("127.0.0.1"), {reason::trusted_proxy_user_missing}}});
}

TEST_CASE("a same-host proxy that drops every forwarding header is not a local tool (dropped proof check)", "[regression]") {
    // nginx's `location /ws` with its own proxy_set_header lines: no X-Forwarded-*, Host
    // 127.0.0.1:18789, from 127.0.0.1, but from nginx's worker user, not a local user.
    auto config = config_trusting({"127.0.0.1", "::1"});
    config.trusted_proxy.allow_loopback = true;
    config.trusted_proxy.loopback_user = "operator@localhost";
    const std::uint32_t worker = geteuid() == 33 ? 34 : 33;
    const auto broken = from("127.0.0.1", {{"host", "127.0.0.1:18789"}, {"upgrade", "websocket"}, {"connection", "upgrade"}});
    require_outcomes(config, {{with_proof(broken, local_proof::of(worker)), {reason::trusted_proxy_user_missing}},
                              {with_proof(broken, local_proof::failure()), {reason::trusted_proxy_user_missing}},
                              {with_proof(broken, local_proof{}), {reason::trusted_proxy_user_missing}},
                              {broken, {reason::ok, via::loopback_user, "operator@localhost"}}});
    config.trusted_proxy.local_users = {std::to_string(worker)};
    require_outcomes(config, {{with_proof(broken, local_proof::of(worker)), {reason::ok, via::loopback_user, "operator@localhost"}}});
}

TEST_CASE("x-forwarded-for is walked from the right, across lines (walk from the left)", "[regression]") {
    const auto d = trusted_proxy_gateway::from_config(config_trusting({"10.0.0.0/8"}))
                       .authenticate(from("10.0.0.0", {{"x-forwarded-user", "alice@example.com"},
                                                       {"x-forwarded-for", "127.0.0.1"},
                                                       {"x-forwarded-for", "11.0.0.0"}}));
    CHECK(d.client_ip == *net::address::parse("11.0.0.0"));
    require_outcomes(config_trusting({"10.0.0.0/8"}),
                     {{from("10.0.0.0", {{"x-forwarded-user", "alice@example.com"}, {"x-forwarded-for", "127.0.0.1"}, {"x-forwarded-for", "11.0.0.0"}}),
                       {reason::ok, via::trusted_proxy, "alice@example.com"}}});
}

TEST_CASE("a blank required header is missing (dropped blank check)", "[regression]") {
    auto config = config_trusting({"10.0.0.0/8"});
    config.trusted_proxy.required_headers = {"x-auth-request-user"};
    require_outcomes(config, {{from("10.0.0.0", {{"x-forwarded-user", "alice@example.com"}, {"x-auth-request-user", ""}}),
                               {reason::trusted_proxy_missing_header}}});
}

TEST_CASE("a user header sent twice is ambiguous even when both lines agree (off-by-one line count)", "[regression]") {
    require_outcomes(config_trusting({"10.0.0.0/8"}),
                     {{from("10.0.0.0", {{"x-forwarded-user", "alice@example.com"}, {"x-forwarded-user", "alice@example.com"}}),
                       {reason::trusted_proxy_user_ambiguous}}});
}

TEST_CASE("operator.write satisfies operator.talk (dropped implication)", "[regression]") {
    auto config = config_trusting({"10.0.0.0/8", "127.0.0.1"});
    config.trusted_proxy.loopback_user = "alice@example.com";
    config.scopes.identity_scopes = {{"carol@example.com", {}}, {"operator@localhost", {"operator.write"}}, {"dave", {}}};
    config.scopes.methods = {{"nodes.list", "operator.talk"}};
    const auto gw = trusted_proxy_gateway::from_config(config);
    const auto r = from("10.0.0.0", {{"x-forwarded-user", "operator@localhost"}});
    const auto d = gw.authenticate(r);
    REQUIRE(d.allowed);
    const auto a = gw.authorize(d, "nodes.list", r);
    const auto m = model::authorize(config.scopes, testing::detail::as_outcome(d), "nodes.list", r);
    CHECK(testing::detail::difference(a, m, "nodes.list").empty());
    CHECK(a.allowed);
    CHECK(a.required_scope == "operator.talk");
}

TEST_CASE("port 65535 is a valid local host port, 65536 is not (flipped port comparison)", "[regression]") {
    auto config = config_trusting({"127.0.0.1"});
    config.token = "s3cr3t-gateway-token";
    require_outcomes(config, {{from("127.0.0.1", {{"host", "localhost:65535"}}), {reason::token_missing}},
                              {from("127.0.0.1", {{"host", "localhost:65536"}}), {reason::trusted_proxy_loopback_source}}});
}

TEST_CASE("a Host port with a leading zero is malformed, as in URLs (ports parsed three ways)", "[regression]") {
    // Before one port grammar (detail/uri_text.hpp), the Host check read localhost:00080
    // as port 80 while proxy URLs refused it and x-forwarded-for took any digits.
    auto config = config_trusting({"127.0.0.1"});
    config.token = "s3cr3t-gateway-token";
    require_outcomes(config, {{from("127.0.0.1", {{"host", "localhost:80"}}), {reason::token_missing}},
                              {from("127.0.0.1", {{"host", "localhost:00080"}}), {reason::trusted_proxy_loopback_source}},
                              {from("127.0.0.1", {{"host", "[::1]:0"}}), {reason::trusted_proxy_loopback_source}}});
}

TEST_CASE("a failure exactly one window old no longer counts (window edge)", "[regression]") {
    rate_limit_config config;
    config.max_attempts = 3;
    config.window = milliseconds(1'000);
    config.lockout = milliseconds(500);
    config.exempt_loopback = false;
    milliseconds now{1'000'000};
    attempt_limiter limiter(config, [&now] { return attempt_limiter::time_point(now); });
    model::failed_attempts attempts(config);
    const auto key = *net::address::parse("127.0.0.1");
    for (const auto step : {milliseconds(0), milliseconds(1), milliseconds(999)}) {
        now += step;
        attempts.failure(key, now);
        CHECK(limiter.record_failure(key) == attempts.locked(key, now));
    }
    CHECK_FALSE(limiter.locked(key));
}
