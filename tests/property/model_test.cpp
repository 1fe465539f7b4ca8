// behaviour §8.9: the library agrees with the reference model (models/), sampled by the
// shipped generators and enumerated over an abstract domain.
#include <support/catch.hpp>

#include <array>
#include <cstddef>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <trustgate/model/reference_model.hpp>
#include <trustgate/testing/checks.hpp>
#include <trustgate/trustgate.hpp>

#include "support/property_suite.hpp"

using namespace trustgate;
using trustgate_tests::require_passed;
using trustgate_tests::suite_options;

namespace {

// Runs the model check for `Gateway`, counting the reasons the gateway gave.
template <class Gateway>
std::map<reason, int> reasons_from_model_check(int cases) {
    std::map<reason, int> seen;
    auto options = suite_options(cases, true);
    options.on_reason = [&seen](reason r) { ++seen[r]; };
    require_passed(testing::check_against_model<Gateway>(options));
    return seen;
}

// Every reason of `Gateway`'s list must be in `seen`.
template <class Gateway>
void check_every_reason_reached(const std::map<reason, int>& seen) {
    std::cout << "reasons over every exchange (missing_scope: some method refused):\n";
    for (const auto& [r, count] : seen) std::cout << "  " << count << " " << to_string(r) << "\n";
    for (const auto& r : Gateway::reasons) {
        // proxy_identity compares the user header with a signed assertion's identity only when
        // an assertion policy runs first: the assertion differential test reaches it.
        if (r == reason::trusted_proxy_user_mismatch) continue;
        INFO("reason " << to_string(r) << " reached " << (seen.count(r) ? seen.at(r) : 0) << " times");
        CHECK(seen.count(r) == 1);
    }
}

}  // namespace

TEST_CASE("the full trusted-proxy gateway agrees with the model, reaching every reason", "[differential]") {
    check_every_reason_reached<trusted_proxy_gateway>(reasons_from_model_check<trusted_proxy_gateway>(10'000));
}

// behaviour §11: the certificate outcome (none, a verified name inside allowedNames, outside
// it) is a model input, and the library agrees on reason and identity.
TEST_CASE("the certificate-checking gateway agrees with the model, reaching every reason", "[differential]") {
    check_every_reason_reached<trusted_proxy_certificate_gateway>(
        reasons_from_model_check<trusted_proxy_certificate_gateway>(10'000));
}

TEST_CASE("token and none mode gateways agree with the model", "[differential]") {
    const auto token = reasons_from_model_check<token_gateway>(2'000);
    for (const auto r : {reason::ok, reason::token_missing, reason::token_mismatch, reason::rate_limited, reason::missing_scope}) {
        INFO("token mode, reason " << to_string(r));
        CHECK(token.count(r) == 1);
    }
    const auto open = reasons_from_model_check<open_gateway>(1'000);
    CHECK(open.count(reason::ok) == 1);
    CHECK(open.count(reason::missing_scope) == 1);
}

TEST_CASE("compositions without some policies agree with the model", "[differential]") {
    using no_loopback = gateway<trusted_source, required_headers, proxy_identity, allow_users, scopes<>>;
    using bare_proxy = gateway<trusted_source, proxy_identity>;
    using local_tools_only = gateway<trusted_source, loopback_policy, proxy_identity, scopes<>>;
    using token_behind_proxy = gateway<trusted_source, bearer_token, allow_users>;
    using local_tools_and_tokens = gateway<trusted_source, loopback_policy, bearer_token, scopes<>>;
    CHECK(reasons_from_model_check<no_loopback>(2'000).count(reason::trusted_proxy_loopback_source) == 0);
    CHECK(reasons_from_model_check<bare_proxy>(1'000).count(reason::trusted_proxy_missing_header) == 0);
    CHECK(reasons_from_model_check<local_tools_only>(1'000).count(reason::trusted_proxy_loopback_source) == 1);
    CHECK(reasons_from_model_check<token_behind_proxy>(1'000).count(reason::trusted_proxy_untrusted_source) == 1);
    CHECK(reasons_from_model_check<local_tools_and_tokens>(1'000).count(reason::token_mismatch) == 1);
}

// behaviour §2, below the decisions: address text and trustedProxies entries.
namespace {

// Canonical and nearly canonical address text: generated x-forwarded-for entries, with
// a character inserted, deleted or replaced now and then, and an optional /prefix.
rc::Gen<std::string> address_like_text() {
    return rc::gen::exec([] {
        auth_config config;
        config.trusted_proxies = {"10.0.0.0/8", "2001:db8::/32", "127.0.0.1"};
        auto text = *testing::gen::forwarded_for_entry(config);
        const std::string alphabet = "0123456789abcdefABCDEF:.[]/% x";
        if (testing::detail::chance(1, 3)) {
            const auto at = *rc::gen::resize(100, rc::gen::inRange<std::size_t>(0, text.size() + 1));
            const char c = alphabet[testing::detail::pick(alphabet.size())];
            switch (testing::detail::pick(3)) {
                case 0: text.insert(text.begin() + std::ptrdiff_t(at), c); break;
                case 1: if (at < text.size()) text.erase(at, 1); break;
                default: if (at < text.size()) text[at] = c; break;
            }
        }
        return text;
    });
}

testing::property same_address_parse() {
    return {"behaviour §2: model and library parse address text alike", [] {
                const auto text = *address_like_text();
                const auto library = net::address::parse(text);
                const auto expected = model::parse_address(text);
                RC_ASSERT(library.has_value() == expected.has_value());
                if (library) RC_ASSERT(library->bytes() == *expected);
            }};
}

testing::property same_block_parse() {
    return {"behaviour §2: model and library accept the same trustedProxies entries", [] {
                const auto text = *address_like_text() + testing::detail::one_of<std::string>(
                                  {"", "/0", "/8", "/24", "/32", "/33", "/64", "/96", "/128", "/129", "/08", "/", "/-1"});
                const auto library = net::cidr::parse(text);
                const auto expected = model::parse_block(text);
                RC_ASSERT(library.has_value() == expected.has_value());
                // behaviour §1: an IPv6 entry inside ::ffff:0:0/96 parses, but is refused at start-up.
                if (!library || model::ipv6_entry_inside_mapped_space(text)) {
                    auth_config config;
                    config.trusted_proxies = {"127.0.0.1", text};
                    try {
                        (void)trusted_proxy_gateway::from_config(config);
                        RC_FAIL("an invalid entry was accepted at start-up");
                    } catch (const config_error& e) {
                        RC_ASSERT(e.path() == "gateway.trustedProxies[1]");
                        RC_ASSERT(e.expected().find(text) != std::string::npos);
                        if (library) RC_ASSERT(e.expected().find("expected the IPv4 form") != std::string::npos);
                    }
                    return;
                }
                RC_ASSERT(library->base().bytes() == expected->base);
                RC_ASSERT(int(library->normalised_length()) == expected->bits);
            }};
}

}  // namespace

TEST_CASE("addresses and trustedProxies entries parse as the model parses them", "[differential]") {
    require_passed(testing::run_properties({same_address_parse(), same_block_parse()}, suite_options(10'000)));
}

// Every combination of an abstract domain, compared (not sampled): peer kind x local
// proof x each header absent / present / duplicated (and the variants that matter) x
// config flags.
namespace {

using lines = std::vector<basic_request::header>;

struct choice {
    const char* label;
    lines headers;
};

const std::vector<choice> user_choices = {
    {"no user", {}},
    {"user alice", {{"x-forwarded-user", "alice@example.com"}}},
    {"user Alice", {{"x-forwarded-user", "Alice@Example.com"}}},
    {"user mallory", {{"x-forwarded-user", "mallory@example.com"}}},
    {"blank user", {{"x-forwarded-user", " "}}},
    {"two users in one line", {{"x-forwarded-user", "alice@example.com,mallory@example.com"}}},
    {"user twice", {{"x-forwarded-user", "alice@example.com"}, {"X-Forwarded-User", "alice@example.com"}}},
};
const std::vector<choice> secret_choices = {
    {"no secret", {}},
    {"secret", {{"x-proxy-secret", "s"}}},
    {"blank secret", {{"X-Proxy-Secret", " "}}},
    {"secret twice", {{"x-proxy-secret", ""}, {"x-proxy-secret", "s"}}},
};
const std::vector<choice> forwarded_choices = {
    {"no x-forwarded-for", {}},
    {"x-forwarded-for", {{"x-forwarded-for", "203.0.113.50"}}},
    {"x-forwarded-for twice", {{"x-forwarded-for", "203.0.113.50"}, {"x-forwarded-for", "10.1.2.3"}}},
};
const std::vector<choice> host_choices = {
    {"no host", {}},
    {"local host", {{"host", "localhost:18789"}}},
    {"remote host", {{"host", "gateway.example.com"}}},
    {"host twice", {{"host", "localhost"}, {"host", "localhost"}}},
};
const std::vector<choice> origin_choices = {
    {"no origin", {}},
    {"local origin", {{"origin", "http://127.0.0.1:18789"}}},
    {"remote origin", {{"origin", "https://evil.example"}}},
    {"origin twice", {{"origin", "http://localhost"}, {"origin", "http://localhost"}}},
};
const std::vector<choice> authorization_choices = {
    {"no token", {}},
    {"right token", {{"authorization", "Bearer right-token"}}},
    {"wrong token", {{"authorization", "Bearer wrong-token"}}},
    {"token twice", {{"authorization", "Bearer right-token"}, {"authorization", "Bearer right-token"}}},
};
// Untrusted remote, trusted remote, trusted loopback (IPv4, IPv6), untrusted loopback.
const std::array<const char*, 5> peer_choices = {"203.0.113.9", "10.1.2.3", "127.0.0.1", "::1", "127.0.0.2"};

// behaviour §1 local process proof: none, a failed lookup, the user this test runs as (the
// default localUsers), another user. Only loopback peers are looked up, so a remote peer
// comes with none (the sampled properties also hand remote peers the others).
const std::uint32_t own_uid = std::uint32_t(geteuid());
const std::array<local_proof, 4> proof_choices = {local_proof{}, local_proof::failure(), local_proof::of(own_uid),
                                                  local_proof::of(own_uid == 4242 ? 4243 : 4242)};

std::vector<std::pair<const char*, local_proof>> peers_and_proofs() {
    std::vector<std::pair<const char*, local_proof>> out;
    for (const auto* peer : peer_choices)
        for (const auto proof : proof_choices)
            if (proof == local_proof{} || net::address::parse(peer)->is_loopback()) out.emplace_back(peer, proof);
    return out;
}

// allowLoopback, loopbackUser, token, allowUsers, requiredHeaders, allowUsersCaseInsensitive
constexpr int config_flags = 6;
constexpr int token_flag = 4;

auth_config abstract_config(int flags) {
    auth_config c;
    c.trusted_proxies = {"127.0.0.1", "::1", "10.0.0.0/8"};
    auto& tp = c.trusted_proxy;
    tp.allow_loopback = flags & 1;
    if (flags & 2) tp.loopback_user = "operator@localhost";
    if (flags & token_flag) c.token = "right-token";
    if (flags & 8) tp.allow_users = {"alice@example.com", "operator@localhost"};
    if (flags & 16) tp.required_headers = {"x-proxy-secret"};
    tp.allow_users_case_insensitive = flags & 32;
    return c;
}

// Compares every combination for `Gateway` (token mode: those with a token); returns
// how many, failing on the first few disagreements.
template <class Gateway>
std::size_t compare_every_combination() {
    const auto steps = testing::detail::steps_of<Gateway>();
    std::size_t compared = 0;
    int disagreements = 0;
    for (int flags = 0; flags < (1 << config_flags); ++flags) {
        if (steps.identity == model::steps::identity_from::bearer_token && !(flags & token_flag)) continue;
        const auto config = abstract_config(flags);
        const auto gw = Gateway::from_config(config);
        for (const auto& [peer, proof] : peers_and_proofs())
            for (const auto& user : user_choices)
                for (const auto& secret : secret_choices)
                    for (const auto& forwarded : forwarded_choices)
                        for (const auto& host : host_choices)
                            for (const auto& origin : origin_choices)
                                for (const auto& token : authorization_choices) {
                                    basic_request r(*net::address::parse(peer));
                                    r.set_local_proof(proof);
                                    for (const auto* c : {&user, &secret, &forwarded, &host, &origin, &token})
                                        for (const auto& h : c->headers) r.add(h.name, h.value);
                                    const auto d = gw.authenticate(r);
                                    const auto diff = testing::detail::difference(d, model::authenticate(steps, config, r));
                                    ++compared;
                                    if (diff.empty() || ++disagreements > 5) continue;
                                    FAIL_CHECK("config flags " << flags << ", peer " << peer << ", proof "
                                                               << int(proof.result) << " " << proof.uid << ", " << user.label << ", " << secret.label
                                                               << ", " << forwarded.label << ", " << host.label << ", " << origin.label
                                                               << ", " << token.label << "\n" << diff);
                                }
    }
    CHECK(disagreements == 0);
    return compared;
}

const std::size_t every_combination = (std::size_t{1} << config_flags) * peers_and_proofs().size() * user_choices.size() *
                                       secret_choices.size() * forwarded_choices.size() * host_choices.size() *
                                       origin_choices.size() * authorization_choices.size();

}  // namespace

TEST_CASE("every combination of the abstract domain agrees with the model", "[exhaustive]") {
    using no_loopback = gateway<trusted_source, required_headers, proxy_identity, allow_users, scopes<>>;
    CHECK(compare_every_combination<trusted_proxy_gateway>() == every_combination);
    CHECK(compare_every_combination<no_loopback>() == every_combination);
    CHECK(compare_every_combination<token_gateway>() == every_combination / 2);
}
