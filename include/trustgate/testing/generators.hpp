// trustgate/testing/generators.hpp — RapidCheck generators for configurations and
// requests (part of trustgate::testing, needs RapidCheck).
//
//   const auto config = *trustgate::testing::gen::config_for(steps);
//   const auto request = *trustgate::testing::gen::request_for(config);
//
// Configurations are valid by construction and drawn from shared pools
// (testing/detail/pools.hpp), so requests hit the configured users, headers, proxies and
// tokens. Requests are weighted toward the cases the SPEC's rules turn on: loopback and
// mapped-IPv6 peers, the configuration's own trusted entries and the addresses just
// outside them, header names in other cases or with `_`, duplicated, blank, padded,
// comma-joined and control-character values, forwarded evidence, host/origin spellings,
// and bearer tokens right and wrong.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <trustgate/model/reference_model.hpp>

#include "trustgate/config.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/net/cidr.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/request.hpp"
#include "trustgate/testing/detail/pools.hpp"
#include "trustgate/testing/show.hpp"

namespace trustgate::testing {

// One request of a scenario, sent `after` the previous one, then authorised for `method`.
struct exchange {
    std::chrono::milliseconds after{0};
    basic_request request;
    std::string method;
};

// A configuration and the requests a client sends to one gateway built from it.
struct scenario {
    auth_config config;
    std::vector<exchange> exchanges;
};

inline void showValue(const scenario& s, std::ostream& os) {
    os << "config ";
    trustgate::showValue(s.config, os);
    for (const auto& e : s.exchanges) {
        os << "  after " << e.after.count() << "ms, method " << detail::quoted(e.method) << ": ";
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

// Each element of `pool`, kept with probability 1 in `one_in`.
inline rc::Gen<std::vector<std::string>> some_of(std::vector<std::string> pool, int one_in) {
    return rc::gen::exec([pool, one_in] {
        std::vector<std::string> kept;
        for (const auto& p : pool)
            if (*rc::gen::inRange(0, one_in) == 0) kept.push_back(p);
        return kept;
    });
}

inline rc::Gen<std::string> with_random_case(std::string s) {
    return rc::gen::exec([s] {
        std::string out = s;
        for (auto& c : out) {
            if (*rc::gen::arbitrary<bool>()) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
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

// `::ffff:a.b.c.d` for an IPv4 address, its own text otherwise.
inline std::string mapped_text(const net::address& a) {
    return a.is_v4() ? "::ffff:" + a.to_string() : a.to_string();
}

}  // namespace detail

namespace gen {

// A configuration for a gateway that runs `steps` (SPEC §9's fields that those steps
// read; the others keep their defaults so a check never reports a policy the
// composition leaves out).
inline rc::Gen<auth_config> config_for(const model::steps& steps) {
    return rc::gen::exec([steps] {
        using detail::strings;
        auth_config c;
        c.mode = steps.identity == model::steps::identity_from::user_header ? auth_mode::trusted_proxy
                 : steps.identity == model::steps::identity_from::bearer_token ? auth_mode::token
                                                                                : auth_mode::none;
        if (*rc::gen::inRange(0, 10) < 7) c.trusted_proxies.push_back(*rc::gen::elementOf(strings(detail::loopback_entries)));
        for (const auto& e : *detail::some_of(strings(detail::proxy_entries), 5)) c.trusted_proxies.push_back(e);
        if (*rc::gen::inRange(0, 30) == 0 || c.trusted_proxies.empty())
            c.trusted_proxies.push_back(*rc::gen::elementOf(strings(detail::proxy_entries, {detail::everything_ipv4})));
        if (steps.identity == model::steps::identity_from::bearer_token || *rc::gen::inRange(0, 3) > 0)
            c.token = *rc::gen::elementOf(strings(detail::tokens));

        auto& tp = c.trusted_proxy;
        tp.user_header = *rc::gen::elementOf(strings(detail::user_headers));
        if (steps.required_headers && *rc::gen::arbitrary<bool>())
            tp.required_headers = *detail::some_of(strings(detail::required_header_names), 3);
        if (steps.allow_users && *rc::gen::arbitrary<bool>()) {
            tp.allow_users = *detail::some_of(strings(detail::users), 2);
            if (tp.allow_users.empty()) tp.allow_users.push_back(*rc::gen::elementOf(strings(detail::users)));
        }
        tp.allow_users_case_insensitive = *rc::gen::arbitrary<bool>();
        if (steps.loopback) {
            tp.allow_loopback = *rc::gen::inRange(0, 10) < 3;
            if (*rc::gen::arbitrary<bool>()) {
                // Valid by construction: in allowUsers when that is set, and a loopback
                // entry to apply to.
                tp.loopback_user = *rc::gen::elementOf(tp.allow_users.empty() ? strings(detail::users) : tp.allow_users);
                const bool trusts_loopback = std::any_of(c.trusted_proxies.begin(), c.trusted_proxies.end(), [](const std::string& e) {
                    return e == detail::everything_ipv4 || std::find(detail::loopback_entries.begin(), detail::loopback_entries.end(), e) !=
                                                                detail::loopback_entries.end();
                });
                if (!trusts_loopback) c.trusted_proxies.push_back("127.0.0.1");
            }
        }

        c.scopes = default_scopes_config();
        const auto scope_names = strings(openclaw_scopes::names);
        if (*rc::gen::arbitrary<bool>()) c.scopes.default_scopes = *detail::some_of(scope_names, 3);
        if (*rc::gen::arbitrary<bool>()) c.scopes.token_scopes = *detail::some_of(scope_names, 3);
        for (const auto& user : *detail::some_of(strings(detail::users, {"anonymous", "local"}), 4))
            c.scopes.identity_scopes.emplace_back(*detail::with_random_case(user), *detail::some_of(scope_names, 3));
        for (const auto& method : *detail::some_of(strings(detail::methods), 6))
            c.scopes.methods.emplace_back(method, *rc::gen::elementOf(scope_names));

        auto& rl = c.rate_limit;
        rl.max_attempts = *rc::gen::weightedElement<unsigned>({{3, 1}, {2, 2}, {1, 3}, {1, 10}});
        rl.window = std::chrono::milliseconds(*rc::gen::element(1'000, 60'000));
        rl.lockout = std::chrono::milliseconds(*rc::gen::element(500, 2'000, 300'000));
        rl.exempt_loopback = *rc::gen::arbitrary<bool>();
        rl.max_keys = 64;  // a scenario uses a handful of keys; keeps each gateway small
        return c;
    });
}

// Peer addresses: loopback, the configuration's own entries (first, last, inside) and
// the addresses just outside them, random IPv4 and IPv6, and the special cases
// (unspecified, IPv4-compatible ::127.0.0.1, link-local, the edges of 127.0.0.0/8).
inline rc::Gen<net::address> address_for(const auth_config& config) {
    return rc::gen::exec([entries = config.trusted_proxies] {
        const auto parse = [](std::string_view text) { return *net::address::parse(text); };
        switch (*rc::gen::weightedElement<int>({{5, 0}, {8, 1}, {2, 2}, {1, 3}, {1, 4}, {1, 5}})) {
            case 0: {  // loopback, usually a configured (trusted) one
                std::vector<std::string> configured;
                std::copy_if(entries.begin(), entries.end(), std::back_inserter(configured), [](const std::string& e) {
                    return std::find(detail::loopback_entries.begin(), detail::loopback_entries.end(), e) != detail::loopback_entries.end();
                });
                if (!configured.empty() && *rc::gen::inRange(0, 3) > 0) return parse(*rc::gen::elementOf(configured) == "::1" ? "::1" : "127.0.0.1");
                return *rc::gen::weightedOneOf<net::address>({
                    {4, rc::gen::just(parse("127.0.0.1"))},
                    {2, rc::gen::just(parse("::1"))},
                    {1, rc::gen::map(rc::gen::arbitrary<std::uint32_t>(),
                                     [](std::uint32_t v) { return net::address::from_v4_uint(0x7f000000u | (v & 0xffffffu)); })},
                });
            }
            case 1: {  // first, last or somewhere inside one of the configuration's entries
                const auto block = net::cidr::parse(*rc::gen::elementOf(entries));
                if (!block) return parse("127.0.0.1");
                net::address a = *rc::gen::element(block->first(), block->last());
                if (*rc::gen::arbitrary<bool>()) {
                    auto bytes = block->first().bytes();
                    const auto last = block->last().bytes();
                    for (std::size_t i = 0; i < 16; ++i)
                        bytes[i] = static_cast<std::uint8_t>(bytes[i] | (*rc::gen::arbitrary<std::uint8_t>() & (bytes[i] ^ last[i])));
                    a = net::address::from_v6_bytes(bytes);
                }
                return a;
            }
            case 2: {  // just outside one of them
                const auto block = net::cidr::parse(*rc::gen::elementOf(entries));
                if (!block) return parse("127.0.0.1");
                const bool below = *rc::gen::arbitrary<bool>();
                net::address a = below ? block->first() : block->last();
                detail::step_address(a, below ? -1 : 1);
                return a;
            }
            case 3:
                return net::address::from_v4_uint(*rc::gen::arbitrary<std::uint32_t>());
            case 4: {
                net::address::bytes_type bytes{};
                for (auto& b : bytes) b = *rc::gen::arbitrary<std::uint8_t>();
                return net::address::from_v6_bytes(bytes);
            }
            default:
                return parse(*rc::gen::element<std::string>("::", "0.0.0.0", "::127.0.0.1", "126.255.255.255",
                                                            "128.0.0.0", "::2", "fe80::1", "::ffff:0:0", "::ffff:7f00:1"));
        }
    });
}

// x-forwarded-for entries: canonical text of address_for, mapped IPv6 spellings, ports,
// brackets, upper-case hex, and the malformed spellings SPEC §2 rejects.
inline rc::Gen<std::string> forwarded_for_entry(const auth_config& config) {
    return rc::gen::exec([config] {
        const auto a = *address_for(config);
        const auto port = std::to_string(*rc::gen::inRange(0, 70000));
        switch (*rc::gen::weightedElement<int>({{6, 0}, {2, 1}, {2, 2}, {1, 3}, {1, 4}, {2, 5}})) {
            case 0: return a.to_string();
            case 1: return detail::mapped_text(a);
            case 2: return a.is_v4() ? a.to_string() + ":" + port : "[" + a.to_string() + "]:" + port;
            case 3: return "[" + detail::mapped_text(a) + "]";
            case 4: {
                auto text = detail::mapped_text(a);
                std::transform(text.begin(), text.end(), text.begin(), [](char c) { return c >= 'a' && c <= 'f' ? char(c - 32) : c; });
                return text;
            }
            default: return *rc::gen::elementOf(detail::strings(detail::malformed_addresses));
        }
    });
}

// A `host` value: mostly local spellings, sometimes near misses.
inline rc::Gen<std::string> host() {
    return rc::gen::weightedOneOf<std::string>({
        {3, rc::gen::elementOf(detail::strings(detail::local_hosts))},
        {1, rc::gen::elementOf(detail::strings(detail::non_local_hosts))},
    });
}

// An `origin` value: scheme://host, with odd schemes, paths and `null`.
inline rc::Gen<std::string> origin() {
    return rc::gen::exec([] {
        const auto scheme = *rc::gen::weightedOneOf<std::string>({
            {4, rc::gen::element<std::string>("http", "https")},
            {1, rc::gen::elementOf(detail::strings(detail::origin_schemes))},
        });
        return *rc::gen::weightedOneOf<std::string>({
            {8, rc::gen::just(scheme + "://" + *host())},
            {1, rc::gen::element<std::string>("null", "http://localhost/", "http://localhost:18789/app", "localhost",
                                              "file://", "http:/localhost", "://localhost")},
        });
    });
}

// An `authorization` value: the configured token or a pool token (so, often right),
// a wrong one, and the spellings around `Bearer <token>`.
inline rc::Gen<std::string> authorization(const auth_config& config) {
    return rc::gen::exec([token = config.token] {
        const auto right = token ? *token : std::string(detail::tokens[0]);
        const auto some = *rc::gen::weightedElement<std::string>({{3, right}, {1, std::string(detail::tokens[1])}, {1, right + "x"}});
        return *rc::gen::weightedElement<std::string>({
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
        const auto user = *rc::gen::elementOf(tp.allow_users.empty() || *rc::gen::inRange(0, 4) == 0 ? any_user : tp.allow_users);
        switch (*rc::gen::weightedElement<int>({{10, 0}, {2, 1}, {2, 2}, {1, 3}, {2, 4}, {1, 5}, {1, 6}, {1, 7}})) {
            case 0: return user;
            case 1: return tp.loopback_user ? *tp.loopback_user : user;
            case 2: return *detail::with_random_case(user);
            case 3: return *rc::gen::element<std::string>(" ", "\t") + user + *rc::gen::element<std::string>("", " ", " \t");
            case 4: return *rc::gen::element<std::string>("", " ", "\t ");
            case 5: return user + *rc::gen::element<std::string>(",", ", bob@example.com", " ,");
            case 6: return *rc::gen::element<std::string>("\x01", "\x7f", "\t", "\r", "\n") + user;
            default: {
                const int length = *rc::gen::element(255, 256, 257);
                return *rc::gen::element<std::string>("", "  ") + std::string(std::size_t(length), 'a') + *rc::gen::element<std::string>("", " ");
            }
        }
    });
}

// Header lines for `config`. `local_tool` shapes them like a CLI on the gateway host
// (no user header, no forwarded evidence, a local host), which the loopback rules need.
inline rc::Gen<std::vector<basic_request::header>> headers_for(const auth_config& config, bool local_tool = false) {
    return rc::gen::exec([config, local_tool] {
        std::vector<basic_request::header> h;
        const auto& tp = config.trusted_proxy;
        const auto add = [&h](std::string name, std::string value) { h.push_back({std::move(name), std::move(value)}); };

        const int user_lines = local_tool ? *rc::gen::weightedElement<int>({{8, 0}, {1, 1}})
                                          : *rc::gen::weightedElement<int>({{3, 0}, {10, 1}, {2, 2}, {1, 3}});
        for (int i = 0; i < user_lines; ++i) {
            const auto value = local_tool ? *rc::gen::element<std::string>("", " ") : *user_value(config);
            const auto name = *rc::gen::weightedOneOf<std::string>({
                {12, rc::gen::just(tp.user_header)},
                {2, detail::with_random_case(tp.user_header)},
                {1, rc::gen::just(detail::with_underscores(tp.user_header))},
                {1, rc::gen::elementOf(detail::strings(detail::user_headers))},
            });
            add(name, value);
        }

        for (const auto& required : tp.required_headers) {
            const auto name = *rc::gen::weightedOneOf<std::string>({{4, rc::gen::just(required)}, {1, detail::with_random_case(required)}});
            switch (*rc::gen::weightedElement<int>({{8, 0}, {2, 1}, {1, 2}, {1, 3}})) {
                case 0: add(name, "proxy-set"); break;
                case 1: break;
                case 2: add(name, *rc::gen::element<std::string>("", " \t")); break;
                default: add(name, ""); add(name, "proxy-set"); break;
            }
        }

        if (!local_tool) {
            if (*rc::gen::inRange(0, 10) < 4) {
                const int lines = *rc::gen::weightedElement<int>({{4, 1}, {1, 2}});
                for (int i = 0; i < lines; ++i) {
                    std::string value;
                    const int entries = *rc::gen::inRange(1, 4);
                    for (int e = 0; e < entries; ++e)
                        value += (e ? *rc::gen::element<std::string>(",", ", ", " ,\t") : "") + *forwarded_for_entry(config);
                    add(*rc::gen::weightedElement<std::string>({{6, "x-forwarded-for"}, {1, "X-Forwarded-For"}}), value);
                }
            }
            if (*rc::gen::inRange(0, 10) == 0)
                add(*rc::gen::element<std::string>("forwarded", "x-real-ip", "x-forwarded-proto", "X-Forwarded-Host", "x-forwarded-"),
                    *rc::gen::element<std::string>("for=198.51.100.7", "https", "", "gateway.example.com"));
        }

        const auto host_lines = *rc::gen::weightedElement<int>({{3, 0}, {6, 1}, {1, 2}});
        for (int i = 0; i < host_lines; ++i)
            add(*rc::gen::weightedElement<std::string>({{5, "host"}, {1, "Host"}}), local_tool ? *rc::gen::elementOf(detail::strings(detail::local_hosts)) : *host());
        const auto origin_lines = *rc::gen::weightedElement<int>({{7, 0}, {3, 1}, {1, 2}});
        for (int i = 0; i < origin_lines; ++i) add(*rc::gen::element<std::string>("origin", "Origin"), *origin());

        const auto authorization_lines = *rc::gen::weightedElement<int>({{5, 0}, {6, 1}, {1, 2}});
        for (int i = 0; i < authorization_lines; ++i)
            add(*rc::gen::element<std::string>("authorization", "Authorization"), *authorization(config));

        if (*rc::gen::inRange(0, 4) == 0) {
            std::string asked;
            for (const auto& s : *detail::some_of(detail::strings(openclaw_scopes::names, {"operator.root", ""}), 3))
                asked += (asked.empty() ? "" : *rc::gen::element<std::string>(",", ", ")) + s;
            add(*rc::gen::element(config.scopes.header, detail::with_underscores(config.scopes.header)), asked);
        }

        for (const auto& name : *detail::some_of(detail::strings(detail::unrelated_headers), 8))
            add(name, *rc::gen::element<std::string>("1", "text/html", "a=b; c=d", "127.0.0.1", ""));

        // Wire order matters (first non-blank user line, x-forwarded-for order): shuffle.
        const auto keys = *rc::gen::container<std::vector<int>>(h.size(), rc::gen::inRange(0, 1000));
        std::vector<std::size_t> order(h.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&keys](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
        std::vector<basic_request::header> shuffled;
        for (const auto i : order) shuffled.push_back(h[i]);
        return shuffled;
    });
}

// A request from address_for with headers_for; a loopback peer often sends what a
// local tool sends.
inline rc::Gen<basic_request> request_for(const auth_config& config) {
    return rc::gen::exec([config] {
        const auto peer = *address_for(config);
        const bool local_tool = peer.is_loopback() && *rc::gen::inRange(0, 3) > 0;
        return basic_request(peer, *headers_for(config, local_tool));
    });
}

// What a CLI or sub-agent on the gateway host sends: from ::1 when that is the
// configuration's loopback entry, from 127.0.0.1 otherwise.
inline rc::Gen<basic_request> local_tool_request_for(const auth_config& config) {
    return rc::gen::exec([config] {
        const auto& e = config.trusted_proxies;
        const bool v6 = std::find(e.begin(), e.end(), "::1") != e.end() && *rc::gen::arbitrary<bool>();
        return basic_request(*net::address::parse(v6 ? "::1" : "127.0.0.1"), *headers_for(config, true));
    });
}

// A method name: built-in ones, unknown ones, near misses.
inline rc::Gen<std::string> method() { return rc::gen::elementOf(detail::strings(detail::methods)); }

// A configuration for `steps`, adjusted by `configure`, and one to four exchanges. Later
// requests often repeat an earlier one with another authorization header (a client
// retrying, or guessing tokens), at times around the rate limit's window and lockout, so
// failed attempts add up.
inline rc::Gen<scenario> scenario_for(const model::steps& steps, std::function<void(auth_config&)> configure = {}) {
    return rc::gen::exec([steps, configure] {
        scenario s;
        s.config = *config_for(steps);
        if (configure) configure(s.config);
        const auto& rl = s.config.rate_limit;
        const bool guessing = *rc::gen::inRange(0, 4) == 0;
        const int count = guessing ? *rc::gen::inRange(3, 5) : *rc::gen::weightedElement<int>({{5, 1}, {2, 2}, {2, 3}, {1, 4}});
        for (int i = 0; i < count; ++i) {
            exchange e;
            if (i > 0 && (guessing || *rc::gen::inRange(0, 10) < 6)) {
                e.request = s.exchanges.back().request;
                auto& h = e.request.headers();
                h.erase(std::remove_if(h.begin(), h.end(), [](const basic_request::header& x) { return model::same_ignoring_case(x.name, "authorization"); }),
                        h.end());
                if (*rc::gen::inRange(0, 5) > 0)
                    h.push_back({"authorization", *rc::gen::weightedOneOf<std::string>({
                                                      {guessing ? 1u : 2u, authorization(s.config)},
                                                      {guessing ? 3u : 1u, rc::gen::just(std::string("Bearer not-the-token"))},
                                                  })});
            } else {
                e.request = guessing && *rc::gen::arbitrary<bool>() ? *local_tool_request_for(s.config) : *request_for(s.config);
            }
            const auto ms = [](std::chrono::milliseconds d, int delta) { return d + std::chrono::milliseconds(delta); };
            e.after = i == 0 ? std::chrono::milliseconds(0)
                             : *rc::gen::weightedElement<std::chrono::milliseconds>({
                                   {guessing ? 9u : 3u, std::chrono::milliseconds(0)}, {2, std::chrono::milliseconds(1)}, {1, ms(rl.window, -1)},
                                   {1, rl.window}, {1, ms(rl.lockout, -1)}, {1, rl.lockout}, {1, ms(rl.lockout, 999)}});
            e.method = *method();
            s.exchanges.push_back(std::move(e));
        }
        return s;
    });
}

}  // namespace gen

}  // namespace trustgate::testing
