// expect: add an authorize policy such as trustgate::scopes<>
#include <trustgate/presets.hpp>

int main() {
    trustgate::gateway<trustgate::trusted_source, trustgate::proxy_identity> g;
    trustgate::basic_request request;
    (void)g.authorize(g.authenticate(request), "status", request);
}
