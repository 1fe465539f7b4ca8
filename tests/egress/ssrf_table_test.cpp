// Issue 6: the SSRF classifier (every range edge, every embedded form, the non-canonical
// spellings), the proxy settings, route planning and the exported proxy policy.
#include <support/catch.hpp>

#include <array>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <trustgate/net/egress.hpp>
#include <trustgate/net/prefix_set.hpp>
#include <trustgate/net/proxy_settings.hpp>
#include <trustgate/net/ssrf.hpp>
#include <trustgate/net/ssrf_export.hpp>

using namespace trustgate::net;
using trustgate::config_error;

namespace {

constexpr ssrf_options defaults{};
constexpr ssrf_options benchmark{true, false};
constexpr ssrf_options unique_local{false, true};
constexpr ssrf_options everything{true, true};

static_assert(classify_host("169.254.169.254", everything).blocked(), "the classifier is usable at compile time");

struct row {
    const char* host;
    ssrf_options options;
    bool blocked;
    const char* rule;  // the deciding pattern; "" for none
    ipv4_embedding via = ipv4_embedding::none;
};

// Each listed range at its first and last address, and the addresses just outside.
const row table[] = {
    {"0.0.0.0", defaults, true, "0.0.0.0/8"},
    {"0.255.255.255", defaults, true, "0.0.0.0/8"},
    {"1.0.0.0", defaults, false, ""},
    {"9.255.255.255", defaults, false, ""},
    {"10.0.0.0", defaults, true, "10.0.0.0/8"},
    {"10.255.255.255", defaults, true, "10.0.0.0/8"},
    {"11.0.0.0", defaults, false, ""},
    {"100.63.255.255", defaults, false, ""},
    {"100.64.0.0", defaults, true, "100.64.0.0/10"},
    {"100.127.255.255", defaults, true, "100.64.0.0/10"},
    {"100.128.0.0", defaults, false, ""},
    {"126.255.255.255", defaults, false, ""},
    {"127.0.0.0", defaults, true, "127.0.0.0/8"},
    {"127.0.0.1", defaults, true, "127.0.0.0/8"},
    {"127.255.255.255", defaults, true, "127.0.0.0/8"},
    {"128.0.0.0", defaults, false, ""},
    {"169.253.255.255", defaults, false, ""},
    {"169.254.0.0", defaults, true, "169.254.0.0/16"},
    {"169.254.255.255", defaults, true, "169.254.0.0/16"},
    {"169.255.0.0", defaults, false, ""},
    {"172.15.255.255", defaults, false, ""},
    {"172.16.0.0", defaults, true, "172.16.0.0/12"},
    {"172.31.255.255", defaults, true, "172.16.0.0/12"},
    {"172.32.0.0", defaults, false, ""},
    {"191.255.255.255", defaults, false, ""},
    {"192.0.0.0", defaults, true, "192.0.0.0/24"},
    {"192.0.0.255", defaults, true, "192.0.0.0/24"},
    {"192.0.1.0", defaults, false, ""},
    {"192.0.2.0", defaults, true, "192.0.2.0/24"},
    {"192.0.2.255", defaults, true, "192.0.2.0/24"},
    {"192.0.3.0", defaults, false, ""},
    {"192.88.98.255", defaults, false, ""},
    {"192.88.99.0", defaults, true, "192.88.99.0/24"},
    {"192.88.99.255", defaults, true, "192.88.99.0/24"},
    {"192.88.100.0", defaults, false, ""},
    {"192.167.255.255", defaults, false, ""},
    {"192.168.0.0", defaults, true, "192.168.0.0/16"},
    {"192.168.255.255", defaults, true, "192.168.0.0/16"},
    {"192.169.0.0", defaults, false, ""},
    {"198.17.255.255", defaults, false, ""},
    {"198.18.0.0", defaults, true, "198.18.0.0/15"},
    {"198.19.255.255", defaults, true, "198.18.0.0/15"},
    {"198.20.0.0", defaults, false, ""},
    {"198.51.99.255", defaults, false, ""},
    {"198.51.100.0", defaults, true, "198.51.100.0/24"},
    {"198.51.100.255", defaults, true, "198.51.100.0/24"},
    {"198.51.101.0", defaults, false, ""},
    {"203.0.112.255", defaults, false, ""},
    {"203.0.113.0", defaults, true, "203.0.113.0/24"},
    {"203.0.113.255", defaults, true, "203.0.113.0/24"},
    {"203.0.114.0", defaults, false, ""},
    {"223.255.255.255", defaults, false, ""},
    {"224.0.0.0", defaults, true, "224.0.0.0/4"},
    {"239.255.255.255", defaults, true, "224.0.0.0/4"},
    {"240.0.0.0", defaults, true, "240.0.0.0/4"},
    {"255.255.255.254", defaults, true, "240.0.0.0/4"},
    {"255.255.255.255", defaults, true, "255.255.255.255/32"},
    {"8.8.8.8", defaults, false, ""},
    // Cloud metadata: the most specific rule reports, and no option lifts it.
    {"169.254.169.253", defaults, true, "169.254.0.0/16"},
    {"169.254.169.254", defaults, true, "169.254.169.254/32"},
    {"169.254.169.255", defaults, true, "169.254.0.0/16"},
    {"100.100.100.199", defaults, true, "100.64.0.0/10"},
    {"100.100.100.200", everything, true, "100.100.100.200/32"},
    {"fd00:ec2::254", everything, true, "fd00:ec2::254/128"},
    {"fd00:ec2::253", defaults, true, "fc00::/7"},
    {"fd00:ec2::253", unique_local, false, "fc00::/7"},
    // Options.
    {"198.18.0.0", benchmark, false, "198.18.0.0/15"},
    {"198.19.255.255", benchmark, false, "198.18.0.0/15"},
    {"198.18.0.1", unique_local, true, "198.18.0.0/15"},
    {"2001:2::1", benchmark, true, "2001:2::/48"},  // the option is the IPv4 benchmark range only
    {"fc00::", unique_local, false, "fc00::/7"},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", unique_local, false, "fc00::/7"},
    {"fc00::1", benchmark, true, "fc00::/7"},
    // IPv6 ranges.
    {"::", defaults, true, "::/128"},
    {"::1", defaults, true, "::1/128"},
    {"[::1]", defaults, true, "::1/128"},
    {"0:0:0:0:0:0:0:1", defaults, true, "::1/128"},
    {"::1:0:0", defaults, false, ""},
    {"::fffe:ffff:ffff", defaults, false, ""},
    {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"64:ff9b::1:0:0", defaults, false, ""},
    {"64:ff9b:0:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"64:ff9b:2::", defaults, false, ""},
    {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"100::", defaults, true, "100::/64"},
    {"100::ffff:ffff:ffff:ffff", defaults, true, "100::/64"},
    {"100:0:0:1::", defaults, false, ""},
    {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"2001:1::", defaults, false, ""},
    {"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"2001:2::", defaults, true, "2001:2::/48"},
    {"2001:2:0:ffff:ffff:ffff:ffff:ffff", defaults, true, "2001:2::/48"},
    {"2001:2:1::", defaults, false, ""},
    {"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"2001:20::", defaults, true, "2001:20::/28"},
    {"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "2001:20::/28"},
    {"2001:30::", defaults, false, ""},
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"2001:db8::", defaults, true, "2001:db8::/32"},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "2001:db8::/32"},
    {"2001:db9::", defaults, false, ""},
    {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"2003::", defaults, false, ""},
    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"fc00::", defaults, true, "fc00::/7"},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "fc00::/7"},
    {"fe00::", defaults, false, ""},
    {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, false, ""},
    {"fe80::", defaults, true, "fe80::/10"},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "fe80::/10"},
    {"fec0::", defaults, true, "fec0::/10"},
    {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "fec0::/10"},
    {"ff00::", defaults, true, "ff00::/8"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "ff00::/8"},
    {"2606:4700::1111", defaults, false, ""},
    // IPv4-mapped: the address is its IPv4 address.
    {"::ffff:127.0.0.1", defaults, true, "127.0.0.0/8", ipv4_embedding::mapped},
    {"::ffff:7f00:1", defaults, true, "127.0.0.0/8", ipv4_embedding::mapped},
    {"[::ffff:169.254.169.254]", everything, true, "169.254.169.254/32", ipv4_embedding::mapped},
    {"::ffff:0:0", defaults, true, "0.0.0.0/8", ipv4_embedding::mapped},
    {"::ffff:8.8.8.8", defaults, false, "", ipv4_embedding::mapped},
    {"::ffff:198.18.0.1", benchmark, false, "198.18.0.0/15", ipv4_embedding::mapped},
    // IPv4-compatible (::/96, except :: and ::1).
    {"::2", defaults, true, "0.0.0.0/8", ipv4_embedding::compatible},
    {"::127.0.0.1", defaults, true, "127.0.0.0/8", ipv4_embedding::compatible},
    {"::8.8.8.8", defaults, true, "::/96", ipv4_embedding::compatible},
    {"::ffff:ffff", defaults, true, "255.255.255.255/32", ipv4_embedding::compatible},
    // NAT64, well-known and local-use.
    {"64:ff9b::", defaults, true, "0.0.0.0/8", ipv4_embedding::nat64},
    {"64:ff9b::127.0.0.1", defaults, true, "127.0.0.0/8", ipv4_embedding::nat64},
    {"64:ff9b::a9fe:a9fe", everything, true, "169.254.169.254/32", ipv4_embedding::nat64},
    {"64:ff9b::808:808", defaults, true, "64:ff9b::/96", ipv4_embedding::nat64},
    {"64:ff9b::c612:1", benchmark, true, "64:ff9b::/96", ipv4_embedding::nat64},
    {"64:ff9b::ffff:ffff", defaults, true, "255.255.255.255/32", ipv4_embedding::nat64},
    {"64:ff9b:1::", defaults, true, "0.0.0.0/8", ipv4_embedding::nat64_local},
    {"64:ff9b:1::10.1.2.3", defaults, true, "10.0.0.0/8", ipv4_embedding::nat64_local},
    {"64:ff9b:1::8.8.8.8", defaults, true, "64:ff9b:1::/48", ipv4_embedding::nat64_local},
    {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", defaults, true, "255.255.255.255/32", ipv4_embedding::nat64_local},
    // 6to4: the IPv4 in bits 16-47.
    {"2002::", defaults, true, "0.0.0.0/8", ipv4_embedding::six_to_four},
    {"2002:7f00:1::", defaults, true, "127.0.0.0/8", ipv4_embedding::six_to_four},
    {"2002:c0a8:101::1", defaults, true, "192.168.0.0/16", ipv4_embedding::six_to_four},
    {"2002:808:808::", defaults, true, "2002::/16", ipv4_embedding::six_to_four},
    {"2002:c612:1::", benchmark, true, "2002::/16", ipv4_embedding::six_to_four},
    {"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "255.255.255.255/32", ipv4_embedding::six_to_four},
    // Teredo: the client IPv4 is the last 32 bits inverted.
    {"2001::", defaults, true, "255.255.255.255/32", ipv4_embedding::teredo},
    {"2001:0:4136:e378:8000:63bf:80ff:fffe", defaults, true, "127.0.0.0/8", ipv4_embedding::teredo},
    {"2001:0:4136:e378:8000:63bf:5601:5601", everything, true, "169.254.169.254/32", ipv4_embedding::teredo},
    {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", defaults, true, "2001::/32", ipv4_embedding::teredo},
    {"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", defaults, true, "0.0.0.0/8", ipv4_embedding::teredo},
    // ISATAP: interface identifier 0:5efe or 200:5efe (u/g bits), under any prefix.
    {"2001:4860::5efe:c0a8:1", defaults, true, "192.168.0.0/16", ipv4_embedding::isatap},
    {"2001:4860::200:5efe:7f00:1", defaults, true, "127.0.0.0/8", ipv4_embedding::isatap},
    {"2001:4860::100:5efe:a9fe:a9fe", everything, true, "169.254.169.254/32", ipv4_embedding::isatap},
    {"2001:4860::300:5efe:a00:1", defaults, true, "10.0.0.0/8", ipv4_embedding::isatap},
    {"fe80::5efe:7f00:1", defaults, true, "127.0.0.0/8", ipv4_embedding::isatap},
    {"fd00::200:5efe:7f00:1", unique_local, true, "127.0.0.0/8", ipv4_embedding::isatap},
    {"2001:4860::200:5efe:808:808", defaults, false, "", ipv4_embedding::isatap},
    {"2001:4860::400:5efe:7f00:1", defaults, false, ""},  // not an ISATAP identifier
    {"2001:4860::5eff:7f00:1", defaults, false, ""},
    // Host names.
    {"localhost", defaults, true, "localhost"},
    {"LocalHost", defaults, true, "localhost"},
    {"localhost.localdomain", defaults, true, "localhost.localdomain"},
    {"metadata.google.internal", everything, true, "metadata.google.internal"},
    {"METADATA.google.INTERNAL", defaults, true, "metadata.google.internal"},
    {"a.localhost", defaults, true, "*.localhost"},
    {"printer.local", defaults, true, "*.local"},
    {"local", defaults, true, "*.local"},
    {"db.prod.internal", defaults, true, "*.internal"},
    {"example.com", defaults, false, ""},
    {"localhost.example.com", defaults, false, ""},
    {"example.local.com", defaults, false, ""},
    {"notlocal", defaults, false, ""},
    {"xn--bcher-kva.example", defaults, false, ""},
    {"1.2.3.example", defaults, false, ""},
};

// Text a resolver, a browser or inet_aton might turn into an address.
const char* const non_canonical[] = {
    "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "0x7f000001", "127.0.0.01", "127.000.000.001",
    "1.2.3.4.5", "256.0.0.1", "127.0.0.1.", "localhost.", "fe80::1%eth0", "[::1", "::1]", "[127.0.0.1]",
    "::ffff:127.1", "", " 127.0.0.1", "127.0.0.1 ", "exa mple.com", "ex_ample.com", "-a.com", "a-.com",
    "a..b", ".a", "a.", "example.123", "foo.0x1f", "foo.0X", "ex\xc3\xa4mple.com", "[]", "1::2::3",
    "localhost\n", "127.0.0.1:80", "%31%32%37.0.0.1",
};

address addr(std::string_view text) {
    const auto a = address::parse(text);
    REQUIRE(a.has_value());
    return *a;
}

address step(const address& a, int delta) {
    auto b = a.bytes();
    for (int i = 15; i >= 0; --i) {
        auto& byte = b[std::size_t(i)];
        const int v = byte + delta;
        byte = static_cast<std::uint8_t>(v & 0xff);
        if (v >= 0 && v <= 0xff) break;
    }
    return address::from_v6_bytes(b);
}

std::string throws_config_error(bool enabled, std::optional<std::string_view> url, std::optional<std::string_view> env) {
    try {
        parse_proxy_settings(enabled, url, env);
    } catch (const config_error& e) {
        CHECK(e.path() == "proxy.proxyUrl");
        return e.what();
    }
    FAIL("no config_error");
    return {};
}

}  // namespace

TEST_CASE("every range edge, embedded form and host name decides as the issue lists") {
    for (const auto& r : table) {
        INFO(r.host << " allow_benchmark=" << r.options.allow_benchmark
                    << " allow_unique_local=" << r.options.allow_unique_local);
        const auto d = classify_host(r.host, r.options);
        INFO(describe(d));
        CHECK(d.canonical);
        CHECK(d.blocked() == r.blocked);
        CHECK(std::string_view(d.rule ? d.rule->pattern : "") == r.rule);
        CHECK(d.via.form == r.via);
    }
}

TEST_CASE("text that is not a canonical address or host name is blocked") {
    for (const char* text : non_canonical) {
        INFO('"' << text << '"');
        const auto d = classify_host(text, everything);
        CHECK(d.blocked());
        CHECK_FALSE(d.canonical);
    }
    CHECK(classify_host(std::string(253, 'a').replace(63, 1, ".").replace(127, 1, ".").replace(191, 1, "."))
              .verdict == ssrf_verdict::allowed);
    CHECK_FALSE(classify_host(std::string(254, 'a').replace(63, 1, ".").replace(127, 1, ".").replace(191, 1, "."))
                    .canonical);
    CHECK_FALSE(classify_host(std::string(64, 'a') + ".com").canonical);
}

TEST_CASE("classify judges resolved addresses the way classify_host judges literals") {
    CHECK(classify(addr("127.0.0.1")).blocked());
    CHECK(classify(addr("::ffff:127.0.0.1")).rule->pattern == "127.0.0.0/8");
    CHECK_FALSE(classify(addr("93.184.216.34")).blocked());
    const auto embedded = find_embedded_ipv4(addr("2002:a9fe:a9fe::"));
    REQUIRE(embedded.has_value());
    CHECK(embedded->form == ipv4_embedding::six_to_four);
    CHECK(embedded->v4 == addr("169.254.169.254"));
    CHECK_FALSE(find_embedded_ipv4(addr("::1")).has_value());
    CHECK_FALSE(find_embedded_ipv4(addr("127.0.0.1")).has_value());
}

TEST_CASE("a decision describes itself in one line") {
    CHECK(describe(classify_host("2002:7f00:1::")) == "blocked: 127.0.0.0/8 - loopback; embedded IPv4 127.0.0.1 (6to4)");
    CHECK(describe(classify_host("198.18.0.1", benchmark)) ==
          "allowed: 198.18.0.0/15 - benchmarking (RFC 2544); allowed by option");
    CHECK(describe(classify_host("127.1")) == "blocked: not a canonical address or host name (fail closed)");
    CHECK(describe(classify_host("8.8.8.8")) == "allowed: no special-use range");
}

TEST_CASE("proxy settings: config first, then the environment, never direct when enabled") {
    CHECK_FALSE(parse_proxy_settings(false, std::nullopt, "http://127.0.0.1:3128").enabled);
    CHECK_FALSE(parse_proxy_settings(false, std::nullopt, "garbage").enabled);

    const auto configured = parse_proxy_settings(true, "http://127.0.0.1:3128", "http://10.0.0.9:8080");
    CHECK(configured.enabled);
    CHECK(configured.host == "127.0.0.1");
    CHECK(configured.port == 3128);
    CHECK(configured.source == "proxy.proxyUrl");
    CHECK(configured.url() == "http://127.0.0.1:3128");
    CHECK(parse_proxy_settings(true, "http://127.0.0.1:3128", "not a url").port == 3128);

    const auto from_env = parse_proxy_settings(true, std::nullopt, "http://[::1]:8080/");
    CHECK(from_env.host == "::1");
    CHECK(from_env.source == "TRUSTGATE_PROXY_URL");
    CHECK(from_env.url() == "http://[::1]:8080");
    CHECK(parse_proxy_settings(true, "HTTP://proxy.corp.example:3128", std::nullopt).host == "proxy.corp.example");

    CHECK_THAT(throws_config_error(true, std::nullopt, std::nullopt),
               Catch::Matchers::Contains("never falls back to direct"));
    CHECK_THAT(throws_config_error(false, "http://127.0.0.1", std::nullopt), Catch::Matchers::Contains("port"));
    CHECK_THAT(throws_config_error(true, std::nullopt, "https://127.0.0.1:3128"),
               Catch::Matchers::Contains("TRUSTGATE_PROXY_URL"));
    for (const char* bad : {"https://127.0.0.1:3128", "socks5://127.0.0.1:1080", "http://127.0.0.1", "http://127.0.0.1:0",
                            "http://127.0.0.1:65536", "http://127.0.0.1:03128", "http://127.0.0.1:3128/path",
                            "http://127.0.0.1:3128?x=1", "http://127.0.0.1:3128#f", "127.0.0.1:3128", "http://:3128",
                            "http://127.1:3128", "", "http://[::1:3128", "http://exa mple:3128", "http://[127.0.0.1]:3128",
                            "http://user@127.0.0.1:3128"}) {
        INFO('"' << bad << '"');
        throws_config_error(true, bad, std::nullopt);
    }
}

TEST_CASE("a proxy URL's credentials and suffix never appear in an error") {
    for (const char* url : {"http://user:hunter2@127.0.0.1:3128", "https://user:hunter2@127.0.0.1:3128",
                            "http://127.0.0.1:3128/hunter2", "http://127.0.0.1:3128?key=hunter2",
                            "http://127.0.0.1:3128#hunter2", "http://user:hunter2@", "user:hunter2@127.0.0.1:3128",
                            "http://user:hun/ter2@127.0.0.1:3128", "http://user:hunter2", "http://hunter2:x@[::1]:3128"}) {
        INFO(url);
        for (const auto& message : {throws_config_error(true, url, std::nullopt),
                                    throws_config_error(true, std::nullopt, url)}) {
            INFO(message);
            CHECK(message.find("hunter2") == std::string::npos);
            CHECK(message.find("ter2") == std::string::npos);
        }
        CHECK(redact_url(url).find("hunter2") == std::string::npos);
    }
    CHECK(redact_url("http://user:hunter2@127.0.0.1:3128/x?y") == "http://***@127.0.0.1:3128/***");
    CHECK(redact_url("http://[::1]:3128/") == "http://[::1]:3128");
}

TEST_CASE("target URLs: strict parse, origin-form target, authority for CONNECT") {
    const auto t = parse_target_url("HTTPS://Example.com:8443/p/a?q=1#frag");
    CHECK(t.scheme == url_scheme::https);
    CHECK(t.host == "Example.com");
    CHECK(t.port == 8443);
    CHECK(t.target == "/p/a?q=1");
    CHECK(t.authority() == "Example.com:8443");
    CHECK(t.host_header() == "Example.com:8443");
    CHECK(parse_target_url("http://example.com").target == "/");
    CHECK(parse_target_url("http://example.com?x=1").target == "/?x=1");
    CHECK(parse_target_url("wss://example.com").port == 443);
    const auto v6 = parse_target_url("http://[2606:4700::1111]/x");
    CHECK(v6.authority() == "[2606:4700::1111]:80");
    CHECK(v6.host_header() == "[2606:4700::1111]");
    CHECK(v6.absolute_form() == "http://[2606:4700::1111]:80/x");
    for (const char* bad : {"ftp://example.com/", "http://user:pw@example.com/", "http://169.254.169.254@example.com/",
                            "http://exa mple.com/", "http://example.com/a b", "http://example.com/\r\nX-Evil: 1",
                            "http://example.com\\@127.0.0.1/", "http://127.1/", "example.com", "http://:80/",
                            "http://example.com:99999/"}) {
        INFO('"' << bad << '"');
        try {
            parse_target_url(bad);
            FAIL("accepted");
        } catch (const egress_error& e) {
            CHECK(e.failure() == egress_failure::bad_url);
        }
    }
    try {
        parse_target_url("http://user:hunter2@example.com/");
    } catch (const egress_error& e) {
        CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
    }
}

// Issue 19 item 11: each condition of net/impl/url_text.hpp and net/egress.hpp, on
// both sides, so that a flipped comparison or a dropped check fails a line here.
TEST_CASE("split_url: every condition, both ways") {
    using detail::split_url;
    const auto host_of = [](std::string_view url) { return std::string(split_url(url).value().host); };
    // The scheme: `://` present, not first, letters then letters, digits, + - .
    for (const char* bad : {"example.com", "http:/example.com", "http:example.com", "://example.com", "1http://example.com",
                            "+x://example.com", "`x://example.com", "{x://example.com", "@x://example.com", "[x://example.com",
                            "ht_tp://example.com", "ht tp://example.com", "h*t://example.com", "h/t://example.com"}) {
        INFO(bad);
        CHECK_FALSE(split_url(bad).has_value());
    }
    for (const char* good : {"a://example.com", "z://example.com", "A://example.com", "Z://example.com", "svn+ssh://example.com",
                             "a.b://example.com", "x-y://example.com", "h2://example.com", "H09az://example.com"}) {
        INFO(good);
        CHECK(split_url(good).has_value());
    }
    CHECK(split_url("Http://example.com")->scheme == "Http");
    // The authority ends at the first / ? # or backslash.
    for (const auto& [url, rest] : std::vector<std::pair<std::string_view, std::string_view>>{
             {"http://example.com", ""}, {"http://example.com/p", "/p"}, {"http://example.com?q=/", "?q=/"},
             {"http://example.com#f/", "#f/"}, {"http://example.com\\x", "\\x"}, {"http://example.com:81/p?q#f", "/p?q#f"}}) {
        INFO(url);
        REQUIRE(split_url(url).has_value());
        CHECK(split_url(url)->rest == rest);
        CHECK(split_url(url)->host == "example.com");
    }
    // Userinfo: everything up to the last @ of the authority, never a @ of the path.
    CHECK_FALSE(split_url("http://example.com")->has_userinfo);
    CHECK(split_url("http://u:p@example.com")->has_userinfo);
    CHECK(host_of("http://a@b@example.com") == "example.com");
    CHECK_FALSE(split_url("http://example.com/@x")->has_userinfo);
    CHECK(host_of("http://example.com/@x") == "example.com");
    // Bracketed IPv6, with and without a port; nothing else after the bracket.
    const auto v6 = split_url("http://[2001:db8::1]:8080/x").value();
    CHECK(v6.host == "2001:db8::1");
    CHECK(v6.host_is_ipv6);
    CHECK(v6.port == 8080);
    CHECK(split_url("http://[2001:db8::1]").value().port == std::nullopt);
    CHECK(split_url("http://[::1]/").value().host_is_ipv6);
    CHECK_FALSE(split_url("http://example.com").value().host_is_ipv6);
    for (const char* bad : {"http://[::1/", "http://[::1]x/", "http://[::1]:/", "http://[127.0.0.1]/", "http://[example.com]/",
                            "http://[]/", "http://::1/", "http:///", "http://", "http://exa mple.com/", "http://127.1/",
                            "http://localhost./"}) {
        INFO(bad);
        CHECK_FALSE(split_url(bad).has_value());
    }
    // A host is an address or a canonical name.
    CHECK(host_of("http://127.0.0.1/") == "127.0.0.1");
    CHECK(host_of("http://example.com/") == "example.com");
    CHECK(host_of("http://localhost/") == "localhost");
    // Ports: 1-65535 in decimal, no sign, no leading zero, and no wrap-around.
    CHECK(split_url("http://example.com").value().port == std::nullopt);
    for (const auto& [url, port] : std::vector<std::pair<std::string_view, int>>{
             {"http://example.com:1", 1}, {"http://example.com:8080", 8080}, {"http://example.com:10000", 10000},
             {"http://example.com:65535", 65535}, {"http://[::1]:9", 9}}) {
        INFO(url);
        CHECK(split_url(url).value().port == port);
    }
    for (const char* bad : {"http://example.com:", "http://example.com:0", "http://example.com:080", "http://example.com:65536",
                            "http://example.com:99999", "http://example.com:123456", "http://example.com:4294967377",
                            "http://example.com:8a", "http://example.com:+80", "http://example.com:-1", "http://example.com: 80"}) {
        INFO(bad);
        CHECK_FALSE(split_url(bad).has_value());
    }
}

TEST_CASE("redact_url: every part, shown or hidden") {
    using detail::redact_url;
    CHECK(redact_url("not a url") == "<not shown: not a URL of the form http://host:port>");
    CHECK(redact_url("http://example.com") == "http://example.com");
    CHECK(redact_url("http://example.com/") == "http://example.com");
    CHECK(redact_url("http://example.com/x") == "http://example.com/***");
    CHECK(redact_url("http://example.com?k=v") == "http://example.com/***");
    CHECK(redact_url("http://u:p@example.com:81") == "http://***@example.com:81");
    CHECK(redact_url("https://[::1]") == "https://[::1]");
}

TEST_CASE("egress: schemes, failures, default ports and the origin-form target") {
    CHECK_FALSE(uses_tls(url_scheme::http));
    CHECK(uses_tls(url_scheme::https));
    CHECK_FALSE(uses_tls(url_scheme::ws));
    CHECK(uses_tls(url_scheme::wss));
    CHECK_FALSE(is_websocket(url_scheme::http));
    CHECK_FALSE(is_websocket(url_scheme::https));
    CHECK(is_websocket(url_scheme::ws));
    CHECK(is_websocket(url_scheme::wss));
    CHECK(to_string(egress_failure::bad_url) == "bad_url");
    CHECK(to_string(egress_failure::blocked) == "blocked");
    CHECK(to_string(egress_failure::resolve_failed) == "resolve_failed");
    CHECK(to_string(egress_failure::connect_failed) == "connect_failed");
    CHECK(to_string(egress_failure::proxy_refused) == "proxy_refused");
    CHECK(to_string(egress_failure::timeout) == "timeout");
    CHECK(to_string(egress_failure::protocol) == "protocol");
    CHECK(std::string(egress_error(egress_failure::timeout, "x").what()) == "timeout: x");

    for (const auto& [url, scheme, port, host_header] : std::vector<std::tuple<std::string_view, url_scheme, int, std::string_view>>{
             {"http://example.com", url_scheme::http, 80, "example.com"},
             {"HTTPS://example.com", url_scheme::https, 443, "example.com"},
             {"ws://example.com", url_scheme::ws, 80, "example.com"},
             {"Wss://example.com", url_scheme::wss, 443, "example.com"},
             {"http://example.com:443", url_scheme::http, 443, "example.com:443"},
             {"https://example.com:80", url_scheme::https, 80, "example.com:80"},
             {"ws://example.com:443", url_scheme::ws, 443, "example.com:443"},
             {"wss://example.com:80", url_scheme::wss, 80, "example.com:80"},
             {"https://[2001:db8::1]", url_scheme::https, 443, "[2001:db8::1]"},
             {"http://[2001:db8::1]:81", url_scheme::http, 81, "[2001:db8::1]:81"}}) {
        INFO(url);
        const auto t = parse_target_url(url);
        CHECK(t.scheme == scheme);
        CHECK(t.port == port);
        CHECK(t.host_header() == host_header);
    }
    CHECK_FALSE(parse_target_url("http://example.com").host_is_ipv6());
    CHECK(parse_target_url("http://[::1]").host_is_ipv6());
    CHECK(parse_target_url("http://[::1]").authority() == "[::1]:80");
    CHECK(parse_target_url("http://example.com").authority() == "example.com:80");
    CHECK(parse_target_url("http://example.com:81/a?b").absolute_form() == "http://example.com:81/a?b");
    // The target: the fragment dropped, a leading / added, visible ASCII only.
    for (const auto& [url, target] : std::vector<std::pair<std::string_view, std::string_view>>{
             {"http://example.com", "/"}, {"http://example.com#f", "/"}, {"http://example.com?q", "/?q"},
             {"http://example.com/p#f", "/p"}, {"http://example.com/p?q#f#g", "/p?q"}, {"http://example.com/!~", "/!~"}}) {
        INFO(url);
        CHECK(parse_target_url(url).target == target);
    }
    for (const char* bad : {"http://example.com/a b", "http://example.com/a\x7f", "http://example.com/a\x1f",
                            "http://example.com/a\\b", "http://example.com\\b", "gopher://example.com/", "http2://example.com/",
                            "wsx://example.com/", "http://u@example.com/"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_target_url(bad), egress_error);
    }
}

TEST_CASE("routes and their descriptions, every branch") {
    const auto proxy = parse_proxy_settings(true, "http://127.0.0.1:3128", std::nullopt);
    const proxy_settings direct;
    // The gateway path takes a literal loopback address only; a public address or a name
    // routes like any other URL.
    CHECK(plan_route("ws://93.184.216.34/", proxy, defaults, egress_purpose::gateway_control).kind == route_kind::proxy_connect);
    CHECK(plan_route("http://example.com/", proxy, defaults, egress_purpose::gateway_control).kind == route_kind::proxy_absolute_form);
    CHECK(plan_route("http://example.com/", direct, defaults).kind == route_kind::direct_checked);
    CHECK(plan_route("ws://example.com/", direct, defaults).kind == route_kind::direct_checked);
    CHECK(describe(plan_route("http://example.com/", proxy, defaults), proxy) ==
          "http://example.com:80 via proxy http://127.0.0.1:3128 (absolute form)");
    CHECK(describe(plan_route("ws://example.com/", proxy, defaults), proxy) ==
          "ws://example.com:80 via proxy http://127.0.0.1:3128 (CONNECT tunnel)");
    CHECK(describe(plan_route("wss://example.com/", direct, defaults), direct) == "wss://example.com:443 direct to classifier-checked addresses");
    CHECK(describe(plan_route("ws://127.0.0.1:18789/", proxy, defaults, egress_purpose::gateway_control), proxy) ==
          "ws://127.0.0.1:18789 direct (gateway control plane on loopback)");
    // The egress error names the host and the classifier's reason.
    try {
        plan_route("http://169.254.169.254/", direct, everything);
        FAIL("not blocked");
    } catch (const egress_error& e) {
        CHECK_THAT(std::string(e.what()), Catch::Matchers::StartsWith("blocked: 169.254.169.254: "));
    }
}

TEST_CASE("routes: proxy for everything, direct only to a literal loopback gateway") {
    const auto proxy = parse_proxy_settings(true, "http://127.0.0.1:3128", std::nullopt);
    const proxy_settings direct;
    const auto kind = [](std::string_view url, const proxy_settings& p, egress_purpose purpose = egress_purpose::general) {
        return plan_route(url, p, defaults, purpose).kind;
    };
    CHECK(kind("http://example.com/x", proxy) == route_kind::proxy_absolute_form);
    CHECK(kind("https://example.com/x", proxy) == route_kind::proxy_connect);
    CHECK(kind("ws://example.com/x", proxy) == route_kind::proxy_connect);
    CHECK(kind("wss://example.com/x", proxy) == route_kind::proxy_connect);
    CHECK(kind("https://example.com/x", direct) == route_kind::direct_checked);
    CHECK(kind("ws://127.0.0.1:18789/", proxy, egress_purpose::gateway_control) == route_kind::direct_loopback_gateway);
    CHECK(kind("ws://[::1]:18789/", proxy, egress_purpose::gateway_control) == route_kind::direct_loopback_gateway);
    CHECK(kind("ws://127.0.0.1:18789/", direct, egress_purpose::gateway_control) == route_kind::direct_loopback_gateway);
    CHECK(kind("wss://example.com/", proxy, egress_purpose::gateway_control) == route_kind::proxy_connect);
    const auto refused = [&](std::string_view url, const proxy_settings& p, egress_purpose purpose) {
        INFO(url << " proxy=" << p.enabled << " gateway=" << (purpose == egress_purpose::gateway_control));
        try {
            plan_route(url, p, defaults, purpose);
            FAIL("not blocked");
        } catch (const egress_error& e) {
            CHECK(e.failure() == egress_failure::blocked);
        }
    };
    for (const auto* p : {&proxy, &direct}) {
        for (const char* url : {"http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/", "http://10.0.0.1/",
                                "http://metadata.google.internal/", "http://[::ffff:127.0.0.1]/", "ws://localhost:18789/"})
            refused(url, *p, egress_purpose::general);
        // The gateway path is for literal loopback addresses only: a name or another address routes as usual.
        for (const char* url : {"ws://localhost:18789/", "ws://10.0.0.1:18789/", "ws://169.254.169.254/"})
            refused(url, *p, egress_purpose::gateway_control);
    }
    const auto r = plan_route("https://example.com/secret-token", proxy, defaults);
    CHECK(describe(r, proxy) == "https://example.com:443 via proxy http://127.0.0.1:3128 (CONNECT tunnel)");
}

TEST_CASE("the exported policy blocks exactly what the classifier blocks") {
    std::vector<address> probes;
    for (const auto& r : ssrf_address_rules) {
        for (const auto& a : {r.block.first(), r.block.last()}) {
            probes.push_back(a);
            probes.push_back(step(a, -1));
            probes.push_back(step(a, +1));
        }
    }
    for (const auto& r : table)
        if (const auto a = address::parse(r.host)) probes.push_back(*a);

    for (const auto& options : {defaults, benchmark, unique_local, everything}) {
        std::vector<cidr> blocks;
        std::istringstream lines(export_policy(policy_format::cidr, options));
        for (std::string line; std::getline(lines, line);) {
            const auto block = cidr::parse(line);
            REQUIRE(block.has_value());
            blocks.push_back(*block);
        }
        const prefix_set exported(blocks);
        for (const auto& a : probes) {
            const auto embedded = find_embedded_ipv4(a);
            // No CIDR can say "an ISATAP identifier under any prefix"; the client refuses those.
            if (embedded && embedded->form == ipv4_embedding::isatap) continue;
            INFO(a.to_string() << " " << describe(classify(a, options)));
            CHECK(classify(a, options).blocked() == exported.contains(a));
        }
    }
}

TEST_CASE("squid and nginx policies carry every block and name") {
    const auto squid = export_policy(policy_format::squid, benchmark);
    CHECK_THAT(squid, Catch::Matchers::Contains("acl trustgate_egress_blocked dst 127.0.0.0/8\n"));
    CHECK_THAT(squid, Catch::Matchers::Contains("acl trustgate_egress_blocked dst 2002::/16\n"));
    CHECK_THAT(squid, Catch::Matchers::Contains(
                          "acl trustgate_egress_blocked_names dstdomain -n localhost.localdomain .localhost .local .internal\n"));
    CHECK_THAT(squid, Catch::Matchers::Contains("http_access deny trustgate_egress_blocked\n"));
    CHECK(squid.find("dst 198.18.0.0/15") == std::string::npos);
    CHECK_THAT(export_policy(policy_format::squid), Catch::Matchers::Contains("dst 198.18.0.0/15\n"));
    CHECK_THAT(export_policy(policy_format::squid, unique_local), Catch::Matchers::Contains("dst fd00:ec2::254/128\n"));
    CHECK(export_policy(policy_format::squid, unique_local).find("dst fc00::/7") == std::string::npos);
    const auto nginx = export_policy(policy_format::nginx);
    CHECK_THAT(nginx, Catch::Matchers::Contains("geo $host $trustgate_egress_blocked {\n    default 0;\n"));
    CHECK_THAT(nginx, Catch::Matchers::Contains("    169.254.0.0/16 1;\n"));
    CHECK(parse_policy_format("squid") == policy_format::squid);
    CHECK_FALSE(parse_policy_format("iptables").has_value());
}
