// Consumes trustgate::testing: RapidCheck reaches this program only through the
// component. The property is SPEC §8 invariant 3: whatever user header an untrusted
// peer sends, it is never allowed.
#include <trustgate/trustgate.hpp>

#include <rapidcheck.h>

#include <array>
#include <cstdint>
#include <string>

int main() {
    trustgate::auth_config config;
    config.trusted_proxies = {"10.0.0.0/8"};
    const auto gateway = trustgate::trusted_proxy_gateway::from_config(config);

    const bool held = rc::check("an untrusted peer is never allowed", [&](std::array<std::uint8_t, 4> peer,
                                                                          const std::string& user) {
        RC_PRE(peer[0] != 10);
        trustgate::basic_request request(trustgate::net::address::from_v4_bytes(peer));
        request.add("x-forwarded-user", user);
        RC_ASSERT(!gateway.authenticate(request).allowed);
    });
    return held ? 0 : 1;
}
