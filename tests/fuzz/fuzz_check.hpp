// What a fuzz target does when a property fails: say what differed, then abort, which
// libFuzzer reports as a crash (saving the input) and the replay test as a failure.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <trustgate/testing/show.hpp>

namespace trustgate_fuzz {

using trustgate::testing::detail::quoted;  // a C++ literal: control bytes stay visible

[[noreturn]] inline void fail(const std::string& what) {
    std::fprintf(stderr, "\nfuzz check failed:\n%s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

// `describe()` is only called when the property does not hold.
template <class Describe>
void check(bool holds, Describe&& describe) {
    if (!holds) fail(describe());
}

}  // namespace trustgate_fuzz
