// trustgate/trace.hpp — how a decision was reached, step by step (behaviour §13 --explain).
//
//   trustgate::decision_trace trace;
//   auto d = gw.authenticate(request, trace);   // same decision as authenticate(request)
//   for (const auto& step : trace.steps) ...    // each policy that ran, in order
//
// Only this overload traces: authenticate(request) is a different instantiation that
// never touches a trace, so the normal path pays nothing. The gateway records every
// policy it runs and what it concluded; a policy that also says what it read provides
//
//   template <request_view R>
//   void explain(const request_facts&, const R&, trace_step&) const;
//
// called after its check, with the facts as the check left them. A trace never holds a
// secret: notes name headers and say whether a token was present, never a token, a
// password or a cookie. It owns its strings and may outlive the request.
#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/decision.hpp"

namespace trustgate {

struct trace_step {
    struct note {
        std::string what;   // e.g. "peer", "header x-forwarded-user"
        std::string value;  // what was found there
    };

    std::string policy;                                // the policy's name, as in decision::policy
    std::vector<note> read;                            // what it looked at, in order
    std::optional<decision::owned_decision> decided;   // empty: it let the next policy run

    trace_step& add(std::string_view what, std::string_view value) {
        read.push_back({std::string(what), std::string(value)});
        return *this;
    }
    // Exactly bool: a string literal must not convert to it.
    template <std::same_as<bool> B>
    trace_step& add(std::string_view what, B value) { return add(what, std::string_view(value ? "yes" : "no")); }
};

struct decision_trace {
    std::vector<trace_step> steps;
    // Set when no policy decided and the gateway concluded from the identity stage's facts.
    bool concluded_by_gateway = false;
};

}  // namespace trustgate
