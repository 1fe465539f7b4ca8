// trustgate/policy/trusted_source.hpp — behaviour §3 step 1: only trusted proxies may speak.
//
// Holds the compiled `trustedProxies` set. Marks the peer trusted for later policies
// and attributes the client IP from `x-forwarded-for` or `forwarded` (behaviour §4).
#pragma once

#include <array>
#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/client_ip.hpp"
#include "trustgate/config.hpp"
#include "trustgate/net/cidr.hpp"
#include "trustgate/net/prefix_set.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"

namespace trustgate {

class trusted_source {
public:
    static constexpr trustgate::stage stage = trustgate::stage::source;
    static constexpr std::string_view name = "trusted_source";
    static constexpr std::array reasons{reason::trusted_proxy_untrusted_source};

    trusted_source() = default;
    explicit trusted_source(std::span<const net::cidr> blocks, forwarding_header client_ip_header = forwarding_header::x_forwarded_for)
        : proxies_(blocks), blocks_(blocks.begin(), blocks.end()), client_ip_header_(client_ip_header) {}

    // Parses `entries` strictly (net::parse_cidr_list); an empty list trusts nobody and
    // is an error too.
    static trusted_source parse(std::span<const std::string> entries, const std::string& path = "gateway.trustedProxies") {
        if (entries.empty())
            throw config_error(path, "expected at least one trusted proxy address or CIDR");
        return trusted_source(net::parse_cidr_list(entries, path));
    }

    template <class Context>
    static trusted_source from_config(const auth_config& config, const Context&) {
        return trusted_source(parse(config.trusted_proxies).blocks(), config.client_ip_header);
    }

    template <request_view R>
    verdict check(request_facts& facts, const R& request) const {
        facts.peer_trusted = proxies_.contains(facts.peer);
        if (!facts.peer_trusted) return decision::deny(reason::trusted_proxy_untrusted_source, name);
        const bool forwarded = client_ip_header_ == forwarding_header::forwarded;
        const auto& kept = forwarded ? facts.forwarded : facts.forwarded_for;
        const unsigned lines = forwarded ? facts.forwarded_lines : facts.forwarded_for_lines;
        if (lines > kept.size()) {
            facts.client_ip = attribute_client_ip(request, proxies_, client_ip_header_);
        } else {
            detail::client_ip_walk walk(proxies_, client_ip_header_);
            for (unsigned i = 0; i < lines; ++i) walk.add_line(kept[i]);
            facts.client_ip = walk.client(facts.peer);
        }
        return next_policy;
    }

    template <request_view R>
    void explain(const request_facts& facts, const R&, trace_step& step) const {
        step.add("peer", facts.peer.to_string());
        const auto entry = std::find_if(blocks_.begin(), blocks_.end(), [&](const net::cidr& b) { return b.contains(facts.peer); });
        step.add("trustedProxies entry", entry == blocks_.end() ? std::string("none matches") : entry->to_string());
        if (!facts.peer_trusted) return;
        step.add("x-forwarded-for lines", std::to_string(facts.forwarded_for_lines));
        step.add("client IP", facts.client_ip.to_string());
    }

    const net::prefix_set& proxies() const noexcept { return proxies_; }
    std::span<const net::cidr> blocks() const noexcept { return blocks_; }

    // Whether some loopback address is trusted: loopbackUser needs that to ever apply.
    bool trusts_loopback() const noexcept {
        return proxies_.overlaps(*net::cidr::parse("127.0.0.0/8")) || proxies_.contains(*net::address::parse("::1"));
    }

private:
    net::prefix_set proxies_;
    std::vector<net::cidr> blocks_;
    forwarding_header client_ip_header_ = forwarding_header::x_forwarded_for;
};

}  // namespace trustgate
