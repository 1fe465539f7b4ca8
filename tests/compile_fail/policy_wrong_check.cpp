// expect: a policy needs `template <trustgate::request_view R> trustgate::verdict check\(trustgate::request_facts&, const R&\) const`
#include <trustgate/presets.hpp>

// check returns bool and takes only the facts: the gateway could neither chain it nor
// let it read the request.
struct tenant_check {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "tenant_check";
    static constexpr std::array<trustgate::reason, 0> reasons{};
    bool check(const trustgate::request_facts&) const { return true; }
};

using broken = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, tenant_check>;
broken g;
