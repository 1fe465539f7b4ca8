// trustgate/beast/handler.hpp — what a request handler sees and what it answers.
//
// A handler is `reply(const incoming&)`. It runs once per request, as soon as the request
// line and header section have arrived and before any byte of the body is read: the
// decision is made on the header section alone (behaviour §7), so an unauthenticated client
// never makes the server read, buffer or wait for a body. It answers with
//
//   - a `response`: sent at once. A body the request carries is never read, so the
//     connection closes after the response (a bodiless request may keep it alive);
//   - `read_body{on_body}`: the server reads the body (within max_body_bytes) and calls
//     `on_body(request, body)` for the response. A chunked body with trailer fields is
//     refused with 400 first (Beast would merge them into the header fields), so the
//     header the handler decided on is the whole header on_body sees;
//   - `websocket_accept{on_message, recheck, on_handshake}`, for a (bodiless) upgrade
//     request it accepts.
//
//   [&](const trustgate::beast::incoming& request) -> trustgate::beast::reply {
//       const auto decision = gateway.authenticate(request);     // incoming is a request_view
//       if (!decision.allowed) return trustgate::beast::make_response(request, http::status::unauthorized, "{}");
//       if (request.wants_websocket())
//           return trustgate::beast::websocket_accept{[](std::string_view text) { return std::string(text); }};
//       return trustgate::beast::read_body{[decision](const trustgate::beast::incoming& r, std::string body) {
//           return trustgate::beast::make_response(r, http::status::ok, std::string(decision.identity) + ": " + body);
//       }};
//   }
//
// The header lives until on_body has returned, so on_body may keep the decision (whose
// strings point into it). Handlers may run on several threads at once
// (server_options::threads) and must not block: they answer from memory.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "trustgate/beast/detail/field_arena.hpp"
#include "trustgate/beast/fields_view.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/peer_certificate.hpp"
#include "trustgate/request.hpp"

namespace trustgate::beast {

namespace http = boost::beast::http;

// A request's header fields, as the server parses them: in the connection's arena
// (detail::field_arena; a copy goes to the heap). A default-constructed allocator is the
// heap's, so request_parser<Body>{} parses a request_header anywhere.
using request_fields = http::basic_fields<detail::arena_allocator<char>>;
using request_header = http::request_header<request_fields>;
template <class Body>
using request_parser = http::request_parser<Body, request_fields::allocator_type>;
using response = http::response<http::string_body>;

// A request as the handler sees it: the request line and header fields (no body: it has
// not been read yet), the TCP peer, and what the kernel said about the peer's process
// when the connection was accepted. It is itself a trustgate::request_view carrying a
// local proof, so `gateway.authenticate(incoming)` works directly; the decision's strings
// point into the header, or (a signed assertion's identity) into the connection's identity
// storage, which the server keeps as long as the header.
class incoming {
public:
    incoming(const request_header& header, net::address peer, bool secure, trustgate::local_proof proof = {},
             bool local_socket = false, const trustgate::peer_certificate* certificate = nullptr,
             std::span<char> identity_storage = {}) noexcept
        : header_(&header), peer_(peer), secure_(secure), local_socket_(local_socket), proof_(proof),
          certificate_(certificate), identity_storage_(identity_storage) {}

    const request_header& header() const noexcept { return *header_; }
    net::address peer() const noexcept { return peer_; }
    bool secure() const noexcept { return secure_; }  // arrived over TLS
    // Arrived on server_options::local_socket; peer() is then 127.0.0.1.
    bool local_socket() const noexcept { return local_socket_; }
    // Found once, at accept (trustgate/net/peer_credentials.hpp).
    trustgate::local_proof local_proof() const noexcept { return proof_; }
    // The TLS connection's client certificate, taken once after the handshake (tls.hpp).
    const trustgate::peer_certificate& peer_certificate() const noexcept {
        return certificate_ ? *certificate_ : trustgate::detail::no_peer_certificate;
    }
    // trustgate::carries_identity_storage: empty when the constructor was given none.
    std::span<char> identity_storage() const noexcept { return identity_storage_; }

    fields_view<request_fields::allocator_type> view() const noexcept { return {*header_, peer_}; }

    template <class Visitor>
    void for_each_header(Visitor&& visit) const {
        view().for_each_header(std::forward<Visitor>(visit));
    }

    http::verb method() const noexcept { return header_->method(); }

    // The request target without its query string.
    std::string_view path() const noexcept {
        const auto target = header_->target();
        const std::string_view whole(target.data(), target.size());
        return whole.substr(0, whole.find('?'));
    }

    bool wants_websocket() const { return boost::beast::websocket::is_upgrade(*header_); }

private:
    const request_header* header_;
    net::address peer_;
    bool secure_;
    bool local_socket_;
    trustgate::local_proof proof_;
    const trustgate::peer_certificate* certificate_;
    std::span<char> identity_storage_;
};

static_assert(trustgate::request_view<incoming> && trustgate::carries_local_proof<incoming> &&
              trustgate::carries_peer_certificate<incoming> && trustgate::carries_identity_storage<incoming>);

// Reads the request body, then answers with on_body's response.
struct read_body {
    std::function<response(const incoming& request, std::string body)> on_body;
};

// Accepts a WebSocket upgrade. `on_message` is called with each text message, in order,
// and its result is sent back as one text message; binary messages close the connection
// with 1003 (unsupported data), an exception with 1011 (internal error).
//
// `recheck` (optional) re-decides the connection when the server is told that the rules
// changed (server::recheck_websockets, e.g. after a configuration reload): it is called
// with the upgrade request the connection was admitted on (its header fields, kept by the
// server for this) and returns nothing to keep the connection, or a reason to close it
// with 1008 (policy violation) and that reason (at most 123 bytes) as the close reason.
// on_message and recheck run on the connection's thread, never at the same time, so they
// may share state without a lock.
//
// `on_handshake` (optional) is called once the upgrade is over, with the status of the
// response sent: 101 when the WebSocket opened, Beast's 400 or 426 for a malformed
// upgrade request, 0 when the client went away first. Log the outcome there, not in the
// handler: only then is it known.
struct websocket_accept {
    std::function<std::string(std::string_view text)> on_message;
    std::function<std::optional<std::string>(const incoming& upgrade)> recheck = nullptr;
    std::function<void(unsigned status)> on_handshake = nullptr;
};

using reply = std::variant<response, read_body, websocket_accept>;

using request_handler = std::function<reply(const incoming&)>;

// A response to `to` with `body` as its payload. The server sets keep-alive and applies
// server_options::decorate when it sends the response.
inline response make_response(const incoming& to, http::status status, std::string body,
                              std::string_view content_type = "application/json") {
    response res{status, to.header().version()};
    res.set(http::field::content_type, boost::beast::string_view(content_type.data(), content_type.size()));
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

}  // namespace trustgate::beast
