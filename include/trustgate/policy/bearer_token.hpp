// trustgate/policy/bearer_token.hpp — token mode: every peer must present the token.
#pragma once

#include <string_view>

#include "trustgate/config.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"
#include "trustgate/token_auth.hpp"

namespace trustgate {

class bearer_token {
public:
    static constexpr trustgate::stage stage = trustgate::stage::identity;
    static constexpr std::string_view name = "bearer_token";
    // Token mode knows that the caller holds the token, not who they are.
    static constexpr std::string_view token_identity = "token";

    bearer_token() = default;
    explicit bearer_token(token_auth token) : token_(std::move(token)) {}

    template <class Context>
    static bearer_token from_config(const auth_config& config, const Context& context) {
        if (!config.token || config.token->empty())
            throw config_error("gateway.auth.token", "expected a token (string or SecretRef) when gateway.auth.mode is \"token\"");
        return bearer_token(token_auth(*config.token, context.limiter));
    }

    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        if (facts.bearer == bearer_state::absent) return decision::deny(reason::token_missing, name);
        if (auto refused = token_auth::refusal(token_.verify(facts.bearer, facts.bearer_token, facts.client_ip), name))
            return refused;
        facts.identity = token_identity;
        facts.how = via::token;
        return next_policy;
    }

    template <request_view R>
    void explain(const request_facts& facts, const R&, trace_step& step) const {
        step.add("authorization", describe(facts.bearer)).add("client IP", facts.client_ip.to_string());
    }

private:
    token_auth token_;
};

}  // namespace trustgate
