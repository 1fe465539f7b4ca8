// trustgate/runtime/jwks_fetch.hpp — behaviour §10's jwksUrl fetched the way every outbound
// call of the gateway goes (trustgate/beast/outbound.hpp): through the egress proxy when
// `proxy.enabled`, else to checked addresses only; a loopback literal (a key server on
// this host) directly, as the gateway's control plane.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "trustgate/runtime/audit_log.hpp"
#include "trustgate/assertion/jwks_refresher.hpp"
#include "trustgate/beast/outbound.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/impl/url_text.hpp"
#include "trustgate/net/proxy_settings.hpp"

namespace trustgate::runtime {

inline trustgate::assertion::jwks_refresher::fetch_function jwks_fetcher(const trustgate::net::proxy_settings& proxy) {
    return [proxy](const std::string& url, std::chrono::milliseconds timeout) {
        namespace http = boost::beast::http;
        trustgate::beast::outbound_options options;
        options.proxy = proxy;
        options.timeout = timeout;
        options.max_response_body = 1 << 20;
        const trustgate::beast::outbound_client client(std::move(options));
        const auto parts = trustgate::net::detail::split_url(url);
        const auto host = parts ? trustgate::net::address::parse(parts->host) : std::nullopt;
        const auto purpose = host && host->is_loopback() ? trustgate::net::egress_purpose::gateway_control
                                                         : trustgate::net::egress_purpose::general;
        http::request<http::string_body> request{http::verb::get, "/", 11};
        request.set(http::field::accept, "application/json");
        const auto response = client.send(url, std::move(request), purpose);
        if (response.result() != http::status::ok)
            throw std::runtime_error("answered HTTP " + std::to_string(response.result_int()) + ", not 200");
        return response.body();
    };
}

// Refresh results as audit lines (`jwks_refresh`, `jwks_refresh_failed`).
inline trustgate::assertion::jwks_refresher::log_function jwks_log() {
    return [](std::string_view event, const std::string& message) { audit_log(stderr).write(event, {{"message", message}}); };
}

}  // namespace trustgate::runtime
