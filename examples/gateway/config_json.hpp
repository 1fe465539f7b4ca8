// examples/gateway/config_json.hpp — SPEC §9's JSON configuration, read strictly.
//
//   gateway_config c = parse_config(text, "gateway.jsonc");   // throws trustgate::config_error
//
// Comments are allowed. Unknown keys, duplicate keys, wrong types and broken rules are
// errors naming the JSON path and what was expected, so a typo never silently weakens
// authentication. The rules trustgate's policies own (trustedProxies entries, loopbackUser,
// scope names, ...) are checked when the gateway is built from the result (compiled_config.hpp).
// SecretRefs are checked against secrets.providers here and resolved there (secrets.hpp).
// No Beast here: a fuzz target can link this alone.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "secrets.hpp"
#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/cidr.hpp"
#include "trustgate/net/prefix_set.hpp"
#include "trustgate/net/proxy_settings.hpp"

namespace trustgate_gateway {

using trustgate::config_error;

struct tls_settings {
    bool enabled = false;
    std::string certificate_chain_file;  // gateway.tls.certPath
    std::string private_key_file;        // gateway.tls.keyPath
};

// gateway.metrics (SPEC §13): the Prometheus exposition, for the listed peers only.
struct metrics_settings {
    bool enabled = false;
    std::string path = "/metrics";
    trustgate::net::prefix_set allow_from{std::vector{*trustgate::net::cidr::parse("127.0.0.1"), *trustgate::net::cidr::parse("::1")}};
};

// Everything the configuration file says, with SPEC §9's defaults.
struct gateway_config {
    trustgate::net::address bind = trustgate::net::address::from_v4_uint(0x7f000001);
    std::uint16_t port = 18789;
    trustgate::auth_config auth;  // auth.token holds the token once resolved
    std::optional<secret_ref> token_ref;  // gateway.auth.token given as a SecretRef
    secret_providers providers;           // secrets.providers
    bool expose_reasons = false;
    bool allow_insecure_none = false;
    tls_settings tls;
    std::optional<std::string> strict_transport_security;
    std::size_t max_connections = 1024;  // gateway.http.maxConnections: beyond it, 503 (WebSockets count)
    metrics_settings metrics;
    trustgate::net::proxy_settings proxy;
};

// What the gateway runs on without --config (SPEC §9), printed by --print-default-config.
inline constexpr std::string_view default_config_text = R"jsonc(// trustgate-gateway: the embedded default configuration (SPEC §9).
//
// Serves http://127.0.0.1:18789 in trusted-proxy mode. A reverse proxy on this host that
// authenticates people must set X-Forwarded-User (and X-Forwarded-For, as every proxy
// does); local tools that connect straight to the gateway (a CLI, sub-agents) get in as
// operator@localhost. Save this as a file, edit it and pass it with --config FILE.
{
  "gateway": {
    "bind": "127.0.0.1",
    "port": 18789,
    "trustedProxies": ["127.0.0.1", "::1"],
    "auth": {
      "mode": "trusted-proxy",
      "trustedProxy": {
        "userHeader": "x-forwarded-user",
        // Same-host proxy: its requests come from 127.0.0.1 and carry X-Forwarded-For.
        "allowLoopback": true,
        // Direct-local requests without a user header (no proxy in between).
        "loopbackUser": "operator@localhost"
      }
    }
  }
}
)jsonc";

namespace detail {

using json = nlohmann::json;

// Deep enough for any valid configuration; bounds work on hostile input.
inline constexpr int max_depth = 16;

// An empty key (legal JSON) shows as "", so that a path never comes out empty.
inline std::string join_path(const std::string& base, std::string_view key) {
    const std::string name = key.empty() ? "\"\"" : std::string(key);
    return base.empty() ? name : base + "." + name;
}

inline std::string index_path(const std::string& base, std::size_t i) { return base + "[" + std::to_string(i) + "]"; }

// The kind of value found, for messages. Never the value itself: it could be a secret.
inline std::string kind_of(const json& value) {
    switch (value.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return value.get<bool>() ? "true" : "false";
        case json::value_t::string: return "a string";
        case json::value_t::object: return "an object";
        case json::value_t::array: return "an array";
        case json::value_t::number_float: return "a fractional number";
        default: return "a number";
    }
}

[[noreturn]] inline void wrong(const std::string& path, const std::string& expected, const json& found) {
    throw config_error(path, expected + ", got " + kind_of(found));
}

// An object whose keys must all be known. The key list is checked first, so a typo is
// reported as the unknown key it is, not as some consequence of the missing one.
class object_reader {
public:
    object_reader(const json& value, std::string path, std::initializer_list<std::string_view> keys)
        : value_(value), path_(std::move(path)) {
        if (!value.is_object()) wrong(path_.empty() ? "(top level)" : path_, "expected an object", value);
        for (const auto& [key, member] : value.items()) {
            bool known = false;
            for (const auto k : keys) known = known || k == key;
            if (!known) {
                std::string list;
                for (const auto k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
                throw config_error(join_path(path_, key), "expected one of the keys " + list + " (unknown key)");
            }
        }
    }

    const json* find(std::string_view key) const {
        const auto it = value_.find(std::string(key));
        return it == value_.end() ? nullptr : &*it;
    }

    std::string path(std::string_view key) const { return join_path(path_, key); }

    // Calls read(value, path) when `key` is present.
    template <class Read>
    void with(std::string_view key, Read&& read) const {
        if (const json* v = find(key)) read(*v, path(key));
    }

private:
    const json& value_;
    std::string path_;
};

inline bool read_bool(const json& v, const std::string& path) {
    if (!v.is_boolean()) wrong(path, "expected true or false", v);
    return v.get<bool>();
}

inline std::string read_string(const json& v, const std::string& path) {
    if (!v.is_string()) wrong(path, "expected a string", v);
    return v.get<std::string>();
}

inline std::optional<std::string> read_optional_string(const json& v, const std::string& path) {
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) wrong(path, "expected a string or null", v);
    return v.get<std::string>();
}

inline std::vector<std::string> read_string_list(const json& v, const std::string& path) {
    if (!v.is_array()) wrong(path, "expected an array of strings", v);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(read_string(v[i], index_path(path, i)));
    return out;
}

inline std::uint64_t read_integer(const json& v, const std::string& path, std::uint64_t lowest, std::uint64_t highest) {
    const std::string expected = "expected an integer from " + std::to_string(lowest) + " to " + std::to_string(highest);
    if (!v.is_number_integer()) wrong(path, expected, v);
    if (v.is_number_unsigned()) {
        const auto n = v.get<std::uint64_t>();
        if (n >= lowest && n <= highest) return n;
    } else if (const auto n = v.get<std::int64_t>(); n >= 0 && std::uint64_t(n) >= lowest && std::uint64_t(n) <= highest) {
        return std::uint64_t(n);
    }
    throw config_error(path, expected + ", got " + v.dump());
}

inline std::chrono::milliseconds read_milliseconds(const json& v, const std::string& path) {
    // Up to a year: long enough for any lockout, short enough never to overflow a clock.
    return std::chrono::milliseconds(read_integer(v, path, 1, 365ull * 24 * 3600 * 1000));
}

inline void read_trusted_proxy(const json& v, const std::string& path, trustgate::trusted_proxy_config& tp) {
    const object_reader o(v, path, {"userHeader", "requiredHeaders", "allowUsers", "allowUsersCaseInsensitive",
                                    "allowLoopback", "loopbackUser"});
    o.with("userHeader", [&](const json& j, const std::string& p) { tp.user_header = read_string(j, p); });
    o.with("requiredHeaders", [&](const json& j, const std::string& p) { tp.required_headers = read_string_list(j, p); });
    o.with("allowUsers", [&](const json& j, const std::string& p) { tp.allow_users = read_string_list(j, p); });
    o.with("allowUsersCaseInsensitive",
           [&](const json& j, const std::string& p) { tp.allow_users_case_insensitive = read_bool(j, p); });
    o.with("allowLoopback", [&](const json& j, const std::string& p) { tp.allow_loopback = read_bool(j, p); });
    o.with("loopbackUser", [&](const json& j, const std::string& p) { tp.loopback_user = read_optional_string(j, p); });
}

inline void read_scopes(const json& v, const std::string& path, trustgate::scopes_config& sc) {
    const object_reader o(v, path, {"header", "defaultScopes", "tokenScopes", "identityScopes", "methods"});
    o.with("header", [&](const json& j, const std::string& p) { sc.header = read_string(j, p); });
    o.with("defaultScopes", [&](const json& j, const std::string& p) { sc.default_scopes = read_string_list(j, p); });
    o.with("tokenScopes", [&](const json& j, const std::string& p) { sc.token_scopes = read_string_list(j, p); });
    o.with("identityScopes", [&](const json& j, const std::string& p) {
        if (!j.is_object()) wrong(p, "expected an object mapping identities to arrays of scopes", j);
        for (const auto& [identity, list] : j.items())
            sc.identity_scopes.emplace_back(identity, read_string_list(list, join_path(p, identity)));
    });
    o.with("methods", [&](const json& j, const std::string& p) {
        if (!j.is_object()) wrong(p, "expected an object mapping method names to scopes", j);
        for (const auto& [method, scope] : j.items()) sc.methods.emplace_back(method, read_string(scope, join_path(p, method)));
    });
}

inline void read_rate_limit(const json& v, const std::string& path, trustgate::rate_limit_config& rl) {
    const object_reader o(v, path, {"maxAttempts", "windowMs", "lockoutMs", "exemptLoopback", "maxKeys"});
    o.with("maxAttempts", [&](const json& j, const std::string& p) { rl.max_attempts = unsigned(read_integer(j, p, 1, 1000)); });
    o.with("maxKeys", [&](const json& j, const std::string& p) { rl.max_keys = read_integer(j, p, 4, 1u << 20); });
    o.with("windowMs", [&](const json& j, const std::string& p) { rl.window = read_milliseconds(j, p); });
    o.with("lockoutMs", [&](const json& j, const std::string& p) { rl.lockout = read_milliseconds(j, p); });
    o.with("exemptLoopback", [&](const json& j, const std::string& p) { rl.exempt_loopback = read_bool(j, p); });
}

// A token a bearer header could carry: the header scan trims spaces and tabs and a header
// value holds no control characters, so any other token could never match.
inline void check_token_text(std::string_view token, const std::string& path, const std::string& what) {
    if (token != trustgate::detail::trim(token) ||
        std::any_of(token.begin(), token.end(), [](char ch) { return trustgate::detail::is_control(ch); }))
        throw config_error(path, "expected a token without control characters or surrounding spaces: " + what +
                                     " could never match a bearer token");
}

// {"source": "env"|"file"|"exec", "provider": …, "id": …}; checked against the providers
// once both are read (check_secret_ref).
inline secret_ref read_secret_ref(const json& v, const std::string& path) {
    const object_reader o(v, path, {"source", "provider", "id"});
    for (const auto key : {"source", "provider", "id"})
        if (o.find(key) == nullptr) throw config_error(o.path(key), "expected a string (a SecretRef has source, provider and id)");
    secret_ref ref;
    const auto source = read_string(*o.find("source"), o.path("source"));
    if (source == "env") ref.source = secret_source::env;
    else if (source == "file") ref.source = secret_source::file;
    else if (source == "exec") ref.source = secret_source::exec;
    else throw config_error(o.path("source"), R"(expected "env", "file" or "exec", got )" + in_quotes(source));
    ref.provider = read_string(*o.find("provider"), o.path("provider"));
    ref.id = read_string(*o.find("id"), o.path("id"));
    return ref;
}

inline std::vector<std::string> read_absolute_paths(const json& v, const std::string& path) {
    auto paths = read_string_list(v, path);
    for (std::size_t i = 0; i < paths.size(); ++i)
        if (!paths[i].starts_with('/'))
            throw config_error(index_path(path, i), "expected an absolute path, got " + in_quotes(paths[i]));
    return paths;
}

inline bool valid_env_name(std::string_view name) {
    const auto word = [](char ch) { return ch == '_' || is_lower_alnum(ch) || is_upper_alnum(ch); };
    return !name.empty() && !(name[0] >= '0' && name[0] <= '9') && std::all_of(name.begin(), name.end(), word);
}

inline exec_provider read_exec_provider(const object_reader& o) {
    exec_provider p;
    const json* command = o.find("command");
    if (command == nullptr) throw config_error(o.path("command"), "expected the absolute path of the resolver program");
    p.command = read_string(*command, o.path("command"));
    if (!p.command.starts_with('/'))
        throw config_error(o.path("command"), "expected an absolute path (no shell, no PATH lookup), got " + in_quotes(p.command));
    o.with("args", [&](const json& j, const std::string& path) { p.args = read_string_list(j, path); });
    o.with("passEnv", [&](const json& j, const std::string& path) {
        p.pass_env = read_string_list(j, path);
        for (std::size_t i = 0; i < p.pass_env.size(); ++i)
            if (!valid_env_name(p.pass_env[i]))
                throw config_error(index_path(path, i), "expected an environment variable name, got " + in_quotes(p.pass_env[i]));
    });
    o.with("timeoutMs",
           [&](const json& j, const std::string& path) { p.timeout = std::chrono::milliseconds(read_integer(j, path, 1, 120'000)); });
    o.with("jsonOnly", [&](const json& j, const std::string& path) { p.json_only = read_bool(j, path); });
    o.with("trustedDirs", [&](const json& j, const std::string& path) { p.trusted_dirs = read_absolute_paths(j, path); });
    o.with("allowSymlinkCommand", [&](const json& j, const std::string& path) { p.allow_symlink_command = read_bool(j, path); });
    return p;
}

inline file_provider read_file_provider(const object_reader& o) {
    file_provider p;
    const json* path = o.find("path");
    if (path == nullptr) throw config_error(o.path("path"), "expected the path of the secrets file");
    p.path = read_string(*path, o.path("path"));
    if (!p.path.starts_with('/') && !p.path.starts_with("~/"))
        throw config_error(o.path("path"), "expected an absolute path or one starting with ~/, got " + in_quotes(p.path));
    o.with("mode", [&](const json& j, const std::string& mp) {
        const std::string expected = R"(expected "json" or "singleValue")";
        const auto mode = read_string(j, mp);
        if (mode == "json") p.mode = file_provider::format::json;
        else if (mode == "singleValue") p.mode = file_provider::format::single_value;
        else throw config_error(mp, expected + ", got " + in_quotes(mode));
    });
    return p;
}

// One entry of secrets.providers; its keys depend on its source.
inline secret_provider read_provider(const json& v, const std::string& path) {
    if (!v.is_object()) wrong(path, R"(expected a provider object such as {"source": "env"})", v);
    const auto source = v.find("source");
    if (source == v.end() || !source->is_string())
        throw config_error(join_path(path, "source"), R"(expected "env", "file" or "exec" (secret providers need a source))");
    const auto& kind = source->get_ref<const std::string&>();
    if (kind == "env") {
        const object_reader no_other_keys(v, path, {"source"});
        return env_provider{};
    }
    if (kind == "file") return read_file_provider(object_reader(v, path, {"source", "path", "mode"}));
    if (kind == "exec")
        return read_exec_provider(object_reader(v, path, {"source", "command", "args", "passEnv", "timeoutMs", "jsonOnly",
                                                          "trustedDirs", "allowSymlinkCommand"}));
    throw config_error(join_path(path, "source"), R"(expected "env", "file" or "exec", got )" + in_quotes(kind));
}

// A SecretRef must name a provider of its own source, with an id that provider accepts.
inline void check_secret_ref(const secret_ref& ref, const secret_providers& providers, const std::string& path) {
    const auto source = std::string(to_string(ref.source));
    if (!valid_provider_name(ref.provider))
        throw config_error(path + ".provider",
                           "expected a provider name matching ^[a-z][a-z0-9_-]{0,63}$, got " + in_quotes(ref.provider));
    const auto it = providers.find(ref.provider);
    const bool implicit = it == providers.end() && ref.source == secret_source::env && ref.provider == implicit_env_provider;
    if (it == providers.end() && !implicit)
        throw config_error(path + ".provider", "expected a provider defined in secrets.providers, got " + in_quotes(ref.provider));
    if (!implicit && source_of(it->second) != ref.source)
        throw config_error(path + ".source", "expected " + in_quotes(to_string(source_of(it->second))) + ", the source of provider " +
                                                 in_quotes(ref.provider) + ", got " + in_quotes(source));
    switch (ref.source) {
        case secret_source::env:
            if (!valid_env_id(ref.id))
                throw config_error(path + ".id", "expected an environment variable name matching ^[A-Z][A-Z0-9_]{0,127}$, got " +
                                                     in_quotes(ref.id));
            break;
        case secret_source::file:
            if (std::get<file_provider>(it->second).mode == file_provider::format::single_value) {
                if (ref.id != "value")
                    throw config_error(path + ".id", R"(expected "value" (provider )" + in_quotes(ref.provider) +
                                                         R"( has mode "singleValue"), got )" + in_quotes(ref.id));
            } else if (!valid_json_pointer(ref.id)) {
                throw config_error(path + ".id", R"(expected an absolute JSON pointer such as "/gateway/token" (RFC 6901: ~0 )"
                                                 "for ~, ~1 for /), got " + in_quotes(ref.id));
            }
            break;
        case secret_source::exec:
            if (!valid_exec_id(ref.id))
                throw config_error(path + ".id", "expected an id matching ^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$ without . or .. "
                                                 "segments, got " + in_quotes(ref.id));
            break;
    }
}

inline void read_auth(const json& v, const std::string& path, gateway_config& c) {
    const object_reader o(v, path, {"mode", "token", "exposeReasons", "allowInsecureNone", "trustedProxy", "scopes",
                                    "rateLimit"});
    o.with("mode", [&](const json& j, const std::string& p) {
        const std::string expected = R"(expected "trusted-proxy", "token" or "none")";
        if (!j.is_string()) wrong(p, expected, j);
        const auto mode = j.get<std::string>();
        if (mode == "trusted-proxy") c.auth.mode = trustgate::auth_mode::trusted_proxy;
        else if (mode == "token") c.auth.mode = trustgate::auth_mode::token;
        else if (mode == "none") c.auth.mode = trustgate::auth_mode::none;
        else throw config_error(p, expected + ", got " + in_quotes(mode));
    });
    o.with("token", [&](const json& j, const std::string& p) {
        if (j.is_object()) {
            c.token_ref = read_secret_ref(j, p);
            return;
        }
        if (!j.is_null() && !j.is_string()) wrong(p, "expected a string, a SecretRef object or null", j);
        c.auth.token = read_optional_string(j, p);
        if (c.auth.token && trustgate::detail::is_blank(*c.auth.token))
            throw config_error(p, "expected a non-empty token, or null for none");
        if (c.auth.token) check_token_text(*c.auth.token, p, "the token");
    });
    o.with("exposeReasons", [&](const json& j, const std::string& p) { c.expose_reasons = read_bool(j, p); });
    o.with("allowInsecureNone", [&](const json& j, const std::string& p) { c.allow_insecure_none = read_bool(j, p); });
    o.with("trustedProxy", [&](const json& j, const std::string& p) { read_trusted_proxy(j, p, c.auth.trusted_proxy); });
    o.with("scopes", [&](const json& j, const std::string& p) { read_scopes(j, p, c.auth.scopes); });
    o.with("rateLimit", [&](const json& j, const std::string& p) { read_rate_limit(j, p, c.auth.rate_limit); });
}

inline void read_tls(const json& v, const std::string& path, tls_settings& tls) {
    const object_reader o(v, path, {"enabled", "certPath", "keyPath"});
    std::optional<std::string> cert, key;
    o.with("enabled", [&](const json& j, const std::string& p) { tls.enabled = read_bool(j, p); });
    o.with("certPath", [&](const json& j, const std::string& p) { cert = read_optional_string(j, p); });
    o.with("keyPath", [&](const json& j, const std::string& p) { key = read_optional_string(j, p); });
    if (!tls.enabled) return;
    if (!cert || cert->empty())
        throw config_error(o.path("certPath"), "expected the path of a PEM certificate chain, because "
                                               "gateway.tls.enabled is true");
    if (!key || key->empty())
        throw config_error(o.path("keyPath"), "expected the path of a PEM private key, because gateway.tls.enabled is true");
    tls.certificate_chain_file = *cert;
    tls.private_key_file = *key;
}

inline void read_http(const json& v, const std::string& path, gateway_config& c) {
    const object_reader o(v, path, {"securityHeaders", "maxConnections"});
    o.with("maxConnections", [&](const json& j, const std::string& p) { c.max_connections = read_integer(j, p, 1, 1'000'000); });
    o.with("securityHeaders", [&](const json& j, const std::string& p) {
        const object_reader headers(j, p, {"strictTransportSecurity"});
        headers.with("strictTransportSecurity", [&](const json& hsts, const std::string& hp) {
            const std::string expected = R"(expected false or a header value such as "max-age=31536000")";
            if (hsts.is_boolean() && !hsts.get<bool>()) return;
            if (!hsts.is_string()) wrong(hp, expected, hsts);
            const auto value = hsts.get<std::string>();
            if (trustgate::detail::is_blank(value) ||
                std::any_of(value.begin(), value.end(), [](char ch) { return trustgate::detail::is_control(ch); }))
                throw config_error(hp, expected + ", got a blank value or one with control characters");
            c.strict_transport_security = value;
        });
    });
}

// The routes the gateway answers itself; the metrics path may not hide one.
inline constexpr std::string_view reserved_paths[] = {"/", "/healthz", "/whoami", "/ws"};

inline void read_metrics(const json& v, const std::string& path, metrics_settings& m) {
    const object_reader o(v, path, {"enabled", "path", "allowFrom"});
    o.with("enabled", [&](const json& j, const std::string& p) { m.enabled = read_bool(j, p); });
    o.with("path", [&](const json& j, const std::string& p) {
        const auto text = read_string(j, p);
        const bool plain = text.size() > 1 && text.front() == '/' &&
                           std::none_of(text.begin(), text.end(), [](char ch) {
                               return ch == '?' || ch == '#' || ch == ' ' || trustgate::detail::is_control(ch);
                           });
        if (!plain || text.starts_with("/rpc/") ||
            std::find(std::begin(reserved_paths), std::end(reserved_paths), text) != std::end(reserved_paths))
            throw config_error(p, "expected a path such as \"/metrics\" that is not /, /healthz, /whoami, /ws or under "
                                  "/rpc/, got " + in_quotes(text));
        m.path = text;
    });
    o.with("allowFrom", [&](const json& j, const std::string& p) {
        const auto entries = read_string_list(j, p);
        std::vector<trustgate::net::cidr> blocks;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const auto block = trustgate::net::cidr::parse(entries[i]);
            if (!block)
                throw config_error(index_path(p, i), "expected a canonical IP address or CIDR with no host bits set, got " +
                                                         in_quotes(entries[i]));
            blocks.push_back(*block);
        }
        m.allow_from = trustgate::net::prefix_set(blocks);
    });
}

inline void read_gateway(const json& v, const std::string& path, gateway_config& c) {
    const object_reader o(v, path, {"bind", "port", "trustedProxies", "auth", "tls", "http", "metrics"});
    o.with("bind", [&](const json& j, const std::string& p) {
        const auto text = read_string(j, p);
        const auto address = trustgate::net::address::parse(text);
        if (!address) throw config_error(p, "expected an IP address such as 127.0.0.1 or :: (dual-stack), got " + in_quotes(text));
        c.bind = *address;
    });
    o.with("port", [&](const json& j, const std::string& p) { c.port = std::uint16_t(read_integer(j, p, 0, 65535)); });
    o.with("trustedProxies", [&](const json& j, const std::string& p) { c.auth.trusted_proxies = read_string_list(j, p); });
    o.with("auth", [&](const json& j, const std::string& p) { read_auth(j, p, c); });
    o.with("tls", [&](const json& j, const std::string& p) { read_tls(j, p, c.tls); });
    o.with("http", [&](const json& j, const std::string& p) { read_http(j, p, c); });
    o.with("metrics", [&](const json& j, const std::string& p) { read_metrics(j, p, c.metrics); });
}

inline void read_secrets(const json& v, const std::string& path, secret_providers& providers) {
    const object_reader o(v, path, {"providers"});
    o.with("providers", [&](const json& j, const std::string& p) {
        if (!j.is_object()) wrong(p, "expected an object mapping provider names to providers", j);
        for (const auto& [name, provider] : j.items()) {
            const auto at = join_path(p, name);
            if (!valid_provider_name(name))
                throw config_error(at, "expected a provider name matching ^[a-z][a-z0-9_-]{0,63}$ (secret providers are "
                                       "named in lower case)");
            providers.emplace(name, read_provider(provider, at));
        }
    });
}

inline void read_proxy(const json& v, const std::string& path, gateway_config& c) {
    const object_reader o(v, path, {"enabled", "proxyUrl"});
    bool enabled = false;
    std::optional<std::string> url;
    o.with("enabled", [&](const json& j, const std::string& p) { enabled = read_bool(j, p); });
    o.with("proxyUrl", [&](const json& j, const std::string& p) { url = read_optional_string(j, p); });
    c.proxy = trustgate::net::parse_proxy_settings(enabled, url, trustgate::net::environment_proxy_url());
}

// Rules of the gateway itself (the library checks its own when the gateway is built).
inline void check_rules(const gateway_config& c) {
    if (c.token_ref) check_secret_ref(*c.token_ref, c.providers, "gateway.auth.token");
    // The limiter allocates a slot per key and attempt up front.
    constexpr std::uint64_t max_failure_slots = 1u << 24;
    if (std::uint64_t(c.auth.rate_limit.max_keys) * c.auth.rate_limit.max_attempts > max_failure_slots)
        throw config_error("gateway.auth.rateLimit.maxKeys", "expected maxKeys × maxAttempts of at most " +
                                                                 std::to_string(max_failure_slots) +
                                                                 " (the limiter allocates its memory at start-up)");
    const bool loopback_bind = c.bind.is_loopback();
    if (c.auth.mode == trustgate::auth_mode::none && !loopback_bind && !c.allow_insecure_none)
        throw config_error("gateway.auth.mode", R"(expected "trusted-proxy" or "token" on a non-loopback bind: "none" )"
                                                "lets anyone who can reach the port in (set gateway.auth.allowInsecureNone "
                                                "to insist)");
}

// The kind of a syntax error, from nlohmann's parse_error message, without any of the
// input: the message is fixed text, then (for a lexer error) "; last read: '<input>'",
// then "; expected <token>" from a closed list. The input could hold a secret, and could
// itself contain "; expected ", so only the fixed parts are kept.
inline std::string syntax_error_kind(std::string_view message) {
    static constexpr std::string_view tokens[] = {"'[', '{', or a literal", "end of input", "string literal", "number literal",
                                                  "true literal", "false literal", "null literal", "'['", "'{'", "']'",
                                                  "'}'", "':'", "','", "<parse error>", "<uninitialized>", "<unknown token>"};
    const auto start = message.find(": ", message.find("column"));
    if (start == std::string_view::npos) return "syntax error";
    std::string what(message.substr(start + 2, message.find("; last read") - (start + 2)));
    if (const auto last = message.rfind("; expected "); last != std::string_view::npos && what.find("; expected ") == std::string::npos)
        for (const auto token : tokens)
            if (message.substr(last + 11) == token) what.append("; expected ").append(token);
    return what;
}

// Parses JSON with comments, refusing duplicate keys (the last one would silently win)
// and nesting deeper than max_depth.
inline json parse_strict(std::string_view text, const std::string& source) {
    struct frame {
        bool array = false;
        std::size_t index = 0;
        std::string key;
        std::set<std::string> keys;
    };
    std::vector<frame> stack;
    // The path through the first `frames` open containers: each object's current key,
    // each array's current index.
    const auto path_through = [&](std::size_t frames) {
        std::string path;
        for (std::size_t i = 0; i < frames; ++i)
            path = stack[i].array ? index_path(path, stack[i].index) : join_path(path, stack[i].key);
        return path;
    };
    const auto element_done = [&] {
        if (!stack.empty() && stack.back().array) ++stack.back().index;
    };
    const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth > max_depth) throw config_error(path_through(stack.size()), "expected at most " + std::to_string(max_depth) + " levels of nesting");
        switch (event) {
            case json::parse_event_t::object_start: stack.emplace_back(); break;
            case json::parse_event_t::array_start: stack.emplace_back().array = true; break;
            case json::parse_event_t::key: {
                auto& f = stack.back();
                const auto& key = parsed.get_ref<const std::string&>();
                if (!f.keys.insert(key).second)
                    throw config_error(join_path(path_through(stack.size() - 1), key), "expected each key once (duplicate key)");
                f.key = key;
                break;
            }
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                stack.pop_back();
                element_done();
                break;
            case json::parse_event_t::value: element_done(); break;
        }
        return true;
    };
    try {
        return json::parse(text, check, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        const std::string what = syntax_error_kind(e.what());
        std::size_t line = 1, column = 1;
        for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
            if (text[i] == '\n') ++line, column = 1;
            else ++column;
        }
        throw config_error(source + ":" + std::to_string(line) + ":" + std::to_string(column),
                           "expected JSON (comments allowed): " + what);
    } catch (const json::out_of_range&) {
        // A number no double can hold (1e400): nlohmann throws this, not a parse_error.
        throw config_error(source, "expected JSON numbers within the range of a double (one is too large)");
    }
}

}  // namespace detail

// `source` names the text in syntax errors (the file name, or "<default>").
inline gateway_config parse_config(std::string_view text, const std::string& source = "<config>") {
    const auto root = detail::parse_strict(text, source);
    gateway_config c;
    const detail::object_reader top(root, "", {"gateway", "secrets", "proxy"});
    top.with("gateway", [&](const detail::json& j, const std::string& p) { detail::read_gateway(j, p, c); });
    top.with("secrets", [&](const detail::json& j, const std::string& p) { detail::read_secrets(j, p, c.providers); });
    top.with("proxy", [&](const detail::json& j, const std::string& p) { detail::read_proxy(j, p, c); });
    detail::check_rules(c);
    return c;
}

}  // namespace trustgate_gateway
