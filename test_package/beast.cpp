// Consumes trustgate::beast: a Boost.Beast request, seen through a request view, gets the
// same decision as any other request. Boost comes from the component's own dependency
// lookup, not from this project.
#include <trustgate/trustgate.hpp>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <cstdio>
#include <string_view>

namespace http = boost::beast::http;

// The peer comes from the socket, the headers from the parsed message.
struct beast_request_view {
    const http::request<http::empty_body>& message;
    trustgate::net::address peer_address;

    trustgate::net::address peer() const noexcept { return peer_address; }

    template <class Visitor>
    void for_each_header(Visitor&& visit) const {
        for (const auto& field : message)
            visit(std::string_view{field.name_string().data(), field.name_string().size()},
                  std::string_view{field.value().data(), field.value().size()});
    }
};
static_assert(trustgate::request_view<beast_request_view>);

int main() {
    trustgate::auth_config config;
    config.trusted_proxies = {"192.0.2.10"};
    const auto gateway = trustgate::trusted_proxy_gateway::from_config(config);

    http::request<http::empty_body> message{http::verb::get, "/whoami", 11};
    message.set(http::field::host, "gateway.example");
    message.set("X-Forwarded-User", "bob@example.com");
    const beast_request_view request{message, *trustgate::net::address::parse("192.0.2.10")};
    const trustgate::decision d = gateway.authenticate(request);

    std::printf("beast request -> %s %.*s\n", d.allowed ? "allow" : "deny",
                static_cast<int>(d.identity.size()), d.identity.data());
    return d.allowed && d.identity == "bob@example.com" ? 0 : 1;
}
