// Fuzz target: the WebSocket frame path, from the bytes after an upgrade request to the
// example gateway's answer.
//
// As the Beast adapter does (http_session.hpp, websocket_session.hpp), the upgrade
// request is parsed from a read buffer; whatever followed it in that read goes ahead of
// the connection through `upgraded_stream`; the WebSocket is accepted with the parsed
// request and its messages are read within a size limit. Each text message goes to
// trustgate-gateway's frame handler (examples/gateway/service.hpp) for a caller granted
// `operator.read`. Checks:
// - every message Beast delivers is within the limit, and text is valid UTF-8 (by the
//   audit log's escaping, which leaves valid UTF-8 alone but for doubling `\`);
// - every answer is a JSON object with `id` and a boolean `ok`;
// - `ok: true` only for a frame that a reader keeping the first of a repeated key and one
//   keeping the last agree on: exactly one `method` key, naming a method operator.read
//   allows (so `{"method":"config.set","method":"health"}` can never pass).
//
// Input: byte 0: how many of the frame bytes arrive in the same read as the upgrade
// request (bits 0-5, in units of 4 bytes) and the read size of the connection after it
// (bits 6-7: 1, 7, 64 or 4096 bytes); the rest is what the client sends as frames.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <trustgate/beast/impl/websocket_session.hpp>
#include <trustgate/presets.hpp>

#include "fuzz_check.hpp"
#include "service.hpp"

namespace {

namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

constexpr std::size_t max_message = 4096;
constexpr std::size_t read_sizes[] = {1, 7, 64, 4096};

constexpr std::string_view upgrade =
    "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// A local tool on the embedded default configuration: operator@localhost, operator.read.
struct caller {
    std::FILE* null_log = std::fopen("/dev/null", "w");
    trustgate::runtime::audit_log audit{null_log};
    std::shared_ptr<const trustgate::runtime::compiled_config> config =
        trustgate::runtime::compile(trustgate::runtime::parse_config(trustgate::runtime::default_config_text, "<default>"));
    std::shared_ptr<trustgate_gateway::detail::websocket_state> state = [this] {
        const auto& gateway = std::get<trustgate::trusted_proxy_gateway>(config->gateway);
        // A CLI on this host: loopback, and the kernel names the gateway's own user.
        trustgate::basic_request local(*trustgate::net::address::parse("127.0.0.1"));
        local.set_local_proof(trustgate::local_proof::of(::geteuid()));
        const auto d = gateway.authenticate(local);
        const auto& scopes = gateway.get<trustgate::scopes<>>();
        return std::make_shared<trustgate_gateway::detail::websocket_state>(
            trustgate_gateway::detail::websocket_state{config, &scopes, d.owned(), scopes.granted(d, local)});
    }();
    trustgate::metrics metrics;
    trustgate_gateway::detail::frame_handler answer{state, {"127.0.0.1", {}}, audit, metrics};
};

// Counts the `method` keys of the top-level object, independently of the handler's parser.
struct method_keys : nlohmann::json_sax<nlohmann::json> {
    int depth = 0;
    int count = 0;
    bool expect_method = false;
    std::string method;
    bool null() override { return value(""); }
    bool boolean(bool) override { return value(""); }
    bool number_integer(number_integer_t) override { return value(""); }
    bool number_unsigned(number_unsigned_t) override { return value(""); }
    bool number_float(number_float_t, const string_t&) override { return value(""); }
    bool string(string_t& s) override { return value(s); }
    bool binary(binary_t&) override { return value(""); }
    bool start_object(std::size_t) override { return open(); }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override {
        expect_method = depth == 1 && k == "method";
        count += expect_method;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    bool open() {
        expect_method = false;
        ++depth;
        return true;
    }
    bool close() {
        --depth;
        return true;
    }
    bool value(const std::string& v) {
        if (expect_method) method = v;
        expect_method = false;
        return true;
    }
};

void check_answer(const std::string& text, const std::string& reply) {
    const auto parsed = nlohmann::json::parse(reply, nullptr, false);
    check(parsed.is_object() && parsed.contains("id") && parsed.contains("ok") && parsed["ok"].is_boolean(),
          [&] { return "answer is not {id, ok, ...}: " + quoted(reply); });
    if (!parsed["ok"].get<bool>()) return;
    method_keys keys;
    const bool parses = nlohmann::json::sax_parse(text, &keys);
    check(parses && keys.count == 1 && (keys.method == "health" || keys.method == "status" || keys.method == "config.get"),
          [&] { return "frame allowed for operator.read: " + quoted(text) + "\nanswer: " + quoted(reply); });
}

// log_text changes only backslashes (doubled) in valid UTF-8.
bool is_valid_utf8(std::string_view s) {
    std::string doubled;
    for (const char c : s) {
        doubled += c;
        if (c == '\\') doubled += c;
    }
    return trustgate::runtime::log_text(s) == doubled;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static caller who;
    if (size < 1) return 0;
    const std::string_view frames(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t early = std::min<std::size_t>(frames.size(), std::size_t(data[0] & 0x3f) * 4);

    boost::asio::io_context io;
    boost::beast::test::stream connection(io), client(io);
    connection.connect(client);
    connection.read_size(read_sizes[data[0] >> 6]);
    client.write_some(boost::asio::buffer(frames.data() + early, frames.size() - early));
    client.close();

    // What the HTTP session read: the upgrade request and the first frame bytes with it.
    boost::beast::flat_buffer read;
    const auto bytes = std::string(upgrade) + std::string(frames.substr(0, early));
    read.commit(boost::asio::buffer_copy(read.prepare(bytes.size()), boost::asio::buffer(bytes)));
    trustgate::beast::request_parser<http::empty_body> parser;
    boost::beast::error_code ec;
    read.consume(parser.put(read.data(), ec));
    check(!ec && parser.is_done(), [&] { return "the upgrade request did not parse: " + ec.message(); });

    websocket::stream<trustgate::beast::detail::upgraded_stream<boost::beast::test::stream>> ws(std::move(connection), read);
    ws.read_message_max(max_message);
    ws.accept(parser.get(), ec);
    check(!ec, [&] { return "accept failed: " + ec.message(); });
    boost::beast::flat_buffer message;
    while (true) {
        ws.read(message, ec);
        if (ec) break;
        const auto text = boost::beast::buffers_to_string(message.data());
        message.consume(message.size());
        check(text.size() <= max_message, [&] { return "message over the limit delivered: " + std::to_string(text.size()); });
        if (!ws.got_text()) continue;
        check(is_valid_utf8(text), [&] { return "invalid UTF-8 delivered as text: " + quoted(text); });
        const auto reply = who.answer(text);
        check_answer(text, reply);
        ws.text(true);
        ws.write(boost::asio::buffer(reply), ec);
        if (ec) break;
    }
    return 0;
}
