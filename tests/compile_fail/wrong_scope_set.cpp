// expect: trustgate::scopes<Set>: Set is not a scope set.*see trustgate::openclaw_scopes
#include <trustgate/policy/scopes.hpp>

struct not_a_scope_set {};
trustgate::scopes<not_a_scope_set> s;
