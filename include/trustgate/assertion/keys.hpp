// trustgate/assertion/keys.hpp — the signing keys a proxy publishes (behaviour §10), as a JWKS.
//
//   auto set = trustgate::assertion::parse_jwks(text);   // throws jwks_error if not a JWKS
//   for (const auto& w : set.warnings) log(w);           // keys skipped, and why
//
// RSA (`n`, `e`, at least 2048 bits), EC P-256 / P-384 (`crv`, `x`, `y`, a point on the
// curve) and OKP Ed25519 (`x`). A key whose `use` is not `sig`, whose `alg` is not one
// this library verifies, or whose parameters are malformed is skipped with a warning,
// never half-used. Keys are built with OpenSSL 3's EVP_PKEY_fromdata. A key set is
// immutable once parsed and safe to read from any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "trustgate/assertion/detail/base64url.hpp"
#include "trustgate/assertion/detail/evp.hpp"

namespace trustgate::assertion {

// The JWS algorithms behaviour §10 allows. `none` and the HMAC family are absent on purpose:
// a proxy's public key must never double as a shared secret.
enum class algorithm : std::uint8_t { rs256, rs384, rs512, ps256, ps384, ps512, es256, es384, eddsa };

inline constexpr algorithm all_algorithms[] = {algorithm::rs256, algorithm::rs384, algorithm::rs512,
                                               algorithm::ps256, algorithm::ps384, algorithm::ps512,
                                               algorithm::es256, algorithm::es384, algorithm::eddsa};

// As JOSE spells them (RFC 7518 §3.1, RFC 8037 §3.1).
constexpr std::string_view to_string(algorithm a) noexcept {
    constexpr std::array<std::string_view, 9> names = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                                       "PS512", "ES256", "ES384", "EdDSA"};
    return names[static_cast<std::size_t>(a)];
}

// Exact and case-sensitive, as RFC 7515 §4.1.1 compares `alg`.
constexpr std::optional<algorithm> parse_algorithm(std::string_view name) noexcept {
    for (const auto a : all_algorithms)
        if (to_string(a) == name) return a;
    return std::nullopt;
}

// A set of algorithms, one bit each.
using algorithm_mask = std::uint16_t;
constexpr algorithm_mask bit(algorithm a) noexcept { return algorithm_mask(1u << static_cast<unsigned>(a)); }

enum class key_type : std::uint8_t { rsa, ec_p256, ec_p384, ed25519 };

// The only key type that can verify `a`: the token's `alg` never picks the key type.
constexpr key_type key_type_for(algorithm a) noexcept {
    switch (a) {
        case algorithm::es256: return key_type::ec_p256;
        case algorithm::es384: return key_type::ec_p384;
        case algorithm::eddsa: return key_type::ed25519;
        default: return key_type::rsa;
    }
}

struct jwk {
    std::string kid;                    // empty when the JWK has none
    key_type type = key_type::rsa;
    std::optional<algorithm> alg;       // the JWK's own `alg`, which then binds the key to it
    std::string material;               // the key's parameters as published: the same key across refreshes
    detail::public_key key;

    bool admits(algorithm a) const noexcept { return key_type_for(a) == type && (!alg || *alg == a); }
};

struct key_set {
    std::vector<jwk> keys;
    std::vector<std::string> warnings;  // "keys[2]: skipped: ..." for each key left out

    // The first key with this `kid` (a later duplicate was skipped while parsing).
    const jwk* find(std::string_view kid) const noexcept {
        for (const auto& k : keys)
            if (!k.kid.empty() && k.kid == kid) return &k;
        return nullptr;
    }

    // Whether the same key (same parameters) is in this set.
    bool holds(const jwk& other) const noexcept {
        for (const auto& k : keys)
            if (k.material == other.material) return true;
        return false;
    }
};

// The document is not a JWKS at all (not JSON, no `keys` array).
class jwks_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

// The member `name` of `key` as decoded base64url bytes; nullopt when absent or malformed.
inline std::optional<std::string> binary_member(const nlohmann::json& key, const char* name) {
    const auto it = key.find(name);
    if (it == key.end() || !it->is_string()) return std::nullopt;
    std::string out;
    if (!decode_base64url(it->get_ref<const std::string&>(), out) || out.empty()) return std::nullopt;
    return out;
}

inline std::string text_member(const nlohmann::json& key, const char* name) {
    const auto it = key.find(name);
    return it != key.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Builds one key, or says why it is skipped.
inline std::optional<jwk> parse_jwk(const nlohmann::json& key, std::string& why) {
    if (!key.is_object()) return why = "not an object", std::nullopt;
    for (const char* member : {"kty", "kid", "use", "alg", "crv"})
        if (key.contains(member) && !key[member].is_string())
            return why = std::string("\"") + member + "\" is not a string", std::nullopt;
    if (key.contains("use") && key["use"] != "sig")
        return why = "use is \"" + text_member(key, "use") + "\", not \"sig\"", std::nullopt;
    jwk out;
    out.kid = text_member(key, "kid");
    if (key.contains("alg")) {
        out.alg = parse_algorithm(text_member(key, "alg"));
        if (!out.alg) return why = "alg \"" + text_member(key, "alg") + "\" is not one of the verified algorithms", std::nullopt;
    }
    const std::string kty = text_member(key, "kty");
    if (kty == "RSA") {
        const auto n = binary_member(key, "n"), e = binary_member(key, "e");
        if (!n || !e) return why = "RSA key without base64url \"n\" and \"e\"", std::nullopt;
        out.type = key_type::rsa;
        out.key = rsa_public_key(*n, *e);
        if (out.key && rsa_bits(out.key.get()) < 2048) return why = "RSA key shorter than 2048 bits", std::nullopt;
        out.material = "RSA|" + *n + "|" + *e;
    } else if (kty == "EC") {
        const std::string crv = text_member(key, "crv");
        const std::size_t size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 0;
        if (size == 0) return why = "EC curve \"" + crv + "\" is not P-256 or P-384", std::nullopt;
        const auto x = binary_member(key, "x"), y = binary_member(key, "y");
        if (!x || !y || x->size() != size || y->size() != size)
            return why = "EC key without " + std::to_string(size) + "-byte base64url \"x\" and \"y\"", std::nullopt;
        out.type = size == 32 ? key_type::ec_p256 : key_type::ec_p384;
        out.material = std::string("\x04") + *x + *y;
        out.key = ec_public_key(size == 32 ? "P-256" : "P-384", out.material);
        out.material.insert(0, crv + "|");
    } else if (kty == "OKP") {
        if (text_member(key, "crv") != "Ed25519") return why = "OKP curve is not Ed25519", std::nullopt;
        const auto x = binary_member(key, "x");
        if (!x || x->size() != 32) return why = "Ed25519 key without a 32-byte base64url \"x\"", std::nullopt;
        out.type = key_type::ed25519;
        out.key = ed25519_public_key(*x);
        out.material = "Ed25519|" + *x;
    } else {
        return why = "kty \"" + kty + "\" is not RSA, EC or OKP", std::nullopt;
    }
    if (!out.key) return why = "OpenSSL refused the key parameters", std::nullopt;
    if (out.alg && !out.admits(*out.alg))
        return why = "alg " + std::string(to_string(*out.alg)) + " does not fit the key type", std::nullopt;
    out.material += "|" + out.kid + "|" + (out.alg ? std::string(to_string(*out.alg)) : std::string());
    return out;
}

}  // namespace detail

// Parses a JWKS document ({"keys":[...]}). Throws jwks_error when `text` is not one;
// a document whose keys are all skipped yields an empty set (callers decide whether
// that is an error: at start-up it is).
inline key_set parse_jwks(std::string_view text) {
    const auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) throw jwks_error("not JSON");
    if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
        throw jwks_error("expected a JWKS: an object with a \"keys\" array");
    key_set set;
    const auto& keys = doc["keys"];
    for (std::size_t i = 0; i < keys.size(); ++i) {
        std::string why;
        auto key = detail::parse_jwk(keys[i], why);
        if (key && !key->kid.empty() && set.find(key->kid)) {
            key.reset();
            why = "kid \"" + keys[i]["kid"].get<std::string>() + "\" repeats an earlier key's";
        }
        if (key) set.keys.push_back(std::move(*key));
        else set.warnings.push_back("keys[" + std::to_string(i) + "]: skipped: " + why);
    }
    return set;
}

}  // namespace trustgate::assertion
