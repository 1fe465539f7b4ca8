// One accepted WebSocket connection: read a text message, answer it, repeat.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "trustgate/beast/detail/connection_registry.hpp"
#include "trustgate/beast/detail/server_state.hpp"
#include "trustgate/beast/handler.hpp"

namespace trustgate::beast::detail {

template <class Stream>
class websocket_session final : public drainable, public std::enable_shared_from_this<websocket_session<Stream>> {
public:
    using message_handler = decltype(websocket_accept::on_message);

    websocket_session(std::shared_ptr<const server_state> state, connection_registry::slot slot, Stream&& stream,
                      message_handler on_message)
        : state_(std::move(state)), slot_(std::move(slot)), ws_(std::move(stream)), on_message_(std::move(on_message)) {}

    // Runs on the connection's strand (the HTTP session calls it from its handler).
    void start(request upgrade) {
        namespace websocket = boost::beast::websocket;
        upgrade_ = std::move(upgrade);
        // The WebSocket stream keeps its own timers; the TCP stream's would cut it off.
        boost::beast::get_lowest_layer(ws_).expires_never();
        auto timeouts = websocket::stream_base::timeout::suggested(boost::beast::role_type::server);
        timeouts.handshake_timeout = state_->options.io_timeout;
        timeouts.idle_timeout = state_->options.idle_timeout;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        ws_.read_message_max(state_->options.max_body_bytes);
        ws_.set_option(websocket::stream_base::decorator(
            [state = state_](websocket::response_type& res) { state->decorate(res); }));
        ws_.async_accept(upgrade_, boost::beast::bind_front_handler(&websocket_session::on_accept, this->shared_from_this()));
    }

    void drain() override {
        boost::asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
            self->close(boost::beast::websocket::close_code::going_away);
        });
    }

private:
    void on_accept(boost::beast::error_code ec) {
        if (ec) return;
        upgrade_ = {};
        slot_.attach(this->shared_from_this());
        read();
    }

    void read() {
        ws_.async_read(buffer_, boost::beast::bind_front_handler(&websocket_session::on_read, this->shared_from_this()));
    }

    // Errors here are the peer closing, a timeout, an oversized message (Beast has sent
    // 1009) or our own close completing: the session just ends.
    void on_read(boost::beast::error_code ec, std::size_t) {
        namespace websocket = boost::beast::websocket;
        if (ec) return;
        if (!ws_.got_text()) return close(websocket::close_code::unknown_data);
        const std::string text = boost::beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        try {
            reply_ = on_message_(text);
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

    void close(boost::beast::websocket::close_code code) {
        if (closing_) return;
        closing_ = true;
        ws_.async_close(code, [self = this->shared_from_this()](boost::beast::error_code) {});
    }

    std::shared_ptr<const server_state> state_;
    connection_registry::slot slot_;
    boost::beast::websocket::stream<Stream> ws_;
    message_handler on_message_;
    request upgrade_;
    boost::beast::flat_buffer buffer_;
    std::string reply_;
    bool closing_ = false;
};

}  // namespace trustgate::beast::detail
