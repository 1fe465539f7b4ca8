// Fuzz target: raw header blocks and peers through the library's decision, checked
// against the reference model (behaviour §8.9) request by request.
//
// Input:
//   byte 0   the configuration's switches (see `configure`)
//   byte 1   which trustedProxies list (see `proxy_lists`)
//   then     requests separated by an empty line; each is a line `<peer> [<ms>][!?-]` (the
//            peer's text, the milliseconds since the previous request, and the local
//            proof when it is not this process's user: see read_request) followed by
//            header lines `name:value`, split at the first colon, the value verbatim
//            (a line without a colon is a header with an empty value).
// One gateway and one failed-attempt record serve all requests of an input, on a clock
// the input advances, so lockouts happen and expire. Any difference in decision, reason,
// identity, via, client IP, missing header, retry delay or method authorisation aborts.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <trustgate/attempt_limiter.hpp>
#include <trustgate/config.hpp>
#include <trustgate/local_proof.hpp>
#include <trustgate/model/reference_model.hpp>
#include <trustgate/net/address.hpp>
#include <trustgate/presets.hpp>
#include <trustgate/request.hpp>
#include <trustgate/testing/impl/compare.hpp>

#include "fuzz_check.hpp"

namespace {

namespace model = trustgate::model;
using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

// behaviour §3 with the loopback steps left out: a gateway that only ever sees its proxy.
using proxy_only_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::required_headers,
                                              trustgate::proxy_identity, trustgate::allow_users, trustgate::scopes<>>;

// Enough for a lockout (10 failures and one more) and its expiry.
constexpr std::size_t max_requests = 16;
constexpr std::string_view token = "s3cret-token";
constexpr std::string_view loopback_user = "operator@localhost";
constexpr std::string_view methods[] = {"health", "chat.send", "approvals.resolve", "config.set", "deploy", "no.such"};

const std::vector<std::string> proxy_lists[] = {
    {"127.0.0.1", "::1"},
    {"127.0.0.0/8", "::1", "10.0.0.0/8", "192.168.1.10", "2001:db8::/32"},
    {"0.0.0.0/0", "::/0"},
    {"10.0.0.0/8", "2001:db8::/32"},  // no loopback entry: no loopbackUser either
};

// Bits of byte 0: 0-1 the composition (below), 2 allowLoopback, 3 loopbackUser,
// 4 a token, 5 a required header, 6 allowUsers, 7 case-insensitive allowUsers, a
// mixed-case user header and a quick, non-exempt rate limit.
trustgate::auth_config configure(std::uint8_t bits, const std::vector<std::string>& proxies, bool proxies_have_loopback) {
    trustgate::auth_config c;
    c.trusted_proxies = proxies;
    auto& tp = c.trusted_proxy;
    tp.allow_loopback = bits & 0x04;
    if ((bits & 0x08) && proxies_have_loopback) tp.loopback_user = std::string(loopback_user);
    if (bits & 0x10) c.token = std::string(token);
    if (bits & 0x20) tp.required_headers = {"x-proxy-secret"};
    if (bits & 0x40) tp.allow_users = {"alice", "Bob@Example.com", std::string(loopback_user)};
    if (bits & 0x80) {
        tp.allow_users_case_insensitive = true;
        tp.user_header = "X-Auth-Request-Email";
        c.rate_limit.max_attempts = 3;
        c.rate_limit.window = std::chrono::milliseconds(1'000);
        c.rate_limit.lockout = std::chrono::milliseconds(5'000);
        c.rate_limit.exempt_loopback = false;
    }
    // Room for far more keys than an input's requests can name, so the table (4 ways per
    // bucket) practically never evicts and stays comparable with the model's unbounded
    // record; a quarter of the default, because building the limiter dominates an input.
    c.rate_limit.max_keys = 4096;
    c.scopes.identity_scopes = {{"alice", {"operator.write"}}, {"OPERATOR@LOCALHOST", {"operator.admin"}}};
    c.scopes.methods = {{"chat.send", "operator.talk"}, {"deploy", "operator.approvals"}};
    return c;
}

struct request_text {
    trustgate::net::address peer;
    std::chrono::milliseconds after{0};
    trustgate::basic_request request;
};

// `<peer> [<ms>][!?-]`, then header lines; nothing when the peer does not parse. A
// loopback peer is proven this process's user (behaviour §1 local proof) unless the first
// line says otherwise: `!` another user, `?` a failed lookup, `-` no proof.
std::optional<request_text> read_request(std::string_view block) {
    const auto lines = model::split(block, '\n');
    const auto first = lines.front();
    const auto space = first.find(' ');
    const auto peer = trustgate::net::address::parse(first.substr(0, space));
    if (!peer) return std::nullopt;
    request_text r{*peer, {}, trustgate::basic_request(*peer)};
    const auto own = static_cast<std::uint32_t>(geteuid());
    if (peer->is_loopback()) r.request.set_local_proof(trustgate::local_proof::of(own));
    if (space != std::string_view::npos) {
        const auto rest = first.substr(space + 1);
        long long ms = 0;
        for (char c : rest.substr(0, 9))
            if (c >= '0' && c <= '9') ms = ms * 10 + (c - '0');
        r.after = std::chrono::milliseconds(ms);
        if (rest.find('!') != std::string_view::npos) r.request.set_local_proof(trustgate::local_proof::of(own + 1));
        if (rest.find('?') != std::string_view::npos) r.request.set_local_proof(trustgate::local_proof::failure());
        if (rest.find('-') != std::string_view::npos) r.request.set_local_proof({});
    }
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto colon = lines[i].find(':');
        r.request.add(std::string(lines[i].substr(0, colon)),
                      colon == std::string_view::npos ? std::string() : std::string(lines[i].substr(colon + 1)));
    }
    return r;
}

std::string describe(const trustgate::auth_config& config, const trustgate::basic_request& request) {
    std::ostringstream os;
    trustgate::showValue(config, os);
    os << "request ";
    trustgate::showValue(request, os);
    return os.str();
}

template <class Gateway>
void run(const model::steps& steps, const trustgate::auth_config& config, std::string_view requests) {
    std::chrono::milliseconds now{1'000'000'000};
    trustgate::attempt_limiter limiter(config.rate_limit, [&now] { return trustgate::attempt_limiter::time_point(now); });
    std::optional<Gateway> gateway;
    try {
        gateway.emplace(Gateway::from_config(config, &limiter));
    } catch (const trustgate::config_error& e) {
        trustgate_fuzz::fail(std::string("a configuration the target means to be valid was refused: ") + e.what());
    }
    model::failed_attempts attempts(config.rate_limit);

    std::size_t served = 0;
    std::size_t at = 0;
    while (at <= requests.size() && served < max_requests) {
        const auto end = std::min(requests.find("\n\n", at), requests.size());
        const auto r = read_request(requests.substr(at, end - at));
        at = end + 2;
        if (!r) continue;
        ++served;
        now += r->after;
        const auto d = gateway->authenticate(r->request);
        const auto expected = model::authenticate(steps, config, r->request, {&attempts, now});
        const auto diff = trustgate::testing::detail::difference(d, expected);
        check(diff.empty(), [&] { return describe(config, r->request) + "\n" + diff; });
        for (const auto method : methods) {
            const auto a = gateway->authorize(d, method, r->request);
            const auto m = model::authorize(config.scopes, expected, method, r->request);
            const auto scope_diff = trustgate::testing::detail::difference(a, m, method);
            check(scope_diff.empty(), [&] { return describe(config, r->request) + "\n" + scope_diff; });
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const auto& proxies = proxy_lists[data[1] % std::size(proxy_lists)];
    const bool proxies_have_loopback = &proxies != &proxy_lists[3];
    const auto config = configure(data[0], proxies, proxies_have_loopback);
    const std::string_view requests(reinterpret_cast<const char*>(data + 2), size - 2);

    using from = model::steps::identity_from;
    switch (data[0] & 0x03) {
        case 0: run<trustgate::trusted_proxy_gateway>({}, config, requests); break;
        case 1: run<proxy_only_gateway>({.loopback = false}, config, requests); break;
        case 2:
            if (!config.token) break;  // token mode needs one
            run<trustgate::token_gateway>({.trusted_source = false, .loopback = false, .required_headers = false,
                                           .identity = from::bearer_token, .allow_users = false},
                                          config, requests);
            break;
        default:
            run<trustgate::open_gateway>({.trusted_source = false, .loopback = false, .required_headers = false,
                                          .identity = from::nobody, .allow_users = false},
                                         config, requests);
            break;
    }
    return 0;
}
