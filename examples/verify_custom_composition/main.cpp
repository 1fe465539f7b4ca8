// Verify your own composition: a gateway for a deployment where local tools go through
// the proxy like everyone else (no loopback fallback) and the proxy always sets
// `x-proxy-secret`, checked against trustgate's reference model and behaviour §8's invariants.
//
// Exits 0 when every property holds; otherwise prints the failing property with a shrunk
// counterexample (configuration and requests) and exits 1. RC_PARAMS tunes the run, e.g.
// RC_PARAMS="max_success=10000" or RC_PARAMS="seed=42". README.md shows this file
// between the markers (a test keeps the two in sync).
// readme-example-begin
#include <trustgate/testing/checks.hpp>
#include <trustgate/trustgate.hpp>

// Local tools go through the proxy like everyone else: no loopback_policy.
using strict_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::required_headers,
                                          trustgate::proxy_identity, trustgate::allow_users, trustgate::scopes<>>;

int main() {
    trustgate::testing::check_options options;
    options.configure = [](trustgate::auth_config& config) {
        config.trusted_proxy.required_headers.push_back("x-proxy-secret");  // our proxy always sets it
    };
    const auto agrees = trustgate::testing::check_against_model<strict_gateway>(options);
    const auto holds = trustgate::testing::check_invariants<strict_gateway>(options);
    return agrees && holds ? 0 : 1;
}
// readme-example-end
