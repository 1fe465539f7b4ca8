// trustgate/presets.hpp — the compositions behaviour §3 describes, one per auth mode.
#pragma once

#include "trustgate/gateway.hpp"
#include "trustgate/policy/allow_users.hpp"
#include "trustgate/policy/anonymous.hpp"
#include "trustgate/policy/bearer_token.hpp"
#include "trustgate/policy/loopback_policy.hpp"
#include "trustgate/policy/proxy_certificate.hpp"
#include "trustgate/policy/proxy_identity.hpp"
#include "trustgate/policy/required_headers.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/policy/trusted_source.hpp"

namespace trustgate {

// `auth.mode = "trusted-proxy"`: behaviour §3 steps 1-5 in full.
using trusted_proxy_gateway =
    gateway<trusted_source, loopback_policy, required_headers, proxy_identity, allow_users, scopes<>>;

// `auth.mode = "trusted-proxy"` with `trustedProxy.clientCertificate` set: behaviour §3 with
// §11, the proxy's client certificate checked at the start of step 4.
using trusted_proxy_certificate_gateway =
    gateway<trusted_source, loopback_policy, proxy_certificate, required_headers, proxy_identity, allow_users, scopes<>>;

// `auth.mode = "token"`: a bearer token from every peer.
using token_gateway = gateway<bearer_token, scopes<>>;

// `auth.mode = "none"`: everyone is `anonymous`.
using open_gateway = gateway<anonymous, scopes<>>;

}  // namespace trustgate
