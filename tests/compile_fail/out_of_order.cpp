// expect: policies are out of order\. List them in behaviour §3 stage order
#include <trustgate/presets.hpp>

// allow_users vets an identity, so it cannot run before proxy_identity establishes one.
using broken = trustgate::gateway<trustgate::trusted_source, trustgate::allow_users, trustgate::proxy_identity>;
broken g;
