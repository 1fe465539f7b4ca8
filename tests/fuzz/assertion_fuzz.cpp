// Fuzz target: behaviour §10's parsers, the JWKS reader and the signed-assertion checker.
//
// Input: a JWKS document, a NUL byte, then a token (without a NUL, the whole input is
// both). The JWKS is parsed (jwks_error is the only way to refuse it), and
// - every key it keeps was built by OpenSSL and admits the algorithm its own `alg` names;
// - the token is checked against those keys; a verified token has a key from the set and
//   an identity that behaviour §3 step 4.4 accepts, trimmed and non-blank, and the same token
//   is then verified again, from the cache, with the same identity;
// - base64url decoding is canonical: whatever the token's parts decode to encodes back
//   to the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <trustgate/assertion/detail/base64url.hpp>
#include <trustgate/assertion/keys.hpp>
#include <trustgate/assertion/token.hpp>
#include <trustgate/assertion/verifier.hpp>
#include <trustgate/detail/ascii.hpp>
#include <trustgate/policy/proxy_identity.hpp>

#include "fuzz_check.hpp"
#include "support/jose_signer.hpp"

namespace {

namespace ta = trustgate::assertion;
using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

constexpr std::int64_t now = 1'800'000'000;

ta::rules every_algorithm() {
    ta::rules r;
    r.issuer = "https://proxy.example.com";
    r.audiences = {"gateway"};
    for (const auto a : ta::all_algorithms) r.algorithms |= ta::bit(a);
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto nul = input.find('\0');
    const auto jwks_text = input.substr(0, nul);
    const auto token = nul == std::string_view::npos ? input : input.substr(nul + 1);

    ta::key_set keys;
    try {
        keys = ta::parse_jwks(jwks_text);
    } catch (const ta::jwks_error&) {
    }
    for (const auto& k : keys.keys) {
        check(k.key != nullptr, [&] { return "a kept key without an OpenSSL key: " + quoted(jwks_text); });
        check(!k.alg || k.admits(*k.alg), [&] { return "a kept key refuses its own alg: " + quoted(jwks_text); });
    }

    ta::token_parts parts;
    if (ta::split_token(token, parts)) {
        for (const auto part : {parts.header, parts.payload, parts.signature}) {
            std::string bytes;
            if (ta::detail::decode_base64url(part, bytes))
                check(trustgate_test::base64url(bytes) == part, [&] { return "base64url is not canonical: " + quoted(part); });
        }
    }

    const auto r = every_algorithm();
    const auto checked = ta::check_token(token, keys, r, now);
    if (checked.why != ta::failure::none) return 0;
    const std::string_view identity = checked.identity;
    check(!identity.empty() && trustgate::detail::trim(identity) == identity &&
              trustgate::acceptable_identity(identity),
          [&] { return "a verified identity behaviour §3 step 4.4 refuses: " + quoted(identity); });
    bool from_set = false;
    for (const auto& k : keys.keys) from_set = from_set || &k == checked.key;
    check(from_set, [&] { return std::string("verified by a key outside the set"); });

    ta::verifier v(r, keys, 16);
    const auto first = v.verify(token, now);
    const auto again = v.verify(token, now);
    check(first.why == ta::failure::none && again.why == ta::failure::none && again.identity == identity,
          [&] { return "the cached verification differs: " + quoted(again.identity); });
    return 0;
}
