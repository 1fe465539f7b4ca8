// trustgate/runtime/http_answer.hpp — decisions as HTTP answers (behaviour §7).
//
//   const trustgate::decision d = gateway.authenticate(request);
//   if (!d.allowed) return refusal(request, d, config->settings.expose_reasons);
//
// A refusal is 401 with `WWW-Authenticate: Bearer`; 403 for an identity the proxy vouched
// for that is not let in; 429 with `Retry-After` for a locked-out client. Bodies are
// {"error":{"type":…,"message":…}}, with the reason code only when
// gateway.auth.exposeReasons is set: a caller learns nothing else about why.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "trustgate/beast/handler.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/runtime/audit_log.hpp"
#include "trustgate/token_auth.hpp"

namespace trustgate::runtime {

inline trustgate::beast::response json_response(const trustgate::beast::incoming& request, beast::http::status status, const log_line& body) {
    return trustgate::beast::make_response(request, status, to_text(body));
}

// {"error":{"type":…,"message":…}}, plus "reason" when gateway.auth.exposeReasons is set.
inline log_line error_body(std::string_view type, std::string_view message, std::optional<trustgate::reason> why,
                           bool expose_reasons) {
    log_line error{{"type", std::string(type)}, {"message", std::string(message)}};
    if (why && expose_reasons) error["reason"] = std::string(to_string(*why));
    return {{"error", std::move(error)}};
}

inline trustgate::beast::response error_response(const trustgate::beast::incoming& request, beast::http::status status, std::string_view type,
                                                 std::string_view message) {
    return json_response(request, status, error_body(type, message, std::nullopt, false));
}

inline trustgate::beast::response forbidden(const trustgate::beast::incoming& request, std::string_view message, trustgate::reason why,
                                            bool expose_reasons) {
    return json_response(request, beast::http::status::forbidden, error_body("forbidden", message, why, expose_reasons));
}

// 401; 403 for an identity the proxy vouched for that is not let in; 429 with
// Retry-After for a locked-out client. A shared store that could not answer (behaviour §12)
// gives a 429 without Retry-After: there is no lockout to wait for.
inline trustgate::beast::response refusal(const trustgate::beast::incoming& request, const trustgate::decision& d, bool expose_reasons) {
    if (d.why == trustgate::reason::rate_limited) {
        auto res = json_response(request, beast::http::status::too_many_requests,
                                 error_body("rate_limited", "Too Many Requests", d.why, expose_reasons));
        if (d.detail != trustgate::token_auth::store_unavailable)
            res.set(beast::http::field::retry_after, std::to_string(std::max<long long>(1, d.retry_after.count())));
        return res;
    }
    if (d.why == trustgate::reason::trusted_proxy_user_not_allowed) return forbidden(request, "Forbidden", d.why, expose_reasons);
    auto res = json_response(request, beast::http::status::unauthorized, error_body("unauthorized", "Unauthorized", d.why, expose_reasons));
    res.set(beast::http::field::www_authenticate, "Bearer");
    return res;
}

inline trustgate::beast::response method_not_allowed(const trustgate::beast::incoming& request, std::string_view allowed) {
    auto res = error_response(request, beast::http::status::method_not_allowed, "method_not_allowed", "Method Not Allowed");
    res.set(beast::http::field::allow, std::string(allowed));
    return res;
}

}  // namespace trustgate::runtime
