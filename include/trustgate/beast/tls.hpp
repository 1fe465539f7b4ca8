// trustgate/beast/tls.hpp — the server's TLS context (OpenSSL through Boost.Asio).
//
//   options.tls = trustgate::beast::make_tls_context("/etc/gw/cert.pem", "/etc/gw/key.pem");
//   options.tls = trustgate::beast::make_tls_context("/etc/gw/cert.pem", "/etc/gw/key.pem", "/etc/gw/proxy-ca.pem");
//
// TLS 1.2 is the oldest protocol accepted; compression and renegotiation are off. With a
// client CA bundle (behaviour §11) every client is asked for a certificate, verified against
// that bundle with clientAuth usage when it lists extended key usages; a missing or
// failing certificate never ends the handshake (local tools without one still connect),
// the session only records that no verified certificate was presented.
#pragma once

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/system_error.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "trustgate/peer_certificate.hpp"

namespace trustgate::beast {

// Which file could not be used, and why (the message never holds key material).
class tls_error : public std::runtime_error {
public:
    enum class file { certificate_chain, private_key, client_ca };

    tls_error(file which, const std::string& message) : std::runtime_error(message), which_(which) {}

    file which() const noexcept { return which_; }

private:
    file which_;
};

// Loads a PEM certificate chain (leaf first) and its PEM private key; throws tls_error
// when a file is unreadable, does not parse, or the key does not match the certificate.
inline std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& certificate_chain_file,
                                                                   const std::string& private_key_file,
                                                                   const std::string& client_ca_file = {}) {
    namespace ssl = boost::asio::ssl;
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                         ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION);

    const auto load = [](tls_error::file which, const std::string& path, auto&& use) {
        if (!std::ifstream(path)) throw tls_error(which, "cannot read \"" + path + "\"");
        try {
            use();
        } catch (const boost::system::system_error& e) {
            throw tls_error(which, "cannot use \"" + path + "\": " + e.code().message());
        }
    };
    load(tls_error::file::certificate_chain, certificate_chain_file,
         [&] { context->use_certificate_chain_file(certificate_chain_file); });
    load(tls_error::file::private_key, private_key_file, [&] {
        context->use_private_key_file(private_key_file, ssl::context::pem);
        if (SSL_CTX_check_private_key(context->native_handle()) != 1)
            throw tls_error(tls_error::file::private_key,
                            "\"" + private_key_file + "\" is not the key of \"" + certificate_chain_file + "\"");
    });
    if (!client_ca_file.empty()) {
        load(tls_error::file::client_ca, client_ca_file, [&] {
            auto* native = context->native_handle();
            if (SSL_CTX_load_verify_locations(native, client_ca_file.c_str(), nullptr) != 1)
                throw tls_error(tls_error::file::client_ca, "\"" + client_ca_file + "\" is not a PEM CA bundle");
            if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str()))
                SSL_CTX_set_client_CA_list(native, names);
            SSL_CTX_set_purpose(native, X509_PURPOSE_SSL_CLIENT);
            // Ask, never require; the outcome is read after the handshake.
            SSL_CTX_set_verify(native, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
            // Session resumption with peer verification needs a session id context.
            static constexpr unsigned char id[] = "trustgate";
            SSL_CTX_set_session_id_context(native, id, sizeof id - 1);
        });
    }
    return context;
}

// After a server handshake: whether the client presented a certificate that verified,
// and its names (DNS SANs, else the subject CN).
inline trustgate::peer_certificate peer_certificate_of(SSL* ssl) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return {};
    std::vector<std::string> names;
    if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
            if (n->type != GEN_DNS) continue;
            const ASN1_IA5STRING* dns = n->d.dNSName;
            names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)), ASN1_STRING_length(dns));
        }
        GENERAL_NAMES_free(sans);
    }
    if (names.empty()) {
        const X509_NAME* subject = X509_get_subject_name(cert);
        const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
        if (at >= 0) {
            const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
            names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)), ASN1_STRING_length(cn));
        }
    }
    return trustgate::peer_certificate::of(std::move(names));
}

}  // namespace trustgate::beast
