// trustgate/assertion/jwks_refresher.hpp — keys from a `jwksUrl`, kept current (behaviour §10).
//
//   trustgate::assertion::jwks_refresher keys(policy.verifier(), url, std::chrono::seconds(3600), fetch, log);
//
// The constructor loads the keys once, synchronously, waiting at most `startup_timeout`
// (5 s): no usable key then is a config_error naming `jwksUrl`, unless `last_good` (the
// set a reloaded configuration was using) can stand in. Afterwards one background
// thread refetches every `refresh` and whenever a request met an unknown `kid` (the
// verifier asks at most once per 30 s); requests never wait for it. A fetch that fails or
// yields no usable key keeps the last good set and is logged. The new set replaces the
// old atomically: a request sees one set or the other, never a mix.
//
// `fetch(url, timeout)` returns the body of a 200 response or throws; trustgate's Beast
// component has one that goes through the egress proxy (outbound_client). The destructor
// stops the thread, waiting for a fetch in progress (at most its timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "trustgate/assertion/keys.hpp"
#include "trustgate/assertion/verifier.hpp"
#include "trustgate/config.hpp"

namespace trustgate::assertion {

class jwks_refresher {
public:
    using fetch_function = std::function<std::string(const std::string& url, std::chrono::milliseconds timeout)>;
    // (event, message): event is "jwks_refresh" (ok) or "jwks_refresh_failed"; the message
    // names the URL without credentials and never holds key material.
    using log_function = std::function<void(std::string_view event, const std::string& message)>;

    static constexpr std::chrono::milliseconds startup_timeout{5000};
    static constexpr std::chrono::milliseconds fetch_timeout{10000};

    struct counters {
        std::atomic<std::uint64_t> ok{0}, failed{0};
    };

    jwks_refresher(std::shared_ptr<assertion::verifier> verifier, std::string url, std::chrono::seconds refresh,
                   fetch_function fetch, log_function log, std::shared_ptr<const key_set> last_good = nullptr,
                   const std::string& path = "gateway.auth.trustedProxy.assertion.jwksUrl")
        : verifier_(std::move(verifier)), url_(std::move(url)), refresh_(refresh), fetch_(std::move(fetch)), log_(std::move(log)) {
        std::string why;
        if (!load(startup_timeout, why)) {
            if (!last_good || last_good->keys.empty())
                throw config_error(path, "expected a JWKS with at least one usable signing key from " + url_ + " within 5 s: " + why);
            verifier_->replace_keys(*last_good);
        }
        thread_ = std::thread([this] { run(); });
    }

    jwks_refresher(const jwks_refresher&) = delete;
    jwks_refresher& operator=(const jwks_refresher&) = delete;

    ~jwks_refresher() {
        verifier_->stop();
        if (thread_.joinable()) thread_.join();
    }

    const counters& refreshes() const noexcept { return counters_; }
    const std::string& url() const noexcept { return url_; }
    const std::shared_ptr<assertion::verifier>& verifier() const noexcept { return verifier_; }

private:
    void run() {
        auto next = std::chrono::steady_clock::now() + refresh_;
        while (!verifier_->stopped()) {
            const bool asked = verifier_->wait_for_refetch(next);
            if (verifier_->stopped()) return;
            if (!asked && std::chrono::steady_clock::now() < next) continue;
            std::string why;
            load(fetch_timeout, why);
            next = std::chrono::steady_clock::now() + refresh_;
        }
    }

    // One fetch; the set is replaced only when it yields a usable key.
    bool load(std::chrono::milliseconds timeout, std::string& why) {
        try {
            auto keys = parse_jwks(fetch_(url_, timeout));
            for (const auto& w : keys.warnings) log("jwks_refresh", url_ + ": " + w);
            if (keys.keys.empty()) {
                why = "no usable signing key";
            } else {
                const auto count = keys.keys.size();
                verifier_->replace_keys(std::move(keys));
                counters_.ok.fetch_add(1);
                log("jwks_refresh", url_ + ": " + std::to_string(count) + " keys");
                return true;
            }
        } catch (const std::exception& e) {
            why = e.what();
        }
        counters_.failed.fetch_add(1);
        log("jwks_refresh_failed", url_ + ": " + why + "; keeping the last good key set");
        return false;
    }

    void log(std::string_view event, const std::string& message) const {
        if (log_) log_(event, message);
    }

    std::shared_ptr<assertion::verifier> verifier_;
    std::string url_;
    std::chrono::seconds refresh_;
    fetch_function fetch_;
    log_function log_;
    counters counters_;
    std::thread thread_;
};

}  // namespace trustgate::assertion
