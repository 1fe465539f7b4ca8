// expect: a policy needs `static constexpr std::array reasons\{...\}` of trustgate::reason, listing every reason its check can return
#include <trustgate/presets.hpp>

// It refuses, but its reason is listed nowhere: the gateway's reason list (metrics labels,
// docs, property coverage) would miss it.
struct tenant_check {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "tenant_check";
    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts&, const R&) const {
        return trustgate::decision::deny(trustgate::reason{"tenant_not_allowed"}, name);
    }
};

using broken = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, tenant_check>;
broken g;
