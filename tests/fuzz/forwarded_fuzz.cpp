// Fuzz target: client IP attribution from RFC 7239 `Forwarded` and `X-Forwarded-For`
// (behaviour §4), the library against the reference model.
//
// Input:
//   byte 0   bit 0: the header read (0 x-forwarded-for, 1 forwarded); bits 1-2: the
//            trustedProxies list (see `proxy_lists`), whose first entry is the peer
//   then     header values, one per line, each sent as that header (at most
//            `max_lines`: more than request_facts keeps, so both walks run)
// The client IP from a gateway (trusted_source over request_facts) and from
// attribute_client_ip (over the request) must both equal the model's; and, element by
// element, parse_forwarded_element must name the address the model's element parser does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <trustgate/client_ip.hpp>
#include <trustgate/config.hpp>
#include <trustgate/model/reference_model.hpp>
#include <trustgate/presets.hpp>
#include <trustgate/request.hpp>

#include "fuzz_check.hpp"

namespace {

namespace model = trustgate::model;
using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

using attributing_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity>;

constexpr std::size_t max_lines = 8;

// Each list's first entry is an address: the peer, so the walk runs.
const std::vector<std::string> proxy_lists[] = {
    {"10.0.0.1", "10.0.0.0/8", "2001:db8::/32"},
    {"0.0.0.0", "0.0.0.0/0", "::/0"},
    {"::5", "::/80", "192.168.0.0/16"},
    {"2001:db8::1", "127.0.0.1"},
};

std::string text_of(const trustgate::net::address& a) { return a.to_string(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto header = (data[0] & 1) != 0 ? trustgate::forwarding_header::forwarded : trustgate::forwarding_header::x_forwarded_for;
    const auto& proxies = proxy_lists[(data[0] >> 1) & 3];
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

    trustgate::auth_config config;
    config.trusted_proxies = proxies;
    config.client_ip_header = header;
    const auto peer = *trustgate::net::address::parse(proxies[0]);
    trustgate::basic_request request(peer);
    const std::string name = header == trustgate::forwarding_header::forwarded ? "Forwarded" : "X-Forwarded-For";
    std::vector<std::string> lines;
    while (lines.size() < max_lines) {
        const auto end = rest.find('\n');
        lines.emplace_back(rest.substr(0, end));
        request.add(name, lines.back());
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    const auto describe = [&](std::string_view what, const trustgate::net::address& got, const trustgate::net::address& expected) {
        std::string out = std::string(what) + ": " + text_of(got) + ", the model says " + text_of(expected) + "\nheader " + name +
                          ", trustedProxies";
        for (const auto& p : proxies) out += " " + p;
        for (const auto& line : lines) out += "\n  " + quoted(line);
        return out;
    };

    const auto expected = model::client_ip(request, model::trusted_blocks(config), header);
    const auto decided = attributing_gateway::from_config(config).authenticate(request).client_ip;
    check(decided == expected, [&] { return describe("the gateway attributed", decided, expected); });
    const auto walked = trustgate::attribute_client_ip(request, trustgate::trusted_source::parse(proxies).proxies(), header);
    check(walked == expected, [&] { return describe("attribute_client_ip attributed", walked, expected); });

    if (header != trustgate::forwarding_header::forwarded) return 0;
    for (const auto& line : lines) {
        for (const auto& element : model::split_outside_quotes(line, ',')) {
            const auto trimmed = model::trim(element);
            if (trimmed.empty()) continue;
            const auto library = trustgate::detail::parse_forwarded_element(trimmed);
            const auto reference = model::forwarded_element_hop(trimmed);
            check(library.has_value() == reference.has_value() && (!library || library->bytes() == *reference), [&] {
                return "element " + quoted(trimmed) + ": the library reads " + (library ? text_of(*library) : "malformed") +
                       ", the model " + (reference ? text_of(model::to_library(*reference)) : "malformed");
            });
        }
    }
    return 0;
}
