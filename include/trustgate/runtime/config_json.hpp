// trustgate/runtime/config_json.hpp — behaviour §9's configuration, read strictly.
//
//   gateway_config c = parse_config(text, "gateway.json5");   // throws trustgate::config_error
//
// The text is JSON5, as OpenClaw writes it (trustgate/config/json5.hpp), and OpenClaw's
// spellings of behaviour §9's settings are accepted (apply_openclaw_spellings). Unknown keys,
// duplicate keys, wrong types and broken rules are errors naming the JSON path and what
// was expected, so a typo never silently weakens authentication. The rules trustgate's
// policies own (trustedProxies entries, loopbackUser, scope names, ...) are checked when
// the gateway is built from the result (compiled_config.hpp). SecretRefs are checked
// against secrets.providers here and resolved there (secrets.hpp).
// No Beast here: a fuzz target can link this alone.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "trustgate/runtime/secrets.hpp"
#include "trustgate/attempt_limiter.hpp"
#include "trustgate/config.hpp"
#include "trustgate/config/json5.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/detail/spelling.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/cidr.hpp"
#include "trustgate/net/prefix_set.hpp"
#include "trustgate/net/proxy_settings.hpp"
#include "trustgate/redis/options.hpp"
#include "trustgate/token_auth.hpp"

namespace trustgate::runtime {

using trustgate::config_error;

struct tls_settings {
    bool enabled = false;
    std::string certificate_chain_file;  // gateway.tls.certPath
    std::string private_key_file;        // gateway.tls.keyPath
    std::string client_ca_file;          // gateway.tls.clientCaPath; empty: no client certificates (behaviour §11)
};

// gateway.metrics (behaviour §13): the Prometheus exposition, for the listed peers only.
struct metrics_settings {
    bool enabled = false;
    std::string path = "/metrics";
    trustgate::net::prefix_set allow_from{std::vector{*trustgate::net::cidr::parse("127.0.0.1"), *trustgate::net::cidr::parse("::1")}};
};

// Everything the configuration file says, with behaviour §9's defaults.
struct gateway_config {
    trustgate::net::address bind = trustgate::net::address::from_v4_uint(0x7f000001);
    std::uint16_t port = 18789;
    std::optional<std::string> local_socket;  // gateway.localSocket: a Unix socket for local tools
    trustgate::auth_config auth;  // auth.token holds the token once resolved
    std::optional<secret_ref> token_ref;  // gateway.auth.token given as a SecretRef
    secret_providers providers;           // secrets.providers
    bool expose_reasons = false;
    bool allow_insecure_none = false;
    tls_settings tls;
    std::optional<std::string> strict_transport_security;
    std::size_t max_connections = 1024;  // gateway.http.maxConnections: beyond it, 503 (WebSockets count)
    std::optional<std::size_t> max_connections_per_peer;  // gateway.http.maxConnectionsPerPeer; default min(64, maxConnections)
    std::chrono::milliseconds header_timeout{10'000};     // gateway.http.headerTimeoutMs, counted from accept
    std::vector<std::string> allowed_origins;            // gateway.http.allowedOrigins (behaviour §7)

    std::size_t connections_per_peer() const { return max_connections_per_peer.value_or(std::min<std::size_t>(64, max_connections)); }
    metrics_settings metrics;
    trustgate::net::proxy_settings proxy;
    // gateway.auth.rateLimit.store (behaviour §12): none for {"type": "memory"}. Its password
    // holds the resolved secret once store_password_ref is resolved.
    std::optional<trustgate::redis::store_options> shared_store;
    std::optional<secret_ref> store_password_ref;
    // gateway.policies: the settings of policies of your own, by their settings_key, as
    // written; each policy reads its own (policy_settings.hpp).
    std::map<std::string, nlohmann::json> policy_settings;
};

// What the gateway runs on without --config (behaviour §9), printed by --print-default-config.
inline constexpr std::string_view default_config_text = R"jsonc(// trustgate-gateway: the embedded default configuration (behaviour §9).
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

// Paths written as the JSON5 reader writes them in its own errors (an empty key shows as "").
inline std::string join_path(const std::string& base, std::string_view key) { return trustgate::detail::json_path_key(base, key); }
inline std::string index_path(const std::string& base, std::size_t i) { return trustgate::detail::json_path_index(base, i); }

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

// OpenClaw settings this gateway does not implement (behaviour §9), by JSON path: in a pasted
// OpenClaw file they are refused as what they are, not as unknown keys. OpenClaw's
// top-level sections, then its gateway settings beyond behaviour §9's.
inline constexpr std::string_view openclaw_only_settings[] = {
    "meta", "auth", "acp", "env", "wizard", "diagnostics", "logging", "cli", "update", "browser", "ui", "skills",
    "plugins", "models", "nodeHost", "agents", "tools", "bindings", "broadcast", "audio", "messages", "commands",
    "approvals", "session", "web", "channels", "cron", "hooks", "discovery", "canvasHost", "talk", "vault", "memory",
    "gateway.mode", "gateway.customBindHost", "gateway.controlUi", "gateway.tailscale", "gateway.remote",
    "gateway.reload", "gateway.nodes", "gateway.tools", "gateway.allowRealIpFallback", "gateway.channelHealthCheckMinutes",
    "gateway.auth.password", "gateway.auth.allowTailscale", "gateway.http.endpoints"};

// Why an unknown key is refused: an OpenClaw setting, a near miss of a known key, or neither.
inline std::string unknown_key_reason(const std::string& path, std::string_view key, std::initializer_list<std::string_view> keys) {
    if (std::find(std::begin(openclaw_only_settings), std::end(openclaw_only_settings), path) != std::end(openclaw_only_settings))
        return " (an OpenClaw setting this gateway does not implement: remove it)";
    if (const auto near = trustgate::detail::nearest_word(key, keys)) return " (unknown key; did you mean " + std::string(*near) + "?)";
    return " (unknown key)";
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
                const auto at = join_path(path_, key);
                throw config_error(at, "expected one of the keys " + list + unknown_key_reason(at, key, keys));
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
    return std::chrono::milliseconds(read_integer(v, path, 1, std::uint64_t(trustgate::attempt_limiter::bounds::longest_period.count())));
}

// behaviour §10: `trustedProxy.assertion`. Types and ranges here; the preset and the rules
// between keys are applied when the gateway is built (trustgate/assertion/proxy_assertion.hpp).
inline std::optional<trustgate::assertion_config> read_assertion(const json& v, const std::string& path) {
    if (v.is_null()) return std::nullopt;
    const object_reader o(v, path, {"preset", "header", "jwksUrl", "jwksFile", "issuer", "audience", "algorithms",
                                    "identityClaim", "leewaySeconds", "refreshSeconds"});
    trustgate::assertion_config a;
    o.with("preset", [&](const json& j, const std::string& p) { a.preset = read_optional_string(j, p); });
    o.with("header", [&](const json& j, const std::string& p) { a.header = read_optional_string(j, p); });
    o.with("jwksUrl", [&](const json& j, const std::string& p) { a.jwks_url = read_optional_string(j, p); });
    o.with("jwksFile", [&](const json& j, const std::string& p) { a.jwks_file = read_optional_string(j, p); });
    o.with("issuer", [&](const json& j, const std::string& p) { a.issuer = read_optional_string(j, p); });
    o.with("audience", [&](const json& j, const std::string& p) { a.audience = read_string_list(j, p); });
    o.with("algorithms", [&](const json& j, const std::string& p) { a.algorithms = read_string_list(j, p); });
    o.with("identityClaim", [&](const json& j, const std::string& p) { a.identity_claim = read_optional_string(j, p); });
    o.with("leewaySeconds", [&](const json& j, const std::string& p) { a.leeway_seconds = (long long)read_integer(j, p, 0, 300); });
    o.with("refreshSeconds", [&](const json& j, const std::string& p) { a.refresh_seconds = (long long)read_integer(j, p, 1, 86400); });
    return a;
}

inline void read_trusted_proxy(const json& v, const std::string& path, trustgate::trusted_proxy_config& tp) {
    const object_reader o(v, path, {"userHeader", "requiredHeaders", "allowUsers", "allowUsersCaseInsensitive",
                                    "allowLoopback", "loopbackUser", "localUsers", "assertion", "clientCertificate"});
    o.with("userHeader", [&](const json& j, const std::string& p) { tp.user_header = read_string(j, p); });
    o.with("requiredHeaders", [&](const json& j, const std::string& p) { tp.required_headers = read_string_list(j, p); });
    o.with("allowUsers", [&](const json& j, const std::string& p) { tp.allow_users = read_string_list(j, p); });
    o.with("allowUsersCaseInsensitive",
           [&](const json& j, const std::string& p) { tp.allow_users_case_insensitive = read_bool(j, p); });
    o.with("allowLoopback", [&](const json& j, const std::string& p) { tp.allow_loopback = read_bool(j, p); });
    o.with("loopbackUser", [&](const json& j, const std::string& p) { tp.loopback_user = read_optional_string(j, p); });
    // User names or numeric ids; the gateway resolves the names when it builds the policy.
    o.with("localUsers", [&](const json& j, const std::string& p) {
        if (!j.is_array()) wrong(p, "expected an array of user names and numeric user ids", j);
        tp.local_users.clear();
        for (std::size_t i = 0; i < j.size(); ++i) {
            const auto at = index_path(p, i);
            if (j[i].is_number_integer()) tp.local_users.push_back(std::to_string(read_integer(j[i], at, 0, UINT32_MAX)));
            else if (j[i].is_string() && !j[i].get<std::string>().empty()) tp.local_users.push_back(j[i].get<std::string>());
            else wrong(at, "expected a user name or a numeric user id", j[i]);
        }
    });
    o.with("assertion", [&](const json& j, const std::string& p) { tp.assertion = read_assertion(j, p); });
    // behaviour §11; null leaves it off.
    o.with("clientCertificate", [&](const json& j, const std::string& p) {
        if (j.is_null()) return tp.client_certificate.reset();
        const object_reader cc(j, p, {"allowedNames"});
        trustgate::client_certificate_config config;
        cc.with("allowedNames", [&](const json& n, const std::string& np) { config.allowed_names = read_string_list(n, np); });
        tp.client_certificate = std::move(config);
    });
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

inline secret_ref read_secret_ref(const json& v, const std::string& path);

// {"type": "memory"}, or {"type": "redis", "url": …} with behaviour §12's optional keys.
inline void read_store(const json& v, const std::string& path, gateway_config& c) {
    if (!v.is_object()) wrong(path, R"(expected an object such as {"type": "redis", "url": "redis://127.0.0.1:6379/0"})", v);
    const auto type = v.find("type");
    const std::string expected_type = R"(expected "memory" or "redis")";
    if (type == v.end()) throw config_error(join_path(path, "type"), expected_type);
    if (!type->is_string()) wrong(join_path(path, "type"), expected_type, *type);
    const auto& kind = type->get_ref<const std::string&>();
    if (kind == "memory") {
        const object_reader only_type(v, path, {"type"});
        c.shared_store.reset();
        return;
    }
    if (kind != "redis") throw config_error(join_path(path, "type"), expected_type + ", got " + in_quotes(kind));
    const object_reader o(v, path, {"type", "url", "keyPrefix", "timeoutMs", "onError", "password"});
    const json* url = o.find("url");
    const std::string expected_url = "expected a URL redis://HOST[:PORT][/DB] (no user or password in it: the password "
                                     "goes in " + o.path("password") + ")";
    if (url == nullptr) throw config_error(o.path("url"), expected_url);
    if (!url->is_string()) wrong(o.path("url"), expected_url, *url);
    // The URL is not quoted back: a password pasted into it must not reach a log.
    auto options = trustgate::redis::parse_url(url->get_ref<const std::string&>());
    if (!options) throw config_error(o.path("url"), expected_url + ", got " + trustgate::net::redact_url(url->get_ref<const std::string&>()));
    o.with("keyPrefix", [&](const json& j, const std::string& p) {
        options->key_prefix = read_string(j, p);
        if (!trustgate::redis::valid_key_prefix(options->key_prefix))
            throw config_error(p, "expected at most 64 characters without spaces or control characters");
    });
    o.with("timeoutMs", [&](const json& j, const std::string& p) {
        options->timeout = std::chrono::milliseconds(read_integer(j, p, 1, std::uint64_t(trustgate::redis::longest_timeout.count())));
    });
    o.with("onError", [&](const json& j, const std::string& p) {
        const std::string expected = R"(expected "deny" or "local")";
        if (!j.is_string()) wrong(p, expected, j);
        const auto& what = j.get_ref<const std::string&>();
        if (what == "deny") options->when_unavailable = trustgate::redis::on_error::deny;
        else if (what == "local") options->when_unavailable = trustgate::redis::on_error::local;
        else throw config_error(p, expected + ", got " + in_quotes(what));
    });
    o.with("password", [&](const json& j, const std::string& p) {
        if (j.is_object()) {
            c.store_password_ref = read_secret_ref(j, p);
            return;
        }
        if (!j.is_string() || j.get_ref<const std::string&>().empty())
            wrong(p, "expected a non-empty string or a SecretRef object", j);
        options->password = j.get<std::string>();
    });
    c.shared_store = std::move(options);
}

// The limiter owns its bounds (attempt_limiter::bounds) and checks them together once
// everything is read (check_rules).
inline void read_rate_limit(const json& v, const std::string& path, gateway_config& c) {
    auto& rl = c.auth.rate_limit;
    using bounds = trustgate::attempt_limiter::bounds;
    const object_reader o(v, path, {"maxAttempts", "windowMs", "lockoutMs", "exemptLoopback", "maxKeys", "ipv6PrefixLength",
                                    "globalMaxAttempts", "store"});
    o.with("maxAttempts", [&](const json& j, const std::string& p) { rl.max_attempts = unsigned(read_integer(j, p, 1, bounds::max_attempts)); });
    o.with("maxKeys", [&](const json& j, const std::string& p) { rl.max_keys = read_integer(j, p, bounds::min_keys, bounds::max_keys); });
    o.with("ipv6PrefixLength", [&](const json& j, const std::string& p) {
        rl.ipv6_prefix_length = unsigned(read_integer(j, p, bounds::min_ipv6_prefix_length, 128));
    });
    o.with("globalMaxAttempts", [&](const json& j, const std::string& p) {
        if (j.is_null()) rl.global_max_attempts = 0;
        else if (j.is_number_integer()) rl.global_max_attempts = unsigned(read_integer(j, p, 1, bounds::global_max_attempts));
        else wrong(p, "expected null (off) or an integer from 1 to " + std::to_string(bounds::global_max_attempts), j);
    });
    o.with("windowMs", [&](const json& j, const std::string& p) { rl.window = read_milliseconds(j, p); });
    o.with("lockoutMs", [&](const json& j, const std::string& p) { rl.lockout = read_milliseconds(j, p); });
    o.with("exemptLoopback", [&](const json& j, const std::string& p) { rl.exempt_loopback = read_bool(j, p); });
    o.with("store", [&](const json& j, const std::string& p) { read_store(j, p, c); });
}

// The token's own rule (trustgate::token_auth::matchable), checked as the file is read so
// the error says where the token came from (`what`).
inline void check_token_text(std::string_view token, const std::string& path, const std::string& what) {
    if (!trustgate::token_auth::matchable(token))
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
    o.with("rateLimit", [&](const json& j, const std::string& p) { read_rate_limit(j, p, c); });
}

inline void read_tls(const json& v, const std::string& path, tls_settings& tls) {
    const object_reader o(v, path, {"enabled", "certPath", "keyPath", "clientCaPath"});
    std::optional<std::string> cert, key, client_ca;
    o.with("enabled", [&](const json& j, const std::string& p) { tls.enabled = read_bool(j, p); });
    o.with("certPath", [&](const json& j, const std::string& p) { cert = read_optional_string(j, p); });
    o.with("keyPath", [&](const json& j, const std::string& p) { key = read_optional_string(j, p); });
    o.with("clientCaPath", [&](const json& j, const std::string& p) { client_ca = read_optional_string(j, p); });
    if (!tls.enabled) return;
    if (client_ca && client_ca->empty()) throw config_error(o.path("clientCaPath"), "expected the path of a PEM CA bundle, or null");
    if (!cert || cert->empty())
        throw config_error(o.path("certPath"), "expected the path of a PEM certificate chain, because "
                                               "gateway.tls.enabled is true");
    if (!key || key->empty())
        throw config_error(o.path("keyPath"), "expected the path of a PEM private key, because gateway.tls.enabled is true");
    tls.certificate_chain_file = *cert;
    tls.private_key_file = *key;
    tls.client_ca_file = client_ca.value_or("");
}

inline void read_http(const json& v, const std::string& path, gateway_config& c) {
    const object_reader o(v, path, {"securityHeaders", "maxConnections", "maxConnectionsPerPeer", "headerTimeoutMs", "allowedOrigins"});
    o.with("maxConnections", [&](const json& j, const std::string& p) { c.max_connections = read_integer(j, p, 1, 1'000'000); });
    o.with("maxConnectionsPerPeer", [&](const json& j, const std::string& p) {
        c.max_connections_per_peer = read_integer(j, p, 1, 1'000'000);
    });
    o.with("headerTimeoutMs", [&](const json& j, const std::string& p) {
        c.header_timeout = std::chrono::milliseconds(read_integer(j, p, 100, 600'000));
    });
    o.with("allowedOrigins", [&](const json& j, const std::string& p) { c.allowed_origins = read_string_list(j, p); });
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
        m.allow_from = trustgate::net::prefix_set(trustgate::net::parse_cidr_list(read_string_list(j, p), p));
    });
}

inline void read_gateway(const json& v, const std::string& path, gateway_config& c) {
    const object_reader o(v, path, {"bind", "port", "localSocket", "trustedProxies", "clientIpHeader", "auth", "tls", "http",
                                    "metrics", "policies"});
    o.with("bind", [&](const json& j, const std::string& p) {
        const auto text = read_string(j, p);
        const auto address = trustgate::net::address::parse(text);
        if (!address)
            throw config_error(p, R"(expected an IP address such as 127.0.0.1 or :: (dual-stack), "loopback" or "lan", got )" +
                                      in_quotes(text));
        c.bind = *address;
    });
    o.with("port", [&](const json& j, const std::string& p) { c.port = std::uint16_t(read_integer(j, p, 0, 65535)); });
    o.with("localSocket", [&](const json& j, const std::string& p) {
        c.local_socket = read_optional_string(j, p);
        // sockaddr_un holds 108 bytes with the terminating NUL.
        if (c.local_socket && (!c.local_socket->starts_with('/') || c.local_socket->size() > 107 ||
                               c.local_socket->find('\0') != std::string::npos))
            throw config_error(p, "expected an absolute path of at most 107 bytes for the Unix socket, or null");
    });
    o.with("trustedProxies", [&](const json& j, const std::string& p) { c.auth.trusted_proxies = read_string_list(j, p); });
    o.with("clientIpHeader", [&](const json& j, const std::string& p) {
        const std::string expected = R"(expected "x-forwarded-for" or "forwarded")";
        if (!j.is_string()) wrong(p, expected, j);
        const auto name = j.get<std::string>();
        if (name == "x-forwarded-for") c.auth.client_ip_header = trustgate::forwarding_header::x_forwarded_for;
        else if (name == "forwarded") c.auth.client_ip_header = trustgate::forwarding_header::forwarded;
        else throw config_error(p, expected + ", got " + in_quotes(name));
    });
    o.with("auth", [&](const json& j, const std::string& p) { read_auth(j, p, c); });
    o.with("tls", [&](const json& j, const std::string& p) { read_tls(j, p, c.tls); });
    o.with("http", [&](const json& j, const std::string& p) { read_http(j, p, c); });
    o.with("metrics", [&](const json& j, const std::string& p) { read_metrics(j, p, c.metrics); });
    o.with("policies", [&](const json& j, const std::string& p) {
        if (!j.is_object()) wrong(p, "expected an object mapping policies' settings keys to their settings", j);
        for (const auto& [key, settings] : j.items()) c.policy_settings.emplace(key, settings);
    });
    // behaviour §11: a client certificate can only be checked on a TLS listener that asks for one.
    if (c.auth.trusted_proxy.client_certificate && (!c.tls.enabled || c.tls.client_ca_file.empty()))
        throw config_error("gateway.auth.trustedProxy.clientCertificate",
                           !c.tls.enabled ? "expected gateway.tls.enabled: client certificates need TLS"
                                          : "expected gateway.tls.clientCaPath: the CA bundle the proxy's certificate is verified against");
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
    if (c.store_password_ref) check_secret_ref(*c.store_password_ref, c.providers, "gateway.auth.rateLimit.store.password");
    trustgate::attempt_limiter::validate(c.auth.rate_limit);
    // behaviour §1: the local socket's requests come from 127.0.0.1, which must be trusted to count.
    if (c.local_socket && c.auth.mode == trustgate::auth_mode::trusted_proxy &&
        !trustgate::net::prefix_set(trustgate::net::parse_cidr_list(c.auth.trusted_proxies, "gateway.trustedProxies"))
             .contains(trustgate::net::address::from_v4_uint(0x7f000001)))
        throw config_error("gateway.localSocket", "expected gateway.trustedProxies to contain 127.0.0.1: the Unix socket's "
                                                  "requests are decided as coming from it");
    if (c.max_connections_per_peer && *c.max_connections_per_peer > c.max_connections)
        throw config_error("gateway.http.maxConnectionsPerPeer",
                           "expected at most gateway.http.maxConnections (" + std::to_string(c.max_connections) + ")");
    const bool loopback_bind = c.bind.is_loopback();
    if (c.auth.mode == trustgate::auth_mode::none && !loopback_bind && !c.allow_insecure_none)
        throw config_error("gateway.auth.mode", R"(expected "trusted-proxy" or "token" on a non-loopback bind: "none" )"
                                                "lets anyone who can reach the port in (set gateway.auth.allowInsecureNone "
                                                "to insist)");
}

// OpenClaw's spellings (behaviour §9), rewritten to this gateway's before the file is read:
// gateway.bind "loopback" and "lan", and gateway.auth.trustedProxyHeader, the older flat
// key for gateway.auth.trustedProxy.userHeader. Values of the wrong type are left for the
// readers to report.
inline void apply_openclaw_spellings(json& root) {
    if (!root.is_object() || !root.contains("gateway") || !root["gateway"].is_object()) return;
    json& gateway = root["gateway"];
    if (const auto bind = gateway.find("bind"); bind != gateway.end() && bind->is_string()) {
        const auto mode = bind->get<std::string>();
        if (mode == "loopback") *bind = "127.0.0.1";
        else if (mode == "lan") *bind = "0.0.0.0";
        else if (mode == "auto" || mode == "tailnet" || mode == "custom")
            throw config_error("gateway.bind", R"(expected an IP address, "loopback" or "lan": OpenClaw's bind mode )" +
                                                   in_quotes(mode) + " is not implemented by this gateway");
    }
    if (!gateway.contains("auth") || !gateway["auth"].is_object()) return;
    json& auth = gateway["auth"];
    const auto flat = auth.find("trustedProxyHeader");
    if (flat == auth.end()) return;
    const std::string flat_path = "gateway.auth.trustedProxyHeader";
    if (!flat->is_string()) wrong(flat_path, "expected a string (the user header, as trustedProxy.userHeader)", *flat);
    const json header = *flat;
    auth.erase(flat);
    json& block = auth["trustedProxy"];
    if (block.is_null()) block = json::object();
    if (!block.is_object()) return;
    const auto given = block.find("userHeader");
    if (given == block.end()) {
        block["userHeader"] = header;
    } else if (!given->is_string() ||
               !trustgate::detail::iequals(given->get<std::string>(), header.get<std::string>())) {
        throw config_error(flat_path, "expected the header gateway.auth.trustedProxy.userHeader names, or only one of the "
                                      "two keys (trustedProxyHeader is OpenClaw's older spelling of userHeader)");
    }
}

}  // namespace detail

// `source` names the text in syntax errors (the file name, or "<default>").
inline gateway_config parse_config(std::string_view text, const std::string& source = "<config>") {
    auto root = trustgate::parse_json5(text, source, {.max_depth = detail::max_depth});
    detail::apply_openclaw_spellings(root);
    gateway_config c;
    const detail::object_reader top(root, "", {"gateway", "secrets", "proxy"});
    top.with("gateway", [&](const detail::json& j, const std::string& p) { detail::read_gateway(j, p, c); });
    top.with("secrets", [&](const detail::json& j, const std::string& p) { detail::read_secrets(j, p, c.providers); });
    top.with("proxy", [&](const detail::json& j, const std::string& p) { detail::read_proxy(j, p, c); });
    detail::check_rules(c);
    return c;
}

}  // namespace trustgate::runtime
