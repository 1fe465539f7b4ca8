// expect: needs trustgate::proxy_identity as the identity policy
#include <trustgate/presets.hpp>

// Stands for trustgate::assertion::proxy_assertion: a headers-stage policy that asserts
// the identity. With a token identity stage, the verified identity would be ignored.
struct asserting_policy {
    static constexpr trustgate::stage stage = trustgate::stage::headers;
    static constexpr std::string_view name = "asserting_policy";
    static constexpr std::array<trustgate::reason, 0> reasons{};
    static constexpr bool asserts_identity = true;
    template <class R>
    trustgate::verdict check(trustgate::request_facts&, const R&) const { return trustgate::next_policy; }
};

using broken = trustgate::gateway<trustgate::trusted_source, asserting_policy, trustgate::bearer_token>;
broken g;
