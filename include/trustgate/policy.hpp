// trustgate/policy.hpp — the contract between the gateway template and its policies.
//
// A policy is a small value type (its runtime configuration lives in its members) with:
//   static constexpr trustgate::stage stage;      where in behaviour §3 it runs
//   static constexpr std::string_view name;       reported in decision::policy
//   static constexpr std::array reasons{...};     every trustgate::reason its check can
//                                                 return (std::array<reason, 0>{} for none)
//   verdict check(request_facts&, const R&) const for any request_view R
// and, if it reads request headers of its own,
//   static constexpr std::array headers{std::string_view{"x-tenant"}};
// lower-case header names that the gateway's one header scan captures into request_facts
// (request_facts::header), so the policy need not scan the request again.
// `check` returns `next_policy` to let the next policy run, or a final decision. A policy
// that never denies (anonymous) may say so with `static constexpr bool never_denies = true;`
// for trustgate::testing's coverage (testing/coverage.hpp).
// The gateway runs policies in the order they are listed, which must follow `stage`, and
// lists its policies' reasons in gateway<...>::reasons. gateway.hpp's static_asserts say
// which part of this contract a type misses.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "trustgate/decision.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/request.hpp"

namespace trustgate {

// behaviour §3's order: who may speak (1), local requests (2, 3), the proxy's client
// certificate (start of 4, behaviour §11), proxy contract (4.1),
// who is speaking (4.2-4.4 or a token), which identities are welcome (4.5).
// `authorize` policies (scopes) do not run during authentication.
enum class stage : std::uint8_t { source, local, certificate, headers, identity, vet, authorize };

enum class bearer_state : std::uint8_t {
    absent,     // no authorization header, or not the Bearer scheme, or an empty token
    present,    // exactly one `authorization: Bearer <token>`
    malformed,  // several authorization headers: matches no token
};

// For traces and logs: what was presented, never the token itself.
constexpr std::string_view describe(bearer_state b) noexcept {
    switch (b) {
        case bearer_state::present: return "Bearer token present (value not shown)";
        case bearer_state::malformed: return "several authorization headers";
        case bearer_state::absent: break;
    }
    return "no Bearer token";
}

// Everything behaviour §1 says about a request, gathered in one pass over its headers.
struct request_facts {
    net::address peer;
    bool peer_loopback = false;
    bool peer_trusted = false;        // set by trusted_source
    bool forwarded_evidence = false;  // forwarded, x-real-ip, x-forwarded-*
    bool host_is_local = true;        // host absent, or localhost / loopback literal
    bool origin_is_local = true;      // origin absent, or names such a host
    local_proof proof;                // the kernel's word on the peer's process (behaviour §1)

    // The user header (behaviour §3 step 4), when the composition has one.
    unsigned user_lines = 0;          // how many times the header appears, blank or not
    bool user_present = false;        // some line has a non-blank value
    bool user_has_comma = false;
    std::string_view user_value;      // first non-blank line, trimmed

    // The first `x-forwarded-for` and `forwarded` lines, kept so attribution (behaviour §4)
    // needs no second pass.
    static constexpr unsigned kept_forwarded_for_lines = 4;
    std::array<std::string_view, kept_forwarded_for_lines> forwarded_for;
    unsigned forwarded_for_lines = 0;  // all of them, kept or not
    std::array<std::string_view, kept_forwarded_for_lines> forwarded;
    unsigned forwarded_lines = 0;

    bearer_state bearer = bearer_state::absent;
    std::string_view bearer_token;

    // Set by a headers-stage policy that verified a signed assertion (behaviour §10): the
    // identity stage then takes it instead of requiring the user header.
    std::string_view asserted_identity;

    // Set by the identity stage.
    std::string_view identity;
    trustgate::via how = via::none;

    net::address client_ip;

    // The headers the composition's policies declare (their `headers`), captured by the same
    // pass into storage on the gateway's stack, sized for its composition at compile time:
    // a composition that declares none pays nothing. Valid during the decision only.
    struct declared_header {
        std::string_view name;   // lower case, as declared
        std::string_view value;  // the first non-blank line, trimmed
        unsigned lines = 0;      // how many times the header appears, blank or not
    };
    std::span<declared_header> declared;

    // A declared header's first non-blank value, trimmed; empty when absent or blank, and
    // for a name no policy of the composition declared.
    constexpr std::string_view header(std::string_view name) const noexcept {
        const declared_header* h = find_declared(name);
        return h ? h->value : std::string_view{};
    }
    // How many times a declared header appears: more than one is usually a refusal.
    constexpr unsigned header_lines(std::string_view name) const noexcept {
        const declared_header* h = find_declared(name);
        return h ? h->lines : 0;
    }

    // behaviour §1: what a CLI or sub-agent on the gateway host sends. This is the half the
    // request shows; loopback_policy adds the local process proof, whose user list it owns.
    constexpr bool direct_local() const noexcept {
        return peer_loopback && peer_trusted && !forwarded_evidence && host_is_local && origin_is_local;
    }

private:
    constexpr const declared_header* find_declared(std::string_view name) const noexcept {
        for (const auto& h : declared)
            if (h.name == name) return &h;
        return nullptr;
    }
};

using verdict = std::optional<decision>;
inline constexpr std::nullopt_t next_policy = std::nullopt;

namespace detail {
// A request type nobody writes: checks that a policy works for every request_view.
struct request_archetype {
    net::address peer() const noexcept { return {}; }
    template <class F>
    void for_each_header(F&&) const {}
};
}  // namespace detail

template <class P>
concept staged = requires {
    { P::stage } -> std::convertible_to<trustgate::stage>;
    { P::name } -> std::convertible_to<std::string_view>;
};

namespace detail {
template <class A, class T>
inline constexpr bool is_array_of = false;
template <class T, std::size_t N>
inline constexpr bool is_array_of<std::array<T, N>, T> = true;

// The one header-name grammar (an RFC 9110 token), in lower case.
constexpr bool is_lower_header_name(std::string_view name) noexcept {
    for (char c : name)
        if (c >= 'A' && c <= 'Z') return false;
    return is_token(name);
}

template <class P>
constexpr bool all_lower_header_names() {
    for (std::string_view name : P::headers)
        if (!is_lower_header_name(name)) return false;
    return true;
}
}  // namespace detail

template <class P>
concept lists_reasons = requires { P::reasons; } && detail::is_array_of<std::remove_cvref_t<decltype(P::reasons)>, reason>;

template <class P>
concept declares_headers = requires { P::headers; };

template <class P>
concept header_list = declares_headers<P> && detail::is_array_of<std::remove_cvref_t<decltype(P::headers)>, std::string_view>;

// No `headers`, or a std::array<std::string_view, N> of lower-case header names.
template <class P>
concept valid_headers = !declares_headers<P> || (header_list<P> && detail::all_lower_header_names<P>());

template <class P>
concept checks_requests = requires(const P& p, request_facts& facts, const detail::request_archetype& request) {
    { p.check(facts, request) } -> std::same_as<verdict>;
};

// An authorize-stage policy (scopes) runs after authentication, per method; every other
// policy takes part in authentication through `check`.
template <class P>
concept authorization_policy = staged<P> && (P::stage == stage::authorize);

template <class P>
concept policy = staged<P> && lists_reasons<P> && valid_headers<P> && (authorization_policy<P> || checks_requests<P>);

}  // namespace trustgate
