// Text <-> bytes for trustgate::net::address. Strict by design: one spelling per value
// for IPv4, RFC 4291 for IPv6, and nothing that inet_aton would "helpfully" accept.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trustgate/detail/ascii.hpp"

namespace trustgate::detail {

using address_bytes = std::array<std::uint8_t, 16>;

constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Four decimal parts 0-255, no leading zeros, nothing else.
constexpr bool parse_dotted_quad(std::string_view s, std::uint8_t* out) noexcept {
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (s.empty() || s.front() != '.') return false;
            s.remove_prefix(1);
        }
        std::size_t n = 0;
        unsigned value = 0;
        while (n < s.size() && n < 4 && is_digit(s[n])) value = value * 10 + unsigned(s[n++] - '0');
        if (n == 0 || n > 3 || value > 255 || (n > 1 && s[0] == '0')) return false;
        out[part] = static_cast<std::uint8_t>(value);
        s.remove_prefix(n);
    }
    return s.empty();
}

// RFC 4291 §2.2 text forms, without zone ids.
constexpr bool parse_ipv6(std::string_view s, address_bytes& out) noexcept {
    std::array<std::uint16_t, 8> groups{};
    int count = 0;
    int gap_at = -1;  // index in groups where "::" stands
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        gap_at = 0;
        s.remove_prefix(2);
    } else if (!s.empty() && s[0] == ':') {
        return false;
    }
    while (!s.empty()) {
        // One group, or a trailing dotted quad.
        std::size_t n = 0;
        while (n < s.size() && s[n] != ':') ++n;
        const auto token = s.substr(0, n);
        if (token.find('.') != std::string_view::npos) {
            if (n != s.size() || count > 6) return false;
            std::uint8_t q[4]{};
            if (!parse_dotted_quad(token, q)) return false;
            groups[std::size_t(count++)] = std::uint16_t((q[0] << 8) | q[1]);
            groups[std::size_t(count++)] = std::uint16_t((q[2] << 8) | q[3]);
            s = {};
            break;
        }
        if (token.empty() || token.size() > 4 || count == 8) return false;
        unsigned value = 0;
        for (char c : token) {
            const int h = hex_value(c);
            if (h < 0) return false;
            value = value * 16 + unsigned(h);
        }
        groups[std::size_t(count++)] = static_cast<std::uint16_t>(value);
        s.remove_prefix(n);
        if (s.empty()) break;
        s.remove_prefix(1);  // the ':'
        if (!s.empty() && s[0] == ':') {
            if (gap_at >= 0) return false;  // a second "::"
            gap_at = count;
            s.remove_prefix(1);
            if (!s.empty() && s[0] == ':') return false;  // ":::"
        } else if (s.empty()) {
            return false;  // a single trailing ':'
        }
    }
    if (gap_at < 0 ? count != 8 : count > 7) return false;
    std::array<std::uint16_t, 8> full{};
    const int gap = 8 - count;
    for (int i = 0, j = 0; i < count; ++i, ++j) {
        if (gap_at >= 0 && i == gap_at) j += gap;
        full[std::size_t(j)] = groups[std::size_t(i)];
    }
    for (std::size_t i = 0; i < 8; ++i) {
        out[2 * i] = static_cast<std::uint8_t>(full[i] >> 8);
        out[2 * i + 1] = static_cast<std::uint8_t>(full[i]);
    }
    return true;
}

constexpr bool parse_address_text(std::string_view s, address_bytes& out) noexcept {
    if (s.empty()) return false;
    if (s.front() == '[') {
        if (s.size() < 2 || s.back() != ']') return false;
        return parse_ipv6(s.substr(1, s.size() - 2), out);
    }
    if (s.find(':') != std::string_view::npos) return parse_ipv6(s, out);
    std::uint8_t q[4]{};
    if (!parse_dotted_quad(s, q)) return false;
    out = address_bytes{};
    out[10] = out[11] = 0xff;
    for (std::size_t i = 0; i < 4; ++i) out[12 + i] = q[i];
    return true;
}

constexpr std::size_t format_decimal(unsigned v, char* out) noexcept {
    char tmp[3];
    std::size_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (std::size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
    return n;
}

// RFC 5952: lower case, no leading zeros, the longest run (>1) of zero groups as "::".
constexpr std::size_t format_address(const address_bytes& b, bool is_v4, char* out) noexcept {
    std::size_t n = 0;
    if (is_v4) {
        for (std::size_t i = 12; i < 16; ++i) {
            if (i > 12) out[n++] = '.';
            n += format_decimal(b[i], out + n);
        }
        return n;
    }
    std::uint16_t g[8]{};
    for (std::size_t i = 0; i < 8; ++i) g[i] = std::uint16_t((b[2 * i] << 8) | b[2 * i + 1]);
    int best_at = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) { ++i; continue; }
        int j = i;
        while (j < 8 && g[j] == 0) ++j;
        if (j - i > best_len) { best_at = i; best_len = j - i; }
        i = j;
    }
    constexpr char digits[] = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) {
        if (i == best_at) {
            out[n++] = ':';
            out[n++] = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0 && !(best_at >= 0 && i == best_at + best_len)) out[n++] = ':';
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const int d = (g[i] >> shift) & 0xf;
            if (d != 0 || started || shift == 0) {
                out[n++] = digits[d];
                started = true;
            }
        }
    }
    return n;
}

}  // namespace trustgate::detail
