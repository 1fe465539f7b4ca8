// expect: loopback_policy needs trustgate::trusted_source before it
#include <trustgate/presets.hpp>

using broken = trustgate::gateway<trustgate::loopback_policy, trustgate::proxy_identity>;
broken g;
