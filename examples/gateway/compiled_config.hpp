// examples/gateway/compiled_config.hpp — a configuration turned into a ready gateway.
//
// Immutable once built and shared by pointer: a request takes one snapshot and is decided
// wholly under it, so replacing the pointer (a reload) never mixes two configurations.
#pragma once

#include <memory>
#include <utility>
#include <variant>

#include "config_json.hpp"
#include "trustgate/attempt_limiter.hpp"
#include "trustgate/policy/trusted_source.hpp"
#include "trustgate/presets.hpp"

namespace trustgate_gateway {

// One composition per gateway.auth.mode (trustgate/presets.hpp).
using any_gateway = std::variant<trustgate::trusted_proxy_gateway, trustgate::token_gateway, trustgate::open_gateway>;

struct compiled_config {
    gateway_config settings;
    // Failed token compares (SPEC §6); outlives the gateway, which points into it.
    std::shared_ptr<trustgate::attempt_limiter> limiter;
    any_gateway gateway;
};

inline any_gateway build_gateway(const trustgate::auth_config& auth, trustgate::attempt_limiter* limiter) {
    switch (auth.mode) {
        case trustgate::auth_mode::token:
            return any_gateway(std::in_place_type<trustgate::token_gateway>, trustgate::token_gateway::from_config(auth, limiter));
        case trustgate::auth_mode::none:
            return any_gateway(std::in_place_type<trustgate::open_gateway>, trustgate::open_gateway::from_config(auth, limiter));
        case trustgate::auth_mode::trusted_proxy: break;
    }
    return any_gateway(std::in_place_type<trustgate::trusted_proxy_gateway>,
                       trustgate::trusted_proxy_gateway::from_config(auth, limiter));
}

// Validates everything trustgate's policies check and builds the gateway; throws
// trustgate::config_error naming the JSON path.
inline std::shared_ptr<const compiled_config> compile(gateway_config settings) {
    // SPEC §2 holds in every mode: an entry that does not parse is an error even where
    // the mode does not use the list.
    if (!settings.auth.trusted_proxies.empty()) trustgate::trusted_source::parse(settings.auth.trusted_proxies);
    auto limiter = std::make_shared<trustgate::attempt_limiter>(settings.auth.rate_limit);
    auto gateway = build_gateway(settings.auth, limiter.get());
    return std::make_shared<const compiled_config>(compiled_config{std::move(settings), std::move(limiter), std::move(gateway)});
}

}  // namespace trustgate_gateway
