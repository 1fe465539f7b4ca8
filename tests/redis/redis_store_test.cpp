// trustgate::redis::store against Debian's redis-server, started by each test on a free
// loopback port in a temporary directory and stopped by its pid (behaviour §12):
//  - behaviour §6's failed-attempts model as an rc::state machine run against N stores that
//    share one server, each attempt on any of them (behaviour §8 invariant 12);
//  - a lockout answered from the cache, a lost script reloaded, a paused server answered
//    within the timeout (deny and local), a start while the server is down;
//  - attempt() allocates nothing on the calling thread.
#include <support/catch.hpp>

#include <rapidcheck/state.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trustgate/model/reference_model.hpp>
#include <trustgate/redis/store.hpp>
#include <trustgate/testing/checks.hpp>
#include <trustgate/trustgate.hpp>

#include "support/counting_new.hpp"
#include "support/property_suite.hpp"

using namespace trustgate;
using std::chrono::milliseconds;
using trustgate_tests::require_passed;
using trustgate_tests::suite_options;

namespace {

std::uint16_t free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(s);
    return ntohs(a.sin_port);
}

bool accepts(std::uint16_t port) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

// redis-server --port N --bind 127.0.0.1 --save '' --appendonly no --dir TMP, by pid.
class redis_server {
public:
    redis_server() : port_(free_port()) {
        char pattern[] = "/tmp/trustgate-redis-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        start();
    }
    ~redis_server() {
        stop();
        std::filesystem::remove_all(dir_);
    }

    void start() {
        const auto port = std::to_string(port_);
        const auto log = dir_ + "/redis.log";
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", log.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 200 && !accepts(port_); ++i) std::this_thread::sleep_for(milliseconds(10));
        REQUIRE(accepts(port_));
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
    std::string run(std::initializer_list<const char*> args) {
        redisContext* c = redisConnect("127.0.0.1", port_);
        std::vector<const char*> argv(args);
        auto* reply = static_cast<redisReply*>(redisCommandArgv(c, int(argv.size()), argv.data(), nullptr));
        std::string out = reply != nullptr && reply->str != nullptr ? std::string(reply->str, reply->len) : "";
        if (reply != nullptr) freeReplyObject(reply);
        redisFree(c);
        return out;
    }

    redis::store_options options(std::string prefix = "trustgate:") const {
        redis::store_options o;
        o.port = port_;
        o.key_prefix = std::move(prefix);
        return o;
    }

private:
    std::uint16_t port_;
    std::string dir_;
    pid_t pid_ = -1;
};

net::address ip(const char* text) { return *net::address::parse(text); }

// Waits until `s` answers from Redis (its connection thread connects by itself).
void wait_until_connected(redis::store& s, const net::address& probe) {
    for (int i = 0; i < 300; ++i) {
        if (s.attempt(probe, true).what != attempt_verdict::status::unavailable) return;
        std::this_thread::sleep_for(milliseconds(10));
    }
    FAIL("the store did not connect within 3 s");
}

// --- behaviour §6's model against N stores sharing one server -----------------------------

struct shared_model {
    model::failed_attempts attempts;
    rate_limit_config config;
    milliseconds now{1'000'000};
    std::size_t instances = 1;
};

struct shared_stores {
    milliseconds now{1'000'000};
    std::vector<std::unique_ptr<redis::store>> instances;
};

using shared_command = rc::state::Command<shared_model, shared_stores>;

// IPv4, IPv6 inside one /64 and in a neighbour (the key is the network), loopback.
net::address some_key() {
    return ip(testing::detail::one_of<std::string>({"10.0.0.1", "10.0.0.2", "2001:db8::7", "2001:db8::8", "2001:db8:0:1::7",
                                                    "127.0.0.1"}).c_str());
}

std::string lock_state(const attempt_verdict& v) {
    switch (v.what) {
        case attempt_verdict::status::locked: return "locked for " + std::to_string(v.retry_after.count()) + "s";
        case attempt_verdict::status::unavailable: return "store unavailable";
        case attempt_verdict::status::open: break;
    }
    return "open";
}

std::string lock_state(const std::optional<std::chrono::seconds>& left) {
    return left ? "locked for " + std::to_string(left->count()) + "s" : "open";
}

struct advance_clock : shared_command {
    milliseconds by;
    explicit advance_clock(const shared_model& m)
        : by(testing::detail::one_of<milliseconds>({milliseconds(1), milliseconds(999), m.config.window - milliseconds(1),
                                                    m.config.window, m.config.lockout - milliseconds(1), m.config.lockout,
                                                    milliseconds(*rc::gen::resize(100, rc::gen::inRange(0, 400'000)))})) {}
    void apply(shared_model& m) const override { m.now += by; }
    void run(const shared_model&, shared_stores& s) const override { s.now += by; }
    void show(std::ostream& os) const override { os << "advance " << by.count() << "ms"; }
};

// One token attempt on one of the instances: what token_auth asks of its store.
struct attempt_on : shared_command {
    std::size_t instance;
    net::address key = some_key();
    bool matched = *rc::gen::element(false, false, false, true);
    explicit attempt_on(const shared_model& m) : instance(*rc::gen::inRange<std::size_t>(0, m.instances)) {}

    void apply(shared_model& m) const override {
        if (m.attempts.locked(key, m.now)) return;
        if (matched) m.attempts.success(key);
        else m.attempts.failure(key, m.now);
    }
    void run(const shared_model& m, shared_stores& s) const override {
        const auto got = s.instances[instance]->attempt(key, matched);
        const auto expected = m.attempts.locked(key, m.now);
        if (m.config.global_max_attempts == 0 || !expected || got.what != attempt_verdict::status::locked) {
            RC_ASSERT(lock_state(got) == lock_state(expected));
            return;
        }
        // A client lockout this instance has cached is answered without asking Redis, so a
        // longer global lockout another instance started meanwhile can make the seconds
        // left smaller than they are: never a lock that is not there, never a longer one.
        RC_ASSERT(got.retry_after <= *expected);
        RC_ASSERT(got.retry_after > std::chrono::seconds(0));
    }
    void show(std::ostream& os) const override {
        os << (matched ? "match " : "failure ") << key.to_string() << " on instance " << instance;
    }
};

}  // namespace

TEST_CASE("N stores sharing one redis-server lock a client out as behaviour §6's model does", "[redis][stateful]") {
    redis_server server;
    std::atomic<unsigned> case_number{0};
    const testing::property shared{"behaviour §8.12: N instances sharing a store follow the one-instance model", [&] {
        rate_limit_config config;
        config.max_attempts = testing::detail::one_of<unsigned>({1, 2, 3, 5});
        // Redis expires keys on its own clock after the window or lockout; every case ends
        // well within a minute, so only the stores' test clock decides.
        config.window = milliseconds(testing::detail::one_of<int>({60'000, 120'000}));
        config.lockout = milliseconds(testing::detail::one_of<int>({60'000, 300'000}));
        config.exempt_loopback = testing::detail::chance(1, 2);
        config.ipv6_prefix_length = testing::detail::one_of<unsigned>({64, 128, 56});
        config.global_max_attempts = testing::detail::one_of<unsigned>({0, 0, 2, 3, 5});
        const auto instances = testing::detail::one_of<std::size_t>({1, 2, 3});
        RC_LOG() << "instances " << instances << ", max_attempts " << config.max_attempts << ", window "
                 << config.window.count() << "ms, lockout " << config.lockout.count() << "ms, exempt_loopback "
                 << config.exempt_loopback << ", ipv6_prefix_length " << config.ipv6_prefix_length
                 << ", global_max_attempts " << config.global_max_attempts << "\n";
        shared_stores sut;
        // A prefix of its own per case: no case sees another's keys.
        const auto prefix = "case" + std::to_string(++case_number) + ":";
        // The property is about counting, not timing: a loaded machine must not turn a slow
        // answer into store_unavailable (the fault cases below test the timeout).
        auto options = server.options(prefix);
        options.timeout = std::chrono::seconds(10);
        for (std::size_t i = 0; i < instances; ++i)
            sut.instances.push_back(std::make_unique<redis::store>(config, options, nullptr, nullptr, [&sut] { return sut.now; }));
        for (auto& s : sut.instances) wait_until_connected(*s, ip("192.0.2.1"));
        rc::state::check(shared_model{model::failed_attempts(config), config, milliseconds(1'000'000), instances}, sut,
                         rc::state::gen::execOneOfWithArgs<advance_clock, attempt_on>());
    }};
    require_passed(testing::run_properties({shared}, suite_options(300)));
}

TEST_CASE("a lockout seen once is answered without Redis; a lost script is loaded again", "[redis]") {
    redis_server server;
    rate_limit_config config;
    config.max_attempts = 2;
    redis::store a(config, server.options(), nullptr, nullptr);
    redis::store b(config, server.options(), nullptr, nullptr);
    wait_until_connected(a, ip("192.0.2.1"));
    wait_until_connected(b, ip("192.0.2.1"));
    const auto errors = a.errors();  // the attempts made while connecting
    const auto client = ip("203.0.113.5");
    CHECK(a.attempt(client, false).what == attempt_verdict::status::open);
    CHECK(b.attempt(client, false).what == attempt_verdict::status::open);  // the second failure locks
    CHECK(!server.run({"GET", "trustgate:lock:203.0.113.5"}).empty());
    CHECK(a.attempt(client, true).what == attempt_verdict::status::locked);  // learnt from Redis

    server.pause();
    const auto start = std::chrono::steady_clock::now();
    CHECK(a.attempt(client, true).what == attempt_verdict::status::locked);  // from the cache
    CHECK(b.attempt(client, true).what == attempt_verdict::status::locked);
    CHECK(std::chrono::steady_clock::now() - start < milliseconds(20));
    server.resume();

    server.run({"SCRIPT", "FLUSH"});
    const auto other = ip("203.0.113.6");
    CHECK(a.attempt(other, false).what == attempt_verdict::status::open);
    CHECK(b.attempt(other, false).what == attempt_verdict::status::open);
    CHECK(a.attempt(other, true).what == attempt_verdict::status::locked);
    CHECK(a.errors() == errors);
}

TEST_CASE("a paused server is given up on within the timeout; deny refuses, local counts in memory", "[redis]") {
    redis_server server;
    rate_limit_config config;
    config.max_attempts = 3;
    attempt_limiter local(config);
    auto options = server.options();
    options.timeout = milliseconds(30);
    redis::store deny(config, options, &local, nullptr);
    options.when_unavailable = redis::on_error::local;
    std::vector<std::string> lines;
    std::mutex lines_mutex;
    redis::store fallback(config, options, &local, [&](std::string_view line) {
        std::lock_guard lock(lines_mutex);
        lines.emplace_back(line);
    });
    wait_until_connected(deny, ip("192.0.2.1"));
    wait_until_connected(fallback, ip("192.0.2.1"));

    server.pause();
    const auto client = ip("198.51.100.7");
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        CHECK(deny.attempt(client, false).what == attempt_verdict::status::unavailable);
        CHECK(std::chrono::steady_clock::now() - start < milliseconds(30 + 200));
    }
    for (int i = 0; i < 3; ++i) CHECK(fallback.attempt(client, false).what == attempt_verdict::status::open);
    CHECK(fallback.attempt(client, true).what == attempt_verdict::status::locked);  // counted by `local`
    CHECK(local.locked(client).has_value());
    CHECK(deny.errors() >= 5);
    server.resume();
    wait_until_connected(deny, ip("192.0.2.1"));
    wait_until_connected(fallback, ip("192.0.2.1"));
    CHECK(deny.attempt(ip("198.51.100.8"), false).what == attempt_verdict::status::open);
    std::lock_guard lock(lines_mutex);
    REQUIRE(!lines.empty());
    for (const auto& line : lines) CHECK(line.find("redis store at 127.0.0.1:") == 0);
}

TEST_CASE("a store starts while Redis is down and shares counting once it is up", "[redis]") {
    redis_server server;
    server.stop();
    rate_limit_config config;
    redis::store s(config, server.options(), nullptr, nullptr);
    CHECK(s.attempt(ip("198.51.100.9"), false).what == attempt_verdict::status::unavailable);
    server.start();
    const auto start = std::chrono::steady_clock::now();
    wait_until_connected(s, ip("192.0.2.1"));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("attempt() allocates nothing on the calling thread", "[redis]") {
    redis_server server;
    rate_limit_config config;
    config.max_attempts = 3;
    redis::store s(config, server.options(), nullptr, nullptr);
    wait_until_connected(s, ip("192.0.2.1"));
    const auto client = ip("2001:db8::42");
    const auto before = trustgate_test::allocations_on_this_thread;
    const auto first = s.attempt(client, false);
    s.attempt(client, false);
    s.attempt(client, false);
    const auto locked = s.attempt(client, false);  // from the cache
    const auto allocated = trustgate_test::allocations_on_this_thread - before;
    CHECK(first.what == attempt_verdict::status::open);
    CHECK(locked.what == attempt_verdict::status::locked);
    CHECK(allocated == 0);
}
