// trustgate-egress — the SSRF classifier and outbound routing from the command line.
//
//   trustgate-egress classify ADDRESS-OR-HOST...         verdict and deciding range
//   trustgate-egress export --format squid|nginx|cidr    the denylist as a proxy policy
//   trustgate-egress fetch URL                           GET an http(s) URL the way the gateway would
//   trustgate-egress websocket URL TEXT                  send TEXT over ws(s), print the reply
//
// Options: --allow-benchmark, --allow-unique-local (classifier), and for fetch and
// websocket: --proxy (route through $TRUSTGATE_PROXY_URL), --proxy-url URL (route
// through URL, as proxy.proxyUrl), --gateway (gateway control plane: a literal loopback
// URL goes direct), --ca-file FILE, --timeout-ms N.
//
// Exit status: 0 allowed / done; 1 blocked or the request failed; 2 bad usage or
// configuration.
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/system_error.hpp>

#include <trustgate/beast/outbound.hpp>
#include <trustgate/config.hpp>
#include <trustgate/net/egress.hpp>
#include <trustgate/net/proxy_settings.hpp>
#include <trustgate/net/ssrf.hpp>
#include <trustgate/net/ssrf_export.hpp>

namespace {

namespace http = boost::beast::http;
namespace tn = trustgate::net;

constexpr int exit_blocked = 1;
constexpr int exit_usage = 2;

constexpr std::string_view usage =
    "usage: trustgate-egress classify [--allow-benchmark] [--allow-unique-local] ADDRESS-OR-HOST...\n"
    "       trustgate-egress export --format squid|nginx|cidr [--allow-benchmark] [--allow-unique-local]\n"
    "       trustgate-egress fetch [OPTIONS] URL\n"
    "       trustgate-egress websocket [OPTIONS] URL TEXT\n"
    "OPTIONS: --proxy | --proxy-url URL, --gateway, --ca-file FILE, --timeout-ms N,\n"
    "         --allow-benchmark, --allow-unique-local\n";

struct usage_error {
    std::string message;
};

struct arguments {
    tn::ssrf_options ssrf;
    std::optional<std::string> format;
    bool proxy = false;
    std::optional<std::string> proxy_url;
    bool gateway = false;
    std::string ca_file;
    std::chrono::milliseconds timeout{10'000};
    std::vector<std::string> positional;
};

arguments parse_arguments(const std::vector<std::string_view>& args) {
    arguments a;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw usage_error{std::string(arg) + " needs a value"};
            return std::string(args[++i]);
        };
        if (arg == "--allow-benchmark") a.ssrf.allow_benchmark = true;
        else if (arg == "--allow-unique-local") a.ssrf.allow_unique_local = true;
        else if (arg == "--format") a.format = value();
        else if (arg == "--proxy") a.proxy = true;
        else if (arg == "--proxy-url") a.proxy_url = value();
        else if (arg == "--gateway") a.gateway = true;
        else if (arg == "--ca-file") a.ca_file = value();
        else if (arg == "--timeout-ms") {
            const auto text = value();
            const auto ms = std::strtol(text.c_str(), nullptr, 10);
            if (ms <= 0 || ms > 600'000) throw usage_error{"--timeout-ms takes 1 to 600000"};
            a.timeout = std::chrono::milliseconds(ms);
        } else if (arg.starts_with("--")) throw usage_error{"unknown option " + std::string(arg)};
        else a.positional.emplace_back(arg);
    }
    return a;
}

int classify(const arguments& a) {
    if (a.positional.empty()) throw usage_error{"classify needs at least one address or host"};
    int status = 0;
    for (const auto& host : a.positional) {
        const auto d = tn::classify_host(host, a.ssrf);
        std::cout << host << ": " << tn::describe(d) << "\n";
        if (d.blocked()) status = exit_blocked;
    }
    return status;
}

int export_policy(const arguments& a) {
    const auto format = tn::parse_policy_format(a.format.value_or(""));
    if (!format) throw usage_error{"export needs --format squid, nginx or cidr"};
    if (!a.positional.empty()) throw usage_error{"export takes no positional arguments"};
    std::cout << tn::export_policy(*format, a.ssrf);
    return 0;
}

trustgate::beast::outbound_client make_client(const arguments& a) {
    trustgate::beast::outbound_options options;
    // --proxy-url plays proxy.proxyUrl, --proxy plays proxy.enabled with the URL from the environment.
    options.proxy = tn::parse_proxy_settings(a.proxy || a.proxy_url.has_value(), a.proxy_url, tn::environment_proxy_url());
    options.ssrf = a.ssrf;
    options.timeout = a.timeout;
    options.tls = trustgate::beast::make_client_tls_context(a.ca_file);
    return trustgate::beast::outbound_client(std::move(options));
}

tn::egress_purpose purpose_of(const arguments& a) {
    return a.gateway ? tn::egress_purpose::gateway_control : tn::egress_purpose::general;
}

// To standard error, so standard output is only what the destination sent.
void print_route(const trustgate::beast::outbound_client& client, const std::string& url, const arguments& a) {
    const auto route = client.plan(url, purpose_of(a));
    std::cerr << "route: " << tn::describe(route, client.options().proxy) << "\n";
}

int fetch(const arguments& a) {
    if (a.positional.size() != 1) throw usage_error{"fetch takes one URL"};
    const auto client = make_client(a);
    const auto& url = a.positional[0];
    print_route(client, url, a);
    const auto response = client.send(url, http::request<http::string_body>{http::verb::get, "/", 11}, purpose_of(a));
    std::cout << response.result_int() << "\n" << response.body();
    return 0;
}

int websocket(const arguments& a) {
    if (a.positional.size() != 2) throw usage_error{"websocket takes a URL and a message"};
    const auto client = make_client(a);
    const auto& url = a.positional[0];
    print_route(client, url, a);
    auto session = client.websocket(url, purpose_of(a));
    session.write(a.positional[1]);
    std::cout << session.read() << "\n";
    session.close();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    try {
        if (args.empty()) throw usage_error{"a command is needed"};
        const auto a = parse_arguments({args.begin() + 1, args.end()});
        if (args[0] == "classify") return classify(a);
        if (args[0] == "export") return export_policy(a);
        if (args[0] == "fetch") return fetch(a);
        if (args[0] == "websocket") return websocket(a);
        throw usage_error{"unknown command " + std::string(args[0])};
    } catch (const usage_error& e) {
        std::cerr << "trustgate-egress: " << e.message << "\n" << usage;
        return exit_usage;
    } catch (const trustgate::config_error& e) {
        std::cerr << "config error: " << e.what() << "\n";
        return exit_usage;
    } catch (const tn::egress_error& e) {
        std::cerr << "trustgate-egress: " << e.what() << "\n";
        return exit_blocked;
    } catch (const boost::system::system_error& e) {
        std::cerr << "trustgate-egress: " << e.what() << "\n";
        return exit_usage;
    }
}
