// The two pieces of URI syntax trustgate reads in several places: a port and a scheme.
// One definition each, used by the Host and Origin checks (scan.hpp), x-forwarded-for
// entries (client_ip.hpp) and proxy and target URLs (net/impl/url_text.hpp), so that
// those can never disagree about the same text.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "trustgate/detail/ascii.hpp"

namespace trustgate::detail {

// A port: 1 to 65535 in decimal, with no sign and no leading zero. Stricter than RFC
// 3986's *DIGIT on purpose: `:080`, `:0` or an empty port is not a spelling any client
// sends, so text with one is treated as malformed (a Host is then not local, an
// x-forwarded-for entry stops the walk, a URL is refused) rather than guessed at.
constexpr std::optional<std::uint16_t> parse_port(std::string_view s) noexcept {
    if (s.empty() || s.size() > 5 || s[0] == '0') return std::nullopt;
    unsigned v = 0;
    for (const char c : s) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + unsigned(c - '0');
    }
    if (v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

// RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), either case.
constexpr bool is_uri_scheme(std::string_view s) noexcept {
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (s.empty() || !alpha(s[0])) return false;
    for (const char c : s)
        if (!(alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) return false;
    return true;
}

}  // namespace trustgate::detail
