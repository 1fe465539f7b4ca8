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

#include "trustgate/beast/detail/connection.hpp"
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
                 tcp_socket&& socket, net::address peer, std::chrono::steady_clock::time_point header_deadline,
                 trustgate::local_proof proof = {})
        : state_(std::move(state)), slot_(std::move(slot)), stream_(std::move(socket)),
          deadline_(stream_.get_executor(), state_->shortest_timeout()), peer_(peer), header_deadline_(header_deadline),
          proof_(proof) {}

    void start() {
        boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->deadline_.expire_at(self->header_deadline_, self);
            boost::beast::async_detect_ssl(self->stream_, self->buffer_,
                                           boost::beast::bind_front_handler(&tls_detector::on_detect, self));
        });
    }

    void on_deadline() {
        boost::beast::error_code ignored;
        stream_.close(ignored);
    }

private:
    void on_detect(boost::beast::error_code ec, bool tls) {
        if (ec) return;
        if (tls) {
            std::make_shared<http_session<tls_stream>>(state_, std::move(slot_), tls_stream(std::move(stream_), *state_->tls()),
                                                       peer_, std::move(buffer_), header_deadline_, proof_)
                ->start();
        } else {
            std::make_shared<http_session<tcp_socket>>(state_, std::move(slot_), std::move(stream_), peer_, std::move(buffer_),
                                                       header_deadline_)
                ->refuse(http::status::bad_request, "tls_required", "This port speaks HTTPS");
        }
    }

    std::shared_ptr<const server_state> state_;
    connection_registry::slot slot_;
    tcp_socket stream_;
    connection_deadline deadline_;  // the header deadline, until a session takes over
    net::address peer_;
    std::chrono::steady_clock::time_point header_deadline_;
    trustgate::local_proof proof_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace trustgate::beast::detail
