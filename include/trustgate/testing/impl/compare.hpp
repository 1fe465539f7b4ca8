// Differences between what a gateway decided and what the reference model says, as text
// for a counterexample report. Empty means they agree.
#pragma once

#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <trustgate/model/reference_model.hpp>

#include "trustgate/decision.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/testing/show.hpp"

namespace trustgate::testing::detail {

inline std::string describe(const model::outcome& o) {
    std::string out = std::string(o.allowed ? "allow" : "deny") + " reason " + std::string(to_string(o.why)) + " via " +
                      std::string(to_string(o.how)) + " identity " + quoted(o.identity) + " client_ip " + o.client_ip.to_string();
    if (!o.detail.empty()) out += " detail " + quoted(o.detail);
    if (o.retry_after.count() != 0) out += " retry_after " + std::to_string(o.retry_after.count()) + "s";
    return out;
}

inline std::string describe(const decision& d) {
    std::ostringstream os;
    showValue(d, os);
    return os.str();
}

// Decision, reason, identity, via, client IP, the missing header and the retry delay.
inline std::string difference(const decision& d, const model::outcome& o) {
    if (d.allowed == o.allowed && d.why == o.why && d.how == o.how && d.identity == o.identity && d.client_ip == o.client_ip &&
        d.detail == o.detail && d.retry_after == o.retry_after)
        return {};
    return "gateway: " + describe(d) + "\nmodel:   " + describe(o);
}

// Two gateway decisions on what should be the same request.
inline std::string difference(const decision& a, const decision& b) {
    if (a.allowed == b.allowed && a.why == b.why && a.how == b.how && a.identity == b.identity && a.client_ip == b.client_ip &&
        a.detail == b.detail)
        return {};
    return "before: " + describe(a) + "\nafter:  " + describe(b);
}

// A model outcome for a library decision, for the model's §5 functions.
inline model::outcome as_outcome(const decision& d) {
    model::outcome o;
    o.allowed = d.allowed;
    o.why = d.why;
    o.how = d.how;
    o.identity = std::string(d.identity);
    o.client_ip = d.client_ip;
    return o;
}

inline std::set<std::string> granted_names(scope_mask granted) {
    std::set<std::string> names;
    for (const auto n : scopes<>::names_of(granted)) names.emplace(n);
    return names;
}

inline std::string joined(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return "[" + out + "]";
}

inline std::string difference(const authorization& a, const model::authorization& m, std::string_view method) {
    const auto library_granted = granted_names(a.granted);
    const std::set<std::string> model_granted(m.granted.begin(), m.granted.end());
    if (a.allowed == m.allowed && a.required_scope == m.required_scope && library_granted == model_granted) return {};
    return "method " + quoted(method) + "\ngateway: " + (a.allowed ? "allowed" : "missing_scope") + " requires " +
           std::string(a.required_scope) + " granted " + joined(library_granted) + "\nmodel:   " +
           (m.allowed ? "allowed" : "missing_scope") + " requires " + m.required_scope + " granted " + joined(model_granted);
}

}  // namespace trustgate::testing::detail
