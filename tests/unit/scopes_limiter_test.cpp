// SPEC §5 (scopes) and §6 (the failed-attempt limiter on its own).
#include <support/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <trustgate/attempt_limiter.hpp>
#include <trustgate/policy/scopes.hpp>

using namespace trustgate;
using namespace std::chrono_literals;

namespace {

basic_request plain() { return basic_request(*net::address::parse("10.0.0.1")); }

decision allowed_as(via how, std::string_view identity) { return decision::allow(how, identity, "test"); }

}  // namespace

TEST_CASE("the OpenClaw implication rule") {
    const scopes<> s;
    auto may = [&](std::vector<std::string> grant, const char* method) {
        scopes_config c;
        c.default_scopes = std::move(grant);
        return scopes<>(c).authorize(allowed_as(via::trusted_proxy, "u"), method, plain()).allowed;
    };
    CHECK(may({"operator.admin"}, "config.set"));
    CHECK(may({"operator.admin"}, "approvals.resolve"));
    CHECK(may({"operator.admin"}, "no.such.method"));
    CHECK(may({"operator.write"}, "chat.send"));
    CHECK(may({"operator.write"}, "status"));     // write implies read
    CHECK_FALSE(may({"operator.write"}, "approvals.resolve"));
    CHECK_FALSE(may({"operator.write"}, "config.set"));
    CHECK(may({"operator.read"}, "health"));
    CHECK_FALSE(may({"operator.read"}, "chat.send"));
    CHECK_FALSE(may({"operator.read"}, "unknown.method"));  // default deny: admin
    CHECK(may({"operator.approvals"}, "approvals.resolve"));
    CHECK_FALSE(may({"operator.approvals"}, "status"));
    CHECK_FALSE(may({}, "health"));
    CHECK(openclaw_scopes::satisfied_by(openclaw_scopes::talk) ==
          (openclaw_scopes::bit(openclaw_scopes::talk) | openclaw_scopes::bit(openclaw_scopes::write) |
           openclaw_scopes::bit(openclaw_scopes::admin)));
    CHECK(openclaw_scopes::satisfied_by(openclaw_scopes::talk_secrets) ==
          (openclaw_scopes::bit(openclaw_scopes::talk_secrets) | openclaw_scopes::bit(openclaw_scopes::admin)));
    CHECK(s.authorize(allowed_as(via::trusted_proxy, "u"), "chat.send", plain()).required_scope == "operator.write");
}

TEST_CASE("grants: token, identity (case-insensitive key), default; deny grants nothing") {
    scopes_config c;
    c.identity_scopes = {{"Alice@Example.com", {"operator.write", "operator.approvals"}}};
    c.methods = {{"status", "operator.admin"}, {"custom.thing", "operator.talk"}};
    const scopes<> s(c);
    const auto names = [](scope_mask m) {
        std::string out;
        for (auto n : scopes<>::names_of(m)) out += std::string(n) + " ";
        return out;
    };
    CHECK(names(s.granted(allowed_as(via::trusted_proxy, "alice@example.COM"), plain())) ==
          "operator.write operator.approvals ");
    CHECK(names(s.granted(allowed_as(via::trusted_proxy, "bob"), plain())) == "operator.read ");
    CHECK(names(s.granted(allowed_as(via::token, "operator@localhost"), plain())) == "operator.admin ");
    CHECK(s.granted(decision::deny(reason::token_missing, "test"), plain()) == 0);
    // Configured methods override the built-in table.
    CHECK_FALSE(s.authorize(allowed_as(via::trusted_proxy, "bob"), "status", plain()).allowed);
    CHECK(s.authorize(allowed_as(via::trusted_proxy, "alice@example.com"), "custom.thing", plain()).allowed);
    CHECK(s.authorize(allowed_as(via::trusted_proxy, "bob"), "health", plain()).allowed);
}

TEST_CASE("the scopes header narrows the grant and never widens it") {
    scopes_config c;
    c.token_scopes = {"operator.admin", "operator.read", "operator.write", "operator.talk"};
    const scopes<> s(c);
    const auto admin = allowed_as(via::token, "t");
    auto with = [](std::vector<const char*> lines) {
        auto r = plain();
        for (auto l : lines) r.add("X-OpenClaw-Scopes", l);
        return r;
    };
    CHECK(s.granted(admin, with({"operator.read"})) == openclaw_scopes::bit(openclaw_scopes::read));
    CHECK(s.granted(admin, with({" operator.read , operator.write "})) ==
          (openclaw_scopes::bit(openclaw_scopes::read) | openclaw_scopes::bit(openclaw_scopes::write)));
    CHECK(s.granted(admin, with({"operator.read", "operator.talk"})) ==
          (openclaw_scopes::bit(openclaw_scopes::read) | openclaw_scopes::bit(openclaw_scopes::talk)));
    CHECK(s.granted(admin, with({""})) == 0);
    CHECK(s.granted(admin, with({"bogus"})) == 0);
    const auto reader = allowed_as(via::trusted_proxy, "bob");
    CHECK(s.granted(reader, with({"operator.admin"})) == 0);
    CHECK_FALSE(s.authorize(admin, "config.set", with({"operator.read"})).allowed);
    // The intersection is literal (SPEC §5): asking an admin-only grant for read yields nothing.
    CHECK(scopes<>().granted(admin, with({"operator.read"})) == 0);
}

TEST_CASE("scope configuration errors name the path") {
    scopes_config c;
    c.identity_scopes = {{"alice", {"operator.read", "operator.root"}}};
    try {
        scopes<> s(c);
        FAIL("accepted an unknown scope");
    } catch (const config_error& e) {
        CHECK(e.path() == "gateway.auth.scopes.identityScopes.alice[1]");
    }
    scopes_config m;
    m.methods = {{"chat.send", "operator.everything"}};
    CHECK_THROWS_AS(scopes<>(m), config_error);
}

TEST_CASE("limiter: a sliding window, a lockout, a reset on success") {
    rate_limit_config cfg;
    cfg.max_attempts = 3;
    cfg.window = 10s;
    cfg.lockout = 60s;
    auto now = attempt_limiter::time_point{} + 1h;
    attempt_limiter limiter(cfg, [&] { return now; });
    const auto key = *net::address::parse("203.0.113.5");
    const auto other = *net::address::parse("203.0.113.6");

    CHECK_FALSE(limiter.record_failure(key));
    now += 6s;
    CHECK_FALSE(limiter.record_failure(key));
    now += 5s;  // the first failure slid out of the window
    CHECK_FALSE(limiter.record_failure(key));
    CHECK_FALSE(limiter.locked(key));
    now += 1s;
    CHECK(limiter.lockouts() == 0);
    CHECK(limiter.record_failure(key) == 60s);  // three within 10 s
    CHECK(limiter.lockouts() == 1);
    CHECK(limiter.record_failure(key) == 60s);  // already locked: no new lockout
    CHECK(limiter.lockouts() == 1);
    CHECK(limiter.locked(key) == 60s);
    CHECK_FALSE(limiter.locked(other));
    now += 59s + 1ms;
    CHECK(limiter.locked(key) == 1s);
    now += 1s;
    CHECK_FALSE(limiter.locked(key));

    CHECK_FALSE(limiter.record_failure(key));
    CHECK_FALSE(limiter.record_failure(key));
    limiter.record_success(key);
    CHECK_FALSE(limiter.record_failure(key));
    CHECK_FALSE(limiter.record_failure(key));
    CHECK(limiter.record_failure(key) == 60s);
}

TEST_CASE("limiter: loopback exemption follows exemptLoopback") {
    rate_limit_config cfg;
    cfg.max_attempts = 1;
    attempt_limiter exempt(cfg);
    CHECK_FALSE(exempt.record_failure(*net::address::parse("127.0.0.1")));
    CHECK_FALSE(exempt.locked(*net::address::parse("::1")));
    cfg.exempt_loopback = false;
    attempt_limiter strict(cfg);
    CHECK(strict.record_failure(*net::address::parse("::1")));
}

TEST_CASE("limiter: memory is bounded under a flood of distinct keys, locked keys survive it") {
    rate_limit_config cfg;
    cfg.max_attempts = 2;
    cfg.max_keys = 64;
    auto now = attempt_limiter::time_point{} + 1h;
    attempt_limiter limiter(cfg, [&] { return now; });
    const auto victim = *net::address::parse("198.51.100.77");
    limiter.record_failure(victim);
    REQUIRE(limiter.record_failure(victim));
    for (std::uint32_t i = 0; i < 100'000; ++i) {
        now += 1ms;
        limiter.record_failure(net::address::from_v4_uint(0x0a000000u + i));
    }
    CHECK(limiter.tracked() <= limiter.capacity());
    CHECK(limiter.capacity() == 64);
    CHECK(limiter.locked(victim));
}
