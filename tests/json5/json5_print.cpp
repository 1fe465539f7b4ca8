// The C++ side of json5_differential.py: reads documents framed as `<byte count>\n<bytes>`
// from standard input and writes one line per document, either
//   ok <the value as JSON, with NaN, Infinity and -Infinity as Python's json module reads them>
//   error <the config_error message>
#include <cmath>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "trustgate/config/json5.hpp"

namespace {

// nlohmann's dump() writes non-finite numbers as null, which would hide a difference.
void print(const nlohmann::json& value, std::string& out) {
    switch (value.type()) {
        case nlohmann::json::value_t::object: {
            out += '{';
            const char* separator = "";
            for (const auto& [key, member] : value.items()) {
                out.append(separator).append(nlohmann::json(key).dump()).append(":");
                print(member, out);
                separator = ",";
            }
            out += '}';
            break;
        }
        case nlohmann::json::value_t::array: {
            out += '[';
            const char* separator = "";
            for (const auto& element : value) {
                out += separator;
                print(element, out);
                separator = ",";
            }
            out += ']';
            break;
        }
        case nlohmann::json::value_t::number_float: {
            const double d = value.get<double>();
            if (std::isnan(d)) out += "NaN";
            else if (std::isinf(d)) out += d < 0 ? "-Infinity" : "Infinity";
            else out += value.dump();
            break;
        }
        default: out += value.dump();
    }
}

}  // namespace

int main() {
    std::size_t size = 0;
    while (std::cin >> size) {
        std::cin.get();
        std::string text(size, '\0');
        std::cin.read(text.data(), static_cast<std::streamsize>(size));
        try {
            std::string out = "ok ";
            print(trustgate::parse_json5(text, "doc"), out);
            std::cout << out << '\n';
        } catch (const trustgate::config_error& e) {
            std::cout << "error " << e.what() << '\n';
        }
    }
    return 0;
}
