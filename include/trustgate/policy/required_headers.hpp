// trustgate/policy/required_headers.hpp — behaviour §3 step 4.1: headers only the proxy sets.
//
// Requiring, say, `x-auth-request-email` or a shared `x-proxy-secret` stops a request that
// reached a trusted address without passing through the identity-aware proxy.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"

namespace trustgate {

class required_headers {
public:
    static constexpr trustgate::stage stage = trustgate::stage::headers;
    static constexpr std::string_view name = "required_headers";
    static constexpr std::array reasons{reason::trusted_proxy_missing_header};
    static constexpr std::size_t max_headers = 64;  // one bit each in a single pass

    required_headers() = default;

    explicit required_headers(std::vector<std::string> names, const std::string& path = "gateway.auth.trustedProxy.requiredHeaders")
        : names_(std::move(names)) {
        if (names_.size() > max_headers) throw config_error(path, "expected at most 64 header names");
        for (std::size_t i = 0; i < names_.size(); ++i)
            lowered_names_.push_back(checked_header_name(names_[i], path + "[" + std::to_string(i) + "]"));
    }

    template <class Context>
    static required_headers from_config(const auth_config& config, const Context&) {
        return required_headers(config.trusted_proxy.required_headers);
    }

    template <request_view R>
    verdict check(request_facts&, const R& request) const {
        if (names_.empty()) return next_policy;
        std::uint64_t seen = 0;
        request.for_each_header([&](std::string_view header, std::string_view value) {
            for (std::size_t i = 0; i < names_.size(); ++i)
                if (detail::iequals_lower(header, lowered_names_[i]) && !detail::is_blank(value))
                    seen |= std::uint64_t{1} << i;
        });
        for (std::size_t i = 0; i < names_.size(); ++i)
            if ((seen & (std::uint64_t{1} << i)) == 0)
                return decision::deny(reason::trusted_proxy_missing_header, name, names_[i]);
        return next_policy;
    }

    // Names each required header and whether it is there; never its value (it may be a
    // shared secret such as x-proxy-secret).
    template <request_view R>
    void explain(const request_facts&, const R& request, trace_step& step) const {
        for (std::size_t i = 0; i < names_.size(); ++i) {
            bool present = false;
            request.for_each_header([&](std::string_view header, std::string_view value) {
                present = present || (detail::iequals_lower(header, lowered_names_[i]) && !detail::is_blank(value));
            });
            step.add("header " + names_[i], present ? "present" : "absent or blank");
        }
    }

    const std::vector<std::string>& names() const noexcept { return names_; }

private:
    std::vector<std::string> names_;          // as configured, for decision::detail
    std::vector<std::string> lowered_names_;  // for matching
};

}  // namespace trustgate
