// behaviour §10 against the reference model: the real library, driven through real tokens
// signed at test time, agrees with the model's assertion step on an abstract token
// (§8.9); §8.10 as a named property; every §10 reason reached; and an exhaustive pass over
// each failure class, user header state and peer kind.
#include <rapidcheck.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include <trustgate/assertion/proxy_assertion.hpp>
#include <trustgate/model/reference_model.hpp>

#include "support/catch.hpp"
#include "support/jose_signer.hpp"

namespace {

using namespace trustgate;
namespace model = trustgate::model;
using abstract = model::abstract_assertion;
using trustgate_test::key_kind;
using trustgate_test::signing_key;
using json = nlohmann::json;

constexpr long long now = 1'800'000'000;
const std::string issuer = "https://proxy.example.com";
const std::string header = "x-pomerium-jwt-assertion";

std::atomic<std::int64_t> clock_now{now};
std::int64_t fake_clock() noexcept { return clock_now.load(); }

const signing_key& ec_key() { static const signing_key k(key_kind::p256, "ec"); return k; }
const signing_key& rsa_key() { static const signing_key k(key_kind::rsa, "rsa"); return k; }
const signing_key& p384_key() { static const signing_key k(key_kind::p384, "ec384"); return k; }
const signing_key& stranger_ec() { static const signing_key k(key_kind::p256, "ec"); return k; }
const signing_key& stranger_rsa() { static const signing_key k(key_kind::rsa, "rsa"); return k; }

const std::string& jwks_path() {
    static const std::string path = [] {
        char name[] = "/tmp/trustgate-property-jwks-XXXXXX";
        ::close(::mkstemp(name));
        std::ofstream(name) << trustgate_test::jwks_of({ec_key().jwk(), rsa_key().jwk()});
        return std::string(name);
    }();
    return path;
}

// A real token for an abstract one: the text a proxy would send.
std::string realize(const abstract& a) {
    if (!a.well_formed) return "not-a.token";
    json claims = {{"iss", a.iss}};
    if (a.aud.size() == 1) claims["aud"] = a.aud.front();
    else claims["aud"] = a.aud;
    const auto time = [&](const char* name, const std::optional<long long>& v) {
        if (v) claims[name] = a.times_numeric ? json(*v) : json(std::to_string(*v));
    };
    time("exp", a.exp);
    time("nbf", a.nbf);
    time("iat", a.iat);
    if (!a.times_numeric && !a.exp) claims["exp"] = "soon";
    if (a.identity) claims["email"] = *a.identity;
    json head = json::object();
    if (a.crit) head["crit"] = json::array({"exp"});
    if (a.alg == "HS256") return trustgate_test::make_hs256_token(rsa_key().public_bytes(), {{"alg", "HS256"}, {"kid", "rsa"}}, claims);
    const bool rsa = a.alg == "RS256";
    const signing_key& listed = a.alg == "ES384" ? p384_key() : rsa ? rsa_key() : ec_key();
    const signing_key& signer = a.signature_valid ? listed : a.alg == "ES384" ? p384_key() : rsa ? stranger_rsa() : stranger_ec();
    switch (a.key) {
        case abstract::key_named::listed: head["kid"] = listed.kid(); break;
        case abstract::key_named::unlisted: head["kid"] = "gone"; break;
        case abstract::key_named::other_type: head["kid"] = rsa ? "ec" : "rsa"; break;
    }
    return trustgate_test::make_token(signer, a.alg, claims, head);
}

struct scenario {
    auth_config config;
    basic_request request;
    model::assertion_context context;
};

rc::Gen<abstract> gen_abstract(long long leeway) {
    using namespace rc;
    const auto near = [leeway](long long base) {
        return gen::oneOf(gen::just(base - leeway - 1), gen::just(base - leeway), gen::just(base - leeway + 1),
                          gen::just(base + leeway), gen::just(base + leeway + 1), gen::inRange(base - 400, base + 400));
    };
    const auto optional_time = [](Gen<long long> g) {
        return gen::weightedOneOf<std::optional<long long>>(
            {{1, gen::just(std::optional<long long>())}, {6, gen::map(g, [](long long v) { return std::optional<long long>(v); })}});
    };
    return gen::apply(
        [](bool well_formed, std::string alg, bool crit, abstract::key_named key, bool signature_valid, bool times_numeric,
           std::optional<long long> exp, std::optional<long long> nbf, std::optional<long long> iat, std::string iss,
           std::vector<std::string> aud, std::optional<std::string> identity) {
            return abstract{well_formed, alg, crit, key, signature_valid, times_numeric, exp, nbf, iat, iss, aud, identity};
        },
        gen::weightedOneOf<bool>({{19, gen::just(true)}, {1, gen::just(false)}}),
        gen::weightedOneOf<std::string>({{14, gen::just(std::string("ES256"))}, {3, gen::just(std::string("RS256"))},
                                         {1, gen::just(std::string("ES384"))}, {1, gen::just(std::string("HS256"))}}),
        gen::weightedOneOf<bool>({{1, gen::just(true)}, {19, gen::just(false)}}),
        gen::weightedOneOf<abstract::key_named>({{16, gen::just(abstract::key_named::listed)},
                                                 {2, gen::just(abstract::key_named::unlisted)},
                                                 {1, gen::just(abstract::key_named::other_type)}}),
        gen::weightedOneOf<bool>({{9, gen::just(true)}, {1, gen::just(false)}}),
        gen::weightedOneOf<bool>({{19, gen::just(true)}, {1, gen::just(false)}}),
        optional_time(gen::weightedOneOf<long long>({{4, gen::inRange(now + 1, now + 3600)}, {2, near(now)}})),
        optional_time(near(now)), optional_time(near(now)),
        gen::weightedOneOf<std::string>({{3, gen::just(issuer)}, {1, gen::just(issuer + "/")}}),
        gen::weightedOneOf<std::vector<std::string>>({{5, gen::just(std::vector<std::string>{"gateway-a"})},
                                                      {3, gen::just(std::vector<std::string>{"other", "gateway-b"})},
                                                      {1, gen::just(std::vector<std::string>{"other"})},
                                                      {1, gen::just(std::vector<std::string>{})}}),
        gen::weightedOneOf<std::optional<std::string>>(
            {{8, gen::just(std::optional<std::string>("alice@example.com"))},
             {3, gen::just(std::optional<std::string>("bob@example.com"))},
             {2, gen::just(std::optional<std::string>(" Alice@Example.com\t"))},
             {1, gen::just(std::optional<std::string>("carol@example.com"))},
             {1, gen::just(std::optional<std::string>("   "))},
             {1, gen::just(std::optional<std::string>(std::string(257, 'a')))},
             {1, gen::just(std::optional<std::string>("al\x01ice"))},
             {1, gen::just(std::optional<std::string>())}}));
}

rc::Gen<scenario> gen_scenario() {
    using namespace rc;
    return gen::exec([] {
        scenario s;
        auto& tp = s.config.trusted_proxy;
        s.config.trusted_proxies = {"10.0.0.0/8", "127.0.0.1"};
        tp.user_header = "x-pomerium-claim-email";
        tp.allow_loopback = *gen::arbitrary<bool>();
        if (*gen::arbitrary<bool>()) tp.loopback_user = "alice@example.com";
        if (*gen::weightedOneOf<bool>({{1, gen::just(true)}, {3, gen::just(false)}})) tp.required_headers = {"x-proxy-marker"};
        if (*gen::arbitrary<bool>()) tp.allow_users = {"alice@example.com", "bob@example.com"};
        tp.allow_users_case_insensitive = *gen::arbitrary<bool>();
        assertion_config a;
        if (*gen::arbitrary<bool>()) a.preset = "pomerium";
        else a.header = "X-Pomerium-JWT-Assertion";
        if (!a.preset || *gen::arbitrary<bool>()) a.algorithms = *gen::element(std::vector<std::string>{"ES256"}, std::vector<std::string>{"ES256", "RS256"});
        a.jwks_file = jwks_path();
        a.issuer = issuer;
        a.audience = {"gateway-a", "gateway-b"};
        a.leeway_seconds = *gen::element(0LL, 60LL, 300LL);
        tp.assertion = a;

        s.context.now = now;
        const auto peer = *gen::element(std::string("10.1.2.3"), std::string("198.51.100.7"), std::string("127.0.0.1"));
        s.request = basic_request(*net::address::parse(peer));
        const bool proxied = peer != "127.0.0.1" || *gen::arbitrary<bool>();
        s.request.add("Host", proxied ? "gateway.example.com" : "127.0.0.1:18789");
        if (proxied) s.request.add("X-Forwarded-For", "203.0.113.9");
        if (*gen::weightedOneOf<bool>({{4, gen::just(true)}, {1, gen::just(false)}})) s.request.add("X-Proxy-Marker", "1");
        const int lines = *gen::weightedOneOf<int>({{1, gen::just(0)}, {12, gen::just(1)}, {1, gen::just(2)}});
        for (int i = 0; i < lines; ++i) {
            if (*gen::weightedOneOf<bool>({{1, gen::just(true)}, {12, gen::just(false)}})) {
                s.request.add(*gen::element(std::string("x-pomerium-jwt-assertion"), std::string("X-Pomerium-Jwt-Assertion")), " ");
                continue;
            }
            const auto a_token = *gen_abstract(a.leeway_seconds);
            const auto text = realize(a_token);
            s.context.tokens.emplace_back(text, a_token);
            s.request.add(*gen::element(std::string("x-pomerium-jwt-assertion"), std::string("X-POMERIUM-JWT-ASSERTION")), text);
        }
        const int user = *gen::inRange(0, 7);
        const std::string users[] = {"alice@example.com", " alice@example.com ", "ALICE@example.com", "bob@example.com",
                                     "alice@example.com,bob@example.com", ""};
        if (user < 6) s.request.add("X-Pomerium-Claim-Email", users[user]);
        if (user == 0 && *gen::weightedOneOf<bool>({{1, gen::just(true)}, {5, gen::just(false)}}))
            s.request.add("X-Pomerium-Claim-Email", users[0]);
        return s;
    });
}

using gateway_t = assertion::trusted_proxy_assertion_gateway;

// The configured gateway, with the test's clock put in.
gateway_t build(const auth_config& c) {
    const auto built = gateway_t::from_config(c);
    const auto& p = built.get<assertion::proxy_assertion>();
    return gateway_t(built.get<trusted_source>(), built.get<loopback_policy>(), built.get<required_headers>(),
                     assertion::proxy_assertion(std::string(p.header()), p.verifier(), fake_clock),
                     built.get<proxy_identity>(), built.get<allow_users>(), built.get<scopes<>>());
}

model::steps assertion_steps() {
    model::steps s;
    s.assertion = true;
    return s;
}

// The library's decision is copied while its gateway lives: identities such as
// loopbackUser point into the gateway.
struct compared {
    decision::owned_decision library;
    model::outcome expected;
};

compared decide(const scenario& s) {
    const auto gw = build(s.config);
    const auto d = gw.authenticate(s.request);
    const auto o = model::authenticate(assertion_steps(), s.config, s.request, {}, &s.context);
    return {d.owned(), o};
}

void check_agreement(const compared& c) {
    RC_ASSERT(c.library.allowed == c.expected.allowed);
    RC_ASSERT(to_string(c.library.why) == to_string(c.expected.why));
    RC_ASSERT(c.library.how == c.expected.how);
    if (c.library.allowed) RC_ASSERT(std::string(c.library.identity) == c.expected.identity);
}

// behaviour §8.10, read straight from the scenario (not through the model): a trusted-proxy
// allow means exactly one assertion, verifying under a listed key, with the issuer, an
// audience, a live window and the decision's identity as its claim.
void invariant_10(const scenario& s, const decision& d) {
    if (d.how != via::trusted_proxy) return;
    const auto& a = *s.config.trusted_proxy.assertion;
    std::vector<std::string> values;
    for (const auto& h : s.request.headers())
        if (model::same_ignoring_case(h.name, header)) values.push_back(h.value);
    RC_ASSERT(values.size() == 1u);
    const abstract* token = nullptr;
    for (const auto& [text, t] : s.context.tokens)
        if (text == values.front()) token = &t;
    RC_ASSERT(token != nullptr);
    RC_ASSERT(token->well_formed && token->key == abstract::key_named::listed && token->signature_valid && !token->crit);
    RC_ASSERT(token->iss == *a.issuer);
    bool audience = false;
    for (const auto& x : token->aud)
        for (const auto& y : a.audience) audience = audience || x == y;
    RC_ASSERT(audience);
    RC_ASSERT(token->exp && *token->exp + a.leeway_seconds > now);
    RC_ASSERT(token->identity && std::string(model::trim(*token->identity)) == std::string(d.identity));
}

}  // namespace

TEST_CASE("behaviour §8.9 with §10: the library, on real signed tokens, agrees with the model", "[differential]") {
    std::map<std::string, int> seen;
    // Enough cases that the rarest reason (a token valid in every way but its issuer) is reached.
    auto params = rc::detail::configuration().testParams;
    params.maxSuccess = std::max(params.maxSuccess, 1000);
    rc::detail::TestMetadata metadata;
    metadata.id = metadata.description = "assertion gateway agrees with the reference model";
    const auto outcome = rc::detail::checkTestable(
        [&] {
            const auto s = *gen_scenario();
            const auto c = decide(s);
            check_agreement(c);
            ++seen[std::string(to_string(c.library.why))];
        },
        metadata, params);
    rc::detail::printResultMessage(outcome, std::cerr);
    REQUIRE(outcome.template is<rc::detail::SuccessResult>());
    for (const auto r : all_reasons) {
        const auto name = std::string(to_string(r));
        if (!name.starts_with("trusted_proxy_assertion_") && r != reason::trusted_proxy_user_mismatch && r != reason::ok) continue;
        INFO("reason " << name);
        CHECK(seen[name] > 0);
    }
}

TEST_CASE("behaviour §8.10: a trusted-proxy allow carried exactly one verified, live assertion naming the identity", "[invariants]") {
    REQUIRE(rc::check("behaviour §8.10", [] {
        const auto s = *gen_scenario();
        const auto gw = build(s.config);
        invariant_10(s, gw.authenticate(s.request));
    }));
}

TEST_CASE("behaviour §10 exhaustively: every failure class x user header x assertion lines x peer", "[exhaustive]") {
    scenario base;
    auto& tp = base.config.trusted_proxy;
    base.config.trusted_proxies = {"10.0.0.0/8", "127.0.0.1"};
    tp.user_header = "x-pomerium-claim-email";
    tp.allow_users = {"alice@example.com"};
    tp.loopback_user = "alice@example.com";
    assertion_config a;
    a.preset = "pomerium";
    a.jwks_file = jwks_path();
    a.issuer = issuer;
    a.audience = {"gateway-a"};
    tp.assertion = a;
    const auto gw = build(base.config);
    const abstract valid{true, "ES256", false, abstract::key_named::listed, true, true, now + 300, now - 5, now - 5,
                         issuer, {"gateway-a"}, "alice@example.com"};
    std::vector<abstract> classes(17, valid);
    classes[1].well_formed = false;
    classes[2].alg = "RS256";
    classes[3].crit = true;
    classes[4].key = abstract::key_named::other_type;
    classes[5].key = abstract::key_named::unlisted;
    classes[6].signature_valid = false;
    classes[7].times_numeric = false;
    classes[8].exp.reset();
    classes[9].exp = now - 60;
    classes[10].nbf = now + 61;
    classes[11].iat = now + 61;
    classes[12].iss = "https://other.example.com";
    classes[13].aud = {"gateway-b"};
    classes[14].identity.reset();
    classes[15].identity = std::string(257, 'x');
    classes[16].identity = "bob@example.com";
    const char* peers[] = {"10.1.2.3", "198.51.100.7", "127.0.0.1"};
    const std::optional<std::string> users[] = {std::nullopt, "alice@example.com", "bob@example.com", "a,b", ""};
    int compared_cases = 0;
    for (const auto& token : classes) {
        const auto text = realize(token);
        for (const auto* peer : peers)
            for (const auto& user : users)
                for (int lines = 0; lines <= 2; ++lines) {
                    scenario s = base;
                    s.context = {{{text, token}}, now};
                    s.request = basic_request(*net::address::parse(peer));
                    const bool local = std::string(peer) == "127.0.0.1" && lines == 0;
                    s.request.add("Host", local ? "localhost" : "gateway.example.com");
                    if (!local) s.request.add("X-Forwarded-For", "203.0.113.9");
                    for (int i = 0; i < lines; ++i) s.request.add(header, text);
                    if (user) s.request.add("X-Pomerium-Claim-Email", *user);
                    const auto d = gw.authenticate(s.request);
                    const auto o = model::authenticate(assertion_steps(), s.config, s.request, {}, &s.context);
                    INFO("class " << (&token - classes.data()) << " peer " << peer << " user " << user.value_or("(none)") << " lines " << lines);
                    REQUIRE(to_string(d.why) == to_string(o.why));
                    REQUIRE(d.allowed == o.allowed);
                    if (d.allowed) REQUIRE(std::string(d.identity) == o.identity);
                    ++compared_cases;
                }
    }
    CHECK(compared_cases == 17 * 3 * 5 * 3);
}
