// trustgate/testing/checks.hpp — verify a gateway composition with property tests
// (part of trustgate::testing, needs RapidCheck).
//
//   using my_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::required_headers,
//                                         trustgate::proxy_identity, trustgate::allow_users, trustgate::scopes<>>;
//   bool ok = trustgate::testing::check_against_model<my_gateway>() &&
//             trustgate::testing::check_invariants<my_gateway>();
//
// check_against_model runs behaviour §8.9 (the gateway agrees with the reference model in
// models/ on generated scenarios); it accepts compositions of trustgate's own policies,
// with any of them left out (the model then skips those steps). check_invariants runs
// behaviour §8.1-§8.8 and §8.11, one named property each, and accepts any composition, including ones
// with policies of your own. Both generate configurations valid for the composition,
// adjusted by `check_options::configure`, and requests that also carry
// `check_options::header_pools` (the headers your own policies read). They print each
// property's result (and any shrunk counterexample) to standard error, then how many
// generated requests each policy allowed, passed on and denied (testing/coverage.hpp): a
// policy never reached in both directions fails the check, with a message naming it and
// the pools to add. RC_PARAMS works as usual (seed, max_success, reproduce=...).
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/testing/coverage.hpp"
#include "trustgate/testing/impl/properties.hpp"
#include "trustgate/testing/generators.hpp"

namespace trustgate::testing {

struct check_options {
    // Test cases per property; 0 uses RC_PARAMS' max_success (RapidCheck's default: 100).
    int cases = 0;
    // Fixes the seed; otherwise RC_PARAMS' seed, else a random one (printed on failure).
    std::optional<std::uint64_t> seed;
    // Applied to every generated configuration before the gateway is built: add the
    // required header your proxy always sets, pin the user header, and so on. The
    // result must still be a valid configuration.
    std::function<void(auth_config&)> configure;
    // Headers your own policies read, with values they accept and values they refuse:
    // every generated request may carry them (trustgate's own headers are built in).
    //   options.header_pools.push_back({"x-tenant", {"acme", "globex", "nobody"}});
    std::vector<header_pool> header_pools;
    // Sees the reason of every decision in the model check (missing_scope when a
    // method was refused), for suites that check the generators reach every reason.
    std::function<void(reason)> on_reason;
};

// A RapidCheck property: draws its inputs with `*gen`, asserts with RC_ASSERT.
struct property {
    std::string name;
    std::function<void()> body;
    // Where the body counts what its requests reached; the shipped properties of one
    // check share one. Null: the property counts nothing.
    std::shared_ptr<coverage> covered = nullptr;
};

struct check_result {
    // Names of the properties that failed, then one "coverage: policy ..." message for
    // each policy not reached in both directions.
    std::vector<std::string> failed;
    std::vector<policy_coverage> coverage;  // per policy, over every property run

    bool passed() const noexcept { return failed.empty(); }
    explicit operator bool() const noexcept { return passed(); }
};

// behaviour §8.9 for `Gateway`, as a property.
template <class Gateway>
std::vector<property> model_properties(const check_options& options = {}) {
    static_assert(detail::composition<Gateway>::modelled,
                  "trustgate::testing::check_against_model: the reference model knows trustgate's own policies "
                  "(and scopes<> with the operator scope set); a composition with other policies can be checked "
                  "with check_invariants.");
    const detail::draw in{options.configure, options.header_pools, std::make_shared<coverage>(coverage::of<Gateway>())};
    return {{"behaviour §8.9: the gateway and the reference model agree",
             [in, observe = options.on_reason] { detail::agrees_with_model<Gateway>(in, observe); }, in.covered}};
}

// behaviour §8.1-§8.8 and §8.11 for `Gateway`, one property each (§8.8 only when it has scopes<>).
template <class Gateway>
std::vector<property> invariant_properties(const check_options& options = {}) {
    const detail::draw c{options.configure, options.header_pools, std::make_shared<coverage>(coverage::of<Gateway>())};
    const auto p = [&c](std::string name, void (*body)(const detail::draw&)) {
        return property{std::move(name), [c, body] { body(c); }, c.covered};
    };
    std::vector<property> properties = {
        p("behaviour §8.1: via loopback-user only for a direct-local request without a user header",
         &detail::loopback_user_only_direct_local<Gateway>),
        p("behaviour §8.2: a non-loopback peer, or one not proven a local user, never gets loopbackUser or via token",
         &detail::remote_peer_never_local<Gateway>),
        p("behaviour §8.3: an untrusted peer is never allowed in trusted-proxy mode",
         &detail::untrusted_peer_never_allowed<Gateway>),
        p("behaviour §8.4: via trusted-proxy only with every required header and an allowed user",
         &detail::proxy_identity_fully_vetted<Gateway>),
        p("behaviour §8.5: header-name case, a mapped IPv6 peer and unrelated headers change nothing",
         &detail::irrelevant_changes_change_nothing<Gateway>),
        p("behaviour §8.6: a user header spelled with _ never counts",
         &detail::underscore_name_never_user_header<Gateway>),
        p("behaviour §8.7: narrowing the configuration never turns a deny into an allow",
         &detail::narrowing_never_allows_more<Gateway>),
        p("behaviour §8.11: via trusted-proxy with a proxy certificate configured only over a verified, allowed certificate",
         &detail::proxy_certificate_required<Gateway>),
    };
    if constexpr (detail::authorizes<Gateway>)
        properties.push_back(p("behaviour §8.8: granted scopes stay within the grant and decide methods exactly",
                              &detail::scopes_within_grant<Gateway>));
    return properties;
}

// Runs each property, printing its result to standard error, then what the properties'
// requests reached per policy; returns the properties that failed and the policies not
// reached in both directions.
inline check_result run_properties(const std::vector<property>& properties, const check_options& options = {}) {
    auto params = rc::detail::configuration().testParams;
    if (options.cases > 0) params.maxSuccess = options.cases;
    if (options.seed) params.seed = *options.seed;
    std::vector<std::shared_ptr<coverage>> counters;
    for (const auto& p : properties)
        if (p.covered && std::find(counters.begin(), counters.end(), p.covered) == counters.end()) counters.push_back(p.covered);
    for (const auto& c : counters) c->reset();
    check_result result;
    for (const auto& p : properties) {
        rc::detail::TestMetadata metadata;
        metadata.id = p.name;
        metadata.description = p.name;
        std::cerr << "- " << p.name << " (seed " << params.seed << ")\n";
        const auto outcome = rc::detail::checkTestable(p.body, metadata, params);
        rc::detail::printResultMessage(outcome, std::cerr);
        std::cerr << "\n";
        if (!outcome.template is<rc::detail::SuccessResult>()) result.failed.push_back(p.name);
    }
    if (counters.empty()) return result;
    coverage total;
    for (const auto& c : counters) total.merge(*c);
    std::cerr << "- generated requests per policy:\n";
    for (const auto& p : total.policies()) std::cerr << "    " << p.policy << " " << coverage::counts(p) << "\n";
    for (auto& gap : total.gaps()) {
        std::cerr << gap << "\n";
        result.failed.push_back(std::move(gap));
    }
    std::cerr << "\n";
    result.coverage = total.policies();
    return result;
}

template <class Gateway>
check_result check_against_model(const check_options& options = {}) {
    return run_properties(model_properties<Gateway>(options), options);
}

template <class Gateway>
check_result check_invariants(const check_options& options = {}) {
    return run_properties(invariant_properties<Gateway>(options), options);
}

}  // namespace trustgate::testing
