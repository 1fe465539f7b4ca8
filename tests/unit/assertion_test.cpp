// behaviour §10: signed proxy assertions, verified against keys OpenSSL makes at test time.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <trustgate/assertion/jwks_refresher.hpp>
#include <trustgate/assertion/keys.hpp>
#include <trustgate/assertion/proxy_assertion.hpp>
#include <trustgate/assertion/token.hpp>
#include <trustgate/assertion/verifier.hpp>

#include "support/catch.hpp"
#include "support/jose_signer.hpp"

using namespace trustgate;
using namespace trustgate::assertion;
using trustgate_test::key_kind;
using trustgate_test::make_raw_token;
using trustgate_test::make_token;
using trustgate_test::signing_key;
using json = nlohmann::json;

namespace {

constexpr std::int64_t now = 1'800'000'000;

rules make_rules(algorithm_mask algorithms) {
    rules r;
    r.issuer = "https://proxy.example.com";
    r.audiences = {"gateway-a", "gateway-b"};
    r.algorithms = algorithms;
    r.identity_claim = "email";
    r.leeway_seconds = 60;
    return r;
}

json claims(json extra = json::object()) {
    json c = {{"iss", "https://proxy.example.com"}, {"aud", "gateway-a"}, {"exp", now + 300},
              {"iat", now - 10}, {"nbf", now - 10}, {"email", "alice@example.com"}};
    for (const auto& [k, v] : extra.items()) {
        if (v.is_null()) c.erase(k);
        else c[k] = v;
    }
    return c;
}

key_set keys_of(std::initializer_list<json> jwks) { return parse_jwks(trustgate_test::jwks_of(jwks)); }

const signing_key& rsa() { static const signing_key k(key_kind::rsa, "rsa-1"); return k; }
const signing_key& p256() { static const signing_key k(key_kind::p256, "ec-1"); return k; }
const signing_key& p384() { static const signing_key k(key_kind::p384, "ec-384"); return k; }
const signing_key& ed() { static const signing_key k(key_kind::ed25519, "ed-1"); return k; }

failure check(const std::string& token, const key_set& keys, const rules& r, std::int64_t at = now) {
    return check_token(token, keys, r, at).why;
}

std::string flip_char(std::string s, std::size_t at) {
    s[at] = s[at] == 'A' ? 'B' : 'A';
    return s;
}

}  // namespace

TEST_CASE("every allowed algorithm verifies a real signature and yields the identity claim") {
    const auto keys = keys_of({rsa().jwk(), p256().jwk(), p384().jwk(), ed().jwk()});
    REQUIRE(keys.keys.size() == 4);
    REQUIRE(keys.warnings.empty());
    for (const auto a : all_algorithms) {
        const auto name = std::string(to_string(a));
        const signing_key& k = key_type_for(a) == key_type::rsa       ? rsa()
                               : key_type_for(a) == key_type::ec_p256 ? p256()
                               : key_type_for(a) == key_type::ec_p384 ? p384()
                                                                      : ed();
        INFO(name);
        const auto result = check_token(make_token(k, name, claims()), keys, make_rules(bit(a)), now);
        CHECK(result.why == failure::none);
        CHECK(result.identity == "alice@example.com");
        CHECK(result.expires == now + 300);
        // Allowed list without this algorithm: refused, whatever the token says.
        CHECK(check(make_token(k, name, claims()), keys, make_rules(algorithm_mask(~bit(a)))) == failure::invalid);
    }
}

TEST_CASE("the token never picks the algorithm: none, HMAC with the public key, crit, wrong key type") {
    const auto keys = keys_of({rsa().jwk(), p256().jwk()});
    const auto r = make_rules(bit(algorithm::rs256) | bit(algorithm::es256));
    const auto body = trustgate_test::base64url(claims().dump());
    // alg none, with and without a signature part.
    const auto none_header = trustgate_test::base64url(R"({"alg":"none"})");
    CHECK(check(none_header + "." + body + ".", keys, r) == failure::invalid);
    CHECK(check(none_header + "." + body + ".AAAA", keys, r) == failure::invalid);
    // Key confusion: HS256 keyed with the RSA public key.
    const auto confused = trustgate_test::make_hs256_token(rsa().public_bytes(), {{"alg", "HS256"}, {"kid", "rsa-1"}}, claims());
    CHECK(check_token(confused, keys, r, now).why == failure::invalid);
    CHECK(check_token(confused, keys, r, now).detail == "alg not allowed");
    // crit, even naming nothing this verifier knows.
    CHECK(check(make_token(rsa(), "RS256", claims(), {{"crit", json::array({"exp"})}, {"exp", 1}}), keys, r) == failure::invalid);
    // An ES256 token whose kid names the RSA key.
    CHECK(check_token(make_token(p256(), "ES256", claims(), {{"kid", "rsa-1"}}), keys, r, now).detail ==
          "kid names a key of another type or algorithm");
    // A JWK bound to RS384 by its own alg does not verify RS256.
    const auto bound = keys_of({rsa().jwk({{"alg", "RS384"}})});
    CHECK(check(make_token(rsa(), "RS256", claims()), bound, make_rules(bit(algorithm::rs256) | bit(algorithm::rs384))) ==
          failure::invalid);
    CHECK(check(make_token(rsa(), "RS384", claims()), bound, make_rules(bit(algorithm::rs256) | bit(algorithm::rs384))) ==
          failure::none);
    // alg of the wrong JSON type, lower-case alg, duplicate members.
    CHECK(check(make_token(rsa(), "RS256", claims(), {{"alg", 256}}), keys, r) == failure::invalid);
    CHECK(check(make_token(rsa(), "rs256", claims()), keys, r) == failure::invalid);
    CHECK(check(make_raw_token(rsa(), "RS256", R"({"alg":"RS256","kid":"rsa-1","kid":"ec-1"})", claims().dump()), keys, r) ==
          failure::invalid);
    CHECK(check(make_raw_token(rsa(), "RS256", R"({"alg":"RS256","kid":"rsa-1"})",
                           R"({"email":"alice@example.com","email":"mallory@example.com"})"), keys, r) == failure::invalid);
}

TEST_CASE("tampered, truncated and malformed tokens are invalid") {
    const auto keys = keys_of({p256().jwk()});
    const auto r = make_rules(bit(algorithm::es256));
    const auto token = make_token(p256(), "ES256", claims());
    REQUIRE(check(token, keys, r) == failure::none);
    const auto dot1 = token.find('.'), dot2 = token.rfind('.');
    CHECK(check(flip_char(token, 5), keys, r) == failure::invalid);                // header
    CHECK(check(flip_char(token, dot1 + 5), keys, r) == failure::invalid);         // payload
    CHECK(check(flip_char(token, dot2 + 5), keys, r) == failure::invalid);         // signature
    CHECK(check(token.substr(0, token.size() - 4), keys, r) == failure::invalid);  // short signature
    // Another payload under the original signature.
    const auto forged = token.substr(0, dot1 + 1) + trustgate_test::base64url(claims({{"email", "mallory@example.com"}}).dump()) +
                        token.substr(dot2);
    CHECK(check(forged, keys, r) == failure::invalid);
    CHECK(check(token + ".x", keys, r) == failure::invalid);
    CHECK(check(token.substr(0, dot2), keys, r) == failure::invalid);
    CHECK(check(token + "=", keys, r) == failure::invalid);
    CHECK(check(token.substr(0, dot1) + "+" + token.substr(dot1), keys, r) == failure::invalid);
    CHECK(check(std::string(9000, 'a') + token, keys, r) == failure::invalid);
    CHECK(check_token(std::string(9000, 'a'), keys, r, now).detail == "longer than 8 KiB");
    CHECK(check(make_raw_token(p256(), "ES256", "[1]", claims().dump()), keys, r) == failure::invalid);
    CHECK(check(make_raw_token(p256(), "ES256", R"({"alg":"ES256","kid":"ec-1"})", "not json"), keys, r) == failure::invalid);
    CHECK(check(make_raw_token(p256(), "ES256", R"({"alg":"ES256","kid":"ec-1"})", "\"a string\""), keys, r) == failure::invalid);
}

TEST_CASE("unknown kid, and tokens without kid during a rotation") {
    const signing_key old_key(key_kind::p256, "old"), new_key(key_kind::p256, "new");
    const auto r = make_rules(bit(algorithm::es256));
    const auto both = keys_of({old_key.jwk(), new_key.jwk()});
    CHECK(check(make_token(old_key, "ES256", claims()), both, r) == failure::none);
    CHECK(check(make_token(new_key, "ES256", claims()), both, r) == failure::none);
    CHECK(check(make_token(new_key, "ES256", claims()), keys_of({old_key.jwk()}), r) == failure::unknown_key);
    // Without a kid every key of the type is tried; with none of that type, unknown key.
    const signing_key anonymous(key_kind::p256);
    const auto no_kid = keys_of({old_key.jwk(), anonymous.jwk()});
    CHECK(check(make_token(anonymous, "ES256", claims()), no_kid, r) == failure::none);
    CHECK(check(make_token(anonymous, "ES256", claims()), keys_of({rsa().jwk()}), r) == failure::unknown_key);
    CHECK(check(make_token(anonymous, "ES256", claims()), keys_of({old_key.jwk()}), r) == failure::invalid);
    CHECK(check(make_token(old_key, "ES256", claims(), {{"kid", 7}}), both, r) == failure::invalid);
}

TEST_CASE("time claims: exp, nbf and iat at the edges of the leeway") {
    const auto keys = keys_of({ed().jwk()});
    const auto r = make_rules(bit(algorithm::eddsa));
    const auto with = [&](json extra) { return check(make_token(ed(), "EdDSA", claims(std::move(extra))), keys, r); };
    CHECK(with({{"exp", now - 60}}) == failure::expired);  // exp + leeway == now
    CHECK(with({{"exp", now - 59}}) == failure::none);
    CHECK(with({{"exp", now - 59.5}}) == failure::none);
    CHECK(with({{"exp", nullptr}}) == failure::expired);
    CHECK(with({{"nbf", now + 60}}) == failure::none);
    CHECK(with({{"nbf", now + 61}}) == failure::expired);
    CHECK(with({{"iat", now + 60}}) == failure::none);
    CHECK(with({{"iat", now + 61}}) == failure::expired);
    CHECK(with({{"exp", std::to_string(now + 300)}}) == failure::invalid);
    CHECK(with({{"nbf", true}}) == failure::invalid);
    CHECK(with({{"iat", json::array({now})}}) == failure::invalid);
    auto zero = r;
    zero.leeway_seconds = 0;
    CHECK(check(make_token(ed(), "EdDSA", claims({{"exp", now}})), keys, zero) == failure::expired);
    CHECK(check(make_token(ed(), "EdDSA", claims({{"exp", now + 1}})), keys, zero) == failure::none);
}

TEST_CASE("issuer and audience: exact, aud as a string or an array") {
    const auto keys = keys_of({p384().jwk()});
    const auto r = make_rules(bit(algorithm::es384));
    const auto with = [&](json extra) { return check(make_token(p384(), "ES384", claims(std::move(extra))), keys, r); };
    CHECK(with({{"iss", "https://proxy.example.com/"}}) == failure::issuer);
    CHECK(with({{"iss", nullptr}}) == failure::issuer);
    CHECK(with({{"iss", 1}}) == failure::invalid);
    CHECK(with({{"aud", "gateway-b"}}) == failure::none);
    CHECK(with({{"aud", json::array({"other", "gateway-b"})}}) == failure::none);
    CHECK(with({{"aud", json::array({"other", "another"})}}) == failure::audience);
    CHECK(with({{"aud", "GATEWAY-A"}}) == failure::audience);
    CHECK(with({{"aud", json::array()}}) == failure::audience);
    CHECK(with({{"aud", nullptr}}) == failure::audience);
    CHECK(with({{"aud", 5}}) == failure::invalid);
    CHECK(with({{"aud", json::array({"gateway-a", 5})}}) == failure::invalid);
}

TEST_CASE("the identity claim follows behaviour §3 step 4.4's rules") {
    const auto keys = keys_of({rsa().jwk()});
    const auto r = make_rules(bit(algorithm::ps256));
    const auto with = [&](json extra) { return check_token(make_token(rsa(), "PS256", claims(std::move(extra))), keys, r, now); };
    CHECK(with({{"email", "  bob@example.com\t"}}).identity == "bob@example.com");
    CHECK(with({{"email", std::string(256, 'a')}}).why == failure::none);
    CHECK(with({{"email", std::string(257, 'a')}}).why == failure::invalid);
    CHECK(with({{"email", "bob\n@example.com"}}).why == failure::invalid);
    CHECK(with({{"email", "   "}}).why == failure::invalid);
    CHECK(with({{"email", nullptr}}).why == failure::invalid);
    CHECK(with({{"email", 42}}).why == failure::invalid);
    auto sub = r;
    sub.identity_claim = "sub";
    CHECK(check_token(make_token(rsa(), "PS256", claims({{"sub", "user-1"}})), keys, sub, now).identity == "user-1");
}

TEST_CASE("JWKS: unusable keys are skipped with a warning, never half-used") {
    const signing_key small(key_kind::rsa, "small", 1024);
    auto off_curve = p256().jwk({{"kid", "bent"}});
    off_curve["y"] = off_curve["x"];
    const auto set = keys_of({rsa().jwk({{"use", "enc"}}), small.jwk(), off_curve, json{{"kty", "oct"}, {"k", "c2VjcmV0"}},
                              p256().jwk({{"alg", "RS256"}}), p256().jwk({{"alg", "HS256"}}), json("not an object"),
                              ed().jwk(), ed().jwk({{"x", "AAAA"}}), p384().jwk({{"use", "sig"}}), p384().jwk()});
    REQUIRE(set.keys.size() == 2);
    CHECK(set.keys[0].kid == "ed-1");
    CHECK(set.keys[1].kid == "ec-384");
    REQUIRE(set.warnings.size() == 9);
    CHECK(set.warnings[0] == "keys[0]: skipped: use is \"enc\", not \"sig\"");
    CHECK(set.warnings[1] == "keys[1]: skipped: RSA key shorter than 2048 bits");
    CHECK(set.warnings[2] == "keys[2]: skipped: OpenSSL refused the key parameters");
    CHECK(set.warnings[8] == "keys[10]: skipped: kid \"ec-384\" repeats an earlier key's");
    CHECK_THROWS_AS(parse_jwks("not json"), jwks_error);
    CHECK_THROWS_AS(parse_jwks(R"({"keys":{}})"), jwks_error);
    CHECK(parse_jwks(R"({"keys":[]})").keys.empty());
}

TEST_CASE("the verified-token cache: hits until exp + leeway, forgets tokens whose key left") {
    const signing_key a(key_kind::p256, "a"), b(key_kind::p256, "b");
    verifier v(make_rules(bit(algorithm::es256)), keys_of({a.jwk(), b.jwk()}), 64);
    const auto token_a = make_token(a, "ES256", claims({{"exp", now + 100}}));
    const auto token_b = make_token(b, "ES256", claims({{"email", "bob@example.com"}}));
    CHECK(v.verify(token_a, now).identity == "alice@example.com");
    CHECK(v.verify(token_b, now).identity == "bob@example.com");
    CHECK(v.cache().size() == 2);
    CHECK(v.verify(token_a, now + 159).identity == "alice@example.com");  // cached, inside exp + leeway
    CHECK(v.verify(token_a, now + 160).why == failure::expired);          // exp + leeway == now: not from the cache either
    // Rotation: key a leaves; its token is now an unknown key, b's stays cached.
    v.replace_keys(keys_of({b.jwk()}));
    CHECK(v.cache().size() == 1);
    CHECK(v.verify(token_a, now).why == failure::unknown_key);
    CHECK(v.verify(token_b, now).identity == "bob@example.com");
    // Bounded: many distinct tokens never grow it past its capacity.
    for (int i = 0; i < 300; ++i) v.verify(make_token(b, "ES256", claims({{"jti", i}})), now);
    CHECK(v.cache().size() <= 64);
}

TEST_CASE("an unknown kid asks for a refetch at most once per 30 s") {
    const signing_key known(key_kind::ed25519, "known"), stranger(key_kind::ed25519, "stranger");
    verifier v(make_rules(bit(algorithm::eddsa)), keys_of({known.jwk()}));
    const auto token = make_token(stranger, "EdDSA", claims());
    CHECK(v.verify(token, now).why == failure::unknown_key);
    CHECK(v.verify(token, now + 29).why == failure::unknown_key);
    CHECK(v.refetches_asked() == 1);
    CHECK(v.wait_for_refetch(std::chrono::steady_clock::now()));
    CHECK_FALSE(v.wait_for_refetch(std::chrono::steady_clock::now()));
    CHECK(v.verify(token, now + 30).why == failure::unknown_key);
    CHECK(v.refetches_asked() == 2);
}

namespace {

struct temp_file {
    std::string path;
    explicit temp_file(const std::string& text) {
        char name[] = "/tmp/trustgate-jwks-XXXXXX";
        const int fd = ::mkstemp(name);
        ::close(fd);
        path = name;
        std::ofstream(path) << text;
    }
    ~temp_file() { std::remove(path.c_str()); }
};

std::atomic<std::int64_t> fake_now{now};
std::int64_t fake_clock() noexcept { return fake_now.load(); }

auth_config assertion_auth(const std::string& jwks_file) {
    auth_config c;
    c.trusted_proxies = {"10.0.0.0/8", "127.0.0.1"};
    c.trusted_proxy.user_header = "x-pomerium-claim-email";
    c.trusted_proxy.allow_users = {"alice@example.com", "bob@example.com"};
    assertion_config a;
    a.preset = "pomerium";
    a.jwks_file = jwks_file;
    a.issuer = "https://proxy.example.com";
    a.audience = {"gateway-a"};
    c.trusted_proxy.assertion = a;
    return c;
}

// The configured gateway with the fake clock put in.
trusted_proxy_assertion_gateway gateway_for(const auth_config& c) {
    const auto built = trusted_proxy_assertion_gateway::from_config(c);
    const auto& p = built.get<proxy_assertion>();
    return trusted_proxy_assertion_gateway(built.get<trusted_source>(), built.get<loopback_policy>(), built.get<required_headers>(),
                                           proxy_assertion(std::string(p.header()), p.verifier(), fake_clock),
                                           built.get<proxy_identity>(), built.get<allow_users>(), built.get<scopes<>>());
}

basic_request proxied(std::initializer_list<std::pair<std::string, std::string>> headers) {
    basic_request r(*net::address::parse("10.1.2.3"));
    r.add("Host", "gateway.example.com").add("X-Forwarded-For", "203.0.113.9");
    for (const auto& [n, v] : headers) r.add(n, v);
    return r;
}

}  // namespace

TEST_CASE("the policy: behaviour §10's place in §3 step 4, with the user header optional but agreeing") {
    const temp_file jwks(trustgate_test::jwks_of({p256().jwk()}));
    auto config = assertion_auth(jwks.path);
    config.trusted_proxy.required_headers = {"x-proxy-marker"};
    const auto gw = gateway_for(config);
    const auto token = make_token(p256(), "ES256", claims());
    const auto header = std::string("X-Pomerium-Jwt-Assertion");

    auto d = gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}}));
    CHECK(d.allowed);
    CHECK(d.how == via::trusted_proxy);
    CHECK(d.identity == "alice@example.com");
    CHECK(d.policy == "proxy_identity");

    // Required headers come first; the assertion before the user header.
    CHECK(gw.authenticate(proxied({{header, token}})).why == reason::trusted_proxy_missing_header);
    d = gw.authenticate(proxied({{"x-proxy-marker", "1"}, {"x-pomerium-claim-email", "alice@example.com"}}));
    CHECK(d.why == reason::trusted_proxy_assertion_missing);
    CHECK(d.policy == "proxy_assertion");
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, "  "}})).why == reason::trusted_proxy_assertion_missing);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}, {header, token}})).why ==
          reason::trusted_proxy_assertion_invalid);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}, {header, ""}})).why ==
          reason::trusted_proxy_assertion_invalid);
    // The user header: agreeing, blank (absent), different, ambiguous.
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}, {"X-Pomerium-Claim-Email", " alice@example.com "}})).allowed);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}, {"x-pomerium-claim-email", ""}})).allowed);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}, {"x-pomerium-claim-email", "bob@example.com"}})).why ==
          reason::trusted_proxy_user_mismatch);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}, {"x-pomerium-claim-email", "ALICE@example.com"}})).why ==
          reason::trusted_proxy_user_mismatch);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}, {"x-pomerium-claim-email", "alice@example.com,bob@example.com"}}))
              .why == reason::trusted_proxy_user_ambiguous);
    // allowUsers vets the claim.
    const auto carol = make_token(p256(), "ES256", claims({{"email", "carol@example.com"}}));
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, carol}})).why == reason::trusted_proxy_user_not_allowed);
    // Each failure class has its reason; every one is a deny.
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, make_token(p256(), "ES256", claims({{"iss", "x"}}))}})).why ==
          reason::trusted_proxy_assertion_issuer);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, make_token(p256(), "ES256", claims({{"aud", "x"}}))}})).why ==
          reason::trusted_proxy_assertion_audience);
    CHECK(gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, make_token(p256(), "ES256", claims(), {{"kid", "gone"}})}})).why ==
          reason::trusted_proxy_assertion_unknown_key);
    fake_now = now + 400;
    d = gw.authenticate(proxied({{"x-proxy-marker", "1"}, {header, token}}));
    fake_now = now;
    CHECK(d.why == reason::trusted_proxy_assertion_expired);
    CHECK(d.detail == "exp passed");
    // An untrusted peer never gets that far.
    basic_request outside(*net::address::parse("198.51.100.1"));
    outside.add(header, token);
    CHECK(gw.authenticate(outside).why == reason::trusted_proxy_untrusted_source);
}

TEST_CASE("the policy: case-insensitive agreement, direct-local requests need no assertion") {
    const temp_file jwks(trustgate_test::jwks_of({p256().jwk()}));
    auto config = assertion_auth(jwks.path);
    config.trusted_proxy.allow_users_case_insensitive = true;
    config.trusted_proxy.loopback_user = "alice@example.com";
    const auto gw = gateway_for(config);
    const auto token = make_token(p256(), "ES256", claims());
    CHECK(gw.authenticate(proxied({{"x-pomerium-jwt-assertion", token}, {"x-pomerium-claim-email", "ALICE@example.com"}})).allowed);
    basic_request local(*net::address::parse("127.0.0.1"));
    local.set_local_proof(local_proof::of(::geteuid()));  // a CLI of the gateway's own user
    local.add("Host", "127.0.0.1:18789");
    const auto d = gw.authenticate(local);
    CHECK(d.allowed);
    CHECK(d.how == via::loopback_user);
}

TEST_CASE("assertion configuration errors name their JSON path") {
    const temp_file jwks(trustgate_test::jwks_of({p256().jwk()}));
    const std::string base = "gateway.auth.trustedProxy.assertion.";
    const auto error_of = [&](auto edit) {
        auto c = assertion_auth(jwks.path);
        edit(*c.trusted_proxy.assertion);
        try {
            trusted_proxy_assertion_gateway::from_config(c);
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error_of([](assertion_config&) {}) == "no error");
    CHECK(error_of([](assertion_config& a) { a.preset = "okta"; }).starts_with(base + "preset: expected"));
    CHECK(error_of([](assertion_config& a) { a.algorithms = {"ES256", "none"}; }).starts_with(base + "algorithms[1]: expected a public-key algorithm"));
    CHECK(error_of([](assertion_config& a) { a.algorithms = {"HS256"}; }).starts_with(base + "algorithms[0]: expected a public-key algorithm"));
    CHECK(error_of([](assertion_config& a) { a.algorithms = {"ES512"}; }).starts_with(base + "algorithms[0]: expected one of"));
    CHECK(error_of([](assertion_config& a) { a.jwks_url = "https://keys.example.com/jwks.json"; }).starts_with(base + "jwksFile: expected exactly one"));
    CHECK(error_of([](assertion_config& a) { a.jwks_file.reset(); }).starts_with(base + "jwksUrl: expected exactly one"));
    CHECK(error_of([](assertion_config& a) { a.jwks_file.reset(); a.jwks_url = "http://keys.example.com/"; }).starts_with(base + "jwksUrl: expected an https://"));
    CHECK(error_of([](assertion_config& a) { a.jwks_file.reset(); a.jwks_url = "http://localhost:8080/"; }).starts_with(base + "jwksUrl: expected an https://"));
    CHECK(error_of([](assertion_config& a) { a.jwks_file.reset(); a.jwks_url = "http://127.0.0.1:8080/jwks"; }) == "no error");
    CHECK(error_of([](assertion_config& a) { a.jwks_file = "/nonexistent/jwks.json"; }).starts_with(base + "jwksFile: expected a readable JWKS file"));
    CHECK(error_of([](assertion_config& a) { a.jwks_file = "/dev/null"; }).starts_with(base + "jwksFile: expected a readable JWKS file"));
    CHECK(error_of([](assertion_config& a) { a.issuer.reset(); }).starts_with(base + "issuer: expected"));
    CHECK(error_of([](assertion_config& a) { a.audience.clear(); }).starts_with(base + "audience: expected"));
    CHECK(error_of([](assertion_config& a) { a.leeway_seconds = 301; }).starts_with(base + "leewaySeconds: expected an integer from 0 to 300"));
    CHECK(error_of([](assertion_config& a) { a.refresh_seconds = 0; }).starts_with(base + "refreshSeconds: expected"));
    CHECK(error_of([](assertion_config& a) { a.preset.reset(); }).starts_with(base + "header: expected"));
    CHECK(error_of([](assertion_config& a) { a.header = "bad header"; }).starts_with(base + "header: expected an HTTP header name"));
    const temp_file unusable(trustgate_test::jwks_of({rsa().jwk({{"use", "enc"}})}));
    CHECK(error_of([&](assertion_config& a) { a.jwks_file = unusable.path; }) ==
          base + "jwksFile: expected a JWKS with at least one usable signing key (keys[0]: skipped: use is \"enc\", not \"sig\")");
    const temp_file garbage("<html>");
    CHECK(error_of([&](assertion_config& a) { a.jwks_file = garbage.path; }) == base + "jwksFile: expected a JWKS file: not JSON");
    // google-iap brings its issuer and jwksUrl; an explicit jwksFile replaces the URL.
    CHECK(error_of([](assertion_config& a) { a.preset = "google-iap"; a.issuer.reset(); }) == "no error");
    auto c = assertion_auth(jwks.path);
    c.trusted_proxy.assertion->preset = "google-iap";
    c.trusted_proxy.assertion->issuer.reset();
    const auto iap = trusted_proxy_assertion_gateway::from_config(c);
    const auto* s = iap.get<proxy_assertion>().resolved();
    CHECK(s->rules.issuer == "https://cloud.google.com/iap");
    CHECK(s->header == "x-goog-iap-jwt-assertion");
    CHECK_FALSE(s->jwks_url);
    c.trusted_proxy.assertion.reset();
    CHECK_THROWS_AS(trusted_proxy_assertion_gateway::from_config(c), config_error);
}

TEST_CASE("jwks_refresher: start-up load, refetch on an unknown kid, last good set on failure") {
    const signing_key k1(key_kind::p256, "k1"), k2(key_kind::p256, "k2");
    std::mutex lock;
    std::string served = trustgate_test::jwks_of({k1.jwk()});
    int fetches = 0;
    std::vector<std::string> log;
    const auto fetch = [&](const std::string& url, std::chrono::milliseconds) {
        const std::lock_guard guard(lock);
        ++fetches;
        CHECK(url == "https://keys.example.com/jwks");
        if (served == "fail") throw std::runtime_error("connection refused");
        return served;
    };
    const auto note = [&](std::string_view event, const std::string& message) {
        const std::lock_guard guard(lock);
        log.push_back(std::string(event) + ": " + message);
    };
    const auto v = std::make_shared<verifier>(make_rules(bit(algorithm::es256)), key_set{});
    const auto wait_until = [&](auto done) {
        for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return done();
    };
    const auto verify = [&](const signing_key& k) {
        return v->verify(make_token(k, "ES256", claims()), now).why;
    };
    {
        jwks_refresher refresher(v, "https://keys.example.com/jwks", std::chrono::seconds(3600), fetch, note);
        CHECK(verify(k1) == failure::none);
        {
            const std::lock_guard guard(lock);
            served = trustgate_test::jwks_of({k2.jwk()});
        }
        // The request that meets k2 is refused, and wakes the refresher at once.
        CHECK(verify(k2) == failure::unknown_key);
        CHECK(wait_until([&] { return v->verify(make_token(k2, "ES256", claims()), now).why == failure::none; }));
        CHECK(verify(k1) == failure::unknown_key);  // k1 left: not even from the cache
        CHECK(refresher.refreshes().ok.load() == 2);
        {
            const std::lock_guard guard(lock);
            served = "fail";
        }
        // Another unknown kid 30 s later: the fetch fails, k2 still verifies.
        CHECK(v->verify(make_token(k1, "ES256", claims()), now + 30).why == failure::unknown_key);
        CHECK(wait_until([&] { return refresher.refreshes().failed.load() == 1; }));
        CHECK(v->verify(make_token(k2, "ES256", claims()), now + 30).why == failure::none);
    }
    {
        const std::lock_guard guard(lock);
        CHECK(fetches == 3);
        CHECK(log.back().find("keeping the last good key set") != std::string::npos);
        // Start-up with nothing usable is a config error naming jwksUrl, unless a last good set stands in.
        served = trustgate_test::jwks_of({k1.jwk({{"use", "enc"}})});
    }
    const auto fresh = std::make_shared<verifier>(make_rules(bit(algorithm::es256)), key_set{});
    try {
        jwks_refresher broken(fresh, "https://keys.example.com/jwks", std::chrono::seconds(3600), fetch, nullptr);
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(e.path() == "gateway.auth.trustedProxy.assertion.jwksUrl");
        CHECK(e.expected().find("no usable signing key") != std::string::npos);
    }
    jwks_refresher kept(fresh, "https://keys.example.com/jwks", std::chrono::seconds(3600), fetch, nullptr, v->keys());
    CHECK(fresh->verify(make_token(k2, "ES256", claims()), now).why == failure::none);
}
