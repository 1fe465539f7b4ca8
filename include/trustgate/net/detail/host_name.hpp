// Host-name text checks for the SSRF classifier. Strict by design: a name a resolver
// might turn into an address (`127.1`, `0x7f.0.0.1`, `2130706433`) is not a name.
#pragma once

#include <cstddef>
#include <string_view>

#include "trustgate/detail/address_text.hpp"
#include "trustgate/detail/ascii.hpp"

namespace trustgate::net::detail {

constexpr bool is_label_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || trustgate::detail::is_digit(c) || c == '-';
}

// All digits, or `0x` followed by hex digits: what inet_aton and the WHATWG URL parser
// read as a number, so a name ending in one is an address spelled non-canonically.
constexpr bool is_numeric_label(std::string_view label) noexcept {
    if (label.size() >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
        for (char c : label.substr(2))
            if (trustgate::detail::hex_value(c) < 0) return false;
        return true;
    }
    for (char c : label)
        if (!trustgate::detail::is_digit(c)) return false;
    return true;
}

// RFC 1123 host name: dot-separated labels of 1-63 letters, digits and inner hyphens,
// at most 253 bytes, no trailing dot, and a last label that is not a number.
constexpr bool is_canonical_host_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 253) return false;
    std::string_view last;
    while (true) {
        const auto dot = name.find('.');
        const auto label = name.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (!is_label_char(c)) return false;
        last = label;
        if (dot == std::string_view::npos) break;
        name.remove_prefix(dot + 1);
    }
    return !is_numeric_label(last);
}

// `name` is `suffix` or ends in `.suffix`, ASCII case-insensitively.
constexpr bool is_name_or_subdomain(std::string_view name, std::string_view suffix) noexcept {
    if (trustgate::detail::iequals(name, suffix)) return true;
    return name.size() > suffix.size() && name[name.size() - suffix.size() - 1] == '.' &&
           trustgate::detail::iequals(name.substr(name.size() - suffix.size()), suffix);
}

}  // namespace trustgate::net::detail
