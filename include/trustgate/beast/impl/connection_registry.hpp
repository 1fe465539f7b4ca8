// The server's live connections: the connection caps (in all, and per peer address),
// and whom to tell when draining or when the rules change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "trustgate/net/address.hpp"

namespace trustgate::beast::detail {

// A connection the server can ask to finish (stop reading new requests, close when the
// current one is answered) or to re-decide what it was admitted on (a WebSocket; a plain
// HTTP connection decides each request anew anyway). Must be safe to call from any thread.
class drainable {
public:
    virtual void drain() = 0;
    virtual void recheck() {}

protected:
    ~drainable() = default;
};

class connection_registry {
public:
    // One admitted connection. Moves with the connection from the HTTP session to the
    // WebSocket session it upgrades to; destroying it frees the place.
    class slot {
    public:
        slot() = default;
        slot(slot&& other) noexcept
            : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_), peer_(other.peer_) {}
        slot& operator=(slot&& other) noexcept {
            if (this != &other) {
                release();
                registry_ = std::exchange(other.registry_, nullptr);
                id_ = other.id_;
                peer_ = other.peer_;
            }
            return *this;
        }
        ~slot() { release(); }

        // Names the object that now serves this connection; drains it at once when the
        // server is already draining.
        void attach(const std::shared_ptr<drainable>& owner) {
            if (registry_ != nullptr) registry_->attach(id_, owner);
        }

    private:
        friend class connection_registry;
        slot(connection_registry* registry, std::uint64_t id, net::address peer)
            : registry_(registry), id_(id), peer_(peer) {}

        void release() noexcept {
            if (registry_ != nullptr) std::exchange(registry_, nullptr)->release(id_, peer_);
        }

        connection_registry* registry_ = nullptr;
        std::uint64_t id_ = 0;
        net::address peer_;
    };

    connection_registry(std::size_t max_connections, std::size_t max_per_peer)
        : max_(max_connections), max_per_peer_(max_per_peer) {}

    // A place for a new connection from `peer`, or nothing when a cap is reached or the
    // server drains.
    std::optional<slot> try_admit(net::address peer) {
        std::lock_guard lock(mutex_);
        if (draining_ || live_.size() >= max_) return std::nullopt;
        const auto it = per_peer_.find(peer);
        if ((it == per_peer_.end() ? 0 : it->second) >= max_per_peer_) return std::nullopt;
        ++per_peer_[peer];
        const auto id = next_id_++;
        live_.emplace(id, std::weak_ptr<drainable>{});
        return slot(this, id, peer);
    }

    // Asks every connection to re-decide what it was admitted on.
    void recheck_all() {
        for (const auto& owner : owners())
            if (const auto live = owner.lock()) live->recheck();
    }

    // Drains every connection; `on_empty` runs once the last one has gone (at once if
    // there are none), on whichever thread released it.
    void drain_all(std::function<void()> on_empty) {
        std::vector<std::weak_ptr<drainable>> owners;
        bool empty = false;
        {
            std::lock_guard lock(mutex_);
            draining_ = true;
            empty = live_.empty();
            if (!empty) {
                on_empty_ = std::move(on_empty);
                for (const auto& [id, owner] : live_) owners.push_back(owner);
            }
        }
        if (empty) on_empty();
        for (const auto& owner : owners)
            if (const auto live = owner.lock()) live->drain();
    }

    // Drops the callback drain_all registered, for when its target goes away first.
    void forget_drain_callback() {
        std::lock_guard lock(mutex_);
        on_empty_ = nullptr;
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return live_.size();
    }

private:
    void attach(std::uint64_t id, const std::shared_ptr<drainable>& owner) {
        bool draining = false;
        {
            std::lock_guard lock(mutex_);
            live_[id] = owner;
            draining = draining_;
        }
        if (draining) owner->drain();
    }

    std::vector<std::weak_ptr<drainable>> owners() const {
        std::lock_guard lock(mutex_);
        std::vector<std::weak_ptr<drainable>> all;
        all.reserve(live_.size());
        for (const auto& [id, owner] : live_) all.push_back(owner);
        return all;
    }

    void release(std::uint64_t id, net::address peer) {
        std::function<void()> on_empty;
        {
            std::lock_guard lock(mutex_);
            live_.erase(id);
            if (const auto it = per_peer_.find(peer); it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
            if (live_.empty()) on_empty = std::exchange(on_empty_, nullptr);
        }
        if (on_empty) on_empty();
    }

    mutable std::mutex mutex_;
    std::size_t max_;
    std::size_t max_per_peer_;
    std::uint64_t next_id_ = 0;
    std::unordered_map<std::uint64_t, std::weak_ptr<drainable>> live_;
    std::map<net::address, std::size_t> per_peer_;  // live connections of each peer address
    bool draining_ = false;
    std::function<void()> on_empty_;
};

}  // namespace trustgate::beast::detail
