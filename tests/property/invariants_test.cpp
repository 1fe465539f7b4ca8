// behaviour §8.1-§8.8 and §8.11, each its own property, for the presets and partial compositions; a
// composition that breaks them is caught; behaviour §6's limiter as a state machine.
#include <support/catch.hpp>

#include <rapidcheck/state.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <trustgate/model/reference_model.hpp>
#include <trustgate/testing/checks.hpp>
#include <trustgate/trustgate.hpp>

#include "support/property_suite.hpp"

using namespace trustgate;
using trustgate_tests::require_passed;
using trustgate_tests::suite_options;

TEST_CASE("the full trusted-proxy gateway holds every invariant", "[invariants]") {
    const auto properties = testing::invariant_properties<trusted_proxy_gateway>();
    REQUIRE(properties.size() == 9);
    require_passed(testing::run_properties(properties, suite_options(10'000)));
}

TEST_CASE("the certificate-checking gateway holds every invariant", "[invariants]") {
    require_passed(testing::check_invariants<trusted_proxy_certificate_gateway>(suite_options(5'000)));
}

TEST_CASE("token mode, none mode and partial compositions hold every invariant", "[invariants]") {
    using no_loopback = gateway<trusted_source, required_headers, proxy_identity, allow_users, scopes<>>;
    using token_behind_proxy = gateway<trusted_source, bearer_token, allow_users>;
    const auto options = suite_options(1'000);
    require_passed(testing::check_invariants<token_gateway>(options));
    require_passed(testing::check_invariants<open_gateway>(options));
    require_passed(testing::check_invariants<no_loopback>(options));
    require_passed(testing::check_invariants<token_behind_proxy>(options));
}

// The checks must be able to fail: a gateway that believes the user header from anyone
// breaks §8.3, and one that ignores the configured requiredHeaders breaks §8.4.
TEST_CASE("the invariant checks catch unsafe compositions", "[invariants]") {
    const auto options = suite_options(1'000);
    std::cerr << "(the next two checks are expected to fail)\n";

    using header_from_anyone = gateway<proxy_identity, scopes<>>;
    const auto anyone = testing::check_invariants<header_from_anyone>(options);
    CHECK(std::count_if(anyone.failed.begin(), anyone.failed.end(), [](const std::string& n) { return n.find("§8.3") != std::string::npos; }) == 1);

    using ignores_required_headers = gateway<trusted_source, loopback_policy, proxy_identity, allow_users, scopes<>>;
    auto with_required = options;
    with_required.configure = [](auth_config& c) { c.trusted_proxy.required_headers.push_back("x-proxy-secret"); };
    const auto ignoring = testing::check_invariants<ignores_required_headers>(with_required);
    CHECK(std::count_if(ignoring.failed.begin(), ignoring.failed.end(), [](const std::string& n) { return n.find("§8.4") != std::string::npos; }) == 1);
}

// §8.11: the full gateway without proxy_certificate ignores a configured clientCertificate,
// so a connection without the proxy's certificate gets through.
TEST_CASE("the invariant checks catch a composition that ignores the proxy certificate", "[invariants]") {
    std::cerr << "(the next check is expected to fail)\n";
    auto options = suite_options(1'000);
    options.configure = [](auth_config& c) { c.trusted_proxy.client_certificate = client_certificate_config{{"front-proxy.example.internal"}}; };
    const auto result = testing::check_invariants<trusted_proxy_gateway>(options);
    CHECK(std::count_if(result.failed.begin(), result.failed.end(), [](const std::string& n) { return n.find("§8.11") != std::string::npos; }) == 1);
}

// A local stage that believes headers alone, as trustgate did before the local process
// proof: §8.2 in its new form catches it (a loopback peer without a proof in localUsers
// gets loopbackUser).
namespace {
struct trusts_headers_alone {
    static constexpr trustgate::stage stage = trustgate::stage::local;
    static constexpr std::string_view name = "trusts_headers_alone";
    static constexpr std::array<reason, 0> reasons{};
    template <class Context>
    static trusts_headers_alone from_config(const auth_config&, const Context&) {
        return {};
    }
    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        if (facts.direct_local() && !facts.user_present) return decision::allow(via::loopback_user, "operator@localhost", name);
        return next_policy;
    }
};
}  // namespace

TEST_CASE("the invariant checks catch a local stage that ignores the local process proof", "[invariants]") {
    std::cerr << "(the next check is expected to fail)\n";
    using unproven = gateway<trusted_source, trusts_headers_alone, proxy_identity, scopes<>>;
    const auto result = testing::check_invariants<unproven>(suite_options(1'000));
    CHECK(std::count_if(result.failed.begin(), result.failed.end(), [](const std::string& n) { return n.find("§8.2") != std::string::npos; }) == 1);
    // It never denies and does not say so: the coverage asks for requests it refuses.
    CHECK(std::count_if(result.failed.begin(), result.failed.end(), [](const std::string& n) {
              return n.starts_with("coverage: policy trusts_headers_alone ") && n.find("it denied no generated request") != std::string::npos;
          }) == 1);
}

// Coverage (issue 13 item 6): a policy of the deployment's own that reads a header the
// generators do not send by default. The proxy names the tenant in x-tenant; only acme's
// requests get in.
namespace {
struct acme_tenant_only {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "acme_tenant_only";
    static constexpr reason tenant_not_allowed{"tenant_not_allowed"};
    static constexpr std::array reasons{tenant_not_allowed};
    static constexpr std::array headers{std::string_view{"x-tenant"}};
    template <class Context>
    static acme_tenant_only from_config(const auth_config&, const Context&) {
        return {};
    }
    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        if (facts.header_lines("x-tenant") == 1 && facts.header("x-tenant") == "acme") return next_policy;
        return decision::deny(tenant_not_allowed, name);
    }
};

using tenant_gateway = gateway<trusted_source, loopback_policy, proxy_identity, acme_tenant_only, scopes<>>;

const testing::policy_coverage& coverage_of(const testing::check_result& result, std::string_view policy) {
    const auto it = std::find_if(result.coverage.begin(), result.coverage.end(), [&](const auto& p) { return p.policy == policy; });
    REQUIRE(it != result.coverage.end());
    return *it;
}
}  // namespace

TEST_CASE("a check fails, naming the policy and the pools to add, when generated requests never satisfy a custom policy",
          "[invariants]") {
    const auto options = suite_options(500, true);
    std::cerr << "(the next check is expected to fail: no header pool for x-tenant)\n";
    const auto without = testing::check_invariants<tenant_gateway>(options);
    // Every invariant holds (the policy only refuses); the check fails on coverage alone.
    REQUIRE(without.failed.size() == 1);
    const auto& gap = without.failed.front();
    INFO(gap);
    CHECK(gap.starts_with("coverage: policy acme_tenant_only (0 allowed, 0 passed on, "));
    CHECK(gap.find("it let no generated request through") != std::string::npos);
    CHECK(gap.find("options.header_pools.push_back({\"<header it reads>\"") != std::string::npos);
    CHECK(coverage_of(without, "acme_tenant_only").denied > 0);
    // scopes<> decides methods, not requests: not counted.
    CHECK(std::none_of(without.coverage.begin(), without.coverage.end(), [](const auto& p) { return p.policy == "scopes"; }));

    auto with_pool = options;
    with_pool.header_pools.push_back({"x-tenant", {"acme", "globex", "Acme"}});
    const auto with = testing::check_invariants<tenant_gateway>(with_pool);
    require_passed(with);
    const auto& tenant = coverage_of(with, "acme_tenant_only");
    CHECK(tenant.passed_on > 0);
    CHECK(tenant.denied > 0);
    for (const auto& p : with.coverage) CHECK(p.reached_both_ways());
}

TEST_CASE("coverage names a policy no request reached, and counts each traced step", "[invariants]") {
    auto covered = testing::coverage::of<tenant_gateway>();
    REQUIRE(covered.policies().size() == 4);
    auth_config config;
    config.trusted_proxies = {"10.0.0.1"};
    const auto gw = tenant_gateway::from_config(config);
    decision_trace trace;
    (void)gw.authenticate(basic_request(*net::address::parse("203.0.113.7"), {{"x-tenant", "acme"}}), trace);
    covered.record(trace);
    const auto& trusted = covered.policies().front();
    CHECK(trusted.policy == "trusted_source");
    CHECK(trusted.denied == 1);
    CHECK(trusted.passed_on + trusted.allowed == 0);
    const auto gaps = covered.gaps();
    REQUIRE(gaps.size() == 4);
    CHECK(gaps[0].starts_with("coverage: policy trusted_source (0 allowed, 0 passed on, 1 denied): it let no generated request through"));
    CHECK(gaps[3].starts_with("coverage: policy acme_tenant_only (0 allowed, 0 passed on, 0 denied): no generated request reached it"));
}

// behaviour §6 as a state machine: the library's attempt_limiter, on an injected clock,
// against the model's failed_attempts, over random sequences of failures, successes,
// queries and clock steps on a few keys.
namespace {

using std::chrono::milliseconds;

struct limiter_model {
    model::failed_attempts attempts;
    rate_limit_config config;
    milliseconds now{1'000'000};
};

struct limiter_under_test {
    milliseconds now{1'000'000};
    attempt_limiter limiter;

    explicit limiter_under_test(const rate_limit_config& config)
        : limiter(config, [this] { return attempt_limiter::time_point(now); }) {}
};

using limiter_command = rc::state::Command<limiter_model, limiter_under_test>;

// Clients: IPv4, IPv6 addresses inside one /64 and in its neighbours (the key is the
// network, behaviour §6), loopback.
net::address some_key() {
    return *net::address::parse(testing::detail::one_of<std::string>(
        {"10.0.0.1", "10.0.0.2", "2001:db8::7", "2001:db8::8", "2001:db8::ffff:1", "2001:db8:0:1::7", "2001:db8:0:100::7",
         "127.0.0.1", "::1"}));
}

struct advance_clock : limiter_command {
    milliseconds by;
    explicit advance_clock(const limiter_model& m)
        : by(testing::detail::one_of<milliseconds>({milliseconds(1), milliseconds(999), m.config.window - milliseconds(1), m.config.window,
                                                    m.config.lockout - milliseconds(1), m.config.lockout,
                                                    milliseconds(*rc::gen::resize(100, rc::gen::inRange(0, 400'000)))})) {}
    void apply(limiter_model& m) const override { m.now += by; }
    void run(const limiter_model&, limiter_under_test& s) const override { s.now += by; }
    void show(std::ostream& os) const override { os << "advance " << by.count() << "ms"; }
};

std::string lock_state(const std::optional<std::chrono::seconds>& left) {
    return left ? "locked for " + std::to_string(left->count()) + "s" : "not locked";
}

// A failed compare; the gateway asks `locked` first and never counts a locked key.
struct record_failure : limiter_command {
    net::address key = some_key();
    void checkPreconditions(const limiter_model& m) const override { RC_PRE(!m.attempts.locked(key, m.now)); }
    void apply(limiter_model& m) const override { m.attempts.failure(key, m.now); }
    void run(const limiter_model& m, limiter_under_test& s) const override {
        auto after = m;
        apply(after);
        RC_ASSERT(lock_state(s.limiter.record_failure(key)) == lock_state(after.attempts.locked(key, after.now)));
    }
    void show(std::ostream& os) const override { os << "failure " << key.to_string(); }
};

struct record_success : limiter_command {
    net::address key = some_key();
    void checkPreconditions(const limiter_model& m) const override { RC_PRE(!m.attempts.locked(key, m.now)); }
    void apply(limiter_model& m) const override { m.attempts.success(key); }
    void run(const limiter_model&, limiter_under_test& s) const override { s.limiter.record_success(key); }
    void show(std::ostream& os) const override { os << "success " << key.to_string(); }
};

struct ask_locked : limiter_command {
    net::address key = some_key();
    void run(const limiter_model& m, limiter_under_test& s) const override {
        RC_ASSERT(lock_state(s.limiter.locked(key)) == lock_state(m.attempts.locked(key, m.now)));
    }
    void show(std::ostream& os) const override { os << "locked? " << key.to_string(); }
};

}  // namespace

TEST_CASE("attempt_limiter behaves as behaviour §6's model on an injected clock", "[stateful]") {
    const testing::property stateful{"behaviour §6: attempt_limiter follows the failed-attempts model", [] {
        rate_limit_config config;
        config.max_attempts = testing::detail::one_of<unsigned>({1, 2, 3, 4});
        config.window = milliseconds(testing::detail::one_of<int>({1'000, 60'000}));
        config.lockout = milliseconds(testing::detail::one_of<int>({500, 1'500, 300'000}));
        config.exempt_loopback = testing::detail::chance(1, 2);
        config.max_keys = 1'024;  // no evictions among a few keys: the model has none
        config.ipv6_prefix_length = testing::detail::one_of<unsigned>({64, 128, 56, 32});
        config.global_max_attempts = testing::detail::one_of<unsigned>({0, 0, 2, 3, 5});
        RC_LOG() << "max_attempts " << config.max_attempts << ", window " << config.window.count() << "ms, lockout "
                 << config.lockout.count() << "ms, exempt_loopback " << config.exempt_loopback << ", ipv6_prefix_length "
                 << config.ipv6_prefix_length << ", global_max_attempts " << config.global_max_attempts << "\n";
        limiter_under_test sut(config);
        rc::state::check(limiter_model{model::failed_attempts(config), config}, sut,
                         rc::state::gen::execOneOfWithArgs<advance_clock, record_failure, record_success, ask_locked>());
    }};
    require_passed(testing::run_properties({stateful}, suite_options(2'000)));
}
