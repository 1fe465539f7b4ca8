// trustgate/assertion/token.hpp — one signed proxy assertion checked, behaviour §10 steps 2-7.
//
//   trustgate::assertion::rules r{.issuer = "...", .audiences = {"..."}, .algorithms = bit(algorithm::es256)};
//   auto checked = trustgate::assertion::check_token(token, keys, r, now_seconds);
//   if (checked.why == failure::none) use(checked.identity);
//
// A compact JWS (RFC 7515 §7.1) of at most 8 KiB. The algorithm must be in the allow-list
// *and* fit the key's type (and the key's own `alg`, when it has one): the token's header
// never chooses how it is verified. `crit` is refused outright (this verifier understands
// no extension), as are duplicate members in the header or the claims. This is the
// uncached path; trustgate/assertion/verifier.hpp adds keys that refresh and a cache.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "trustgate/assertion/detail/base64url.hpp"
#include "trustgate/assertion/detail/evp.hpp"
#include "trustgate/assertion/keys.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/policy/proxy_identity.hpp"

namespace trustgate::assertion {

// What a gateway requires of every assertion (compiled from behaviour §10's configuration).
struct rules {
    std::string issuer;
    std::vector<std::string> audiences;
    algorithm_mask algorithms = 0;
    std::string identity_claim = "email";
    std::int64_t leeway_seconds = 60;
};

// behaviour §10's failure classes, in the order its steps check them.
enum class failure : std::uint8_t { none, missing, invalid, unknown_key, expired, issuer, audience };

inline constexpr std::size_t max_token_bytes = 8192;

struct checked_token {
    failure why = failure::none;
    std::string_view detail;   // a fixed text saying which rule failed, for the audit log
    std::string identity;      // the trimmed identity claim, when why == none
    std::int64_t expires = 0;  // `exp`, rounded down, when why == none
    const jwk* key = nullptr;  // the key that verified it, when why == none
};

namespace detail {

// The top-level members of a JSON object, each kept as far as JOSE needs it: strings,
// numbers and arrays of strings by value, anything else by kind only. Built with the SAX
// parser, so nested values cost no tree and no recursion.
struct json_member {
    enum kind_t : std::uint8_t { is_string, is_number, is_string_array, is_other } kind = is_other;
    std::string name;
    std::string text;
    double number = 0;
    std::vector<std::string> strings;
};

class top_level_members {
public:
    using json = nlohmann::json;

    // False when `text` is not one JSON object, or repeats a member name.
    bool parse(std::string_view text) {
        members_.clear();
        depth_ = 0;
        duplicate_ = false;
        return json::sax_parse(text.begin(), text.end(), this) && !duplicate_;
    }

    const json_member* find(std::string_view name) const noexcept {
        for (const auto& m : members_)
            if (m.name == name) return &m;
        return nullptr;
    }

    // nlohmann::json_sax
    bool null() { return value(json_member::is_other); }
    bool boolean(bool) { return value(json_member::is_other); }
    bool number_integer(json::number_integer_t n) { return number(double(n)); }
    bool number_unsigned(json::number_unsigned_t n) { return number(double(n)); }
    bool number_float(json::number_float_t n, const json::string_t&) { return number(n); }
    bool binary(json::binary_t&) { return value(json_member::is_other); }
    bool string(json::string_t& s) {
        if (depth_ == 0) return false;
        if (depth_ == 1) {
            members_.back().kind = json_member::is_string;
            members_.back().text = std::move(s);
        } else if (depth_ == 2 && in_array_) {
            members_.back().strings.push_back(std::move(s));
        } else if (depth_ == 2) {
            members_.back().kind = json_member::is_other;
        }
        return true;
    }
    bool start_object(std::size_t) {
        if (depth_ == 1) members_.back().kind = json_member::is_other;
        if (depth_ == 2 && in_array_) members_.back().kind = json_member::is_other;
        ++depth_;
        return true;
    }
    bool end_object() { return --depth_, true; }
    bool start_array(std::size_t) {
        if (depth_ == 0) return false;
        if (depth_ == 1) {
            members_.back().kind = json_member::is_string_array;
            in_array_ = true;
        } else if (depth_ == 2 && in_array_) {
            members_.back().kind = json_member::is_other;
        }
        ++depth_;
        return true;
    }
    bool end_array() {
        if (--depth_ == 1) in_array_ = false;
        return true;
    }
    bool key(json::string_t& k) {
        if (depth_ != 1) return true;
        if (find(k)) duplicate_ = true;
        members_.push_back(json_member{});
        members_.back().name = std::move(k);
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    bool number(double n) {
        if (depth_ == 1) {
            members_.back().kind = json_member::is_number;
            members_.back().number = n;
            return true;
        }
        return value(json_member::is_other);
    }
    bool value(json_member::kind_t kind) {
        if (depth_ == 0) return false;  // a scalar document is not an object
        if (depth_ == 1) members_.back().kind = kind;
        else if (depth_ == 2 && in_array_) members_.back().kind = json_member::is_other;
        return true;
    }

    std::vector<json_member> members_;
    int depth_ = 0;
    bool in_array_ = false;
    bool duplicate_ = false;
};

struct signature_scheme {
    const EVP_MD* digest;
    padding pad;
    std::size_t ecdsa_half;  // bytes of r (and of s) for ES*, else 0
};

inline signature_scheme scheme_of(algorithm a) noexcept {
    switch (a) {
        case algorithm::rs256: return {EVP_sha256(), padding::pkcs1, 0};
        case algorithm::rs384: return {EVP_sha384(), padding::pkcs1, 0};
        case algorithm::rs512: return {EVP_sha512(), padding::pkcs1, 0};
        case algorithm::ps256: return {EVP_sha256(), padding::pss, 0};
        case algorithm::ps384: return {EVP_sha384(), padding::pss, 0};
        case algorithm::ps512: return {EVP_sha512(), padding::pss, 0};
        case algorithm::es256: return {EVP_sha256(), padding::none, 32};
        case algorithm::es384: return {EVP_sha384(), padding::none, 48};
        case algorithm::eddsa: return {nullptr, padding::none, 0};
    }
    return {nullptr, padding::none, 0};
}

inline bool signature_verifies(const jwk& key, algorithm a, std::string_view signed_text, std::string_view signature) {
    const auto scheme = scheme_of(a);
    if (scheme.ecdsa_half != 0) {
        unsigned char der[2 * 48 + 16];
        const auto n = ecdsa_raw_to_der(signature, scheme.ecdsa_half, der, sizeof der);
        return n != 0 && verify_signature(key.key.get(), scheme.digest, scheme.pad, signed_text, der, n);
    }
    return verify_signature(key.key.get(), scheme.digest, scheme.pad, signed_text, bytes(signature), signature.size());
}

inline checked_token fail(failure why, std::string_view detail) {
    checked_token out;
    out.why = why;
    out.detail = detail;
    return out;
}

}  // namespace detail

// The parts of a compact JWS, split without decoding: false unless there are exactly
// three non-empty base64url parts.
struct token_parts {
    std::string_view header, payload, signature;
    std::string_view signed_text() const noexcept {
        return {header.data(), header.size() + 1 + payload.size()};
    }
};

inline bool split_token(std::string_view token, token_parts& parts) noexcept {
    const auto first = token.find('.');
    if (first == std::string_view::npos) return false;
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return false;
    parts = {token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1)};
    if (parts.header.empty() || parts.payload.empty() || parts.signature.empty()) return false;
    for (const char c : token)
        if (c != '.' && !detail::is_base64url_char(c)) return false;
    return true;
}

// behaviour §10 steps 2 (from the length on) to 7 for one header value, already trimmed.
// `now` is seconds since the Unix epoch.
inline checked_token check_token(std::string_view token, const key_set& keys, const rules& r, std::int64_t now) {
    using detail::fail;
    if (token.size() > max_token_bytes) return fail(failure::invalid, "longer than 8 KiB");
    token_parts parts;
    if (!split_token(token, parts)) return fail(failure::invalid, "not three base64url parts");
    std::string header_text, payload_text, signature;
    detail::top_level_members header;
    if (!detail::decode_base64url(parts.header, header_text) || !header.parse(header_text))
        return fail(failure::invalid, "header is not a JSON object");
    const auto* alg_member = header.find("alg");
    const auto alg = alg_member && alg_member->kind == detail::json_member::is_string ? parse_algorithm(alg_member->text)
                                                                                   : std::nullopt;
    if (!alg || (r.algorithms & bit(*alg)) == 0) return fail(failure::invalid, "alg not allowed");
    if (header.find("crit")) return fail(failure::invalid, "crit header present");
    const auto* kid = header.find("kid");
    if (kid && kid->kind != detail::json_member::is_string) return fail(failure::invalid, "kid is not a string");

    // Which keys may verify it: the one its kid names, or every key of the algorithm's type.
    const jwk* named = nullptr;
    if (kid) {
        named = keys.find(kid->text);
        if (!named) return fail(failure::unknown_key, "no key with this kid");
        if (!named->admits(*alg)) return fail(failure::invalid, "kid names a key of another type or algorithm");
    } else {
        bool any = false;
        for (const auto& k : keys.keys) any = any || k.admits(*alg);
        if (!any) return fail(failure::unknown_key, "no key for this algorithm");
    }
    if (!detail::decode_base64url(parts.signature, signature)) return fail(failure::invalid, "signature is not base64url");
    const jwk* verified = nullptr;
    if (named) {
        if (detail::signature_verifies(*named, *alg, parts.signed_text(), signature)) verified = named;
    } else {
        for (const auto& k : keys.keys)
            if (k.admits(*alg) && detail::signature_verifies(k, *alg, parts.signed_text(), signature)) {
                verified = &k;
                break;
            }
    }
    if (!verified) return fail(failure::invalid, "signature does not verify");

    detail::top_level_members claims;
    if (!detail::decode_base64url(parts.payload, payload_text) || !claims.parse(payload_text))
        return fail(failure::invalid, "claims are not a JSON object");
    const auto number = [&](std::string_view name, const detail::json_member*& m) {
        m = claims.find(name);
        return m == nullptr || (m->kind == detail::json_member::is_number && std::isfinite(m->number));
    };
    const detail::json_member *exp = nullptr, *nbf = nullptr, *iat = nullptr;
    if (!number("exp", exp) || !number("nbf", nbf) || !number("iat", iat))
        return fail(failure::invalid, "exp, nbf or iat is not a number");
    const double leeway = double(r.leeway_seconds), at = double(now);
    if (!exp) return fail(failure::expired, "exp missing");
    if (exp->number + leeway <= at) return fail(failure::expired, "exp passed");
    if ((nbf && nbf->number > at + leeway) || (iat && iat->number > at + leeway))
        return fail(failure::expired, "nbf or iat in the future");

    const auto* iss = claims.find("iss");
    if (iss && iss->kind != detail::json_member::is_string) return fail(failure::invalid, "iss is not a string");
    if (!iss || iss->text != r.issuer) return fail(failure::issuer, "iss is not the configured issuer");
    const auto* aud = claims.find("aud");
    if (aud && aud->kind != detail::json_member::is_string && aud->kind != detail::json_member::is_string_array)
        return fail(failure::invalid, "aud is not a string or an array of strings");
    bool audience_ok = false;
    if (aud)
        for (const auto& want : r.audiences) {
            if (aud->kind == detail::json_member::is_string) audience_ok = audience_ok || aud->text == want;
            for (const auto& a : aud->strings) audience_ok = audience_ok || a == want;
        }
    if (!audience_ok) return fail(failure::audience, "aud names no configured audience");

    const auto* claim = claims.find(r.identity_claim);
    if (!claim || claim->kind != detail::json_member::is_string) return fail(failure::invalid, "identity claim missing or not a string");
    const auto identity = trustgate::detail::trim(claim->text);
    if (identity.empty() || !trustgate::acceptable_identity(identity))
        return fail(failure::invalid, "identity claim is blank, too long or has a control character");

    checked_token out;
    out.identity = std::string(identity);
    out.expires = exp->number >= 9.2e18 ? INT64_MAX : exp->number <= -9.2e18 ? INT64_MIN : std::int64_t(std::floor(exp->number));
    out.key = verified;
    return out;
}

}  // namespace trustgate::assertion
