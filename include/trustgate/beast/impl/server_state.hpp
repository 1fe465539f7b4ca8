// What every session of one server shares: options, handler, connection registry.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "trustgate/beast/impl/connection_registry.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/beast/options.hpp"

namespace trustgate::beast::detail {

struct server_state {
    server_state(server_options opts, request_handler h)
        : options(std::move(opts)),
          handler(std::move(h)),
          connections(options.max_connections, std::max<std::size_t>(1, options.max_connections_per_peer)) {}

    // The context the next TLS handshake uses (server::replace_tls swaps it).
    std::shared_ptr<boost::asio::ssl::context> tls() const {
        std::lock_guard lock(tls_mutex_);
        return tls_;
    }

    void set_tls(std::shared_ptr<boost::asio::ssl::context> context) const {
        std::lock_guard lock(tls_mutex_);
        tls_ = std::move(context);
    }

    void decorate(http::response_header<>& header) const {
        if (options.decorate) options.decorate(header);
    }

    // What a connection's timer is armed for at most (detail::connection_deadline).
    std::chrono::milliseconds shortest_timeout() const {
        return std::min({options.header_timeout, options.io_timeout, options.idle_timeout});
    }

    // After a final response on a closing connection, how long to read and discard what
    // the client still sends, so that closing does not reset the connection before the
    // client has read the response.
    std::chrono::milliseconds linger_time() const {
        return std::min<std::chrono::milliseconds>(options.io_timeout, std::chrono::seconds(2));
    }

    const server_options options;
    const request_handler handler;
    connection_registry connections;
    // Counts server::recheck_websockets calls. A WebSocket remembers the count from just
    // before its upgrade was decided, so one decided under rules that changed meanwhile
    // is re-decided as soon as it opens, however the two raced.
    std::atomic<std::uint64_t> rules_changed{0};

private:
    mutable std::mutex tls_mutex_;
    mutable std::shared_ptr<boost::asio::ssl::context> tls_ = options.tls;
};

// The server's own error responses, shaped like the example gateway's:
// {"error":{"type":"<type>","message":"<message>"}}. `type` and `message` are fixed
// texts chosen by the server, never request data.
inline response error_response(http::status status, unsigned version, std::string_view type, std::string_view message) {
    response res{status, version};
    res.set(http::field::content_type, "application/json");
    res.body() = std::string(R"({"error":{"type":")") + std::string(type) + R"(","message":")" + std::string(message) + "\"}}";
    res.keep_alive(false);
    res.prepare_payload();
    return res;
}

}  // namespace trustgate::beast::detail
