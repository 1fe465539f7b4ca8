// trustgate/runtime/listener.hpp — the Beast listener a configuration describes (behaviour §9).
//
//   auto options = trustgate::runtime::server_options_of(config->settings);  // throws config_error
//   trustgate::beast::server server(std::move(options), handler);
//   trustgate::runtime::config_reloader reloader(source, configs, audit, recheck,
//                                                trustgate::runtime::tls_reloader(server));
//
// gateway.bind, gateway.port, gateway.localSocket, gateway.http's connection limits and
// gateway.tls become server_options; the TLS files are read here, so a missing or
// unreadable one is a configuration error naming its key, at start-up and on every reload.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "trustgate/beast/options.hpp"
#include "trustgate/beast/server.hpp"
#include "trustgate/beast/tls.hpp"
#include "trustgate/config.hpp"
#include "trustgate/runtime/config_json.hpp"
#include "trustgate/runtime/reloader.hpp"

namespace trustgate::runtime {

// The TLS context of gateway.tls, or none when it is not enabled. Throws config_error
// naming gateway.tls.certPath, keyPath or clientCaPath.
inline std::shared_ptr<boost::asio::ssl::context> load_tls(const tls_settings& tls) {
    if (!tls.enabled) return nullptr;
    try {
        return trustgate::beast::make_tls_context(tls.certificate_chain_file, tls.private_key_file, tls.client_ca_file);
    } catch (const trustgate::beast::tls_error& e) {
        using file = trustgate::beast::tls_error::file;
        switch (e.which()) {
            case file::certificate_chain:
                throw config_error("gateway.tls.certPath", std::string("expected a PEM certificate chain: ") + e.what());
            case file::private_key:
                throw config_error("gateway.tls.keyPath", std::string("expected the PEM private key of the certificate: ") + e.what());
            case file::client_ca:
                throw config_error("gateway.tls.clientCaPath", std::string("expected a PEM CA bundle: ") + e.what());
        }
        throw;
    }
}

// The listener `settings` describe, on up to `max_threads` threads (never more than the
// process may use CPUs: beast::usable_cpus). Reads the TLS files (throws config_error).
inline trustgate::beast::server_options server_options_of(const gateway_config& settings, unsigned max_threads = 4) {
    trustgate::beast::server_options options;
    options.bind = settings.bind;
    options.port = settings.port;
    options.threads = std::clamp<std::size_t>(trustgate::beast::usable_cpus(), 1, std::max(max_threads, 1u));
    options.max_connections = settings.max_connections;
    if (settings.local_socket) options.local_socket = *settings.local_socket;
    options.max_connections_per_peer = settings.connections_per_peer();
    options.header_timeout = settings.header_timeout;
    options.tls = load_tls(settings.tls);
    if (settings.strict_transport_security)
        options.decorate = [value = *settings.strict_transport_security](boost::beast::http::response_header<>& header) {
            header.set(boost::beast::http::field::strict_transport_security, value);
        };
    return options;
}

// What config_reloader needs to apply rotated TLS files to `server`'s new handshakes
// (connections already open finish under the material they started with; behaviour §11).
inline tls_loader tls_reloader(trustgate::beast::server& server) {
    return [&server](const tls_settings& files) -> std::function<void()> {
        if (!files.enabled) return {};
        return [&server, context = load_tls(files)] { server.replace_tls(context); };
    };
}

// "http://127.0.0.1:18789", "https://[::1]:8443": where `endpoint` serves.
inline std::string url_of(const boost::asio::ip::tcp::endpoint& endpoint, bool tls) {
    const auto host = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]" : endpoint.address().to_string();
    return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(endpoint.port());
}

}  // namespace trustgate::runtime
