// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): `# HELP` and `# TYPE`
// lines, then one `name{label="value",...} number` line per sample. Written for scrapes,
// never on the request path.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace trustgate::detail {

using prometheus_label = std::pair<std::string_view, std::string_view>;

// HELP text escapes `\` and newline; label values also escape `"`.
inline void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (quote && c == '"') out += "\\\"";
        else out += c;
    }
}

inline void append_family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// Text that reads back as the same double; `+Inf` for the histogram's last bucket.
inline void append_number(std::string& out, double value) {
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    // Fixed notation reads best (`0.0005`, not `5e-04`); tiny or huge values fall back
    // to the shortest form.
    char text[64];
    auto [end, error] = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
    if (error != std::errc{}) end = std::to_chars(text, text + sizeof text, value).ptr;
    out.append(text, end);
}

inline void append_number(std::string& out, std::uint64_t value) {
    char text[24];
    const auto end = std::to_chars(text, text + sizeof text, value).ptr;
    out.append(text, end);
}

inline void append_number(std::string& out, std::int64_t value) {
    char text[24];
    const auto end = std::to_chars(text, text + sizeof text, value).ptr;
    out.append(text, end);
}

template <class Number>
void append_sample(std::string& out, std::string_view name, std::initializer_list<prometheus_label> labels, Number value) {
    out += name;
    if (labels.size() != 0) {
        out += '{';
        bool first = true;
        for (const auto& [label, text] : labels) {
            if (!first) out += ',';
            first = false;
            out += label;
            out += "=\"";
            append_escaped(out, text, true);
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    append_number(out, value);
    out += '\n';
}

}  // namespace trustgate::detail
