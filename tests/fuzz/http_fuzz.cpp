// Fuzz target: raw HTTP bytes through the Beast adapter's request path.
//
// The adapter (trustgate/beast/impl/http_session.hpp) reads each request with an
// http::request_parser<string_body> limited by server_options into a buffer of bounded
// size, refuses a body of unknowable length, hands the header to the handler (which
// authenticates a fields_view of it) before any body byte, reads the body, and refuses a
// request whose chunked body brought trailer fields (Beast merges them into the header
// fields). This target does the same with the bytes arriving in reads of a fuzzed size,
// request after request while the connection stays open, and checks:
// - every parse error maps to one of the adapter's answers (431, 413, 400) or to a
//   client that stopped sending (the adapter closes);
// - what reaches trustgate is clean: header names are tokens, values hold no CR, LF
//   or NUL and no surrounding whitespace;
// - the decision on the fields_view is the reference model's on the same header lines;
// - trailer fields only ever come after the header fields, which stay as they were, so
//   the adapter's count of fields tells a request with trailers (refused with 400).
//
// Input: byte 0 picks the peer (bits 0-2) and the read size (bits 3-7: 0 means 4096
// bytes per read, otherwise that many); the rest is what the client sends.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <trustgate/beast/impl/http_session.hpp>
#include <trustgate/beast/fields_view.hpp>
#include <trustgate/beast/handler.hpp>
#include <trustgate/beast/options.hpp>
#include <trustgate/model/reference_model.hpp>
#include <trustgate/presets.hpp>
#include <trustgate/testing/impl/compare.hpp>

#include "fuzz_check.hpp"

namespace {

namespace http = boost::beast::http;
namespace model = trustgate::model;
using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

constexpr std::size_t max_requests_per_connection = 8;

constexpr std::string_view peers[] = {"127.0.0.1", "::1",          "10.1.2.3",    "203.0.113.9",
                                      "::ffff:127.0.0.1", "192.168.1.10", "127.0.0.2", "2001:db8::1"};

// The example gateway's default configuration, with a token and a proxy network.
trustgate::auth_config gateway_config() {
    trustgate::auth_config c;
    c.trusted_proxies = {"127.0.0.1", "::1", "10.0.0.0/8"};
    c.token = "s3cret-token";
    c.trusted_proxy.allow_loopback = true;
    c.trusted_proxy.loopback_user = "operator@localhost";
    return c;
}

const trustgate::auth_config config = gateway_config();
const auto gateway = trustgate::trusted_proxy_gateway::from_config(config);

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

using field_lines = std::vector<std::pair<std::string, std::string>>;

field_lines lines_of(const trustgate::beast::request_header& header) {
    field_lines lines;
    for (const auto& field : header) lines.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return lines;
}

void check_fields(const trustgate::beast::request_header& message) {
    for (const auto& field : message) {
        const std::string_view name(field.name_string().data(), field.name_string().size());
        const std::string_view value(field.value().data(), field.value().size());
        check(!name.empty() && std::all_of(name.begin(), name.end(), is_token_char),
              [&] { return "header name is not a token: " + quoted(name); });
        check(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos &&
                  (value.empty() || (value.front() != ' ' && value.front() != '\t' && value.back() != ' ' && value.back() != '\t')),
              [&] { return "header value reaches trustgate unclean: " + quoted(value); });
    }
}

void check_decision(const trustgate::beast::request_header& message, const trustgate::net::address& peer) {
    const trustgate::beast::incoming in(message, peer, false);
    const auto d = gateway.authenticate(in);
    trustgate::basic_request copy(peer);
    in.for_each_header([&](std::string_view name, std::string_view value) { copy.add(std::string(name), std::string(value)); });
    const auto expected = model::authenticate({}, config, copy);
    const auto diff = trustgate::testing::detail::difference(d, expected);
    check(diff.empty(), [&] { return "request from " + peer.to_string() + " target " + quoted(in.path()) + "\n" + diff; });
    const auto path = in.path();
    if (path.starts_with("/rpc/")) {
        const auto method = path.substr(5);
        const auto a = gateway.authorize(d, method, in);
        const auto m = model::authorize(config.scopes, expected, method, copy);
        const auto scope_diff = trustgate::testing::detail::difference(a, m, method);
        check(scope_diff.empty(), [&] { return scope_diff; });
    }
    (void)in.wants_websocket();
}

// One connection: parse requests as the adapter does until the bytes run out, an error
// ends it, or a response would close it.
void serve_connection(std::string_view bytes, std::size_t read_size, const trustgate::net::address& peer) {
    const trustgate::beast::server_options limits;
    const std::size_t buffer_limit = trustgate::beast::detail::read_buffer_limit(limits);
    std::size_t received = 0, consumed = 0;
    // As the session does: each request's fields in the connection's arena, cleared
    // between requests (a large header spills onto the heap).
    trustgate::beast::detail::field_arena arena;
    for (std::size_t served = 0; served < max_requests_per_connection; ++served) {
        arena.clear();
        trustgate::beast::request_parser<http::string_body> parser(
            std::piecewise_construct, std::make_tuple(), std::make_tuple(trustgate::beast::request_fields::allocator_type(&arena)));
        parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        parser.body_limit(limits.max_body_bytes);
        boost::beast::error_code ec;
        std::optional<field_lines> header;  // as the handler decided on it
        while (!parser.is_done()) {
            if (received > consumed) {
                const auto used = parser.put(boost::asio::buffer(bytes.data() + consumed, received - consumed), ec);
                consumed += used;
                if (ec && ec != http::error::need_more) break;
                if (parser.is_header_done() && !header) {
                    if (trustgate::beast::detail::body_length_unknowable(parser)) return;  // 400
                    header = lines_of(parser.get());
                    check_fields(parser.get());
                    check_decision(parser.get(), peer);
                }
                if (!ec && used > 0) continue;  // progress: parse on, or done
                ec = {};
            }
            if (received == bytes.size()) {
                // The client closed: as Beast's read does, a message begun is cut short.
                if (parser.got_some()) parser.put_eof(ec);
                else ec = http::error::end_of_stream;
                break;
            }
            const auto room = buffer_limit - (received - consumed);
            if (room == 0) {
                ec = http::error::buffer_overflow;
                break;
            }
            received = std::min(bytes.size(), received + std::min(read_size, room));
        }
        if (ec) {
            const bool answered = ec == http::error::header_limit || ec == http::error::buffer_overflow ||
                                  ec == http::error::body_limit || trustgate::beast::detail::is_bad_http(ec);
            const bool client_stopped = ec == http::error::partial_message || ec == http::error::end_of_stream;
            check(answered || client_stopped, [&] { return "parse error with no defined answer: " + ec.message(); });
            return;
        }
        if (!parser.is_done() || !header) return;
        const auto& message = parser.get();
        // Trailer fields: Beast inserts each after the header's fields of the same name, so
        // only their count shows them; the server answers 400 before on_body, then closes.
        if (trustgate::beast::detail::field_count(message) != header->size()) return;
        const auto now = lines_of(message);
        check(now.size() == header->size() && std::equal(header->begin(), header->end(), now.begin()),
              [&] { return "the body changed the header fields the decision was made on"; });
        if (!message.keep_alive()) return;
    }
}

}  // namespace

// Boost assertions abort as usual, except one: Boost 1.74's chunked parser asserts that a
// call after the final chunk's size line sees at least 5 bytes, but a client may send
// "0\r\n" and then "\r" (boostorg/beast#2861, fixed in Boost 1.86). Builds with NDEBUG,
// like the example gateway's, run the code after it, which handles the case correctly.
namespace boost {

void assertion_failed(char const* expression, char const* function, char const* file, long line) {
    if (std::string_view(expression) == "n >= 5" && std::string_view(function).find("parse_chunk_header") != std::string_view::npos)
        return;
    trustgate_fuzz::fail(std::string("Boost assertion ") + expression + " failed in " + function + " at " + file + ":" +
                         std::to_string(line));
}

void assertion_failed_msg(char const* expression, char const* message, char const* function, char const* file, long line) {
    trustgate_fuzz::fail(std::string("Boost assertion ") + expression + " (" + message + ") failed in " + function + " at " +
                         file + ":" + std::to_string(line));
}

}  // namespace boost

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto peer = *trustgate::net::address::parse(peers[data[0] & 7]);
    const std::size_t read_size = (data[0] >> 3) == 0 ? 4096 : (data[0] >> 3);
    serve_connection(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), read_size, peer);
    return 0;
}
