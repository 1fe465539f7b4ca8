// Test-only: what behaviour §10's tests and benchmark set up around signed tokens: one
// signing key per key type, a JWKS file, and the Pomerium preset verifying against it.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include <trustgate/assertion/keys.hpp>
#include <trustgate/config.hpp>

#include "support/jose_signer.hpp"

namespace trustgate_test {

// One key per key type, made once per process.
inline const signing_key& rsa() { static const signing_key k(key_kind::rsa, "rsa-1"); return k; }
inline const signing_key& p256() { static const signing_key k(key_kind::p256, "ec-1"); return k; }
inline const signing_key& p384() { static const signing_key k(key_kind::p384, "ec-384"); return k; }
inline const signing_key& ed() { static const signing_key k(key_kind::ed25519, "ed-1"); return k; }

// The key that signs with `a`.
inline const signing_key& key_for(trustgate::assertion::algorithm a) {
    switch (trustgate::assertion::key_type_for(a)) {
        case trustgate::assertion::key_type::rsa: return rsa();
        case trustgate::assertion::key_type::ec_p256: return p256();
        case trustgate::assertion::key_type::ec_p384: return p384();
        case trustgate::assertion::key_type::ed25519: break;
    }
    return ed();
}

// A file in /tmp holding `text`, removed when this goes.
struct temp_file {
    std::string path;
    explicit temp_file(const std::string& text) {
        char name[] = "/tmp/trustgate-jwks-XXXXXX";
        ::close(::mkstemp(name));
        path = name;
        std::ofstream(path) << text;
    }
    ~temp_file() { std::remove(path.c_str()); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
};

// behaviour §10's Pomerium preset, verifying against the keys in `jwks_file`.
inline trustgate::assertion_config pomerium_assertion(const std::string& jwks_file, std::string issuer, std::string audience) {
    trustgate::assertion_config a;
    a.preset = "pomerium";
    a.jwks_file = jwks_file;
    a.issuer = std::move(issuer);
    a.audience = {std::move(audience)};
    return a;
}

}  // namespace trustgate_test
