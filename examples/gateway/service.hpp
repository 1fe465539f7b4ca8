// examples/gateway/service.hpp — behaviour §7: the gateway's routes, answers and audit lines.
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
#include <atomic>
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

#include "audit_log.hpp"
#include "compiled_config.hpp"
#include "status_page.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/metrics.hpp"
#include "trustgate/detail/scan.hpp"
#include "trustgate/origin.hpp"
#include "trustgate/policy/proxy_identity.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/presets.hpp"
#include "trustgate/token_auth.hpp"

namespace trustgate_gateway {

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

// Request bytes as log text that tells every input apart (README, "Audit log"): `\` is
// written `\\` and each byte that is not part of valid UTF-8 `\xHH`, so an identity
// with a stray 0xFF never looks like one with U+FFFD, nor like one spelling `\xff`.
inline std::string log_text(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        // Length of the UTF-8 sequence starting here, 0 when it is not a valid one.
        std::size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (n > 1) {
            if (i + n > bytes.size()) n = 0;
            for (std::size_t k = 1; n != 0 && k < n; ++k)
                if ((static_cast<unsigned char>(bytes[i + k]) & 0xc0) != 0x80) n = 0;
            if (n != 0) {
                const auto second = static_cast<unsigned char>(bytes[i + 1]);
                // Overlong forms, UTF-16 surrogates and code points beyond U+10FFFF.
                if ((c == 0xe0 && second < 0xa0) || (c == 0xed && second > 0x9f) || (c == 0xf0 && second < 0x90) ||
                    (c == 0xf4 && second > 0x8f))
                    n = 0;
            }
        }
        if (n == 0) {
            out.append("\\x").push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
            ++i;
        } else if (c == '\\') {
            out.append("\\\\");
            ++i;
        } else {
            out.append(bytes.substr(i, n));
            i += n;
        }
    }
    return out;
}

// The request target as the audit log shows it (`route`): without query and fragment
// (tokens travel there) and without the userinfo of an absolute-form target
// (`http://alice:secret@host/…`).
inline std::string loggable_target(std::string_view target) {
    target = target.substr(0, target.find_first_of("?#"));
    if (const auto sep = target.find("://"); sep != std::string_view::npos) {
        const auto authority = target.substr(sep + 3, target.find('/', sep + 3) - (sep + 3));
        if (const auto at = authority.rfind('@'); at != std::string_view::npos)
            return log_text(std::string(target.substr(0, sep + 3)) + std::string(target.substr(sep + 3 + at + 1)));
    }
    return log_text(target);
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

inline trustgate::beast::response forbidden(const incoming& request, std::string_view message, trustgate::reason why,
                                            bool expose_reasons) {
    return json_response(request, http::status::forbidden, error_body("forbidden", message, why, expose_reasons));
}

// 401; 403 for an identity the proxy vouched for that is not let in; 429 with
// Retry-After for a locked-out client. A shared store that could not answer (behaviour §12)
// gives a 429 without Retry-After: there is no lockout to wait for.
inline trustgate::beast::response refusal(const incoming& request, const trustgate::decision& d, bool expose_reasons) {
    if (d.why == trustgate::reason::rate_limited) {
        auto res = json_response(request, http::status::too_many_requests,
                                 error_body("rate_limited", "Too Many Requests", d.why, expose_reasons));
        if (d.detail != trustgate::token_auth::store_unavailable)
            res.set(http::field::retry_after, std::to_string(std::max<long long>(1, d.retry_after.count())));
        return res;
    }
    if (d.why == trustgate::reason::trusted_proxy_user_not_allowed) return forbidden(request, "Forbidden", d.why, expose_reasons);
    auto res = json_response(request, http::status::unauthorized, error_body("unauthorized", "Unauthorized", d.why, expose_reasons));
    res.set(http::field::www_authenticate, "Bearer");
    return res;
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

// Who is at the other end, for the audit line: the TCP peer (or `unix:PATH` for the local
// socket), and the user the kernel named when the connection was accepted.
struct audit_peer {
    std::string peer;
    trustgate::local_proof proof;
};

inline audit_peer audit_peer_of(const incoming& request, const gateway_config& settings) {
    if (request.local_socket() && settings.local_socket) return {"unix:" + *settings.local_socket, request.local_proof()};
    return {request.peer().to_string(), request.local_proof()};
}

// The identity a refused request named (behaviour §7: an operator sees that the proxy sent
// `a1b2-uuid` rather than a name): the user header as the identity policy read it.
template <class Gateway>
std::optional<std::string> refused_identity(const Gateway& gateway, const trustgate::decision& d, const incoming& request) {
    if constexpr (std::is_same_v<Gateway, trustgate::trusted_proxy_gateway>) {
        if (d.why != trustgate::reason::trusted_proxy_user_not_allowed && d.why != trustgate::reason::trusted_proxy_user_invalid)
            return std::nullopt;
        trustgate::request_facts facts;
        trustgate::detail::scan_request(request, gateway.template get<trustgate::proxy_identity>().user_header(), facts);
        return std::string(facts.user_value);
    } else {
        return std::nullopt;
    }
}

// The audit fields of an authentication decision (behaviour §7), and the configuration
// generation that decided it. `user` is the identity, or on a refusal the refused one;
// `localUid` is there whenever the kernel named the peer's user, in localUsers or not.
inline log_line decision_fields(const trustgate::decision::owned_decision& d, const audit_peer& peer,
                                std::uint64_t generation, const std::optional<std::string>& refused = std::nullopt) {
    log_line line;
    line["decision"] = d.allowed ? "allow" : "deny";
    line["reason"] = std::string(to_string(d.why));
    line["peer"] = peer.peer;
    if (peer.proof.found()) line["localUid"] = peer.proof.uid;
    line["clientIp"] = d.client_ip.to_string();
    line["via"] = std::string(to_string(d.how));
    line["user"] = d.allowed ? log_line(log_text(d.identity)) : refused ? log_line(log_text(*refused)) : log_line(nullptr);
    line["policy"] = d.policy;
    if (!d.detail.empty()) line["detail"] = d.detail;
    line["generation"] = generation;
    return line;
}

// What an audit line counts as in trustgate_decisions_total: the authentication decision,
// or the refusal that followed it (the via of the identity it refused).
struct counted {
    bool allowed;
    trustgate::reason why;
    trustgate::via how;
};

inline counted counted_as(const trustgate::decision& d) { return {d.allowed, d.why, d.how}; }
inline counted counted_as(const trustgate::decision::owned_decision& d) { return {d.allowed, d.why, d.how}; }

// An authenticated caller refused after authentication (scopes, origin).
inline void mark_refused(log_line& line, counted& outcome, trustgate::reason why, std::string_view policy,
                         std::string_view detail = {}) {
    outcome = {false, why, outcome.how};
    line["decision"] = "deny";
    line["reason"] = std::string(to_string(why));
    line["policy"] = std::string(policy);
    if (!detail.empty()) line["detail"] = std::string(detail);
}

inline void mark_missing_scope(log_line& line, counted& outcome, std::string_view scope) {
    mark_refused(line, outcome, trustgate::reason::missing_scope, trustgate::scopes<>::name, scope);
}

inline log_line rpc_result(const trustgate::decision::owned_decision& caller, const log_line& params) {
    return {{"user", caller.identity}, {"via", std::string(to_string(caller.how))}, {"params", params}};
}

// What one WebSocket was last decided under: the configuration, the decision and the
// grant computed from its upgrade request. Replaced when a reload re-decides it; frames
// and rechecks run on the connection's strand, one at a time, so no lock.
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
        log_line line = decision_fields(state.admitted, peer_, state.config->generation);
        line["route"] = "/ws";
        line["method"] = log_text(name);
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

    // A reload: requests that start from now on are decided under `config`; tell the
    // server to recheck its WebSockets afterwards (server::recheck_websockets).
    void replace(std::shared_ptr<const compiled_config> config) {
        const auto generation = config->generation;
        const auto previous = current_.exchange(config);
        // A new limiter starts its lockout count at zero; keep the old one's in the total.
        if (previous->limiter != config->limiter) retired_lockouts_ += previous->limiter->lockouts();
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
            if (request.local_socket() || !m.allow_from.contains(request.peer()))
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
    // Figures other parts of the gateway keep, read at each scrape.
    std::string exposition(const compiled_config& config) const {
        metrics_.set_lockouts(retired_lockouts_.load() + config.limiter->lockouts());
        if (config.jwks) {
            const auto& refreshes = config.jwks->refreshes();
            metrics_.set_jwks_refreshes(refreshes.ok.load(), refreshes.failed.load());
            metrics_.set_jwks_keys(config.jwks->verifier()->keys()->keys.size());
        }
        return metrics_.exposition();
    }

    // Writes and counts the decision line with the status sent. A refusal of a peer that
    // is not a trusted proxy ends the connection (behaviour §3 "Connections").
    trustgate::beast::response finish(log_line& line, const detail::counted& outcome, trustgate::beast::response res,
                                      bool close) const {
        line["status"] = res.result_int();
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
        log_line line = detail::decision_fields(d.owned(), detail::audit_peer_of(request, config->settings), config->generation,
                                                detail::refused_identity(gateway, d, request));
        const auto target = request.header().target();
        line["route"] = detail::loggable_target(std::string_view(target.data(), target.size()));
        const bool close_on_refusal = !config->trusted_peers.contains(request.peer());
        auto outcome = detail::counted_as(d);

        if (!d.allowed) {
            auto res = detail::refusal(request, d, expose_reasons);
            if (path == "/" && request.method() == http::verb::get) {
                auto page = detail::status_page(request, res.result());
                for (const auto field : {http::field::retry_after, http::field::www_authenticate})
                    if (res.count(field) != 0) page.set(field, res[field]);
                res = std::move(page);
            }
            return finish(line, outcome, std::move(res), close_on_refusal);
        }
        if ((request.wants_websocket() || request.method() == http::verb::post) && !config->origins.admits(request)) {
            detail::mark_refused(line, outcome, trustgate::reason::origin_not_allowed, "origin_check");
            return finish(line, outcome,
                          detail::forbidden(request, "Cross-site request", trustgate::reason::origin_not_allowed, expose_reasons),
                          close_on_refusal);
        }

        if (path == "/") {
            if (request.method() != http::verb::get) return finish(line, outcome, detail::method_not_allowed(request, "GET"), false);
            return finish(line, outcome, detail::status_page(request, http::status::ok), false);
        }

        if (path == "/whoami") {
            if (request.method() != http::verb::get) return finish(line, outcome, detail::method_not_allowed(request, "GET"), false);
            const auto granted = gateway.template get<trustgate::scopes<>>().granted(d, request);
            return finish(line, outcome,
                          detail::json_response(request, http::status::ok,
                                                {{"user", std::string(d.identity)},
                                                 {"via", std::string(to_string(d.how))},
                                                 {"scopes", detail::scope_names(granted)},
                                                 {"clientIp", d.client_ip.to_string()}}),
                          false);
        }

        if (path.starts_with("/rpc/") && path.size() > 5) {
            const auto method = path.substr(5);
            line["method"] = detail::log_text(method);
            if (request.method() != http::verb::post) return finish(line, outcome, detail::method_not_allowed(request, "POST"), false);
            const auto authorization = gateway.authorize(d, method, request);
            if (!authorization.allowed) {
                detail::mark_missing_scope(line, outcome, authorization.required_scope);
                return finish(line, outcome,
                              detail::forbidden(request, detail::missing_scope_message(authorization.required_scope),
                                                trustgate::reason::missing_scope, expose_reasons),
                              close_on_refusal);
            }
            // Only now, authenticated and authorised, is the body worth reading.
            return trustgate::beast::read_body{[this, line, outcome, caller = d.owned(), method = std::string(method)](
                                                   const incoming& with_body, std::string body) mutable {
                const auto params = body.empty() ? std::optional<log_line>(log_line::object()) : detail::parse_message(body);
                if (!params || !params->is_object())
                    return finish(line, outcome,
                                  detail::error_response(with_body, http::status::bad_request, "bad_request",
                                                         "expected a JSON object as the request body, each key once"),
                                  false);
                return finish(line, outcome,
                              detail::json_response(with_body, http::status::ok,
                                                    {{"ok", true}, {"method", method}, {"result", detail::rpc_result(caller, *params)}}),
                              false);
            }};
        }

        if (path == "/ws") {
            if (!request.wants_websocket()) {
                auto res = detail::error_response(request, http::status::upgrade_required, "upgrade_required",
                                                  "expected a WebSocket upgrade");
                res.set(http::field::upgrade, "websocket");
                return finish(line, outcome, std::move(res), false);
            }
            const auto& scopes = gateway.template get<trustgate::scopes<>>();
            auto state = std::make_shared<detail::websocket_state>(
                detail::websocket_state{config, &scopes, d.owned(), scopes.granted(d, request)});
            return trustgate::beast::websocket_accept{
                detail::frame_handler(state, detail::audit_peer_of(request, config->settings), audit_, metrics_),
                [this, state](const incoming& upgrade) { return recheck_websocket(*state, upgrade); },
                [this, line, outcome](unsigned status) mutable {
                    line["status"] = status;
                    metrics_.count(outcome.allowed, outcome.why, outcome.how);
                    audit_.write("decision", line);
                }};
        }

        return finish(line, outcome, detail::error_response(request, http::status::not_found, "not_found", "Not Found"), false);
    }

    // behaviour §3 "Connections": an open WebSocket decided again, from its upgrade request,
    // under the configuration now current. Nothing (and the new grant in `state`) to
    // keep it, or the reason code it is closed with.
    std::optional<std::string> recheck_websocket(detail::websocket_state& state, const incoming& upgrade) const {
        const auto config = current_.load();
        if (config == state.config) return std::nullopt;
        return std::visit([&](const auto& gateway) { return recheck_under(config, gateway, state, upgrade); },
                          config->recheck_gateway);
    }

    template <class Gateway>
    std::optional<std::string> recheck_under(const std::shared_ptr<const compiled_config>& config, const Gateway& gateway,
                                             detail::websocket_state& state, const incoming& upgrade) const {
        const trustgate::decision d = gateway.authenticate(upgrade);
        log_line line = detail::decision_fields(d.owned(), detail::audit_peer_of(upgrade, config->settings), config->generation,
                                                detail::refused_identity(gateway, d, upgrade));
        line["route"] = "/ws";
        line["trigger"] = "reload";
        std::optional<trustgate::reason> refused;
        auto outcome = detail::counted_as(d);
        if (!d.allowed) {
            refused = d.why;
        } else if (!config->origins.admits(upgrade)) {
            refused = trustgate::reason::origin_not_allowed;
            detail::mark_refused(line, outcome, *refused, "origin_check");
        }
        metrics_.count(outcome.allowed, outcome.why, outcome.how);
        if (refused) {
            line["closeCode"] = 1008;
            audit_.write("decision", line);
            return std::string(to_string(*refused));
        }
        const auto& scopes = gateway.template get<trustgate::scopes<>>();
        state = detail::websocket_state{config, &scopes, d.owned(), scopes.granted(d, upgrade)};
        line["scopes"] = detail::scope_names(state.grant);
        audit_.write("decision", line);
        return std::nullopt;
    }

    const std::optional<std::string> strict_transport_security_;
    // A reload stores a new snapshot here; requests in flight keep theirs.
    std::atomic<std::shared_ptr<const compiled_config>> current_;
    const audit_log& audit_;
    trustgate::metrics& metrics_;
    std::atomic<std::uint64_t> retired_lockouts_{0};  // of limiters replaced by a reload
};

}  // namespace trustgate_gateway
