// Consumes trustgate::config: a JSON5 configuration text (OpenClaw's format) read into
// nlohmann::json. nlohmann-json reaches this program only through the component.
#include <trustgate/config/json5.hpp>

int main() {
    const auto root = trustgate::parse_json5("{gateway: {bind: 'loopback', port: 0x4965,}, // comment\n}", "consumer.json5");
    return root["gateway"]["port"] == 18789 ? 0 : 1;
}
