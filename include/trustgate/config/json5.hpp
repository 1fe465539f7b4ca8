// trustgate/config/json5.hpp — configuration text in JSON5, OpenClaw's format
// (component trustgate::config, which needs nlohmann-json).
//
//   const nlohmann::json root = trustgate::parse_json5(text, "gateway.json5");  // throws config_error
//
// JSON5 (https://spec.json5.org) is JSON plus what people write by hand: // and /* */
// comments, trailing commas, unquoted keys, 'single-quoted' strings, escapes such as \x41
// and line continuations, hex integers (0x1F), numbers like .5, 5. and +1, Infinity and
// NaN. Every JSON document reads as it does in JSON.
//
// Strict where a configuration needs it:
// - a key given twice is an error naming its JSON path (in JSON5 the last would win);
// - nesting is bounded (json5_limits::max_depth), so hostile input cannot exhaust the stack;
// - a number no double can hold (1e400, 1e-400) is an error, not infinity or zero;
// - the text must be UTF-8, and a \u escape must not leave half a surrogate pair;
// - unquoted keys are ASCII identifiers (letters, digits, $ and _, no \u escapes): every
//   configuration key is one, and any other key reads better quoted.
// Integers that fit 64 bits are integers (hex ones too); others become doubles, as in
// nlohmann's JSON parser. Infinity and NaN are doubles: a reader that expects a number
// refuses them as it would any fraction.
//
// Errors are config_error. A syntax error's path is `SOURCE:LINE:COLUMN` (lines end at LF,
// CRLF or CR; columns count characters, from 1) and its text says what was expected
// there; errors about the document's structure name the JSON path. No error quotes the
// text, which could hold a secret.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "trustgate/config.hpp"
#include "trustgate/config/detail/json5_reader.hpp"

namespace trustgate {

struct json5_limits {
    // Containers (objects and arrays) open at once, at most; up to json5_depth_ceiling.
    std::size_t max_depth = 16;
};

// The reader recurses once per level: this bounds its stack use whatever the caller asks.
inline constexpr std::size_t json5_depth_ceiling = 256;

// The value `text` holds. `source` names the text in syntax errors (a file name, say).
inline nlohmann::json parse_json5(std::string_view text, std::string_view source, json5_limits limits = {}) {
    if (limits.max_depth > json5_depth_ceiling)
        throw std::invalid_argument("trustgate::parse_json5: max_depth above json5_depth_ceiling");
    try {
        return detail::json5_reader(text, limits.max_depth).document();
    } catch (const detail::json5_error& e) {
        if (e.line == 0) throw config_error(e.path.empty() ? "(top level)" : e.path, e.expected);
        throw config_error(std::string(source) + ":" + std::to_string(e.line) + ":" + std::to_string(e.column),
                           "expected JSON5: " + e.expected);
    }
}

}  // namespace trustgate
