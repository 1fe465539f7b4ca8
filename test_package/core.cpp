// Consumes the core, trustgate::trustgate: a trusted-proxy gateway believes the proxy's
// user header and nobody else's, and version.hpp agrees with the installed package.
// Built with TRUSTGATE_EXPECTED_VERSION set from the package (CMake or pkg-config).
#include <trustgate/trustgate.hpp>

#include <cstdio>
#include <string_view>

int main() {
    trustgate::auth_config config;
    config.trusted_proxies = {"10.0.0.0/8"};
    config.trusted_proxy.allow_users = {"alice@example.com"};
    const auto gateway = trustgate::trusted_proxy_gateway::from_config(config);

    trustgate::basic_request via_proxy(*trustgate::net::address::parse("10.1.2.3"));
    via_proxy.add("X-Forwarded-User", "alice@example.com");
    const trustgate::decision believed = gateway.authenticate(via_proxy);

    trustgate::basic_request spoofed(*trustgate::net::address::parse("203.0.113.7"));
    spoofed.add("X-Forwarded-User", "alice@example.com");
    const trustgate::decision refused = gateway.authenticate(spoofed);

    std::printf("trustgate %s: proxy -> %s %.*s; direct -> %s\n", TRUSTGATE_VERSION_STRING,
                believed.allowed ? "allow" : "deny", static_cast<int>(believed.identity.size()),
                believed.identity.data(), trustgate::to_string(refused.why).data());

    const bool ok = believed.allowed && believed.identity == "alice@example.com" &&
                    believed.how == trustgate::via::trusted_proxy && !refused.allowed &&
                    refused.why == trustgate::reason::trusted_proxy_untrusted_source &&
                    std::string_view{TRUSTGATE_VERSION_STRING} == TRUSTGATE_EXPECTED_VERSION;
    if (!ok) std::puts("unexpected: see the line above (expected version " TRUSTGATE_EXPECTED_VERSION ")");
    return ok ? 0 : 1;
}
