// Consumes trustgate::beast: a Boost.Beast request seen through trustgate::beast's
// fields_view, with the peer converted from an Asio address, gets the decision any other
// request would. Boost comes from the component's own dependency lookup, not from here.
#include <trustgate/beast/fields_view.hpp>
#include <trustgate/presets.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <cstdio>

namespace http = boost::beast::http;

int main() {
    trustgate::auth_config config;
    config.trusted_proxies = {"192.0.2.10"};
    const auto gateway = trustgate::trusted_proxy_gateway::from_config(config);

    http::request<http::empty_body> request{http::verb::get, "/whoami", 11};
    request.set(http::field::host, "gateway.example");
    request.set("X-Forwarded-User", "bob@example.com");
    // A dual-stack listener reports an IPv4 proxy in its mapped form.
    const auto peer = boost::asio::ip::make_address("::ffff:192.0.2.10");
    const trustgate::decision d = gateway.authenticate(trustgate::beast::fields_view(request, trustgate::beast::to_address(peer)));

    std::printf("beast request from %s -> %s %.*s\n", peer.to_string().c_str(), d.allowed ? "allow" : "deny",
                static_cast<int>(d.identity.size()), d.identity.data());
    return d.allowed && d.identity == "bob@example.com" ? 0 : 1;
}
