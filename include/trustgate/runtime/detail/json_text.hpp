// JSON string and number text, written straight into a std::string.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace trustgate::runtime::detail {

// The length of the valid UTF-8 sequence `bytes` starts with, or, negated, how many of
// its bytes to drop for one U+FFFD: a lead byte that cannot start a sequence is dropped
// alone; a sequence cut short by a byte that cannot continue it is dropped up to that
// byte, which is then read again as the start of the next one. Overlong forms, UTF-16
// surrogates and code points beyond U+10FFFF are not valid.
inline std::ptrdiff_t utf8_sequence(std::string_view bytes) noexcept {
    const auto lead = static_cast<unsigned char>(bytes[0]);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // what the second byte may be
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else {
        return -1;
    }
    for (std::size_t k = 1; k < length; ++k) {
        if (k == bytes.size()) return -static_cast<std::ptrdiff_t>(k);  // cut short by the end
        const auto next = static_cast<unsigned char>(bytes[k]);
        if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xbf)) return -static_cast<std::ptrdiff_t>(k);
    }
    return static_cast<std::ptrdiff_t>(length);
}

// Appends `bytes` as a JSON string, quotes included: byte for byte what nlohmann::json's
// dump(-1, ' ', false, error_handler_t::replace) writes for the same string, so that a
// line written here and one written through a tree never differ (tests/fuzz/json_fuzz.cpp).
// Invalid UTF-8 becomes U+FFFD; control characters are escaped, everything else is kept.
inline void append_json_string(std::string& out, std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t plain_from = 0;  // the run of bytes copied as they are
    std::size_t i = 0;
    const auto flush = [&] { out.append(bytes.data() + plain_from, i - plain_from); };
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            ++i;
            continue;
        }
        const auto sequence = utf8_sequence(bytes.substr(i));
        if (sequence > 1) {
            i += static_cast<std::size_t>(sequence);
            continue;
        }
        flush();
        if (sequence < 0) {
            out.append("\xef\xbf\xbd");
            i += static_cast<std::size_t>(-sequence);
        } else {
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\b': out.append("\\b"); break;
                case '\t': out.append("\\t"); break;
                case '\n': out.append("\\n"); break;
                case '\f': out.append("\\f"); break;
                case '\r': out.append("\\r"); break;
                default:
                    out.append("\\u00");
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 0xf]);
            }
            ++i;
        }
        plain_from = i;
    }
    flush();
    out.push_back('"');
}

template <class Integer>
    requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
void append_json_number(std::string& out, Integer value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace trustgate::runtime::detail
