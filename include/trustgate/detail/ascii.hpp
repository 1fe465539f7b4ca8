// Byte-level helpers for HTTP tokens. Header names and host names are ASCII; nothing
// here depends on the C locale, so results are the same in every process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <string>
#include <string_view>

namespace trustgate::detail {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lower-cases the ASCII capitals among eight bytes at once; other bytes are unchanged.
constexpr std::uint64_t ascii_lower8(std::uint64_t w) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    const std::uint64_t heptets = w & (0x7f * ones);
    const std::uint64_t above_z = heptets + (0x25 * ones);    // high bit set when > 'Z'
    const std::uint64_t from_a = heptets + (0x3f * ones);     // high bit set when >= 'A'
    const std::uint64_t upper = ~w & (above_z ^ from_a) & (0x80 * ones);
    return w | (upper >> 2);
}

constexpr std::uint64_t load8(const char* p) noexcept {
    if (std::is_constant_evaluated()) {
        std::uint64_t w = 0;
        for (int i = 7; i >= 0; --i) w = (w << 8) | static_cast<unsigned char>(p[i]);
        return w;
    }
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);  // byte order does not matter: both sides load alike
    return w;
}

constexpr bool iequals_same_length(const char* a, const char* b, std::size_t n) noexcept {
    if (n < 8) {
        for (std::size_t i = 0; i < n; ++i)
            if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
        return true;
    }
    // Whole words, then one last word that may overlap the previous one.
    for (std::size_t i = 0; i + 8 < n; i += 8)
        if (ascii_lower8(load8(a + i)) != ascii_lower8(load8(b + i))) return false;
    return ascii_lower8(load8(a + n - 8)) == ascii_lower8(load8(b + n - 8));
}

// Header names are compared on every header of every request: the size check stays
// inline, where it rejects almost every candidate; the bytes go eight at a time.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && iequals_same_length(a.data(), b.data(), a.size());
}

// As iequals, when `lower` is known to hold no capitals (a literal, or a name lowered
// once at configuration time): only `s` needs folding.
constexpr bool iequals_lower_same_length(const char* s, const char* lower, std::size_t n) noexcept {
    if (n < 8) {
        for (std::size_t i = 0; i < n; ++i)
            if (ascii_lower(s[i]) != lower[i]) return false;
        return true;
    }
    for (std::size_t i = 0; i + 8 < n; i += 8)
        if (ascii_lower8(load8(s + i)) != load8(lower + i)) return false;
    return ascii_lower8(load8(s + n - 8)) == load8(lower + n - 8);
}

constexpr bool iequals_lower(std::string_view s, std::string_view lower) noexcept {
    return s.size() == lower.size() && iequals_lower_same_length(s.data(), lower.data(), s.size());
}

inline std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

// `prefix` must hold no capitals.
constexpr bool istarts_with_lower(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals_lower(s.substr(0, prefix.size()), prefix);
}

constexpr bool is_blank_char(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// RFC 9110 §5.6.2 tchar: header names, and the tokens inside some header values.
constexpr bool is_token_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}

// Spaces and tabs only: the optional whitespace of RFC 9110.
constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_blank_char(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank_char(s.back())) s.remove_suffix(1);
    return s;
}

constexpr bool is_blank(std::string_view s) noexcept { return trim(s).empty(); }

}  // namespace trustgate::detail
