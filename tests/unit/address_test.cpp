// behaviour §2: strict addresses, CIDRs and the compiled prefix set.
#include <support/catch.hpp>

#include <string>
#include <vector>

#include <trustgate/client_ip.hpp>
#include <trustgate/impl/scan.hpp>
#include <trustgate/detail/uri_text.hpp>
#include <trustgate/net/address.hpp>
#include <trustgate/net/cidr.hpp>
#include <trustgate/net/impl/url_text.hpp>
#include <trustgate/net/prefix_set.hpp>

using trustgate::net::address;
using trustgate::net::cidr;
using trustgate::net::prefix_set;

namespace {
address addr(const char* text) {
    const auto a = address::parse(text);
    REQUIRE(a.has_value());
    return *a;
}

prefix_set set_of(std::vector<std::string> entries) {
    std::vector<cidr> blocks;
    for (const auto& e : entries) {
        const auto b = cidr::parse(e);
        REQUIRE(b.has_value());
        blocks.push_back(*b);
    }
    return prefix_set(blocks);
}
}  // namespace

TEST_CASE("canonical addresses parse and print back") {
    for (const char* text : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "10.1.2.3", "::", "::1", "fe80::1",
                             "2001:db8::8:800:200c:417a", "1::", "1:2:3:4:5:6:7:8", "2001:db8::1:0:0:1"}) {
        INFO(text);
        CHECK(addr(text).to_string() == text);
    }
}

TEST_CASE("IPv6 text forms normalise to one value") {
    CHECK(addr("2001:DB8:0:0:0:0:0:1") == addr("2001:db8::1"));
    CHECK(addr("[::1]") == addr("::1"));
    CHECK(addr("0:0:0:0:0:0:0:1") == addr("::1"));
    CHECK(addr("::ffff:7f00:1") == addr("127.0.0.1"));
    CHECK(addr("1:2:3:4:5:6:1.2.3.4").to_string() == "1:2:3:4:5:6:102:304");
    CHECK(addr("1:0:0:2:0:0:0:3").to_string() == "1:0:0:2::3");  // longest zero run
    CHECK(addr("1:0:2:3:4:5:6:7").to_string() == "1:0:2:3:4:5:6:7");  // a single zero stays
}

TEST_CASE("a mapped IPv6 peer is the IPv4 address") {
    const auto mapped = addr("::ffff:127.0.0.1");
    CHECK(mapped == addr("127.0.0.1"));
    CHECK(mapped.is_v4());
    CHECK(mapped.is_loopback());
    CHECK(mapped.to_string() == "127.0.0.1");
    CHECK(addr("[::ffff:10.0.0.1]") == addr("10.0.0.1"));
    // IPv4-compatible (deprecated) is a different, non-loopback address.
    CHECK_FALSE(addr("::127.0.0.1").is_loopback());
}

TEST_CASE("non-canonical and hostile address text is rejected") {
    for (const char* text :
         {"", "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "1.2.3.4.5", "1.2.3", "01.2.3.4", "1.2.3.04",
          "256.0.0.1", "1.2.3.-1", "+1.2.3.4", " 127.0.0.1", "127.0.0.1 ", "127.0.0 .1", "fe80::1%eth0",
          "[127.0.0.1]", "[::1", "::1]", ":::", "1:::2", "1::2::3", ":1::2", "1::2:", "12345::", "g::1",
          "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1.2.3.4::", "::1.2.3", "::1.2.3.4.5",
          "1:2:3:4:5:6:7:1.2.3.4", "localhost", "1.2.3.4\n", "[]", "::ffff:127.1"}) {
        INFO('"' << text << '"');
        CHECK_FALSE(address::parse(text).has_value());
    }
}

TEST_CASE("classification") {
    CHECK(addr("127.255.255.255").is_loopback());
    CHECK_FALSE(addr("128.0.0.1").is_loopback());
    CHECK_FALSE(addr("::2").is_loopback());
    CHECK(addr("10.0.0.1").is_private());
    CHECK(addr("172.16.0.1").is_private());
    CHECK(addr("172.31.255.255").is_private());
    CHECK_FALSE(addr("172.32.0.0").is_private());
    CHECK(addr("192.168.1.1").is_private());
    CHECK(addr("fd00::1").is_private());
    CHECK(addr("fc00::1").is_private());
    CHECK_FALSE(addr("fe00::1").is_private());
    CHECK(addr("169.254.0.1").is_link_local());
    CHECK(addr("fe80::1").is_link_local());
    CHECK(addr("febf::1").is_link_local());
    CHECK_FALSE(addr("fec0::1").is_link_local());
    CHECK(addr("0.0.0.0").is_unspecified());
    CHECK(addr("::").is_unspecified());
}

TEST_CASE("CIDR parsing enforces family width and zero host bits") {
    CHECK(cidr::parse("10.0.0.0/8").has_value());
    CHECK(cidr::parse("10.0.0.0/8")->prefix_length() == 8);
    CHECK(cidr::parse("0.0.0.0/0").has_value());
    CHECK(cidr::parse("::/0").has_value());
    CHECK(cidr::parse("2001:db8::/32").has_value());
    CHECK(cidr::parse("[2001:db8::]/32").has_value());
    CHECK(cidr::parse("1.2.3.4")->prefix_length() == 32);
    CHECK(cidr::parse("::1")->prefix_length() == 128);
    for (const char* text : {"10.0.0.1/8", "10.0.0.0/33", "::/129", "2001:db8::1/32", "10.0.0.0/", "10.0.0.0/08",
                             "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0 /8", "127.1/32", "/8", "10.0.0.0/1000"}) {
        INFO(text);
        CHECK_FALSE(cidr::parse(text).has_value());
    }
}

TEST_CASE("CIDR containment at the edges") {
    const auto block = *cidr::parse("192.168.4.0/22");
    CHECK(block.contains(addr("192.168.4.0")));
    CHECK(block.contains(addr("192.168.7.255")));
    CHECK_FALSE(block.contains(addr("192.168.3.255")));
    CHECK_FALSE(block.contains(addr("192.168.8.0")));
    CHECK(block.contains(addr("::ffff:192.168.5.5")));
    CHECK(block.to_string() == "192.168.4.0/22");
    const auto v6 = *cidr::parse("2001:db8::/127");
    CHECK(v6.contains(addr("2001:db8::1")));
    CHECK_FALSE(v6.contains(addr("2001:db8::2")));
    // An IPv4 /0 is the mapped space only, not all of IPv6.
    CHECK_FALSE(cidr::parse("0.0.0.0/0")->contains(addr("::1")));
    // An IPv6 block never holds an IPv4 address, even where its bits span them (behaviour §1).
    for (const char* wide : {"::/0", "::/80", "::fffe:0:0/95"}) {
        INFO(wide);
        CHECK_FALSE(cidr::parse(wide)->contains(addr("0.0.0.0")));
        CHECK_FALSE(cidr::parse(wide)->contains(addr("::ffff:127.0.0.1")));
        CHECK_FALSE(cidr::parse(wide)->contains(addr("255.255.255.255")));
        CHECK(cidr::parse(wide)->contains(addr("::fffe:ffff:ffff")));
    }
    CHECK(cidr::parse("::/0")->contains(addr("::1:0:0:0")));
}

TEST_CASE("a prefix counts in the family the text is written in") {
    CHECK(cidr::parse("::ffff:10.0.0.0/104")->to_string() == "10.0.0.0/8");
    CHECK(cidr::parse("::ffff:0:0/96")->to_string() == "0.0.0.0/0");
    CHECK(cidr::parse("[::ffff:127.0.0.1]/128")->to_string() == "127.0.0.1/32");
    CHECK_FALSE(cidr::parse("::ffff:10.0.0.0/8").has_value());  // host bits set
    CHECK_FALSE(cidr::parse("10.0.0.0/104").has_value());
}

TEST_CASE("prefix_set matches exactly its blocks") {
    const auto set = set_of({"127.0.0.1", "::1", "10.0.0.0/8", "172.16.0.0/12", "2001:db8::/64", "10.1.0.0/16"});
    CHECK(set.contains(addr("127.0.0.1")));
    CHECK_FALSE(set.contains(addr("127.0.0.2")));
    CHECK(set.contains(addr("::1")));
    CHECK(set.contains(addr("::ffff:127.0.0.1")));
    CHECK(set.contains(addr("10.255.255.255")));
    CHECK_FALSE(set.contains(addr("11.0.0.0")));
    CHECK_FALSE(set.contains(addr("9.255.255.255")));
    CHECK(set.contains(addr("172.31.0.1")));
    CHECK(set.contains(addr("2001:db8::ffff")));
    CHECK_FALSE(set.contains(addr("2001:db8:0:1::")));
    CHECK(set.range_count() == 5);  // 10.1/16 merged into 10/8
    CHECK_FALSE(prefix_set().contains(addr("127.0.0.1")));
}

TEST_CASE("adjacent and nested blocks merge without changing membership") {
    const auto set = set_of({"10.0.0.0/25", "10.0.0.128/25", "10.0.1.0/24", "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"});
    CHECK(set.range_count() == 3);
    CHECK(set.contains(addr("10.0.1.255")));
    CHECK_FALSE(set.contains(addr("10.0.2.0")));
    CHECK(set.contains(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    CHECK(set.overlaps(*cidr::parse("10.0.0.0/8")));
    CHECK_FALSE(set.overlaps(*cidr::parse("127.0.0.0/8")));
}

TEST_CASE("prefix_set: an IPv6 block leaves out the IPv4-mapped space") {
    for (const char* wide : {"::/0", "::/80", "::fffe:0:0/95"}) {
        INFO(wide);
        const auto set = set_of({wide});
        CHECK_FALSE(set.contains(addr("0.0.0.0")));
        CHECK_FALSE(set.contains(addr("127.0.0.1")));
        CHECK_FALSE(set.contains(addr("255.255.255.255")));
        CHECK(set.contains(addr("::fffe:ffff:ffff")));
        CHECK_FALSE(set.overlaps(*cidr::parse("127.0.0.0/8")));
    }
    CHECK(set_of({"::/0"}).contains(addr("::1:0:0:0")));
    CHECK(set_of({"::/80"}).contains(addr("::")));
    CHECK(set_of({"::/0"}).range_count() == 2);
    CHECK_FALSE(set_of({"::/80"}).contains(addr("::1:0:0:0")));
    // With an IPv4 entry beside it, every IPv4 address in that entry matches, no other.
    const auto both = set_of({"::/0", "10.0.0.0/8"});
    CHECK(both.contains(addr("10.1.2.3")));
    CHECK_FALSE(both.contains(addr("11.0.0.0")));
    CHECK(set_of({"::/0", "0.0.0.0/0"}).range_count() == 1);
}

TEST_CASE("prefix_set agrees with a linear scan over many blocks") {
    std::vector<cidr> blocks;
    for (unsigned i = 0; i < 1000; ++i)
        blocks.push_back(*cidr::make(address::from_v4_uint((i * 2654435761u) & 0xffffff00u), 24));
    const prefix_set set(blocks);
    for (unsigned probe = 0; probe < 20000; ++probe) {
        const auto a = address::from_v4_uint(probe * 2246822519u);
        bool linear = false;
        for (const auto& b : blocks) linear = linear || b.contains(a);
        REQUIRE(set.contains(a) == linear);
    }
}

TEST_CASE("one port grammar: the Host check, x-forwarded-for and URLs agree on every port") {
    using trustgate::detail::parse_port;
    CHECK(parse_port("1") == 1);
    CHECK(parse_port("65535") == 65535);
    for (const char* bad : {"", "0", "00080", "080", "65536", "123456", "+80", "8o", " 80"}) {
        INFO('"' << bad << '"');
        CHECK_FALSE(parse_port(bad).has_value());
    }
    // The same text, read in each of the three places that take a port.
    for (const char* port : {"80", "65535", "00080", "0", "65536", "123456"}) {
        INFO(port);
        const bool valid = parse_port(port).has_value();
        CHECK(trustgate::detail::names_local_host(std::string("localhost:") + port) == valid);
        CHECK(trustgate::detail::names_local_host(std::string("[::1]:") + port) == valid);
        CHECK(trustgate::detail::parse_forwarded_entry(std::string("203.0.113.9:") + port).has_value() == valid);
        CHECK(trustgate::detail::parse_forwarded_entry(std::string("[2001:db8::1]:") + port).has_value() == valid);
        CHECK(trustgate::net::detail::split_url(std::string("http://127.0.0.1:") + port + "/").has_value() == valid);
    }
}

TEST_CASE("one scheme grammar: Origin and URLs agree on RFC 3986 schemes") {
    using trustgate::detail::is_uri_scheme;
    for (const char* scheme : {"http", "HTTPS", "chrome-extension", "a+b.c-d", "ws"}) {
        INFO(scheme);
        CHECK(is_uri_scheme(scheme));
        CHECK(trustgate::detail::origin_names_local_host(std::string(scheme) + "://localhost"));
        CHECK(trustgate::net::detail::split_url(std::string(scheme) + "://localhost").has_value());
    }
    for (const char* scheme : {"", "1http", "-x", "+x", ".x", "ht tp", "h_t"}) {
        INFO(scheme);
        CHECK_FALSE(is_uri_scheme(scheme));
        CHECK_FALSE(trustgate::detail::origin_names_local_host(std::string(scheme) + "://localhost"));
        CHECK_FALSE(trustgate::net::detail::split_url(std::string(scheme) + "://localhost").has_value());
    }
}
