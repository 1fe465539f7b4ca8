// trustgate/runtime/start_signals.hpp — SIGHUP, SIGINT and SIGTERM caught from the first line of main.
//
//   int main() {
//       trustgate::runtime::start_signals signals;   // before anything slow
//       ... read the configuration, resolve secrets (an exec resolver may take seconds) ...
//       trustgate::beast::server server(...);         // catches SIGINT/SIGTERM from here on
//       for (int s : signals.take()) ...              // what arrived while starting
//       signals.release_stop_signals();
//
// A reload signal must never take its default action (ending the process): not while the
// gateway starts, nor after the server has released its own handling while it drains.
// SIGHUP stays caught for as long as this object lives.
#pragma once

#include <csignal>
#include <functional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/error_code.hpp>

namespace trustgate::runtime {

class start_signals {
public:
    start_signals() : set_(io_, SIGHUP, SIGINT, SIGTERM) {}

    start_signals(const start_signals&) = delete;
    start_signals& operator=(const start_signals&) = delete;

    // The signals that arrived since the last call, in order.
    std::vector<int> take() {
        std::vector<int> caught;
        std::function<void()> wait = [&] {
            set_.async_wait([&](const boost::system::error_code& ec, int signal_number) {
                if (ec) return;
                caught.push_back(signal_number);
                wait();
            });
        };
        wait();
        io_.poll();
        set_.cancel();
        io_.poll();
        io_.restart();
        return caught;
    }

    // Once the server catches SIGINT/SIGTERM itself: held here too, a second one could
    // not end a drain at once.
    void release_stop_signals() {
        set_.remove(SIGINT);
        set_.remove(SIGTERM);
    }

private:
    boost::asio::io_context io_;
    boost::asio::signal_set set_;
};

}  // namespace trustgate::runtime
