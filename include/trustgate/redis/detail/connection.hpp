// The Redis connection and the thread that owns it (behaviour §12).
//
// An I/O thread puts a `call` (on its own stack: nothing is allocated) on an intrusive
// queue and waits at most `timeout` for the answer. The connection thread takes what is
// queued in one batch, pipelines one EVALSHA per call, and hands each answer back to the
// call if its caller is still waiting; a caller that gave up has unlinked its call first.
// While the store is known to be down (not connected, or a caller just timed out) calls
// fail at once instead of waiting, and the thread reconnects with backoff.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include "trustgate/redis/detail/script.hpp"

namespace trustgate::redis::detail {

// One attempt handed to the connection thread.
struct call {
    std::array<char, 48> client{};  // the client key's text
    std::size_t client_size = 0;
    bool matched = false;
    std::int64_t now_ms = -1;  // the time to count with; -1: the server's clock

    // The script's answer (script.hpp).
    std::int64_t status = 0;
    std::int64_t ms = 0;
    std::int64_t global_ms = 0;

    enum class state : std::uint8_t { queued, sent, answered, failed } where = state::queued;
    call* next = nullptr;
    call* prev = nullptr;
    std::size_t slot = 0;  // in the batch, once sent
    std::condition_variable answered;
};

struct endpoint {
    std::string host;
    std::uint16_t port = 6379;
    unsigned database = 0;
    std::optional<std::string> password;
    std::string key_prefix;
    std::chrono::milliseconds timeout{50};
};

struct limits {
    unsigned max_attempts = 10;
    std::chrono::milliseconds window{60'000};
    std::chrono::milliseconds lockout{300'000};
    unsigned global_max_attempts = 0;  // 0: off
};

class connection {
public:
    using log_function = std::function<void(std::string_view)>;

    // The slowest answer the connection thread waits for before it reconnects: a paused
    // server is given up on, callers never wait this long (they wait `timeout`).
    static constexpr std::chrono::milliseconds io_timeout{1'000};
    static constexpr std::chrono::milliseconds first_backoff{100};
    static constexpr std::chrono::milliseconds max_backoff{1'000};
    static constexpr std::chrono::seconds log_interval{1};
    // An idle connection is checked this often, so that a lost server is noticed (and
    // reconnected to) before an attempt needs it.
    static constexpr std::chrono::seconds idle_check{1};

    connection(endpoint where, limits counted, log_function log)
        : where_(std::move(where)), log_(std::move(log)), max_attempts_(std::to_string(counted.max_attempts)),
          window_(std::to_string(counted.window.count())), lockout_(std::to_string(counted.lockout.count())),
          global_max_attempts_(std::to_string(counted.global_max_attempts)),
          global_fail_key_(where_.key_prefix + "fail:*"), global_lock_key_(where_.key_prefix + "lock:*"),
          member_prefix_(std::to_string(std::random_device{}()) + std::to_string(std::random_device{}()) + ":"),
          thread_([this](std::stop_token stop) { run(stop); }) {}

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    ~connection() {
        thread_.request_stop();
        {
            std::lock_guard lock(mutex_);
            work_.notify_all();
        }
        thread_.join();
        if (context_ != nullptr) redisFree(context_);
    }

    // Runs `c` and returns true with its answer filled in, or false when the store is
    // down or did not answer within the timeout.
    bool execute(call& c) {
        if (!up_.load(std::memory_order_acquire)) {
            errors_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        const auto deadline = std::chrono::steady_clock::now() + where_.timeout;
        std::unique_lock lock(mutex_);
        c.where = call::state::queued;
        c.prev = tail_;
        c.next = nullptr;
        (tail_ != nullptr ? tail_->next : head_) = &c;
        tail_ = &c;
        work_.notify_one();
        while (c.where == call::state::queued || c.where == call::state::sent)
            if (c.answered.wait_until(lock, deadline) == std::cv_status::timeout) break;
        if (c.where == call::state::answered) return true;
        if (c.where == call::state::queued) unlink(c);
        else if (c.where == call::state::sent) batch_[c.slot] = nullptr;
        if (c.where != call::state::failed) {
            up_.store(false, std::memory_order_release);
            ++timeouts_;
        }
        errors_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

    // Attempts that got no answer, for a metric.
    std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }

private:
    static constexpr std::size_t batch_size = 64;

    void unlink(call& c) {
        (c.prev != nullptr ? c.prev->next : head_) = c.next;
        (c.next != nullptr ? c.next->prev : tail_) = c.prev;
    }

    void run(std::stop_token stop) {
        auto backoff = first_backoff;
        while (!stop.stop_requested()) {
            if (context_ == nullptr && !connect()) {
                std::unique_lock lock(mutex_);
                work_.wait_for(lock, stop, backoff, [] { return false; });
                backoff = std::min(backoff * 2, max_backoff);
                continue;
            }
            backoff = first_backoff;
            // Callers that gave up on calls still queued leave no late answer to report.
            bool gave_up = false;
            {
                std::lock_guard lock(mutex_);
                gave_up = timeouts_ > 0;
            }
            if (gave_up) report("no answer within the timeout");
            std::size_t taken = 0;
            {
                std::unique_lock lock(mutex_);
                const bool work = work_.wait_for(lock, stop, idle_check, [this] { return head_ != nullptr; });
                if (stop.stop_requested()) break;
                if (!work) {
                    lock.unlock();
                    if (command_ok({"PING"})) mark_up();
                    continue;
                }
                while (head_ != nullptr && taken < batch_size) {
                    call* c = head_;
                    unlink(*c);
                    c->where = call::state::sent;
                    c->slot = taken;
                    batch_[taken++] = c;
                    copy_in(*c, requests_[taken - 1]);
                }
            }
            const bool ok = send(taken);
            bool late = false;
            {
                std::lock_guard lock(mutex_);
                for (std::size_t i = 0; i < taken; ++i) {
                    call* c = batch_[i];
                    late = late || c == nullptr;
                    if (c == nullptr) continue;
                    c->where = ok && answers_[i].status >= 0 ? call::state::answered : call::state::failed;
                    c->status = answers_[i].status;
                    c->ms = answers_[i].ms;
                    c->global_ms = answers_[i].global_ms;
                    c->answered.notify_one();
                    batch_[i] = nullptr;
                }
            }
            if (!ok) continue;
            if (late) report("answered after the callers stopped waiting");
            mark_up();
        }
    }

    struct request {
        std::string fail_key, lock_key, now, member;
        bool matched = false;
    };
    struct answer {
        std::int64_t status = -1;
        std::int64_t ms = 0;
        std::int64_t global_ms = 0;
    };

    // Under the mutex: the call's arguments, copied out so that its caller may leave.
    void copy_in(const call& c, request& r) {
        const std::string_view client(c.client.data(), c.client_size);
        r.fail_key.assign(where_.key_prefix).append("fail:").append(client);
        r.lock_key.assign(where_.key_prefix).append("lock:").append(client);
        r.now = c.now_ms < 0 ? std::string() : std::to_string(c.now_ms);
        r.member = member_prefix_ + std::to_string(++sequence_);
        r.matched = c.matched;
    }

    void append(const request& r) {
        const char* argv[] = {"EVALSHA",          sha_.c_str(),         "4",
                              r.fail_key.c_str(), r.lock_key.c_str(),   global_fail_key_.c_str(),
                              global_lock_key_.c_str(), r.matched ? "1" : "0", max_attempts_.c_str(),
                              window_.c_str(),    lockout_.c_str(),     r.now.c_str(),
                              r.member.c_str(),   global_max_attempts_.c_str()};
        std::size_t sizes[std::size(argv)];
        for (std::size_t i = 0; i < std::size(argv); ++i) sizes[i] = std::char_traits<char>::length(argv[i]);
        redisAppendCommandArgv(context_, int(std::size(argv)), argv, sizes);
    }

    // Pipelines the batch; false when the connection broke (it is then closed).
    bool send(std::size_t taken) {
        std::array<bool, batch_size> again{};
        std::fill_n(answers_.begin(), taken, answer{});
        for (int round = 0; round < 2; ++round) {
            std::size_t sent = 0;
            for (std::size_t i = 0; i < taken; ++i)
                if (round == 0 || again[i]) append(requests_[i]), ++sent;
            if (sent == 0) return true;
            bool reload = false;
            for (std::size_t i = 0; i < taken; ++i) {
                if (round == 1 && !again[i]) continue;
                again[i] = false;
                void* raw = nullptr;
                if (redisGetReply(context_, &raw) != REDIS_OK) return broken(context_->errstr);
                redisReply* reply = static_cast<redisReply*>(raw);
                if (reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str, reply->len).starts_with("NOSCRIPT")) {
                    // The server lost its scripts (a restart that kept the connection's
                    // address, SCRIPT FLUSH, a failover): load it again and retry once.
                    again[i] = reload = round == 0;
                } else {
                    answers_[i] = parse(reply);
                    if (answers_[i].status < 0) report(reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                                                     : std::string("unexpected answer to EVALSHA"));
                }
                freeReplyObject(reply);
            }
            if (!reload) break;
            if (!load_script()) return false;
        }
        return true;
    }

    static answer parse(const redisReply* reply) {
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return {};
        for (std::size_t i = 0; i < 3; ++i)
            if (reply->element[i]->type != REDIS_REPLY_INTEGER || reply->element[i]->integer < 0) return {};
        if (reply->element[0]->integer > 2) return {};
        return {reply->element[0]->integer, reply->element[1]->integer, reply->element[2]->integer};
    }

    bool connect() {
        const timeval io = to_timeval(io_timeout);
        context_ = redisConnectWithTimeout(where_.host.c_str(), where_.port, io);
        if (context_ == nullptr) return broken("cannot allocate a connection");
        if (context_->err != 0) return broken(context_->errstr);
        redisSetTimeout(context_, io);
        if (where_.password && !command_ok({"AUTH", *where_.password})) return false;
        if (where_.database != 0 && !command_ok({"SELECT", std::to_string(where_.database)})) return false;
        if (!load_script()) return false;
        mark_up();
        return true;
    }

    bool load_script() {
        redisReply* reply = command({"SCRIPT", "LOAD", std::string(attempt_script)});
        if (reply == nullptr) return false;
        const bool ok = reply->type == REDIS_REPLY_STRING;
        if (ok) sha_.assign(reply->str, reply->len);
        else report(reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "unexpected answer to SCRIPT LOAD");
        freeReplyObject(reply);
        if (!ok) close();
        return ok;
    }

    // A command whose answer must not be an error (AUTH, SELECT); the connection is
    // closed when it is. Its arguments are never logged (AUTH's is the password).
    bool command_ok(std::initializer_list<std::string> args) {
        redisReply* reply = command(args);
        if (reply == nullptr) return false;
        const bool ok = reply->type != REDIS_REPLY_ERROR;
        if (!ok) report(std::string(reply->str, reply->len));
        freeReplyObject(reply);
        if (!ok) close();
        return ok;
    }

    redisReply* command(std::initializer_list<std::string> args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> sizes;
        for (const auto& a : args) argv.push_back(a.data()), sizes.push_back(a.size());
        auto* reply = static_cast<redisReply*>(redisCommandArgv(context_, int(argv.size()), argv.data(), sizes.data()));
        if (reply == nullptr) broken(context_->errstr);
        return reply;
    }

    bool broken(const std::string& why) {
        report(why);
        close();
        return false;
    }

    // Also fails the calls still queued: nothing will send them before their callers give up.
    void close() {
        if (context_ != nullptr) redisFree(context_);
        context_ = nullptr;
        up_.store(false, std::memory_order_release);
        std::lock_guard lock(mutex_);
        while (head_ != nullptr) {
            call* c = head_;
            unlink(*c);
            c->where = call::state::failed;
            c->answered.notify_one();
        }
    }

    // Recovery lines have a limit of their own, so that an error line never holds one back.
    void mark_up() {
        if (up_.exchange(true, std::memory_order_acq_rel) || !down_since_log_) return;
        down_since_log_ = false;
        const auto now = std::chrono::steady_clock::now();
        if (last_recovery_log_ && now - *last_recovery_log_ < log_interval) return;
        last_recovery_log_ = now;
        if (log_) log_("redis store at " + address() + " is available again");
    }

    void report(const std::string& why) {
        down_since_log_ = true;
        log_limited("redis store at " + address() + " is unavailable: " + why);
    }

    // At most one line per log_interval; what was held back is counted in the next one.
    void log_limited(std::string message) {
        const auto now = std::chrono::steady_clock::now();
        std::uint64_t timeouts = 0;
        {
            std::lock_guard lock(mutex_);
            timeouts = std::exchange(timeouts_, 0);
        }
        if (timeouts > 0) message += " (" + std::to_string(timeouts) + " attempts got no answer within " +
                                     std::to_string(where_.timeout.count()) + " ms)";
        if (last_log_ && now - *last_log_ < log_interval) {
            ++held_back_;
            return;
        }
        if (held_back_ > 0) message += " (" + std::to_string(held_back_) + " similar lines held back)";
        held_back_ = 0;
        last_log_ = now;
        if (log_) log_(message);
    }

    std::string address() const {
        const bool v6 = where_.host.find(':') != std::string::npos;
        return (v6 ? "[" + where_.host + "]" : where_.host) + ":" + std::to_string(where_.port);
    }

    static timeval to_timeval(std::chrono::milliseconds ms) {
        return timeval{static_cast<decltype(timeval::tv_sec)>(ms.count() / 1000),
                       static_cast<decltype(timeval::tv_usec)>(ms.count() % 1000 * 1000)};
    }

    const endpoint where_;
    const log_function log_;
    const std::string max_attempts_, window_, lockout_, global_max_attempts_;
    // All clients together: "*" is in no client key.
    const std::string global_fail_key_, global_lock_key_;
    const std::string member_prefix_;  // attempts from different gateways never share a member name

    std::mutex mutex_;
    std::condition_variable_any work_;
    call* head_ = nullptr;  // the queue, under mutex_
    call* tail_ = nullptr;
    std::array<call*, batch_size> batch_{};  // under mutex_; null once its caller gave up
    std::uint64_t timeouts_ = 0;              // under mutex_
    std::atomic<bool> up_{false};
    std::atomic<std::uint64_t> errors_{0};

    // The connection thread's own.
    redisContext* context_ = nullptr;
    std::string sha_;
    std::array<request, batch_size> requests_;
    std::array<answer, batch_size> answers_;
    std::uint64_t sequence_ = 0;
    bool down_since_log_ = false;
    std::optional<std::chrono::steady_clock::time_point> last_log_;
    std::optional<std::chrono::steady_clock::time_point> last_recovery_log_;
    std::uint64_t held_back_ = 0;

    std::jthread thread_;  // last: starts once everything above exists
};

}  // namespace trustgate::redis::detail
