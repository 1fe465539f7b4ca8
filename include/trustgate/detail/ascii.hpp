// Byte-level helpers for HTTP tokens. Header names and host names are ASCII; nothing
// here depends on the C locale, so results are the same in every process.
#pragma once

#include <cstddef>
#include <string_view>

namespace trustgate::detail {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

constexpr bool is_blank_char(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Spaces and tabs only: the optional whitespace of RFC 9110.
constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_blank_char(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank_char(s.back())) s.remove_suffix(1);
    return s;
}

constexpr bool is_blank(std::string_view s) noexcept { return trim(s).empty(); }

}  // namespace trustgate::detail
