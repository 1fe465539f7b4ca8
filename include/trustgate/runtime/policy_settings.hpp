// trustgate/runtime/policy_settings.hpp — a policy of your own with settings of its own,
// read from the configuration file at gateway.policies.<settings_key>.
//
//   struct tenant_policy {                      // stage, name, check(), explain() as every policy
//       static constexpr std::string_view settings_key = "tenant";
//       struct settings { std::vector<std::string> allowed; };
//       static settings read_settings(const nlohmann::json& value, const std::string& path);
//       template <class Context>
//       static tenant_policy from_config(const trustgate::auth_config&, const Context&, const settings&);
//   };
//   using my_gateway = trustgate::gateway<trustgate::trusted_source, /* … */ tenant_policy, trustgate::scopes<>>;
//   my_gateway gw = trustgate::runtime::build<my_gateway>(parse_config(text), &limiter);
//
// The contract (README, "Policies with settings"):
// - `settings_key`: a std::string_view constant, a JSON key of letters and digits starting
//   with a lower-case letter, different from every other policy's key in the composition.
// - `settings`: the type read_settings returns; default-constructed when the file has no
//   gateway.policies.<settings_key>.
// - `read_settings(value, path)`: given the value as written and its JSON path
//   ("gateway.policies.tenant"), returns the settings or throws trustgate::config_error
//   naming `path` or a path below it. object_reader and the read_* helpers below give the
//   errors the rest of the file gets (unknown keys with "did you mean", wrong types).
// - `from_config(auth, context, settings)`: builds the policy, as from_config(auth, context)
//   does for a policy without settings.
// A key under gateway.policies that no policy of the composition reads is an error, so a
// misspelt key never leaves a policy on its defaults.
#pragma once

#include <algorithm>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "trustgate/config.hpp"
#include "trustgate/gateway.hpp"
#include "trustgate/detail/spelling.hpp"
#include "trustgate/runtime/config_json.hpp"

namespace trustgate::runtime {

// The reader's helpers, for read_settings: the same checks and messages as the rest of the file.
using detail::object_reader;
using detail::read_bool;
using detail::read_integer;
using detail::read_string;
using detail::read_string_list;

// A policy that declares settings_key (whether it meets the rest of the contract is checked
// by build()).
template <class P>
concept has_settings_key = requires {
    { P::settings_key } -> std::convertible_to<std::string_view>;
};

namespace detail {

constexpr bool valid_settings_key(std::string_view key) {
    if (key.empty() || key[0] < 'a' || key[0] > 'z') return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
}

template <class P>
constexpr void check_settings_contract() {
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(P::settings_key)>, std::string_view>,
                  "a policy's settings_key must be `static constexpr std::string_view settings_key = \"key\";`");
    static_assert(valid_settings_key(P::settings_key),
                  "a policy's settings_key must be a JSON key of letters and digits starting with a lower-case letter, "
                  "e.g. \"tenant\"");
    static_assert(requires { typename P::settings; },
                  "a policy with a settings_key needs `struct settings { ... };`, the type read_settings returns");
    static_assert(std::is_default_constructible_v<typename P::settings>,
                  "a policy's settings must be default-constructible: they are its settings when the file has none");
    static_assert(requires(const json& value, const std::string& path) {
        { P::read_settings(value, path) } -> std::same_as<typename P::settings>;
    }, "a policy with a settings_key needs `static settings read_settings(const nlohmann::json& value, const std::string& path);`");
    static_assert(requires(const auth_config& auth, const build_context& context, const typename P::settings& s) {
        { P::from_config(auth, context, s) } -> std::same_as<P>;
    }, "a policy with a settings_key needs `template <class Context> static P from_config(const trustgate::auth_config&, "
       "const Context&, const settings&);`");
}

template <class... Policies>
constexpr bool distinct_settings_keys() {
    std::string_view keys[] = {std::string_view{}, [] {
        if constexpr (has_settings_key<Policies>) return std::string_view(Policies::settings_key);
        else return std::string_view{};
    }()...};
    for (std::size_t i = 1; i < std::size(keys); ++i)
        for (std::size_t j = i + 1; j < std::size(keys); ++j)
            if (!keys[i].empty() && keys[i] == keys[j]) return false;
    return true;
}

template <class P>
P build_policy(const gateway_config& c, const build_context& context) {
    if constexpr (has_settings_key<P>) {
        check_settings_contract<P>();
        const std::string key(P::settings_key);
        const auto it = c.policy_settings.find(key);
        if (it == c.policy_settings.end()) return P::from_config(c.auth, context, typename P::settings{});
        return P::from_config(c.auth, context, P::read_settings(it->second, join_path("gateway.policies", key)));
    } else {
        return P::from_config(c.auth, context);
    }
}

// Every key under gateway.policies must be one that a policy of the composition reads.
template <class... Policies>
void check_policy_keys(const gateway_config& c) {
    std::vector<std::string_view> known;
    ([&] {
        if constexpr (has_settings_key<Policies>) known.push_back(Policies::settings_key);
    }(), ...);
    for (const auto& [key, value] : c.policy_settings) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string list;
        for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        const auto at = join_path("gateway.policies", key);
        if (known.empty()) throw config_error(at, "expected no policy settings: no policy of this gateway reads any (unknown key)");
        const auto near = trustgate::detail::nearest_word(key, known);
        throw config_error(at, "expected one of the keys " + list +
                                   (near ? " (unknown key; did you mean " + std::string(*near) + "?)" : " (unknown key)"));
    }
}

template <class Gateway>
struct composition;

template <class... Policies>
struct composition<trustgate::gateway<Policies...>> {
    static_assert(distinct_settings_keys<Policies...>(),
                  "two policies of this gateway declare the same settings_key: give each its own");

    static trustgate::gateway<Policies...> build(const gateway_config& c, attempt_store* limiter) {
        check_policy_keys<Policies...>(c);
        const build_context context{limiter};
        return trustgate::gateway<Policies...>{build_policy<Policies>(c, context)...};
    }
};

}  // namespace detail

// Builds `Gateway` (a trustgate::gateway<...>) from a configuration whose secrets are
// resolved: each policy from gateway.auth, and a policy with a settings_key also from
// gateway.policies.<settings_key>. Throws config_error naming the JSON path.
template <class Gateway>
Gateway build(const gateway_config& settings, attempt_store* limiter = nullptr) {
    return detail::composition<Gateway>::build(settings, limiter);
}

}  // namespace trustgate::runtime
