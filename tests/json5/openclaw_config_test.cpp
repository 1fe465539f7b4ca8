// Configuration that OpenClaw users can paste (behaviour §9): trustgate::runtime's reader
// (trustgate/runtime/config_json.hpp) on OpenClaw's documentation examples in JSON5
// (tests/json5/openclaw/), OpenClaw's spellings, the settings it does not implement,
// and "did you mean" for a misspelt key.
#include <support/catch.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "trustgate/runtime/compiled_config.hpp"
#include "trustgate/runtime/config_json.hpp"
#include "trustgate/runtime/policy_settings.hpp"

using trustgate::runtime::parse_config;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(TRUSTGATE_OPENCLAW_FIXTURES) + "/" + name, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string error_of(const std::string& text) {
    try {
        trustgate::runtime::compile(parse_config(text, "gateway.json5"));
    } catch (const trustgate::config_error& e) {
        return e.what();
    }
    return "no error";
}

// Whether the compiled gateway lets in `user`, named by the documentation's proxy.
bool through_proxy(const trustgate::runtime::compiled_config& config, const char* user) {
    const trustgate::basic_request request(*trustgate::net::address::parse("10.0.0.1"),
                                           {{"x-forwarded-user", user}, {"x-forwarded-proto", "https"},
                                            {"x-forwarded-host", "openclaw.example.com"}, {"x-forwarded-for", "198.51.100.7"}});
    return std::visit([&](const auto& gateway) { return gateway.authenticate(request).allowed; }, config.gateway);
}

}  // namespace

TEST_CASE("OpenClaw's trusted-proxy example with bind \"loopback\" loads unchanged") {
    const auto config = trustgate::runtime::compile(parse_config(fixture("loopback.json5"), "loopback.json5"));
    CHECK(config->settings.bind == *trustgate::net::address::parse("127.0.0.1"));
    CHECK(config->settings.auth.mode == trustgate::auth_mode::trusted_proxy);
    CHECK(config->settings.auth.trusted_proxies == std::vector<std::string>{"10.0.0.1", "172.17.0.1"});
    CHECK(config->settings.auth.trusted_proxy.required_headers == std::vector<std::string>{"x-forwarded-proto"});
    CHECK(through_proxy(*config, "nick@example.com"));
    CHECK_FALSE(through_proxy(*config, "eve@example.com"));
}

TEST_CASE("OpenClaw's longer example with bind \"lan\" loads unchanged") {
    const auto config = trustgate::runtime::compile(parse_config(fixture("lan.json5"), "lan.json5"));
    CHECK(config->settings.bind == *trustgate::net::address::parse("0.0.0.0"));
    CHECK(config->settings.auth.trusted_proxy.allow_users == std::vector<std::string>{"nick@example.com", "admin@company.org"});
    CHECK(through_proxy(*config, "admin@company.org"));
}

TEST_CASE("OpenClaw's flat trustedProxyHeader is trustedProxy.userHeader") {
    const auto config = trustgate::runtime::compile(parse_config(fixture("flat_header.json5"), "flat_header.json5"));
    CHECK(config->settings.auth.trusted_proxy.user_header == "X-Forwarded-User");
    CHECK(through_proxy(*config, "alice"));

    const std::string both = R"({gateway: {trustedProxies: ["10.0.0.1"], auth: {trustedProxyHeader: "x-remote-user",
                                 trustedProxy: {userHeader: %s, allowUsers: ["alice"]}}}})";
    const auto with_user_header = [&](const std::string& value) {
        std::string text = both;
        return text.replace(text.find("%s"), 2, value);
    };
    CHECK(error_of(with_user_header("'x-forwarded-user'")) ==
          "gateway.auth.trustedProxyHeader: expected the header gateway.auth.trustedProxy.userHeader names, or only one of "
          "the two keys (trustedProxyHeader is OpenClaw's older spelling of userHeader)");
    CHECK(error_of(with_user_header("'X-Remote-User'")) == "no error");  // the same header: names ignore case
    CHECK(error_of(R"({gateway: {auth: {trustedProxyHeader: 1}}})") ==
          "gateway.auth.trustedProxyHeader: expected a string (the user header, as trustedProxy.userHeader), got a number");
    CHECK(error_of(R"({gateway: {auth: {trustedProxyHeader: "x-u", trustedProxy: []}}})") ==
          "gateway.auth.trustedProxy: expected an object, got an array");
}

TEST_CASE("OpenClaw's settings this gateway does not implement are refused as such") {
    const std::string openclaw = " (an OpenClaw setting this gateway does not implement: remove it)";
    CHECK(error_of("{agents: {defaults: {}}, gateway: {}}") == "agents: expected one of the keys gateway, secrets, proxy" + openclaw);
    CHECK_THAT(error_of("{channels: {}}"), Catch::Matchers::EndsWith(openclaw));
    CHECK_THAT(error_of("{gateway: {controlUi: {enabled: false}}}"),
               Catch::Matchers::StartsWith("gateway.controlUi: ") && Catch::Matchers::EndsWith(openclaw));
    CHECK_THAT(error_of("{gateway: {auth: {password: 'x'}}}"), Catch::Matchers::StartsWith("gateway.auth.password: "));
    CHECK(error_of("{gateway: {bind: 'tailnet'}}") ==
          R"(gateway.bind: expected an IP address, "loopback" or "lan": OpenClaw's bind mode "tailnet" is not implemented by )"
          "this gateway");
    CHECK_THAT(error_of("{gateway: {bind: 'localhost'}}"), Catch::Matchers::Contains(R"("loopback" or "lan", got "localhost")"));
}

TEST_CASE("an unknown key within two edits of a known one gets a suggestion") {
    CHECK_THAT(error_of("{gateway: {prot: 1}}"),
               Catch::Matchers::StartsWith("gateway.prot: expected one of the keys bind,") &&
                   Catch::Matchers::EndsWith(" (unknown key; did you mean port?)"));
    CHECK_THAT(error_of("{gatewy: {}}"), Catch::Matchers::EndsWith("(unknown key; did you mean gateway?)"));
    CHECK_THAT(error_of("{gateway: {auth: {trustedProxy: {allowUser: []}}}}"),
               Catch::Matchers::EndsWith("(unknown key; did you mean allowUsers?)"));
    CHECK_THAT(error_of("{gateway: {listen: 1}}"), Catch::Matchers::EndsWith(" (unknown key)"));
}

TEST_CASE("the gateway's reader keeps JSON's errors on JSON5") {
    CHECK(error_of("{gateway: {port: 1,, }}") == "gateway.json5:1:20: expected JSON5: a key (a string or an identifier) or '}'");
    CHECK(error_of("{gateway: {port: 1, 'port': 2}}") == "gateway.port: expected each key once (duplicate key)");
    // Infinity and NaN are numbers JSON5 allows, and no setting takes.
    CHECK(error_of("{gateway: {port: NaN}}") == "gateway.port: expected an integer from 0 to 65535, got a fractional number");
    CHECK(error_of("{gateway: {trustedProxies: ['127.0.0.1'], port: 0x4965}}") == "no error");  // 18789 in hex
    CHECK(error_of("{gateway: {port: 1e400}}") ==
          "gateway.json5:1:18: expected JSON5: a number a double can hold (this one is too large or too close to zero)");
}

namespace {

// A policy of a user's own with settings of its own (trustgate/runtime/policy_settings.hpp):
// the vouched-for identity must be in one of the configured domains. README.md shows it
// between the markers (a test keeps the two in sync).
// readme-example-begin
struct domain_policy {
    static constexpr trustgate::stage stage = trustgate::stage::vet;  // after the identity
    static constexpr std::string_view name = "domain_policy";
    static constexpr trustgate::reason domain_not_allowed{"domain_not_allowed"};
    static constexpr std::array reasons{domain_not_allowed};
    static constexpr std::string_view settings_key = "domain";  // gateway.policies.domain
    struct settings {
        std::vector<std::string> domains{"example.com"};
    };
    static settings read_settings(const nlohmann::json& value, const std::string& path) {
        const trustgate::runtime::object_reader o(value, path, {"domains"});  // unknown keys, "did you mean"
        settings s;
        o.with("domains", [&](const nlohmann::json& j, const std::string& p) { s.domains = trustgate::runtime::read_string_list(j, p); });
        return s;
    }
    template <class Context>
    static domain_policy from_config(const trustgate::auth_config&, const Context&, const settings& s) {
        return {s.domains};
    }

    std::vector<std::string> domains;

    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts& facts, const R&) const {
        for (const auto& d : domains)
            if (facts.identity.ends_with("@" + d)) return trustgate::next_policy;
        return trustgate::decision::deny(domain_not_allowed, name);
    }
};

using domain_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, domain_policy>;
// readme-example-end

bool admits(const domain_gateway& gateway, const char* user) {
    const trustgate::basic_request request(*trustgate::net::address::parse("10.0.0.1"),
                                           {{"x-forwarded-user", user}, {"x-forwarded-for", "198.51.100.7"}});
    return gateway.authenticate(request).allowed;
}

std::string build_error(const std::string& text) {
    try {
        (void)trustgate::runtime::build<domain_gateway>(parse_config(text, "gateway.json5"));
    } catch (const trustgate::config_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("a policy of one's own reads its settings from gateway.policies.<settings_key>") {
    const std::string proxy = "{gateway: {trustedProxies: ['10.0.0.1'], ";
    const auto configured = trustgate::runtime::build<domain_gateway>(parse_config(proxy + "policies: {domain: {domains: ['corp.example']}}}}"));
    CHECK(admits(configured, "alice@corp.example"));
    CHECK_FALSE(admits(configured, "alice@example.com"));
    const trustgate::basic_request outsider(*trustgate::net::address::parse("10.0.0.1"), {{"x-forwarded-user", "bob@example.org"}});
    const auto refused = configured.authenticate(outsider);
    CHECK(refused.why == domain_policy::domain_not_allowed);
    CHECK(trustgate::to_string(refused.why) == "domain_not_allowed");
    CHECK(refused.policy == "domain_policy");
    STATIC_REQUIRE(std::ranges::find(domain_gateway::reasons, domain_policy::domain_not_allowed) != domain_gateway::reasons.end());
    // Without gateway.policies.domain the policy has its default settings.
    const auto defaults = trustgate::runtime::build<domain_gateway>(parse_config(proxy + "}}"));
    CHECK(admits(defaults, "alice@example.com"));
    CHECK_FALSE(admits(defaults, "alice@corp.example"));

    // Errors carry the JSON path, below the policy's key too.
    CHECK(build_error(proxy + "policies: {domain: {domains: 'corp.example'}}}}") ==
          "gateway.policies.domain.domains: expected an array of strings, got a string");
    CHECK_THAT(build_error(proxy + "policies: {domain: {domain: []}}}}"),
               Catch::Matchers::EndsWith("(unknown key; did you mean domains?)"));
    CHECK(build_error(proxy + "policies: {domian: {}}}}") ==
          "gateway.policies.domian: expected one of the keys domain (unknown key; did you mean domain?)");
    CHECK(build_error(proxy + "policies: []}}") ==
          "gateway.policies: expected an object mapping policies' settings keys to their settings, got an array");
    // The shipped compositions read no policy settings: a key there is never silently ignored.
    CHECK(error_of(proxy + "policies: {domain: {}}}}") ==
          "gateway.policies.domain: expected no policy settings: no policy of this gateway reads any (unknown key)");
}
