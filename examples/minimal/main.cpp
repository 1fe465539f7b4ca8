// A complete custom gateway. Behind a reverse proxy on this host that sets
// X-Forwarded-User, local tools (which cannot) get in as operator@localhost.
//   ./trustgate-minimal [port]      then: curl http://127.0.0.1:8080/   or   curl -d hi ...
#include <iostream>
#include <string>

#include <trustgate/beast/server.hpp>
#include <trustgate/presets.hpp>

namespace tb = trustgate::beast;

int main(int argc, char** argv) {
    trustgate::auth_config config;
    config.trusted_proxies = {"127.0.0.1", "::1"};
    config.trusted_proxy.allow_loopback = true;  // the proxy runs on this host
    config.trusted_proxy.loopback_user = "operator@localhost";
    const auto gateway = trustgate::trusted_proxy_gateway::from_config(config);

    tb::server_options options;
    options.port = static_cast<std::uint16_t>(argc > 1 ? std::stoul(argv[1]) : 8080);
    // Runs when the header has arrived: a refused request's body is never read.
    tb::server server(options, [&](const tb::incoming& request) -> tb::reply {
        const auto decision = gateway.authenticate(request);
        if (!decision.allowed)
            return tb::make_response(request, tb::http::status::unauthorized, R"({"error":"unauthorized"})");
        // The decision points into the header, which lives until on_body returns.
        return tb::read_body{[decision](const tb::incoming& with_body, std::string body) {
            return tb::make_response(with_body, tb::http::status::ok,
                                     "hello, " + std::string(decision.identity) + " (" + std::to_string(body.size()) +
                                         " bytes)\n",
                                     "text/plain");
        }};
    });
    std::cerr << "listening on " << server.local_endpoint() << std::endl;
    server.run();  // until SIGINT or SIGTERM
}
