// trustgate/beast/server.hpp — an HTTP + WebSocket server for a trustgate gateway.
//
//   trustgate::beast::server_options options;
//   options.port = 18789;
//   trustgate::beast::server server(options, [&](const trustgate::beast::incoming& request) {
//       auto decision = gateway.authenticate(request);
//       ...
//   });
//   std::cerr << "listening on port " << server.local_endpoint().port() << "\n";
//   server.run();   // until SIGINT/SIGTERM, then drains and returns
//
// The server enforces the limits of server_options (timeouts, header and body sizes,
// connection caps in all and per peer address), answers malformed HTTP with 400 and keeps
// serving, and optionally speaks TLS. The handler decides on the request header before
// any body byte is read (handler.hpp). trustgate::beast::run(options, handler) does all
// of the above in one call.
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "trustgate/beast/detail/connection.hpp"
#include "trustgate/beast/impl/connection_registry.hpp"
#include "trustgate/beast/impl/http_session.hpp"
#include "trustgate/beast/impl/server_state.hpp"
#include "trustgate/beast/detail/socket_file.hpp"
#include "trustgate/beast/impl/tls_detector.hpp"
#include "trustgate/beast/fields_view.hpp"
#include "trustgate/beast/handler.hpp"
#include "trustgate/beast/options.hpp"
#include "trustgate/beast/tls.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/peer_credentials.hpp"

namespace trustgate::beast {

class server {
public:
    using endpoint = boost::asio::ip::tcp::endpoint;

    // Binds and listens at once, so the port is known (and taken) before run(); throws
    // boost::system::system_error when it cannot (e.g. the address is in use).
    server(server_options options, request_handler handler)
        : contexts_(make_contexts(options.threads)),
          io_(*contexts_.front()),
          state_(std::make_shared<detail::server_state>(std::move(options), std::move(handler))),
          busy_(over_capacity_response(*state_)),
          strand_(boost::asio::make_strand(io_)),
          acceptor_(strand_),
          local_acceptor_(strand_),
          stop_signals_(strand_),
          signals_(strand_),
          drain_timer_(strand_),
          retry_timer_(strand_),
          local_retry_timer_(strand_) {
        const auto& bind = state_->options.bind;
        const endpoint where(bind.is_v4() ? boost::asio::ip::address(boost::asio::ip::address_v4(bind.v4_uint()))
                                          : boost::asio::ip::address(boost::asio::ip::address_v6(bind.bytes())),
                             state_->options.port);
        acceptor_.open(where.protocol());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        // `::` means both families here, whatever the system default (net.ipv6.bindv6only).
        if (where.address().is_v6()) acceptor_.set_option(boost::asio::ip::v6_only(false));
        acceptor_.bind(where);
        acceptor_.listen(boost::asio::socket_base::max_listen_connections);
        if (!state_->options.local_socket.empty()) listen_locally(state_->options.local_socket);
        // Caught from here on, so a signal right after start-up still drains (it is
        // handled once run() starts).
        if (state_->options.handle_signals) {
            stop_signals_.add(SIGINT);
            stop_signals_.add(SIGTERM);
        }
    }

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    ~server() { state_->connections.forget_drain_callback(); }

    // Where the server listens; with port 0 this holds the port the kernel chose.
    endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

    // Runs `action` on a server thread whenever `signal_number` arrives (e.g. SIGHUP to
    // reload configuration), while the server lives: also while it drains, so that such
    // a signal never ends the process then (the action may ignore it). Register before run().
    void on_signal(int signal_number, std::function<void()> action) {
        signals_.add(signal_number);
        signal_actions_.emplace_back(signal_number, std::move(action));
    }

    // Runs `action` on a server thread when draining starts: cancel your own timers and
    // watchers there, or run() waits for them. Register before run().
    void on_drain(std::function<void()> action) { drain_actions_.push_back(std::move(action)); }

    // Serves until drained, on options.threads threads (this one included), each with an
    // io_context of its own.
    void run() {
        boost::asio::post(strand_, [this] {
            wait_for_signal();
            accept();
            if (local_file_) accept_local();
        });
        std::vector<std::jthread> workers;
        for (std::size_t i = 1; i < contexts_.size(); ++i) workers.emplace_back([this, i] { contexts_[i]->run(); });
        io_.run();
    }

    // Starts a graceful drain (what SIGINT/SIGTERM do). Thread-safe; run() returns once
    // every connection has closed or drain_timeout has passed.
    void drain() {
        boost::asio::post(strand_, [this] { begin_drain(); });
    }

    // Live connections (HTTP and WebSocket).
    std::size_t connections() const { return state_->connections.size(); }

    // Replaces the TLS context new handshakes use (e.g. a reloaded certificate or client CA,
    // behaviour §11); open connections finish under the one they started with. Only for a server
    // built with options.tls; thread-safe.
    void replace_tls(std::shared_ptr<boost::asio::ssl::context> context) { state_->set_tls(std::move(context)); }

    // Tells every open WebSocket that the rules changed (e.g. a configuration reload): each
    // calls its websocket_accept::recheck with its upgrade request, and one decided
    // concurrently with this call is rechecked once it opens. Thread-safe.
    void recheck_websockets() {
        ++state_->rules_changed;
        state_->connections.recheck_all();
    }

private:
    using strand = boost::asio::strand<boost::asio::io_context::executor_type>;
    using local_protocol = boost::asio::local::stream_protocol;

    void listen_locally(const std::string& path) {
        local_file_.emplace(path);
        local_acceptor_.open();
        local_file_->prepare(local_acceptor_.native_handle());
        local_acceptor_.bind(local_protocol::endpoint(path));
        local_file_->bound();
        local_acceptor_.listen(boost::asio::socket_base::max_listen_connections);
    }

    void wait_for_signal() {
        stop_signals_.async_wait([this](boost::beast::error_code ec, int) {
            if (!ec) begin_drain();
        });
        wait_for_user_signal();
    }

    void wait_for_user_signal() {
        signals_.async_wait([this](boost::beast::error_code ec, int signal_number) {
            if (ec) return;
            for (const auto& [wanted, action] : signal_actions_)
                if (wanted == signal_number) action();
            wait_for_user_signal();
        });
    }

    // One io_context per thread, each run by its thread alone: no lock is shared between
    // threads on the way through a request. The acceptor hands each new connection to the
    // next context in turn; it stays there for its life. (One listening socket, not one per
    // thread with SO_REUSEPORT: that would let another process of the same user bind the
    // port too and quietly take a share of the connections, where now it gets EADDRINUSE.)
    static std::vector<std::unique_ptr<boost::asio::io_context>> make_contexts(std::size_t threads) {
        std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
        for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
            contexts.push_back(std::make_unique<boost::asio::io_context>(1));
        return contexts;
    }

    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_guards() {
        std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
        for (std::size_t i = 1; i < contexts_.size(); ++i) guards.push_back(boost::asio::make_work_guard(*contexts_[i]));
        return guards;
    }

    boost::asio::io_context& next_context() { return *contexts_[next_context_++ % contexts_.size()]; }

    void accept() {
        acceptor_.async_accept(next_context().get_executor(),
                               boost::asio::bind_executor(strand_, [this](boost::beast::error_code ec, detail::tcp_socket socket) {
                                   on_accept(ec, std::move(socket));
                               }));
    }

    void on_accept(boost::beast::error_code ec, detail::tcp_socket socket) {
        if (draining_) return;
        if (ec) {
            // Out of file descriptors and the like: try again shortly instead of spinning.
            retry_timer_.expires_after(std::chrono::milliseconds(100));
            retry_timer_.async_wait([this](boost::beast::error_code wait_ec) {
                if (!wait_ec && !draining_) accept();
            });
            return;
        }
        admit(std::move(socket));
        accept();
    }

    void admit(detail::tcp_socket socket) {
        boost::beast::error_code ec;
        const auto remote = socket.remote_endpoint(ec);
        if (ec) return;  // already gone
        const auto peer = to_address(remote.address());
        auto slot = state_->connections.try_admit(peer);
        if (!slot) return refuse_over_capacity(socket, !state_->options.tls);
        // behaviour §3: the first request header is due header_timeout after accept.
        const auto header_deadline = std::chrono::steady_clock::now() + state_->options.header_timeout;
        // Once per connection, before any request (behaviour §1): who owns the peer's socket.
        const auto proof = peer.is_loopback() ? net::peer_owner(socket.native_handle()) : trustgate::local_proof{};
        if (state_->options.tls) {
            std::make_shared<detail::tls_detector>(state_, std::move(*slot), std::move(socket), peer, header_deadline, proof)
                ->start();
        } else {
            std::make_shared<detail::http_session<detail::tcp_socket>>(state_, std::move(*slot), std::move(socket), peer,
                                                                      boost::beast::flat_buffer{}, header_deadline, proof)
                ->start();
        }
    }

    // The 503 of a full server (or of a peer at its own cap), decorated like every other
    // response and serialised once.
    static std::string over_capacity_response(const detail::server_state& state) {
        auto res = detail::error_response(http::status::service_unavailable, 11, "over_capacity", "Too many open connections");
        res.set(http::field::retry_after, "1");
        state.decorate(res);
        std::ostringstream text;
        text << res;
        return std::move(text).str();
    }

    void accept_local() {
        local_acceptor_.async_accept(next_context().get_executor(),
                                     boost::asio::bind_executor(strand_, [this](boost::beast::error_code ec,
                                                                                detail::unix_socket socket) {
                                         if (draining_) return;
                                         if (!ec) {
                                             admit_local(std::move(socket));
                                             return accept_local();
                                         }
                                         local_retry_timer_.expires_after(std::chrono::milliseconds(100));
                                         local_retry_timer_.async_wait([this](boost::beast::error_code wait_ec) {
                                             if (!wait_ec && !draining_) accept_local();
                                         });
                                     }));
    }

    // A local tool on the Unix socket: peer 127.0.0.1, proven by SO_PEERCRED, plain HTTP.
    void admit_local(detail::unix_socket socket) {
        const auto peer = net::address::from_v4_uint(0x7f000001);
        auto slot = state_->connections.try_admit(peer);
        if (!slot) return refuse_over_capacity(socket, true);
        const auto header_deadline = std::chrono::steady_clock::now() + state_->options.header_timeout;
        const auto proof = net::peer_owner(socket.native_handle());
        std::make_shared<detail::http_session<detail::unix_socket>>(state_, std::move(*slot), std::move(socket), peer,
                                                                    boost::beast::flat_buffer{}, header_deadline, proof)
            ->start();
    }

    // Best effort and never blocking, so a full server spends nothing on the refusal.
    template <class Socket>
    void refuse_over_capacity(Socket& socket, bool plain) {
        boost::beast::error_code ec;
        socket.non_blocking(true, ec);
        // Reading what already arrived lets the close below end with FIN, not RST, so the
        // client gets to read the 503.
        std::array<char, 4096> ignored;
        while (socket.available(ec) > 0 && !ec) socket.read_some(boost::asio::buffer(ignored), ec);
        if (plain) socket.write_some(boost::asio::buffer(busy_.data(), busy_.size()), ec);
        socket.shutdown(boost::asio::socket_base::shutdown_both, ec);
        socket.close(ec);
    }

    void begin_drain() {
        if (draining_) return;
        draining_ = true;
        boost::beast::error_code ignored;
        acceptor_.close(ignored);
        local_acceptor_.close(ignored);
        retry_timer_.cancel();
        local_retry_timer_.cancel();
        // Removing the signals restores their default action: a second SIGINT ends the
        // process at once.
        stop_signals_.cancel(ignored);
        stop_signals_.clear(ignored);
        for (const auto& action : drain_actions_) action();
        drain_timer_.expires_after(state_->options.drain_timeout);
        // The other threads return once their connections are gone.
        idle_workers_.clear();
        drain_timer_.async_wait([this](boost::beast::error_code ec) {
            // Lets run() return; on_signal's signals stay caught until the server goes.
            boost::beast::error_code not_waiting;
            signals_.cancel(not_waiting);
            if (!ec)
                for (auto& context : contexts_) context->stop();
        });
        state_->connections.drain_all([this] { boost::asio::post(strand_, [this] { drain_timer_.cancel(); }); });
    }

    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
    boost::asio::io_context& io_;  // the first: the acceptors, signals and timers are here
    // Keeps the other threads' run() going while they have no connection, until draining.
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> idle_workers_ = work_guards();
    std::size_t next_context_ = 0;  // touched on strand_ only
    std::shared_ptr<detail::server_state> state_;
    const std::string busy_;
    strand strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::optional<detail::socket_file> local_file_;  // removes the socket file after the acceptor is gone
    local_protocol::acceptor local_acceptor_;
    boost::asio::signal_set stop_signals_;  // SIGINT, SIGTERM: drain
    boost::asio::signal_set signals_;       // on_signal's
    boost::asio::steady_timer drain_timer_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer local_retry_timer_;
    std::vector<std::pair<int, std::function<void()>>> signal_actions_;
    std::vector<std::function<void()>> drain_actions_;
    bool draining_ = false;  // touched on strand_ only
};

// Builds a server and runs it until SIGINT/SIGTERM have drained it.
inline void run(server_options options, request_handler handler) {
    server(std::move(options), std::move(handler)).run();
}

}  // namespace trustgate::beast
