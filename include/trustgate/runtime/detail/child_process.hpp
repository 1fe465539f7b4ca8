// trustgate/runtime/detail/child_process.hpp — run a program with input and a deadline, no shell.
//
//   child_result r = run_child({"/usr/local/bin/resolver", "--profile", "prod"}, {"PATH=/usr/bin"},
//                              request_text, std::chrono::milliseconds(5000), 1 << 20);
//
// The program is started with posix_spawn (an absolute path, never a shell) in a process
// group of its own, with exactly the environment given, `input` on its standard input,
// standard error discarded and no other descriptor of ours (listening sockets included).
// Its standard output is collected up to `max_output` bytes. When the deadline passes or
// the output outgrows the bound, the whole group (the program and anything it started)
// is killed with SIGKILL. Safe to call from any thread.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace trustgate::runtime::detail {

struct child_result {
    enum class ending { exited, killed_by_signal, timed_out, output_too_large };
    ending how = ending::exited;
    int status = 0;      // the exit status, or the signal that ended the program
    std::string output;  // standard output, at most max_output bytes
};


using steady = std::chrono::steady_clock;

[[noreturn]] inline void throw_errno(const char* what, int error) {
    throw std::system_error(error, std::generic_category(), what);
}

class unique_fd {
public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// A posix_spawn set-up object, destroyed on every path.
template <class T, int (*init)(T*), int (*destroy)(T*)>
struct spawn_object {
    T value;
    spawn_object() {
        if (const int e = init(&value)) throw_errno("posix_spawn set-up", e);
    }
    spawn_object(const spawn_object&) = delete;
    spawn_object& operator=(const spawn_object&) = delete;
    ~spawn_object() { destroy(&value); }
};

using spawn_file_actions =
    spawn_object<posix_spawn_file_actions_t, posix_spawn_file_actions_init, posix_spawn_file_actions_destroy>;
using spawn_attributes = spawn_object<posix_spawnattr_t, posix_spawnattr_init, posix_spawnattr_destroy>;

inline std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// Starts argv[0] with standard input from `in`, standard output to `out`, standard error
// to /dev/null and nothing else inherited; default signal dispositions, an empty signal
// mask, a process group of its own.
inline pid_t spawn_child(const std::vector<std::string>& argv, const std::vector<std::string>& environment, int in, int out) {
    spawn_file_actions actions;
    spawn_attributes attributes;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    const int errors[] = {
        posix_spawn_file_actions_adddup2(&actions.value, in, STDIN_FILENO),
        posix_spawn_file_actions_adddup2(&actions.value, out, STDOUT_FILENO),
        posix_spawn_file_actions_addopen(&actions.value, STDERR_FILENO, "/dev/null", O_WRONLY, 0),
        posix_spawn_file_actions_addclosefrom_np(&actions.value, STDERR_FILENO + 1),
        posix_spawnattr_setflags(&attributes.value, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
        posix_spawnattr_setpgroup(&attributes.value, 0),
        posix_spawnattr_setsigmask(&attributes.value, &none),
        posix_spawnattr_setsigdefault(&attributes.value, &all),
    };
    for (const int e : errors)
        if (e != 0) throw_errno("posix_spawn set-up", e);
    auto args = c_strings(argv);
    auto env = c_strings(environment);
    pid_t pid = 0;
    if (const int e = ::posix_spawn(&pid, argv.at(0).c_str(), &actions.value, &attributes.value, args.data(), env.data()))
        throw_errno("posix_spawn", e);
    return pid;
}

inline int milliseconds_until(steady::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - steady::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000'000));
}

// Feeds `input` and collects standard output until the program closes it. Returns why it
// had to stop early, if it did.
inline std::optional<child_result::ending> feed_and_collect(unique_fd& to_child, const unique_fd& from_child, std::string_view input,
                                                    steady::time_point deadline, std::size_t max_output, std::string& output) {
    std::size_t written = 0;
    if (input.empty()) to_child.reset();
    for (;;) {
        pollfd fds[2] = {{from_child.get(), POLLIN, 0}, {to_child.get(), POLLOUT, 0}};
        const nfds_t count = to_child.get() >= 0 ? 2 : 1;
        const int ready = ::poll(fds, count, milliseconds_until(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw_errno("poll", errno);
        if (ready == 0) return child_result::ending::timed_out;
        if (count == 2 && fds[1].revents != 0) {
            const auto n = ::send(to_child.get(), input.data() + written, input.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) written += static_cast<std::size_t>(n);
            // All sent, or the program closed its standard input: it gets no more.
            if (written == input.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) to_child.reset();
        }
        if (fds[0].revents == 0) continue;
        char buffer[4096];
        const auto n = ::read(from_child.get(), buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return std::nullopt;
        if (output.size() + static_cast<std::size_t>(n) > max_output) return child_result::ending::output_too_large;
        output.append(buffer, static_cast<std::size_t>(n));
    }
}

// Reaps `pid` if it exits before `deadline`.
inline std::optional<int> reap_before(pid_t pid, steady::time_point deadline) {
    for (;;) {
        int status = 0;
        const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
        if (reaped == pid) return status;
        if (reaped < 0 && errno != EINTR) throw_errno("waitpid", errno);
        if (steady::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}


// argv[0] is the program's absolute path. Throws std::system_error when the program
// cannot be started at all (e.g. it does not exist or is not executable).
inline child_result run_child(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                              std::string_view input, std::chrono::milliseconds timeout, std::size_t max_output) {
    const auto deadline = steady::now() + timeout;
    // Standard input is a socket, not a pipe: writing to a program that stopped reading
    // must fail with EPIPE (MSG_NOSIGNAL), not raise SIGPIPE in the gateway.
    int stdin_pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_pair) != 0) throw_errno("socketpair", errno);
    unique_fd to_child(stdin_pair[0]), child_stdin(stdin_pair[1]);
    int stdout_pipe[2];
    if (::pipe2(stdout_pipe, O_CLOEXEC) != 0) throw_errno("pipe2", errno);
    unique_fd from_child(stdout_pipe[0]), child_stdout(stdout_pipe[1]);

    const pid_t pid = spawn_child(argv, environment, child_stdin.get(), child_stdout.get());
    child_stdin.reset();
    child_stdout.reset();

    child_result result;
    auto cut = feed_and_collect(to_child, from_child, input, deadline, max_output, result.output);
    const auto status = cut ? std::nullopt : reap_before(pid, deadline);
    if (!status) {
        ::kill(-pid, SIGKILL);  // before reaping the leader, so the group id is still ours
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        result.how = cut.value_or(child_result::ending::timed_out);
        return result;
    }
    if (WIFSIGNALED(*status)) {
        result.how = child_result::ending::killed_by_signal;
        result.status = WTERMSIG(*status);
    } else {
        result.status = WEXITSTATUS(*status);
    }
    return result;
}

}  // namespace trustgate::runtime::detail
