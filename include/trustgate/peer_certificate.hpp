// trustgate/peer_certificate.hpp — the client certificate a TLS connection presented.
//
// behaviour §11 (the Kubernetes request-header model): where an address is weak proof, the
// proxy proves itself with a client certificate from a dedicated CA. The server verifies
// the certificate during the handshake (trustgate/beast/tls.hpp) and takes, once per
// connection, whether a verified one was presented and its names. A request view that has
//
//   const trustgate::peer_certificate& peer_certificate() const noexcept;
//
// hands it to the policies (trustgate/policy/proxy_certificate.hpp); a request without it
// presented none.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace trustgate {

struct peer_certificate {
    // A certificate was presented and chains to the configured CA (clientAuth usage when
    // it lists extended key usages). A presented certificate that failed is not verified.
    bool verified = false;
    // The certificate's DNS subject alternative names; its subject CN only when it has no
    // DNS SAN (behaviour §11). Empty unless verified.
    std::vector<std::string> names;

    static peer_certificate of(std::vector<std::string> names) { return {true, std::move(names)}; }

    friend bool operator==(const peer_certificate&, const peer_certificate&) = default;
};

}  // namespace trustgate
