// trustgate/runtime/reloader.hpp — where the configuration comes from, and hot reload.
//
//   config_source source = config_source::file("/etc/trustgate/gateway.jsonc");
//   reloadable_gateway configs(load(source.read()), &metrics);
//   config_reloader reloader(source, configs, audit, [&] { server.recheck_websockets(); });
//   server.on_signal(SIGHUP, [&] { reloader.request(); });   // watches the file from here on
//   ... each request: const auto config = configs.current();  // one snapshot, decided wholly under it
//
// A reload reads the file, parses, validates and resolves every secret again (SIGHUP is
// also how rotated secrets are picked up), then swaps the new configuration in with one
// atomic store, then calls `swapped` (the server re-decides its open WebSockets under the
// new configuration). Any failure keeps the configuration that is serving (the last known
// good) and says why on the audit log. Settings the listener was built from (bind, port,
// localSocket, tls.enabled, http) apply only at start-up: a reload that changes them is
// refused, so what runs is always what the file said when it was last accepted
// (gateway.http.allowedOrigins is the exception: it is a rule every request is decided
// under, so a reload applies it). The TLS files (certificate, key, client CA) are read
// again on every reload, and a change to one of them is a reload of its own: new
// handshakes use the new material, open connections keep the old (behaviour §11).
// Reloads run on a thread of their own, one at a time, so
// a slow exec resolver never holds up a request.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "trustgate/runtime/audit_log.hpp"
#include "trustgate/runtime/compiled_config.hpp"
#include "trustgate/runtime/config_json.hpp"
#include "trustgate/metrics.hpp"

namespace trustgate::runtime {

// What identifies a version of a file without reading it: an editor that writes in place
// changes the size or mtime, one that renames a new file over it changes the inode.
struct file_signature {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    friend bool operator==(const file_signature&, const file_signature&) = default;
};

inline std::optional<file_signature> signature_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return file_signature{st.st_dev, st.st_ino, st.st_size, std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// The configuration file given with --config, or the embedded default.
class config_source {
public:
    static config_source file(std::string path) { return config_source(std::move(path)); }
    static config_source embedded() { return config_source(std::nullopt); }

    // Parses the current text; throws config_error. Remembers which version of the file it
    // read, so changed() tells whether there is a newer one.
    gateway_config read() {
        if (!path_) return parse_config(default_config_text, "<default>");
        signature_ = signature_of(*path_);
        std::ifstream in(*path_, std::ios::binary);
        if (!in) throw config_error(*path_, "expected a readable configuration file");
        std::ostringstream text;
        text << in.rdbuf();
        return parse_config(text.str(), *path_);
    }

    bool changed() const { return path_ && signature_of(*path_) != signature_; }

private:
    explicit config_source(std::optional<std::string> path) : path_(std::move(path)) {}

    std::optional<std::string> path_;
    std::optional<file_signature> signature_;
};

namespace detail {

[[noreturn]] inline void restart_needed(const std::string& path) {
    throw config_error(path, "expected the value the gateway started with: it applies only at start-up (restart the gateway "
                             "to change it)");
}

// Refuses a new configuration that changes what the listener was built from.
inline void check_restart_only(const gateway_config& running, const gateway_config& next) {
    if (next.bind != running.bind) restart_needed("gateway.bind");
    if (next.port != running.port) restart_needed("gateway.port");
    if (next.local_socket != running.local_socket) restart_needed("gateway.localSocket");
    if (next.tls.enabled != running.tls.enabled) restart_needed("gateway.tls.enabled");
    if (next.max_connections != running.max_connections) restart_needed("gateway.http.maxConnections");
    if (next.connections_per_peer() != running.connections_per_peer()) restart_needed("gateway.http.maxConnectionsPerPeer");
    if (next.header_timeout != running.header_timeout) restart_needed("gateway.http.headerTimeoutMs");
    if (next.strict_transport_security != running.strict_transport_security)
        restart_needed("gateway.http.securityHeaders.strictTransportSecurity");
}

// The versions of the TLS files `tls` names, to notice a rotated certificate or CA.
inline std::vector<std::optional<file_signature>> tls_signatures(const tls_settings& tls) {
    if (!tls.enabled) return {};
    return {signature_of(tls.certificate_chain_file), signature_of(tls.private_key_file), signature_of(tls.client_ca_file)};
}

}  // namespace detail

// The security audit's findings of `config`, one `finding` line each.
inline void log_findings(const audit_log& audit, const compiled_config& config) {
    for (const auto& f : config.findings)
        audit.write("finding", {{"id", std::string(f.id)},
                                {"severity", std::string(to_string(f.level))},
                                {"path", f.path},
                                {"message", f.message},
                                {"generation", config.generation}});
}

// The configuration requests are decided under, replaced whole by a reload. Thread-safe: a
// request takes one snapshot with current() and is decided wholly under it, however often
// replace() runs meanwhile, so no request ever mixes two configurations.
class reloadable_gateway {
public:
    // `metrics`, when given, counts reloads and shows the generation; it outlives this.
    explicit reloadable_gateway(std::shared_ptr<const compiled_config> config, trustgate::metrics* metrics = nullptr)
        : current_(std::move(config)), metrics_(metrics) {
        if (metrics_ != nullptr) metrics_->set_config_generation(current_.load()->generation);
    }

    reloadable_gateway(const reloadable_gateway&) = delete;
    reloadable_gateway& operator=(const reloadable_gateway&) = delete;

    std::shared_ptr<const compiled_config> current() const { return current_.load(); }

    // Requests that start from now on are decided under `config`.
    void replace(std::shared_ptr<const compiled_config> config) {
        const auto generation = config->generation;
        const auto previous = current_.exchange(config);
        // A new limiter starts its lockout count at zero; keep the old one's in the total.
        if (previous->limiter != config->limiter) retired_lockouts_ += previous->limiter->lockouts();
        if (previous->shared_store && previous->shared_store != config->shared_store)
            retired_store_errors_ += previous->shared_store->errors();
        if (metrics_ == nullptr) return;
        metrics_->count_reload(true);
        metrics_->set_config_generation(generation);
    }

    // A reload that kept the running configuration.
    void reload_failed() {
        if (metrics_ != nullptr) metrics_->count_reload(false);
    }

    // Lockouts since start-up, those of limiters a reload replaced included.
    std::uint64_t lockouts() const { return retired_lockouts_.load() + current_.load()->limiter->lockouts(); }

    // Shared-store errors since start-up, those of stores a reload replaced included.
    std::uint64_t store_errors() const {
        const auto config = current_.load();
        return retired_store_errors_.load() + (config->shared_store ? config->shared_store->errors() : 0);
    }

private:
    std::atomic<std::shared_ptr<const compiled_config>> current_;
    trustgate::metrics* const metrics_;
    std::atomic<std::uint64_t> retired_lockouts_{0};
    std::atomic<std::uint64_t> retired_store_errors_{0};
};

// Reads the TLS files `tls` names (throws config_error) and returns what makes new
// handshakes use them; returns nothing when the listener has no TLS. A reloader given none
// leaves the listener's TLS material as it started and does not watch its files.
using tls_loader = std::function<std::function<void()>(const tls_settings& tls)>;

class config_reloader {
public:
    static constexpr auto poll_interval = std::chrono::milliseconds(500);

    // Starts watching `source` (when it is a file) and, given `load_tls`, the TLS files for
    // changes; `swapped` runs after each successful swap.
    config_reloader(config_source source, reloadable_gateway& configs, const audit_log& audit, std::function<void()> swapped,
                    tls_loader load_tls = {})
        : source_(std::move(source)),
          configs_(configs),
          audit_(audit),
          swapped_(std::move(swapped)),
          load_tls_(std::move(load_tls)),
          running_(configs.current()),
          watched_tls_(load_tls_ ? running_->settings.tls : tls_settings{}),
          tls_files_(detail::tls_signatures(watched_tls_)),
          thread_([this](std::stop_token stop) { run(stop); }) {}

    config_reloader(const config_reloader&) = delete;
    config_reloader& operator=(const config_reloader&) = delete;

    // Asks for a reload (SIGHUP). Cheap and thread-safe; the reload runs on the reloader's
    // thread.
    void request() {
        {
            std::lock_guard lock(mutex_);
            requested_ = true;
        }
        wake_.notify_one();
    }

private:
    void run(std::stop_token stop) {
        std::unique_lock lock(mutex_);
        while (!stop.stop_requested()) {
            wake_.wait_for(lock, stop, poll_interval, [this] { return requested_; });
            if (stop.stop_requested()) return;
            const bool signalled = std::exchange(requested_, false);
            lock.unlock();
            if (signalled) reload("signal");
            else if (source_.changed()) reload("file");
            else if (detail::tls_signatures(watched_tls_) != tls_files_) reload("tls file");
            lock.lock();
        }
    }

    void reload(std::string_view trigger) {
        const auto current = configs_.current();
        try {
            auto settings = source_.read();
            detail::check_restart_only(running_->settings, settings);
            // Noted before reading: a file still being written changes again and is read again.
            std::function<void()> install_tls;
            if (load_tls_) {
                watched_tls_ = settings.tls;
                tls_files_ = detail::tls_signatures(watched_tls_);
                install_tls = load_tls_(settings.tls);
            }
            const auto next = load(std::move(settings), current.get());
            configs_.replace(next);  // serving before the line says so: a script may wait for it
            if (install_tls) install_tls();
            swapped_();
            audit_.write("reload", {{"result", "ok"}, {"trigger", std::string(trigger)}, {"generation", next->generation}});
            log_findings(audit_, *next);
        } catch (const std::exception& e) {
            configs_.reload_failed();
            // config_error names the JSON path and never a secret's value.
            audit_.write("reload", {{"result", "failed"},
                                    {"trigger", std::string(trigger)},
                                    {"generation", current->generation},
                                    {"error", e.what()},
                                    {"message", "kept generation " + std::to_string(current->generation)}});
        }
    }

    config_source source_;
    reloadable_gateway& configs_;
    const audit_log& audit_;
    const std::function<void()> swapped_;
    const tls_loader load_tls_;
    const std::shared_ptr<const compiled_config> running_;  // what the listener was built from
    // The TLS files of the last configuration read, and their versions then (the
    // reloader's thread only).
    tls_settings watched_tls_;
    std::vector<std::optional<file_signature>> tls_files_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    bool requested_ = false;
    std::jthread thread_;  // last: starts once everything above is ready, stops and joins first
};

}  // namespace trustgate::runtime
