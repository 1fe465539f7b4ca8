// The bodies of the shipped properties: agreement with the reference model (behaviour §8.9)
// and the invariants behaviour §8.1-§8.8 and §8.11. Each draws its inputs with `*gen` and fails with
// RC_ASSERT / RC_FAIL, so RapidCheck can shrink a failure to a small counterexample.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <trustgate/model/reference_model.hpp>

#include "trustgate/attempt_limiter.hpp"
#include "trustgate/config.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/gateway.hpp"
#include "trustgate/policy/allow_users.hpp"
#include "trustgate/policy/anonymous.hpp"
#include "trustgate/policy/bearer_token.hpp"
#include "trustgate/policy/loopback_policy.hpp"
#include "trustgate/policy/proxy_certificate.hpp"
#include "trustgate/policy/proxy_identity.hpp"
#include "trustgate/policy/required_headers.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/policy/trusted_source.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"
#include "trustgate/testing/coverage.hpp"
#include "trustgate/testing/impl/compare.hpp"
#include "trustgate/testing/detail/pools.hpp"
#include "trustgate/testing/generators.hpp"

namespace trustgate::testing::detail {

using configure_function = std::function<void(auth_config&)>;
using reason_observer = std::function<void(reason)>;

// What every property draws its inputs from, and where it counts what they reached.
struct draw {
    configure_function configure;
    header_pools pools;
    std::shared_ptr<coverage> covered;  // may be null: nothing is counted
};

// `gw`'s decision on `r`. The traced overload runs on `traced` (`gw` itself, or a gateway
// in the same state) and must decide alike; its steps are counted.
template <class Gateway>
decision counted(const Gateway& gw, const Gateway& traced, const basic_request& r, const draw& in) {
    const auto d = gw.authenticate(r);
    decision_trace trace;
    const auto t = traced.authenticate(r, trace);
    if (const auto diff = difference(d, t); !diff.empty()) RC_FAIL("authenticate(request, trace) decided otherwise\n" + diff);
    if (in.covered) in.covered->record(trace);
    return d;
}

// The policies the reference model knows. A composition of only these can be compared
// with the model; the invariants hold for any composition.
template <class P>
inline constexpr bool modelled_policy =
    std::is_same_v<P, trusted_source> || std::is_same_v<P, loopback_policy> || std::is_same_v<P, required_headers> ||
    std::is_same_v<P, proxy_identity> || std::is_same_v<P, bearer_token> || std::is_same_v<P, anonymous> ||
    std::is_same_v<P, allow_users> || std::is_same_v<P, scopes<openclaw_scopes>> || std::is_same_v<P, proxy_certificate>;

template <class Gateway>
struct composition;

template <class... Policies>
struct composition<gateway<Policies...>> {
    static constexpr bool modelled = (modelled_policy<Policies> && ...);
};

// behaviour §5 is written for the operator scope set, so only scopes<> is checked against it.
template <class Gateway>
inline constexpr bool authorizes = Gateway::template has<scopes<openclaw_scopes>>;

// The behaviour §3 steps a composition runs; a custom identity policy counts as trusted-proxy
// mode, where the invariants are strictest.
template <class Gateway>
model::steps steps_of() {
    model::steps s;
    s.trusted_source = Gateway::template has<trusted_source>;
    s.loopback = Gateway::template has<loopback_policy>;
    s.required_headers = Gateway::template has<required_headers>;
    s.allow_users = Gateway::template has<allow_users>;
    s.certificate = Gateway::template has<proxy_certificate>;
    s.identity = Gateway::template has<bearer_token> ? model::steps::identity_from::bearer_token
                 : Gateway::template has<anonymous> ? model::steps::identity_from::nobody
                                                    : model::steps::identity_from::user_header;
    return s;
}

// behaviour §1, from the model: what the invariants' premises talk about.
inline bool peer_trusted(const auth_config& config, const net::address& peer) {
    return model::trusted(model::from_library(peer), model::trusted_blocks(config));
}

inline bool peer_loopback(const net::address& peer) { return model::is_loopback(model::from_library(peer)); }

inline bool direct_local(const auth_config& config, const basic_request& r) {
    return model::direct_local(model::from_library(r.peer()), peer_trusted(config, r.peer()),
                               model::look_at(r, config.trusted_proxy.user_header), model::proven_local(config.trusted_proxy, r));
}

// `h` with `extra` inserted at drawn positions.
inline std::vector<basic_request::header> with_inserted(std::vector<basic_request::header> h,
                                                        const std::vector<basic_request::header>& extra) {
    for (const auto& x : extra) h.insert(h.begin() + *rc::gen::resize(100, rc::gen::inRange<std::ptrdiff_t>(0, std::ptrdiff_t(h.size()) + 1)), x);
    return h;
}

// behaviour §8.9: the gateway and the model agree on every exchange of a scenario (decision,
// reason, identity, via, client IP, missing header, retry delay, and the authorisation
// of every method in the pool), with a failed-attempt limiter on an injected clock.
template <class Gateway>
void agrees_with_model(const draw& in, const reason_observer& observe) {
    const auto steps = steps_of<Gateway>();
    const auto s = *gen::scenario_for(steps, in.configure, in.pools);
    std::chrono::milliseconds now{1'000'000'000};
    const auto clock = [&now] { return attempt_limiter::time_point(now); };
    // The traced gateway counts its failed attempts apart, so both see the same history.
    attempt_limiter limiter(s.config.rate_limit, clock), traced_limiter(s.config.rate_limit, clock);
    const auto gw = Gateway::from_config(s.config, &limiter);
    const auto traced = Gateway::from_config(s.config, &traced_limiter);
    model::failed_attempts attempts(s.config.rate_limit);
    reason last = reason::ok;
    for (const auto& e : s.exchanges) {
        now += e.after;
        const auto d = counted(gw, traced, e.request, in);
        const auto expected = model::authenticate(steps, s.config, e.request, {&attempts, now});
        if (const auto diff = difference(d, expected); !diff.empty()) RC_FAIL(diff);
        // The gateway's reason list (metrics labels, docs) holds every reason it decides with.
        RC_ASSERT(std::find(Gateway::reasons.begin(), Gateway::reasons.end(), d.why) != Gateway::reasons.end());
        last = d.why;
        if (observe) observe(d.why);
        if constexpr (authorizes<Gateway>) {
            bool refused = false;
            for (const auto method : methods) {
                const auto a = gw.authorize(d, method, e.request);
                const auto m = model::authorize(s.config.scopes, expected, method, e.request);
                if (const auto diff = difference(a, m, method); !diff.empty()) RC_FAIL(diff);
                refused = refused || (d.allowed && !a.allowed);
            }
            if (refused && observe) observe(reason::missing_scope);
        }
    }
    RC_TAG(std::string(to_string(last)));
}

// behaviour §8.1: via = loopback-user => the request was direct-local and had no user header.
template <class Gateway>
void loopback_user_only_direct_local(const draw& in) {
    const auto config = *gen::config_for(steps_of<Gateway>(), in.configure);
    const auto r = *gen::request_for(config, in.pools);
    const auto gw = Gateway::from_config(config);
    const auto d = counted(gw, gw, r, in);
    if (d.how != via::loopback_user) return;
    RC_ASSERT(direct_local(config, r));
    RC_ASSERT(!model::look_at(r, config.trusted_proxy.user_header).user_present);
}

// behaviour §8.2: in trusted-proxy mode a non-loopback peer never gets via loopback-user or
// token, and gets loopbackUser's name only when the proxy vouched for that name; nor does
// a loopback peer whose local process proof is missing, failed or names a user outside
// localUsers.
template <class Gateway>
void remote_peer_never_local(const draw& in) {
    const auto steps = steps_of<Gateway>();
    if (steps.identity != model::steps::identity_from::user_header) return;
    const auto config = *gen::config_for(steps, in.configure);
    const auto r = *gen::request_for(config, in.pools);
    if (peer_loopback(r.peer()) && model::proven_local(config.trusted_proxy, r)) return;
    RC_TAG(peer_loopback(r.peer()) ? "loopback peer without a proof in localUsers" : "remote peer");
    const auto gw = Gateway::from_config(config);
    const auto d = counted(gw, gw, r, in);
    RC_ASSERT(d.how != via::loopback_user);
    RC_ASSERT(d.how != via::token);
    if (d.allowed && config.trusted_proxy.loopback_user && d.identity == *config.trusted_proxy.loopback_user)
        RC_ASSERT(d.how == via::trusted_proxy);
}

// behaviour §8.3: in trusted-proxy mode an untrusted peer is never allowed, whatever its
// headers. The peer is replaced by one outside trustedProxies.
template <class Gateway>
void untrusted_peer_never_allowed(const draw& in) {
    const auto steps = steps_of<Gateway>();
    if (steps.identity != model::steps::identity_from::user_header) return;
    const auto config = *gen::config_for(steps, in.configure);
    auto r = *gen::request_for(config, in.pools);
    auto peer = *gen::address_for(config);
    for (const char* candidate : {"203.0.113.7", "127.0.0.1", "::1", "2001:db8:ffff::1", "10.0.0.1", "fe80::1"}) {
        if (!peer_trusted(config, peer)) break;
        peer = *net::address::parse(candidate);
    }
    RC_PRE(!peer_trusted(config, peer));
    r.set_peer(peer);
    const auto gw = Gateway::from_config(config);
    RC_ASSERT(!counted(gw, gw, r, in).allowed);
}

// behaviour §8.4: via = trusted-proxy => every required header was present and the identity
// is in allowUsers (when non-empty).
template <class Gateway>
void proxy_identity_fully_vetted(const draw& in) {
    const auto config = *gen::config_for(steps_of<Gateway>(), in.configure);
    const auto r = *gen::request_for(config, in.pools);
    const auto gw = Gateway::from_config(config);
    const auto d = counted(gw, gw, r, in);
    if (d.how != via::trusted_proxy) return;
    const auto& tp = config.trusted_proxy;
    for (const auto& name : tp.required_headers) RC_ASSERT(model::has_non_blank(r, name));
    if (!tp.allow_users.empty()) RC_ASSERT(model::allowed_user(tp, d.identity));
}

// behaviour §8.5: header names in another case, an IPv4 peer written as mapped IPv6, and
// added unrelated headers leave the decision as it was.
template <class Gateway>
void irrelevant_changes_change_nothing(const draw& in) {
    const auto config = *gen::config_for(steps_of<Gateway>(), in.configure);
    const auto r = *gen::request_for(config, in.pools);
    const auto gw = Gateway::from_config(config);
    const auto before = counted(gw, gw, r, in);

    auto recased = r;
    for (auto& h : recased.headers()) h.name = *with_random_case(h.name);
    if (const auto diff = difference(before, gw.authenticate(recased)); !diff.empty()) RC_FAIL("header names recased\n" + diff);

    if (r.peer().is_v4()) {
        auto mapped = r;
        mapped.set_peer(*net::address::parse("::ffff:" + r.peer().to_string()));
        if (const auto diff = difference(before, gw.authenticate(mapped)); !diff.empty()) RC_FAIL("peer written as mapped IPv6\n" + diff);
    }

    std::vector<basic_request::header> unrelated;
    const auto& tp = config.trusted_proxy;
    for (const auto name : unrelated_headers) {
        const auto named = [name](const std::string& n) { return model::same_ignoring_case(name, n); };
        const bool configured = named(tp.user_header) || named(config.scopes.header) ||
                                std::any_of(tp.required_headers.begin(), tp.required_headers.end(), named) ||
                                std::any_of(in.pools.begin(), in.pools.end(), [&](const header_pool& p) { return named(p.name); });
        if (!configured && chance(1, 3))
            unrelated.push_back({std::string(name), one_of<std::string>({"", "1", "127.0.0.1", "alice@example.com, x"})});
    }
    auto added = r;
    added.headers() = with_inserted(r.headers(), unrelated);
    if (const auto diff = difference(before, gw.authenticate(added)); !diff.empty()) RC_FAIL("unrelated headers added\n" + diff);
}

// behaviour §8.6: a header named like the user header with `_` for `-` never counts: adding
// such lines changes nothing, and renaming the user header's lines so is removing them.
template <class Gateway>
void underscore_name_never_user_header(const draw& in) {
    const auto config = *gen::config_for(steps_of<Gateway>(), in.configure);
    const auto& user_header = config.trusted_proxy.user_header;
    RC_PRE(user_header.find('-') != std::string::npos);
    const auto impostor = with_underscores(user_header);
    const auto r = *gen::request_for(config, in.pools);
    const auto gw = Gateway::from_config(config);
    const auto before = counted(gw, gw, r, in);

    std::vector<basic_request::header> extra;
    for (int i = one_of<int>({1, 2}); i > 0; --i) extra.push_back({*with_random_case(impostor), *gen::user_value(config)});
    auto added = r;
    added.headers() = with_inserted(r.headers(), extra);
    if (const auto diff = difference(before, gw.authenticate(added)); !diff.empty()) RC_FAIL(impostor + " lines added\n" + diff);

    auto renamed = r, removed = r;
    for (auto& h : renamed.headers())
        if (model::same_ignoring_case(h.name, user_header)) h.name = impostor;
    auto& kept = removed.headers();
    kept.erase(std::remove_if(kept.begin(), kept.end(), [&](const basic_request::header& h) { return model::same_ignoring_case(h.name, user_header); }),
               kept.end());
    if (const auto diff = difference(gw.authenticate(removed), gw.authenticate(renamed)); !diff.empty())
        RC_FAIL("user header renamed to " + impostor + " (before) versus removed (after)\n" + diff);
}

// behaviour §8.7: removing allowUsers entries (leaving some), removing trustedProxies entries
// (leaving some), removing localUsers entries (leaving some) or adding required headers
// never turns a deny into an allow.
template <class Gateway>
void narrowing_never_allows_more(const draw& in) {
    const auto steps = steps_of<Gateway>();
    const auto config = *gen::config_for(steps, in.configure);
    const auto r = *gen::request_for(config, in.pools);
    const auto wide_gw = Gateway::from_config(config);
    const auto wide = counted(wide_gw, wide_gw, r, in);
    if (wide.allowed) return;

    auto narrow = config;
    auto& tp = narrow.trusted_proxy;
    const auto keeps = [&](const std::vector<std::string>& before, std::vector<std::string> after, auto&& still_valid) {
        return after.empty() || !still_valid(after) ? before : after;
    };
    const auto& loopback_user = tp.loopback_user;
    tp.allow_users = keeps(tp.allow_users, *some_of(tp.allow_users, 2), [&](const std::vector<std::string>& kept) {
        auto vetted = tp;
        vetted.allow_users = kept;
        return !loopback_user || model::allowed_user(vetted, *loopback_user);
    });
    narrow.trusted_proxies = keeps(narrow.trusted_proxies, *some_of(narrow.trusted_proxies, 2), [&](const std::vector<std::string>& entries) {
        return !loopback_user || std::any_of(entries.begin(), entries.end(), covers_loopback);
    });
    if (steps.required_headers)
        for (const auto& name : *some_of(strings(required_header_names), 3)) tp.required_headers.push_back(name);
    tp.local_users = keeps(tp.local_users, *some_of(tp.local_users, 2), [](const std::vector<std::string>&) { return true; });

    const auto d = Gateway::from_config(narrow).authenticate(r);
    RC_ASSERT(!d.allowed);
}

// behaviour §8.11: with clientCertificate configured, via = trusted-proxy => the connection
// presented a certificate the handshake verified against clientCaPath, with an allowed name.
template <class Gateway>
void proxy_certificate_required(const draw& in) {
    const auto config = *gen::config_for(steps_of<Gateway>(), in.configure);
    if (!config.trusted_proxy.client_certificate) return;
    const auto r = *gen::request_for(config, in.pools);
    const auto gw = Gateway::from_config(config);
    const auto d = counted(gw, gw, r, in);
    if (d.how != via::trusted_proxy) return;
    RC_TAG("allowed via trusted-proxy with a certificate configured");
    RC_ASSERT(r.peer_certificate().verified);
    RC_ASSERT(!model::check_certificate(*config.trusted_proxy.client_certificate, r.peer_certificate(), d.client_ip));
}

// behaviour §8.8: every granted scope is implied by the configured grant for the identity, and a
// method (each of the pool) is authorised exactly when a granted scope implies its
// required scope.
template <class Gateway>
void scopes_within_grant(const draw& in) {
    const auto config = *gen::config_for(steps_of<Gateway>(), in.configure);
    const auto r = *gen::request_for(config, in.pools);
    const auto gw = Gateway::from_config(config);
    const auto d = counted(gw, gw, r, in);
    const auto grant = model::configured_grant(config.scopes, as_outcome(d));
    for (const auto method : methods) {
        const auto a = gw.authorize(d, method, r);
        const auto required = model::required_scope(config.scopes, method);
        bool implied = false;
        for (const auto& g : granted_names(a.granted)) {
            RC_ASSERT(std::any_of(grant.begin(), grant.end(), [&](const std::string& c) { return model::implies(c, g); }));
            implied = implied || model::implies(g, required);
        }
        RC_ASSERT(a.allowed == implied);
        if (!d.allowed) RC_ASSERT(!a.allowed);
    }
}

}  // namespace trustgate::testing::detail
