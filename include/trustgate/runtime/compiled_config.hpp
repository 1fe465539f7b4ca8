// trustgate/runtime/compiled_config.hpp — a configuration turned into a ready gateway.
//
//   auto config = load(parse_config(text));                  // start-up: generation 1
//   auto next = load(parse_config(new_text), config.get());  // a reload: generation 2
//
// load() resolves the secrets (reading files, running exec providers), then compile()
// validates everything and builds the gateway; either throws trustgate::config_error
// naming the JSON path, and nothing is half-built. compile() alone does no I/O (a fuzz
// target can call it): a shared limiter store (behaviour §12) is made only by the
// store_connector given to load(), which a check-only run leaves out, so that checking
// never contacts Redis. The result is immutable and shared by pointer: a request takes one
// snapshot and is decided wholly under it, so replacing the pointer (a reload) never
// mixes two configurations.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "trustgate/runtime/config_json.hpp"
#include "trustgate/runtime/jwks_fetch.hpp"
#include "trustgate/runtime/policy_settings.hpp"
#include "trustgate/runtime/secrets.hpp"
#include "trustgate/runtime/security_audit.hpp"
#include "trustgate/assertion/proxy_assertion.hpp"
#include "trustgate/attempt_limiter.hpp"
#include "trustgate/net/prefix_set.hpp"
#include "trustgate/origin.hpp"
#include "trustgate/policy/proxy_certificate.hpp"
#include "trustgate/policy/trusted_source.hpp"
#include "trustgate/presets.hpp"

namespace trustgate::runtime {

// One composition per gateway.auth.mode (trustgate/presets.hpp), and trusted-proxy mode
// with a signed assertion (behaviour §10).
using any_gateway = std::variant<trustgate::trusted_proxy_gateway, trustgate::token_gateway, trustgate::open_gateway,
                                 trustgate::assertion::trusted_proxy_assertion_gateway, trustgate::trusted_proxy_certificate_gateway>;

// Makes the shared store `settings` name (gateway.auth.rateLimit.store), counting in
// `fallback` while it is unavailable if the settings say so.
using store_connector = std::function<std::shared_ptr<trustgate::attempt_store>(
    const trustgate::redis::store_options& settings, const trustgate::rate_limit_config& limits, trustgate::attempt_limiter& fallback)>;

struct compiled_config {
    gateway_config settings;  // with gateway.auth.token resolved
    std::uint64_t generation = 1;  // 1 at start-up, one more for each successful reload
    std::vector<finding> findings;  // the security audit of these settings
    // Failed token compares (behaviour §6); outlives the gateway, which points into it.
    std::shared_ptr<trustgate::attempt_limiter> limiter;
    // The shared store the gateway counts in instead, when one is configured and connected
    // (it may fall back on `limiter`, so it is declared after it and destroyed first).
    std::shared_ptr<const store_connector> connect;
    std::shared_ptr<trustgate::attempt_store> shared_store;
    any_gateway gateway;
    // The same composition without the limiter, for deciding an open WebSocket again
    // after a reload: that is not a new attempt by its client, and must not count as one.
    any_gateway recheck_gateway;
    trustgate::origin_check origins;         // gateway.http.allowedOrigins
    trustgate::net::prefix_set trusted_peers;  // gateway.trustedProxies (empty when none)
    // behaviour §10: keeps the assertion keys of a jwksUrl current (load() starts it).
    std::shared_ptr<trustgate::assertion::jwks_refresher> jwks;
};

// Mode selection: the composition gateway.auth.mode names, built by build() (so a key
// under gateway.policies, which none of these reads, is refused).
inline any_gateway build_gateway(const gateway_config& settings, trustgate::attempt_store* limiter) {
    const auto& auth = settings.auth;
    switch (auth.mode) {
        case trustgate::auth_mode::token:
            return any_gateway(std::in_place_type<trustgate::token_gateway>, build<trustgate::token_gateway>(settings, limiter));
        case trustgate::auth_mode::none:
            return any_gateway(std::in_place_type<trustgate::open_gateway>, build<trustgate::open_gateway>(settings, limiter));
        case trustgate::auth_mode::trusted_proxy: break;
    }
    if (auth.trusted_proxy.client_certificate) {
        if (auth.trusted_proxy.assertion)
            throw trustgate::config_error("gateway.auth.trustedProxy.clientCertificate",
                                          "expected no assertion alongside: the example gateway checks one proxy proof, a "
                                          "client certificate (behaviour §11) or a signed assertion (behaviour §10)");
        return any_gateway(std::in_place_type<trustgate::trusted_proxy_certificate_gateway>,
                           trustgate::trusted_proxy_certificate_gateway::from_config(auth, limiter));
    }
    if (auth.trusted_proxy.assertion)
        return any_gateway(std::in_place_type<trustgate::assertion::trusted_proxy_assertion_gateway>,
                           build<trustgate::assertion::trusted_proxy_assertion_gateway>(settings, limiter));
    return any_gateway(std::in_place_type<trustgate::trusted_proxy_gateway>, build<trustgate::trusted_proxy_gateway>(settings, limiter));
}

// The composition of `main` for re-deciding open WebSockets: built again from the same
// configuration without the failed-attempt limiter, except for policies whose state is
// fetched at run time (a signed assertion's keys), which are shared with `main`.
template <class... Policies>
trustgate::gateway<Policies...> without_limiter(const trustgate::gateway<Policies...>& main, const trustgate::auth_config& auth) {
    const trustgate::build_context no_limiter{};
    const auto rebuilt = [&]<class P>(std::type_identity<P>) -> P {
        if constexpr (requires(const P& p) { p.verifier(); }) return main.template get<P>();
        else return P::from_config(auth, no_limiter);
    };
    return trustgate::gateway<Policies...>(rebuilt(std::type_identity<Policies>{})...);
}

inline bool same_store(const trustgate::redis::store_options& a, const trustgate::redis::store_options& b) {
    return a.host == b.host && a.port == b.port && a.database == b.database && a.key_prefix == b.key_prefix &&
           a.timeout == b.timeout && a.when_unavailable == b.when_unavailable && a.password == b.password;
}

// Replaces the SecretRef fields by their values; returns what the resolvers noticed.
inline std::vector<secret_notice> resolve_secret_fields(gateway_config& settings) {
    std::vector<secret_field> fields;
    if (settings.token_ref) fields.push_back({"gateway.auth.token", *settings.token_ref});
    if (settings.store_password_ref) fields.push_back({"gateway.auth.rateLimit.store.password", *settings.store_password_ref});
    if (fields.empty()) return {};
    auto resolved = resolve_secrets(fields, settings.providers);
    std::size_t next = 0;
    if (settings.token_ref) {
        detail::check_token_text(resolved.values[next], fields[next].path, "the value of " + detail::describe(fields[next].ref));
        settings.auth.token = std::move(resolved.values[next++]);
    }
    if (settings.store_password_ref) {
        if (resolved.values[next].empty())
            throw config_error(fields[next].path, "expected a non-empty password: the value of " + detail::describe(fields[next].ref) +
                                                      " is empty");
        settings.shared_store->password = std::move(resolved.values[next]);
    }
    return std::move(resolved.notices);
}

// Builds the gateway from settings whose secrets are resolved. `previous` is the
// configuration being replaced, if any: the new one is its next generation, and keeps its
// failed-attempt counts and lockouts (and its shared store's connection) unless the
// rateLimit settings changed. `notices` (from the resolvers) join the security audit.
// `connect` makes the shared store; without it (and without a previous one to inherit)
// the gateway counts in memory.
inline std::shared_ptr<const compiled_config> compile(gateway_config settings, const compiled_config* previous = nullptr,
                                                      std::span<const secret_notice> notices = {},
                                                      std::shared_ptr<const store_connector> connect = nullptr) {
    if (settings.token_ref && !settings.auth.token)
        throw config_error("gateway.auth.token", "expected the SecretRef to be resolved first (load() does that)");
    if (settings.store_password_ref && !settings.shared_store->password)
        throw config_error("gateway.auth.rateLimit.store.password", "expected the SecretRef to be resolved first (load() does that)");
    // behaviour §2 holds in every mode: an entry that does not parse is an error even where
    // the mode does not use the list.
    const auto trusted_peers = settings.auth.trusted_proxies.empty()
                                   ? trustgate::net::prefix_set{}
                                   : trustgate::trusted_source::parse(settings.auth.trusted_proxies).proxies();
    auto origins = trustgate::origin_check::parse(settings.allowed_origins);
    const bool keep_limiter = previous != nullptr && previous->settings.auth.rate_limit == settings.auth.rate_limit;
    auto limiter = keep_limiter ? previous->limiter : std::make_shared<trustgate::attempt_limiter>(settings.auth.rate_limit);
    if (connect == nullptr && previous != nullptr) connect = previous->connect;
    std::shared_ptr<trustgate::attempt_store> shared_store;
    if (settings.shared_store && connect != nullptr) {
        const bool keep_store = keep_limiter && previous->shared_store && previous->settings.shared_store &&
                                same_store(*previous->settings.shared_store, *settings.shared_store);
        shared_store = keep_store ? previous->shared_store : (*connect)(*settings.shared_store, settings.auth.rate_limit, *limiter);
    }
    auto gateway = build_gateway(settings, shared_store ? shared_store.get() : limiter.get());
    auto recheck_gateway = std::visit([&](const auto& g) { return any_gateway(without_limiter(g, settings.auth)); }, gateway);
    auto findings = security_audit(settings, notices);
    // behaviour §10: keys of a jwksFile that were skipped (a jwksUrl's are logged as it loads).
    if (const auto* g = std::get_if<trustgate::assertion::trusted_proxy_assertion_gateway>(&gateway))
        for (const auto& why : g->template get<trustgate::assertion::proxy_assertion>().verifier()->keys()->warnings)
            findings.push_back({finding_id::jwks_key_skipped, severity::warn, "gateway.auth.trustedProxy.assertion.jwksFile", why});
    const auto generation = previous != nullptr ? previous->generation + 1 : 1;
    return std::make_shared<const compiled_config>(compiled_config{std::move(settings), generation, std::move(findings),
                                                                   std::move(limiter), std::move(connect), std::move(shared_store),
                                                                   std::move(gateway),
                                                                   std::move(recheck_gateway), std::move(origins), trusted_peers, nullptr});
}

// behaviour §10: a jwksUrl's keys, loaded now (at most 5 s) and refreshed in the background.
// A reload whose fetch fails keeps the keys the previous generation had from the same URL.
inline std::shared_ptr<trustgate::assertion::jwks_refresher> start_jwks(const compiled_config& config,
                                                                       const compiled_config* previous) {
    const auto* g = std::get_if<trustgate::assertion::trusted_proxy_assertion_gateway>(&config.gateway);
    if (g == nullptr) return nullptr;
    const auto& policy = g->get<trustgate::assertion::proxy_assertion>();
    const auto* resolved = policy.resolved();
    if (!resolved->jwks_url) return nullptr;
    std::shared_ptr<const trustgate::assertion::key_set> last_good;
    if (previous != nullptr && previous->jwks && previous->jwks->url() == *resolved->jwks_url)
        last_good = previous->jwks->verifier()->keys();
    return std::make_shared<trustgate::assertion::jwks_refresher>(
        policy.verifier(), *resolved->jwks_url, std::chrono::seconds(resolved->refresh_seconds),
        jwks_fetcher(config.settings.proxy), jwks_log(), std::move(last_good));
}

// Resolves the secrets, then compile()s, then fetches the assertion keys of a jwksUrl.
inline std::shared_ptr<const compiled_config> load(gateway_config settings, const compiled_config* previous = nullptr,
                                                   std::shared_ptr<const store_connector> connect = nullptr) {
    const auto notices = resolve_secret_fields(settings);
    auto compiled = compile(std::move(settings), previous, notices, std::move(connect));
    auto jwks = start_jwks(*compiled, previous);
    if (!jwks) return compiled;
    auto with_keys = std::make_shared<compiled_config>(*compiled);
    with_keys->jwks = std::move(jwks);
    return with_keys;
}

}  // namespace trustgate::runtime
