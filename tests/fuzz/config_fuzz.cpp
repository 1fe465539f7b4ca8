// Fuzz target: trustgate::runtime's configuration loader (trustgate/runtime/config_json.hpp:
// the JSON5 reader of trustgate/config/json5.hpp, OpenClaw's spellings, the schema) and the
// gateway build that follows it (compiled_config.hpp), on arbitrary text.
//
// Properties:
// - the only exception that ever leaves is trustgate::config_error (the gateway turns it
//   into `config error: <path>: <expected>` and exit 2; anything else would crash it);
// - that message is one line, with a path;
// - it never contains the token: when the input's gateway.auth.token is the marker below
//   and the marker appears nowhere else (see marker_is_the_token), the message must not
//   contain the marker;
// - a configuration that loads builds a gateway that decides requests.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "trustgate/config/json5.hpp"
#include "trustgate/runtime/compiled_config.hpp"
#include "trustgate/runtime/config_json.hpp"

namespace {

using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

constexpr std::string_view secret_marker = "tg-fuzz-secret-token";

// True when an appearance of the marker in an error message could only come from the
// token: the marker occurs once in the text, as the value of gateway.auth.token; or, in
// text that is not JSON5, as a whole string (either quote) that no colon follows (a value,
// not a key: the errors met on the way to a syntax error name keys only).
bool marker_is_the_token(std::string_view text) {
    const auto first = text.find(secret_marker);
    if (first == std::string_view::npos || text.find(secret_marker, first + 1) != std::string_view::npos) return false;
    nlohmann::json json;
    try {
        json = trustgate::parse_json5(text, "fuzz.json5");
    } catch (const trustgate::config_error&) {
        auto after = text.substr(first + secret_marker.size());
        const char quote = first == 0 ? '\0' : text[first - 1];
        if ((quote != '"' && quote != '\'') || !after.starts_with(quote)) return false;
        after.remove_prefix(1);
        const auto next = after.find_first_not_of(" \t\r\n");
        return next == std::string_view::npos || (after[next] != ':' && after[next] != '/');
    }
    const nlohmann::json* at = &json;
    for (const char* key : {"gateway", "auth", "token"}) {
        if (!at->is_object() || !at->contains(key)) return false;
        at = &(*at)[key];
    }
    return at->is_string() && at->get<std::string>() == secret_marker;
}

void decide_some_requests(const trustgate::runtime::compiled_config& config) {
    const auto loopback = *trustgate::net::address::parse("127.0.0.1");
    const auto remote = *trustgate::net::address::parse("203.0.113.7");
    const trustgate::basic_request requests[] = {
        trustgate::basic_request(loopback),
        trustgate::basic_request(remote, {{"x-forwarded-user", "alice"}, {"x-forwarded-for", "198.51.100.1"}}),
        trustgate::basic_request(loopback, {{"authorization", "Bearer tg-fuzz-secret-token"}, {"host", "localhost"}}),
    };
    for (const auto& r : requests) {
        const auto d = std::visit([&](const auto& gateway) { return gateway.authenticate(r); }, config.gateway);
        check(!d.allowed || !d.identity.empty(), [&] { return std::string("an allow without an identity"); });
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        decide_some_requests(*trustgate::runtime::compile(trustgate::runtime::parse_config(text, "fuzz.json")));
    } catch (const trustgate::config_error& e) {
        const std::string_view message = e.what();
        check(message.find_first_of("\r\n") == std::string_view::npos && !e.path().empty(),
              [&] { return "config error is not one line with a path: " + quoted(message); });
        if (message.find(secret_marker) != std::string_view::npos)
            check(!marker_is_the_token(text), [&] { return "config error shows the token: " + quoted(message); });
    }
    return 0;
}
