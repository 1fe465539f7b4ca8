// One accepted WebSocket connection: read a text message, answer it, repeat; re-decide
// the connection when the server's rules change.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffered_read_stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "trustgate/beast/detail/field_arena.hpp"
#include "trustgate/beast/impl/connection_registry.hpp"
#include "trustgate/beast/impl/server_state.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/peer_certificate.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/request.hpp"

namespace trustgate::beast::detail {

// A connection's storage for an asserted identity (trustgate::carries_identity_storage).
using identity_storage = std::array<char, trustgate::max_identity_bytes>;

// The connection under a WebSocket: first the bytes that arrived after the upgrade
// request in the same read (a client may send its first frames without waiting for 101),
// then the connection itself.
template <class Stream>
class upgraded_stream : public boost::beast::buffered_read_stream<Stream, boost::beast::flat_buffer> {
    using base = boost::beast::buffered_read_stream<Stream, boost::beast::flat_buffer>;

public:
    upgraded_stream(Stream&& stream, const boost::beast::flat_buffer& already_read) : base(std::move(stream)) {
        auto& pending = this->buffer();
        pending.commit(boost::asio::buffer_copy(pending.prepare(already_read.size()), already_read.data()));
    }

    // Closing the WebSocket closes the connection beneath.
    friend void teardown(boost::beast::role_type role, upgraded_stream& s, boost::beast::error_code& ec) {
        using boost::beast::websocket::teardown;
        teardown(role, s.next_layer(), ec);
    }

    template <class Handler>
    friend void async_teardown(boost::beast::role_type role, upgraded_stream& s, Handler&& handler) {
        using boost::beast::websocket::async_teardown;
        async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
    }
};

template <class Stream>
class websocket_session final : public drainable, public std::enable_shared_from_this<websocket_session<Stream>> {
public:
    // `already_read`: what the HTTP session read past the upgrade request. `rules`: the
    // server's rules_changed count from before the upgrade was decided.
    websocket_session(std::shared_ptr<const server_state> state, connection_registry::slot slot, Stream&& stream,
                      const boost::beast::flat_buffer& already_read, net::address peer, bool secure,
                      trustgate::local_proof proof, bool local_socket, trustgate::peer_certificate certificate,
                      websocket_accept accept, std::uint64_t rules, std::unique_ptr<identity_storage> identities,
                      std::unique_ptr<field_arena> upgrade_fields)
        : state_(std::move(state)), slot_(std::move(slot)), ws_(std::move(stream), already_read), peer_(peer),
          secure_(secure), local_socket_(local_socket), proof_(proof), certificate_(std::move(certificate)),
          identity_storage_(std::move(identities)), accept_(std::move(accept)), decided_under_(rules),
          upgrade_fields_(std::move(upgrade_fields)) {}

    // Runs on the connection's thread (the HTTP session calls it from its handler).
    // `upgrade` is kept: recheck decides again from it.
    void start(http::request<http::empty_body, request_fields> upgrade) {
        namespace websocket = boost::beast::websocket;
        upgrade_ = std::move(upgrade);
        // The WebSocket stream keeps its own timers (the HTTP session's went with it).
        auto timeouts = websocket::stream_base::timeout::suggested(boost::beast::role_type::server);
        timeouts.handshake_timeout = state_->options.io_timeout;
        timeouts.idle_timeout = state_->options.idle_timeout;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        ws_.read_message_max(state_->options.max_body_bytes);
        // Beast builds the response (101, or its 400/426) and then calls this; the
        // session outlives the stream, which owns the decorator.
        ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
            state_->decorate(res);
            handshake_status_ = res.result_int();
        }));
        ws_.async_accept(upgrade_, boost::beast::bind_front_handler(&websocket_session::on_accept, this->shared_from_this()));
    }

    void drain() override {
        boost::asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
            self->close(boost::beast::websocket::close_code::going_away);
        });
    }

    void recheck() override {
        boost::asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->recheck_if_changed(); });
    }

private:
    void on_accept(boost::beast::error_code ec) {
        if (accept_.on_handshake) {
            try {
                accept_.on_handshake(!ec ? 101u : handshake_status_ == 101 ? 0u : handshake_status_);
            } catch (...) {
                ec = boost::beast::websocket::error::closed;
            }
        }
        if (ec) return;
        open_ = true;
        slot_.attach(this->shared_from_this());
        recheck_if_changed();
        if (!closing_) read();
    }

    // Decides again from the upgrade request when the rules changed since the last decision.
    void recheck_if_changed() {
        namespace websocket = boost::beast::websocket;
        if (!open_ || closing_) return;
        const auto now = state_->rules_changed.load();
        if (now == decided_under_) return;
        decided_under_ = now;
        if (!accept_.recheck) return;
        std::optional<std::string> refused;
        try {
            refused = accept_.recheck(
                incoming(upgrade_, peer_, secure_, proof_, local_socket_, &certificate_, *identity_storage_));
        } catch (...) {
            return close(websocket::close_code::internal_error);
        }
        if (refused)
            close({websocket::close_code::policy_error,
                   boost::beast::string_view(refused->data(), std::min<std::size_t>(refused->size(), 123))});
    }

    void read() {
        ws_.async_read(buffer_, boost::beast::bind_front_handler(&websocket_session::on_read, this->shared_from_this()));
    }

    // Errors here are the peer closing, a timeout, an oversized message (Beast has sent
    // 1009) or our own close completing: the session just ends.
    void on_read(boost::beast::error_code ec, std::size_t) {
        namespace websocket = boost::beast::websocket;
        if (ec || closing_) return;
        if (!ws_.got_text()) return close(websocket::close_code::unknown_data);
        const std::string text = boost::beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        try {
            reply_ = accept_.on_message(text);
        } catch (...) {
            return close(websocket::close_code::internal_error);
        }
        ws_.text(true);
        ws_.async_write(boost::asio::buffer(reply_),
                        boost::beast::bind_front_handler(&websocket_session::on_write, this->shared_from_this()));
    }

    void on_write(boost::beast::error_code ec, std::size_t) {
        if (ec || closing_) return;
        read();
    }

    void close(const boost::beast::websocket::close_reason& why) {
        if (closing_) return;
        closing_ = true;
        ws_.async_close(why, [self = this->shared_from_this()](boost::beast::error_code) {});
    }

    std::shared_ptr<const server_state> state_;
    connection_registry::slot slot_;
    boost::beast::websocket::stream<upgraded_stream<Stream>> ws_;
    net::address peer_;
    bool secure_;
    bool local_socket_;
    trustgate::local_proof proof_;  // the upgrade's, for recheck
    trustgate::peer_certificate certificate_;
    // The HTTP session's: the handler's decision on the upgrade may point into it.
    std::unique_ptr<identity_storage> identity_storage_;
    websocket_accept accept_;
    std::uint64_t decided_under_;  // the rules_changed count the connection was last decided under
    std::unique_ptr<field_arena> upgrade_fields_;  // where upgrade_'s fields live: destroyed after it
    http::request<http::empty_body, request_fields> upgrade_;
    boost::beast::flat_buffer buffer_;
    std::string reply_;
    unsigned handshake_status_ = 0;  // of the upgrade response Beast built
    bool open_ = false;
    bool closing_ = false;
};

}  // namespace trustgate::beast::detail
