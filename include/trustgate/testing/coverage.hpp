// trustgate/testing/coverage.hpp — what a check's generated requests reached, per policy
// (part of trustgate::testing).
//
//   auto covered = trustgate::testing::coverage::of<my_gateway>();
//   trustgate::decision_trace trace;
//   gw.authenticate(request, trace);
//   covered.record(trace);
//   for (const auto& gap : covered.gaps()) std::cerr << gap << "\n";
//
// A property only tests a policy on the requests that reach it. The shipped checks count,
// for every policy that takes part in authentication, the generated requests it allowed,
// passed on (next_policy) and denied, and fail when a policy was never reached in both
// directions: a custom policy that reads a header the generators never send denies every
// request, and a check that passes on such a composition has not tested what it lets
// through. Authorize-stage policies (scopes<>) decide methods, not requests, and are not
// counted. A policy that cannot deny (anonymous) says so with
// `static constexpr bool never_denies = true;` and is then asked only to let requests through.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/gateway.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/trace.hpp"

namespace trustgate::testing {

struct policy_coverage {
    std::string policy;  // the policy's name, as in decision::policy
    bool never_denies = false;
    std::size_t allowed = 0;
    std::size_t passed_on = 0;
    std::size_t denied = 0;

    bool let_through() const noexcept { return allowed + passed_on > 0; }
    bool reached_both_ways() const noexcept { return let_through() && (denied > 0 || never_denies); }
};

namespace detail {

template <class P>
concept declares_never_denies = requires { requires P::never_denies; };

template <class Gateway>
struct policies_of;

template <class... Policies>
struct policies_of<gateway<Policies...>> {
    static std::vector<policy_coverage> counted() {
        std::vector<policy_coverage> out;
        ((Policies::stage == stage::authorize ? void() : out.push_back({std::string(Policies::name), declares_never_denies<Policies>})),
         ...);
        return out;
    }
};

}  // namespace detail

class coverage {
public:
    coverage() = default;

    // Counters for each policy of `Gateway` that takes part in authentication, in order.
    template <class Gateway>
    static coverage of() {
        coverage c;
        c.policies_ = detail::policies_of<Gateway>::counted();
        return c;
    }

    // Counts each step of one traced authentication.
    void record(const decision_trace& trace) {
        for (const auto& step : trace.steps) {
            const auto it = std::find_if(policies_.begin(), policies_.end(), [&](const policy_coverage& p) { return p.policy == step.policy; });
            if (it == policies_.end()) continue;
            if (!step.decided) ++it->passed_on;
            else if (step.decided->allowed) ++it->allowed;
            else ++it->denied;
        }
    }

    // Adds `other`'s counts to the policies of the same name, appending those not here yet.
    void merge(const coverage& other) {
        for (const auto& p : other.policies_) {
            const auto it = std::find_if(policies_.begin(), policies_.end(), [&](const policy_coverage& q) { return q.policy == p.policy; });
            if (it == policies_.end()) {
                policies_.push_back(p);
                continue;
            }
            it->allowed += p.allowed;
            it->passed_on += p.passed_on;
            it->denied += p.denied;
        }
    }

    void reset() {
        for (auto& p : policies_) p.allowed = p.passed_on = p.denied = 0;
    }

    const std::vector<policy_coverage>& policies() const noexcept { return policies_; }

    // One message per policy not reached in both directions: which policy, its counts,
    // and the pools to add.
    std::vector<std::string> gaps() const {
        static constexpr std::string_view pool_call =
            "options.header_pools.push_back({\"<header it reads>\", {\"<a value it accepts>\", \"<a value it refuses>\"}})";
        static constexpr std::string_view more_cases =
            "; if it reads only trustgate's own headers, run more cases (check_options::cases)";
        std::vector<std::string> out;
        for (const auto& p : policies_) {
            if (p.reached_both_ways()) continue;
            std::string m = "coverage: policy " + p.policy + " " + counts(p) + ": ";
            if (!p.let_through() && p.denied == 0)
                m += "no generated request reached it: the policies before it decided every one. Let requests past them "
                     "(check_options::configure, or pools for the headers they read: " + std::string(pool_call) + ")" +
                     std::string(more_cases);
            else if (!p.let_through())
                m += "it let no generated request through, so what it accepts was never tested. Add the header it reads "
                     "with values it accepts and values it refuses: " + std::string(pool_call) + std::string(more_cases);
            else
                m += "it denied no generated request, so what it refuses was never tested. Add values it refuses to the "
                     "pool of the header it reads: " + std::string(pool_call) + std::string(more_cases) +
                     "; a policy that cannot deny declares `static constexpr bool never_denies = true;`";
            out.push_back(std::move(m));
        }
        return out;
    }

    // "(12 allowed, 830 passed on, 158 denied)"
    static std::string counts(const policy_coverage& p) {
        return "(" + std::to_string(p.allowed) + " allowed, " + std::to_string(p.passed_on) + " passed on, " +
               std::to_string(p.denied) + " denied)";
    }

private:
    std::vector<policy_coverage> policies_;
};

}  // namespace trustgate::testing
