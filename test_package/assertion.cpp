// Consumes trustgate::assertion: a JWKS parsed (OpenSSL builds the key, nlohmann reads
// the JSON), and a token refused before any key is looked at. OpenSSL and nlohmann_json
// reach this program only through the component.
#include <trustgate/assertion/keys.hpp>
#include <trustgate/assertion/token.hpp>

int main() {
    // RFC 8037 appendix A.2's Ed25519 public key.
    const auto keys = trustgate::assertion::parse_jwks(
        R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"rfc8037"}]})");
    trustgate::assertion::rules rules;
    rules.issuer = "https://proxy.example.com";
    rules.audiences = {"gateway"};
    rules.algorithms = trustgate::assertion::bit(trustgate::assertion::algorithm::eddsa);
    const auto checked = trustgate::assertion::check_token("not.a.token", keys, rules, 0);
    return keys.keys.size() == 1 && checked.why == trustgate::assertion::failure::invalid ? 0 : 1;
}
