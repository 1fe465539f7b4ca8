// trustgate/net/prefix_set.hpp — a compiled set of address blocks.
//
// Built once from configuration: the blocks become sorted, merged, disjoint ranges of
// the 128-bit normalised space, and a lookup is one binary search. Matching 10,000
// CIDRs costs about 14 comparisons, not 10,000, and never allocates. An IPv6 block
// leaves out the IPv4-mapped space (behaviour §1), as cidr::contains does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "trustgate/net/address.hpp"
#include "trustgate/net/cidr.hpp"

namespace trustgate::net {

class prefix_set {
public:
    prefix_set() = default;

    explicit prefix_set(std::span<const cidr> blocks) {
        ranges_.reserve(blocks.size());
        for (const auto& b : blocks) {
            const range r{b.first(), b.last()};
            // Blocks nest or are disjoint: an IPv6 block holds all of ::ffff:0:0/96 or none.
            if (b.base().is_v4() || !(r.first <= mapped.first && mapped.last <= r.last)) {
                ranges_.push_back(r);
                continue;
            }
            if (r.first < mapped.first) ranges_.push_back({r.first, below_mapped});
            if (mapped.last < r.last) ranges_.push_back({above_mapped, r.last});
        }
        std::sort(ranges_.begin(), ranges_.end(),
                  [](const range& x, const range& y) { return x.first < y.first; });
        std::vector<range> merged;
        merged.reserve(ranges_.size());
        for (const auto& r : ranges_) {
            if (!merged.empty() && touches(merged.back(), r)) {
                merged.back().last = std::max(merged.back().last, r.last);
            } else {
                merged.push_back(r);
            }
        }
        ranges_ = std::move(merged);
        keys_.clear();
        for (const auto& r : ranges_) keys_.push_back({key{r.first}, key{r.last}});
    }

    bool contains(const address& a) const noexcept {
        // The last range starting at or before `a` is the only candidate.
        const key k{a};
        auto it = std::upper_bound(keys_.begin(), keys_.end(), k,
                                   [](const key& x, const key_range& r) { return x < r.first; });
        return it != keys_.begin() && !(std::prev(it)->last < k);
    }

    // True when some address of `block` is in the set.
    bool overlaps(const cidr& block) const noexcept {
        const auto lo = block.first(), hi = block.last();
        return std::any_of(ranges_.begin(), ranges_.end(),
                           [&](const range& r) { return r.first <= hi && lo <= r.last; });
    }

    bool empty() const noexcept { return ranges_.empty(); }

    // Disjoint ranges after merging; useful for diagnostics and benchmarks.
    std::size_t range_count() const noexcept { return ranges_.size(); }

private:
    struct range {
        address first;
        address last;
    };

    static constexpr range mapped{address::from_v4_uint(0), address::from_v4_uint(0xffffffffu)};
    static constexpr address below_mapped = *address::parse("::fffe:ffff:ffff");
    static constexpr address above_mapped = *address::parse("::1:0:0:0");

    static bool touches(const range& left, const range& right) noexcept {
        if (right.first <= left.last) return true;
        // Adjacent ranges merge too: left.last + 1 == right.first.
        auto next = left.last.bytes();
        for (int i = 15; i >= 0; --i)
            if (++next[std::size_t(i)] != 0) break;
        return address::from_v6_bytes(next) == right.first && left.last != address::from_v6_bytes({
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
    }

    // The same ranges as two 64-bit halves: comparisons on the hot path are two integer
    // compares instead of a 16-byte lexicographic compare.
    struct key {
        std::uint64_t high = 0, low = 0;
        key() = default;
        explicit key(const address& a) noexcept : high(a.high()), low(a.low()) {}
        friend bool operator<(const key& x, const key& y) noexcept {
            return x.high < y.high || (x.high == y.high && x.low < y.low);
        }
    };
    struct key_range {
        key first, last;
    };

    std::vector<range> ranges_;
    std::vector<key_range> keys_;
};

}  // namespace trustgate::net
