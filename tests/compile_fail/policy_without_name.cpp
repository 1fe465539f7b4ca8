// expect: a policy needs `static constexpr std::string_view name = "my_policy";`
#include <trustgate/presets.hpp>

// A stage but no name: decisions and traces could not say which policy decided.
struct tenant_check {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::array<trustgate::reason, 0> reasons{};
    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts&, const R&) const { return trustgate::next_policy; }
};

using broken = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, tenant_check>;
broken g;
