// trustgate-gateway — the example gateway of behaviour §7 and §9.
//
//   trustgate-gateway [--config FILE] [--check-config] [--print-default-config]
//   trustgate-gateway --explain --peer ADDRESS [--uid N] [--config FILE] [--json] < request
//
// Without --config it serves the embedded default (trustgate/runtime/config_json.hpp). A bad configuration,
// an unresolvable secret included, prints one line `config error: <json.path>: <what was
// expected>` and exits 2. The security audit's findings go to standard error with
// --check-config and onto the audit log (JSON lines, standard error) at start. SIGHUP, or
// a change of the file, reloads it (trustgate/runtime/reloader.hpp). SIGINT/SIGTERM drain and exit 0. The
// three are caught from the first line of main: a SIGHUP while the gateway starts (an
// exec resolver may take seconds) or drains is ignored with a log line, never the end
// of the process. --explain decides one request read from standard input without
// serving (trustgate/runtime/explain.hpp): exit 0 allow, 1 deny, 2 bad input.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/system_error.hpp>

#include "service.hpp"
#include "trustgate/beast/server.hpp"
#include "trustgate/metrics.hpp"
#include "trustgate/runtime/explain.hpp"
#include "trustgate/runtime/listener.hpp"
#include "trustgate/runtime/start_signals.hpp"
#if TRUSTGATE_GATEWAY_REDIS
#include "trustgate/runtime/redis_connector.hpp"
#endif

namespace {

using namespace trustgate_gateway;

constexpr std::string_view usage =
    "usage: trustgate-gateway [--config FILE] [--check-config] [--print-default-config]\n"
    "       trustgate-gateway --explain --peer ADDRESS [--uid N] [--config FILE] [--json] < raw-http-request\n";

struct command_line {
    std::optional<std::string> config_file;
    bool check_only = false;
    bool print_default = false;
    bool help = false;
    bool explain = false;
    std::optional<trustgate::net::address> peer;  // --explain: the TCP peer to decide as
    trustgate::local_proof proof;                 // --explain --uid: the peer process's user
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
        else if (arg == "--uid" && i + 1 < argc) {
            const std::string_view text = argv[++i];
            std::uint32_t uid = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
            if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
            cli.proof = trustgate::local_proof::of(uid);
        }
        else if (arg == "--peer" && i + 1 < argc) {
            cli.peer = trustgate::net::address::parse(argv[++i]);
            if (!cli.peer) return std::nullopt;
        }
        else if (arg == "--help" || arg == "-h") cli.help = true;
        else return std::nullopt;
    }
    if (cli.explain != cli.peer.has_value() || ((cli.json || cli.proof.found()) && !cli.explain)) return std::nullopt;
    return cli;
}

log_line ignored_reload(std::string_view why) {
    return {{"signal", "SIGHUP"}, {"result", "ignored"}, {"message", "reload ignored: " + std::string(why)}};
}

// gateway.auth.rateLimit.store {"type": "redis"} needs the trustgate::redis component.
std::shared_ptr<const store_connector> store_connector_for(const audit_log& audit) {
#if TRUSTGATE_GATEWAY_REDIS
    return redis_connector(audit);
#else
    (void)audit;
    return std::make_shared<const store_connector>([](const auto&, const auto&, auto&) -> std::shared_ptr<trustgate::attempt_store> {
        throw config_error("gateway.auth.rateLimit.store.type",
                           R"(expected "memory": this trustgate-gateway was built without Redis support (libhiredis-dev))");
    });
#endif
}

int serve(const std::shared_ptr<const compiled_config>& config, config_source source,
          trustgate::beast::server_options options, start_signals& signals, const audit_log& audit) {
    trustgate::metrics metrics;
    reloadable_gateway configs(config, &metrics);
    gateway_service service(configs, audit, metrics);
    const auto& settings = config->settings;
    log_findings(audit, *config);
    const bool secure = options.tls != nullptr;
    const std::string where = settings.bind.to_string() + " port " + std::to_string(settings.port) +
                              (settings.local_socket ? " and " + *settings.local_socket : "");
    try {
        trustgate::beast::server server(std::move(options), [&service](const incoming& request) { return service(request); });
        // What arrived while starting: the server catches SIGINT/SIGTERM from here on.
        bool stop = false;
        for (const int caught : signals.take()) {
            if (caught == SIGHUP) audit.write("signal", ignored_reload("the gateway was still starting"));
            else stop = true;
        }
        if (stop) {
            audit.write("stopped", {{"message", "stopped by a signal during start-up"}});
            return 0;
        }
        config_reloader reloader(std::move(source), configs, audit, [&server] { server.recheck_websockets(); },
                                 tls_reloader(server));
        bool draining = false;  // on the server's signal strand, like both actions below
        server.on_signal(SIGHUP, [&] {
            if (draining) audit.write("signal", ignored_reload("the gateway is draining"));
            else reloader.request();
        });
        server.on_drain([&] {
            draining = true;
            audit.write("draining", log_line::object());
        });
        signals.release_stop_signals();
        const auto url = url_of(server.local_endpoint(), secure);
        log_line listening{{"message", "listening on " + url}, {"url", url}, {"mode", std::string(to_string(settings.auth.mode))}};
        if (settings.local_socket) listening["localSocket"] = *settings.local_socket;
        audit.write("listening", listening);
        server.run();
    } catch (const boost::system::system_error& e) {
        audit.write("error", {{"message", "cannot listen on " + where + ": " + e.what()}});
        return 1;
    }
    audit.write("stopped", log_line::object());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    start_signals signals;
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
    static const audit_log audit(stderr);
    std::shared_ptr<const compiled_config> config;
    trustgate::beast::server_options options;
    try {
        auto settings = source.read();
        options = server_options_of(settings);
        // --check-config and --explain never contact Redis: without a connector the store is not made.
        config = load(std::move(settings), nullptr, cli->check_only || cli->explain ? nullptr : store_connector_for(audit));
    } catch (const config_error& e) {
        std::fprintf(stderr, "config error: %s\n", e.what());
        return 2;
    }
    if (cli->explain) {
        std::string raw((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        return explain(*config, *cli->peer, cli->proof, std::move(raw), cli->json, stdout, stderr);
    }
    if (cli->check_only) {
        std::printf("config ok: %s mode, %s port %u\n", to_string(config->settings.auth.mode).data(),
                    config->settings.bind.to_string().c_str(), unsigned(config->settings.port));
        for (const auto& f : config->findings) std::fprintf(stderr, "%s\n", format_finding(f).c_str());
        return 0;
    }
    return serve(config, std::move(source), std::move(options), signals, audit);
}
