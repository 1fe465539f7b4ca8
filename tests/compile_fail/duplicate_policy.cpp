// expect: a policy type is listed twice
#include <trustgate/presets.hpp>

using broken = trustgate::gateway<trustgate::trusted_source, trustgate::trusted_source, trustgate::proxy_identity>;
broken g;
