// The README's composition and custom-policy examples, compiled and run.
// tests/readme_sync.cmake checks that README.md shows exactly the lines between each pair
// of markers.
#include <support/catch.hpp>

// readme-example-begin
#include <trustgate/trustgate.hpp>

// Only the proxy may speak; it must prove the request passed through it; the user it
// vouches for must be one of ours. No loopback fallback: local tools go through the proxy.
using my_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::required_headers,
                                      trustgate::proxy_identity, trustgate::allow_users>;

my_gateway make_gateway() {
    trustgate::auth_config config;
    config.trusted_proxies = {"10.0.0.0/8", "fd00::/8"};
    config.trusted_proxy.user_header = "x-auth-request-email";
    config.trusted_proxy.required_headers = {"x-auth-request-user"};
    config.trusted_proxy.allow_users = {"alice@example.com", "bob@example.com"};
    return my_gateway::from_config(config);  // throws trustgate::config_error naming the JSON path
}
// readme-example-end

TEST_CASE("the README composition example decides as the README says") {
    const auto gw = make_gateway();
    trustgate::basic_request request(*trustgate::net::address::parse("10.1.2.3"));
    request.add("X-Auth-Request-User", "alice").add("X-Auth-Request-Email", "alice@example.com");
    const trustgate::decision d = gw.authenticate(request);
    CHECK(d.allowed);
    CHECK(d.identity == "alice@example.com");
    CHECK(trustgate::to_string(d.how) == "trusted-proxy");

    trustgate::basic_request local(*trustgate::net::address::parse("127.0.0.1"));
    const auto denied = gw.authenticate(local);
    CHECK(trustgate::to_string(denied.why) == "trusted_proxy_untrusted_source");
    CHECK(denied.policy == "trusted_source");
}

// readme-example-begin
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include <trustgate/trustgate.hpp>

// One gateway per tenant: the proxy tags each request with the tenant it authenticated
// for, and this gateway serves one of them.
class tenant_check {
public:
    static constexpr trustgate::stage stage = trustgate::stage::vet;  // after the identity
    static constexpr std::string_view name = "tenant_check";          // in decision::policy
    static constexpr trustgate::reason tenant_not_allowed{"tenant_not_allowed"};
    static constexpr std::array reasons{tenant_not_allowed};           // all it can refuse with
    static constexpr std::array headers{std::string_view{"x-tenant"}};  // captured by the scan

    explicit tenant_check(std::string tenant) : tenant_(std::move(tenant)) {}

    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts& facts, const R&) const {
        if (facts.header_lines("x-tenant") == 1 && facts.header("x-tenant") == tenant_)
            return trustgate::next_policy;
        return trustgate::decision::deny(tenant_not_allowed, name, "x-tenant");
    }

private:
    std::string tenant_;
};

using tenant_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, tenant_check>;

tenant_gateway make_tenant_gateway(std::string tenant) {
    trustgate::auth_config config;
    config.trusted_proxies = {"10.0.0.0/8"};
    config.trusted_proxy.user_header = "x-auth-request-email";
    const trustgate::build_context context;
    return tenant_gateway(trustgate::trusted_source::from_config(config, context),
                          trustgate::proxy_identity::from_config(config, context), tenant_check(std::move(tenant)));
}
// readme-example-end

TEST_CASE("the README custom policy refuses other tenants with its own reason code") {
    const auto gw = make_tenant_gateway("acme");
    const auto proxy = *trustgate::net::address::parse("10.1.2.3");
    trustgate::basic_request ours(proxy);
    ours.add("X-Auth-Request-Email", "alice@example.com").add("X-Tenant", " acme ");
    const auto allowed = gw.authenticate(ours);
    CHECK(allowed.allowed);
    CHECK(allowed.identity == "alice@example.com");

    trustgate::basic_request theirs(proxy);
    theirs.add("X-Auth-Request-Email", "alice@example.com").add("x-tenant", "globex");
    const auto refused = gw.authenticate(theirs);
    CHECK_FALSE(refused.allowed);
    CHECK(refused.why == tenant_check::tenant_not_allowed);
    CHECK(trustgate::to_string(refused.why) == "tenant_not_allowed");
    CHECK(refused.policy == "tenant_check");
    CHECK(refused.detail == "x-tenant");

    // Absent, or twice (one of them ours): refused too.
    trustgate::basic_request untagged(proxy);
    untagged.add("X-Auth-Request-Email", "alice@example.com");
    CHECK(gw.authenticate(untagged).why == tenant_check::tenant_not_allowed);
    trustgate::basic_request twice(proxy);
    twice.add("X-Auth-Request-Email", "alice@example.com").add("x-tenant", "acme").add("X-TENANT", "globex");
    CHECK(gw.authenticate(twice).why == tenant_check::tenant_not_allowed);

    // The built-in policies still decide before it.
    trustgate::basic_request outsider(*trustgate::net::address::parse("192.0.2.1"));
    outsider.add("X-Auth-Request-Email", "alice@example.com").add("x-tenant", "acme");
    CHECK(gw.authenticate(outsider).why == trustgate::reason::trusted_proxy_untrusted_source);
}

TEST_CASE("the README custom policy's gateway lists its reason code and its header") {
    using trustgate::reason;
    constexpr std::array expected{reason::ok,
                                  reason::trusted_proxy_untrusted_source,
                                  reason::trusted_proxy_user_missing,
                                  reason::trusted_proxy_user_ambiguous,
                                  reason::trusted_proxy_user_invalid,
                                  reason::trusted_proxy_user_mismatch,
                                  tenant_check::tenant_not_allowed};
    STATIC_REQUIRE(tenant_gateway::reasons == expected);
    STATIC_REQUIRE(tenant_gateway::headers == std::array{std::string_view{"x-tenant"}});
    STATIC_REQUIRE(trustgate::policy<tenant_check>);
}
