// trustgate/config/json5.hpp: each JSON5 feature, each strict rule, and where syntax
// errors point. json5_differential.py compares the reader with python3-json5 on
// generated documents; these cases pin down the decisions documented in the header.
#include <support/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <trustgate/config/json5.hpp>
#include <trustgate/detail/spelling.hpp>

using nlohmann::json;

namespace {

json read(std::string_view text) { return trustgate::parse_json5(text, "t.json5"); }

// The config_error a text gives, as "path: expected".
std::string error_of(std::string_view text, trustgate::json5_limits limits = {}) {
    try {
        trustgate::parse_json5(text, "t.json5", limits);
    } catch (const trustgate::config_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("json5: comments, trailing commas and whitespace") {
    CHECK(read("// a\n{ /* b */ \"a\": 1, // c\n }") == json{{"a", 1}});
    CHECK(read("[1, 2,]") == json{1, 2});
    CHECK(read("{a: [], b: {},}") == json{{"a", json::array()}, {"b", json::object()}});
    CHECK(read("\xEF\xBB\xBF\xC2\xA0\xE2\x80\xA8\xE3\x80\x80\v\f 7") == 7);  // BOM, NBSP, U+2028, U+3000
    CHECK(read("1 // no line break at the end") == 1);
    CHECK(read("/* *\n/ */ true") == true);
}

TEST_CASE("json5: keys") {
    CHECK(read("{$a_1: 1, _: 2, null: 3, Infinity: 4}") == json{{"$a_1", 1}, {"_", 2}, {"null", 3}, {"Infinity", 4}});
    CHECK(read("{'single': 1, \"double\": 2, '': 3}") == json{{"single", 1}, {"double", 2}, {"", 3}});
    // Unquoted keys are ASCII identifiers, without \u escapes: quote the others.
    const std::string rule = "an unquoted key of ASCII letters";
    CHECK_THAT(error_of("{caf\xC3\xA9: 1}"), Catch::Matchers::Contains("t.json5:1:5: expected JSON5: " + rule));
    CHECK_THAT(error_of("{\\u0061: 1}"), Catch::Matchers::Contains("t.json5:1:2: expected JSON5: " + rule));
    CHECK_THAT(error_of("{1a: 1}"), Catch::Matchers::Contains("t.json5:1:2: expected JSON5: a key"));
    CHECK(read("{\"caf\xC3\xA9\": 1}") == json{{"caf\xC3\xA9", 1}});
}

TEST_CASE("json5: strings and escapes") {
    CHECK(read(R"('it"s')") == "it\"s");
    CHECK(read(R"("\'\"\\\/\b\f\n\r\t\v\0")") == std::string("'\"\\/\b\f\n\r\t\v\0", 11));
    CHECK(read(R"("\x41\u00e9\uD83D\uDE00\q")") == "A\xC3\xA9\xF0\x9F\x98\x80q");
    CHECK(read("'a\\\nb\\\r\nc\\\rd\\\xE2\x80\xA8" "e'") == "abcde");  // line continuations
    CHECK(read("'tab\there'") == "tab\there");
    CHECK(read("'\xE2\x80\xA8'") == "\xE2\x80\xA8");  // JSON5 allows U+2028 in a string
    CHECK(error_of("'a\nb'") == "t.json5:1:3: expected JSON5: the closing ' of the string before the end of the line "
                                "(write a line break as \\n)");
    CHECK_THAT(error_of(R"("\1")"), Catch::Matchers::Contains("t.json5:1:2: expected JSON5: an escape other than \\1"));
    CHECK_THAT(error_of(R"("\01")"), Catch::Matchers::Contains("t.json5:1:4: expected JSON5: no digit after \\0"));
    CHECK_THAT(error_of(R"("\x4")"), Catch::Matchers::Contains("t.json5:1:5: expected JSON5: 2 hex digits after \\x"));
    // UTF-8 cannot hold half a surrogate pair.
    CHECK_THAT(error_of(R"("\uDE00")"), Catch::Matchers::Contains("t.json5:1:2: expected JSON5: a \\u escape that is a character"));
    CHECK_THAT(error_of(R"("\uD83Dx")"), Catch::Matchers::Contains("t.json5:1:8: expected JSON5: a \\uDC00 to \\uDFFF escape"));
    CHECK_THAT(error_of("\"ab"), Catch::Matchers::Contains("t.json5:1:4: expected JSON5: the closing \""));
}

TEST_CASE("json5: numbers") {
    CHECK(read("0x1F") == 31);
    CHECK(read("-0X10") == -16);  // JSON5 allows a sign before hex
    CHECK(read("0xFFFFFFFFFFFFFFFF").get<std::uint64_t>() == 0xFFFFFFFFFFFFFFFFull);
    CHECK(read("[.5, 5., +1, -0.0, 1e3, 2E-1]") == json{0.5, 5.0, 1, -0.0, 1000.0, 0.2});
    CHECK(read("+1").is_number_unsigned());
    CHECK(read("-9223372036854775808").get<std::int64_t>() == INT64_MIN);
    CHECK(read("18446744073709551616").is_number_float());  // beyond 64 bits: a double, as in nlohmann
    CHECK(read("1e3").is_number_float());
    CHECK(std::isinf(read("Infinity").get<double>()));
    CHECK(read("-Infinity").get<double>() < 0);
    CHECK(std::isnan(read("+NaN").get<double>()));
    CHECK_THAT(error_of("[1, 01]"), Catch::Matchers::Contains("t.json5:1:6: expected JSON5: no leading zero"));
    CHECK_THAT(error_of("0x"), Catch::Matchers::Contains("t.json5:1:3: expected JSON5: hex digits after 0x"));
    CHECK_THAT(error_of("0x10000000000000000"), Catch::Matchers::Contains("t.json5:1:1: expected JSON5: a hex number from"));
    CHECK_THAT(error_of("."), Catch::Matchers::Contains("t.json5:1:2: expected JSON5: a digit after '.'"));
    CHECK_THAT(error_of("1e+"), Catch::Matchers::Contains("t.json5:1:4: expected JSON5: a digit in the exponent"));
    CHECK_THAT(error_of("--1"), Catch::Matchers::Contains("t.json5:1:2: expected JSON5: a number"));
    CHECK_THAT(error_of("Infinityx"), Catch::Matchers::Contains("t.json5:1:1: expected JSON5: a number"));
    // An error, not an abort and not infinity or zero.
    CHECK_THAT(error_of("{a: [1e400]}"), Catch::Matchers::Contains("t.json5:1:6: expected JSON5: a number a double can hold"));
    CHECK_THAT(error_of("-1e-400"), Catch::Matchers::Contains("t.json5:1:1: expected JSON5: a number a double can hold"));
}

TEST_CASE("json5: syntax errors name the place and what was expected, never the text") {
    CHECK(error_of("") == "t.json5:1:1: expected JSON5: a value (the text holds none)");
    CHECK(error_of("{\n  a: 1\n  b: 2\n}") == "t.json5:3:3: expected JSON5: ',' or '}' after the object member");
    CHECK(error_of("[1\r\n 2]") == "t.json5:2:2: expected JSON5: ',' or ']' after the array element");
    CHECK(error_of("{'\xC3\xA9\xC3\xA9' 1}") == "t.json5:1:7: expected JSON5: ':' after the key");  // columns count characters
    CHECK(error_of("{} {}") == "t.json5:1:4: expected JSON5: the end of the text after the top-level value");
    CHECK(error_of("[,]") == "t.json5:1:2: expected JSON5: a value (an object, array, string, number, true, false, null, "
                             "Infinity or NaN)");
    CHECK(error_of("{,}") == "t.json5:1:2: expected JSON5: a key (a string or an identifier) or '}'");
    CHECK(error_of("\r\r/* never closed") == "t.json5:3:1: expected JSON5: the end of the /* comment that starts here (*/)");
    CHECK(error_of("1 / 2") == "t.json5:1:3: expected JSON5: a comment (// or /*) after '/'");
    CHECK(error_of("\"\xC3\x28\"") == "t.json5:1:2: expected JSON5: UTF-8 text (this byte is not part of a UTF-8 character)");
    CHECK(error_of("\"\xED\xA0\x80\"") == "t.json5:1:2: expected JSON5: UTF-8 text (this byte is not part of a UTF-8 character)");
    const std::string secret = "s3cr3t-value";
    for (const auto& text : {"{token: '" + secret + "' mode: 1}", "{token: '" + secret + "; expected ', x}", "'" + secret})
        CHECK_THAT(error_of(text), !Catch::Matchers::Contains(secret));
}

TEST_CASE("json5: duplicate keys and depth are errors with the JSON path") {
    CHECK(error_of("{a: {b: [0, {c: 1, 'c': 2}]}}") == "a.b[1].c: expected each key once (duplicate key)");
    CHECK(error_of(R"({"\u0061": 1, a: 2})") == "a: expected each key once (duplicate key)");
    CHECK(error_of("{'': 1, \"\": 2}") == "\"\": expected each key once (duplicate key)");
    CHECK(error_of("[[[]]]", {.max_depth = 2}) == "[0][0]: expected at most 2 levels of nesting");
    CHECK(read("[[]]") == json::array({json::array()}));
    CHECK(error_of("{}", {.max_depth = 0}) == "(top level): expected at most 0 levels of nesting");
    // Hostile nesting stops at the bound, far from the stack's end.
    std::string sixteen_deep;
    for (int i = 0; i < 16; ++i) sixteen_deep += "[0]";
    CHECK(error_of(std::string(100000, '[')) == sixteen_deep + ": expected at most 16 levels of nesting");
    CHECK_THROWS_AS(trustgate::parse_json5("1", "t", {.max_depth = trustgate::json5_depth_ceiling + 1}), std::invalid_argument);
}

TEST_CASE("spelling: the known word within two edits") {
    using trustgate::detail::edit_distance;
    using trustgate::detail::nearest_word;
    CHECK(edit_distance("prot", "port") == 1);  // a swap is one edit
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
    const std::string_view keys[] = {"bind", "port", "trustedProxies", "auth"};
    CHECK(nearest_word("prot", keys) == "port");
    CHECK(nearest_word("trustedproxies", keys) == "trustedProxies");
    CHECK(nearest_word("bnd", keys) == "bind");
    CHECK_FALSE(nearest_word("tls", keys).has_value());
    CHECK_FALSE(nearest_word("ab", std::initializer_list<std::string_view>{"id"}).has_value());
    CHECK_FALSE(nearest_word(std::string(100000, 'x'), keys).has_value());
}
