// trustgate/testing/generators.hpp — RapidCheck generators for configurations and
// requests (part of trustgate::testing, needs RapidCheck).
//
//   const auto config = *trustgate::testing::gen::config_for(steps);
//   const auto request = *trustgate::testing::gen::request_for(config);
//
// Configurations are valid by construction and drawn from shared pools
// (testing/detail/pools.hpp), so requests hit the configured users, headers, proxies and
// tokens. Requests are weighted toward the cases docs/behaviour.md's rules turn on: loopback and
// mapped-IPv6 peers, the configuration's own trusted entries and the addresses just
// outside them, header names in other cases or with `_`, duplicated, blank, padded,
// comma-joined and control-character values, forwarded evidence, host/origin spellings,
// bearer tokens right and wrong, local process proofs (none, failed, a user inside
// or outside localUsers) and client certificates (none, a name allowed or not). Headers
// your own policies read come from `header_pools` you pass.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <trustgate/model/reference_model.hpp>

#include "trustgate/config.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/cidr.hpp"
#include "trustgate/peer_certificate.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/request.hpp"
#include "trustgate/testing/detail/pools.hpp"
#include "trustgate/testing/show.hpp"

namespace trustgate::testing {

// One request of a scenario, sent `after` the previous one.
struct exchange {
    std::chrono::milliseconds after{0};
    basic_request request;
};

// A header your own policies read, and values for it: requests carry it (mostly one
// line with one of `values`; sometimes absent, blank, twice, or its name in another case)
// so that a custom policy is reached with requests it accepts and ones it refuses.
struct header_pool {
    std::string name;
    std::vector<std::string> values;
};
using header_pools = std::vector<header_pool>;

// A configuration and the requests a client sends to one gateway built from it.
struct scenario {
    auth_config config;
    std::vector<exchange> exchanges;
};

inline void showValue(const scenario& s, std::ostream& os) {
    os << "config ";
    trustgate::showValue(s.config, os);
    for (const auto& e : s.exchanges) {
        os << "  after " << e.after.count() << "ms: ";
        trustgate::showValue(e.request, os);
        os << "\n";
    }
}

namespace detail {

inline std::vector<std::string> strings(std::initializer_list<std::string_view> list) {
    return {list.begin(), list.end()};
}

template <std::size_t N>
std::vector<std::string> strings(const std::array<std::string_view, N>& list, std::initializer_list<std::string_view> more = {}) {
    std::vector<std::string> out(list.begin(), list.end());
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

// Uniform in [0, n) whatever the test size, shrinking toward 0. (RapidCheck's element,
// elementOf and weightedElement never shrink, and inRange leans toward its minimum while
// the test size is small.) These helpers draw like `*gen`: call them inside a generator
// or a property.
inline std::size_t pick(std::size_t n) {
    return *rc::gen::resize(100, rc::gen::inRange<std::size_t>(0, n));
}

// True `in` times out of `out_of`; shrinks toward false.
inline bool chance(std::size_t in, std::size_t out_of) { return pick(out_of) >= out_of - in; }

// One of `options`; shrinks toward the first.
template <class T>
T one_of(const std::vector<T>& options) {
    return options[pick(options.size())];
}

// One of `options`, each as often as its weight; shrinks toward the first.
template <class T>
T weighted(const std::vector<std::pair<std::size_t, T>>& options) {
    std::size_t total = 0;
    for (const auto& o : options) total += o.first;
    auto r = pick(total);
    for (const auto& [weight, value] : options) {
        if (r < weight) return value;
        r -= weight;
    }
    return options.back().second;
}

// A value of T from its whole range, whatever the test size.
template <class T>
T any() {
    return *rc::gen::resize(100, rc::gen::arbitrary<T>());
}

// Each element of `pool`, kept with probability 1 in `one_in`. Shrinks toward keeping
// none, so counterexamples keep only the elements that matter.
inline rc::Gen<std::vector<std::string>> some_of(std::vector<std::string> pool, std::size_t one_in) {
    return rc::gen::exec([pool, one_in] {
        std::vector<std::string> kept;
        for (const auto& p : pool)
            if (chance(1, one_in)) kept.push_back(p);
        return kept;
    });
}

inline rc::Gen<std::string> with_random_case(std::string s) {
    return rc::gen::exec([s] {
        std::string out = s;
        for (auto& c : out) {
            if (detail::chance(1, 2)) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
            else c = model::lower(c);
        }
        return out;
    });
}

inline std::string with_underscores(std::string s) {
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

// `a` plus `delta` (+1 or -1); false when that leaves the 128-bit space.
inline bool step_address(net::address& a, int delta) {
    auto bytes = a.bytes();
    for (int i = 15; i >= 0; --i) {
        const auto before = bytes[std::size_t(i)];
        bytes[std::size_t(i)] = static_cast<std::uint8_t>(before + delta);
        if ((delta > 0 && before != 0xff) || (delta < 0 && before != 0x00)) {
            a = net::address::from_v6_bytes(bytes);
            return true;
        }
    }
    return false;
}

inline bool is_loopback_entry(std::string_view entry) {
    return std::find(loopback_entries.begin(), loopback_entries.end(), entry) != loopback_entries.end();
}

// A trustedProxies entry that covers 127.0.0.1 or ::1.
inline bool covers_loopback(std::string_view entry) {
    const auto b = model::parse_block(entry);
    return b && (model::in_block(*model::parse_address("127.0.0.1"), *b) || model::in_block(*model::parse_address("::1"), *b));
}

// `::ffff:a.b.c.d` for an IPv4 address, its own text otherwise.
inline std::string mapped_text(const net::address& a) {
    return a.is_v4() ? "::ffff:" + a.to_string() : a.to_string();
}

}  // namespace detail

namespace gen {

// A configuration for a gateway that runs `steps` (behaviour §9's fields that those steps
// read; the others keep their defaults so a check never reports a policy the
// composition leaves out), then adjusted by `configure` (which must keep it valid).
inline rc::Gen<auth_config> config_for(const model::steps& steps, std::function<void(auth_config&)> configure = {}) {
    return rc::gen::exec([steps, configure] {
        using detail::strings;
        auth_config c;
        c.mode = steps.identity == model::steps::identity_from::user_header ? auth_mode::trusted_proxy
                 : steps.identity == model::steps::identity_from::bearer_token ? auth_mode::token
                                                                                : auth_mode::none;
        if (detail::chance(7, 10)) c.trusted_proxies.push_back(detail::one_of(strings(detail::loopback_entries)));
        for (const auto& e : *detail::some_of(strings(detail::proxy_entries), 5)) c.trusted_proxies.push_back(e);
        if (detail::chance(1, 30) || c.trusted_proxies.empty())
            c.trusted_proxies.push_back(detail::one_of(strings(detail::proxy_entries, {detail::everything_ipv4, detail::everything_ipv6})));
        if (steps.identity == model::steps::identity_from::bearer_token || detail::chance(2, 3))
            c.token = detail::one_of(strings(detail::tokens));
        if (detail::chance(1, 3)) c.client_ip_header = forwarding_header::forwarded;

        auto& tp = c.trusted_proxy;
        tp.user_header = detail::one_of(strings(detail::user_headers));
        if (steps.required_headers && detail::chance(1, 2))
            tp.required_headers = *detail::some_of(strings(detail::required_header_names), 3);
        if (steps.allow_users && detail::chance(2, 3)) {
            tp.allow_users = *detail::some_of(strings(detail::users), 2);
            if (tp.allow_users.empty()) tp.allow_users.push_back(detail::one_of(strings(detail::users)));
        }
        tp.allow_users_case_insensitive = detail::chance(1, 2);
        if (steps.loopback) {
            tp.allow_loopback = detail::chance(3, 10);
            if (detail::chance(1, 2)) {
                // Valid by construction: in allowUsers when that is set, and a loopback
                // entry to apply to.
                tp.loopback_user = detail::one_of(tp.allow_users.empty() ? strings(detail::users) : tp.allow_users);
                if (std::none_of(c.trusted_proxies.begin(), c.trusted_proxies.end(), detail::covers_loopback))
                    c.trusted_proxies.push_back("127.0.0.1");
            }
            if (detail::chance(1, 3)) tp.local_users = *detail::some_of(strings(detail::local_users), 2);
        }
        if (steps.certificate) {
            // behaviour §11: an empty allowedNames (any certificate from the CA) now and then.
            client_certificate_config cc;
            if (!detail::chance(1, 8)) {
                cc.allowed_names = *detail::some_of(strings(detail::certificate_names), 3);
                if (cc.allowed_names.empty()) cc.allowed_names.push_back(detail::one_of(strings(detail::certificate_names)));
            }
            tp.client_certificate = std::move(cc);
        }

        c.scopes = default_scopes_config();
        const auto scope_names = strings(openclaw_scopes::names);
        if (detail::chance(1, 2)) c.scopes.default_scopes = *detail::some_of(scope_names, 3);
        if (detail::chance(1, 2)) c.scopes.token_scopes = *detail::some_of(scope_names, 3);
        for (const auto& user : *detail::some_of(strings(detail::users, {"anonymous", "local"}), 4))
            c.scopes.identity_scopes.emplace_back(*detail::with_random_case(user), *detail::some_of(scope_names, 3));
        for (const auto& method : *detail::some_of(strings(detail::methods), 3))
            c.scopes.methods.emplace_back(method, detail::one_of(scope_names));

        auto& rl = c.rate_limit;
        rl.max_attempts = detail::weighted<unsigned>({{3, 1}, {2, 2}, {1, 3}, {1, 10}});
        rl.window = std::chrono::milliseconds(detail::one_of<int>({1'000, 60'000}));
        rl.lockout = std::chrono::milliseconds(detail::one_of<int>({500, 2'000, 300'000}));
        rl.exempt_loopback = detail::chance(1, 2);
        rl.max_keys = 64;  // a scenario uses a handful of keys; keeps each gateway small
        rl.ipv6_prefix_length = detail::weighted<unsigned>({{3, 64}, {1, 128}, {1, 48}});
        rl.global_max_attempts = detail::weighted<unsigned>({{3, 0}, {1, 2}, {1, 3}});
        if (configure) configure(c);
        return c;
    });
}

// Peer addresses: loopback, the configuration's own entries (first, last, inside) and
// the addresses just outside them, random IPv4 and IPv6, and the special cases
// (unspecified, IPv4-compatible ::127.0.0.1, link-local, the edges of 127.0.0.0/8).
inline rc::Gen<net::address> address_for(const auth_config& config) {
    // The loopback entries have their own case: the others are drawn from `remote`.
    std::vector<std::string> loopback, remote;
    for (const auto& e : config.trusted_proxies)
        (detail::is_loopback_entry(e) ? loopback : remote).push_back(e);
    if (remote.empty()) remote = loopback;
    return rc::gen::exec([loopback, remote] {
        const auto parse = [](std::string_view text) { return *net::address::parse(text); };
        switch (detail::weighted<int>({{4, 0}, {10, 1}, {2, 2}, {1, 3}, {1, 4}, {1, 5}})) {
            case 0: {  // loopback, usually a configured (trusted) one
                if (!loopback.empty() && detail::chance(2, 3)) return parse(detail::one_of(loopback) == "::1" ? "::1" : "127.0.0.1");
                switch (detail::weighted<int>({{4, 0}, {2, 1}, {1, 2}})) {
                    case 0: return parse("127.0.0.1");
                    case 1: return parse("::1");
                    default: return net::address::from_v4_uint(0x7f000000u | (detail::any<std::uint32_t>() & 0xffffffu));
                }
            }
            case 1: {  // first, last or somewhere inside one of the configuration's entries
                const auto block = net::cidr::parse(detail::one_of(remote));
                if (!block) return parse("127.0.0.1");
                // An IPv6 block spanning the mapped space (::/80) must not match IPv4 peers.
                if (!block->base().is_v4() && block->first() <= parse("::ffff:0:0") && parse("::ffff:ffff:ffff") <= block->last() &&
                    detail::chance(1, 2))
                    return net::address::from_v4_uint(detail::chance(1, 2) ? 0x7f000001u : detail::any<std::uint32_t>());
                net::address a = detail::chance(1, 2) ? block->last() : block->first();
                if (detail::chance(1, 2)) {
                    auto bytes = block->first().bytes();
                    const auto last = block->last().bytes();
                    for (std::size_t i = 0; i < 16; ++i)
                        bytes[i] = static_cast<std::uint8_t>(bytes[i] | (detail::any<std::uint8_t>() & (bytes[i] ^ last[i])));
                    a = net::address::from_v6_bytes(bytes);
                }
                return a;
            }
            case 2: {  // just outside one of them
                const auto block = net::cidr::parse(detail::one_of(remote));
                if (!block) return parse("127.0.0.1");
                const bool below = detail::chance(1, 2);
                net::address a = below ? block->first() : block->last();
                detail::step_address(a, below ? -1 : 1);
                return a;
            }
            case 3:
                return net::address::from_v4_uint(detail::any<std::uint32_t>());
            case 4: {
                net::address::bytes_type bytes{};
                for (auto& b : bytes) b = detail::any<std::uint8_t>();
                return net::address::from_v6_bytes(bytes);
            }
            default:
                return parse(detail::one_of<std::string>({"::", "0.0.0.0", "::127.0.0.1", "126.255.255.255",
                                                            "128.0.0.0", "::2", "fe80::1", "::ffff:0:0", "::ffff:7f00:1"}));
        }
    });
}

// x-forwarded-for entries: canonical text of address_for, mapped IPv6 spellings, ports,
// brackets, upper-case hex, and the malformed spellings behaviour §2 rejects.
inline rc::Gen<std::string> forwarded_for_entry(const auth_config& config) {
    return rc::gen::exec([config] {
        const auto a = *address_for(config);
        const auto port = detail::one_of<std::string>({"80", "0", "443", "18789", "65535", "65536", "123456", "00080"});
        switch (detail::weighted<int>({{6, 0}, {2, 1}, {2, 2}, {1, 3}, {1, 4}, {2, 5}})) {
            case 0: return a.to_string();
            case 1: return detail::mapped_text(a);
            case 2: return a.is_v4() ? a.to_string() + ":" + port : "[" + a.to_string() + "]:" + port;
            case 3: return "[" + detail::mapped_text(a) + "]";
            case 4: {
                auto text = detail::mapped_text(a);
                std::transform(text.begin(), text.end(), text.begin(), [](char c) { return c >= 'a' && c <= 'f' ? char(c - 32) : c; });
                return text;
            }
            default: return detail::one_of(detail::strings(detail::malformed_addresses));
        }
    });
}

// One RFC 7239 element naming a client: `for=` with an address (IPv4 bare or quoted,
// with a port; IPv6 quoted in brackets, with a port), mapped spellings, `unknown`,
// obfuscated nodes and ports, and the malformed spellings (unquoted brackets or ports,
// bare IPv6, unterminated quotes, no or two `for=`); other parameters around it, some
// holding quoted `,` and `;`.
inline rc::Gen<std::string> forwarded_element(const auth_config& config) {
    return rc::gen::exec([config] {
        const auto a = *address_for(config);
        const auto text = a.to_string();
        const auto port = std::to_string(detail::one_of<int>({80, 4711, 65535, 123456}));
        const auto name = detail::weighted<std::string>({{6, "for"}, {1, "For"}, {1, "FOR"}});
        const auto bracketed = "[" + (a.is_v4() && detail::chance(1, 2) ? detail::mapped_text(a) : text) + "]";
        std::string node;
        switch (detail::weighted<int>({{6, 0}, {3, 1}, {3, 2}, {1, 3}, {1, 4}, {1, 5}, {2, 6}})) {
            case 0: node = a.is_v4() ? text : "\"" + bracketed + "\""; break;
            case 1: node = "\"" + (a.is_v4() ? text + ":" + port : bracketed + ":" + port) + "\""; break;
            case 2: node = "\"" + (a.is_v4() ? text : bracketed) + "\""; break;
            case 3: node = detail::one_of<std::string>({"unknown", "\"unknown:80\"", "UNKNOWN"}); break;
            case 4: node = detail::one_of<std::string>({"_hidden", "\"_gw.1:_p\"", "\"" + bracketed + ":_port\""}); break;
            case 5: node = "\"" + std::string(a.is_v4() ? "\\" : "[\\") + (a.is_v4() ? text : text + "]") + "\""; break;
            default:
                node = detail::one_of<std::string>({bracketed, "\"" + text + "\"", text + ":" + port, "\"" + text, "", "\"\"",
                                                    bracketed + ":" + port, "\"" + text + "\"x"});
                break;
        }
        std::vector<std::string> pairs{name + "=" + node};
        if (detail::chance(1, 12)) pairs[0] = "by=" + node;
        if (detail::chance(1, 12)) pairs.push_back("for=" + text);
        for (const auto& extra : *detail::some_of(detail::strings({"proto=https", "by=_gw", "host=\"gateway.example.com\"",
                                                                   "host=\"a,b;c\"", "", "by=\"[::1]:443\"", "proto"}), 6))
            pairs.insert(pairs.begin() + std::ptrdiff_t(detail::pick(pairs.size() + 1)), extra);
        std::string element;
        for (std::size_t i = 0; i < pairs.size(); ++i) element += (i ? detail::one_of<std::string>({";", "; ", " ;"}) : "") + pairs[i];
        return element;
    });
}

// A `host` value: mostly local spellings, sometimes near misses.
inline rc::Gen<std::string> host() {
    return rc::gen::exec([] {
        return detail::one_of(detail::chance(1, 4) ? detail::strings(detail::non_local_hosts) : detail::strings(detail::local_hosts));
    });
}

// An `origin` value: scheme://host, with odd schemes, paths and `null`.
inline rc::Gen<std::string> origin() {
    return rc::gen::exec([] {
        if (detail::chance(1, 9))
            return detail::one_of<std::string>({"null", "http://localhost/", "http://localhost:18789/app", "localhost", "file://",
                                                "http:/localhost", "://localhost"});
        const auto scheme = detail::chance(1, 5) ? detail::one_of(detail::strings(detail::origin_schemes))
                                                 : detail::one_of<std::string>({"http", "https"});
        return scheme + "://" + *host();
    });
}

// An `authorization` value: the configured token or a pool token (so, often right),
// a wrong one, and the spellings around `Bearer <token>`.
inline rc::Gen<std::string> authorization(const auth_config& config) {
    return rc::gen::exec([token = config.token] {
        const auto right = token ? *token : std::string(detail::tokens[0]);
        const auto some = detail::weighted<std::string>({{3, right}, {1, std::string(detail::tokens[1])}, {1, right + "x"}});
        return detail::weighted<std::string>({
            {8, "Bearer " + some},
            {1, "bearer\t" + some},
            {1, "BEARER   " + some + "  "},
            {1, "Bearer"},
            {1, "Bearer   "},
            {1, "Basic dXNlcjpwYXNz"},
            {1, "Bearer" + some},
            {1, ""},
        });
    });
}

// A value for the user header: configured users most often, then loopbackUser, case
// variants, padding, blanks, commas, control characters and the 256-byte limit.
inline rc::Gen<std::string> user_value(const auth_config& config) {
    return rc::gen::exec([config] {
        const auto& tp = config.trusted_proxy;
        const auto any_user = detail::strings(detail::users);
        const auto user = detail::one_of(tp.allow_users.empty() || detail::chance(1, 3) ? any_user : tp.allow_users);
        switch (detail::weighted<int>({{10, 0}, {2, 1}, {2, 2}, {1, 3}, {2, 4}, {1, 5}, {1, 6}, {1, 7}})) {
            case 0: return user;
            case 1: return tp.loopback_user ? *tp.loopback_user : user;
            case 2: return *detail::with_random_case(user);
            case 3: return detail::one_of<std::string>({" ", "\t"}) + user + detail::one_of<std::string>({"", " ", " \t"});
            case 4: return detail::one_of<std::string>({"", " ", "\t "});
            case 5: return user + detail::one_of<std::string>({",", ", bob@example.com", " ,"});
            case 6: return detail::one_of<std::string>({"\x01", "\x7f", "\t", "\r", "\n"}) + user;
            default: {
                const int length = detail::one_of<int>({256, 255, 257});
                return detail::one_of<std::string>({"", "  "}) + std::string(std::size_t(length), 'a') + detail::one_of<std::string>({"", " "});
            }
        }
    });
}

// What the kernel said about a request's connection. From a loopback peer, usually one of
// localUsers; from a remote peer, usually nothing (servers look up loopback peers only, but
// a server of your own may hand anything in); failed lookups and other users throughout.
inline rc::Gen<local_proof> local_proof_for(const auth_config& config, bool loopback_peer) {
    return rc::gen::exec([config, loopback_peer] {
        const auto inside = model::local_user_ids(config.trusted_proxy);
        std::uint32_t outside = 4242;
        while (std::find(inside.begin(), inside.end(), outside) != inside.end()) ++outside;
        enum kind { none, failed, user_inside, user_outside };
        const auto k = loopback_peer ? detail::weighted<kind>({{1, none}, {8, user_inside}, {2, user_outside}, {1, failed}})
                                     : detail::weighted<kind>({{6, none}, {1, user_inside}, {1, user_outside}, {1, failed}});
        switch (k) {
            case none: return local_proof{};
            case failed: return local_proof::failure();
            case user_inside: return local_proof::of(detail::one_of(inside));
            case user_outside: break;
        }
        return local_proof::of(detail::chance(1, 2) ? outside : detail::one_of<std::uint32_t>({0, 1000, 65534, outside}));
    });
}

// The client certificate a request's connection presented, when `config` checks one
// (behaviour §11): none, or one the handshake verified whose names are often allowed
// ones and otherwise drawn from the pool they come from, in another case at times, or
// that has no name at all.
inline rc::Gen<peer_certificate> peer_certificate_for(const auth_config& config) {
    return rc::gen::exec([config] {
        if (!config.trusted_proxy.client_certificate) return peer_certificate{};
        enum kind { none, named, nameless };
        switch (detail::weighted<kind>({{2, none}, {8, named}, {1, nameless}})) {
            case none: return peer_certificate{};
            case nameless: return peer_certificate::of({});
            case named: break;
        }
        const auto& allowed = config.trusted_proxy.client_certificate->allowed_names;
        std::vector<std::string> names;
        for (int i = detail::weighted<int>({{6, 1}, {2, 2}, {1, 3}}); i > 0; --i) {
            const auto name = detail::one_of(!allowed.empty() && detail::chance(1, 2) ? allowed : detail::strings(detail::certificate_names));
            names.push_back(detail::chance(1, 4) ? *detail::with_random_case(name) : name);
        }
        return peer_certificate::of(std::move(names));
    });
}

// Header lines for `config`, and for each of `pools`. `local_tool` shapes them like a CLI
// on the gateway host (no user header, no forwarded evidence, a local host), which the
// loopback rules need.
inline rc::Gen<std::vector<basic_request::header>> headers_for(const auth_config& config, bool local_tool = false,
                                                               const header_pools& pools = {}) {
    return rc::gen::exec([config, local_tool, pools] {
        std::vector<basic_request::header> h;
        const auto& tp = config.trusted_proxy;
        const auto add = [&h](std::string name, std::string value) { h.push_back({std::move(name), std::move(value)}); };

        const int user_lines = local_tool ? detail::weighted<int>({{8, 0}, {1, 1}})
                                          : detail::weighted<int>({{3, 0}, {10, 1}, {2, 2}, {1, 3}});
        for (int i = 0; i < user_lines; ++i) {
            const auto value = local_tool ? detail::one_of<std::string>({"", " "}) : *user_value(config);
            std::string name = tp.user_header;
            switch (detail::weighted<int>({{12, 0}, {2, 1}, {1, 2}, {1, 3}})) {
                case 0: break;
                case 1: name = *detail::with_random_case(name); break;
                case 2: name = detail::with_underscores(name); break;
                default: name = detail::one_of(detail::strings(detail::user_headers)); break;
            }
            add(name, value);
        }

        for (const auto& required : tp.required_headers) {
            const auto name = detail::chance(1, 5) ? *detail::with_random_case(required) : required;
            switch (detail::weighted<int>({{8, 0}, {2, 1}, {1, 2}, {1, 3}})) {
                case 0: add(name, "proxy-set"); break;
                case 1: break;
                case 2: add(name, detail::one_of<std::string>({"", " \t"})); break;
                default: add(name, ""); add(name, "proxy-set"); break;
            }
        }

        if (!local_tool) {
            // Lines of a list header: one to three entries, sometimes empty ones (`a,,b`,
            // a trailing comma, a blank line), which do not count (behaviour §4).
            const auto add_list = [&](const std::vector<std::string>& names, const std::function<std::string()>& entry) {
                const int lines = detail::weighted<int>({{4, 1}, {1, 2}, {1, 5}});
                for (int i = 0; i < lines; ++i) {
                    std::string value;
                    const int entries = detail::weighted<int>({{1, 0}, {4, 1}, {3, 2}, {2, 3}});
                    for (int e = 0; e < entries; ++e)
                        value += (e ? detail::one_of<std::string>({",", ", ", " ,\t"}) : "") + (detail::chance(1, 12) ? "" : entry());
                    if (detail::chance(1, 12)) value += ",";
                    add(detail::one_of(names), value);
                }
            };
            if (detail::chance(4, 10))
                add_list({"x-forwarded-for", "x-forwarded-for", "X-Forwarded-For"}, [&] { return *forwarded_for_entry(config); });
            if (detail::chance(config.client_ip_header == forwarding_header::forwarded ? 4 : 1, 10))
                add_list({"forwarded", "forwarded", "Forwarded"}, [&] { return *forwarded_element(config); });
            if (detail::chance(1, 10))
                add(detail::one_of<std::string>({"forwarded", "x-real-ip", "x-forwarded-proto", "X-Forwarded-Host", "x-forwarded-"}),
                    detail::one_of<std::string>({"for=198.51.100.7", "https", "", "gateway.example.com"}));
        }

        const auto host_lines = detail::weighted<int>({{3, 0}, {6, 1}, {1, 2}});
        for (int i = 0; i < host_lines; ++i)
            add(detail::weighted<std::string>({{5, "host"}, {1, "Host"}}), local_tool ? detail::one_of(detail::strings(detail::local_hosts)) : *host());
        const auto origin_lines = detail::weighted<int>({{7, 0}, {3, 1}, {1, 2}});
        for (int i = 0; i < origin_lines; ++i) add(detail::one_of<std::string>({"origin", "Origin"}), *origin());

        const auto authorization_lines = detail::weighted<int>({{5, 0}, {6, 1}, {1, 2}});
        for (int i = 0; i < authorization_lines; ++i)
            add(detail::one_of<std::string>({"authorization", "Authorization"}), *authorization(config));

        if (detail::chance(1, 4)) {
            std::string asked;
            for (const auto& s : *detail::some_of(detail::strings(openclaw_scopes::names, {"operator.root", ""}), 3))
                asked += (asked.empty() ? "" : detail::one_of<std::string>({",", ", "})) + s;
            add(detail::chance(1, 5) ? detail::with_underscores(config.scopes.header) : config.scopes.header, asked);
        }

        for (const auto& pool : pools) {
            const auto value = [&pool] { return pool.values.empty() ? std::string() : detail::one_of(pool.values); };
            switch (detail::weighted<int>({{8, 0}, {2, 1}, {1, 2}, {1, 3}, {1, 4}})) {
                case 0: add(pool.name, value()); break;
                case 1: break;
                case 2: add(*detail::with_random_case(pool.name), value()); break;
                case 3: add(pool.name, detail::one_of<std::string>({"", " "})); break;
                default: add(pool.name, value()); add(pool.name, value()); break;
            }
        }

        for (const auto& name : *detail::some_of(detail::strings(detail::unrelated_headers), 8))
            add(name, detail::one_of<std::string>({"1", "text/html", "a=b; c=d", "127.0.0.1", ""}));

        // Wire order matters (first non-blank user line, x-forwarded-for order): shuffle.
        const auto keys = *rc::gen::container<std::vector<int>>(h.size(), rc::gen::resize(100, rc::gen::arbitrary<int>()));
        std::vector<std::size_t> order(h.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&keys](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
        std::vector<basic_request::header> shuffled;
        for (const auto i : order) shuffled.push_back(h[i]);
        return shuffled;
    });
}

// A request from address_for with headers_for and peer_certificate_for; a loopback peer
// often sends what a local tool sends.
inline rc::Gen<basic_request> request_for(const auth_config& config, const header_pools& pools = {}) {
    return rc::gen::exec([config, pools] {
        const auto peer = *address_for(config);
        const bool local_tool = peer.is_loopback() && detail::chance(2, 3);
        basic_request r(peer, *headers_for(config, local_tool, pools));
        r.set_local_proof(*local_proof_for(config, peer.is_loopback()));
        r.set_peer_certificate(*peer_certificate_for(config));
        return r;
    });
}

// What a CLI or sub-agent on the gateway host sends: from ::1 when that is the
// configuration's loopback entry, from 127.0.0.1 otherwise, usually proven one of
// localUsers.
inline rc::Gen<basic_request> local_tool_request_for(const auth_config& config, const header_pools& pools = {}) {
    return rc::gen::exec([config, pools] {
        const auto& e = config.trusted_proxies;
        const bool v6 = std::find(e.begin(), e.end(), "::1") != e.end() && detail::chance(1, 2);
        basic_request r(*net::address::parse(v6 ? "::1" : "127.0.0.1"), *headers_for(config, true, pools));
        r.set_local_proof(*local_proof_for(config, true));
        return r;
    });
}

// A configuration for `steps`, adjusted by `configure`, and one to four exchanges whose
// requests also carry `pools`. Later requests often repeat an earlier one with another
// authorization header (a client retrying, or guessing tokens), at times around the rate
// limit's window and lockout, so failed attempts add up.
inline rc::Gen<scenario> scenario_for(const model::steps& steps, std::function<void(auth_config&)> configure = {},
                                      const header_pools& pools = {}) {
    return rc::gen::exec([steps, configure, pools] {
        scenario s;
        s.config = *config_for(steps, configure);
        const auto& rl = s.config.rate_limit;
        const bool guessing = detail::chance(1, 4);
        const int count = guessing ? detail::one_of<int>({3, 4}) : detail::weighted<int>({{5, 1}, {2, 2}, {2, 3}, {1, 4}});
        for (int i = 0; i < count; ++i) {
            exchange e;
            if (i > 0 && (guessing || detail::chance(6, 10))) {
                e.request = s.exchanges.back().request;
                auto& h = e.request.headers();
                h.erase(std::remove_if(h.begin(), h.end(), [](const basic_request::header& x) { return model::same_ignoring_case(x.name, "authorization"); }),
                        h.end());
                if (detail::chance(4, 5))
                    h.push_back({"authorization", detail::chance(guessing ? 3 : 1, 4) ? std::string("Bearer not-the-token")
                                                                                       : *authorization(s.config)});
                // An IPv6 client rotating addresses inside its /64 (behaviour §6 keys it by that).
                if (!e.request.peer().is_v4() && !e.request.peer().is_loopback() && detail::chance(1, 3)) {
                    auto bytes = e.request.peer().bytes();
                    bytes[15] = static_cast<std::uint8_t>(bytes[15] ^ detail::one_of<int>({1, 2, 0x80}));
                    if (detail::chance(1, 4)) bytes[7] = static_cast<std::uint8_t>(bytes[7] ^ 1);  // the next /64
                    e.request.set_peer(net::address::from_v6_bytes(bytes));
                }
            } else {
                e.request = guessing && detail::chance(1, 2) ? *local_tool_request_for(s.config, pools) : *request_for(s.config, pools);
            }
            const auto ms = [](std::chrono::milliseconds d, int delta) { return d + std::chrono::milliseconds(delta); };
            e.after = i == 0 ? std::chrono::milliseconds(0)
                             : detail::weighted<std::chrono::milliseconds>({
                                   {guessing ? 9u : 3u, std::chrono::milliseconds(0)}, {2, std::chrono::milliseconds(1)}, {1, ms(rl.window, -1)},
                                   {1, rl.window}, {1, ms(rl.lockout, -1)}, {1, rl.lockout}, {1, ms(rl.lockout, 999)}});
            s.exchanges.push_back(std::move(e));
        }
        return s;
    });
}

}  // namespace gen

}  // namespace trustgate::testing
