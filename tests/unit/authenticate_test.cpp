// behaviour §3 and §4, step by step: every reason code, the direct-local test, hostile input.
#include <support/catch.hpp>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <trustgate/attempt_limiter.hpp>
#include <trustgate/origin.hpp>
#include <trustgate/policy/proxy_certificate.hpp>
#include <trustgate/presets.hpp>

using namespace trustgate;

namespace {

net::address ip(const char* text) { return *net::address::parse(text); }

// A server's own request type that knows nothing of local proofs: a local tool's request.
struct view_without_proof {
    net::address peer() const noexcept { return *net::address::parse("127.0.0.1"); }
    template <class F>
    void for_each_header(F&&) const {}
};

// The user this test runs as: what the default localUsers admits.
std::uint32_t own_uid() { return std::uint32_t(geteuid()); }

// A loopback peer comes with the proof a server hands in for a tool run by the same user.
struct request_builder {
    basic_request request;
    explicit request_builder(const char* peer) : request(ip(peer)) {
        if (request.peer().is_loopback()) request.set_local_proof(local_proof::of(own_uid()));
    }
    request_builder& h(std::string name, std::string value) {
        request.add(std::move(name), std::move(value));
        return *this;
    }
    request_builder& proof(local_proof p) {
        request.set_local_proof(p);
        return *this;
    }
};

// An OpenClaw-like deployment: nginx on loopback and on 10.0.0.0/8, a CLI on the host.
auth_config base_config() {
    auth_config c;
    c.trusted_proxies = {"127.0.0.1", "::1", "10.0.0.0/8"};
    c.trusted_proxy.user_header = "x-forwarded-user";
    c.trusted_proxy.allow_users = {"alice@example.com", "bob@example.com", "operator@localhost"};
    c.trusted_proxy.allow_loopback = true;
    c.trusted_proxy.loopback_user = "operator@localhost";
    return c;
}

struct outcome {
    bool allowed;
    reason why;
    via how;
    std::string identity;
    std::string detail;
    std::string policy;
};

outcome run(const auth_config& c, const basic_request& r, attempt_limiter* limiter = nullptr) {
    const auto gw = trusted_proxy_gateway::from_config(c, limiter);
    const auto d = gw.authenticate(r);
    return {d.allowed, d.why, d.how, std::string(d.identity), std::string(d.detail), std::string(d.policy)};
}

void require_deny(const outcome& o, reason expected) {
    INFO("got " << to_string(o.why) << " from " << o.policy);
    REQUIRE_FALSE(o.allowed);
    REQUIRE(o.why == expected);
    REQUIRE(o.how == via::none);
    REQUIRE(o.identity.empty());
}

void require_allow(const outcome& o, via how, const std::string& identity) {
    INFO("got " << to_string(o.why) << " from " << o.policy);
    REQUIRE(o.allowed);
    REQUIRE(o.why == reason::ok);
    REQUIRE(o.how == how);
    REQUIRE(o.identity == identity);
}

// What nginx on the same host sends for an authenticated user.
request_builder proxied(const char* peer = "127.0.0.1", const char* user = "alice@example.com") {
    request_builder b(peer);
    b.h("Host", "gateway.example.com").h("X-Forwarded-For", "203.0.113.7").h("X-Forwarded-User", user);
    return b;
}

}  // namespace

TEST_CASE("step 1: an untrusted peer is denied whatever its headers") {
    auto c = base_config();
    require_deny(run(c, proxied("192.0.2.1").request), reason::trusted_proxy_untrusted_source);
    require_deny(run(c, proxied("11.0.0.1").request), reason::trusted_proxy_untrusted_source);
    require_deny(run(c, request_builder("::2").request), reason::trusted_proxy_untrusted_source);
    // 127.0.0.2 is loopback but not trusted: no loopbackUser for it.
    require_deny(run(c, request_builder("127.0.0.2").request), reason::trusted_proxy_untrusted_source);
    CHECK(run(c, proxied("192.0.2.1").request).policy == "trusted_source");
}

TEST_CASE("step 4.6: a trusted proxy's user is allowed with the trimmed identity") {
    auto c = base_config();
    require_allow(run(c, proxied("10.1.2.3").request), via::trusted_proxy, "alice@example.com");
    require_allow(run(c, proxied("::ffff:10.1.2.3").request), via::trusted_proxy, "alice@example.com");
    require_allow(run(c, proxied("10.1.2.3", " \tbob@example.com \t").request), via::trusted_proxy, "bob@example.com");
    CHECK(run(c, proxied("10.1.2.3").request).policy == "proxy_identity");
}

TEST_CASE("step 2: a loopback peer without allowLoopback") {
    auto c = base_config();
    c.trusted_proxy.allow_loopback = false;
    SECTION("a same-host proxy is refused") {
        require_deny(run(c, proxied().request), reason::trusted_proxy_loopback_source);
        require_deny(run(c, proxied("::1").request), reason::trusted_proxy_loopback_source);
    }
    SECTION("a direct-local request with no user header takes the fallback") {
        require_allow(run(c, request_builder("127.0.0.1").h("Host", "127.0.0.1:18789").request), via::loopback_user,
                      "operator@localhost");
    }
    SECTION("a direct-local request carrying a user header is refused") {
        auto b = request_builder("127.0.0.1");
        c.trusted_proxy.user_header = "x-auth-request-email";
        b.h("X-Auth-Request-Email", "alice@example.com");
        require_deny(run(c, b.request), reason::trusted_proxy_loopback_source);
    }
    SECTION("with neither loopbackUser nor token the fallback denies as a loopback source (5.4)") {
        c.trusted_proxy.loopback_user.reset();
        require_deny(run(c, request_builder("127.0.0.1").request), reason::trusted_proxy_loopback_source);
    }
    SECTION("a non-loopback trusted peer is unaffected") {
        require_allow(run(c, proxied("10.0.0.5").request), via::trusted_proxy, "alice@example.com");
    }
}

TEST_CASE("step 3 and 5.2: a direct-local request without user header gets loopbackUser") {
    auto c = base_config();
    for (const char* host : {"localhost", "LOCALHOST:18789", "127.0.0.1", "127.8.9.10:1", "[::1]", "[::1]:18789",
                             "[::ffff:127.0.0.1]:80"}) {
        INFO(host);
        require_allow(run(c, request_builder("127.0.0.1").h("Host", host).request), via::loopback_user,
                      "operator@localhost");
    }
    require_allow(run(c, request_builder("::1").request), via::loopback_user, "operator@localhost");
    require_allow(run(c, request_builder("::ffff:127.0.0.1").request), via::loopback_user, "operator@localhost");
    require_allow(run(c, request_builder("127.0.0.1").h("Origin", "http://localhost:18789").request),
                  via::loopback_user, "operator@localhost");
    // Every value blank counts as no user header.
    c.trusted_proxy.user_header = "x-auth-request-email";
    require_allow(run(c, request_builder("127.0.0.1").h("x-auth-request-email", " \t").request), via::loopback_user,
                  "operator@localhost");
}

TEST_CASE("direct-local needs the kernel's word that a user of localUsers is at the other end (behaviour §1)") {
    auto c = base_config();
    const std::uint32_t other = own_uid() == 4242 ? 4243 : 4242;
    for (const auto proof : {local_proof{}, local_proof::failure(), local_proof::of(other)}) {
        INFO("proof " << int(proof.result) << " uid " << proof.uid);
        // allowLoopback: it is a same-host proxy that lost its headers, so it needs a user header.
        require_deny(run(c, request_builder("127.0.0.1").proof(proof).request), reason::trusted_proxy_user_missing);
        require_deny(run(c, request_builder("::1").proof(proof).h("Host", "localhost").request), reason::trusted_proxy_user_missing);
        c.token = "correct-horse-battery-staple-0123456789";
        require_deny(run(c, request_builder("127.0.0.1").proof(proof).h("Authorization", "Bearer correct-horse-battery-staple-0123456789").request),
                     reason::trusted_proxy_user_missing);
        c.token.reset();
        // Without allowLoopback it is refused as a loopback source.
        auto strict = c;
        strict.trusted_proxy.allow_loopback = false;
        require_deny(run(strict, request_builder("127.0.0.1").proof(proof).request), reason::trusted_proxy_loopback_source);
    }
    SECTION("localUsers names users by name or id, and replaces the default") {
        c.trusted_proxy.local_users = {"root", std::to_string(other)};
        require_allow(run(c, request_builder("127.0.0.1").proof(local_proof::of(0)).request), via::loopback_user, "operator@localhost");
        require_allow(run(c, request_builder("127.0.0.1").proof(local_proof::of(other)).request), via::loopback_user,
                      "operator@localhost");
        if (own_uid() != 0) require_deny(run(c, request_builder("127.0.0.1").request), reason::trusted_proxy_user_missing);
    }
    SECTION("an unknown user name is a configuration error naming the entry") {
        c.trusted_proxy.local_users = {"0", "no-such-user-trustgate", "1"};
        try {
            (void)trusted_proxy_gateway::from_config(c);
            FAIL("accepted an unknown user");
        } catch (const config_error& e) {
            CHECK(e.path() == "gateway.auth.trustedProxy.localUsers[1]");
            CHECK(e.expected().find("no-such-user-trustgate") != std::string::npos);
        }
        c.trusted_proxy.local_users = {"99999999999"};
        CHECK_THROWS_AS(trusted_proxy_gateway::from_config(c), config_error);
    }
    SECTION("a request view without local_proof() carries no proof") {
        static_assert(request_view<view_without_proof> && !carries_local_proof<view_without_proof>);
        const auto d = trusted_proxy_gateway::from_config(c).authenticate(view_without_proof{});
        CHECK(d.why == reason::trusted_proxy_user_missing);
    }
}

TEST_CASE("direct-local needs every condition of behaviour §1") {
    auto c = base_config();
    const std::vector<std::pair<std::string, std::string>> not_local = {
        {"X-Forwarded-For", "127.0.0.1"}, {"x-forwarded-proto", "https"}, {"X-Forwarded-Host", "localhost"},
        {"Forwarded", "for=127.0.0.1"},   {"X-Real-IP", "127.0.0.1"},     {"x-forwarded-user", ""},
        {"Host", "evil.example"},         {"Host", "localhost.evil.example"}, {"Host", "127.0.0.1.nip.io"},
        {"Host", ""},                     {"Host", "localhost."},         {"Host", "::1"},
        {"Host", "[::2]"},                {"Host", "localhost:99999"},    {"Host", "localhost:"},
        {"Host", "0x7f.0.0.1"},           {"Host", "127.1"},              {"Origin", "null"},
        {"Origin", "http://evil.example"}, {"Origin", "http://localhost/path"}, {"Origin", "localhost"},
    };
    for (const auto& [name, value] : not_local) {
        INFO(name << ": " << value);
        // Not direct-local, no user header: the header path says the user is missing.
        require_deny(run(c, request_builder("127.0.0.1").h(name, value).request), reason::trusted_proxy_user_missing);
    }
    SECTION("two host or origin headers are not local") {
        require_deny(run(c, request_builder("127.0.0.1").h("Host", "localhost").h("host", "localhost").request),
                     reason::trusted_proxy_user_missing);
        require_deny(run(c, request_builder("127.0.0.1").h("Origin", "http://localhost").h("Origin", "http://localhost").request),
                     reason::trusted_proxy_user_missing);
    }
}

TEST_CASE("step 4.1: required headers, absent or blank") {
    auto c = base_config();
    c.trusted_proxy.required_headers = {"x-auth-request-email", "X-Proxy-Secret"};
    auto b = proxied("10.0.0.1");
    auto o = run(c, b.request);
    require_deny(o, reason::trusted_proxy_missing_header);
    CHECK(o.detail == "x-auth-request-email");
    CHECK(o.policy == "required_headers");
    b.h("X-AUTH-REQUEST-EMAIL", "alice@example.com").h("x-proxy-secret", "  ");
    o = run(c, b.request);
    require_deny(o, reason::trusted_proxy_missing_header);
    CHECK(o.detail == "X-Proxy-Secret");
    b.h("x_proxy_secret", "s3cret");  // `_` is a different header
    require_deny(run(c, b.request), reason::trusted_proxy_missing_header);
    b.h("X-Proxy-Secret", "s3cret");  // one non-blank line is enough
    require_allow(run(c, b.request), via::trusted_proxy, "alice@example.com");
}

TEST_CASE("required headers are checked before the user header") {
    auto c = base_config();
    c.trusted_proxy.required_headers = {"x-proxy-secret"};
    require_deny(run(c, request_builder("10.0.0.1").request), reason::trusted_proxy_missing_header);
}

TEST_CASE("step 4.2: user header absent or blank") {
    auto c = base_config();
    require_deny(run(c, request_builder("10.0.0.1").request), reason::trusted_proxy_user_missing);
    require_deny(run(c, request_builder("10.0.0.1").h("X-Forwarded-User", "  ").request), reason::trusted_proxy_user_missing);
    require_deny(run(c, request_builder("10.0.0.1").h("X-Forwarded-User", "").h("x-forwarded-user", "\t").request),
                 reason::trusted_proxy_user_missing);
    // `_` never counts as the user header (behaviour §8.6).
    require_deny(run(c, request_builder("10.0.0.1").h("x_forwarded_user", "alice@example.com").request),
                 reason::trusted_proxy_user_missing);
    // A same-host proxy that forwards nothing but the user header is still not direct-local.
    require_deny(run(c, request_builder("127.0.0.1").h("X-Forwarded-For", "1.2.3.4").request),
                 reason::trusted_proxy_user_missing);
    CHECK(run(c, request_builder("10.0.0.1").request).policy == "proxy_identity");
}

TEST_CASE("step 4.3: duplicated or comma-joined user header") {
    auto c = base_config();
    require_deny(run(c, proxied("10.0.0.1").h("X-Forwarded-User", "alice@example.com").request),
                 reason::trusted_proxy_user_ambiguous);
    require_deny(run(c, proxied("10.0.0.1").h("x-forwarded-user", "").request), reason::trusted_proxy_user_ambiguous);
    require_deny(run(c, proxied("10.0.0.1", "mallory@example.com, alice@example.com").request),
                 reason::trusted_proxy_user_ambiguous);
    require_deny(run(c, proxied("10.0.0.1", "alice@example.com,").request), reason::trusted_proxy_user_ambiguous);
}

TEST_CASE("step 4.4: oversize or control characters") {
    auto c = base_config();
    c.trusted_proxy.allow_users.clear();
    c.trusted_proxy.loopback_user.reset();
    require_allow(run(c, proxied("10.0.0.1", std::string(256, 'a').c_str()).request), via::trusted_proxy, std::string(256, 'a'));
    require_deny(run(c, proxied("10.0.0.1", std::string(257, 'a').c_str()).request), reason::trusted_proxy_user_invalid);
    // Trimming happens before the length check.
    require_allow(run(c, proxied("10.0.0.1", ("  " + std::string(256, 'a') + "\t").c_str()).request), via::trusted_proxy,
                  std::string(256, 'a'));
    for (const std::string& bad : {std::string("alice\tsmith"), std::string("a\x01"), std::string("a\x7f"),
                                  std::string("a\rb"), std::string("a\nb"), std::string("a\0b", 3)}) {
        auto b = request_builder("10.0.0.1");
        b.h("X-Forwarded-User", bad);
        require_deny(run(c, b.request), reason::trusted_proxy_user_invalid);
    }
}

TEST_CASE("step 4.5: allowUsers, exact or ASCII case-insensitive") {
    auto c = base_config();
    require_deny(run(c, proxied("10.0.0.1", "mallory@example.com").request), reason::trusted_proxy_user_not_allowed);
    require_deny(run(c, proxied("10.0.0.1", "Alice@example.com").request), reason::trusted_proxy_user_not_allowed);
    CHECK(run(c, proxied("10.0.0.1", "mallory@example.com").request).policy == "allow_users");
    c.trusted_proxy.allow_users_case_insensitive = true;
    require_allow(run(c, proxied("10.0.0.1", "ALICE@example.COM").request), via::trusted_proxy, "ALICE@example.COM");
    c.trusted_proxy.allow_users.clear();
    c.trusted_proxy.loopback_user.reset();
    require_allow(run(c, proxied("10.0.0.1", "anyone").request), via::trusted_proxy, "anyone");
}

TEST_CASE("step 5: the loopback fallback with a token") {
    auto c = base_config();
    c.token = "correct-horse-battery-staple-0123456789";
    auto local = [] { return request_builder("127.0.0.1").h("Host", "localhost:18789"); };
    SECTION("5.1 equal token: via token, identity loopbackUser") {
        require_allow(run(c, local().h("Authorization", "Bearer correct-horse-battery-staple-0123456789").request),
                      via::token, "operator@localhost");
        require_allow(run(c, local().h("authorization", "bearer   correct-horse-battery-staple-0123456789 ").request),
                      via::token, "operator@localhost");
    }
    SECTION("5.1 equal token and no loopbackUser: identity local") {
        c.trusted_proxy.loopback_user.reset();
        require_allow(run(c, local().h("Authorization", "Bearer correct-horse-battery-staple-0123456789").request),
                      via::token, "local");
    }
    SECTION("5.1 unequal token") {
        for (const char* t : {"Bearer wrong", "Bearer correct-horse-battery-staple-012345678",
                              "Bearer correct-horse-battery-staple-01234567890"}) {
            INFO(t);
            require_deny(run(c, local().h("Authorization", t).request), reason::token_mismatch);
        }
        // Two authorization headers match nothing, even if one is right.
        require_deny(run(c, local()
                                .h("Authorization", "Bearer correct-horse-battery-staple-0123456789")
                                .h("Authorization", "Bearer correct-horse-battery-staple-0123456789")
                                .request),
                     reason::token_mismatch);
    }
    SECTION("5.2 no bearer and loopbackUser: loopback-user") {
        require_allow(run(c, local().request), via::loopback_user, "operator@localhost");
        require_allow(run(c, local().h("Authorization", "Basic YWxpY2U6cHc=").request), via::loopback_user,
                      "operator@localhost");
        require_allow(run(c, local().h("Authorization", "Bearer ").request), via::loopback_user, "operator@localhost");
    }
    SECTION("5.3 no bearer, a token, no loopbackUser: token_missing") {
        c.trusted_proxy.loopback_user.reset();
        require_deny(run(c, local().request), reason::token_missing);
    }
    SECTION("5.4 neither: user missing") {
        c.token.reset();
        c.trusted_proxy.loopback_user.reset();
        require_deny(run(c, local().request), reason::trusted_proxy_user_missing);
        require_deny(run(c, local().h("Authorization", "Bearer something").request), reason::trusted_proxy_user_missing);
    }
    SECTION("a token from a non-loopback peer never authenticates in trusted-proxy mode") {
        require_deny(run(c, request_builder("10.0.0.1").h("Authorization", "Bearer correct-horse-battery-staple-0123456789").request),
                     reason::trusted_proxy_user_missing);
    }
}

TEST_CASE("behaviour §6: failed token compares lock a non-exempt key out") {
    auto c = base_config();
    c.token = "correct-horse-battery-staple-0123456789";
    c.trusted_proxy.loopback_user.reset();
    rate_limit_config limits;
    limits.exempt_loopback = false;
    auto now = attempt_limiter::time_point{} + std::chrono::hours(1);
    attempt_limiter limiter(limits, [&] { return now; });
    const auto gw = trusted_proxy_gateway::from_config(c, &limiter);
    auto wrong = request_builder("127.0.0.1").h("Authorization", "Bearer nope").request;
    auto right = request_builder("127.0.0.1").h("Authorization", "Bearer correct-horse-battery-staple-0123456789").request;
    for (int i = 0; i < 10; ++i) REQUIRE(gw.authenticate(wrong).why == reason::token_mismatch);
    const auto locked = gw.authenticate(right);
    REQUIRE(locked.why == reason::rate_limited);
    CHECK(locked.retry_after == std::chrono::seconds(300));
    now += std::chrono::seconds(299) + std::chrono::milliseconds(500);
    CHECK(gw.authenticate(right).retry_after == std::chrono::seconds(1));
    now += std::chrono::seconds(1);
    CHECK(gw.authenticate(right).allowed);

    SECTION("loopback is exempt by default") {
        attempt_limiter exempting(rate_limit_config{}, [&] { return now; });
        const auto gw2 = trusted_proxy_gateway::from_config(c, &exempting);
        for (int i = 0; i < 20; ++i) REQUIRE(gw2.authenticate(wrong).why == reason::token_mismatch);
        CHECK(gw2.authenticate(right).allowed);
    }
}

TEST_CASE("behaviour §1: an IPv6 entry never trusts an IPv4 peer") {
    auto c = base_config();
    c.trusted_proxy.loopback_user.reset();
    for (const char* wide : {"::/80", "::/0", "::fffe:0:0/95"}) {
        INFO(wide);
        c.trusted_proxies = {wide};
        for (const char* v4 : {"127.0.0.1", "::ffff:127.0.0.1", "10.0.0.1", "0.0.0.0", "255.255.255.255"})
            require_deny(run(c, proxied(v4).request), reason::trusted_proxy_untrusted_source);
        require_allow(run(c, proxied("::fffe:ffff:ffff").request), via::trusted_proxy, "alice@example.com");
    }
    // Next to an IPv4 entry: each matches its own family.
    c.trusted_proxies = {"::/80", "10.0.0.0/8"};
    require_allow(run(c, proxied("10.0.0.1").request), via::trusted_proxy, "alice@example.com");
    require_deny(run(c, proxied("11.0.0.1").request), reason::trusted_proxy_untrusted_source);
}

TEST_CASE("behaviour §4: client IP attribution") {
    auto c = base_config();
    auto client = [&](request_builder b) {
        return trusted_proxy_gateway::from_config(c).authenticate(b.request).client_ip.to_string();
    };
    CHECK(client(proxied("10.0.0.1")) == "203.0.113.7");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "198.51.100.1, 203.0.113.7, 10.0.0.9")) == "203.0.113.7");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "198.51.100.1").h("x-forwarded-for", "203.0.113.7:4711, 10.2.3.4")) ==
          "203.0.113.7");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "[2001:db8::1]:443")) == "2001:db8::1");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "2001:db8::2")) == "2001:db8::2");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "::ffff:203.0.113.9")) == "203.0.113.9");
    // A malformed entry stops the walk: the peer is used.
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "203.0.113.7, unknown, 10.0.0.2")) == "10.0.0.1");
    // Empty list elements are no entries (RFC 9110 §5.6.1).
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "203.0.113.7,,10.0.0.2")) == "203.0.113.7");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "203.0.113.7, 10.0.0.2,")) == "203.0.113.7");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "203.0.113.7").h("X-Forwarded-For", " ")) == "203.0.113.7");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", ", ,\t")) == "10.0.0.1");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", ",10.9.9.9,")) == "10.9.9.9");
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "0x7f.0.0.1")) == "10.0.0.1");
    // Entries left of the first untrusted one do not matter, even when malformed.
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "garbage, 203.0.113.7")) == "203.0.113.7");
    // Every hop trusted: the leftmost.
    CHECK(client(request_builder("10.0.0.1").h("X-Forwarded-For", "10.9.9.9, 127.0.0.1")) == "10.9.9.9");
    // An untrusted peer is the client whatever it claims.
    CHECK(client(request_builder("192.0.2.1").h("X-Forwarded-For", "203.0.113.7")) == "192.0.2.1");
    CHECK(client(request_builder("::ffff:10.0.0.1")) == "10.0.0.1");
}

TEST_CASE("behaviour §4: client IP from RFC 7239 Forwarded (clientIpHeader \"forwarded\")") {
    auto c = base_config();
    c.client_ip_header = forwarding_header::forwarded;
    const auto gw = trusted_proxy_gateway::from_config(c);
    auto client = [&](const std::vector<std::string>& lines) {
        request_builder b("10.0.0.1");
        b.h("X-Forwarded-For", "198.51.100.99");  // not the configured header: ignored
        for (const auto& line : lines) b.h("Forwarded", line);
        return gw.authenticate(b.request).client_ip.to_string();
    };
    CHECK(client({}) == "10.0.0.1");
    CHECK(client({"for=203.0.113.7"}) == "203.0.113.7");
    CHECK(client({"For=\"203.0.113.7:4711\";proto=https;by=10.0.0.1"}) == "203.0.113.7");
    CHECK(client({"for=\"[2001:db8:cafe::17]:4711\""}) == "2001:db8:cafe::17");
    CHECK(client({"for=\"[2001:db8::1]\", for=10.0.0.2"}) == "2001:db8::1");
    CHECK(client({"for=203.0.113.7", "for=10.0.0.2;host=\"a,b;c\""}) == "203.0.113.7");
    CHECK(client({"for=\"\\203.0.113.7\""}) == "203.0.113.7");  // a quoted-pair
    CHECK(client({"for=198.51.100.1,,for=203.0.113.7, "}) == "203.0.113.7");
    CHECK(client({"for=10.9.9.9; proto=https"}) == "10.9.9.9");  // every hop trusted: the leftmost
    CHECK(client({"for=garbage, for=203.0.113.7"}) == "203.0.113.7");
    // Obfuscated and unknown nodes, and every malformed element, stop the walk: the peer.
    for (const char* malformed :
         {"for=unknown", "for=_hidden", "for=\"_gw:_p\"", "for=\"[2001:db8::1]:_p\"", "for=[2001:db8::1]", "for=\"2001:db8::1\"",
          "for=203.0.113.7:80", "for=\"203.0.113.7", "for=", "for=\"\"", "by=203.0.113.7", "for=203.0.113.7;for=203.0.113.8",
          "for =203.0.113.7", "proto", "for=\"203.0.113.7\"x", ";"}) {
        INFO(malformed);
        CHECK(client({std::string("for=203.0.113.50, ") + malformed + ", for=10.0.0.2"}) == "10.0.0.1");
    }
    // More lines than request_facts keeps: the same walk over the request.
    CHECK(client({"for=203.0.113.7", "for=10.0.0.2", "for=10.0.0.3", "for=10.0.0.4", "for=10.0.0.5"}) == "203.0.113.7");
    CHECK(client({"for=203.0.113.7", "for=10.0.0.2", "for=10.0.0.3", "for=10.0.0.4", "for=unknown"}) == "10.0.0.1");
    // The default reads x-forwarded-for only.
    const auto xff = trusted_proxy_gateway::from_config(base_config());
    CHECK(xff.authenticate(request_builder("10.0.0.1").h("Forwarded", "for=203.0.113.7").request).client_ip.to_string() == "10.0.0.1");
}

TEST_CASE("configuration rules fail at start-up with the JSON path") {
    auto expect_error = [](const auth_config& c, const std::string& path, const std::string& fragment) {
        try {
            (void)trusted_proxy_gateway::from_config(c);
            FAIL("no config_error for " << path);
        } catch (const config_error& e) {
            CHECK(e.path() == path);
            CHECK(e.expected().find(fragment) != std::string::npos);
        }
    };
    auto c = base_config();
    c.trusted_proxies.clear();
    expect_error(c, "gateway.trustedProxies", "at least one");
    c = base_config();
    c.trusted_proxies = {"127.0.0.1", "10.0.0.1/8"};
    expect_error(c, "gateway.trustedProxies[1]", "\"10.0.0.1/8\"");
    c.trusted_proxies = {"127.1"};
    expect_error(c, "gateway.trustedProxies[0]", "canonical");
    // behaviour §1: an entry inside ::ffff:0:0/96 names its IPv4 form.
    for (const auto& [entry, v4] : std::vector<std::pair<std::string, std::string>>{
             {"::ffff:0:0/96", "\"0.0.0.0/0\""}, {"::ffff:10.0.0.0/104", "\"10.0.0.0/8\""},
             {"::ffff:198.18.0.1", "\"198.18.0.1\""}, {"[::ffff:7f00:1]/128", "\"127.0.0.1\""}}) {
        c.trusted_proxies = {"127.0.0.1", entry};
        expect_error(c, "gateway.trustedProxies[1]", "expected the IPv4 form " + v4);
    }
    c = base_config();
    c.trusted_proxy.user_header = "";
    expect_error(c, "gateway.auth.trustedProxy.userHeader", "non-empty");
    c = base_config();
    c.trusted_proxy.loopback_user = "carol@example.com";
    expect_error(c, "gateway.auth.trustedProxy.loopbackUser", "allowUsers");
    c = base_config();
    c.trusted_proxies = {"10.0.0.0/8"};
    expect_error(c, "gateway.auth.trustedProxy.loopbackUser", "loopback entry");
    c = base_config();
    c.trusted_proxy.required_headers = {"x-ok", "bad header"};
    expect_error(c, "gateway.auth.trustedProxy.requiredHeaders[1]", "header name");
    // One header-name rule for every configured header (an RFC 9110 token).
    c = base_config();
    c.trusted_proxy.user_header = "x-user:";
    expect_error(c, "gateway.auth.trustedProxy.userHeader", "RFC 9110 token");
    c = base_config();
    c.scopes.header = "x scopes";
    expect_error(c, "gateway.auth.scopes.header", "RFC 9110 token");
    c = base_config();
    c.scopes.default_scopes = {"operator.read", "operator.reed"};
    expect_error(c, "gateway.auth.scopes.defaultScopes[1]", "operator.reed");

    c = base_config();
    c.trusted_proxies = {"10.0.0.0/8", "127.0.0.0/8"};
    CHECK_NOTHROW(trusted_proxy_gateway::from_config(c));
    c.trusted_proxy.allow_users_case_insensitive = true;
    c.trusted_proxy.loopback_user = "OPERATOR@localhost";
    CHECK_NOTHROW(trusted_proxy_gateway::from_config(c));
}

TEST_CASE("token mode and none mode") {
    auth_config c;
    c.mode = auth_mode::token;
    c.token = "0123456789abcdef0123456789abcdef";
    const auto gw = token_gateway::from_config(c);
    auto req = [](const char* peer, const char* auth) {
        basic_request r(ip(peer));
        if (auth) r.add("Authorization", auth);
        return r;
    };
    CHECK(gw.authenticate(req("192.0.2.1", nullptr)).why == reason::token_missing);
    CHECK(gw.authenticate(req("192.0.2.1", "Bearer nope")).why == reason::token_mismatch);
    const auto ok = gw.authenticate(req("192.0.2.1", "Bearer 0123456789abcdef0123456789abcdef"));
    CHECK(ok.allowed);
    CHECK(ok.how == via::token);
    CHECK(ok.identity == "token");
    CHECK(ok.policy == "bearer_token");
    c.token.reset();
    CHECK_THROWS_AS(token_gateway::from_config(c), config_error);

    const auto open = open_gateway::from_config(auth_config{});
    const auto anyone = open.authenticate(req("198.51.100.1", nullptr));
    CHECK(anyone.allowed);
    CHECK(anyone.how == via::none);
    CHECK(anyone.identity == "anonymous");
}

TEST_CASE("the token owns its text rule: one no bearer header could carry is refused however it is built") {
    const auto refusal = [](const auto& build) -> std::string {
        try {
            build();
        } catch (const config_error& e) {
            return e.what();
        }
        return "accepted";
    };
    const std::string expected = "gateway.auth.token: expected a token without control characters or surrounding spaces: "
                                 "the token could never match a bearer token";
    for (const char* bad : {" padded", "padded\t", "line\nbreak", "del\x7f"}) {
        INFO(bad);
        CHECK_FALSE(token_auth::matchable(bad));
        CHECK(refusal([&] { (void)token_auth(std::string(bad)); }) == expected);
        auth_config token_mode;
        token_mode.mode = auth_mode::token;
        token_mode.token = bad;
        CHECK(refusal([&] { (void)token_gateway::from_config(token_mode); }) == expected);
        auto fallback = base_config();  // trusted-proxy mode: the loopback fallback's token
        fallback.token = bad;
        CHECK(refusal([&] { (void)trusted_proxy_gateway::from_config(fallback); }) == expected);
    }
    CHECK(token_auth::matchable("inner space is fine"));
    CHECK(refusal([] { (void)token_auth("inner space is fine"); }) == "accepted");
}

TEST_CASE("header names are case-insensitive; an IPv4 peer and its mapped form decide alike") {
    auto c = base_config();
    for (const char* name : {"x-forwarded-user", "X-Forwarded-User", "X-FORWARDED-USER", "x-FoRwArDeD-uSeR"}) {
        INFO(name);
        auto b = request_builder("10.0.0.1");
        b.h(name, "alice@example.com");
        require_allow(run(c, b.request), via::trusted_proxy, "alice@example.com");
    }
    CHECK(run(c, request_builder("127.0.0.1").request).identity == run(c, request_builder("::ffff:127.0.0.1").request).identity);
}

// behaviour §7, cross-site requests.
TEST_CASE("same_host compares host and port, with the scheme's default port implied") {
    CHECK(same_host("https://gw.example", "gw.example"));
    CHECK(same_host("https://gw.example", "gw.example:443"));
    CHECK(same_host("http://gw.example", "gw.example:80"));
    CHECK(same_host("wss://gw.example:8443", "gw.example:8443"));
    CHECK(same_host("HTTPS://GW.Example", "gw.EXAMPLE"));  // ASCII case-insensitive
    CHECK(same_host("http://[2001:db8::1]:8080", "[2001:DB8::1]:8080"));  // addresses as addresses
    CHECK_FALSE(same_host("https://gw.example", "gw.example:80"));
    CHECK_FALSE(same_host("http://gw.example", "gw.example:443"));
    CHECK_FALSE(same_host("https://gw.example:8443", "gw.example"));
    CHECK_FALSE(same_host("https://evil.example", "gw.example"));
    CHECK_FALSE(same_host("https://gw.example.evil.example", "gw.example"));
    CHECK_FALSE(same_host("https://10.0.0.1", "10.0.0.2"));
}

TEST_CASE("any two loopback names are the same host; null and malformed origins name none") {
    CHECK(same_host("http://localhost:3000", "127.0.0.1:18789"));
    CHECK(same_host("http://127.0.0.1", "[::1]:18789"));
    CHECK(same_host("http://[::1]:9", "LOCALHOST"));
    CHECK(same_host("http://127.4.5.6", "localhost"));
    CHECK_FALSE(same_host("http://localhost", "gw.example"));
    CHECK_FALSE(same_host("http://gw.example", "localhost"));
    for (const char* origin : {"null", "", "gw.example", "https://gw.example/", "https://gw.example/path", "https://alice@gw.example",
                               "https://gw.example:0", "https://gw.example:99999", "https://gw.example:", "://gw.example",
                               "https://127.1", "https://[::1"}) {
        INFO(origin);
        CHECK_FALSE(same_host(origin, "gw.example"));
    }
    CHECK_FALSE(same_host("https://gw.example", "gw.example/x"));
}

TEST_CASE("origin_check admits no origin, the request's own host, and the configured origins") {
    const auto check = origin_check::parse(std::vector<std::string>{"https://app.example", "http://tool.example:8080"});
    CHECK(check.admits(std::nullopt, "gw.example"));
    CHECK(check.admits("https://gw.example", "gw.example"));
    CHECK(check.admits("https://APP.example", "gw.example"));
    CHECK(check.admits("http://tool.example:8080", "gw.example"));
    CHECK_FALSE(check.admits("http://tool.example", "gw.example"));
    CHECK_FALSE(check.admits("https://evil.example", "gw.example"));
    CHECK_FALSE(check.admits("null", "gw.example"));
    CHECK(check.admits("http://localhost:5173", std::nullopt));  // direct-local without a host header
    CHECK_FALSE(check.admits("https://gw.example", std::nullopt));
    CHECK_FALSE(origin_check{}.admits("https://app.example", "gw.example"));

    const auto from = [&](std::vector<std::pair<std::string, std::string>> headers) {
        basic_request r(ip("10.0.0.5"));
        for (auto& [n, v] : headers) r.add(n, v);
        return check.admits(r);
    };
    CHECK(from({{"Host", "gw.example"}}));
    CHECK(from({{"Host", "gw.example"}, {"ORIGIN", " https://gw.example "}}));
    CHECK_FALSE(from({{"Host", "gw.example"}, {"Origin", "https://evil.example"}}));
    CHECK_FALSE(from({{"Host", "gw.example"}, {"Origin", "https://gw.example"}, {"Origin", "https://gw.example"}}));
    CHECK_FALSE(from({{"Host", "gw.example"}, {"Host", "evil.example"}, {"Origin", "https://gw.example"}}));
    CHECK(from({{"Host", "gw.example"}, {"Host", "evil.example"}, {"Origin", "https://app.example"}}));
}

TEST_CASE("allowedOrigins entries are checked at start-up") {
    for (const char* bad : {"app.example", "https://app.example/", "https://app.example/x", "https://u@app.example", "null", "*",
                            "https://app.example:443", "http://app.example:80"}) {
        INFO(bad);
        CHECK_THROWS_AS(origin_check::parse(std::vector<std::string>{bad}), config_error);
    }
    try {
        origin_check::parse(std::vector<std::string>{"https://ok.example", "https://app.example:443"});
        FAIL("expected a config_error");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()).find("gateway.http.allowedOrigins[1]") != std::string::npos);
    }
}

namespace {
// Two policies of one composition that read request headers of their own.
struct tenant_policy {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "tenant_policy";
    static constexpr reason wrong_tenant{"wrong_tenant"};
    static constexpr std::array reasons{wrong_tenant, reason::trusted_proxy_user_not_allowed};
    static constexpr std::array headers{std::string_view{"x-tenant"}, std::string_view{"x-region"}};
    template <request_view R>
    verdict check(request_facts& facts, const R&) const {
        seen.clear();
        for (const char* h : {"x-tenant", "x-region", "x-request-class", "x-forwarded-user"})
            seen.push_back({std::string(facts.header(h)), facts.header_lines(h)});
        return facts.header("x-tenant") == "acme" ? next_policy : verdict(decision::deny(wrong_tenant, name));
    }
    // What check read, per header above: the value and the number of lines.
    mutable std::vector<std::pair<std::string, unsigned>> seen;
};

struct region_policy {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "region_policy";
    static constexpr std::array<reason, 0> reasons{};
    static constexpr std::array headers{std::string_view{"x-region"}, std::string_view{"x-request-class"}};
    template <request_view R>
    verdict check(request_facts&, const R&) const { return next_policy; }
};

using tenant_composition = gateway<trusted_source, proxy_identity, tenant_policy, region_policy>;

tenant_composition make_tenant_composition() {
    auth_config c;
    c.trusted_proxies = {"10.0.0.0/8"};
    c.trusted_proxy.user_header = "x-forwarded-user";
    const build_context context;
    return tenant_composition(trusted_source::from_config(c, context), proxy_identity::from_config(c, context), {}, {});
}
}  // namespace

TEST_CASE("a reason is its snake_case code") {
    constexpr reason made{"token_missing"};
    STATIC_REQUIRE(made == reason::token_missing);
    STATIC_REQUIRE(reason{} == reason::ok);
    STATIC_REQUIRE(reason::token_missing != reason::token_mismatch);
    STATIC_REQUIRE(to_string(reason::trusted_proxy_user_invalid) == "trusted_proxy_user_invalid");
    STATIC_REQUIRE(reason::missing_scope < reason::ok);
    STATIC_REQUIRE(tenant_policy::wrong_tenant.code() == "wrong_tenant");
    // Every built-in code once, as in docs/behaviour.md.
    STATIC_REQUIRE(reasons_of<builtin_reasons>.size() == builtin_reasons::reasons.size());
    for (const auto& r : builtin_reasons::reasons) CHECK(detail::is_snake_case(to_string(r)));
}

TEST_CASE("a gateway lists ok, its policies' reasons and its own conclusion, each once") {
    constexpr std::array expected{reason::ok,
                                  reason::trusted_proxy_untrusted_source,
                                  reason::trusted_proxy_user_missing,
                                  reason::trusted_proxy_user_ambiguous,
                                  reason::trusted_proxy_user_invalid,
                                  reason::trusted_proxy_user_mismatch,
                                  tenant_policy::wrong_tenant,
                                  reason::trusted_proxy_user_not_allowed};
    STATIC_REQUIRE(tenant_composition::reasons == expected);
    STATIC_REQUIRE(token_gateway::reasons == std::array{reason::ok, reason::token_missing, reason::token_mismatch,
                                                        reason::rate_limited, reason::missing_scope,
                                                        reason::trusted_proxy_user_missing});
    // anonymous never refuses: scopes' code and the gateway's own conclusion remain.
    STATIC_REQUIRE(open_gateway::reasons == std::array{reason::ok, reason::missing_scope, reason::trusted_proxy_user_missing});
}

TEST_CASE("the one header scan captures the headers policies declare") {
    STATIC_REQUIRE(tenant_composition::headers ==
                   std::array{std::string_view{"x-tenant"}, std::string_view{"x-region"}, std::string_view{"x-request-class"}});
    STATIC_REQUIRE(trusted_proxy_gateway::header_count == 0);
    const auto gw = make_tenant_composition();
    const auto& seen = gw.get<tenant_policy>().seen;

    request_builder tagged("10.0.0.1");
    tagged.h("X-Forwarded-User", "alice").h("X-Region", "").h("x-region", "  eu-west ").h("X-TENANT", " acme ");
    CHECK(gw.authenticate(tagged.request).allowed);
    CHECK(seen[0] == std::pair<std::string, unsigned>{"acme", 1});
    // The first non-blank line, trimmed; every line counted.
    CHECK(seen[1] == std::pair<std::string, unsigned>{"eu-west", 2});
    // Declared but absent, and never declared: both read as absent.
    CHECK(seen[2] == std::pair<std::string, unsigned>{"", 0});
    CHECK(seen[3] == std::pair<std::string, unsigned>{"", 0});

    request_builder other("10.0.0.1");
    other.h("X-Forwarded-User", "alice").h("x-tenant", "globex");
    const auto refused = gw.authenticate(other.request);
    CHECK(refused.why == tenant_policy::wrong_tenant);
    CHECK(refused.policy == "tenant_policy");
    CHECK(seen[1] == std::pair<std::string, unsigned>{"", 0});
}

// behaviour §11: with a proxy certificate configured, the header path needs a verified,
// allowed certificate; the direct-local path does not.
TEST_CASE("proxy certificate: missing, not allowed, allowed, and the local fallback") {
    auto c = base_config();
    c.trusted_proxy.client_certificate = client_certificate_config{{"Proxy.Example.internal"}};
    const auto gw = trusted_proxy_certificate_gateway::from_config(c);
    const auto decide = [&](const basic_request& r) { return gw.authenticate(r); };

    auto proxied = request_builder("10.0.0.5").h("x-forwarded-user", "alice@example.com").request;
    CHECK(decide(proxied).why == reason::trusted_proxy_certificate_missing);

    proxied.set_peer_certificate(peer_certificate{false, {}});
    CHECK(decide(proxied).why == reason::trusted_proxy_certificate_missing);

    proxied.set_peer_certificate(peer_certificate::of({"other.example.internal"}));
    const auto other = decide(proxied);
    CHECK_FALSE(other.allowed);
    CHECK(other.why == reason::trusted_proxy_certificate_not_allowed);

    proxied.set_peer_certificate(peer_certificate::of({"x.example.internal", "proxy.example.INTERNAL"}));
    const auto allowed = decide(proxied);
    CHECK(allowed.allowed);
    CHECK(allowed.how == via::trusted_proxy);

    // No wildcard expansion: a certificate for *.example.internal is not proxy.example.internal.
    proxied.set_peer_certificate(peer_certificate::of({"*.example.internal"}));
    CHECK(decide(proxied).why == reason::trusted_proxy_certificate_not_allowed);

    // The certificate check comes before the required headers (start of step 4).
    c.trusted_proxy.required_headers = {"x-proxy-secret"};
    const auto strict = trusted_proxy_certificate_gateway::from_config(c);
    proxied.set_peer_certificate({});
    CHECK(strict.authenticate(proxied).why == reason::trusted_proxy_certificate_missing);

    const auto local = decide(request_builder("127.0.0.1").request);
    CHECK(local.allowed);
    CHECK(local.how == via::loopback_user);

    c.trusted_proxy.client_certificate = client_certificate_config{};
    const auto any = trusted_proxy_certificate_gateway::from_config(c);
    proxied = request_builder("10.0.0.5").h("x-forwarded-user", "alice@example.com").h("x-proxy-secret", "s").request;
    proxied.set_peer_certificate(peer_certificate::of({"anything"}));
    CHECK(any.authenticate(proxied).allowed);

    c.trusted_proxy.client_certificate = client_certificate_config{{""}};
    CHECK_THROWS_AS(trusted_proxy_certificate_gateway::from_config(c), config_error);
}
