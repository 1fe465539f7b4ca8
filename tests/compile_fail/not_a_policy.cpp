// expect: this parameter is not a trustgate policy.*Pass policy types such as trustgate::trusted_source
#include <trustgate/presets.hpp>

// A configuration struct where a policy type belongs.
using broken = trustgate::gateway<trustgate::auth_config, trustgate::proxy_identity>;
broken g;
