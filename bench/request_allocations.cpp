// Heap allocations per request through trustgate::beast::server in steady state (issue 18).
//
//   trustgate_request_allocations [--requests N] [--max M]
//
// One keep-alive client sends N requests shaped like a same-host proxy's (peer 127.0.0.1,
// X-Forwarded-User, X-Forwarded-For) to a one-thread server whose handler decides each
// with trusted_proxy_gateway and answers a small JSON body. The handler notes the server
// thread's allocation count on every request; the difference between two consecutive
// requests is everything that thread allocated for one request: reading and parsing it,
// deciding, answering, writing, re-arming the timers. Prints the median and the largest
// difference over the last three quarters of the requests and exits 1 when the median
// is above --max (default: the figure this file's commit measured, so a regression fails).
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <trustgate/beast/server.hpp>
#include <trustgate/presets.hpp>

#include "support/counting_new.hpp"

namespace {

constexpr std::size_t max_requests = 100'000;

// The server thread's allocation count as each request reached the handler.
std::array<std::size_t, max_requests> seen{};
std::atomic<std::size_t> handled{0};

trustgate::trusted_proxy_gateway make_gateway() {
    trustgate::auth_config config;
    config.trusted_proxies = {"127.0.0.1"};
    config.trusted_proxy.allow_loopback = true;
    config.trusted_proxy.allow_users = {"alice@example.com", "bob@example.com"};
    return trustgate::trusted_proxy_gateway::from_config(config);
}

// Sends `request` and reads one response with a Content-Length body; false on any error.
bool exchange(int fd, std::string_view request, std::string& buffer) {
    for (std::size_t sent = 0; sent < request.size();) {
        const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    buffer.clear();
    std::size_t header_end = std::string::npos, length = 0;
    char chunk[4096];
    while (header_end == std::string::npos || buffer.size() < header_end + 4 + length) {
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buffer.append(chunk, static_cast<std::size_t>(n));
        if (header_end != std::string::npos) continue;
        header_end = buffer.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        if (!buffer.starts_with("HTTP/1.1 200")) return false;
        const auto at = buffer.find("Content-Length: ");
        if (at == std::string::npos || at > header_end) return false;
        const char* digits = buffer.data() + at + 16;
        std::from_chars(digits, buffer.data() + header_end, length);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t requests = 4000;
    // Measured at this commit: exactly 3 on every run, all three the handler's own response
    // (its body string, Content-Type and Content-Length); the adapter allocates none.
    std::size_t max_median = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string_view value = argv[i + 1];
        auto& target = flag == "--requests" ? requests : max_median;
        if ((flag != "--requests" && flag != "--max") ||
            std::from_chars(value.data(), value.data() + value.size(), target).ec != std::errc{}) {
            std::fprintf(stderr, "usage: %s [--requests N] [--max M]\n", argv[0]);
            return 2;
        }
    }
    requests = std::clamp<std::size_t>(requests, 100, max_requests);

    const auto gateway = make_gateway();
    trustgate::beast::server_options options;
    options.port = 0;
    options.threads = 1;
    options.handle_signals = false;
    trustgate::beast::server server(options, [&](const trustgate::beast::incoming& request) -> trustgate::beast::reply {
        const auto i = handled.fetch_add(1, std::memory_order_relaxed);
        if (i < seen.size()) seen[i] = trustgate_test::allocations_on_this_thread;
        const auto d = gateway.authenticate(request);
        if (!d.allowed) return trustgate::beast::make_response(request, trustgate::beast::http::status::unauthorized, "{}");
        return trustgate::beast::make_response(request, trustgate::beast::http::status::ok,
                                               R"({"user":"alice@example.com","via":"trusted-proxy"})");
    });
    const auto port = server.local_endpoint().port();
    std::thread serving([&] { server.run(); });

    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0;
    const std::string request =
        "GET /whoami HTTP/1.1\r\nHost: gateway.example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n"
        "X-Forwarded-For: 203.0.113.50\r\nX-Forwarded-Proto: https\r\nX-Forwarded-User: alice@example.com\r\n\r\n";
    std::string buffer;
    buffer.reserve(8192);
    for (std::size_t i = 0; ok && i < requests; ++i) ok = exchange(fd, request, buffer);
    ::close(fd);
    server.drain();
    serving.join();
    if (!ok || handled.load() != requests) {
        std::fprintf(stderr, "request_allocations: %zu of %zu requests answered 200\n", handled.load(), requests);
        return 1;
    }

    std::vector<std::size_t> per_request;
    for (std::size_t i = requests / 4; i + 1 < requests; ++i) per_request.push_back(seen[i + 1] - seen[i]);
    std::sort(per_request.begin(), per_request.end());
    const auto median = per_request[per_request.size() / 2];
    std::printf("heap allocations per request, server thread, steady state: median %zu, max %zu over %zu requests "
                "(issue 18 target: <= 4; this check fails above %zu)\n",
                median, per_request.back(), per_request.size(), max_median);
    return median <= max_median ? 0 : 1;
}
