// The project's property suite: how many cases it runs, with which seed, and how a
// failed check fails the Catch2 test.
#pragma once

#include <support/catch.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

#include <trustgate/testing/checks.hpp>

namespace trustgate_tests {

// Sanitizer builds run fewer cases: they are ten times slower and look for other bugs.
#ifdef TRUSTGATE_PROPERTY_CASE_DIVISOR
inline constexpr int case_divisor = TRUSTGATE_PROPERTY_CASE_DIVISOR;
#else
inline constexpr int case_divisor = 1;
#endif

// `cases` per property (fewer in sanitizer builds, unless `every_case`: a check that
// every reason is reached needs them all) unless RC_PARAMS sets max_success. Under
// CI=true the seed is fixed (unless RC_PARAMS sets one), so a red build reproduces;
// locally it is random, so every run explores new cases.
inline trustgate::testing::check_options suite_options(int cases, bool every_case = false) {
    trustgate::testing::check_options options;
    const char* params = std::getenv("RC_PARAMS");
    const std::string_view rc_params = params ? params : "";
    if (rc_params.find("max_success") == std::string_view::npos) options.cases = every_case ? cases : cases / case_divisor;
    const char* ci = std::getenv("CI");
    if (ci && std::string_view(ci) == "true" && rc_params.find("seed") == std::string_view::npos) options.seed = 20260611;
    return options;
}

// A sanitizer build's fewer cases look for memory errors, not for reach: there a policy
// the cases happened not to reach both ways is no failure (the full build checks it).
inline void require_passed(const trustgate::testing::check_result& result) {
    std::string failed;
    for (const auto& name : result.failed)
        if (case_divisor == 1 || !std::string_view(name).starts_with("coverage:")) failed += "\n  " + name;
    INFO("failed properties:" << failed);
    REQUIRE(failed.empty());
}

}  // namespace trustgate_tests
