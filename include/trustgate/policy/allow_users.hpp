// trustgate/policy/allow_users.hpp — behaviour §3 step 4.5: which identities are welcome.
//
// Exact, case-sensitive match by default; ASCII case-insensitive when configured. An
// empty list admits every identity the proxy vouches for. Lookup is a hash probe, so
// 100,000 users cost what 10 do.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/detail/string_table.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"

namespace trustgate {

class allow_users {
public:
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "allow_users";

    allow_users() = default;

    explicit allow_users(const std::vector<std::string>& users, bool case_insensitive = false)
        : users_(with_unit_values(users), case_insensitive) {}

    template <class Context>
    static allow_users from_config(const auth_config& config, const Context&) {
        return allow_users(config.trusted_proxy.allow_users, config.trusted_proxy.allow_users_case_insensitive);
    }

    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        if (!users_.empty() && !users_.contains(facts.identity))
            return decision::deny(reason::trusted_proxy_user_not_allowed, name);
        return next_policy;
    }

    template <request_view R>
    void explain(const request_facts& facts, const R&, trace_step& step) const {
        step.add("identity", facts.identity);
        step.add("allowUsers", users_.empty() ? std::string("empty: every identity") : std::to_string(users_.size()) + " entries");
    }

    bool admits_everyone() const noexcept { return users_.empty(); }
    std::size_t size() const noexcept { return users_.size(); }

private:
    static std::vector<std::pair<std::string, bool>> with_unit_values(const std::vector<std::string>& users) {
        std::vector<std::pair<std::string, bool>> entries;
        entries.reserve(users.size());
        for (const auto& u : users) entries.emplace_back(u, true);
        return entries;
    }

    detail::string_table<bool> users_;
};

}  // namespace trustgate
