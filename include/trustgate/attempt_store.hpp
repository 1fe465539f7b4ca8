// trustgate/attempt_store.hpp — where failed token attempts are counted (behaviour §6, §12).
//
// token_auth hands every token attempt to a store: the outcome of the compare goes in,
// and the store says whether the client's key was locked out. attempt_limiter (an
// in-memory table) is one store; trustgate::redis::store (the `redis` component) shares
// the counts between gateway instances. A store is called on I/O threads, concurrently,
// and must answer without allocating.
#pragma once

#include <chrono>
#include <cstdint>

#include "trustgate/net/address.hpp"

namespace trustgate {

struct attempt_verdict {
    enum class status : std::uint8_t {
        open,         // not locked: the attempt was counted (a failure) or cleared the key (a match)
        locked,       // locked out: the attempt was refused and not counted
        unavailable,  // the store could not answer (a shared store that is down)
    };
    status what = status::open;
    std::chrono::seconds retry_after{0};  // locked: seconds left, rounded up
};

class attempt_store {
public:
    virtual ~attempt_store() = default;

    // One token attempt from `client` (the attributed client IP), whose compare `matched`.
    // A key that is locked refuses the attempt whatever it presented; otherwise a failure
    // is counted and a match clears the key. Exempt clients are always open.
    virtual attempt_verdict attempt(const net::address& client, bool matched) = 0;
};

}  // namespace trustgate
