// Test-only: signing keys made by OpenSSL at run time, their JWKs, and compact JWS
// tokens signed with them, so the verifier is tested against real signatures.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

namespace trustgate_test {

inline std::string base64url(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (unsigned(static_cast<unsigned char>(bytes[i])) << 16) |
                           (unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
    }
    if (bytes.size() - i == 1) {
        const unsigned v = unsigned(static_cast<unsigned char>(bytes[i])) << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
    } else if (bytes.size() - i == 2) {
        const unsigned v = (unsigned(static_cast<unsigned char>(bytes[i])) << 16) | (unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
    }
    return out;
}

enum class key_kind { rsa, p256, p384, ed25519 };

class signing_key {
public:
    explicit signing_key(key_kind kind, std::string kid = {}, int rsa_bits = 2048) : kind_(kind), kid_(std::move(kid)) {
        EVP_PKEY* k = nullptr;
        switch (kind) {
            case key_kind::rsa: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(rsa_bits)); break;
            case key_kind::p256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
            case key_kind::p384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
            case key_kind::ed25519: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
        }
        if (!k) throw std::runtime_error("key generation failed");
        key_.reset(k);
    }

    const std::string& kid() const { return kid_; }
    key_kind kind() const { return kind_; }

    // The public JWK; `extra` members are merged in (e.g. {"use":"enc"}).
    nlohmann::json jwk(const nlohmann::json& extra = nlohmann::json::object()) const {
        nlohmann::json j;
        if (kind_ == key_kind::rsa) {
            j = {{"kty", "RSA"}, {"n", base64url(bn_param(OSSL_PKEY_PARAM_RSA_N))}, {"e", base64url(bn_param(OSSL_PKEY_PARAM_RSA_E))}};
        } else if (kind_ == key_kind::ed25519) {
            j = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url(octet_param(OSSL_PKEY_PARAM_PUB_KEY))}};
        } else {
            const std::size_t half = kind_ == key_kind::p256 ? 32 : 48;
            const auto point = octet_param(OSSL_PKEY_PARAM_PUB_KEY);  // 0x04 || x || y
            j = {{"kty", "EC"}, {"crv", kind_ == key_kind::p256 ? "P-256" : "P-384"},
                 {"x", base64url(point.substr(1, half))}, {"y", base64url(point.substr(1 + half, half))}};
        }
        if (!kid_.empty()) j["kid"] = kid_;
        for (const auto& [k, v] : extra.items()) j[k] = v;
        return j;
    }

    // RSA: n as raw big-endian bytes (the key-confusion attack uses the public key as an HMAC secret).
    std::string public_bytes() const {
        return kind_ == key_kind::rsa ? bn_param(OSSL_PKEY_PARAM_RSA_N) : octet_param(OSSL_PKEY_PARAM_PUB_KEY);
    }

    // The JWS signature of `text` under `alg` (RS*, PS*, ES*, EdDSA), as JOSE encodes it.
    std::string sign(std::string_view alg, std::string_view text) const {
        const EVP_MD* md = nullptr;
        if (alg.substr(2) == "256") md = EVP_sha256();
        else if (alg.substr(2) == "384") md = EVP_sha384();
        else if (alg.substr(2) == "512") md = EVP_sha512();
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        EVP_PKEY_CTX* pctx = nullptr;
        if (EVP_DigestSignInit(ctx.get(), &pctx, alg == "EdDSA" ? nullptr : md, nullptr, key_.get()) != 1)
            throw std::runtime_error("sign init failed");
        if (alg.starts_with("PS")) {
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
        }
        std::size_t n = 0;
        const auto* data = reinterpret_cast<const unsigned char*>(text.data());
        if (EVP_DigestSign(ctx.get(), nullptr, &n, data, text.size()) != 1) throw std::runtime_error("sign failed");
        std::string sig(n, '\0');
        if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, data, text.size()) != 1)
            throw std::runtime_error("sign failed");
        sig.resize(n);
        if (!alg.starts_with("ES")) return sig;
        // DER -> r || s, each the curve's size.
        const std::size_t half = alg == "ES256" ? 32 : 48;
        const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
        std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(d2i_ECDSA_SIG(nullptr, &p, long(sig.size())), ECDSA_SIG_free);
        std::string raw(2 * half, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), reinterpret_cast<unsigned char*>(raw.data()), int(half));
        BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), reinterpret_cast<unsigned char*>(raw.data()) + half, int(half));
        return raw;
    }

private:
    std::string bn_param(const char* name) const {
        BIGNUM* bn = nullptr;
        EVP_PKEY_get_bn_param(key_.get(), name, &bn);
        std::string out(std::size_t(BN_num_bytes(bn)), '\0');
        BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
        BN_free(bn);
        return out;
    }
    std::string octet_param(const char* name) const {
        std::size_t n = 0;
        EVP_PKEY_get_octet_string_param(key_.get(), name, nullptr, 0, &n);
        std::string out(n, '\0');
        EVP_PKEY_get_octet_string_param(key_.get(), name, reinterpret_cast<unsigned char*>(out.data()), n, &n);
        return out;
    }

    key_kind kind_;
    std::string kid_;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_{nullptr, EVP_PKEY_free};
};

// header.payload.signature with the given JSON texts, signed by `key` under `alg`.
inline std::string make_raw_token(const signing_key& key, std::string_view alg, const std::string& header_json,
                              const std::string& payload_json) {
    const std::string text = base64url(header_json) + "." + base64url(payload_json);
    return text + "." + base64url(key.sign(alg, text));
}

inline std::string make_token(const signing_key& key, std::string_view alg, const nlohmann::json& claims,
                              nlohmann::json header = nlohmann::json::object()) {
    if (!header.contains("alg")) header["alg"] = alg;
    if (!header.contains("kid") && !key.kid().empty()) header["kid"] = key.kid();
    return make_raw_token(key, alg, header.dump(), claims.dump());
}

// An HS256 token keyed by `secret`: the key-confusion attack when `secret` is a public key.
inline std::string make_hs256_token(std::string_view secret, const nlohmann::json& header, const nlohmann::json& claims) {
    const std::string text = base64url(header.dump()) + "." + base64url(claims.dump());
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
              reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, sizeof mac, &len);
    return text + "." + base64url(std::string(reinterpret_cast<const char*>(mac), len));
}

inline std::string jwks_of(std::initializer_list<nlohmann::json> keys) {
    nlohmann::json set = {{"keys", nlohmann::json::array()}};
    for (const auto& k : keys) set["keys"].push_back(k);
    return set.dump();
}

}  // namespace trustgate_test
