// trustgate/policy/scopes.hpp — behaviour §5: what an authenticated identity may call.
//
// A scope set names up to 64 scopes and says which granted scopes satisfy each one; the
// OpenClaw operator set is the default. Grants and method requirements are compiled to
// bit masks once, so authorising a call is a table probe and a bit test.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/detail/string_table.hpp"
#include "trustgate/policy.hpp"
#include "trustgate/request.hpp"

namespace trustgate {

// A scope set: `names` (at most 64), `satisfied_by(i)` = the mask of scopes any of which
// satisfies scope i, `fallback_scope` for methods with no entry, and `methods`, the
// built-in method -> scope-name table.
template <class S>
concept scope_set = requires(std::size_t i) {
    { S::names.size() } -> std::convertible_to<std::size_t>;
    { std::string_view(S::names[i]) };
    { S::satisfied_by(i) } -> std::same_as<scope_mask>;
    { S::fallback_scope } -> std::convertible_to<std::size_t>;
    { S::methods.size() } -> std::convertible_to<std::size_t>;
} && (S::names.size() <= 64);

// The OpenClaw operator scopes (behaviour §5).
struct openclaw_scopes {
    enum : std::size_t { admin, read, write, approvals, pairing, questions, talk, talk_secrets };

    static constexpr std::array<std::string_view, 8> names = {
        "operator.admin",     "operator.read",      "operator.write", "operator.approvals",
        "operator.pairing",   "operator.questions", "operator.talk",  "operator.talk.secrets",
    };

    // admin satisfies everything; write also satisfies read and talk.
    static constexpr scope_mask satisfied_by(std::size_t scope) noexcept {
        scope_mask m = bit(scope) | bit(admin);
        if (scope == read || scope == talk) m |= bit(write);
        return m;
    }

    static constexpr std::size_t fallback_scope = admin;

    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> methods = {{
        {"health", "operator.read"},
        {"status", "operator.read"},
        {"chat.send", "operator.write"},
        {"approvals.resolve", "operator.approvals"},
        {"config.get", "operator.read"},
        {"config.set", "operator.admin"},
    }};

    static constexpr scope_mask bit(std::size_t i) noexcept { return scope_mask{1} << i; }
};

template <class Set = openclaw_scopes>
class scopes {
    static_assert(scope_set<Set>,
                  "trustgate::scopes<Set>: Set is not a scope set. It needs `names` (at most 64 scope names), "
                  "`static scope_mask satisfied_by(std::size_t)`, `fallback_scope` and a `methods` table; "
                  "see trustgate::openclaw_scopes.");

public:
    static constexpr trustgate::stage stage = trustgate::stage::authorize;
    static constexpr std::string_view name = "scopes";
    static constexpr std::array reasons{reason::missing_scope};
    using scope_set_type = Set;

    // behaviour §5 defaults: defaultScopes [operator.read], tokenScopes [operator.admin].
    scopes() : scopes(default_scopes_config()) {}

    explicit scopes(const scopes_config& config) : header_(checked_header_name(config.header, "gateway.auth.scopes.header")) {
        const std::string base = "gateway.auth.scopes";
        default_ = mask_of(config.default_scopes, base + ".defaultScopes");
        token_ = mask_of(config.token_scopes, base + ".tokenScopes");
        std::vector<std::pair<std::string, scope_mask>> identities;
        for (const auto& [identity, list] : config.identity_scopes)
            identities.emplace_back(identity, mask_of(list, base + ".identityScopes." + identity));
        identities_ = detail::string_table<scope_mask>(identities, true);
        // Configured methods first: the table keeps the first entry of a key.
        std::vector<std::pair<std::string, std::uint8_t>> methods;
        for (const auto& [method, scope] : config.methods)
            methods.emplace_back(method, index_of(scope, base + ".methods." + method));
        for (const auto& [method, scope] : Set::methods)
            methods.emplace_back(std::string(method), index_of(std::string(scope), base + ".methods"));
        methods_ = detail::string_table<std::uint8_t>(methods, false);
    }

    template <class Context>
    static scopes from_config(const auth_config& config, const Context&) { return scopes(config.scopes); }

    // The scope `method` requires: its table entry, else the fallback (default deny).
    std::size_t required_scope(std::string_view method) const noexcept {
        const auto* s = methods_.find(method);
        return s ? *s : Set::fallback_scope;
    }

    // Scopes the authenticated request holds: the configured grant for its identity,
    // narrowed by the scopes header when the request carries one. A requested scope is
    // kept when something in the grant implies it (an admin grant asked for read holds
    // read), so the header never widens the grant.
    template <request_view R>
    scope_mask granted(const decision& d, const R& request) const {
        if (!d.allowed) return 0;
        scope_mask grant = default_;
        if (d.how == via::token) grant = token_;
        else if (const auto* m = identities_.find(d.identity)) grant = *m;
        bool header_seen = false;
        scope_mask asked = 0;
        request.for_each_header([&](std::string_view header_name, std::string_view value) {
            if (!detail::iequals(header_name, header_)) return;
            header_seen = true;
            asked |= parse_list(value);
        });
        return header_seen ? narrowed(grant, asked) : grant;
    }

    template <request_view R>
    authorization authorize(const decision& d, std::string_view method, const R& request) const {
        return authorize(granted(d, request), method);
    }

    // The same answer for a grant computed earlier, e.g. once per WebSocket connection
    // from its upgrade request, when that request is no longer at hand.
    authorization authorize(scope_mask grant, std::string_view method) const noexcept {
        const auto required = required_scope(method);
        return {(grant & Set::satisfied_by(required)) != 0, Set::names[required], grant};
    }

    // Scope names in a mask, in the set's order (for /whoami and logs).
    static std::vector<std::string_view> names_of(scope_mask m) {
        std::vector<std::string_view> out;
        for (std::size_t i = 0; i < Set::names.size(); ++i)
            if (m & (scope_mask{1} << i)) out.push_back(Set::names[i]);
        return out;
    }

    static std::optional<std::size_t> find_scope(std::string_view scope_name) noexcept {
        for (std::size_t i = 0; i < Set::names.size(); ++i)
            if (Set::names[i] == scope_name) return i;
        return std::nullopt;
    }

    std::string_view header() const noexcept { return header_; }

private:
    static constexpr scope_mask narrowed(scope_mask grant, scope_mask asked) noexcept {
        scope_mask kept = 0;
        for (std::size_t i = 0; i < Set::names.size(); ++i)
            if ((asked & (scope_mask{1} << i)) && (grant & Set::satisfied_by(i))) kept |= scope_mask{1} << i;
        return kept;
    }

    // Unknown names in a request header are ignored: a client can only narrow its grant.
    static scope_mask parse_list(std::string_view list) noexcept {
        scope_mask m = 0;
        while (true) {
            const auto comma = list.find(',');
            if (const auto i = find_scope(detail::trim(list.substr(0, comma)))) m |= scope_mask{1} << *i;
            if (comma == std::string_view::npos) return m;
            list.remove_prefix(comma + 1);
        }
    }

    static std::uint8_t index_of(const std::string& scope, const std::string& path) {
        const auto i = find_scope(scope);
        if (!i) throw config_error(path, "expected a scope name (" + known_names() + "), got \"" + scope + "\"");
        return static_cast<std::uint8_t>(*i);
    }

    static scope_mask mask_of(const std::vector<std::string>& list, const std::string& path) {
        scope_mask m = 0;
        for (std::size_t i = 0; i < list.size(); ++i) m |= scope_mask{1} << index_of(list[i], path + "[" + std::to_string(i) + "]");
        return m;
    }

    static std::string known_names() {
        std::string out;
        for (const auto n : Set::names) out += (out.empty() ? "" : ", ") + std::string(n);
        return out;
    }

    std::string header_;
    scope_mask default_ = 0;
    scope_mask token_ = 0;
    detail::string_table<scope_mask> identities_;
    detail::string_table<std::uint8_t> methods_;
};

}  // namespace trustgate
