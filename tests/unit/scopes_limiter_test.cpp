// behaviour §5 (scopes), §6 (the failed-attempt limiter on its own) and what token checks do
// with a store that cannot answer (§12), and the Redis store's URL (§12).
#include <support/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <trustgate/attempt_limiter.hpp>
#include <trustgate/policy/scopes.hpp>
#include <trustgate/presets.hpp>
#include <trustgate/redis/options.hpp>

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
    // behaviour §5: a requested scope that the grant implies is held, so an admin-only grant
    // narrowed to read holds read, and a write grant narrowed to talk holds talk.
    CHECK(scopes<>().granted(admin, with({"operator.read"})) == openclaw_scopes::bit(openclaw_scopes::read));
    scopes_config writers;
    writers.default_scopes = {"operator.write"};
    CHECK(scopes<>(writers).granted(reader, with({"operator.talk, operator.admin"})) ==
          openclaw_scopes::bit(openclaw_scopes::talk));
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

TEST_CASE("limiter: an IPv6 client is its /64 (ipv6PrefixLength)") {
    rate_limit_config cfg;
    cfg.max_attempts = 3;
    auto now = attempt_limiter::time_point{} + 1h;
    attempt_limiter limiter(cfg, [&] { return now; });
    // Three addresses of one /64 share its guesses; the next /64 and IPv4 do not.
    CHECK_FALSE(limiter.record_failure(*net::address::parse("2001:db8:1:2::1")));
    CHECK_FALSE(limiter.record_failure(*net::address::parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));
    CHECK(limiter.record_failure(*net::address::parse("2001:db8:1:2:abcd::9")) == 300s);
    CHECK(limiter.locked(*net::address::parse("2001:db8:1:2::77")) == 300s);
    CHECK_FALSE(limiter.locked(*net::address::parse("2001:db8:1:3::1")));
    CHECK_FALSE(limiter.locked(*net::address::parse("2001:db8:1:1:ffff:ffff:ffff:ffff")));
    CHECK(limiter.key_of(*net::address::parse("2001:db8:1:2:abcd::9")) == *net::address::parse("2001:db8:1:2::"));
    CHECK(limiter.key_of(*net::address::parse("10.1.2.3")) == *net::address::parse("10.1.2.3"));
    // A success from anywhere in the /64 clears it.
    limiter.record_success(*net::address::parse("2001:db8:1:2::5"));
    CHECK_FALSE(limiter.locked(*net::address::parse("2001:db8:1:2::1")));

    cfg.ipv6_prefix_length = 128;
    attempt_limiter per_address(cfg, [&] { return now; });
    for (int i = 1; i <= 3; ++i) CHECK_FALSE(per_address.record_failure(net::address::from_v6_bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, std::uint8_t(i)})));
    cfg.ipv6_prefix_length = 60;
    attempt_limiter shorter(cfg, [&] { return now; });
    CHECK(shorter.key_of(*net::address::parse("2001:db8:1:2f::1")) == *net::address::parse("2001:db8:1:20::"));
}

TEST_CASE("limiter: the global ceiling locks every non-exempt key (globalMaxAttempts)") {
    rate_limit_config cfg;
    cfg.max_attempts = 10;
    cfg.window = 10s;
    cfg.lockout = 60s;
    cfg.global_max_attempts = 4;
    auto now = attempt_limiter::time_point{} + 1h;
    attempt_limiter limiter(cfg, [&] { return now; });
    const auto client = [](int i) { return net::address::from_v4_uint(0xcb007100u + std::uint32_t(i)); };
    CHECK_FALSE(limiter.record_failure(client(1)));
    now += 5s;
    CHECK_FALSE(limiter.record_failure(client(2)));
    CHECK_FALSE(limiter.record_failure(client(3)));
    now += 6s;  // the first failure slid out of the window: three are counted after the next
    CHECK_FALSE(limiter.record_failure(client(4)));
    CHECK(limiter.record_failure(client(5)) == 60s);
    // Every key is locked, also one that never failed; loopback stays exempt.
    CHECK(limiter.locked(client(99)) == 60s);
    CHECK(limiter.locked(*net::address::parse("2001:db8::1")) == 60s);
    CHECK_FALSE(limiter.locked(*net::address::parse("127.0.0.1")));
    // Successes do not lift it, failures meanwhile are not counted.
    limiter.record_success(client(99));
    now += 30s;
    CHECK(limiter.record_failure(client(6)) == 30s);
    CHECK(limiter.locked(client(99)) == 30s);
    now += 30s;
    CHECK_FALSE(limiter.locked(client(99)));
    CHECK_FALSE(limiter.record_failure(client(7)));
    // A key's own lockout outlasting the global one is what is reported.
    cfg.max_attempts = 1;
    cfg.global_max_attempts = 0;
    attempt_limiter off(cfg, [&] { return now; });
    CHECK(off.record_failure(client(1)) == 60s);
    CHECK_FALSE(off.locked(client(2)));
}

TEST_CASE("limiter: settings outside its bounds are configuration errors naming the path") {
    const auto expect_error = [](rate_limit_config cfg, const std::string& path, const std::string& fragment) {
        try {
            attempt_limiter limiter(cfg);
            FAIL("no config_error for " << path);
        } catch (const config_error& e) {
            CHECK(e.path() == path);
            CHECK_THAT(e.expected(), Catch::Matchers::Contains(fragment));
        }
    };
    rate_limit_config cfg;
    cfg.max_attempts = 0;
    expect_error(cfg, "gateway.auth.rateLimit.maxAttempts", "from 1 to 1000, got 0");
    cfg = {};
    cfg.max_keys = 3;
    expect_error(cfg, "gateway.auth.rateLimit.maxKeys", "from 4 to 1048576");
    cfg = {};
    cfg.max_keys = 1u << 20;
    cfg.max_attempts = 17;
    expect_error(cfg, "gateway.auth.rateLimit.maxKeys", "maxKeys × maxAttempts");
    cfg = {};
    cfg.window = 0ms;
    expect_error(cfg, "gateway.auth.rateLimit.windowMs", "from 1");
    cfg = {};
    cfg.lockout = -5ms;
    expect_error(cfg, "gateway.auth.rateLimit.lockoutMs", "from 1");
    for (const unsigned bad : {0u, 31u, 129u}) {
        cfg = {};
        cfg.ipv6_prefix_length = bad;
        expect_error(cfg, "gateway.auth.rateLimit.ipv6PrefixLength", "from 32 to 128, got " + std::to_string(bad));
    }
    cfg = {};
    cfg.global_max_attempts = 100'001;
    expect_error(cfg, "gateway.auth.rateLimit.globalMaxAttempts", "from 1 to 100000");
    cfg = {};
    cfg.ipv6_prefix_length = 32;
    cfg.global_max_attempts = 1;
    CHECK_NOTHROW(attempt_limiter(cfg));
}

namespace {

// A shared store that is down: what trustgate::redis::store answers with on_error deny.
struct unavailable_store final : attempt_store {
    attempt_verdict attempt(const net::address&, bool) override { return {attempt_verdict::status::unavailable}; }
};

}  // namespace

TEST_CASE("a store that cannot answer refuses token attempts as rate_limited, store_unavailable, no retry") {
    auth_config c;
    c.mode = auth_mode::token;
    c.token = "0123456789abcdef0123456789abcdef";
    unavailable_store store;
    const auto gw = token_gateway::from_config(c, &store);
    for (const char* presented : {"Bearer 0123456789abcdef0123456789abcdef", "Bearer wrong"}) {
        basic_request r(*net::address::parse("203.0.113.4"));
        r.add("Authorization", presented);
        const auto d = gw.authenticate(r);
        CHECK(d.why == reason::rate_limited);
        CHECK(d.detail == token_auth::store_unavailable);
        CHECK(d.retry_after == 0s);
    }
    basic_request no_token(*net::address::parse("203.0.113.4"));
    CHECK(gw.authenticate(no_token).why == reason::token_missing);  // never asks the store
}

TEST_CASE("attempt_limiter as a store: a locked key refuses even the right token, and is not counted") {
    rate_limit_config cfg;
    cfg.max_attempts = 2;
    attempt_limiter limiter(cfg);
    const auto key = *net::address::parse("198.51.100.3");
    CHECK(limiter.attempt(key, false).what == attempt_verdict::status::open);
    CHECK(limiter.attempt(key, true).what == attempt_verdict::status::open);  // clears
    CHECK(limiter.attempt(key, false).what == attempt_verdict::status::open);
    CHECK(limiter.attempt(key, false).what == attempt_verdict::status::open);  // the second failure locks
    const auto locked = limiter.attempt(key, true);
    CHECK(locked.what == attempt_verdict::status::locked);
    CHECK(locked.retry_after == 300s);
}

TEST_CASE("redis://HOST[:PORT][/DB], without credentials") {
    const auto full = redis::parse_url("redis://10.0.0.5:6380/2");
    REQUIRE(full);
    CHECK(full->host == "10.0.0.5");
    CHECK(full->port == 6380);
    CHECK(full->database == 2);
    const auto plain_host = redis::parse_url("redis://cache.internal");
    REQUIRE(plain_host);
    CHECK(plain_host->host == "cache.internal");
    CHECK(plain_host->port == 6379);
    CHECK(plain_host->database == 0);
    const auto v6 = redis::parse_url("redis://[::1]:7000/");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    for (const char* bad : {"rediss://127.0.0.1", "http://127.0.0.1", "redis://:pw@127.0.0.1", "redis://u:pw@127.0.0.1",
                            "redis://127.0.0.1/01", "redis://127.0.0.1/x", "redis://127.0.0.1/1000001", "redis://127.1",
                            "redis://127.0.0.1:0", "redis://", "redis://127.0.0.1/2?x"})
        CHECK_FALSE(redis::parse_url(bad));
}
