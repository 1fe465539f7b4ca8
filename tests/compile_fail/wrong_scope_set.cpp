// expect: scope_set
#include <trustgate/policy/scopes.hpp>

struct not_a_scope_set {};
trustgate::scopes<not_a_scope_set> s;
