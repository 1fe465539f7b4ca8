// On a TLS port: looks at the first bytes of a connection and starts a TLS session, or
// answers a plain HTTP client with 400 instead of leaving it to a handshake failure.
#pragma once

#include <chrono>
#include <memory>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "trustgate/beast/impl/connection_registry.hpp"
#include "trustgate/beast/impl/http_session.hpp"
#include "trustgate/beast/impl/server_state.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"

namespace trustgate::beast::detail {

class tls_detector : public std::enable_shared_from_this<tls_detector> {
public:
    // `header_deadline`: when the first request header must be complete, handshake included.
    tls_detector(std::shared_ptr<const server_state> state, connection_registry::slot slot,
                 boost::beast::tcp_stream&& stream, net::address peer, std::chrono::steady_clock::time_point header_deadline,
                 trustgate::local_proof proof = {})
        : state_(std::move(state)), slot_(std::move(slot)), stream_(std::move(stream)), peer_(peer),
          header_deadline_(header_deadline), proof_(proof) {}

    void start() {
        boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->stream_.expires_at(self->header_deadline_);
            boost::beast::async_detect_ssl(self->stream_, self->buffer_,
                                           boost::beast::bind_front_handler(&tls_detector::on_detect, self));
        });
    }

private:
    void on_detect(boost::beast::error_code ec, bool tls) {
        if (ec) return;
        if (tls) {
            std::make_shared<http_session<tls_stream>>(state_, std::move(slot_), tls_stream(std::move(stream_), *state_->tls()),
                                                       peer_, std::move(buffer_), header_deadline_, proof_)
                ->start();
        } else {
            std::make_shared<http_session<boost::beast::tcp_stream>>(state_, std::move(slot_), std::move(stream_), peer_,
                                                                     std::move(buffer_), header_deadline_)
                ->refuse(http::status::bad_request, "tls_required", "This port speaks HTTPS");
        }
    }

    std::shared_ptr<const server_state> state_;
    connection_registry::slot slot_;
    boost::beast::tcp_stream stream_;
    net::address peer_;
    std::chrono::steady_clock::time_point header_deadline_;
    trustgate::local_proof proof_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace trustgate::beast::detail
