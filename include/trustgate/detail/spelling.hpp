// "Did you mean …": the known word nearest to a misspelt one, for configuration errors.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace trustgate::detail {

// Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`: the
// optimal string alignment distance, so "prot" is one edit from "port".
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t columns = b.size() + 1;
    std::vector<std::size_t> d((a.size() + 1) * columns);
    const auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * columns + j]; };
    for (std::size_t i = 0; i <= a.size(); ++i) at(i, 0) = i;
    for (std::size_t j = 0; j <= b.size(); ++j) at(0, j) = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t replace = at(i - 1, j - 1) + (a[i - 1] == b[j - 1] ? 0 : 1);
            at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, replace});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
        }
    }
    return at(a.size(), b.size());
}

// The first of `known` nearest to `word` within `max_edits`, when fewer edits than `word`
// has characters reach it (two edits make "ab" into "id", which is no suggestion).
template <class Words>
std::optional<std::string_view> nearest_word(std::string_view word, const Words& known, std::size_t max_edits = 2) {
    std::optional<std::string_view> best;
    std::size_t best_distance = max_edits + 1;
    for (const std::string_view candidate : known) {
        // Never fewer edits than the lengths differ by: a long hostile key costs nothing.
        if (std::max(word.size(), candidate.size()) - std::min(word.size(), candidate.size()) > max_edits) continue;
        const auto distance = edit_distance(word, candidate);
        if (distance < best_distance && distance < word.size()) best = candidate, best_distance = distance;
    }
    return best;
}

}  // namespace trustgate::detail
