// Heap allocations counted per thread, for the checks that a decision never allocates
// (the benchmarks and the Redis store's tests). It replaces the global operator new and
// delete, so include it in exactly one translation unit of a program.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace trustgate_test {
// This thread's allocations so far: another thread's (a store's connection thread, say)
// are its own business.
inline thread_local std::size_t allocations_on_this_thread = 0;
}  // namespace trustgate_test

void* operator new(std::size_t size) {
    ++trustgate_test::allocations_on_this_thread;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
// g++ cannot see that these pair with the malloc in operator new above.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
