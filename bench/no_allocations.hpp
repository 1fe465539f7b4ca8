// What every decision benchmark shares: a decision must not allocate. Each benchmark
// counts its thread's allocations over its iterations (allocs/op), and main fails when
// any benchmark allocated. Include once per program: it includes counting_new.hpp.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdio>

#include "support/counting_new.hpp"

namespace trustgate_bench {

inline std::atomic<std::size_t> allocating_benchmarks{0};

// Records allocs/op for the iterations since `before` (a value of allocations_on_this_thread).
inline void count_allocations(benchmark::State& state, std::size_t before) {
    const auto allocs = trustgate_test::allocations_on_this_thread - before;
    if (allocs != 0) allocating_benchmarks.fetch_add(1);
    state.counters["allocs/op"] = benchmark::Counter(double(allocs) / double(state.iterations()));
}

// Runs `decide()` each iteration and records its allocations.
template <class Decide>
void run_counting_allocations(benchmark::State& state, Decide&& decide) {
    const auto before = trustgate_test::allocations_on_this_thread;
    for (auto _ : state) {
        auto d = decide();
        benchmark::DoNotOptimize(d);
    }
    count_allocations(state, before);
}

// The benchmarks' main: 1 when a decision allocated, 2 on an unknown argument.
inline int run_benchmarks(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (allocating_benchmarks.load() != 0) {
        std::fprintf(stderr, "FAIL: %zu benchmark(s) allocated during decisions\n", allocating_benchmarks.load());
        return 1;
    }
    return 0;
}

}  // namespace trustgate_bench
