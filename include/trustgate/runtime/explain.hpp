// trustgate/runtime/explain.hpp — one request decided and explained without serving
// (behaviour §13), as `trustgate-gateway --explain --peer ADDRESS` prints it.
//
//   printf 'GET /whoami HTTP/1.1\nHost: gw\nX-Forwarded-User: alice\n\n' |
//       trustgate-gateway --explain --peer 10.0.0.5 --config gateway.jsonc
//
// Reads one raw HTTP request, decides it under the configuration without serving, and
// prints each policy in order (trustgate/trace.hpp: what it read, what it concluded), then
// the decision, the scopes granted and, for /rpc/<method>, the authorisation. Bare LF line
// ends and a missing final blank line are accepted, since people type these requests.
// Only the header section is read, as the gateway decides before reading a body. Never
// printed: a token, a password, a cookie, the query string.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "trustgate/beast/handler.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/runtime/audit_log.hpp"
#include "trustgate/runtime/compiled_config.hpp"
#include "trustgate/trace.hpp"

namespace trustgate::runtime {

namespace detail {

// The header section of `text`, or nullopt with `error` set.
inline std::optional<trustgate::beast::request_header> parse_raw_request(std::string text, std::string& error) {
    if (text.find("\r\n") == std::string::npos) {
        std::string crlf;
        for (const char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
        text = std::move(crlf);
    }
    if (text.find("\r\n\r\n") == std::string::npos) text += text.ends_with("\r\n") ? "\r\n" : "\r\n\r\n";
    // Not eager: the parser stops at the end of the header section, as the gateway does.
    trustgate::beast::request_parser<boost::beast::http::empty_body> parser;
    parser.header_limit(64 * 1024);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(text), ec);
    if (ec && ec != boost::beast::http::error::need_more) {
        error = "expected an HTTP/1.1 request header: " + ec.message();
        return std::nullopt;
    }
    if (!parser.is_header_done()) {
        error = "expected an HTTP/1.1 request header ending in a blank line";
        return std::nullopt;
    }
    return trustgate::beast::request_header(parser.release().base());
}

// Text safe for a terminal: control bytes become \xNN.
inline std::string terminal_safe(std::string_view text) {
    std::string out;
    for (const unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

inline log_line decision_json(const trustgate::decision::owned_decision& d) {
    log_line j{{"decision", d.allowed ? "allow" : "deny"},
               {"reason", std::string(to_string(d.why))},
               {"via", std::string(to_string(d.how))},
               {"user", d.allowed ? log_line(d.identity) : log_line(nullptr)},
               {"policy", d.policy},
               {"clientIp", d.client_ip.to_string()}};
    if (!d.detail.empty()) j["detail"] = d.detail;
    if (d.retry_after.count() > 0) j["retryAfter"] = d.retry_after.count();
    return j;
}

inline std::string decision_text(const trustgate::decision::owned_decision& d) {
    std::string out = d.allowed ? "allow via " + std::string(to_string(d.how)) + " as " + terminal_safe(d.identity)
                                : "deny " + std::string(to_string(d.why));
    if (!d.detail.empty()) out += " (" + terminal_safe(d.detail) + ")";
    if (d.retry_after.count() > 0) out += ", retry after " + std::to_string(d.retry_after.count()) + " s";
    return out;
}

}  // namespace detail

// Prints the explanation of `raw` from `peer` to `out`; returns the exit status (0 allow,
// 1 deny, 2 bad input, with one line on `err`). `proof` is what the kernel would have said
// about the peer's process (--uid), none by default.
inline int explain(const compiled_config& config, trustgate::net::address peer, trustgate::local_proof proof, std::string raw,
                   bool as_json, std::FILE* out, std::FILE* err) {
    std::string error;
    const auto message = detail::parse_raw_request(std::move(raw), error);
    if (!message) {
        std::fprintf(err, "bad input: %s\n", error.c_str());
        return 2;
    }
    const trustgate::beast::incoming request(*message, peer, false, proof);
    const auto path = std::string(request.path());

    return std::visit([&](const auto& gateway) {
        trustgate::decision_trace trace;
        const auto d = gateway.authenticate(request, trace);
        auto final_decision = d.owned();
        log_line report{{"peer", peer.to_string()},
                        {"method", std::string(trustgate::beast::http::to_string(request.method()))},
                        {"path", path},
                        {"generation", config.generation}};
        log_line steps = log_line::array();
        std::string text = "request: " + report["method"].get<std::string>() + " " + detail::terminal_safe(path) + " from " +
                           peer.to_string() + "\n";
        for (std::size_t i = 0; i < trace.steps.size(); ++i) {
            const auto& step = trace.steps[i];
            log_line read = log_line::array();
            text += std::to_string(i + 1) + ". " + step.policy + "\n";
            for (const auto& note : step.read) {
                read.push_back({{"what", note.what}, {"value", note.value}});
                text += "     " + note.what + ": " + detail::terminal_safe(note.value) + "\n";
            }
            text += "   => " + (step.decided ? detail::decision_text(*step.decided) : std::string("next policy")) + "\n";
            steps.push_back({{"policy", step.policy},
                             {"read", std::move(read)},
                             {"concluded", step.decided ? detail::decision_json(*step.decided) : log_line("next policy")}});
        }
        if (trace.concluded_by_gateway)
            text += "   => no policy decided: " + std::string(d.allowed ? "the identity stage's identity stands" : "no identity") + "\n";
        report["steps"] = std::move(steps);

        if (d.allowed) {
            const auto& scopes = gateway.template get<trustgate::scopes<>>();
            const auto granted = scopes.granted(d, request);
            log_line names = log_line::array();
            std::string listed;
            for (const auto name : trustgate::scopes<>::names_of(granted)) {
                names.push_back(std::string(name));
                listed += (listed.empty() ? "" : ", ") + std::string(name);
            }
            report["scopes"] = std::move(names);
            text += "scopes: " + (listed.empty() ? std::string("none") : listed) + "\n";
            if (path.starts_with("/rpc/") && path.size() > 5) {
                const auto method = path.substr(5);
                const auto authorization = scopes.authorize(granted, method);
                report["authorization"] = {{"method", method},
                                           {"requiredScope", std::string(authorization.required_scope)},
                                           {"allowed", authorization.allowed}};
                text += "authorize " + detail::terminal_safe(method) + ": needs " + std::string(authorization.required_scope) +
                        (authorization.allowed ? ", granted\n" : ", missing\n");
                if (!authorization.allowed) {
                    final_decision.allowed = false;
                    final_decision.why = trustgate::reason::missing_scope;
                    final_decision.policy = std::string(trustgate::scopes<>::name);
                    final_decision.detail = std::string(authorization.required_scope);
                }
            }
        }
        report["decision"] = detail::decision_json(final_decision);
        text += "decision: " + detail::decision_text(final_decision) + " [policy " + final_decision.policy + ", client IP " +
                final_decision.client_ip.to_string() + "]\n";
        const std::string printed = as_json ? to_text(report) + "\n" : text;
        std::fwrite(printed.data(), 1, printed.size(), out);
        return final_decision.allowed ? 0 : 1;
    }, config.gateway);
}

}  // namespace trustgate::runtime
