// expect: reason_code_must_be_snake_case_such_as_tenant_not_allowed
#include <trustgate/decision.hpp>

// Reason codes are snake_case on the wire, in audit lines and in metrics labels.
constexpr trustgate::reason refused{"Tenant-Not-Allowed"};
