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

// Every non-aligned form, new and delete alike: a form left to the runtime (AddressSanitizer
// replaces them all) would allocate with its own and be freed here, a mismatch it reports.
inline void* trustgate_test_counted_malloc(std::size_t size) noexcept {
    ++trustgate_test::allocations_on_this_thread;
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size) {
    if (void* p = trustgate_test_counted_malloc(size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return trustgate_test_counted_malloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return trustgate_test_counted_malloc(size); }
// g++ cannot see that these pair with the malloc above.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
