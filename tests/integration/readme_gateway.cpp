// The README's full gateway (trustgate::runtime with the Beast adapter), built and run by
// readme_gateway_test.py. tests/readme_sync.cmake checks that README.md shows exactly the
// lines between the markers.
// readme-example-begin
#include <csignal>
#include <cstdio>
#include <trustgate/beast/server.hpp>
#include <trustgate/runtime.hpp>

namespace rt = trustgate::runtime;

int main(int argc, char** argv) try {
    const rt::audit_log audit(stderr);
    auto source = argc > 1 ? rt::config_source::file(argv[1]) : rt::config_source::embedded();
    rt::reloadable_gateway configs(rt::load(source.read()));  // parse, validate, resolve secrets
    // gateway.bind, port, localSocket, tls and http's limits, as the file says
    trustgate::beast::server server(rt::server_options_of(configs.current()->settings), [&](const trustgate::beast::incoming& request) {
        const auto config = configs.current();  // one snapshot decides the whole request
        const auto d = std::visit([&](const auto& gateway) { return gateway.authenticate(request); }, config->gateway);
        if (!d.allowed) return rt::refusal(request, d, config->settings.expose_reasons);  // 401, 403, 429
        return rt::json_response(request, trustgate::beast::http::status::ok, {{"user", std::string(d.identity)}});
    });
    rt::config_reloader reloader(source, configs, audit, [&] { server.recheck_websockets(); }, rt::tls_reloader(server));
    server.on_signal(SIGHUP, [&] { reloader.request(); });  // and whenever the file changes
    server.run();  // until SIGINT or SIGTERM
    return 0;
} catch (const trustgate::config_error& e) {
    std::fprintf(stderr, "config error: %s\n", e.what());
    return 2;
}
// readme-example-end
