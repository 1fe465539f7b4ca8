// The JSON5 grammar (https://spec.json5.org, 1.0.0) read into nlohmann::json, strictly:
// see trustgate/config/json5.hpp for what is accepted and refused, and why.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace trustgate::detail {

// Where and why a document was refused. A syntax error has a place (line and column,
// from 1); an error about the document's structure (a duplicate key, nesting too deep)
// has a JSON path instead. `expected` never quotes the text: it could hold a secret.
struct json5_error {
    std::size_t line = 0;  // 0: not a syntax error, `path` says where
    std::size_t column = 0;
    std::string path;
    std::string expected;
};

// The path of a value, as config_error shows it: gateway.auth.trustedProxy, methods.x.y,
// trustedProxies[1]. An empty key shows as "", so that a path never comes out empty.
inline std::string json_path_key(const std::string& base, std::string_view key) {
    const std::string name = key.empty() ? "\"\"" : std::string(key);
    return base.empty() ? name : base + "." + name;
}

inline std::string json_path_index(const std::string& base, std::size_t index) {
    return base + "[" + std::to_string(index) + "]";
}

class json5_reader {
public:
    json5_reader(std::string_view text, std::size_t max_depth) : text_(text), max_depth_(max_depth) {}

    // The one value the text holds, or a json5_error.
    nlohmann::json document() {
        check_utf8();
        skip_space();
        if (at_end()) fail("a value (the text holds none)");
        auto value = read_value();
        skip_space();
        if (!at_end()) fail("the end of the text after the top-level value");
        return value;
    }

private:
    struct step {
        std::string key;  // an object member's key, or
        std::size_t index = 0;  // an array element's index
        bool in_array = false;
    };

    std::string_view text_;
    std::size_t max_depth_;
    std::size_t pos_ = 0;
    std::vector<step> path_;

    bool at_end() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
    bool next_is(std::string_view word) const { return text_.substr(pos_).starts_with(word); }

    static bool is_digit(char c) { return c >= '0' && c <= '9'; }
    static bool is_identifier_start(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '$' || c == '_';
    }
    static bool is_identifier_part(char c) { return is_identifier_start(c) || is_digit(c); }
    static int hex_value(char c) {
        if (is_digit(c)) return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    [[noreturn]] void fail_at(std::size_t at, std::string expected) const {
        json5_error e;
        e.line = 1;
        e.column = 1;
        // Lines end at LF, CRLF or CR, as editors count them; columns count characters.
        for (std::size_t i = 0; i < at && i < text_.size(); ++i) {
            const char c = text_[i];
            if (c == '\n' || (c == '\r' && (i + 1 >= text_.size() || text_[i + 1] != '\n'))) {
                ++e.line;
                e.column = 1;
            } else if (c != '\r' && (static_cast<unsigned char>(c) & 0xC0) != 0x80) {
                ++e.column;
            }
        }
        e.expected = std::move(expected);
        throw e;
    }
    [[noreturn]] void fail(std::string expected) const { fail_at(pos_, std::move(expected)); }

    [[noreturn]] void fail_structure(std::string expected) const {
        json5_error e;
        e.path = path_text();
        e.expected = std::move(expected);
        throw e;
    }

    std::string path_text() const {
        std::string path;
        for (const auto& s : path_) path = s.in_array ? json_path_index(path, s.index) : json_path_key(path, s.key);
        return path;
    }

    // The length of the UTF-8 sequence at `at` and its code point; length 0 when the
    // bytes there are not UTF-8 (overlong forms and encoded surrogates included).
    std::size_t decode(std::size_t at, char32_t& code_point) const {
        const auto byte = [&](std::size_t i) { return at + i < text_.size() ? static_cast<unsigned char>(text_[at + i]) : 0u; };
        const unsigned lead = byte(0);
        std::size_t length = 0;
        char32_t lowest = 0;
        if (lead < 0x80) {
            code_point = lead;
            return 1;
        } else if ((lead & 0xE0) == 0xC0) {
            length = 2, lowest = 0x80, code_point = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, lowest = 0x800, code_point = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4, lowest = 0x10000, code_point = lead & 0x07;
        } else {
            return 0;
        }
        for (std::size_t i = 1; i < length; ++i) {
            if ((byte(i) & 0xC0) != 0x80) return 0;
            code_point = (code_point << 6) | (byte(i) & 0x3F);
        }
        if (code_point < lowest || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) return 0;
        return length;
    }

    // Every byte is checked once, up front, so the rest of the reader and every string
    // it produces (nlohmann's dump() throws on invalid UTF-8) can rely on it.
    void check_utf8() const {
        for (std::size_t at = 0; at < text_.size();) {
            char32_t code_point = 0;
            const auto length = decode(at, code_point);
            if (length == 0) fail_at(at, "UTF-8 text (this byte is not part of a UTF-8 character)");
            at += length;
        }
    }

    static bool is_line_terminator(char32_t c) { return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029; }

    // JSON5 WhiteSpace and LineTerminator: the ASCII ones, U+00A0, U+FEFF and the
    // Unicode space separators (category Zs), U+2028 and U+2029.
    static bool is_space(char32_t c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0xA0 || c == 0xFEFF ||
               c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
               c == 0x3000;
    }

    void skip_space() {
        while (!at_end()) {
            char32_t c = 0;
            const auto length = decode(pos_, c);
            if (is_space(c)) {
                pos_ += length;
            } else if (c == '/' && peek(1) == '/') {
                while (!at_end()) {
                    pos_ += decode(pos_, c);
                    if (is_line_terminator(c)) break;
                }
            } else if (c == '/' && peek(1) == '*') {
                const auto end = text_.find("*/", pos_ + 2);
                if (end == std::string_view::npos) fail("the end of the /* comment that starts here (*/)");
                pos_ = end + 2;
            } else if (c == '/') {
                fail("a comment (// or /*) after '/'");
            } else {
                return;
            }
        }
    }

    nlohmann::json read_value() {
        const char c = peek();
        if (c == '{' || c == '[') {
            if (path_.size() >= max_depth_) fail_structure("expected at most " + std::to_string(max_depth_) + " levels of nesting");
            return c == '{' ? read_object() : read_array();
        }
        if (c == '"' || c == '\'') return read_string();
        if (c == '+' || c == '-' || c == '.' || is_digit(c) || next_is("Infinity") || next_is("NaN")) return read_number();
        for (const auto& [word, value] : {std::pair<std::string_view, nlohmann::json>{"true", true}, {"false", false}, {"null", nullptr}}) {
            if (next_is(word) && !is_identifier_part(peek(word.size()))) {
                pos_ += word.size();
                return value;
            }
        }
        fail("a value (an object, array, string, number, true, false, null, Infinity or NaN)");
    }

    nlohmann::json read_object() {
        auto object = nlohmann::json::object();
        ++pos_;
        // By index: the vector grows while the members' values are read.
        const auto here = path_.size();
        path_.emplace_back();
        for (;;) {
            skip_space();
            if (peek() == '}') break;
            path_[here].key = read_key();
            skip_space();
            if (peek() != ':') fail("':' after the key");
            ++pos_;
            // Checked before the value is read, so the error names the key the reader met first.
            if (object.contains(path_[here].key)) fail_structure("expected each key once (duplicate key)");
            skip_space();
            auto value = read_value();
            object.emplace(path_[here].key, std::move(value));
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() != '}') fail("',' or '}' after the object member");
            break;
        }
        ++pos_;
        path_.pop_back();
        return object;
    }

    nlohmann::json read_array() {
        auto array = nlohmann::json::array();
        ++pos_;
        const auto here = path_.size();
        path_.emplace_back().in_array = true;
        for (;;) {
            skip_space();
            if (peek() == ']') break;
            path_[here].index = array.size();
            array.push_back(read_value());
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() != ']') fail("',' or ']' after the array element");
            break;
        }
        ++pos_;
        path_.pop_back();
        return array;
    }

    // A quoted key, or an identifier: ES5 IdentifierName restricted to ASCII, without
    // \u escapes. Every configuration key is ASCII; anything else reads better quoted.
    std::string read_key() {
        const char c = peek();
        if (c == '"' || c == '\'') return read_string().get<std::string>();
        const std::string identifier_rule = "an unquoted key of ASCII letters, digits, $ and _, not starting with a digit "
                                            "(quote any other key)";
        if (!is_identifier_start(c)) {
            if (c == '\\' || static_cast<unsigned char>(c) >= 0x80) fail(identifier_rule);
            fail(at_end() ? "a key or '}' before the end of the text" : "a key (a string or an identifier) or '}'");
        }
        const auto start = pos_;
        while (is_identifier_part(peek())) ++pos_;
        char32_t next = 0;
        if (!at_end()) decode(pos_, next);
        if (next == '\\' || (next >= 0x80 && !is_space(next))) fail(identifier_rule);
        return std::string(text_.substr(start, pos_ - start));
    }

    void append_utf8(std::string& out, char32_t c) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if (c < 0x800) {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += static_cast<char>(0xE0 | (c >> 12));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (c >> 18));
            out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }

    // `digits` hex digits at the reader's place, as a number; the reader moves past them.
    char32_t read_hex_digits(std::size_t digits, const char* escape) {
        char32_t value = 0;
        for (std::size_t i = 0; i < digits; ++i) {
            const int v = hex_value(peek());
            if (v < 0) fail(std::to_string(digits) + " hex digits after " + escape);
            value = value * 16 + static_cast<char32_t>(v);
            ++pos_;
        }
        return value;
    }

    // \uHHHH, joining a surrogate pair into one character. A lone surrogate is refused:
    // UTF-8 cannot hold it.
    char32_t read_unicode_escape() {
        const auto start = pos_ - 2;
        const char32_t unit = read_hex_digits(4, "\\u");
        if (unit >= 0xDC00 && unit <= 0xDFFF) fail_at(start, "a \\u escape that is a character (this one is a lone low surrogate)");
        if (unit < 0xD800 || unit > 0xDBFF) return unit;
        if (!next_is("\\u")) fail("a \\uDC00 to \\uDFFF escape after the high surrogate \\u escape");
        pos_ += 2;
        const char32_t low = read_hex_digits(4, "\\u");
        if (low < 0xDC00 || low > 0xDFFF) fail_at(pos_ - 6, "a \\uDC00 to \\uDFFF escape after the high surrogate \\u escape");
        return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }

    nlohmann::json read_string() {
        const char quote = peek();
        ++pos_;
        std::string out;
        for (;;) {
            if (at_end()) fail(std::string("the closing ") + quote + " of the string before the end of the text");
            char32_t c = 0;
            const auto length = decode(pos_, c);
            if (c == static_cast<unsigned char>(quote)) break;
            if (c == '\n' || c == '\r')
                fail(std::string("the closing ") + quote + " of the string before the end of the line (write a line break as \\n)");
            if (c != '\\') {
                out.append(text_.substr(pos_, length));
                pos_ += length;
                continue;
            }
            ++pos_;
            if (at_end()) fail("an escaped character after \\");
            const char e = peek();
            ++pos_;
            switch (e) {
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'v': out += '\v'; break;
                case '0':
                    if (is_digit(peek())) fail("no digit after \\0 (octal escapes are not JSON5)");
                    out += '\0';
                    break;
                case 'x': append_utf8(out, read_hex_digits(2, "\\x")); break;
                case 'u': append_utf8(out, read_unicode_escape()); break;
                case '\r':
                    if (peek() == '\n') ++pos_;
                    break;
                case '\n': break;  // a line continuation: the line break is not part of the string
                default: {
                    if (is_digit(e)) fail_at(pos_ - 2, "an escape other than \\1 to \\9 (octal escapes are not JSON5)");
                    --pos_;
                    const auto escaped_length = decode(pos_, c);
                    if (c != 0x2028 && c != 0x2029) out.append(text_.substr(pos_, escaped_length));
                    pos_ += escaped_length;
                }
            }
        }
        ++pos_;
        return out;
    }

    // NumericLiteral with an optional sign: decimal (leading or trailing '.' allowed, no
    // leading zeros), hex, Infinity and NaN. Integers that fit 64 bits stay integers, as
    // nlohmann's own parser keeps them; a double that cannot hold a number refuses it.
    nlohmann::json read_number() {
        const auto start = pos_;
        const bool negative = peek() == '-';
        if (peek() == '+' || peek() == '-') ++pos_;
        if (next_is("Infinity") && !is_identifier_part(peek(8))) {
            pos_ += 8;
            return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        }
        if (next_is("NaN") && !is_identifier_part(peek(3))) {
            pos_ += 3;
            return std::numeric_limits<double>::quiet_NaN();
        }
        if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) return read_hex(start, negative);
        const auto digits_start = pos_;
        bool fraction = false;
        if (peek() == '0') {
            ++pos_;
            if (is_digit(peek())) fail("no leading zero in a number (hex numbers start with 0x)");
        } else if (is_digit(peek())) {
            while (is_digit(peek())) ++pos_;
        } else if (peek() != '.') {
            fail("a number (digits, '.', Infinity or NaN)");
        }
        if (peek() == '.') {
            fraction = true;
            ++pos_;
            if (pos_ - digits_start == 1 && !is_digit(peek())) fail("a digit after '.'");
            while (is_digit(peek())) ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            fraction = true;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!is_digit(peek())) fail("a digit in the exponent");
            while (is_digit(peek())) ++pos_;
        }
        const char* first = text_.data() + digits_start;
        const char* last = text_.data() + pos_;
        if (!fraction) {
            std::uint64_t magnitude = 0;
            if (std::from_chars(first, last, magnitude).ec == std::errc{}) {
                if (!negative) return magnitude;
                if (magnitude <= std::uint64_t(1) << 63) return static_cast<std::int64_t>(0 - magnitude);
            }
        }
        double value = 0;
        if (std::from_chars(first, last, value).ec != std::errc{})
            fail_at(start, "a number a double can hold (this one is too large or too close to zero)");
        return negative ? -value : value;
    }

    nlohmann::json read_hex(std::size_t start, bool negative) {
        pos_ += 2;
        if (hex_value(peek()) < 0) fail("hex digits after 0x");
        std::uint64_t magnitude = 0;
        bool fits = true;
        for (; hex_value(peek()) >= 0; ++pos_) {
            fits = fits && magnitude >> 60 == 0;
            magnitude = magnitude * 16 + static_cast<std::uint64_t>(hex_value(peek()));
        }
        if (fits && !negative) return magnitude;
        if (fits && magnitude <= std::uint64_t(1) << 63) return static_cast<std::int64_t>(0 - magnitude);
        fail_at(start, "a hex number from -0x8000000000000000 to 0xFFFFFFFFFFFFFFFF");
    }
};

}  // namespace trustgate::detail
