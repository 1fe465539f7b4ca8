// One HTTP/1.1 connection, plain or TLS: wait for a request, read it within the limits,
// hand it to the handler, write the answer, repeat; or hand the connection over to a
// WebSocket session.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "trustgate/beast/detail/connection_registry.hpp"
#include "trustgate/beast/detail/server_state.hpp"
#include "trustgate/beast/detail/websocket_session.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"

namespace trustgate::beast::detail {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
// server_options::local_socket's connections.
using unix_stream = boost::beast::basic_stream<boost::asio::local::stream_protocol>;

// A malformed request (as opposed to a client that went away or was too slow).
inline bool is_bad_http(const boost::beast::error_code& ec) {
    namespace http = boost::beast::http;
    return ec.category() == http::make_error_code(http::error::bad_method).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// RFC 9112 §6.3: with a Transfer-Encoding that does not end in chunked, a request's body
// has no knowable length. Beast takes such a request as bodiless and would parse its body
// as the next request (a smuggling shape); the session answers 400 and closes instead.
template <class Parser>
bool body_length_unknowable(const Parser& parser) {
    return parser.get().count(boost::beast::http::field::transfer_encoding) > 0 && !parser.chunked();
}

// The most a session buffers unparsed: a request header, or a chunk-size line with its
// extensions (8 KiB, as newer Beast allows), or trailers. Beast 1.74 bounds only the
// header itself, so without this one endless chunk extension would grow the buffer
// without limit; beyond it the request gets 431 (in the header) or 413 (in the body).
inline std::size_t read_buffer_limit(const server_options& options) { return options.max_header_bytes + 8192; }

template <class Stream>
class http_session final : public drainable, public std::enable_shared_from_this<http_session<Stream>> {
    static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;
    static_assert(is_tls || std::is_same_v<Stream, boost::beast::tcp_stream> || std::is_same_v<Stream, unix_stream>);

public:
    // `buffer` holds whatever was read from the connection already (TLS detection);
    // `proof` is what the kernel said about the peer at accept.
    http_session(std::shared_ptr<const server_state> state, connection_registry::slot slot, Stream&& stream,
                 net::address peer, boost::beast::flat_buffer buffer, trustgate::local_proof proof = {})
        : state_(std::move(state)), slot_(std::move(slot)), stream_(std::move(stream)), peer_(peer), proof_(proof),
          buffer_(std::move(buffer)) {
        buffer_.max_size(read_buffer_limit(state_->options));
    }

    // Called from the accept loop: continues on the connection's own strand.
    void start() {
        boost::asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
            self->slot_.attach(self);
            if constexpr (is_tls) self->handshake();
            else self->wait_for_request(self->state_->options.header_timeout);
        });
    }

    // Answers `status` without reading a request and closes (e.g. plain HTTP on a TLS port).
    void refuse(http::status status, std::string_view type, std::string_view message) {
        boost::asio::dispatch(stream_.get_executor(), [self = this->shared_from_this(), status, type, message] {
            self->send(error_response(status, 11, type, message));
        });
    }

    void drain() override {
        boost::asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
            self->draining_ = true;
            // Between requests nothing is lost by closing now; a request in progress is
            // answered first and its response closes the connection.
            if (self->idle_) self->lowest().cancel();
        });
    }

private:
    auto& lowest() { return boost::beast::get_lowest_layer(stream_); }

    template <class F>
    auto bind(F f) {
        return boost::beast::bind_front_handler(f, this->shared_from_this());
    }

    void handshake() {
        lowest().expires_after(state_->options.io_timeout);
        stream_.async_handshake(boost::asio::ssl::stream_base::server, buffer_.data(), bind(&http_session::on_handshake));
    }

    void on_handshake(boost::beast::error_code ec, std::size_t used) {
        if (ec) return;
        buffer_.consume(used);
        wait_for_request(state_->options.header_timeout);
    }

    // Waits for the first byte of the next request, so that an idle connection can be
    // told apart from a slow one (and closed at once when draining).
    void wait_for_request(std::chrono::milliseconds timeout) {
        if (draining_) return linger_close();
        if (buffer_.size() > 0) return read_header();
        idle_ = true;
        lowest().expires_after(timeout);
        stream_.async_read_some(buffer_.prepare(read_size), bind(&http_session::on_first_bytes));
    }

    void on_first_bytes(boost::beast::error_code ec, std::size_t n) {
        idle_ = false;
        if (ec) return;  // closed by the client, idle too long, or drained
        buffer_.commit(n);
        read_header();
    }

    void read_header() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(state_->options.max_header_bytes, UINT32_MAX)));
        parser_->body_limit(state_->options.max_body_bytes);
        lowest().expires_after(state_->options.header_timeout);
        http::async_read_header(stream_, buffer_, *parser_, bind(&http_session::on_header));
    }

    void on_header(boost::beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        if (body_length_unknowable(*parser_))
            return send(error_response(http::status::bad_request, parser_->get().version(), "bad_request", "Bad Request"));
        if (parser_->is_done()) return answer();
        lowest().expires_after(state_->options.io_timeout);
        // A client that asked may wait (curl: a second) for the go-ahead before sending the body.
        const auto expect = parser_->get()[http::field::expect];
        if (trustgate::detail::iequals(std::string_view(expect.data(), expect.size()), "100-continue")) {
            static constexpr std::string_view go_ahead = "HTTP/1.1 100 Continue\r\n\r\n";
            return boost::asio::async_write(stream_, boost::asio::buffer(go_ahead.data(), go_ahead.size()),
                                            bind(&http_session::on_go_ahead));
        }
        read_body();
    }

    void on_go_ahead(boost::beast::error_code ec, std::size_t) {
        if (ec) return;
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_, bind(&http_session::on_body));
    }

    void on_body(boost::beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        answer();
    }

    // Limits and syntax errors get a response; a client that left or stalled does not.
    void on_read_error(boost::beast::error_code ec) {
        const bool header_done = parser_->is_header_done();
        const unsigned version = header_done ? parser_->get().version() : 11;
        if (ec == http::error::header_limit || (ec == http::error::buffer_overflow && !header_done))
            return send(error_response(http::status::request_header_fields_too_large, version, "header_too_large",
                                       "Request Header Fields Too Large"));
        if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
            return send(error_response(http::status::payload_too_large, version, "payload_too_large", "Payload Too Large"));
        if (is_bad_http(ec))
            return send(error_response(http::status::bad_request, version, "bad_request", "Bad Request"));
    }

    void answer() {
        request_ = parser_->release();
        const incoming in(request_, peer_, is_tls, proof_, std::is_same_v<Stream, unix_stream>);
        reply result;
        try {
            result = state_->handler(in);
        } catch (...) {
            result = error_response(http::status::internal_server_error, request_.version(), "internal_error",
                                    "Internal Server Error");
        }
        if (auto* accept = std::get_if<websocket_accept>(&result)) {
            if (!in.wants_websocket() || !accept->on_message)
                return send(error_response(http::status::bad_request, request_.version(), "bad_request",
                                           "Expected a WebSocket upgrade request"));
            return upgrade(std::move(accept->on_message));
        }
        auto& res = std::get<response>(result);
        res.keep_alive(res.keep_alive() && request_.keep_alive() && !draining_);
        send(std::move(res));
    }

    void upgrade(typename websocket_session<Stream>::message_handler on_message) {
        auto ws = std::make_shared<websocket_session<Stream>>(state_, std::move(slot_), std::move(stream_), std::move(on_message));
        ws->start(std::move(request_));
    }

    // `res.keep_alive()` decides whether the connection stays open afterwards.
    void send(response res) {
        response_ = std::move(res);
        response_.prepare_payload();
        state_->decorate(response_);
        lowest().expires_after(state_->options.io_timeout);
        http::async_write(stream_, response_, bind(&http_session::on_write));
    }

    void on_write(boost::beast::error_code ec, std::size_t) {
        if (ec) return;
        if (response_.need_eof()) return linger_close();
        wait_for_request(state_->options.idle_timeout);
    }

    // Ends the connection without resetting it under a response the client has not read.
    void linger_close() {
        if constexpr (is_tls) {
            lowest().expires_after(state_->linger_time());
            stream_.async_shutdown([self = this->shared_from_this()](boost::beast::error_code) {});
        } else {
            boost::beast::error_code ignored;
            lowest().socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
            lowest().expires_after(state_->linger_time());
            discard();
        }
    }

    void discard() {
        lowest().async_read_some(boost::asio::buffer(scratch_),
                                 [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                     if (!ec) self->discard();
                                 });
    }

    static constexpr std::size_t read_size = 4096;

    std::shared_ptr<const server_state> state_;
    connection_registry::slot slot_;
    Stream stream_;
    net::address peer_;
    trustgate::local_proof proof_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    request request_;
    response response_;
    std::array<char, 1024> scratch_{};
    bool idle_ = false;      // waiting for the first byte of a request
    bool draining_ = false;
};

}  // namespace trustgate::beast::detail
