// A read-only string -> value table built once from configuration: open addressing over
// a single key arena, so a lookup hashes once, probes a few slots and never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustgate/detail/ascii.hpp"

namespace trustgate::detail {

template <class Value>
class string_table {
public:
    string_table() = default;

    // Later duplicates of a key are ignored: the first entry wins.
    string_table(const std::vector<std::pair<std::string, Value>>& entries, bool case_insensitive)
        : case_insensitive_(case_insensitive) {
        std::size_t capacity = 8;
        while (capacity < entries.size() * 2) capacity *= 2;
        slots_.assign(capacity, slot{});
        for (const auto& [key, value] : entries) insert(key, value);
    }

    const Value* find(std::string_view key) const noexcept {
        if (count_ == 0) return nullptr;
        const auto h = hash(key);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const slot& s = slots_[i];
            if (!s.used) return nullptr;
            if (s.hash == h && equal(key_of(s), key)) return &s.value;
        }
    }

    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }

private:
    struct slot {
        std::uint64_t hash = 0;
        std::uint32_t offset = 0;
        std::uint32_t length = 0;
        bool used = false;
        Value value{};
    };

    void insert(std::string_view key, const Value& value) {
        if (contains(key)) return;
        const auto h = hash(key);
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = h & mask;
        while (slots_[i].used) i = (i + 1) & mask;
        slots_[i] = slot{h, static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(key.size()), true, value};
        arena_.append(key);
        ++count_;
    }

    std::string_view key_of(const slot& s) const noexcept { return std::string_view(arena_).substr(s.offset, s.length); }

    bool equal(std::string_view a, std::string_view b) const noexcept {
        return case_insensitive_ ? iequals(a, b) : a == b;
    }

    // Eight bytes per multiply (folded to lower case when matching case-insensitively),
    // then a final mix so the low bits, which pick the slot, depend on every byte.
    std::uint64_t hash(std::string_view key) const noexcept {
        std::uint64_t h = 0x9e3779b97f4a7c15ull ^ key.size();
        std::size_t i = 0;
        for (; i + 8 <= key.size(); i += 8) h = mix(h, word(key.data() + i, 8));
        if (i < key.size()) h = mix(h, word(key.data() + i, key.size() - i));
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        return h;
    }

    std::uint64_t word(const char* p, std::size_t n) const noexcept {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        return case_insensitive_ ? ascii_lower8(w) : w;
    }

    static std::uint64_t mix(std::uint64_t h, std::uint64_t w) noexcept {
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        return h ^ (h >> 31);
    }

    std::vector<slot> slots_;
    std::string arena_;
    std::size_t count_ = 0;
    bool case_insensitive_ = false;
};

}  // namespace trustgate::detail
