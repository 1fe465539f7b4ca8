// trustgate/policy/anonymous.hpp — `none` mode: everyone is `anonymous`.
//
// Only for a gateway bound to loopback; the example gateway's start-up audit refuses it
// on any other bind unless allowInsecureNone is set.
#pragma once

#include <array>
#include <string_view>

#include "trustgate/config.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"

namespace trustgate {

struct anonymous {
    static constexpr trustgate::stage stage = trustgate::stage::identity;
    static constexpr std::string_view name = "anonymous";
    static constexpr std::array<reason, 0> reasons{};  // it never refuses
    static constexpr std::string_view identity = "anonymous";
    // It lets every request through: the testing checks ask no denied request of it.
    static constexpr bool never_denies = true;

    template <class Context>
    static anonymous from_config(const auth_config&, const Context&) { return {}; }

    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        facts.identity = identity;
        facts.how = via::none;
        return next_policy;
    }
};

}  // namespace trustgate
