// Where a connection keeps one request's header fields: a block it owns, handed out front
// to back and taken back whole when the next request starts, so that parsing a header
// costs no heap allocation (Beast allocates every field, and the target, on its own).
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

namespace trustgate::beast::detail {

class field_arena {
public:
    // A typical header (a dozen fields through a proxy) fits; a larger one spills onto the
    // heap, field by field.
    static constexpr std::size_t capacity = 2048;

    // `bytes` aligned to `alignment`, or nullptr when they do not fit.
    void* take(std::size_t bytes, std::size_t alignment) noexcept {
        const auto at = (used_ + alignment - 1) & ~(alignment - 1);
        if (at > capacity || bytes > capacity - at) return nullptr;
        used_ = at + bytes;
        return storage_ + at;
    }

    bool owns(const void* p) const noexcept {
        const auto* byte = static_cast<const std::byte*>(p);
        return !std::less<const std::byte*>()(byte, storage_) && std::less<const std::byte*>()(byte, storage_ + capacity);
    }

    // Everything taken is free again: only once no field lives in it.
    void clear() noexcept { used_ = 0; }

private:
    alignas(std::max_align_t) std::byte storage_[capacity];
    std::size_t used_ = 0;
};

// Allocates from an arena while it has room, else from the heap; a default-constructed
// one (no arena) is the heap alone. A copy of a container made with it goes to the heap
// (select_on_container_copy_construction): only the container the arena was made for, or
// one it is moved into, lives in the arena, so a copy never outlives its memory.
template <class T>
class arena_allocator {
public:
    using value_type = T;
    using propagate_on_container_move_assignment = std::true_type;
    using propagate_on_container_swap = std::true_type;
    using is_always_equal = std::false_type;

    arena_allocator() noexcept = default;
    explicit arena_allocator(field_arena* arena) noexcept : arena_(arena) {}
    template <class U>
    arena_allocator(const arena_allocator<U>& other) noexcept : arena_(other.arena()) {}

    T* allocate(std::size_t n) {
        if (arena_ != nullptr && n <= field_arena::capacity / sizeof(T))
            if (void* p = arena_->take(n * sizeof(T), alignof(T))) return static_cast<T*>(p);
        return std::allocator<T>().allocate(n);
    }

    void deallocate(T* p, std::size_t n) noexcept {
        if (arena_ != nullptr && arena_->owns(p)) return;  // taken back with the arena
        std::allocator<T>().deallocate(p, n);
    }

    arena_allocator select_on_container_copy_construction() const noexcept { return {}; }

    field_arena* arena() const noexcept { return arena_; }

    template <class U>
    friend bool operator==(const arena_allocator& a, const arena_allocator<U>& b) noexcept {
        return a.arena_ == b.arena();
    }

private:
    field_arena* arena_ = nullptr;
};

}  // namespace trustgate::beast::detail
