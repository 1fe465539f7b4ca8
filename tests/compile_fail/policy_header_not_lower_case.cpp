// expect: a policy's `headers` must be lower-case HTTP header names \(RFC 9110 tokens\)
#include <trustgate/presets.hpp>

// The scan compares a request's header names case-insensitively against lower-case names.
struct tenant_check {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "tenant_check";
    static constexpr std::array<trustgate::reason, 0> reasons{};
    static constexpr std::array headers{std::string_view{"X-Tenant"}};
    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts&, const R&) const { return trustgate::next_policy; }
};

using broken = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, tenant_check>;
broken g;
