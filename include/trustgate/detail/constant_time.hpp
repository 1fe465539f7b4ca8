// Token comparison whose running time does not depend on where the inputs differ.
#pragma once

#include <cstddef>
#include <string_view>

namespace trustgate::detail {

// Walks the whole expected secret whatever was presented, so the time taken reveals
// neither a matching prefix nor the presented length. (It does depend on the secret's
// own length, which is not a secret worth hiding.)
inline bool constant_time_equal(std::string_view presented, std::string_view expected) noexcept {
    volatile unsigned char diff = presented.size() == expected.size() ? 0 : 1;
    const std::size_t n = expected.size();
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char p = presented.empty() ? 0 : static_cast<unsigned char>(presented[i % presented.size()]);
        diff = static_cast<unsigned char>(diff | (p ^ static_cast<unsigned char>(expected[i])));
    }
    return diff == 0 && !expected.empty();
}

}  // namespace trustgate::detail
