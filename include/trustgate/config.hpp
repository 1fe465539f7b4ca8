// trustgate/config.hpp — runtime configuration, shaped like behaviour §9's JSON.
//
// These are plain values: load them however you like (the example gateway reads JSON),
// then build a gateway with `from_config`. Building validates and compiles everything
// once; a bad value throws config_error naming the JSON path and what was expected.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustgate/detail/ascii.hpp"

namespace trustgate {

namespace detail {

// `text` with control characters (a newline in a JSON key or value, say) written as \xNN.
inline std::string escape_controls(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7f) {
            out += c;
        } else {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

}  // namespace detail

// what() is "<path>: <expected>" on one line (behaviour §9), whatever text the
// configuration put into either; path() and expected() keep the text as given.
class config_error : public std::runtime_error {
public:
    config_error(std::string path, std::string expected)
        : std::runtime_error(detail::escape_controls(path) + ": " + detail::escape_controls(expected)),
          path_(std::move(path)), expected_(std::move(expected)) {}

    const std::string& path() const noexcept { return path_; }
    const std::string& expected() const noexcept { return expected_; }

private:
    std::string path_;
    std::string expected_;
};

// A header name from the configuration (userHeader, requiredHeaders, an assertion's
// header): an RFC 9110 token, returned in lower case, as every comparison of names is;
// anything else is a config_error at `path`.
inline std::string checked_header_name(std::string_view name, const std::string& path) {
    if (name.empty()) throw config_error(path, "expected a non-empty header name");
    if (!detail::is_token(name))
        throw config_error(path, "expected an HTTP header name (an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~), got \"" +
                                     std::string(name) + "\"");
    return detail::lowered(name);
}

enum class auth_mode { trusted_proxy, token, none };

// As gateway.auth.mode spells it.
constexpr std::string_view to_string(auth_mode mode) noexcept {
    switch (mode) {
        case auth_mode::token: return "token";
        case auth_mode::none: return "none";
        case auth_mode::trusted_proxy: break;
    }
    return "trusted-proxy";
}

// behaviour §10: `trustedProxy.assertion`, a signed assertion from the proxy. An unset value
// takes the preset's (trustgate/assertion/proxy_assertion.hpp resolves and checks them).
struct assertion_config {
    std::optional<std::string> preset;          // "pomerium" | "cloudflare-access" | "google-iap"
    std::optional<std::string> header;
    std::optional<std::string> jwks_url;
    std::optional<std::string> jwks_file;       // read when the gateway is built
    std::optional<std::string> issuer;
    std::vector<std::string> audience;
    std::vector<std::string> algorithms;        // empty: the preset's
    std::optional<std::string> identity_claim;  // unset: the preset's, else "email"
    long long leeway_seconds = 60;              // 0..300
    long long refresh_seconds = 3600;           // 1..86400
};

// behaviour §11: `trustedProxy.clientCertificate`, the proxy's client certificate.
struct client_certificate_config {
    std::vector<std::string> allowed_names;  // empty: any certificate from gateway.tls.clientCaPath
};

struct trusted_proxy_config {
    std::string user_header = "x-forwarded-user";
    std::vector<std::string> required_headers;
    std::vector<std::string> allow_users;
    bool allow_users_case_insensitive = false;
    bool allow_loopback = false;
    std::optional<std::string> loopback_user;
    // behaviour §1 local process proof: who may be a local tool, as user names or numeric ids
    // (digit strings); empty means the user the gateway runs as. Resolved at start-up.
    std::vector<std::string> local_users;
    std::optional<assertion_config> assertion;  // behaviour §10
    std::optional<client_certificate_config> client_certificate;  // behaviour §11
};

struct scopes_config {
    std::string header = "x-openclaw-scopes";
    std::vector<std::string> default_scopes{"operator.read"};
    std::vector<std::string> token_scopes{"operator.admin"};
    std::vector<std::pair<std::string, std::vector<std::string>>> identity_scopes;
    std::vector<std::pair<std::string, std::string>> methods;  // over the built-in table
};

// Out of line so templates never build scopes_config{} themselves (works around a g++ 12
// internal compiler error with default member initializers in template code).
inline scopes_config default_scopes_config() { return scopes_config{}; }

// behaviour §6; attempt_limiter checks the bounds.
struct rate_limit_config {
    unsigned max_attempts = 10;
    std::chrono::milliseconds window{60'000};
    std::chrono::milliseconds lockout{300'000};
    bool exempt_loopback = true;
    std::size_t max_keys = 16'384;  // memory stays bounded under a flood of distinct keys
    unsigned ipv6_prefix_length = 64;  // an IPv6 client is its /64: one host holds many addresses
    unsigned global_max_attempts = 0;  // failures per window from all keys together that lock every key; 0: off

    friend bool operator==(const rate_limit_config&, const rate_limit_config&) = default;
};

// The header a trusted proxy names the client in (behaviour §4, gateway.clientIpHeader).
enum class forwarding_header { x_forwarded_for, forwarded };

struct auth_config {
    auth_mode mode = auth_mode::trusted_proxy;
    std::vector<std::string> trusted_proxies;
    forwarding_header client_ip_header = forwarding_header::x_forwarded_for;
    std::optional<std::string> token;  // the resolved secret, never logged
    trusted_proxy_config trusted_proxy;
    scopes_config scopes;
    rate_limit_config rate_limit;
};

}  // namespace trustgate
