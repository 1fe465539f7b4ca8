// expect: a policy with a settings_key needs .static settings read_settings
// A policy declares settings_key and settings but not how to read them.
#include <trustgate/runtime/policy_settings.hpp>
#include <trustgate/trustgate.hpp>

struct tenant_policy {
    static constexpr trustgate::stage stage = trustgate::stage::vet;
    static constexpr std::string_view name = "tenant_policy";
    static constexpr std::string_view settings_key = "tenant";
    struct settings {};
    template <class Context>
    static tenant_policy from_config(const trustgate::auth_config&, const Context&, const settings&) {
        return {};
    }
    template <trustgate::request_view R>
    trustgate::verdict check(trustgate::request_facts&, const R&) const {
        return trustgate::next_policy;
    }
};

using tenant_gateway = trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity, tenant_policy>;

tenant_gateway make(const trustgate::runtime::gateway_config& c) { return trustgate::runtime::build<tenant_gateway>(c); }
