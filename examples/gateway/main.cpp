// trustgate-gateway — the example gateway of SPEC §7 and §9.
//
//   trustgate-gateway [--config FILE] [--check-config] [--print-default-config]
//   trustgate-gateway --explain --peer ADDRESS [--config FILE] [--json] < request
//
// Without --config it serves the embedded default (config_json.hpp). A bad configuration,
// an unresolvable secret included, prints one line `config error: <json.path>: <what was
// expected>` and exits 2. The security audit's findings go to standard error with
// --check-config and onto the audit log (JSON lines, standard error) at start. SIGHUP, or
// a change of the file, reloads it (reloader.hpp). SIGINT/SIGTERM drain and exit 0.
// --explain decides one request read from standard input without serving (explain.hpp):
// exit 0 allow, 1 deny, 2 bad input.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <boost/system/system_error.hpp>

#include "audit_log.hpp"
#include "compiled_config.hpp"
#include "config_json.hpp"
#include "explain.hpp"
#include "reloader.hpp"
#include "service.hpp"
#include "trustgate/beast/server.hpp"
#include "trustgate/beast/tls.hpp"
#include "trustgate/metrics.hpp"

namespace {

using namespace trustgate_gateway;

constexpr std::string_view usage =
    "usage: trustgate-gateway [--config FILE] [--check-config] [--print-default-config]\n"
    "       trustgate-gateway --explain --peer ADDRESS [--config FILE] [--json] < raw-http-request\n";

struct command_line {
    std::optional<std::string> config_file;
    bool check_only = false;
    bool print_default = false;
    bool help = false;
    bool explain = false;
    std::optional<trustgate::net::address> peer;  // --explain: the TCP peer to decide as
    bool json = false;
};

std::optional<command_line> parse_command_line(int argc, char** argv) {
    command_line cli;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--config" && i + 1 < argc) cli.config_file = argv[++i];
        else if (arg.starts_with("--config=")) cli.config_file = std::string(arg.substr(9));
        else if (arg == "--check-config") cli.check_only = true;
        else if (arg == "--print-default-config") cli.print_default = true;
        else if (arg == "--explain") cli.explain = true;
        else if (arg == "--json") cli.json = true;
        else if (arg == "--peer" && i + 1 < argc) {
            cli.peer = trustgate::net::address::parse(argv[++i]);
            if (!cli.peer) return std::nullopt;
        }
        else if (arg == "--help" || arg == "-h") cli.help = true;
        else return std::nullopt;
    }
    if (cli.explain != cli.peer.has_value() || (cli.json && !cli.explain)) return std::nullopt;
    return cli;
}

std::string_view mode_name(trustgate::auth_mode mode) {
    switch (mode) {
        case trustgate::auth_mode::token: return "token";
        case trustgate::auth_mode::none: return "none";
        case trustgate::auth_mode::trusted_proxy: break;
    }
    return "trusted-proxy";
}

// TLS files are part of the configuration: a problem with them is a config error.
std::shared_ptr<boost::asio::ssl::context> load_tls(const tls_settings& tls) {
    if (!tls.enabled) return nullptr;
    try {
        return trustgate::beast::make_tls_context(tls.certificate_chain_file, tls.private_key_file);
    } catch (const trustgate::beast::tls_error& e) {
        const bool certificate = e.which() == trustgate::beast::tls_error::file::certificate_chain;
        throw config_error(certificate ? "gateway.tls.certPath" : "gateway.tls.keyPath",
                           std::string(certificate ? "expected a PEM certificate chain" : "expected the PEM private key of the certificate") +
                               ": " + e.what());
    }
}

std::string url_of(const boost::asio::ip::tcp::endpoint& where, bool tls) {
    const auto host = where.address().is_v6() ? "[" + where.address().to_string() + "]" : where.address().to_string();
    return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(where.port());
}

int serve(const std::shared_ptr<const compiled_config>& config, config_source source,
          std::shared_ptr<boost::asio::ssl::context> tls) {
    const audit_log audit(stderr);
    trustgate::metrics metrics;
    gateway_service service(config, audit, metrics);
    const auto& settings = config->settings;
    detail::log_findings(audit, *config);

    trustgate::beast::server_options options;
    options.bind = settings.bind;
    options.port = settings.port;
    options.threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    options.max_connections = settings.max_connections;
    options.tls = std::move(tls);
    options.decorate = [&service](http::response_header<>& header) { service.decorate(header); };
    const bool secure = options.tls != nullptr;
    const std::string where = settings.bind.to_string() + " port " + std::to_string(settings.port);
    try {
        trustgate::beast::server server(std::move(options), [&service](const incoming& request) { return service(request); });
        // Reloads are caught before anyone can learn the port and send SIGHUP.
        config_reloader reloader(std::move(source), service, audit);
        server.on_signal(SIGHUP, [&reloader] { reloader.request(); });
        server.on_drain([&audit] { audit.write("draining", log_line::object()); });
        const auto url = url_of(server.local_endpoint(), secure);
        audit.write("listening", {{"message", "listening on " + url}, {"url", url}, {"mode", std::string(mode_name(settings.auth.mode))}});
        server.run();
    } catch (const boost::system::system_error& e) {
        audit.write("error", {{"message", "cannot listen on " + where + ": " + e.code().message()}});
        return 1;
    }
    audit.write("stopped", log_line::object());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const auto cli = parse_command_line(argc, argv);
    if (!cli || cli->help) {
        std::fputs(usage.data(), cli ? stdout : stderr);
        return cli ? 0 : 2;
    }
    if (cli->print_default) {
        std::fwrite(default_config_text.data(), 1, default_config_text.size(), stdout);
        return 0;
    }

    auto source = cli->config_file ? config_source::file(*cli->config_file) : config_source::embedded();
    std::shared_ptr<const compiled_config> config;
    std::shared_ptr<boost::asio::ssl::context> tls;
    try {
        auto settings = source.read();
        tls = load_tls(settings.tls);
        config = load(std::move(settings));
    } catch (const config_error& e) {
        std::fprintf(stderr, "config error: %s\n", e.what());
        return 2;
    }
    if (cli->explain) {
        std::string raw((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        return explain(*config, *cli->peer, std::move(raw), cli->json, stdout, stderr);
    }
    if (cli->check_only) {
        std::printf("config ok: %s mode, %s port %u\n", mode_name(config->settings.auth.mode).data(),
                    config->settings.bind.to_string().c_str(), unsigned(config->settings.port));
        for (const auto& f : config->findings) std::fprintf(stderr, "%s\n", format_finding(f).c_str());
        return 0;
    }
    return serve(config, std::move(source), std::move(tls));
}
