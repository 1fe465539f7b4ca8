// The Beast adapter on its own: the zero-copy request view, and the server's limits,
// timeouts, connection cap, WebSocket handling, graceful drain, the local process proof
// and the Unix socket, with limits small enough to test in milliseconds. Servers run on
// free loopback ports.
#include <support/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/system/system_error.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trustgate/beast/server.hpp>

namespace {

namespace tb = trustgate::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

tb::server_options small_options() {
    tb::server_options options;
    options.handle_signals = false;  // the test process keeps its own signal handling
    options.threads = 2;
    options.max_header_bytes = 1024;
    options.max_body_bytes = 1024;
    options.header_timeout = 300ms;
    options.io_timeout = 300ms;
    options.idle_timeout = 300ms;
    options.drain_timeout = 2s;
    return options;
}

// Answers every request with its peer and body; /ws accepts an echoing WebSocket;
// /refuse is answered from the header alone.
tb::reply echo(const tb::incoming& request) {
    if (request.path() == "/ws")
        return tb::websocket_accept{[](std::string_view text) {
            if (text == "throw") throw std::runtime_error("handler failure");
            return "echo:" + std::string(text);
        }};
    if (request.path() == "/throw") throw std::runtime_error("handler failure");
    if (request.path() == "/refuse") return tb::make_response(request, http::status::forbidden, "refused", "text/plain");
    return tb::read_body{[](const tb::incoming& r, std::string body) {
        return tb::make_response(r, http::status::ok, r.peer().to_string() + " " + body, "text/plain");
    }};
}

// A server on its own thread, drained when the test ends.
class running_server {
public:
    explicit running_server(tb::server_options options = small_options(), tb::request_handler handler = echo)
        : server_(std::move(options), std::move(handler)), thread_([this] { server_.run(); }) {}
    ~running_server() {
        server_.drain();
        thread_.join();
    }

    tb::server& get() { return server_; }
    std::uint16_t port() const { return server_.local_endpoint().port(); }

    // Drains and returns how long run() took to return.
    clock_type::duration drain_and_wait() {
        const auto start = clock_type::now();
        server_.drain();
        thread_.join();
        thread_ = std::jthread([] {});
        return clock_type::now() - start;
    }

private:
    tb::server server_;
    std::jthread thread_;
};

// A plain blocking client connection with a receive timeout.
class client {
public:
    // `source`: the local address to connect from (another loopback address is another peer).
    explicit client(std::uint16_t port, const char* host = "127.0.0.1", const char* source = nullptr) : socket_(io_) {
        if (source != nullptr) {
            socket_.open(tcp::v4());
            socket_.bind({boost::asio::ip::make_address(source), 0});
        }
        socket_.connect({boost::asio::ip::make_address(host), port});
        const timeval five_seconds{5, 0};
        setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
    }

    void send(std::string_view data) { boost::asio::write(socket_, boost::asio::buffer(data.data(), data.size())); }

    // One response, or nothing when the server closed the connection first.
    std::optional<http::response<http::string_body>> response() {
        http::response_parser<http::string_body> parser;
        boost::system::error_code ec;
        http::read(socket_, buffer_, parser, ec);
        if (ec) return std::nullopt;
        return parser.release();
    }

    int native_handle() { return socket_.native_handle(); }

    // Waits until the server closes the connection; true if it did within `limit`.
    bool closed_within(clock_type::duration limit) {
        pollfd p{socket_.native_handle(), POLLIN, 0};
        const auto deadline = clock_type::now() + limit;
        char scratch[4096];
        while (clock_type::now() < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
            if (::poll(&p, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
            const auto n = ::recv(socket_.native_handle(), scratch, sizeof scratch, 0);
            if (n <= 0) return true;
        }
        return false;
    }

private:
    boost::asio::io_context io_;
    tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
};

// Sends `text` on a new connection; the response must come.
http::response<http::string_body> answer(std::uint16_t port, std::string_view text) {
    client c(port);
    c.send(text);
    auto res = c.response();
    REQUIRE(res);
    return std::move(*res);
}

websocket::stream<tcp::socket> open_websocket(boost::asio::io_context& io, std::uint16_t port) {
    websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
    ws.handshake("localhost", "/ws");
    return ws;
}

std::string get(std::string_view target, std::string_view extra_headers = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" + std::string(extra_headers) + "\r\n";
}

}  // namespace

TEST_CASE("a request header parsed into the connection's arena: fields there, a copy on the heap, a big header spills") {
    tb::detail::field_arena arena;
    const auto in_arena = [&](const tb::request_header& header) {
        for (const auto& field : header)
            if (!arena.owns(field.value().data())) return false;
        return arena.owns(header.target().data());
    };
    const auto parse = [&](std::string_view wire) {
        tb::request_parser<http::empty_body> parser(std::piecewise_construct, std::make_tuple(),
                                                   std::make_tuple(tb::request_fields::allocator_type(&arena)));
        boost::system::error_code ec;
        parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
        REQUIRE_FALSE(ec);
        return parser.release();
    };

    std::optional<tb::request_header> copy;
    {
        const auto request = parse("GET /whoami HTTP/1.1\r\nHost: gw\r\nX-Forwarded-User: alice\r\n\r\n");
        CHECK(in_arena(request));
        copy.emplace(request.base());
        CHECK(copy->get_allocator().arena() == nullptr);
        for (const auto& field : *copy) CHECK_FALSE(arena.owns(field.value().data()));
    }
    // The next request reuses the arena (only once the last one's fields are gone, as the
    // session does); the copy is untouched by it.
    arena.clear();
    {
        const auto next = parse("GET /other HTTP/1.1\r\nHost: elsewhere\r\nX-Forwarded-User: mallory\r\n\r\n");
        CHECK(in_arena(next));
        CHECK((*copy)["X-Forwarded-User"] == "alice");
        CHECK(copy->target() == "/whoami");
    }

    // More than the arena holds: the fields that do not fit go to the heap, all readable.
    arena.clear();
    const auto big = parse("GET / HTTP/1.1\r\nHost: gw\r\nX-Padding: " + std::string(3000, 'a') + "\r\nX-After: b\r\n\r\n");
    CHECK(big["X-Padding"].size() == 3000);
    CHECK(big["X-After"] == "b");
    CHECK_FALSE(arena.owns(big["X-Padding"].data()));
}

TEST_CASE("fields_view visits the request's own header storage in wire order") {
    http::request_parser<http::string_body> parser;
    boost::system::error_code ec;
    const std::string_view wire =
        "GET / HTTP/1.1\r\nHost: gw\r\nX-Forwarded-User: alice\r\nx-forwarded-user: bob\r\nX_Forwarded_User: eve\r\n\r\n";
    parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    REQUIRE_FALSE(ec);
    const auto& request = parser.get();
    const auto peer = *trustgate::net::address::parse("10.0.0.7");

    const tb::fields_view<> view(request, peer);
    std::vector<std::pair<std::string_view, std::string_view>> seen;
    view.for_each_header([&](std::string_view name, std::string_view value) { seen.emplace_back(name, value); });

    REQUIRE(seen.size() == 4);
    CHECK(seen[0] == std::pair<std::string_view, std::string_view>{"Host", "gw"});
    CHECK(seen[1] == std::pair<std::string_view, std::string_view>{"X-Forwarded-User", "alice"});
    CHECK(seen[2] == std::pair<std::string_view, std::string_view>{"x-forwarded-user", "bob"});  // as received
    CHECK(seen[3].first == "X_Forwarded_User");
    // No copy: the views point at the fields' own bytes.
    auto field = request.begin();
    for (const auto& [name, value] : seen) {
        CHECK(name.data() == field->name_string().data());
        CHECK(value.data() == field->value().data());
        ++field;
    }
    CHECK(view.peer() == peer);
}

TEST_CASE("to_address normalises IPv4-mapped peers") {
    using boost::asio::ip::make_address;
    CHECK(tb::to_address(make_address("::ffff:127.0.0.1")) == *trustgate::net::address::parse("127.0.0.1"));
    CHECK(tb::to_address(make_address("::ffff:127.0.0.1")).is_loopback());
    CHECK(tb::to_address(make_address("198.18.0.2")) == *trustgate::net::address::parse("198.18.0.2"));
    CHECK(tb::to_address(make_address("::1")) == *trustgate::net::address::parse("::1"));
    CHECK(tb::to_address(make_address("2001:db8::7")).to_string() == "2001:db8::7");
}

TEST_CASE("requests are answered and connections kept alive, pipelined requests in order") {
    running_server server;
    client c(server.port());
    c.send(get("/a") + "POST /b HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
    const auto first = c.response();
    const auto second = c.response();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->body() == "127.0.0.1 ");
    CHECK(second->body() == "127.0.0.1 hello");
    CHECK(second->keep_alive());
}

TEST_CASE("a client that expects 100-continue gets the go-ahead before sending its body") {
    running_server server;
    client c(server.port());
    c.send("POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    const auto go_ahead = c.response();
    REQUIRE(go_ahead);
    CHECK(go_ahead->result() == http::status::continue_);
    c.send("body");
    const auto res = c.response();
    REQUIRE(res);
    CHECK(res->body() == "127.0.0.1 body");
}

TEST_CASE("a dual-stack listener reports IPv4 peers as IPv4 addresses") {
    auto options = small_options();
    options.bind = *trustgate::net::address::parse("::");
    std::optional<running_server> server;
    try {
        server.emplace(options);
    } catch (const boost::system::system_error&) {
        WARN("no IPv6 on this machine: nothing to check");
        return;
    }
    client v4(server->port(), "127.0.0.1");
    v4.send(get("/"));
    CHECK(v4.response()->body() == "127.0.0.1 ");
    client v6(server->port(), "::1");
    v6.send(get("/"));
    CHECK(v6.response()->body() == "::1 ");
}

TEST_CASE("limits: 431, 413, 400 and the server keeps serving") {
    running_server server;
    SECTION("header too large") {
        client c(server.port());
        c.send(get("/", "X-Padding: " + std::string(2000, 'a') + "\r\n"));
        const auto res = c.response();
        REQUIRE(res);
        CHECK(res->result() == http::status::request_header_fields_too_large);
        CHECK(res->body() == R"({"error":{"type":"header_too_large","message":"Request Header Fields Too Large"}})");
        CHECK(c.closed_within(2s));
    }
    SECTION("declared body too large") {
        const auto res = answer(server.port(), "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n");
        CHECK(res.result() == http::status::payload_too_large);
    }
    SECTION("chunked body too large") {
        const auto res = answer(server.port(), "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                                                   std::string(0x800, 'b') + "\r\n");
        CHECK(res.result() == http::status::payload_too_large);
    }
    SECTION("malformed request") {
        const auto res = answer(server.port(), "GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1, 2\r\n\r\n");
        CHECK(res.result() == http::status::bad_request);
        CHECK_FALSE(res.keep_alive());
    }
    SECTION("handler exception") {
        const auto res = answer(server.port(), get("/throw"));
        CHECK(res.result() == http::status::internal_server_error);
    }
    const auto res = answer(server.port(), get("/still-up"));
    CHECK(res.result() == http::status::ok);
}

TEST_CASE("decorate applies to every response, the server's own errors included") {
    auto options = small_options();
    options.decorate = [](http::response_header<>& h) { h.set("X-Decorated", "yes"); };
    running_server server(options);
    CHECK(answer(server.port(), get("/")).at("X-Decorated") == "yes");
    CHECK(answer(server.port(), "BROKEN\r\n\r\n").at("X-Decorated") == "yes");
}

TEST_CASE("timeouts close silent, slow and idle connections") {
    running_server server;
    const auto started = clock_type::now();
    SECTION("a connection that never sends a request") {
        client c(server.port());
        CHECK(c.closed_within(3s));
        CHECK(clock_type::now() - started >= 250ms);
    }
    SECTION("a header that never completes") {
        client c(server.port());
        c.send("GET / HTTP/1.1\r\nHost: loc");
        CHECK(c.closed_within(3s));
    }
    SECTION("a body that never completes") {
        client c(server.port());
        c.send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc");
        CHECK(c.closed_within(3s));
    }
    SECTION("an idle keep-alive connection") {
        client c(server.port());
        c.send(get("/"));
        REQUIRE(c.response());
        const auto answered = clock_type::now();
        CHECK(c.closed_within(3s));
        CHECK(clock_type::now() - answered >= 250ms);
    }
}

TEST_CASE("the connection cap refuses extra connections with 503") {
    auto options = small_options();
    options.max_connections = 2;
    options.header_timeout = 5s;
    running_server server(options);
    std::optional<client> first(std::in_place, server.port());
    client second(server.port());
    while (server.get().connections() < 2) std::this_thread::sleep_for(5ms);
    client third(server.port());
    const auto refused = third.response();
    REQUIRE(refused);
    CHECK(refused->result() == http::status::service_unavailable);
    first.reset();
    while (server.get().connections() > 1) std::this_thread::sleep_for(5ms);
    const auto res = answer(server.port(), get("/"));
    CHECK(res.result() == http::status::ok);
}

TEST_CASE("WebSocket sessions: text in, text out; misuse closes with a code") {
    running_server server;
    boost::asio::io_context io;
    auto ws = open_websocket(io, server.port());
    boost::beast::flat_buffer buffer;

    ws.write(boost::asio::buffer(std::string("hi")));
    ws.read(buffer);
    CHECK(boost::beast::buffers_to_string(buffer.data()) == "echo:hi");
    buffer.consume(buffer.size());

    // The read fails (the server closed, possibly tearing the connection down before our
    // close reply); what matters is the close code the server sent.
    const auto close_code_after = [&](auto&& misuse) {
        misuse();
        boost::system::error_code ec;
        ws.read(buffer, ec);
        CHECK(ec);
        return ws.reason().code;
    };
    SECTION("binary message") {
        ws.binary(true);
        CHECK(close_code_after([&] { ws.write(boost::asio::buffer(std::string("\x01\x02"))); }) ==
              websocket::close_code::unknown_data);
    }
    SECTION("message over the size limit") {
        CHECK(close_code_after([&] { ws.write(boost::asio::buffer(std::string(2000, 'x'))); }) ==
              websocket::close_code::too_big);
    }
    SECTION("handler exception") {
        CHECK(close_code_after([&] { ws.write(boost::asio::buffer(std::string("throw"))); }) ==
              websocket::close_code::internal_error);
    }
}

TEST_CASE("accepting a WebSocket for a plain request is a 400") {
    running_server server;
    const auto res = answer(server.port(), get("/ws"));
    CHECK(res.result() == http::status::bad_request);
}

TEST_CASE("drain closes idle connections and WebSockets, then run() returns") {
    auto options = small_options();
    options.idle_timeout = 30s;  // only the drain may close them
    options.header_timeout = 30s;
    running_server server(options);
    const auto port = server.port();

    client idle(port);
    idle.send(get("/"));
    REQUIRE(idle.response());
    boost::asio::io_context io;
    auto ws = open_websocket(io, port);

    std::thread close_reader([&] {
        boost::beast::flat_buffer buffer;
        boost::system::error_code ec;
        ws.read(buffer, ec);
        CHECK(ec == websocket::error::closed);
        CHECK(ws.reason().code == websocket::close_code::going_away);
    });
    const auto took = server.drain_and_wait();
    close_reader.join();
    CHECK(idle.closed_within(1s));
    CHECK(took < 1500ms);
    boost::system::error_code ec;
    tcp::socket late(io);
    late.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    CHECK(ec);  // no longer listening
}

TEST_CASE("drain gives up on stuck connections after drain_timeout") {
    auto options = small_options();
    options.header_timeout = 30s;
    options.drain_timeout = 300ms;
    running_server server(options);
    client stuck(server.port());
    stuck.send("GET / HTTP/1.1\r\nHost: loc");  // a request in progress is not cut short by drain
    while (server.get().connections() < 1) std::this_thread::sleep_for(5ms);
    const auto took = server.drain_and_wait();
    CHECK(took >= 250ms);
    CHECK(took < 2s);
}

TEST_CASE("the handler decides on the header: a refused request's body is never read") {
    running_server server;
    SECTION("a declared body is not waited for, and the connection closes") {
        client c(server.port());
        const auto sent = clock_type::now();
        c.send("POST /refuse HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n");
        const auto res = c.response();
        REQUIRE(res);
        CHECK(res->result() == http::status::forbidden);
        CHECK(clock_type::now() - sent < 250ms);  // not after io_timeout (300 ms) of waiting for a body
        CHECK_FALSE(res->keep_alive());
        CHECK(c.closed_within(3s));
    }
    SECTION("a client that expects 100-continue gets the refusal instead of the go-ahead") {
        client c(server.port());
        c.send("POST /refuse HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
        const auto res = c.response();
        REQUIRE(res);
        CHECK(res->result() == http::status::forbidden);
    }
    SECTION("a bodiless refusal keeps the connection") {
        client c(server.port());
        c.send(get("/refuse") + get("/after"));
        const auto first = c.response();
        const auto second = c.response();
        REQUIRE(first);
        REQUIRE(second);
        CHECK(first->result() == http::status::forbidden);
        CHECK(second->body() == "127.0.0.1 ");
    }
}

TEST_CASE("trailer fields are refused with 400 before on_body runs") {
    std::atomic<int> bodies{0};
    running_server server(small_options(), [&](const tb::incoming& request) -> tb::reply {
        if (request.header().count("X-Forwarded-User") > 0) return tb::make_response(request, http::status::ok, "believed");
        return tb::read_body{[&](const tb::incoming& r, std::string body) {
            ++bodies;
            return tb::make_response(r, http::status::ok, r.header().count("X-Forwarded-User") ? "trailer seen" : body);
        }};
    });
    const auto chunked = "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n";
    const auto with_trailer = answer(server.port(), std::string(chunked) + "X-Forwarded-User: mallory\r\n\r\n");
    CHECK(with_trailer.result() == http::status::bad_request);
    CHECK_FALSE(with_trailer.keep_alive());
    CHECK(bodies == 0);
    const auto without = answer(server.port(), std::string(chunked) + "\r\n");
    CHECK(without.result() == http::status::ok);
    CHECK(without.body() == "hi");
}

TEST_CASE("a request's identity storage is its connection's, kept while on_body waits for the body") {
    // What a signed assertion's identity lives in (trustgate/request.hpp): another
    // connection's request, decided meanwhile on the same thread, must not overwrite it.
    auto options = small_options();
    options.threads = 1;
    running_server server(std::move(options), [&](const tb::incoming& request) -> tb::reply {
        const auto storage = request.identity_storage();
        const auto who = request.header()["X-Who"];
        if (storage.size() < trustgate::max_identity_bytes || who.size() > storage.size())
            return tb::make_response(request, http::status::internal_server_error, "no identity storage");
        std::copy(who.begin(), who.end(), storage.data());
        const std::string_view identity(storage.data(), who.size());
        if (request.method() == http::verb::get) return tb::make_response(request, http::status::ok, std::string(identity));
        return tb::read_body{[identity](const tb::incoming& r, std::string) {
            return tb::make_response(r, http::status::ok, std::string(identity));
        }};
    });
    client slow(server.port());
    slow.send("POST / HTTP/1.1\r\nHost: localhost\r\nX-Who: alice\r\nContent-Length: 2\r\n\r\n");
    std::this_thread::sleep_for(50ms);  // alice's handler has run; her body is not there yet
    CHECK(answer(server.port(), get("/", "X-Who: mallory\r\n")).body() == "mallory");
    slow.send("hi");
    const auto res = slow.response();
    REQUIRE(res);
    CHECK(res->body() == "alice");
}

TEST_CASE("the first request header is due header_timeout after accept, however slowly it trickles") {
    running_server server;  // header_timeout 300 ms
    client c(server.port());
    const auto connected = clock_type::now();
    std::this_thread::sleep_for(200ms);
    const std::string drip = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    std::optional<clock_type::time_point> closed;
    for (const char ch : drip) {
        try {
            c.send(std::string_view(&ch, 1));
        } catch (const boost::system::system_error&) {
            break;
        }
        if (c.closed_within(40ms)) {
            closed = clock_type::now();
            break;
        }
    }
    REQUIRE(closed);
    CHECK(*closed - connected < 450ms);  // one deadline from accept, not a new one at the first byte
}

TEST_CASE("one peer address holds at most max_connections_per_peer connections") {
    auto options = small_options();
    options.max_connections = 10;
    options.max_connections_per_peer = 2;
    options.header_timeout = 5s;
    running_server server(options);
    client first(server.port(), "127.0.0.1", "127.0.0.2");
    client second(server.port(), "127.0.0.1", "127.0.0.2");
    while (server.get().connections() < 2) std::this_thread::sleep_for(5ms);
    client third(server.port(), "127.0.0.1", "127.0.0.2");
    const auto refused = third.response();
    REQUIRE(refused);
    CHECK(refused->result() == http::status::service_unavailable);
    CHECK(answer(server.port(), get("/")).result() == http::status::ok);  // 127.0.0.1 has its own places
}

TEST_CASE("the over-capacity 503 is decorated like every other response") {
    auto options = small_options();
    options.max_connections = 1;
    options.header_timeout = 5s;
    options.decorate = [](http::response_header<>& h) { h.set(http::field::strict_transport_security, "max-age=60"); };
    running_server server(options);
    client holder(server.port());
    while (server.get().connections() < 1) std::this_thread::sleep_for(5ms);
    client refused(server.port());
    const auto res = refused.response();
    REQUIRE(res);
    CHECK(res->result() == http::status::service_unavailable);
    CHECK(res->at(http::field::strict_transport_security) == "max-age=60");
}

namespace {

// A masked client text frame (mask 0, so the payload goes as it is).
std::string text_frame(std::string_view payload) {
    std::string f{char(0x81), char(0x80 | payload.size()), 0, 0, 0, 0};
    return f + std::string(payload);
}

std::string upgrade_request(std::string_view extra = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n") {
    return "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Version: 13\r\n" + std::string(extra) + "\r\n";
}

}  // namespace

// behaviour §1 local process proof, as the server finds it at accept.
namespace {

// Answers with what the server handed in: "<peer> <local_socket> <proof>".
tb::reply proof_echo(const tb::incoming& request) {
    if (request.path() == "/ws") return tb::websocket_accept{[](std::string_view text) { return "echo:" + std::string(text); }};
    const auto p = request.local_proof();
    const std::string proof = p.found() ? "uid " + std::to_string(p.uid)
                              : p.result == trustgate::local_proof::outcome::failed ? "failed"
                                                                                    : "none";
    return tb::make_response(request, http::status::ok,
                             request.peer().to_string() + " " + (request.local_socket() ? "unix" : "tcp") + " " + proof,
                             "text/plain");
}

std::string own_uid() { return std::to_string(::geteuid()); }

// One GET from a child process running as `uid` (root only), over raw sockets: the body.
std::string get_as(uid_t uid, std::uint16_t port) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(out[0]);
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(2);
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(0x7f000001);
        if (::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) ::_exit(3);
        const std::string_view request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        if (::write(s, request.data(), request.size()) != ssize_t(request.size())) ::_exit(4);
        char buffer[4096];
        for (ssize_t n; (n = ::read(s, buffer, sizeof buffer)) > 0;)
            if (::write(out[1], buffer, size_t(n)) != n) ::_exit(5);
        ::_exit(0);
    }
    ::close(out[1]);
    std::string response;
    char buffer[4096];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) response.append(buffer, size_t(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return response.substr(response.find("\r\n\r\n") + 4);
}

std::string temporary_socket_path() {
    return (std::filesystem::temp_directory_path() / ("trustgate-test-" + std::to_string(::getpid()) + ".sock")).string();
}

// One request on the Unix socket at `path`: the body.
std::string get_local(const std::string& path) {
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket socket(io);
    socket.connect(boost::asio::local::stream_protocol::endpoint(path));
    const auto request = get("/");
    boost::asio::write(socket, boost::asio::buffer(request));
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res.body();
}

}  // namespace

TEST_CASE("frames sent in the same read as the upgrade request are answered") {
    running_server server;
    client c(server.port());
    c.send(upgrade_request() + text_frame("early"));
    // Read raw: the answer frame may come in the same segment as the 101.
    std::string got;
    char buffer[512];
    const auto complete = [&] {
        const auto end = got.find("\r\n\r\n");
        return end != std::string::npos && got.size() >= end + 4 + 2 + 10;
    };
    while (!complete()) {
        const auto n = ::recv(c.native_handle(), buffer, sizeof buffer, 0);
        REQUIRE(n > 0);
        got.append(buffer, std::size_t(n));
    }
    CHECK(got.starts_with("HTTP/1.1 101"));
    CHECK(got.substr(got.find("\r\n\r\n") + 4 + 2) == "echo:early");
}

TEST_CASE("recheck_websockets re-decides open WebSockets; on_handshake reports the status sent") {
    std::atomic<bool> revoked{false};
    std::atomic<int> rechecks{0};
    std::vector<unsigned> statuses;
    std::mutex statuses_mutex;
    running_server server(small_options(), [&](const tb::incoming&) -> tb::reply {
        return tb::websocket_accept{[](std::string_view text) { return std::string(text); },
                                    [&](const tb::incoming& upgrade) -> std::optional<std::string> {
                                        ++rechecks;
                                        CHECK(upgrade.path() == "/ws");  // the upgrade request, kept
                                        if (revoked) return std::string("token_mismatch");
                                        return std::nullopt;
                                    },
                                    [&](unsigned status) {
                                        std::lock_guard lock(statuses_mutex);
                                        statuses.push_back(status);
                                    }};
    });
    boost::asio::io_context io;
    auto ws = open_websocket(io, server.port());
    boost::beast::flat_buffer buffer;
    server.get().recheck_websockets();  // kept
    while (rechecks < 1) std::this_thread::sleep_for(5ms);
    ws.write(boost::asio::buffer(std::string("still")));
    ws.read(buffer);
    CHECK(boost::beast::buffers_to_string(buffer.data()) == "still");

    revoked = true;
    server.get().recheck_websockets();
    boost::system::error_code ec;
    ws.read(buffer, ec);
    CHECK(ec == websocket::error::closed);
    CHECK(ws.reason().code == websocket::close_code::policy_error);
    CHECK(std::string(ws.reason().reason.data(), ws.reason().reason.size()) == "token_mismatch");

    // A malformed upgrade (no Sec-WebSocket-Key) is refused by Beast: its status is reported.
    client bad(server.port());
    bad.send(upgrade_request(""));
    const auto res = bad.response();
    REQUIRE(res);
    CHECK(res->result() == http::status::bad_request);
    const auto deadline = clock_type::now() + 2s;
    while (clock_type::now() < deadline) {
        std::lock_guard lock(statuses_mutex);
        if (statuses.size() == 2) break;
    }
    std::lock_guard lock(statuses_mutex);
    CHECK(statuses == std::vector<unsigned>{101, 400});
}

TEST_CASE("a pipelined request gets its own header deadline") {
    running_server server(small_options(), [](const tb::incoming& request) -> tb::reply {
        if (request.path() == "/slow") std::this_thread::sleep_for(400ms);  // past header_timeout from accept
        return tb::make_response(request, http::status::ok, std::string(request.path()), "text/plain");
    });
    client c(server.port());
    c.send(get("/slow") + get("/after"));
    const auto first = c.response();
    const auto second = c.response();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(second->body() == "/after");
}

TEST_CASE("a loopback connection carries the user owning the client's socket; a remote one nothing") {
    auto options = small_options();
    options.bind = *trustgate::net::address::parse("::");
    std::optional<running_server> server;
    try {
        server.emplace(options, proof_echo);
    } catch (const boost::system::system_error&) {
        options.bind = *trustgate::net::address::parse("127.0.0.1");
        server.emplace(options, proof_echo);
    }
    // IPv4 (on a dual-stack listener: ::ffff:127.0.0.1), and IPv6 when there is one.
    CHECK(answer(server->port(), get("/")).body() == "127.0.0.1 tcp uid " + own_uid());
    if (options.bind.to_string() == "::") {
        client v6(server->port(), "::1");
        v6.send(get("/"));
        CHECK(v6.response()->body() == "::1 tcp uid " + own_uid());
    }
    // Looked up once, at accept: every request of the connection carries it.
    client kept(server->port());
    kept.send(get("/") + get("/"));
    CHECK(kept.response()->body() == "127.0.0.1 tcp uid " + own_uid());
    CHECK(kept.response()->body() == "127.0.0.1 tcp uid " + own_uid());
    if (::geteuid() == 0) CHECK(get_as(65534, server->port()) == "127.0.0.1 tcp uid 65534");
    else WARN("not root: the lookup of another user's socket is not checked");
}

TEST_CASE("the local socket: mode 0660, SO_PEERCRED, peer 127.0.0.1, stale file replaced, removed at the end") {
    const auto path = temporary_socket_path();
    std::filesystem::remove(path);
    auto options = small_options();
    options.local_socket = path;
    {
        // A socket file nobody listens on (a crashed server's) is stale: it is replaced.
        boost::asio::io_context io;
        boost::asio::local::stream_protocol::acceptor stale(io, boost::asio::local::stream_protocol::endpoint(path));
    }
    REQUIRE(std::filesystem::is_socket(path));
    {
        running_server server(options, proof_echo);
        struct stat st{};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0660);
        CHECK(get_local(path) == "127.0.0.1 unix uid " + own_uid());
        CHECK(answer(server.port(), get("/")).body() == "127.0.0.1 tcp uid " + own_uid());

        // A WebSocket works over it too.
        boost::asio::io_context io;
        websocket::stream<boost::asio::local::stream_protocol::socket> ws(io);
        ws.next_layer().connect(boost::asio::local::stream_protocol::endpoint(path));
        ws.handshake("localhost", "/ws");
        ws.write(boost::asio::buffer(std::string("hi")));
        boost::beast::flat_buffer buffer;
        ws.read(buffer);
        CHECK(boost::beast::buffers_to_string(buffer.data()) == "echo:hi");
        ws.close(websocket::close_code::normal);

        // Live: a second server on the same path is refused.
        CHECK_THROWS_AS(tb::server(options, proof_echo), boost::system::system_error);
        CHECK(get_local(path) == "127.0.0.1 unix uid " + own_uid());
    }
    CHECK_FALSE(std::filesystem::exists(path));

    // Any other file at the path is never replaced.
    { std::ofstream(path) << "not a socket"; }
    CHECK_THROWS_AS(tb::server(options, proof_echo), boost::system::system_error);
    CHECK(std::filesystem::is_regular_file(path));
    std::filesystem::remove(path);
}
