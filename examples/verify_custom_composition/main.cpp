// Verify your own composition: a gateway for a deployment where local tools go through
// the proxy like everyone else (no loopback fallback) and the proxy always sets
// `x-proxy-secret`, checked against trustgate's reference model and behaviour §8's
// invariants; then the same with a policy of the deployment's own, whose header the
// generated requests carry from a header pool.
//
// Exits 0 when every property holds and every policy was reached both ways; otherwise
// prints the failing property with a shrunk counterexample (configuration and requests),
// or the policy and the pools to add, and exits 1. RC_PARAMS tunes the run, e.g.
// RC_PARAMS="max_success=10000" or RC_PARAMS="seed=42". README.md shows this file
// between the markers (a test keeps the two in sync).
// readme-example-begin
#include <array>
#include <string_view>

#include <trustgate/testing/checks.hpp>
#include <trustgate/trustgate.hpp>

// Local tools go through the proxy like everyone else: no loopback_policy.
using strict_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::required_headers,
                                          trustgate::proxy_identity, trustgate::allow_users, trustgate::scopes<>>;

// A policy of our own: the proxy names the tenant in x-tenant, and only acme's users get in.
struct acme_only {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "acme_only";
    static constexpr trustgate::reason tenant_not_allowed{"tenant_not_allowed"};
    static constexpr std::array reasons{tenant_not_allowed};
    static constexpr std::array headers{std::string_view{"x-tenant"}};  // captured by the gateway's scan
    template <class Context>
    static acme_only from_config(const trustgate::auth_config&, const Context&) { return {}; }
    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts& facts, const R&) const {
        if (facts.header_lines("x-tenant") == 1 && facts.header("x-tenant") == "acme") return trustgate::next_policy;
        return trustgate::decision::deny(tenant_not_allowed, name);
    }
};
using tenant_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::required_headers,
                                          trustgate::proxy_identity, trustgate::allow_users, acme_only, trustgate::scopes<>>;

int main() {
    trustgate::testing::check_options options;
    options.cases = 1000;  // per property: enough requests to reach every policy both ways
    options.configure = [](trustgate::auth_config& config) {
        config.trusted_proxy.required_headers.push_back("x-proxy-secret");  // our proxy always sets it
    };
    // What acme_only reads: without it no generated request would get past acme_only, and
    // the check would fail saying so.
    options.header_pools.push_back({"x-tenant", {"acme", "globex", "ACME"}});
    const auto agrees = trustgate::testing::check_against_model<strict_gateway>(options);
    const auto holds = trustgate::testing::check_invariants<tenant_gateway>(options);
    return agrees && holds ? 0 : 1;
}
// readme-example-end
