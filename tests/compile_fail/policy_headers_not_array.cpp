// expect: a policy's `headers` must be a std::array of std::string_view
#include <trustgate/presets.hpp>

// A C array of C strings where the gateway expects std::array<std::string_view, N>.
struct tenant_check {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "tenant_check";
    static constexpr std::array<trustgate::reason, 0> reasons{};
    static constexpr const char* headers[] = {"x-tenant"};
    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts&, const R&) const { return trustgate::next_policy; }
};

using broken = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, tenant_check>;
broken g;
