// OpenSSL 3 machinery for JOSE: public keys built from JWK parameters with
// EVP_PKEY_fromdata, and signature checks for the RS, PS, ES and EdDSA families.
// Everything here works on raw bytes (already base64url-decoded).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

namespace trustgate::assertion::detail {

struct pkey_free { void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); } };
struct pkey_ctx_free { void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); } };
struct md_ctx_free { void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); } };
struct bn_free { void operator()(BIGNUM* p) const noexcept { BN_free(p); } };
struct param_bld_free { void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); } };
struct params_free { void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); } };
struct ecdsa_sig_free { void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); } };

// Shared: a key set is immutable and read by every I/O thread at once, which OpenSSL 3
// allows for verification.
using public_key = std::shared_ptr<EVP_PKEY>;

inline const unsigned char* bytes(std::string_view s) noexcept { return reinterpret_cast<const unsigned char*>(s.data()); }

inline BIGNUM* to_bignum(std::string_view big_endian) {
    return BN_bin2bn(bytes(big_endian), static_cast<int>(big_endian.size()), nullptr);
}

// `type` is an OpenSSL key type name ("RSA", "EC", "ED25519"); null when OpenSSL refuses
// the parameters or, for EC, the point is not on the curve.
inline public_key key_from_params(const char* type, const OSSL_PARAM* params, bool check_public) {
    const std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) <= 0) return nullptr;
    public_key key(raw, pkey_free{});
    if (check_public) {
        const std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free> check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
        if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    }
    return key;
}

inline public_key rsa_public_key(std::string_view n, std::string_view e) {
    const std::unique_ptr<BIGNUM, bn_free> bn_n(to_bignum(n)), bn_e(to_bignum(e));
    const std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
        return nullptr;
    const std::unique_ptr<OSSL_PARAM, params_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
    return params ? key_from_params("RSA", params.get(), false) : nullptr;
}

// `group` is "P-256" or "P-384"; `point` the uncompressed encoding 0x04 || x || y.
inline public_key ec_public_key(const char* group, std::string_view point) {
    const std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
        return nullptr;
    const std::unique_ptr<OSSL_PARAM, params_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
    return params ? key_from_params("EC", params.get(), true) : nullptr;
}

inline public_key ed25519_public_key(std::string_view x) {
    const std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x.data(), x.size())) return nullptr;
    const std::unique_ptr<OSSL_PARAM, params_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
    return params ? key_from_params("ED25519", params.get(), false) : nullptr;
}

inline int rsa_bits(EVP_PKEY* key) noexcept { return EVP_PKEY_get_bits(key); }

enum class padding : unsigned char { none, pkcs1, pss };

// JWS ECDSA signatures are r || s, each `half` bytes (RFC 7518 §3.4); OpenSSL wants DER.
// Writes the DER form into `der` (at most 2 * half + 9 bytes) and returns its length,
// or 0 when `raw` has the wrong length.
inline std::size_t ecdsa_raw_to_der(std::string_view raw, std::size_t half, unsigned char* der, std::size_t capacity) {
    if (raw.size() != 2 * half) return 0;
    std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(bytes(raw), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(bytes(raw) + half, static_cast<int>(half), nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return 0;
    }
    if (static_cast<std::size_t>(i2d_ECDSA_SIG(sig.get(), nullptr)) > capacity) return 0;
    unsigned char* out = der;
    const int n = i2d_ECDSA_SIG(sig.get(), &out);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

// One signature check: `digest` null for EdDSA (which hashes internally).
inline bool verify_signature(EVP_PKEY* key, const EVP_MD* digest, padding pad, std::string_view signed_text,
                             const unsigned char* signature, std::size_t signature_size) {
    const std::unique_ptr<EVP_MD_CTX, md_ctx_free> md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by `md`
    if (!md || EVP_DigestVerifyInit_ex(md.get(), &pctx, digest ? EVP_MD_get0_name(digest) : nullptr, nullptr, nullptr,
                                       key, nullptr) != 1)
        return false;
    if (pad == padding::pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        return false;
    if (pad == padding::pkcs1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
    return EVP_DigestVerify(md.get(), signature, signature_size, bytes(signed_text), signed_text.size()) == 1;
}

}  // namespace trustgate::assertion::detail
