// Per-connection cost of the local process proof (behaviour §1): the NETLINK_SOCK_DIAG lookup
// of a loopback TCP peer and SO_PEERCRED on a Unix socket, next to what a connection
// costs anyway (connect + accept + close on loopback). A server looks up once, at accept.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include <trustgate/net/peer_credentials.hpp>

namespace {

// A listening loopback socket and its address.
struct listener {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    listener() {
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd, 128) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
            fd = -1;
    }
    ~listener() { ::close(fd); }

    // A connected pair: {client, accepted}.
    std::pair<int, int> connect() const {
        const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ::connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        return {client, ::accept(fd, nullptr, nullptr)};
    }
};

void tcp_connect_accept_close(benchmark::State& state) {
    const listener l;
    for (auto _ : state) {
        const auto [client, accepted] = l.connect();
        ::close(accepted);
        ::close(client);
    }
}

void tcp_loopback_lookup(benchmark::State& state) {
    const listener l;
    const auto [client, accepted] = l.connect();
    if (!trustgate::net::peer_owner(accepted).found()) state.SkipWithError("the lookup found nobody");
    for (auto _ : state) benchmark::DoNotOptimize(trustgate::net::peer_owner(accepted));
    ::close(accepted);
    ::close(client);
}

void unix_peercred(benchmark::State& state) {
    int pair[2];
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
    if (!trustgate::net::peer_owner(pair[1]).found()) state.SkipWithError("SO_PEERCRED named nobody");
    for (auto _ : state) benchmark::DoNotOptimize(trustgate::net::peer_owner(pair[1]));
    ::close(pair[0]);
    ::close(pair[1]);
}

}  // namespace

BENCHMARK(tcp_connect_accept_close);
BENCHMARK(tcp_loopback_lookup);
BENCHMARK(unix_peercred);
BENCHMARK_MAIN();
