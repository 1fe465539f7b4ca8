// The README's composition example, compiled and run. tests/readme_sync.cmake checks
// that README.md shows exactly the lines between the markers.
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
