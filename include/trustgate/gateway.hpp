// trustgate/gateway.hpp — policies composed at compile time.
//
//   using my_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::loopback_policy,
//                                         trustgate::required_headers, trustgate::proxy_identity,
//                                         trustgate::allow_users, trustgate::scopes<>>;
//   auto gw = my_gateway::from_config(config);          // validates, compiles, may throw
//   trustgate::decision d = gw.authenticate(request);   // no allocation, no exceptions
//   my_gateway::reasons                                 // its reason codes, at compile time
//
// The types fix what runs and in what order (behaviour §3); the values inside them (CIDRs,
// users, scopes) come from configuration. Policies are stored with
// [[no_unique_address]], so a stateless policy costs no space, and evaluated with a
// short-circuiting fold: the first policy that decides wins.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "trustgate/attempt_store.hpp"
#include "trustgate/config.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/impl/scan.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"
#include "trustgate/trace.hpp"

namespace trustgate {

// What policies may need from outside the configuration while being built.
struct build_context {
    attempt_store* limiter = nullptr;  // where token checks count failures; may be null
};

namespace detail {

// Each part of the policy contract (trustgate/policy.hpp), checked in turn so that the
// first missing part is the one reported.
template <class P>
struct assert_policy {
    static constexpr bool has_stage = requires {
        { P::stage } -> std::convertible_to<trustgate::stage>;
    };
    static_assert(has_stage,
                  "trustgate::gateway<...>: this parameter is not a trustgate policy: it has no "
                  "`static constexpr trustgate::stage stage` (see trustgate/policy.hpp). Pass policy types such as "
                  "trustgate::trusted_source, not configuration structs or values.");
    static constexpr bool has_name = !has_stage || staged<P>;
    static_assert(has_name,
                  "trustgate::gateway<...>: a policy needs `static constexpr std::string_view name = \"my_policy\";` "
                  "(reported in decision::policy and in traces).");
    static constexpr bool has_check = !staged<P> || authorization_policy<P> || checks_requests<P>;
    static_assert(has_check,
                  "trustgate::gateway<...>: a policy needs `template <trustgate::request_view R> trustgate::verdict "
                  "check(trustgate::request_facts&, const R&) const`, returning trustgate::next_policy or a decision, "
                  "for every request type (only stage::authorize policies have none).");
    static constexpr bool has_reasons = !staged<P> || lists_reasons<P>;
    static_assert(has_reasons,
                  "trustgate::gateway<...>: a policy needs `static constexpr std::array reasons{...}` of "
                  "trustgate::reason, listing every reason its check can return (`static constexpr "
                  "std::array<trustgate::reason, 0> reasons{};` when it never refuses).");
    static constexpr bool headers_shaped = !declares_headers<P> || header_list<P>;
    static_assert(headers_shaped,
                  "trustgate::gateway<...>: a policy's `headers` must be a std::array of std::string_view, e.g. "
                  "`static constexpr std::array headers{std::string_view{\"x-tenant\"}};`.");
    static constexpr bool headers_valid = !headers_shaped || valid_headers<P>;
    static_assert(headers_valid,
                  "trustgate::gateway<...>: a policy's `headers` must be lower-case HTTP header names (RFC 9110 "
                  "tokens), e.g. \"x-tenant\": the gateway's header scan compares them case-insensitively.");
    static constexpr bool value = policy<P>;
};

// What the gateway itself concludes when no policy decided and the identity stage found
// no identity.
struct gateway_conclusion {
    static constexpr std::array reasons{reason::trusted_proxy_user_missing};
};

template <class... Ps>
constexpr std::size_t declared_header_count() {
    std::size_t n = 0;
    ([&] {
        if constexpr (declares_headers<Ps>) n += Ps::headers.size();
    }(), ...);
    return n;
}

// Every policy's `headers`, each name once, in order.
template <class... Ps>
constexpr auto declared_headers() {
    std::array<std::string_view, declared_header_count<Ps...>()> all{};
    std::size_t n = 0;
    ([&] {
        if constexpr (declares_headers<Ps>)
            for (std::string_view name : Ps::headers) {
                bool seen = false;
                for (std::size_t i = 0; i < n; ++i) seen = seen || all[i] == name;
                if (!seen) all[n++] = name;
            }
    }(), ...);
    return std::pair{all, n};
}

template <std::size_t I, class P>
struct policy_slot {
    [[no_unique_address]] P value;
};

template <class Indices, class... Ps>
struct policy_pack;

template <std::size_t... I, class... Ps>
struct policy_pack<std::index_sequence<I...>, Ps...> : policy_slot<I, Ps>... {
    constexpr policy_pack() = default;
    constexpr explicit policy_pack(Ps... ps) : policy_slot<I, Ps>{std::move(ps)}... {}
};

template <class T, class... Ps>
inline constexpr std::size_t count_of = (std::size_t{std::is_same_v<T, Ps>} + ... + 0);

template <stage S, class... Ps>
inline constexpr std::size_t count_stage = (std::size_t{Ps::stage == S} + ... + 0);

template <class... Ps>
constexpr bool stages_in_order() {
    stage stages[] = {Ps::stage..., stage::authorize};
    for (std::size_t i = 1; i < sizeof...(Ps); ++i)
        if (stages[i] < stages[i - 1]) return false;
    return true;
}

// A policy that establishes the identity from a signed assertion (behaviour §10) hands it to
// the identity stage, which must take it: proxy_identity does, a token or anonymous
// identity would silently ignore the proof.
template <class P>
concept asserts_identity = requires { requires P::asserts_identity; };

template <class P>
concept accepts_asserted_identity = requires { requires P::accepts_asserted_identity; };

template <class... Ps>
constexpr bool assertion_reaches_identity() {
    constexpr bool asserting = (asserts_identity<Ps> || ...);
    constexpr bool accepting = ((Ps::stage == stage::identity && accepts_asserted_identity<Ps>) || ...);
    return !asserting || accepting;
}

template <class... Ps>
constexpr bool all_distinct() {
    return ((count_of<Ps, Ps...> == 1) && ...);
}

struct no_trace {};

}  // namespace detail

template <class... Policies>
class gateway {
    static_assert((detail::assert_policy<Policies>::value && ...));
    static_assert(detail::all_distinct<Policies...>(),
                  "trustgate::gateway<...>: a policy type is listed twice; list each policy once and put all "
                  "its values (users, CIDRs, headers) in that one object.");
    static_assert(detail::stages_in_order<Policies...>(),
                  "trustgate::gateway<...>: policies are out of order. List them in behaviour §3 stage order "
                  "(source, local, certificate, headers, identity, vet, authorize), e.g. gateway<trusted_source, loopback_policy, "
                  "required_headers, proxy_identity, allow_users, scopes<>>.");
    static_assert(detail::count_stage<stage::identity, Policies...> == 1,
                  "trustgate::gateway<...>: needs exactly one identity policy: add trustgate::proxy_identity "
                  "(trusted-proxy mode), trustgate::bearer_token (token mode) or trustgate::anonymous (none mode).");
    static_assert(detail::count_stage<stage::local, Policies...> == 0 || detail::count_stage<stage::source, Policies...> > 0,
                  "trustgate::gateway<...>: loopback_policy needs trustgate::trusted_source before it: a request is "
                  "direct-local only when its peer is a trusted proxy address.");
    static_assert(detail::assertion_reaches_identity<Policies...>(),
                  "trustgate::gateway<...>: a signed-assertion policy (trustgate::assertion::proxy_assertion) needs "
                  "trustgate::proxy_identity as the identity policy: it takes the asserted identity and checks the "
                  "user header against it.");
    static_assert(detail::count_stage<stage::authorize, Policies...> <= 1,
                  "trustgate::gateway<...>: at most one authorize policy (scopes<...>) may be listed.");

    using indices = std::index_sequence_for<Policies...>;
    static constexpr auto declared_ = detail::declared_headers<Policies...>();

public:
    // Every reason code this composition can decide with: `ok`, each policy's `reasons`
    // and the gateway's own conclusion, each once (trustgate::reasons_of). maybe_unused: a
    // gateway type local to a file would otherwise warn when nobody asks for its list.
    [[maybe_unused]] static constexpr auto reasons = reasons_of<Policies..., detail::gateway_conclusion>;

    // The request headers its policies declare, each once; the header scan captures them.
    static constexpr std::size_t header_count = declared_.second;
    static constexpr std::array<std::string_view, header_count> headers = [] {
        std::array<std::string_view, header_count> names{};
        for (std::size_t i = 0; i < header_count; ++i) names[i] = declared_.first[i];
        return names;
    }();

    gateway() = default;
    explicit gateway(Policies... policies) : pack_(std::move(policies)...) {}

    // Builds every policy from configuration, in order; throws config_error on the first
    // problem, naming its JSON path.
    static gateway from_config(const auth_config& config, attempt_store* limiter = nullptr) {
        const build_context context{limiter};
        return gateway{Policies::from_config(config, context)...};
    }

    template <class P>
    static constexpr bool has = detail::count_of<P, Policies...> == 1;

    template <class P>
    const P& get() const noexcept {
        static_assert(has<P>, "trustgate::gateway::get<P>(): P is not one of this gateway's policies.");
        return static_cast<const detail::policy_slot<index_of<P>(), P>&>(pack_).value;
    }

    // behaviour §3. The decision's strings point into `request` and into this gateway.
    template <request_view R>
    decision authenticate(const R& request) const {
        return decide(request, static_cast<detail::no_trace*>(nullptr));
    }

    // The same decision, and in `trace` each policy that ran: what it read and what it
    // concluded (trustgate/trace.hpp). Allocates; for tools and debugging.
    template <request_view R>
    decision authenticate(const R& request, decision_trace& trace) const {
        trace.steps.clear();
        return decide(request, &trace);
    }

    // behaviour §5, for an authenticated decision and a method name.
    template <request_view R>
    authorization authorize(const decision& d, std::string_view method, const R& request) const {
        static_assert(detail::count_stage<stage::authorize, Policies...> == 1,
                      "trustgate::gateway::authorize: add an authorize policy such as trustgate::scopes<> to the "
                      "gateway's policy list.");
        return get<policy_at<first_of_stage<stage::authorize>()>>().authorize(d, method, request);
    }

private:
    // Trace is decision_trace or detail::no_trace: the untraced instantiation has no trace code.
    template <class R, class Trace>
    decision decide(const R& request, Trace* trace) const {
        request_facts facts;
        std::array<request_facts::declared_header, header_count> declared;
        for (std::size_t i = 0; i < header_count; ++i) declared[i].name = headers[i];
        facts.declared = declared;
        detail::scan_request<(header_count > 0)>(request, user_header(), facts);
        verdict decided;
        run_all(decided, facts, request, trace, indices{});
        decision d = decided ? *decided
                     : facts.identity.empty()
                         ? decision::deny(reason::trusted_proxy_user_missing, identity_policy_name())
                         : decision::allow(facts.how, facts.identity, identity_policy_name());
        d.client_ip = facts.client_ip;
        if constexpr (std::is_same_v<Trace, decision_trace>) trace->concluded_by_gateway = !decided;
        return d;
    }

    template <std::size_t... I, class R, class Trace>
    void run_all(verdict& decided, request_facts& facts, const R& request, Trace* trace, std::index_sequence<I...>) const {
        (void)((decided = run<I>(facts, request, trace), decided.has_value()) || ...);
    }

    template <std::size_t I, class R, class Trace>
    verdict run(request_facts& facts, const R& request, Trace* trace) const {
        using P = policy_at<I>;
        if constexpr (P::stage == stage::authorize) {
            return next_policy;
        } else {
            const P& policy = static_cast<const detail::policy_slot<I, P>&>(pack_).value;
            verdict v = policy.check(facts, request);
            if constexpr (std::is_same_v<Trace, decision_trace>) {
                auto& step = trace->steps.emplace_back();
                step.policy = P::name;
                if constexpr (requires { policy.explain(facts, request, step); }) policy.explain(facts, request, step);
                if (v) {
                    step.decided = v->owned();
                    step.decided->client_ip = facts.client_ip;
                }
            }
            return v;
        }
    }

    template <std::size_t I>
    using policy_at = std::tuple_element_t<I, std::tuple<Policies...>>;

    template <class P>
    static constexpr std::size_t index_of() {
        const bool same[] = {std::is_same_v<P, Policies>...};
        std::size_t i = 0;
        while (!same[i]) ++i;
        return i;
    }

    template <stage S>
    static constexpr std::size_t first_of_stage() {
        const stage stages[] = {Policies::stage...};
        for (std::size_t i = 0; i < sizeof...(Policies); ++i)
            if (stages[i] == S) return i;
        return sizeof...(Policies);
    }

    static constexpr std::string_view identity_policy_name() {
        return policy_at<first_of_stage<stage::identity>()>::name;
    }

    // The header the identity policy reads, if it reads one (proxy_identity does).
    std::string_view user_header() const noexcept {
        using P = policy_at<first_of_stage<stage::identity>()>;
        if constexpr (requires(const P& p) { { p.user_header() } -> std::convertible_to<std::string_view>; })
            return get<P>().user_header();
        else
            return {};
    }

    [[no_unique_address]] detail::policy_pack<indices, Policies...> pack_;
};

}  // namespace trustgate
