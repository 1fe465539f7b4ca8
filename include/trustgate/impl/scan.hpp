// One pass over the header block that fills request_facts (behaviour §1). `user_header`
// must be lower case (proxy_identity lowers it once, at configuration time), as must the
// names in f.declared (the policies' `headers`, checked at compile time).
#pragma once

#include <string_view>

#include "trustgate/detail/ascii.hpp"
#include "trustgate/detail/uri_text.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"

namespace trustgate::detail {

// `localhost`, `127.x.y.z` or `[v6-loopback]`, each with an optional `:port` (parse_port).
constexpr bool names_local_host(std::string_view host) noexcept {
    std::string_view name = host;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return false;
        name = host.substr(0, close + 1);
        port = host.substr(close + 1);
    } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
        name = host.substr(0, colon);
        port = host.substr(colon);
    }
    if (!port.empty() && (port.front() != ':' || !parse_port(port.substr(1)))) return false;
    if (iequals_lower(name, "localhost")) return true;
    if (!name.empty() && name.front() != '[' && name.find(':') != std::string_view::npos) return false;
    const auto a = net::address::parse(name);
    return a && a->is_loopback();
}

// An origin is `scheme://host[:port]`; "null" and anything with a path is not local.
constexpr bool origin_names_local_host(std::string_view origin) noexcept {
    const auto sep = origin.find("://");
    if (sep == std::string_view::npos || !is_uri_scheme(origin.substr(0, sep))) return false;
    return names_local_host(origin.substr(sep + 3));
}

constexpr bool is_forwarded_evidence(std::string_view name) noexcept {
    return iequals_lower(name, "forwarded") || iequals_lower(name, "x-real-ip") || istarts_with_lower(name, "x-forwarded-");
}

// `Declared`: the composition declares headers (f.declared); without, the pass does not
// look for them at all.
template <bool Declared = false, request_view R>
void scan_request(const R& request, std::string_view user_header, request_facts& f) {
    f.peer = request.peer();
    f.peer_loopback = f.peer.is_loopback();
    f.proof = local_proof_of(request);
    f.client_ip = f.peer;
    unsigned host_lines = 0, origin_lines = 0, authorization_lines = 0;
    const char user_initial = user_header.empty() ? '\0' : user_header.front();
    request.for_each_header([&](std::string_view name, std::string_view value) {
        if (name.empty()) return;
        // Dispatch on the first letter: most headers are then rejected by one compare.
        const char initial = ascii_lower(name.front());
        if (initial == user_initial && iequals_lower(name, user_header)) {
            ++f.user_lines;
            const auto trimmed = trim(value);
            if (trimmed.find(',') != std::string_view::npos) f.user_has_comma = true;
            if (!trimmed.empty() && !f.user_present) {
                f.user_present = true;
                f.user_value = trimmed;
            }
        }
        if constexpr (Declared)
            for (auto& declared : f.declared) {
                if (initial != declared.name.front() || !iequals_lower(name, declared.name)) continue;
                ++declared.lines;
                if (declared.value.empty()) declared.value = trim(value);
            }
        switch (initial) {
            case 'h':
                if (iequals_lower(name, "host")) {
                    ++host_lines;
                    f.host_is_local = host_lines == 1 && names_local_host(trim(value));
                }
                break;
            case 'o':
                if (iequals_lower(name, "origin")) {
                    ++origin_lines;
                    f.origin_is_local = origin_lines == 1 && origin_names_local_host(trim(value));
                }
                break;
            case 'a':
                if (iequals_lower(name, "authorization")) {
                    ++authorization_lines;
                    const auto v = trim(value);
                    if (authorization_lines > 1) {
                        f.bearer = bearer_state::malformed;
                        f.bearer_token = {};
                    } else if (v.size() > 7 && istarts_with_lower(v, "bearer") && is_blank_char(v[6])) {
                        f.bearer_token = trim(v.substr(7));
                        f.bearer = f.bearer_token.empty() ? bearer_state::absent : bearer_state::present;
                    }
                }
                break;
            case 'f':
            case 'x':
                // Independent of the user header: a blank `x-forwarded-user` is still evidence.
                if (is_forwarded_evidence(name)) f.forwarded_evidence = true;
                if (iequals_lower(name, "x-forwarded-for")) {
                    if (f.forwarded_for_lines < f.forwarded_for.size()) f.forwarded_for[f.forwarded_for_lines] = value;
                    ++f.forwarded_for_lines;
                } else if (iequals_lower(name, "forwarded")) {
                    if (f.forwarded_lines < f.forwarded.size()) f.forwarded[f.forwarded_lines] = value;
                    ++f.forwarded_lines;
                }
                break;
            default:
                break;
        }
    });
}

}  // namespace trustgate::detail
