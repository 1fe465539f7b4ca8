// examples/gateway/service.hpp — behaviour §7: the gateway's routes, answered and logged with
// trustgate::runtime (http_answer.hpp, audit_log.hpp).
//
//   GET  /healthz   200 {"ok":true}, no authentication
//   GET  /metrics   Prometheus exposition for gateway.metrics.allowFrom peers, else 404 (behaviour §13)
//   GET  /          the status page (status_page.hpp), authenticated like /whoami
//   GET  /whoami    who the request authenticated as, and with which scopes
//   POST /rpc/<m>   method m, if the identity holds its scope
//   GET  /ws        WebSocket: {"id":N,"method":M,"params":{…}} frames, authorised one by one
//
// Everything but /healthz and /metrics is authenticated first, on the header section alone and before
// any body byte is read: 401 (403, 429) before any route is looked at, so a refused caller
// learns nothing about the routes and never makes the gateway read a body. A refusal of a
// peer that is not a trusted proxy closes its connection. A cross-site upgrade or POST is
// refused after authentication (behaviour §7). Open WebSockets are decided again on every
// reload (recheck_websocket). The example has no backend: a permitted method answers with
// its caller and the params it received.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "status_page.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/metrics.hpp"
#include "trustgate/origin.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/presets.hpp"
#include "trustgate/runtime/audit_log.hpp"
#include "trustgate/runtime/compiled_config.hpp"
#include "trustgate/runtime/http_answer.hpp"
#include "trustgate/runtime/reloader.hpp"

namespace trustgate_gateway {

using namespace trustgate::runtime;

namespace http = trustgate::beast::http;
using trustgate::beast::incoming;

namespace detail {

// Request bodies and WebSocket messages, parsed with bounded nesting (dumping a value
// recurses once per level) and refusing a key twice in one object: the last would win,
// so `{"method":"config.set","method":"health"}` could be authorised as one method and
// run as the other by a reader that keeps the first.
inline std::optional<log_line> parse_message(std::string_view text) {
    struct refused {};
    std::vector<std::set<std::string>> keys;  // of each open object
    try {
        return log_line::parse(text, [&keys](int depth, log_line::parse_event_t event, log_line& parsed) {
            if (depth > 64) throw refused{};
            switch (event) {
                case log_line::parse_event_t::object_start: keys.emplace_back(); break;
                case log_line::parse_event_t::object_end: keys.pop_back(); break;
                case log_line::parse_event_t::key:
                    if (!keys.back().insert(parsed.get_ref<const std::string&>()).second) throw refused{};
                    break;
                default: break;
            }
            return true;
        });
    } catch (const log_line::exception&) {
    } catch (const refused&) {
    }
    return std::nullopt;
}

// The status page, with `status`: a refused request sees the page explain the refusal.
// It runs only its own inline code and talks only to this origin.
inline trustgate::beast::response status_page(const incoming& request, http::status status) {
    auto res = trustgate::beast::make_response(request, status, std::string(status_page_html), "text/html; charset=utf-8");
    res.set("Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    return res;
}

inline std::string missing_scope_message(std::string_view scope) { return "missing scope: " + std::string(scope); }

inline log_line rpc_result(const trustgate::decision::owned_decision& caller, const log_line& params) {
    return {{"user", caller.identity}, {"via", std::string(to_string(caller.how))}, {"params", params}};
}

// What one WebSocket was last decided under: the configuration, the decision and the
// grant computed from its upgrade request. Replaced when a reload re-decides it; frames
// and rechecks run on the connection's thread, one at a time, so no lock.
struct websocket_state {
    std::shared_ptr<const compiled_config> config;  // keeps *scopes alive
    const trustgate::scopes<>* scopes;
    trustgate::decision::owned_decision admitted;
    trustgate::scope_mask grant;
};

// Answers the frames of one WebSocket connection, each authorised under its state.
class frame_handler {
public:
    frame_handler(std::shared_ptr<const websocket_state> state, audit_peer peer, const audit_log& audit,
                  trustgate::metrics& metrics)
        : state_(std::move(state)), peer_(std::move(peer)), audit_(&audit), metrics_(&metrics), open_(open_connection(metrics)) {}

    std::string operator()(std::string_view text) const {
        const auto frame = parse_message(text);
        const log_line id = frame && frame->is_object() && frame->contains("id") ? (*frame)["id"] : log_line(nullptr);
        const auto* method = frame && frame->is_object() && frame->contains("method") ? &(*frame)["method"] : nullptr;
        const auto* params = frame && frame->is_object() && frame->contains("params") ? &(*frame)["params"] : nullptr;
        if (method == nullptr || !method->is_string() || method->get_ref<const std::string&>().empty() ||
            (params != nullptr && !params->is_object()))
            return to_text({{"id", id},
                            {"ok", false},
                            {"error",
                             {{"code", "INVALID_REQUEST"},
                              {"message", R"(expected {"id":N,"method":M,"params":{…}}, each key once)"}}}});

        const auto& state = *state_;
        const auto& name = method->get_ref<const std::string&>();
        decision_line line(state.admitted, peer_, state.config->generation);
        line.add("route", "/ws").add("method", log_text(name));
        const auto authorization = state.scopes->authorize(state.grant, name);
        auto outcome = counted_as(state.admitted);
        if (!authorization.allowed) {
            mark_missing_scope(line, outcome, authorization.required_scope);
            metrics_->count(outcome.allowed, outcome.why, outcome.how);
            audit_->write("decision", line);
            const std::string scope(authorization.required_scope);
            return to_text({{"id", id},
                            {"ok", false},
                            {"error",
                             {{"code", "FORBIDDEN"},
                              {"message", missing_scope_message(scope)},
                              {"details", {{"code", "MISSING_SCOPE"}, {"missingScope", scope}}}}}});
        }
        metrics_->count(outcome.allowed, outcome.why, outcome.how);
        audit_->write("decision", line);
        return to_text(
            {{"id", id}, {"ok", true}, {"result", rpc_result(state.admitted, params ? *params : log_line::object())}});
    }

private:
    // trustgate_websocket_connections: one while any copy of this handler lives (the
    // server keeps it for the connection's life).
    static std::shared_ptr<void> open_connection(trustgate::metrics& metrics) {
        metrics.websocket_opened();
        return {nullptr, [&metrics](void*) { metrics.websocket_closed(); }};
    }

    std::shared_ptr<const websocket_state> state_;
    audit_peer peer_;
    const audit_log* audit_;
    trustgate::metrics* metrics_;
    std::shared_ptr<void> open_;
};

}  // namespace detail

// The request handler. Thread-safe; every request reads one configuration snapshot from
// `configs` and is decided wholly under it, however often a reload replaces it.
class gateway_service {
public:
    // `configs` and `metrics` (which counts what this service decides) outlive the service.
    gateway_service(const reloadable_gateway& configs, const audit_log& audit, trustgate::metrics& metrics)
        : configs_(configs),
          audit_(audit),
          metrics_(metrics) {}

    trustgate::beast::reply operator()(const incoming& request) const {
        const auto config = configs_.current();
        const auto path = request.path();
        if (path == "/healthz") {
            if (request.method() != http::verb::get) return method_not_allowed(request, "GET");
            return json_response(request, http::status::ok, {{"ok", true}});
        }
        // Scrapes are not decisions: no authentication, no audit line, not counted.
        const auto& m = config->settings.metrics;
        if (m.enabled && path == m.path) {
            if (request.local_socket() || !m.allow_from.contains(request.peer()))
                return error_response(request, http::status::not_found, "not_found", "Not Found");
            if (request.method() != http::verb::get) return method_not_allowed(request, "GET");
            return trustgate::beast::make_response(request, http::status::ok, exposition(*config),
                                                   "text/plain; version=0.0.4; charset=utf-8");
        }
        const auto started = std::chrono::steady_clock::now();
        auto reply = std::visit([&](const auto& gateway) { return serve(config, gateway, request); }, config->gateway);
        metrics_.observe_request(std::chrono::steady_clock::now() - started);
        return reply;
    }

private:
    // Figures other parts of the gateway keep, read at each scrape.
    std::string exposition(const compiled_config& config) const {
        metrics_.set_lockouts(configs_.lockouts());
        metrics_.set_store_errors(configs_.store_errors());
        if (config.jwks) {
            const auto& refreshes = config.jwks->refreshes();
            metrics_.set_jwks_refreshes(refreshes.ok.load(), refreshes.failed.load());
        }
        // The keys in use, from jwksUrl or jwksFile alike.
        if (const auto* signed_gateway = std::get_if<trustgate::assertion::trusted_proxy_assertion_gateway>(&config.gateway))
            metrics_.set_jwks_keys(signed_gateway->get<trustgate::assertion::proxy_assertion>().verifier()->keys()->keys.size());
        return metrics_.exposition();
    }

    // Writes and counts the decision line with the status sent. A refusal of a peer that
    // is not a trusted proxy ends the connection (behaviour §3 "Connections").
    trustgate::beast::response finish(decision_line& line, const counted& outcome, trustgate::beast::response res,
                                      bool close) const {
        line.add("status", res.result_int());
        metrics_.count(outcome.allowed, outcome.why, outcome.how);
        audit_.write("decision", line);
        if (close) res.keep_alive(false);
        return res;
    }

    template <class Gateway>
    trustgate::beast::reply serve(const std::shared_ptr<const compiled_config>& config, const Gateway& gateway,
                                  const incoming& request) const {
        const bool expose_reasons = config->settings.expose_reasons;
        const trustgate::decision d = gateway.authenticate(request);
        const auto path = request.path();
        decision_line line(d.owned(), audit_peer_of(request, config->settings), config->generation,
                           refused_identity(gateway, d, request));
        const auto target = request.header().target();
        line.add("route", loggable_target(std::string_view(target.data(), target.size())));
        const bool close_on_refusal = !config->trusted_peers.contains(request.peer());
        auto outcome = counted_as(d);

        if (!d.allowed) {
            auto res = refusal(request, d, expose_reasons);
            if (path == "/" && request.method() == http::verb::get) {
                auto page = detail::status_page(request, res.result());
                for (const auto field : {http::field::retry_after, http::field::www_authenticate})
                    if (res.count(field) != 0) page.set(field, res[field]);
                res = std::move(page);
            }
            return finish(line, outcome, std::move(res), close_on_refusal);
        }
        if ((request.wants_websocket() || request.method() == http::verb::post) && !config->origins.admits(request)) {
            mark_refused(line, outcome, trustgate::reason::origin_not_allowed, "origin_check");
            return finish(line, outcome,
                          forbidden(request, "Cross-site request", trustgate::reason::origin_not_allowed, expose_reasons),
                          close_on_refusal);
        }

        if (path == "/") {
            if (request.method() != http::verb::get) return finish(line, outcome, method_not_allowed(request, "GET"), false);
            return finish(line, outcome, detail::status_page(request, http::status::ok), false);
        }

        if (path == "/whoami") {
            if (request.method() != http::verb::get) return finish(line, outcome, method_not_allowed(request, "GET"), false);
            const auto granted = gateway.template get<trustgate::scopes<>>().granted(d, request);
            std::string body;
            json_writer json(body);
            json.begin_object().key("user").value(d.identity).key("via").value(to_string(d.how)).key("scopes");
            write_scope_names(json, granted);
            json.key("clientIp").value(d.client_ip.to_string()).end_object();
            return finish(line, outcome, trustgate::beast::make_response(request, http::status::ok, std::move(body)), false);
        }

        if (path.starts_with("/rpc/") && path.size() > 5) {
            const auto method = path.substr(5);
            line.add("method", log_text(method));
            if (request.method() != http::verb::post) return finish(line, outcome, method_not_allowed(request, "POST"), false);
            const auto authorization = gateway.authorize(d, method, request);
            if (!authorization.allowed) {
                mark_missing_scope(line, outcome, authorization.required_scope);
                return finish(line, outcome,
                              forbidden(request, detail::missing_scope_message(authorization.required_scope),
                                                trustgate::reason::missing_scope, expose_reasons),
                              close_on_refusal);
            }
            // Only now, authenticated and authorised, is the body worth reading.
            return trustgate::beast::read_body{[this, line, outcome, caller = d.owned(), method = std::string(method)](
                                                   const incoming& with_body, std::string body) mutable {
                const auto params = body.empty() ? std::optional<log_line>(log_line::object()) : detail::parse_message(body);
                if (!params || !params->is_object())
                    return finish(line, outcome,
                                  error_response(with_body, http::status::bad_request, "bad_request",
                                                         "expected a JSON object as the request body, each key once"),
                                  false);
                return finish(line, outcome,
                              json_response(with_body, http::status::ok,
                                                    {{"ok", true}, {"method", method}, {"result", detail::rpc_result(caller, *params)}}),
                              false);
            }};
        }

        if (path == "/ws") {
            if (!request.wants_websocket()) {
                auto res = error_response(request, http::status::upgrade_required, "upgrade_required",
                                                  "expected a WebSocket upgrade");
                res.set(http::field::upgrade, "websocket");
                return finish(line, outcome, std::move(res), false);
            }
            const auto& scopes = gateway.template get<trustgate::scopes<>>();
            auto state = std::make_shared<detail::websocket_state>(
                detail::websocket_state{config, &scopes, d.owned(), scopes.granted(d, request)});
            return trustgate::beast::websocket_accept{
                detail::frame_handler(state, audit_peer_of(request, config->settings), audit_, metrics_),
                [this, state](const incoming& upgrade) { return recheck_websocket(*state, upgrade); },
                [this, line, outcome](unsigned status) mutable {
                    line.add("status", status);
                    metrics_.count(outcome.allowed, outcome.why, outcome.how);
                    audit_.write("decision", line);
                }};
        }

        return finish(line, outcome, error_response(request, http::status::not_found, "not_found", "Not Found"), false);
    }

    // behaviour §3 "Connections": an open WebSocket decided again, from its upgrade request,
    // under the configuration now current. Nothing (and the new grant in `state`) to
    // keep it, or the reason code it is closed with.
    std::optional<std::string> recheck_websocket(detail::websocket_state& state, const incoming& upgrade) const {
        const auto config = configs_.current();
        if (config == state.config) return std::nullopt;
        return std::visit([&](const auto& gateway) { return recheck_under(config, gateway, state, upgrade); },
                          config->recheck_gateway);
    }

    template <class Gateway>
    std::optional<std::string> recheck_under(const std::shared_ptr<const compiled_config>& config, const Gateway& gateway,
                                             detail::websocket_state& state, const incoming& upgrade) const {
        const trustgate::decision d = gateway.authenticate(upgrade);
        decision_line line(d.owned(), audit_peer_of(upgrade, config->settings), config->generation,
                           refused_identity(gateway, d, upgrade));
        line.add("route", "/ws").add("trigger", "reload");
        std::optional<trustgate::reason> refused;
        auto outcome = counted_as(d);
        if (!d.allowed) {
            refused = d.why;
        } else if (!config->origins.admits(upgrade)) {
            refused = trustgate::reason::origin_not_allowed;
            mark_refused(line, outcome, *refused, "origin_check");
        }
        metrics_.count(outcome.allowed, outcome.why, outcome.how);
        if (refused) {
            line.add("closeCode", 1008);
            audit_.write("decision", line);
            return std::string(to_string(*refused));
        }
        const auto& scopes = gateway.template get<trustgate::scopes<>>();
        state = detail::websocket_state{config, &scopes, d.owned(), scopes.granted(d, upgrade)};
        line.add_scopes(state.grant);
        audit_.write("decision", line);
        return std::nullopt;
    }

    const reloadable_gateway& configs_;
    const audit_log& audit_;
    trustgate::metrics& metrics_;
};

}  // namespace trustgate_gateway
