// examples/gateway/service.hpp — SPEC §7: the gateway's routes, answers and audit lines.
//
//   GET  /healthz   200 {"ok":true}, no authentication
//   GET  /metrics   Prometheus exposition for gateway.metrics.allowFrom peers, else 404 (SPEC §13)
//   GET  /          the status page (status_page.hpp), authenticated like /whoami
//   GET  /whoami    who the request authenticated as, and with which scopes
//   POST /rpc/<m>   method m, if the identity holds its scope
//   GET  /ws        WebSocket: {"id":N,"method":M,"params":{…}} frames, authorised one by one
//
// Everything but /healthz and /metrics is authenticated first: 401 (429 when rate-limited) before any
// route is looked at, so a refused caller learns nothing about the routes. The example
// has no backend: a permitted method answers with its caller and the params it received.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "audit_log.hpp"
#include "compiled_config.hpp"
#include "status_page.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/metrics.hpp"
#include "trustgate/policy/scopes.hpp"

namespace trustgate_gateway {

namespace http = trustgate::beast::http;
using trustgate::beast::incoming;

namespace detail {

// Request bodies and WebSocket messages, parsed with bounded nesting (dumping a value
// recurses once per level).
inline std::optional<log_line> parse_message(std::string_view text) {
    struct too_deep {};
    try {
        return log_line::parse(text, [](int depth, log_line::parse_event_t, log_line&) {
            if (depth > 64) throw too_deep{};
            return true;
        });
    } catch (const log_line::exception&) {
    } catch (const too_deep&) {
    }
    return std::nullopt;
}

inline trustgate::beast::response json_response(const incoming& request, http::status status, const log_line& body) {
    return trustgate::beast::make_response(request, status, to_text(body));
}

// {"error":{"type":…,"message":…}}, plus "reason" when gateway.auth.exposeReasons is set.
inline log_line error_body(std::string_view type, std::string_view message, std::optional<trustgate::reason> why,
                           bool expose_reasons) {
    log_line error{{"type", std::string(type)}, {"message", std::string(message)}};
    if (why && expose_reasons) error["reason"] = std::string(to_string(*why));
    return {{"error", std::move(error)}};
}

inline trustgate::beast::response error_response(const incoming& request, http::status status, std::string_view type,
                                                 std::string_view message) {
    return json_response(request, status, error_body(type, message, std::nullopt, false));
}

// 401, or 429 with Retry-After for a locked-out client.
inline trustgate::beast::response refusal(const incoming& request, const trustgate::decision& d, bool expose_reasons) {
    if (d.why == trustgate::reason::rate_limited) {
        auto res = json_response(request, http::status::too_many_requests,
                                 error_body("rate_limited", "Too Many Requests", d.why, expose_reasons));
        res.set(http::field::retry_after, std::to_string(std::max<long long>(1, d.retry_after.count())));
        return res;
    }
    auto res = json_response(request, http::status::unauthorized, error_body("unauthorized", "Unauthorized", d.why, expose_reasons));
    res.set(http::field::www_authenticate, "Bearer");
    return res;
}

// The status page, with `status`: a refused request sees the page explain the refusal.
// It runs only its own inline script and talks only to this origin.
inline trustgate::beast::response status_page(const incoming& request, http::status status) {
    auto res = trustgate::beast::make_response(request, status, std::string(status_page_html), "text/html; charset=utf-8");
    res.set("Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    return res;
}

inline trustgate::beast::response method_not_allowed(const incoming& request, std::string_view allowed) {
    auto res = error_response(request, http::status::method_not_allowed, "method_not_allowed", "Method Not Allowed");
    res.set(http::field::allow, std::string(allowed));
    return res;
}

inline log_line scope_names(trustgate::scope_mask granted) {
    log_line names = log_line::array();
    for (const auto name : trustgate::scopes<>::names_of(granted)) names.push_back(std::string(name));
    return names;
}

inline std::string missing_scope_message(std::string_view scope) { return "missing scope: " + std::string(scope); }

// The audit fields of an authentication decision (SPEC §7), and the configuration
// generation that decided it.
inline log_line decision_fields(const trustgate::decision::owned_decision& d, const trustgate::net::address& peer,
                                std::uint64_t generation) {
    log_line line;
    line["decision"] = d.allowed ? "allow" : "deny";
    line["reason"] = std::string(to_string(d.why));
    line["peer"] = peer.to_string();
    line["clientIp"] = d.client_ip.to_string();
    line["via"] = std::string(to_string(d.how));
    line["user"] = d.allowed ? log_line(d.identity) : log_line(nullptr);
    line["policy"] = d.policy;
    if (!d.detail.empty()) line["detail"] = d.detail;
    line["generation"] = generation;
    return line;
}

// What an audit line counts as in trustgate_decisions_total.
struct counted {
    bool allowed;
    trustgate::reason why;
    trustgate::via how;
};

// An authenticated caller refused by scopes: the line records the authorisation deny.
inline void mark_missing_scope(log_line& line, counted& outcome, std::string_view scope) {
    outcome = {false, trustgate::reason::missing_scope, outcome.how};
    line["decision"] = "deny";
    line["reason"] = std::string(to_string(trustgate::reason::missing_scope));
    line["policy"] = std::string(trustgate::scopes<>::name);
    line["detail"] = std::string(scope);
}

inline log_line rpc_result(const trustgate::decision::owned_decision& caller, const log_line& params) {
    return {{"user", caller.identity}, {"via", std::string(to_string(caller.how))}, {"params", params}};
}

// Answers the frames of one WebSocket connection. The upgrade request is gone by now, so
// it keeps copies of the decision and of the grant computed from that request, and the
// configuration that admitted the connection: every frame is authorised under it.
class frame_handler {
public:
    frame_handler(std::shared_ptr<const compiled_config> config, const trustgate::scopes<>& scopes,
                  trustgate::decision::owned_decision admitted, trustgate::scope_mask grant, trustgate::net::address peer,
                  const audit_log& audit, trustgate::metrics& metrics)
        : config_(std::move(config)),
          scopes_(&scopes),
          admitted_(std::move(admitted)),
          grant_(grant),
          peer_(peer),
          audit_(&audit),
          metrics_(&metrics),
          open_(open_connection(metrics)) {}

    std::string operator()(std::string_view text) const {
        const auto frame = parse_message(text);
        const log_line id = frame && frame->is_object() && frame->contains("id") ? (*frame)["id"] : log_line(nullptr);
        const auto* method = frame && frame->is_object() && frame->contains("method") ? &(*frame)["method"] : nullptr;
        const auto* params = frame && frame->is_object() && frame->contains("params") ? &(*frame)["params"] : nullptr;
        if (method == nullptr || !method->is_string() || method->get_ref<const std::string&>().empty() ||
            (params != nullptr && !params->is_object()))
            return to_text({{"id", id},
                            {"ok", false},
                            {"error", {{"code", "INVALID_REQUEST"}, {"message", R"(expected {"id":N,"method":M,"params":{…}})"}}}});

        const auto& name = method->get_ref<const std::string&>();
        log_line line = decision_fields(admitted_, peer_, config_->generation);
        line["route"] = "/ws";
        line["method"] = name;
        const auto authorization = scopes_->authorize(grant_, name);
        counted outcome{true, trustgate::reason::ok, admitted_.how};
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
        return to_text({{"id", id}, {"ok", true}, {"result", rpc_result(admitted_, params ? *params : log_line::object())}});
    }

private:
    // trustgate_websocket_connections: one while any copy of this handler lives (the
    // server keeps it for the connection's life).
    static std::shared_ptr<void> open_connection(trustgate::metrics& metrics) {
        metrics.websocket_opened();
        return {nullptr, [&metrics](void*) { metrics.websocket_closed(); }};
    }

    std::shared_ptr<const compiled_config> config_;  // keeps *scopes_ alive; its generation decided
    const trustgate::scopes<>* scopes_;
    trustgate::decision::owned_decision admitted_;
    trustgate::scope_mask grant_;
    trustgate::net::address peer_;
    const audit_log* audit_;
    trustgate::metrics* metrics_;
    std::shared_ptr<void> open_;
};

}  // namespace detail

// The request handler. Thread-safe; every request reads one configuration snapshot and is
// decided wholly under it, however often replace() runs meanwhile.
class gateway_service {
public:
    // `metrics` counts what this service decides; it outlives the service.
    gateway_service(std::shared_ptr<const compiled_config> config, const audit_log& audit, trustgate::metrics& metrics)
        : strict_transport_security_(config->settings.strict_transport_security),
          current_(std::move(config)),
          audit_(audit),
          metrics_(metrics) {
        metrics_.set_config_generation(current_.load()->generation);
    }

    std::shared_ptr<const compiled_config> current() const { return current_.load(); }

    // A reload: requests that start from now on are decided under `config`.
    void replace(std::shared_ptr<const compiled_config> config) {
        const auto generation = config->generation;
        const auto previous = current_.exchange(std::move(config));
        // A new limiter starts its lockout count at zero; keep the old one's in the total.
        if (previous->limiter != current_.load()->limiter) retired_lockouts_ += previous->limiter->lockouts();
        metrics_.count_reload(true);
        metrics_.set_config_generation(generation);
    }

    // A reload that kept the running configuration.
    void reload_failed() { metrics_.count_reload(false); }

    trustgate::beast::reply operator()(const incoming& request) const {
        const auto config = current_.load();
        const auto path = request.path();
        if (path == "/healthz") {
            if (request.method() != http::verb::get) return detail::method_not_allowed(request, "GET");
            return detail::json_response(request, http::status::ok, {{"ok", true}});
        }
        // Scrapes are not decisions: no authentication, no audit line, not counted.
        const auto& m = config->settings.metrics;
        if (m.enabled && path == m.path) {
            if (!m.allow_from.contains(request.peer()))
                return detail::error_response(request, http::status::not_found, "not_found", "Not Found");
            if (request.method() != http::verb::get) return detail::method_not_allowed(request, "GET");
            return trustgate::beast::make_response(request, http::status::ok, exposition(*config),
                                                   "text/plain; version=0.0.4; charset=utf-8");
        }
        const auto started = std::chrono::steady_clock::now();
        auto reply = std::visit([&](const auto& gateway) { return serve(config, gateway, request); }, config->gateway);
        metrics_.observe_request(std::chrono::steady_clock::now() - started);
        return reply;
    }

    // server_options::decorate: headers every response carries. They come from start-up
    // settings, which a reload may not change.
    void decorate(http::response_header<>& header) const {
        if (strict_transport_security_) header.set(http::field::strict_transport_security, *strict_transport_security_);
    }

private:
    std::string exposition(const compiled_config& config) const {
        metrics_.set_lockouts(retired_lockouts_.load() + config.limiter->lockouts());
        return metrics_.exposition();
    }

    template <class Gateway>
    trustgate::beast::reply serve(const std::shared_ptr<const compiled_config>& config, const Gateway& gateway,
                                  const incoming& request) const {
        const bool expose_reasons = config->settings.expose_reasons;
        const trustgate::decision d = gateway.authenticate(request);
        const auto path = request.path();
        log_line line = detail::decision_fields(d.owned(), request.peer(), config->generation);
        line["route"] = std::string(path);
        detail::counted outcome{d.allowed, d.why, d.how};
        const auto answer = [&](trustgate::beast::response res) -> trustgate::beast::reply {
            line["status"] = res.result_int();
            metrics_.count(outcome.allowed, outcome.why, outcome.how);
            audit_.write("decision", line);
            return res;
        };

        if (!d.allowed) {
            auto res = detail::refusal(request, d, expose_reasons);
            if (path == "/" && request.method() == http::verb::get) {
                auto page = detail::status_page(request, res.result());
                for (const auto field : {http::field::retry_after, http::field::www_authenticate})
                    if (res.count(field) != 0) page.set(field, res[field]);
                return answer(std::move(page));
            }
            return answer(std::move(res));
        }

        if (path == "/") {
            if (request.method() != http::verb::get) return answer(detail::method_not_allowed(request, "GET"));
            return answer(detail::status_page(request, http::status::ok));
        }

        if (path == "/whoami") {
            if (request.method() != http::verb::get) return answer(detail::method_not_allowed(request, "GET"));
            const auto granted = gateway.template get<trustgate::scopes<>>().granted(d, request);
            return answer(detail::json_response(request, http::status::ok,
                                                {{"user", std::string(d.identity)},
                                                 {"via", std::string(to_string(d.how))},
                                                 {"scopes", detail::scope_names(granted)},
                                                 {"clientIp", d.client_ip.to_string()}}));
        }

        if (path.starts_with("/rpc/") && path.size() > 5) {
            const auto method = path.substr(5);
            line["method"] = std::string(method);
            if (request.method() != http::verb::post) return answer(detail::method_not_allowed(request, "POST"));
            const auto authorization = gateway.authorize(d, method, request);
            if (!authorization.allowed) {
                detail::mark_missing_scope(line, outcome, authorization.required_scope);
                return answer(detail::json_response(
                    request, http::status::forbidden,
                    detail::error_body("forbidden", detail::missing_scope_message(authorization.required_scope),
                                       trustgate::reason::missing_scope, expose_reasons)));
            }
            const auto& body = request.message().body();
            const auto params = body.empty() ? std::optional<log_line>(log_line::object()) : detail::parse_message(body);
            if (!params || !params->is_object())
                return answer(detail::error_response(request, http::status::bad_request, "bad_request",
                                                     "expected a JSON object as the request body"));
            return answer(detail::json_response(
                request, http::status::ok,
                {{"ok", true}, {"method", std::string(method)}, {"result", detail::rpc_result(d.owned(), *params)}}));
        }

        if (path == "/ws") {
            if (!request.wants_websocket()) {
                auto res = detail::error_response(request, http::status::upgrade_required, "upgrade_required",
                                                  "expected a WebSocket upgrade");
                res.set(http::field::upgrade, "websocket");
                return answer(std::move(res));
            }
            line["status"] = 101;
            metrics_.count(outcome.allowed, outcome.why, outcome.how);
            audit_.write("decision", line);
            const auto& scopes = gateway.template get<trustgate::scopes<>>();
            return trustgate::beast::websocket_accept{
                detail::frame_handler(config, scopes, d.owned(), scopes.granted(d, request), request.peer(), audit_, metrics_)};
        }

        return answer(detail::error_response(request, http::status::not_found, "not_found", "Not Found"));
    }

    const std::optional<std::string> strict_transport_security_;
    // A reload stores a new snapshot here; requests in flight keep theirs.
    std::atomic<std::shared_ptr<const compiled_config>> current_;
    const audit_log& audit_;
    trustgate::metrics& metrics_;
    std::atomic<std::uint64_t> retired_lockouts_{0};  // of limiters replaced by a reload
};

}  // namespace trustgate_gateway
