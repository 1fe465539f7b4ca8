// Consumes trustgate::testing: the shipped property check runs a gateway composition
// against the shipped reference model (behaviour §8.9) on generated configurations and
// requests. RapidCheck reaches this program only through the component.
#include <trustgate/presets.hpp>
#include <trustgate/testing/checks.hpp>

int main() {
    trustgate::testing::check_options options;
    options.cases = 50;
    options.seed = 1;  // a package smoke test, not the property suite: the same cases every run
    return trustgate::testing::check_against_model<trustgate::trusted_proxy_gateway>(options) ? 0 : 1;
}
