// trustgate/beast/tls.hpp — the server's TLS context (OpenSSL through Boost.Asio).
//
//   options.tls = trustgate::beast::make_tls_context("/etc/gw/cert.pem", "/etc/gw/key.pem");
//
// TLS 1.2 is the oldest protocol accepted; compression and renegotiation are off.
#pragma once

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/system_error.hpp>
#include <openssl/ssl.h>

namespace trustgate::beast {

// Which file could not be used, and why (the message never holds key material).
class tls_error : public std::runtime_error {
public:
    enum class file { certificate_chain, private_key };

    tls_error(file which, const std::string& message) : std::runtime_error(message), which_(which) {}

    file which() const noexcept { return which_; }

private:
    file which_;
};

// Loads a PEM certificate chain (leaf first) and its PEM private key; throws tls_error
// when a file is unreadable, does not parse, or the key does not match the certificate.
inline std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& certificate_chain_file,
                                                                   const std::string& private_key_file) {
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
    return context;
}

}  // namespace trustgate::beast
