// Fuzz target: the SSRF classifier (trustgate/net/ssrf.hpp) and route planning.
//
// Input: byte 0 holds the options (bit 0 allow_benchmark, bit 1 allow_unique_local); the
// rest is lines of text, each classified as a URL host and planned as an outbound URL.
// The first and last 16 bytes of the input are also classified as raw addresses.
// Properties:
// - classify(address) agrees with a plain reference: the longest rule whose cidr
//   contains the address (cidr::contains, not the precomputed 64-bit ends), with an
//   embedded IPv4 address judged first;
// - loopback, link-local, unspecified and private addresses are always blocked (unique
//   local only unless allowed); metadata services whatever the options; options only
//   ever lift blocks;
// - classify_host(text) is classify(parse(text)) for address text, the same for the
//   canonical spelling (and brackets), case-insensitive for names, and fails closed on
//   text that is neither (a trailing dot included);
// - plan_route throws nothing but egress_error, and routes only to hosts the classifier
//   allows.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <trustgate/model/reference_model.hpp>
#include <trustgate/net/address.hpp>
#include <trustgate/net/egress.hpp>
#include <trustgate/net/ssrf.hpp>

#include "fuzz_check.hpp"

namespace {

using namespace trustgate::net;
using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

const ssrf_options all_options{true, true};

// The rule a plain longest-prefix scan picks, or null.
const ssrf_rule* reference_rule(const address& a) {
    const ssrf_rule* best = nullptr;
    unsigned best_length = 0;
    for (const auto& r : ssrf_address_rules)
        if (r.block.contains(a) && (best == nullptr || r.block.normalised_length() > best_length)) {
            best = &r.rule;
            best_length = r.block.normalised_length();
        }
    return best;
}

bool reference_blocked(const ssrf_rule* rule, const ssrf_options& options) {
    return rule != nullptr && !rule->lifted_by(options);
}

std::string show(const ssrf_decision& d) { return describe(d); }

void check_address(const address& a, const ssrf_options& options) {
    const auto d = classify(a, options);
    const auto what = [&] { return a.to_string() + ": " + show(d); };

    // The reference: an embedded IPv4 address that is blocked decides; else the address.
    const ssrf_rule* expected = reference_rule(a);
    bool expected_blocked = reference_blocked(expected, options);
    if (const auto embedded = find_embedded_ipv4(a)) {
        const auto inner = reference_rule(embedded->v4);
        if (reference_blocked(inner, options)) {
            expected = inner;
            expected_blocked = true;
        }
    }
    check(d.rule == expected && d.blocked() == expected_blocked, [&] {
        return what() + "\nreference: " + (expected ? std::string(expected->pattern) : "no rule") +
               (expected_blocked ? " blocked" : " allowed");
    });

    const bool unique_local = !a.is_v4() && (a.bytes()[0] & 0xfe) == 0xfc;
    if (a.is_loopback() || a.is_link_local() || a.is_unspecified() ||
        (a.is_private() && !(unique_local && options.allow_unique_local)))
        check(d.blocked(), [&] { return "special-use address allowed: " + what(); });
    if (d.rule && d.rule->metadata) check(classify(a, all_options).blocked(), [&] { return "metadata allowed by options: " + what(); });
    if (!classify(a).blocked()) check(!d.blocked(), [&] { return "an option blocked more: " + what(); });

    const auto text = a.to_string();
    const auto by_text = classify_host(text, options);
    check(by_text.rule == d.rule && by_text.blocked() == d.blocked(),
          [&] { return "classify_host(" + text + ") = " + show(by_text) + ", classify = " + show(d); });
    if (!a.is_v4()) {
        const auto bracketed = classify_host("[" + text + "]", options);
        check(bracketed.rule == d.rule && bracketed.blocked() == d.blocked(),
              [&] { return "bracketed " + text + " classified differently: " + show(bracketed); });
    }
}

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    return out;
}

void check_host(std::string_view host, const ssrf_options& options) {
    const auto d = classify_host(host, options);
    const auto what = [&] { return quoted(host) + ": " + show(d); };
    check(d.canonical || d.blocked(), [&] { return "non-canonical text allowed: " + what(); });
    if (const auto a = address::parse(host)) {
        const auto direct = classify(*a, options);
        check(d.canonical && d.rule == direct.rule && d.blocked() == direct.blocked(),
              [&] { return what() + "\nclassify(address): " + show(direct); });
        check_address(*a, options);
    } else if (d.canonical) {
        check(d.is_name, [&] { return "canonical text that is no address must be a name: " + what(); });
        const auto shouted = classify_host(upper(host), options);
        check(shouted.rule == d.rule && shouted.blocked() == d.blocked(),
              [&] { return "name case changed the verdict: " + what() + " vs " + show(shouted); });
        check(!classify_host(std::string(host) + ".", options).canonical,
              [&] { return "a trailing dot must fail closed: " + quoted(host); });
    }
}

void check_route(std::string_view url, const ssrf_options& options) {
    const proxy_settings no_proxy{};
    for (const auto purpose : {egress_purpose::general, egress_purpose::gateway_control}) {
        try {
            const auto r = plan_route(url, no_proxy, options, purpose);
            const bool loopback_literal = address::parse(r.target.host) && address::parse(r.target.host)->is_loopback();
            if (r.kind == route_kind::direct_loopback_gateway)
                check(purpose == egress_purpose::gateway_control && loopback_literal,
                      [&] { return "direct loopback route for " + quoted(url); });
            else
                check(!classify_host(r.target.host, options).blocked(), [&] { return "route to a blocked host: " + quoted(url); });
        } catch (const egress_error&) {
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const ssrf_options options{(data[0] & 1) != 0, (data[0] & 2) != 0};
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    for (const auto line : trustgate::model::split(text, '\n')) {
        check_host(line, options);
        check_route(line, options);
    }
    if (size >= 16) {
        for (const auto* start : {data, data + size - 16}) {
            address::bytes_type raw{};
            std::copy_n(start, 16, raw.begin());
            check_address(address::from_v6_bytes(raw), options);
            check_address(address::from_v4_bytes({start[0], start[1], start[2], start[3]}), options);
        }
    }
    return 0;
}
