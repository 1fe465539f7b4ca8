// Test-only: Debian's redis-server on a free loopback port, in a temporary directory,
// started and stopped by its pid (the Redis store's tests and its benchmark).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trustgate/redis/store.hpp>

namespace trustgate_test {

inline sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// A port nothing listens on now: the kernel's pick for a socket bound to port 0.
inline std::uint16_t free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    auto a = loopback(0);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(s);
    return ntohs(a.sin_port);
}

inline bool accepts(std::uint16_t port) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    const auto a = loopback(port);
    const bool ok = ::connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

// redis-server --port N --bind 127.0.0.1 --save '' --appendonly no --dir TMP, by pid.
class redis_server {
public:
    redis_server() : port_(free_port()) {
        char pattern[] = "/tmp/trustgate-redis-XXXXXX";
        dir_ = ::mkdtemp(pattern);
    }
    ~redis_server() {
        stop();
        std::filesystem::remove_all(dir_);
    }
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    // Starts it and waits up to 2 s for it to accept; false if it did not.
    bool start() {
        const auto port = std::to_string(port_);
        const auto log = dir_ + "/redis.log";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", log.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 200 && !accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return accepts(port_);
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGCONT);
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    void pause() { ::kill(pid_, SIGSTOP); }
    void resume() { ::kill(pid_, SIGCONT); }

    // A command on a connection of its own (the test's view of the server).
    std::string run(std::initializer_list<const char*> args) const {
        redisContext* c = redisConnect("127.0.0.1", port_);
        std::vector<const char*> argv(args);
        auto* reply = static_cast<redisReply*>(redisCommandArgv(c, int(argv.size()), argv.data(), nullptr));
        std::string out = reply != nullptr && reply->str != nullptr ? std::string(reply->str, reply->len) : "";
        if (reply != nullptr) freeReplyObject(reply);
        redisFree(c);
        return out;
    }

    trustgate::redis::store_options options(std::string prefix = "trustgate:") const {
        trustgate::redis::store_options o;
        o.port = port_;
        o.key_prefix = std::move(prefix);
        return o;
    }

private:
    std::uint16_t port_;
    std::string dir_;
    pid_t pid_ = -1;
};

}  // namespace trustgate_test
