// trustgate/policy/loopback_policy.hpp — behaviour §3 steps 2, 3 and 5: local tools.
//
// A CLI or sub-agent on the gateway host connects straight to the gateway, so it cannot
// carry the proxy's user header. This policy lets such a request in as `loopbackUser`,
// or with the gateway token, but only when it is provably direct-local (behaviour §1): a
// loopback peer, trusted, with no forwarded evidence and a local host/origin, whose
// socket the kernel says belongs to one of `localUsers`. A same-host proxy that forwards
// properly adds forwarding headers; one that drops them (an nginx `location` with its own
// `proxy_set_header` lines) still runs as its own user, so it is not a local tool either.
#pragma once

#include <array>
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/detail/local_users.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/policy/trusted_source.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"
#include "trustgate/token_auth.hpp"

namespace trustgate {

class loopback_policy {
public:
    static constexpr trustgate::stage stage = trustgate::stage::local;
    static constexpr std::string_view name = "loopback_policy";
    static constexpr std::array reasons{reason::trusted_proxy_loopback_source, reason::trusted_proxy_user_missing,
                                            reason::token_missing, reason::token_mismatch, reason::rate_limited};
    // Identity of a token-authenticated local request when no loopbackUser is set.
    static constexpr std::string_view local_identity = "local";

    struct options {
        bool allow_loopback = false;               // let a same-host proxy use the header path
        std::optional<std::string> loopback_user;  // identity for direct-local requests
        std::vector<std::uint32_t> local_users;    // user ids whose sockets count as local tools
    };

    loopback_policy() = default;
    loopback_policy(options opts, token_auth token) : options_(std::move(opts)), token_(std::move(token)) {}

    template <class Context>
    static loopback_policy from_config(const auth_config& config, const Context& context) {
        const auto& tp = config.trusted_proxy;
        if (tp.loopback_user) {
            const std::string path = "gateway.auth.trustedProxy.loopbackUser";
            const std::string_view user = *tp.loopback_user;
            // What a proxy's user header could carry (behaviour §3 step 4.4), and no comma.
            if (detail::is_blank(user) || detail::trim(user) != user || !acceptable_identity(user) ||
                user.find(',') != std::string_view::npos)
                throw config_error(path, "expected a non-blank identity of at most " + std::to_string(max_identity_bytes) +
                                             " bytes without commas, control characters or surrounding spaces");
            if (!tp.allow_users.empty() &&
                std::none_of(tp.allow_users.begin(), tp.allow_users.end(), [&](const std::string& u) {
                    return tp.allow_users_case_insensitive ? detail::iequals(u, user) : u == user;
                }))
                throw config_error(path, "expected one of gateway.auth.trustedProxy.allowUsers, got \"" +
                                             std::string(user) + "\"");
            if (!trusted_source::parse(config.trusted_proxies).trusts_loopback())
                throw config_error(path, "expected gateway.trustedProxies to contain a loopback entry "
                                         "(127.0.0.1 or ::1); without one loopbackUser can never apply");
        }
        if constexpr (!local_proof_available) {
            if (tp.allow_loopback && (tp.loopback_user || config.token))
                throw config_error("gateway.auth.trustedProxy.allowLoopback",
                                   "expected false: this platform cannot prove which user a local connection belongs "
                                   "to, so with loopbackUser or a token a same-host proxy could pass for a local tool");
        }
        return loopback_policy({tp.allow_loopback, tp.loopback_user, resolve_local_users(tp.local_users)},
                               config.token ? token_auth(*config.token, context.limiter) : token_auth());
    }

    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        const bool local = facts.direct_local() && proven_local(facts.proof);
        if (facts.peer_loopback && !options_.allow_loopback) {
            if (local && !facts.user_present) return fallback(facts, true);
            return decision::deny(reason::trusted_proxy_loopback_source, name);
        }
        if (!facts.user_present && local) return fallback(facts, false);
        return next_policy;
    }

    template <request_view R>
    void explain(const request_facts& facts, const R&, trace_step& step) const {
        step.add("peer is loopback", facts.peer_loopback).add("allowLoopback", options_.allow_loopback);
        step.add("forwarded evidence", facts.forwarded_evidence).add("host names this host", facts.host_is_local);
        step.add("origin names this host", facts.origin_is_local);
        switch (facts.proof.result) {
            case local_proof::outcome::found: step.add("local process proof", "uid " + std::to_string(facts.proof.uid)); break;
            case local_proof::outcome::failed: step.add("local process proof", "the kernel named nobody"); break;
            case local_proof::outcome::none: step.add("local process proof", "not looked up"); break;
        }
        step.add("uid in localUsers", proven_local(facts.proof)).add("direct-local", facts.direct_local() && proven_local(facts.proof));
        step.add("user header present", facts.user_present).add("authorization", describe(facts.bearer));
        step.add("loopbackUser", options_.loopback_user ? std::string_view(*options_.loopback_user) : "not set");
        step.add("token configured", token_.configured());
    }

    // behaviour §1: the kernel named the peer's user and it is one of localUsers. Where the
    // platform cannot prove, from_config has ruled out the same-host proxy instead.
    bool proven_local(const local_proof& proof) const noexcept {
        if constexpr (!local_proof_available) return true;
        return proof.found() &&
               std::find(options_.local_users.begin(), options_.local_users.end(), proof.uid) != options_.local_users.end();
    }

    const token_auth& token() const noexcept { return token_; }

private:
    static std::vector<std::uint32_t> resolve_local_users(const std::vector<std::string>& names) {
        std::vector<std::uint32_t> ids;
        for (std::size_t i = 0; i < names.size(); ++i) {
            const auto id = detail::resolve_user(names[i]);
            if (!id)
                throw config_error("gateway.auth.trustedProxy.localUsers[" + std::to_string(i) + "]",
                                   "expected a user name known to this host or a numeric user id, got \"" +
                                       names[i] + "\"");
            ids.push_back(*id);
        }
        if (ids.empty())
            if (const auto self = detail::running_user()) ids.push_back(*self);
        return ids;
    }

    // Step 5: only ever reached by a direct-local request without a user header.
    decision fallback(const request_facts& facts, bool from_loopback_step) const {
        if (facts.bearer != bearer_state::absent && token_.configured()) {
            if (auto refused = token_auth::refusal(token_.verify(facts.bearer, facts.bearer_token, facts.client_ip), name))
                return *refused;
            return decision::allow(via::token, options_.loopback_user ? std::string_view(*options_.loopback_user) : local_identity, name);
        }
        if (options_.loopback_user) return decision::allow(via::loopback_user, *options_.loopback_user, name);
        if (token_.configured()) return decision::deny(reason::token_missing, name);
        return decision::deny(from_loopback_step ? reason::trusted_proxy_loopback_source : reason::trusted_proxy_user_missing, name);
    }

    options options_;
    token_auth token_;
};

}  // namespace trustgate
