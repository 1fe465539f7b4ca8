// trustgate/policy/proxy_certificate.hpp — behaviour §11: the proxy proves itself with a client certificate.
//
// The Kubernetes request-header model: a header-path request (behaviour §3 step 4) counts only
// when its TLS connection presented a certificate that chained to the client CA
// (trustgate/beast/tls.hpp) and whose name is allowed. Runs at the start of step 4, before
// the required headers and a signed assertion (its own `certificate` stage); a
// direct-local request (step 5) has been decided by loopback_policy before it.
//
//   gateway<trusted_source, loopback_policy, proxy_certificate, required_headers, proxy_identity, allow_users, scopes<>>
// (trustgate::trusted_proxy_certificate_gateway, presets.hpp)
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/peer_certificate.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"

namespace trustgate {

class proxy_certificate {
public:
    static constexpr trustgate::stage stage = trustgate::stage::certificate;
    static constexpr std::string_view name = "proxy_certificate";
    static constexpr std::array reasons{reason::trusted_proxy_certificate_missing,
                                        reason::trusted_proxy_certificate_not_allowed};

    proxy_certificate() = default;

    // `allowed_names`: CN or DNS SAN, exact and ASCII case-insensitive, no wildcard
    // expansion; empty allows any verified certificate.
    explicit proxy_certificate(const std::vector<std::string>& allowed_names,
                               const std::string& path = "gateway.auth.trustedProxy.clientCertificate.allowedNames") {
        for (std::size_t i = 0; i < allowed_names.size(); ++i) {
            if (allowed_names[i].empty())
                throw config_error(path + "[" + std::to_string(i) + "]", "expected a certificate name (CN or DNS SAN)");
            lowered_.push_back(detail::lowered(allowed_names[i]));
        }
    }

    template <class Context>
    static proxy_certificate from_config(const auth_config& config, const Context&) {
        if (!config.trusted_proxy.client_certificate)
            throw config_error("gateway.auth.trustedProxy.clientCertificate",
                               "expected a clientCertificate configuration for a gateway that checks proxy certificates");
        return proxy_certificate(config.trusted_proxy.client_certificate->allowed_names);
    }

    template <request_view R>
    verdict check(request_facts&, const R& request) const {
        const auto& certificate = peer_certificate_of(request);
        if (!certificate.verified) return decision::deny(reason::trusted_proxy_certificate_missing, name);
        if (lowered_.empty()) return next_policy;
        for (const auto& presented : certificate.names)
            for (const auto& allowed : lowered_)
                if (detail::iequals_lower(presented, allowed)) return next_policy;
        return decision::deny(reason::trusted_proxy_certificate_not_allowed, name);
    }

    // Lower case, as matched.
    const std::vector<std::string>& allowed_names() const noexcept { return lowered_; }

private:
    std::vector<std::string> lowered_;
};

}  // namespace trustgate
