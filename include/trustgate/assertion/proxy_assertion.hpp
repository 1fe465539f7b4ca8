// trustgate/assertion/proxy_assertion.hpp — behaviour §10: the proxy's signed assertion, verified.
//
//   using gw = trustgate::assertion::trusted_proxy_assertion_gateway;
//   auto g = gw::from_config(config);   // config.trusted_proxy.assertion set; reads jwksFile
//
// Runs in behaviour §3 step 4 after the required headers (it is a `headers` stage policy) and
// hands the verified identity claim to proxy_identity, which then treats the user header
// as optional and, when present, requires it to agree (trusted_proxy_user_mismatch).
// allow_users then vets the claim. Presets fill the header, algorithms and identity claim
// for Pomerium, Cloudflare Access and Google IAP; explicit keys override them.
//
// The claim is not text of the request, so the decision's identity points into storage
// the request view lends (request.hpp: carries_identity_storage; basic_request and the
// Beast adapter's incoming do), valid as long as the request. A view that lends none
// leaves it in a buffer of the calling thread, valid until that thread's next
// authentication: copy it (decision::owned) to keep it longer.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <utility>
#include <vector>

#include "trustgate/assertion/keys.hpp"
#include "trustgate/assertion/token.hpp"
#include "trustgate/assertion/verifier.hpp"
#include "trustgate/config.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/gateway.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/impl/url_text.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/policy/allow_users.hpp"
#include "trustgate/policy/loopback_policy.hpp"
#include "trustgate/policy/proxy_identity.hpp"
#include "trustgate/policy/required_headers.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/policy/trusted_source.hpp"
#include "trustgate/request.hpp"

namespace trustgate::assertion {

// What a preset fills in (behaviour §10).
struct preset {
    std::string_view name, header;
    algorithm alg;
    std::string_view issuer, jwks_url;  // empty: the configuration must give them
};

inline constexpr preset presets[] = {
    {"pomerium", "x-pomerium-jwt-assertion", algorithm::es256, {}, {}},
    {"cloudflare-access", "cf-access-jwt-assertion", algorithm::rs256, {}, {}},
    {"google-iap", "x-goog-iap-jwt-assertion", algorithm::es256, "https://cloud.google.com/iap",
     "https://www.gstatic.com/iap/verify/public_key-jwk"},
};

// `trustedProxy.assertion` with the preset applied and every value checked.
struct settings {
    std::string header;  // lower case
    std::optional<std::string> jwks_url, jwks_file;
    assertion::rules rules;
    std::int64_t refresh_seconds = 3600;
};

inline constexpr std::string_view config_path = "gateway.auth.trustedProxy.assertion";

// Throws config_error naming `gateway.auth.trustedProxy.assertion.<key>`.
inline settings resolve(const assertion_config& c) {
    const std::string base(config_path);
    const auto path = [&](std::string_view key) { return base + "." + std::string(key); };
    const preset* p = nullptr;
    if (c.preset) {
        for (const auto& candidate : presets)
            if (candidate.name == *c.preset) p = &candidate;
        if (!p) throw config_error(path("preset"), R"(expected "pomerium", "cloudflare-access" or "google-iap", got ")" + *c.preset + "\"");
    }
    settings s;
    const auto header = c.header ? *c.header : p ? std::string(p->header) : std::string();
    if (header.empty()) throw config_error(path("header"), "expected the header that carries the assertion (or a preset)");
    s.header = checked_header_name(header, path("header"));

    if (c.algorithms.empty()) {
        if (!p) throw config_error(path("algorithms"), "expected at least one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA (or a preset)");
        s.rules.algorithms = bit(p->alg);
    }
    for (std::size_t i = 0; i < c.algorithms.size(); ++i) {
        const auto& name = c.algorithms[i];
        const auto where = path("algorithms") + "[" + std::to_string(i) + "]";
        if (name == "none" || trustgate::detail::istarts_with_lower(name, "hs"))
            throw config_error(where, "expected a public-key algorithm: \"" + name +
                                          "\" would let anyone who knows the proxy's public key (or nobody) sign");
        const auto a = parse_algorithm(name);
        if (!a) throw config_error(where, "expected one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA, got \"" + name + "\"");
        s.rules.algorithms |= bit(*a);
    }

    // An explicit jwksFile replaces a preset's jwksUrl.
    s.jwks_file = c.jwks_file;
    s.jwks_url = c.jwks_url;
    if (!s.jwks_url && !s.jwks_file && p && !p->jwks_url.empty()) s.jwks_url = std::string(p->jwks_url);
    if (s.jwks_url && s.jwks_file) throw config_error(path("jwksFile"), "expected exactly one of jwksUrl and jwksFile, got both");
    if (!s.jwks_url && !s.jwks_file) throw config_error(path("jwksUrl"), "expected exactly one of jwksUrl and jwksFile, got neither");
    if (s.jwks_file && s.jwks_file->empty()) throw config_error(path("jwksFile"), "expected a file path");
    if (s.jwks_url) {
        const auto u = net::detail::split_url(*s.jwks_url);
        const bool https = u && trustgate::detail::iequals_lower(u->scheme, "https");
        const bool loopback_http = u && trustgate::detail::iequals_lower(u->scheme, "http") &&
                                   net::address::parse(u->host).has_value() && net::address::parse(u->host)->is_loopback();
        if (!u || u->has_userinfo || !(https || loopback_http))
            throw config_error(path("jwksUrl"), "expected an https:// URL (http:// only to a loopback literal such as "
                                                "127.0.0.1 or [::1]), got \"" + *s.jwks_url + "\"");
    }

    const auto issuer = c.issuer ? *c.issuer : p ? std::string(p->issuer) : std::string();
    if (issuer.empty()) throw config_error(path("issuer"), "expected the issuer the assertion's iss must equal");
    s.rules.issuer = issuer;
    if (c.audience.empty()) throw config_error(path("audience"), "expected at least one audience the assertion's aud must contain");
    for (std::size_t i = 0; i < c.audience.size(); ++i)
        if (c.audience[i].empty()) throw config_error(path("audience") + "[" + std::to_string(i) + "]", "expected a non-empty audience");
    s.rules.audiences = c.audience;
    s.rules.identity_claim = c.identity_claim ? *c.identity_claim : "email";
    if (s.rules.identity_claim.empty()) throw config_error(path("identityClaim"), "expected a claim name");
    if (c.leeway_seconds < 0 || c.leeway_seconds > 300)
        throw config_error(path("leewaySeconds"), "expected an integer from 0 to 300, got " + std::to_string(c.leeway_seconds));
    s.rules.leeway_seconds = c.leeway_seconds;
    if (c.refresh_seconds < 1 || c.refresh_seconds > 86400)
        throw config_error(path("refreshSeconds"), "expected an integer from 1 to 86400, got " + std::to_string(c.refresh_seconds));
    s.refresh_seconds = c.refresh_seconds;
    return s;
}

// A JWKS file's keys; throws config_error naming `key` (jwksFile) when the file cannot
// be read, is not a JWKS, or yields no usable key. `warnings` gets the skipped keys.
inline key_set load_jwks_file(const std::string& file, const std::string& path) {
    constexpr std::size_t max_bytes = 1 << 20;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw config_error(path, "expected a readable JWKS file, got \"" + file + "\"");
    if (std::size_t(st.st_size) > max_bytes) throw config_error(path, "expected a JWKS file of at most 1 MiB");
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw config_error(path, "expected a readable JWKS file, got \"" + file + "\"");
    key_set keys;
    try {
        keys = parse_jwks(text.str());
    } catch (const jwks_error& e) {
        throw config_error(path, std::string("expected a JWKS file: ") + e.what());
    }
    if (keys.keys.empty())
        throw config_error(path, "expected a JWKS with at least one usable signing key" +
                                     (keys.warnings.empty() ? std::string() : " (" + keys.warnings.front() + ")"));
    return keys;
}

inline std::int64_t system_seconds() noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class proxy_assertion {
public:
    static constexpr trustgate::stage stage = trustgate::stage::headers;
    static constexpr std::string_view name = "proxy_assertion";
    static constexpr std::array reasons{reason::trusted_proxy_assertion_missing, reason::trusted_proxy_assertion_invalid,
                                            reason::trusted_proxy_assertion_unknown_key, reason::trusted_proxy_assertion_expired,
                                            reason::trusted_proxy_assertion_issuer, reason::trusted_proxy_assertion_audience};
    // The gateway checks that the identity stage takes what this policy establishes.
    static constexpr bool asserts_identity = true;

    using clock = std::int64_t (*)() noexcept;

    proxy_assertion(std::string header, std::shared_ptr<assertion::verifier> verifier, clock now = system_seconds)
        : header_(checked_header_name(header, std::string(config_path) + ".header")), verifier_(std::move(verifier)), now_(now) {}

    // Keys from jwksFile are read here. With jwksUrl the policy starts with no key, and a
    // jwks_refresher (trustgate/assertion/jwks_refresher.hpp) loads them.
    template <class Context>
    static proxy_assertion from_config(const auth_config& config, const Context&) {
        if (!config.trusted_proxy.assertion)
            throw config_error(std::string(config_path), "expected an assertion configuration for a gateway that verifies assertions");
        auto s = resolve(*config.trusted_proxy.assertion);
        auto keys = s.jwks_file ? load_jwks_file(*s.jwks_file, std::string(config_path) + ".jwksFile") : key_set{};
        proxy_assertion p(s.header, std::make_shared<assertion::verifier>(s.rules, std::move(keys)));
        p.settings_ = std::make_shared<const settings>(std::move(s));
        return p;
    }

    template <request_view R>
    verdict check(request_facts& facts, const R& request) const {
        unsigned lines = 0;
        std::string_view token;
        const char initial = header_.front();
        request.for_each_header([&](std::string_view header, std::string_view value) {
            if (header.empty() || trustgate::detail::ascii_lower(header.front()) != initial ||
                !trustgate::detail::iequals_lower(header, header_))
                return;
            ++lines;
            if (token.empty()) token = trustgate::detail::trim(value);
        });
        if (token.empty()) return decision::deny(reason::trusted_proxy_assertion_missing, name);
        if (lines > 1) return decision::deny(reason::trusted_proxy_assertion_invalid, name, "header repeated");
        const auto outcome = verifier_->verify(token, now_(), identity_storage_of(request));
        switch (outcome.why) {
            case failure::none: break;
            case failure::missing: return decision::deny(reason::trusted_proxy_assertion_missing, name);
            case failure::invalid: return decision::deny(reason::trusted_proxy_assertion_invalid, name, outcome.detail);
            case failure::unknown_key: return decision::deny(reason::trusted_proxy_assertion_unknown_key, name, outcome.detail);
            case failure::expired: return decision::deny(reason::trusted_proxy_assertion_expired, name, outcome.detail);
            case failure::issuer: return decision::deny(reason::trusted_proxy_assertion_issuer, name, outcome.detail);
            case failure::audience: return decision::deny(reason::trusted_proxy_assertion_audience, name, outcome.detail);
        }
        facts.asserted_identity = outcome.identity;
        return next_policy;
    }

    std::string_view header() const noexcept { return header_; }
    const std::shared_ptr<assertion::verifier>& verifier() const noexcept { return verifier_; }
    // The resolved configuration, when built by from_config.
    const settings* resolved() const noexcept { return settings_.get(); }

private:
    std::string header_;
    std::shared_ptr<assertion::verifier> verifier_;
    clock now_;
    std::shared_ptr<const settings> settings_;
};

// `auth.mode = "trusted-proxy"` with `trustedProxy.assertion` set: behaviour §3 with §10.
using trusted_proxy_assertion_gateway =
    gateway<trusted_source, loopback_policy, required_headers, proxy_assertion, proxy_identity, allow_users, scopes<>>;

}  // namespace trustgate::assertion
