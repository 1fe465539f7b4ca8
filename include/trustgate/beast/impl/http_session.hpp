// One HTTP/1.1 connection, plain or TLS: wait for a request, read its header within the
// limits, let the handler decide on the header alone, read the body only when the
// handler asks for it, write the answer, repeat; or hand the connection over to a
// WebSocket session.
#pragma once

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "trustgate/beast/detail/connection.hpp"
#include "trustgate/beast/impl/connection_registry.hpp"
#include "trustgate/beast/impl/server_state.hpp"
#include "trustgate/beast/impl/websocket_session.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/beast/tls.hpp"
#include "trustgate/detail/ascii.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/peer_certificate.hpp"

namespace trustgate::beast::detail {

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

inline std::size_t field_count(const request_header& header) {
    return static_cast<std::size_t>(std::distance(header.begin(), header.end()));
}

// make_response has set Content-Length for its body already: setting it again would cost
// an allocation per response. (Statuses that must not have a body are left to Beast.)
inline bool length_already_set(const response& res) {
    const auto status = res.result_int();
    if (status < 200 || status == 204 || status == 304 || res.count(http::field::transfer_encoding) != 0) return false;
    const auto text = res[http::field::content_length];
    std::uint64_t length = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty() && length == res.body().size();
}

template <class Stream>
class http_session final : public drainable, public std::enable_shared_from_this<http_session<Stream>> {
    static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;
    static_assert(is_tls || std::is_same_v<Stream, tcp_socket> || std::is_same_v<Stream, unix_socket>);
    static constexpr bool is_local_socket = std::is_same_v<Stream, unix_socket>;
    using clock = std::chrono::steady_clock;

public:
    // `buffer` holds whatever was read from the connection already (TLS detection);
    // `header_deadline` is when the first request header must be complete (behaviour §3:
    // counted from accept); `proof` is what the kernel said about the peer at accept.
    http_session(std::shared_ptr<const server_state> state, connection_registry::slot slot, Stream&& stream,
                 net::address peer, boost::beast::flat_buffer buffer, clock::time_point header_deadline,
                 trustgate::local_proof proof = {})
        : state_(std::move(state)), slot_(std::move(slot)), stream_(std::move(stream)),
          deadline_(stream_.get_executor(), state_->shortest_timeout()), peer_(peer), proof_(proof),
          buffer_(std::move(buffer)), first_byte_by_(header_deadline), header_deadline_(header_deadline) {
        buffer_.max_size(read_buffer_limit(state_->options));
    }

    // Called from the accept loop: continues on the connection's own thread.
    void start() {
        boost::asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
            self->slot_.attach(self);
            if constexpr (is_tls) self->handshake();
            else self->wait_for_request();
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
            boost::beast::error_code ignored;  // the socket may be closed already (its deadline passed)
            if (self->idle_) self->lowest().cancel(ignored);
        });
    }

    // The deadline set last has passed: whatever is pending fails, and the session ends.
    void on_deadline() {
        boost::beast::error_code ignored;
        lowest().close(ignored);
    }

private:
    auto& lowest() { return boost::beast::get_lowest_layer(stream_); }

    void expire_at(clock::time_point when) { deadline_.expire_at(when, this->shared_from_this()); }
    void expire_after(clock::duration d) { expire_at(clock::now() + d); }

    template <class F>
    auto bind(F f) {
        return boost::beast::bind_front_handler(f, this->shared_from_this());
    }

    void handshake() {
        expire_at(header_deadline_);
        stream_.async_handshake(boost::asio::ssl::stream_base::server, buffer_.data(), bind(&http_session::on_handshake));
    }

    void on_handshake(boost::beast::error_code ec, std::size_t used) {
        if (ec) return;
        if constexpr (is_tls) certificate_ = peer_certificate_of(stream_.native_handle());
        buffer_.consume(used);
        wait_for_request();
    }

    // Waits for the first byte of the next request, so that an idle connection can be
    // told apart from a slow one (and closed at once when draining).
    void wait_for_request() {
        if (draining_) return linger_close();
        if (buffer_.size() > 0) return read_header();
        idle_ = true;
        expire_at(first_byte_by_);
        stream_.async_read_some(buffer_.prepare(read_size), bind(&http_session::on_first_bytes));
    }

    void on_first_bytes(boost::beast::error_code ec, std::size_t n) {
        idle_ = false;
        if (ec) return;  // closed by the client, idle too long, or drained
        buffer_.commit(n);
        // After an idle keep-alive wait, the header clock starts with the request.
        if (header_clock_from_first_byte_) header_deadline_ = clock::now() + state_->options.header_timeout;
        read_header();
    }

    void read_header() {
        parser_.reset();  // its fields were the arena's
        arena_->clear();
        parser_.emplace(std::piecewise_construct, std::make_tuple(),
                        std::make_tuple(request_fields::allocator_type(arena_.get())));
        parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(state_->options.max_header_bytes, UINT32_MAX)));
        parser_->body_limit(state_->options.max_body_bytes);
        // A deadline, not a timeout: bytes that trickle in never move it.
        expire_at(header_deadline_);
        http::async_read_header(stream_, buffer_, *parser_, bind(&http_session::on_header));
    }

    const request_header& header() const { return parser_->get(); }

    // The current request as the handler sees it.
    incoming current() const {
        return incoming(header(), peer_, is_tls, proof_, is_local_socket, &certificate_, *identity_storage_);
    }

    void on_header(boost::beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        if (body_length_unknowable(*parser_)) return send(bad_request("Bad Request"));
        header_fields_ = field_count(header());
        const auto rules = state_->rules_changed.load();
        const incoming in = current();
        reply result;
        try {
            result = state_->handler(in);
        } catch (...) {
            return send(internal_error());
        }
        if (auto* res = std::get_if<response>(&result)) return respond(std::move(*res));
        if (auto* accept = std::get_if<websocket_accept>(&result)) {
            // An upgrade request with a body is not one Beast (or a browser) sends.
            if (!in.wants_websocket() || !accept->on_message || !parser_->is_done())
                return send(bad_request("Expected a WebSocket upgrade request"));
            return upgrade(std::move(*accept), rules);
        }
        on_body_ = std::move(std::get<read_body>(result).on_body);
        if (!on_body_) return send(internal_error());
        if (parser_->is_done()) return answer_body();
        expire_after(state_->options.io_timeout);
        // A client that asked may wait (curl: a second) for the go-ahead before sending
        // the body; it gets it only once the handler wants the body.
        const auto expect = header()[http::field::expect];
        if (trustgate::detail::iequals(std::string_view(expect.data(), expect.size()), "100-continue")) {
            static constexpr std::string_view go_ahead = "HTTP/1.1 100 Continue\r\n\r\n";
            return boost::asio::async_write(stream_, boost::asio::buffer(go_ahead.data(), go_ahead.size()),
                                            bind(&http_session::on_go_ahead));
        }
        read_rest();
    }

    void on_go_ahead(boost::beast::error_code ec, std::size_t) {
        if (ec) return;
        read_rest();
    }

    void read_rest() { http::async_read(stream_, buffer_, *parser_, bind(&http_session::on_body)); }

    void on_body(boost::beast::error_code ec, std::size_t) {
        if (ec) return on_read_error(ec);
        answer_body();
    }

    // Limits and syntax errors get a response; a client that left or stalled does not.
    void on_read_error(boost::beast::error_code ec) {
        const bool header_done = parser_->is_header_done();
        const unsigned version = header_done ? header().version() : 11;
        if (ec == http::error::header_limit || (ec == http::error::buffer_overflow && !header_done))
            return send(error_response(http::status::request_header_fields_too_large, version, "header_too_large",
                                       "Request Header Fields Too Large"));
        if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
            return send(error_response(http::status::payload_too_large, version, "payload_too_large", "Payload Too Large"));
        if (is_bad_http(ec)) return send(error_response(http::status::bad_request, version, "bad_request", "Bad Request"));
    }

    void answer_body() {
        // Beast adds trailer fields to the header fields; the handler decided without them.
        if (field_count(header()) != header_fields_) return send(bad_request("Trailer fields are not accepted"));
        response res;
        try {
            res = on_body_(current(), std::move(parser_->get().body()));
        } catch (...) {
            res = internal_error();
        }
        on_body_ = nullptr;
        respond(std::move(res));
    }

    // A response to the current request. The connection stays open only when the whole
    // request has been read: an unread body would be taken for the next request.
    void respond(response res) {
        res.keep_alive(res.keep_alive() && parser_->get().keep_alive() && parser_->is_done() && !draining_);
        send(std::move(res));
    }

    response bad_request(std::string_view message) const {
        return error_response(http::status::bad_request, parser_->get().version(), "bad_request", message);
    }

    response internal_error() const {
        return error_response(http::status::internal_server_error, parser_->get().version(), "internal_error",
                              "Internal Server Error");
    }

    void upgrade(websocket_accept accept, std::uint64_t rules) {
        auto ws = std::make_shared<websocket_session<Stream>>(state_, std::move(slot_), std::move(stream_), std::move(buffer_),
                                                              peer_, is_tls, proof_, is_local_socket, std::move(certificate_),
                                                              std::move(accept), rules, std::move(identity_storage_),
                                                              std::move(arena_));
        // Moved, not copied: the fields stay where they are, in the arena the session now owns.
        ws->start(http::request<http::empty_body, request_fields>(std::move(parser_->get().base())));
    }

    // `res.keep_alive()` decides whether the connection stays open afterwards.
    void send(response res) {
        response_ = std::move(res);
        if (!length_already_set(response_)) response_.prepare_payload();
        state_->decorate(response_);
        expire_after(state_->options.io_timeout);
        // Through a serializer of the session's own: writing the message itself would
        // allocate one for every response.
        serializer_.emplace(response_);
        http::async_write(stream_, *serializer_, bind(&http_session::on_write));
    }

    void on_write(boost::beast::error_code ec, std::size_t) {
        if (ec) return;
        if (response_.need_eof()) return linger_close();
        const auto now = clock::now();
        first_byte_by_ = now + state_->options.idle_timeout;
        header_deadline_ = now + state_->options.header_timeout;  // a pipelined request's, already read
        header_clock_from_first_byte_ = true;
        wait_for_request();
    }

    // Ends the connection without resetting it under a response the client has not read.
    void linger_close() {
        if constexpr (is_tls) {
            expire_after(state_->linger_time());
            stream_.async_shutdown([self = this->shared_from_this()](boost::beast::error_code) {});
        } else {
            boost::beast::error_code ignored;
            lowest().shutdown(boost::asio::socket_base::shutdown_send, ignored);
            expire_after(state_->linger_time());
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
    connection_deadline deadline_;
    net::address peer_;
    trustgate::local_proof proof_;
    trustgate::peer_certificate certificate_;  // taken once, after the handshake
    // Where a request's asserted identity lives (incoming::identity_storage): one per
    // connection, moved to the WebSocket session with the upgrade request the handler's
    // decision may point into. The next request is read only after this one is answered.
    std::unique_ptr<identity_storage> identity_storage_ = std::make_unique<identity_storage>();
    boost::beast::flat_buffer buffer_;
    std::unique_ptr<field_arena> arena_ = std::make_unique<field_arena>();  // the current request's fields
    std::optional<request_parser<http::string_body>> parser_;  // holds the request until it is answered
    std::size_t header_fields_ = 0;                                   // as the handler saw them
    decltype(read_body::on_body) on_body_;
    response response_;
    std::optional<http::response_serializer<http::string_body>> serializer_;  // of response_
    std::array<char, 1024> scratch_{};
    clock::time_point first_byte_by_;   // the next request's first byte, or the connection closes
    clock::time_point header_deadline_;  // the current request's header
    bool header_clock_from_first_byte_ = false;  // false for the first request: its clock started at accept
    bool idle_ = false;  // waiting for the first byte of a request
    bool draining_ = false;
};

}  // namespace trustgate::beast::detail
