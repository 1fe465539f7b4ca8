// What an accepted connection is made of: sockets typed on the executor of the io_context
// it lives on, and the one timer that enforces all of its deadlines.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/wait_traits.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace trustgate::beast::detail {

// A connection's executor, typed: Asio's type-erased any_io_executor (what beast::tcp_stream
// uses) costs a heap allocation on every copy of a strand it holds, several per request.
// No strand either: each io_context of the server is run by one thread, so a
// connection's handlers never run at the same time already, and a strand would only add
// a lock and an allocation to every completion.
using connection_executor = boost::asio::io_context::executor_type;
using tcp_socket = boost::asio::ip::tcp::socket::rebind_executor<connection_executor>::other;
using tls_stream = boost::beast::ssl_stream<tcp_socket>;
// server_options::local_socket's connections.
using unix_socket = boost::asio::local::stream_protocol::socket::rebind_executor<connection_executor>::other;

// All of a connection's deadlines (handshake, header, idle, I/O, linger) on one timer,
// armed lazily. Every request moves the deadline later, which costs a store: the timer is
// never armed more than `step` ahead, so when it fires early it finds the deadline moved
// and waits again. Only a deadline earlier than the armed expiry re-arms it at once.
// (beast::basic_stream instead arms and cancels a timer around every read and write.)
class connection_deadline {
public:
    using clock = std::chrono::steady_clock;

    // `step`: the shortest of the server's timeouts, so that a deadline set later (now +
    // one of them) is never earlier than the armed expiry. Not below 100 ms, so that a
    // tiny timeout does not make an idle connection wake up all the time.
    connection_deadline(const connection_executor& executor, clock::duration step)
        : timer_(executor), step_(std::max<clock::duration>(step, std::chrono::milliseconds(100))) {}

    // From now on the connection must be done by `when`, or `owner->on_deadline()` runs
    // on its strand. The timer holds `owner` weakly: it never keeps a connection alive.
    template <class Owner>
    void expire_at(clock::time_point when, const std::shared_ptr<Owner>& owner) {
        deadline_ = when;
        if (!armed_ || when < timer_.expiry()) arm(owner);
    }

private:
    template <class Owner>
    void arm(const std::shared_ptr<Owner>& owner) {
        armed_ = true;
        timer_.expires_at(std::min(deadline_, clock::now() + step_));  // cancels a wait it replaces
        timer_.async_wait([this, weak = std::weak_ptr<Owner>(owner)](boost::beast::error_code ec) {
            const auto self = weak.lock();
            if (!self || ec) return;  // the connection is gone, or this wait was replaced
            if (clock::now() < deadline_) return arm(self);
            armed_ = false;
            self->on_deadline();
        });
    }

    boost::asio::basic_waitable_timer<clock, boost::asio::wait_traits<clock>, connection_executor> timer_;
    clock::duration step_;
    clock::time_point deadline_ = clock::time_point::max();
    bool armed_ = false;
};

}  // namespace trustgate::beast::detail
