// expect: needs exactly one identity policy: add trustgate::proxy_identity
#include <trustgate/presets.hpp>

using broken = trustgate::gateway<trustgate::trusted_source, trustgate::allow_users>;
broken g;
