// Base64url without padding (RFC 7515 §2, RFC 4648 §5), as JOSE writes every part of a
// token and every binary JWK member. Strict: padding, the `+` and `/` alphabet, white
// space and non-zero trailing bits are all refused, so one text decodes one way only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace trustgate::assertion::detail {

inline constexpr std::array<std::int8_t, 256> base64url_values = [] {
    std::array<std::int8_t, 256> values{};
    for (auto& v : values) v = -1;
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < alphabet.size(); ++i) values[static_cast<unsigned char>(alphabet[i])] = std::int8_t(i);
    return values;
}();

constexpr bool is_base64url_char(char c) noexcept { return base64url_values[static_cast<unsigned char>(c)] >= 0; }

// Decodes `text` into `out` (replacing its contents); false when `text` is not canonical
// unpadded base64url. `out` keeps its capacity, so a reused buffer stops allocating.
inline bool decode_base64url(std::string_view text, std::string& out) {
    out.clear();
    if (text.size() % 4 == 1) return false;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int pending = 0;
    for (const char c : text) {
        const int v = base64url_values[static_cast<unsigned char>(c)];
        if (v < 0) return false;
        bits = (bits << 6) | std::uint32_t(v);
        pending += 6;
        if (pending >= 8) {
            pending -= 8;
            out.push_back(static_cast<char>((bits >> pending) & 0xff));
        }
    }
    // The unused low bits of the last character must be zero (RFC 4648 §3.5).
    return (bits & ((1u << pending) - 1)) == 0;
}

}  // namespace trustgate::assertion::detail
