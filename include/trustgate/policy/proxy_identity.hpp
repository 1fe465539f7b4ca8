// trustgate/policy/proxy_identity.hpp — behaviour §3 steps 4.2-4.4: the proxy's user header.
//
// Exactly one line, no commas (a proxy that appends instead of overwriting would let the
// client choose), at most 256 bytes, no control characters. `_` and `-` differ:
// `x_forwarded_user` is a different header and never counts.
#pragma once

#include <array>
#include <algorithm>
#include <string>
#include <string_view>

#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"

namespace trustgate {

class proxy_identity {
public:
    static constexpr trustgate::stage stage = trustgate::stage::identity;
    static constexpr std::string_view name = "proxy_identity";
    static constexpr std::array reasons{reason::trusted_proxy_user_missing, reason::trusted_proxy_user_ambiguous,
                                            reason::trusted_proxy_user_invalid, reason::trusted_proxy_user_mismatch};
    static constexpr std::size_t max_identity_bytes = trustgate::max_identity_bytes;

    proxy_identity() : proxy_identity(std::string("x-forwarded-user")) {}

    explicit proxy_identity(std::string user_header, const std::string& path = "gateway.auth.trustedProxy.userHeader")
        : header_(checked_header_name(user_header, path)) {}

    template <class Context>
    static proxy_identity from_config(const auth_config& config, const Context&) {
        proxy_identity p(config.trusted_proxy.user_header);
        p.case_insensitive_ = config.trusted_proxy.allow_users_case_insensitive;
        return p;
    }

    // It takes an identity a signed assertion established (behaviour §10 step 8).
    static constexpr bool accepts_asserted_identity = true;

    // The gateway reads this header while gathering request_facts; lower case.
    std::string_view user_header() const noexcept { return header_; }

    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        if (!facts.asserted_identity.empty()) return check_against_assertion(facts);
        if (!facts.user_present) return decision::deny(reason::trusted_proxy_user_missing, name);
        if (facts.user_lines > 1 || facts.user_has_comma) return decision::deny(reason::trusted_proxy_user_ambiguous, name);
        const auto user = facts.user_value;
        if (!trustgate::acceptable_identity(user)) return decision::deny(reason::trusted_proxy_user_invalid, name);
        facts.identity = user;
        facts.how = via::trusted_proxy;
        return next_policy;
    }

    template <request_view R>
    void explain(const request_facts& facts, const R&, trace_step& step) const {
        step.add("header " + header_, facts.user_lines == 0 ? std::string("absent") : std::to_string(facts.user_lines) + " line(s)");
        if (facts.user_present) step.add("value", facts.user_value).add("contains a comma", facts.user_has_comma);
    }

private:
    // behaviour §10 step 8: the user header is optional, and must agree with the claim.
    verdict check_against_assertion(request_facts& facts) const {
        if (facts.user_present) {
            if (facts.user_lines > 1 || facts.user_has_comma) return decision::deny(reason::trusted_proxy_user_ambiguous, name);
            const bool same = case_insensitive_ ? detail::iequals(facts.user_value, facts.asserted_identity)
                                                : facts.user_value == facts.asserted_identity;
            if (!same) return decision::deny(reason::trusted_proxy_user_mismatch, name);
        }
        facts.identity = facts.asserted_identity;
        facts.how = via::trusted_proxy;
        return next_policy;
    }

    std::string header_;
    bool case_insensitive_ = false;  // allowUsersCaseInsensitive also governs that comparison
};

}  // namespace trustgate
