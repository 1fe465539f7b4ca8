// Consumes trustgate::runtime: the embedded default configuration read, compiled into a
// gateway (secrets resolved, mode selected) and asked about a request; Boost, OpenSSL and
// nlohmann-json reach this program only through the component.
#include <variant>

#include <trustgate/runtime.hpp>

int main() {
    namespace rt = trustgate::runtime;
    const rt::reloadable_gateway configs(rt::load(rt::parse_config(rt::default_config_text, "<default>")));
    const auto config = configs.current();
    // The same-host proxy the default trusts, naming its user.
    const trustgate::basic_request proxied(*trustgate::net::address::parse("127.0.0.1"),
                                           {{"x-forwarded-user", "alice@example.com"}, {"x-forwarded-for", "198.51.100.7"}});
    const auto d = std::visit([&](const auto& gateway) { return gateway.authenticate(proxied); }, config->gateway);
    return d.allowed && d.identity == "alice@example.com" && config->generation == 1 ? 0 : 1;
}
