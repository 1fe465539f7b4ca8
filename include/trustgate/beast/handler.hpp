// trustgate/beast/handler.hpp — what a request handler sees and what it answers.
//
// A handler is `reply(const incoming&)`. It runs once per complete HTTP request (header
// and body within the server's limits) and answers with either a response, or, for a
// WebSocket upgrade it accepts, the function that answers each text message:
//
//   [&](const trustgate::beast::incoming& request) -> trustgate::beast::reply {
//       auto decision = gateway.authenticate(request);          // incoming is a request_view
//       if (!decision.allowed) return trustgate::beast::make_response(request, http::status::unauthorized, "{}");
//       if (request.wants_websocket())
//           return trustgate::beast::websocket_accept{[](std::string_view text) { return std::string(text); }};
//       return trustgate::beast::make_response(request, http::status::ok, R"({"ok":true})");
//   }
//
// Handlers may run on several threads at once (server_options::threads) and must not
// block: they answer from memory.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "trustgate/beast/fields_view.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/request.hpp"

namespace trustgate::beast {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// One request as the handler sees it: the parsed message, the TCP peer and what the
// kernel said about the peer's process when the connection was accepted. It is itself a
// trustgate::request_view carrying a local proof, so `gateway.authenticate(incoming)`
// works directly; the decision's strings point into the message, which lives until the
// handler returns.
class incoming {
public:
    incoming(const request& message, net::address peer, bool secure, trustgate::local_proof proof = {},
             bool local_socket = false) noexcept
        : message_(&message), peer_(peer), secure_(secure), local_socket_(local_socket), proof_(proof) {}

    const request& message() const noexcept { return *message_; }
    net::address peer() const noexcept { return peer_; }
    bool secure() const noexcept { return secure_; }  // arrived over TLS
    // Arrived on server_options::local_socket; peer() is then 127.0.0.1.
    bool local_socket() const noexcept { return local_socket_; }
    // Found once, at accept (trustgate/net/peer_credentials.hpp).
    trustgate::local_proof local_proof() const noexcept { return proof_; }

    fields_view<> view() const noexcept { return {*message_, peer_}; }

    template <class Visitor>
    void for_each_header(Visitor&& visit) const {
        view().for_each_header(std::forward<Visitor>(visit));
    }

    http::verb method() const noexcept { return message_->method(); }

    // The request target without its query string.
    std::string_view path() const noexcept {
        const auto target = message_->target();
        const std::string_view whole(target.data(), target.size());
        return whole.substr(0, whole.find('?'));
    }

    bool wants_websocket() const { return boost::beast::websocket::is_upgrade(*message_); }

private:
    const request* message_;
    net::address peer_;
    bool secure_;
    bool local_socket_;
    trustgate::local_proof proof_;
};

static_assert(trustgate::request_view<incoming> && trustgate::carries_local_proof<incoming>);

// Accepts a WebSocket upgrade. `on_message` is called with each text message, in order,
// and its result is sent back as one text message; binary messages close the connection
// with 1003 (unsupported data), an exception with 1011 (internal error).
struct websocket_accept {
    std::function<std::string(std::string_view text)> on_message;
};

using reply = std::variant<response, websocket_accept>;

using request_handler = std::function<reply(const incoming&)>;

// A response to `to` with `body` as its payload. The server sets keep-alive and applies
// server_options::decorate when it sends the response.
inline response make_response(const incoming& to, http::status status, std::string body,
                              std::string_view content_type = "application/json") {
    response res{status, to.message().version()};
    res.set(http::field::content_type, boost::beast::string_view(content_type.data(), content_type.size()));
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

}  // namespace trustgate::beast
