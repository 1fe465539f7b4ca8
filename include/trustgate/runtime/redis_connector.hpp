// trustgate/runtime/redis_connector.hpp — gateway.auth.rateLimit.store {"type": "redis"} (behaviour §12).
//
//   auto config = trustgate::runtime::load(source.read(), nullptr, trustgate::runtime::redis_connector(audit));
//
// Needs both the trustgate::runtime and the trustgate::redis components (hiredis). The
// store's own lines (connection lost, back, falling back) go on `audit`, never with the
// password; `audit` outlives every configuration loaded with the connector.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "trustgate/redis/store.hpp"
#include "trustgate/runtime/audit_log.hpp"
#include "trustgate/runtime/compiled_config.hpp"

namespace trustgate::runtime {

inline std::shared_ptr<const store_connector> redis_connector(const audit_log& audit) {
    return std::make_shared<const store_connector>(
        [&audit](const trustgate::redis::store_options& settings, const trustgate::rate_limit_config& limits,
                 trustgate::attempt_limiter& fallback) -> std::shared_ptr<trustgate::attempt_store> {
            return std::make_shared<trustgate::redis::store>(limits, settings, &fallback, [&audit](std::string_view message) {
                audit.write("limiter_store", {{"message", std::string(message)}});
            });
        });
}

}  // namespace trustgate::runtime
