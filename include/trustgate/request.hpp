// trustgate/request.hpp — what trustgate needs to see of a request.
//
// A request view is the TCP peer plus the header block. trustgate walks the headers
// itself (case-insensitively, seeing every value of a repeated header), so an adapter
// only has to expose iteration: Beast's `http::fields`, a vector of pairs, or a
// server's own structure all fit without copying.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustgate/detail/ascii.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/net/address.hpp"
#include "trustgate/peer_certificate.hpp"

namespace trustgate {

namespace detail {
// Stands for "any callable taking (name, value)" when checking the concept.
struct header_visitor_archetype {
    void operator()(std::string_view, std::string_view) const noexcept {}
};
}  // namespace detail

// `peer()` is the socket's remote address, never a header. `for_each_header(f)` calls
// `f(name, value)` once per header line, in wire order, names as received.
template <class R>
concept request_view = requires(const R& r, detail::header_visitor_archetype visit) {
    { r.peer() } -> std::convertible_to<net::address>;
    r.for_each_header(visit);
};

// A request view may also say what the kernel proved about its peer (local_proof.hpp);
// one that does not carries no proof.
template <class R>
concept carries_local_proof = requires(const R& r) {
    { r.local_proof() } -> std::convertible_to<trustgate::local_proof>;
};

template <request_view R>
constexpr trustgate::local_proof local_proof_of(const R& request) noexcept {
    if constexpr (carries_local_proof<R>) return request.local_proof();
    else return {};
}

// The longest identity trustgate accepts (behaviour §3 step 4.4).
inline constexpr std::size_t max_identity_bytes = 256;

// behaviour §3 step 4.4 for an already trimmed, non-blank identity: at most
// max_identity_bytes, no control character. Every identity passes these rules: a user
// header's, a signed assertion's claim, and the configured loopbackUser.
constexpr bool acceptable_identity(std::string_view trimmed) noexcept {
    for (const char c : trimmed)
        if (detail::is_control(c)) return false;
    return trimmed.size() <= max_identity_bytes;
}

// A request view may also lend storage that lives as long as the request, for an identity
// that is not text of the request (a signed assertion's claim, behaviour §10), so that the
// decision can point there. It must hold max_identity_bytes; an empty span lends none.
// Without it such an identity stays in a buffer of the deciding thread, valid until that
// thread's next authentication.
template <class R>
concept carries_identity_storage = requires(const R& r) {
    { r.identity_storage() } -> std::same_as<std::span<char>>;
};

template <request_view R>
std::span<char> identity_storage_of(const R& request) noexcept {
    if constexpr (carries_identity_storage<R>) return request.identity_storage();
    else return {};
}

// A request view may also carry its connection's client certificate (peer_certificate.hpp);
// one that does not presented none.
template <class R>
concept carries_peer_certificate = requires(const R& r) {
    { r.peer_certificate() } -> std::convertible_to<const trustgate::peer_certificate&>;
};

namespace detail {
inline const trustgate::peer_certificate no_peer_certificate{};
}  // namespace detail

template <request_view R>
const trustgate::peer_certificate& peer_certificate_of(const R& request) noexcept {
    if constexpr (carries_peer_certificate<R>) return request.peer_certificate();
    else return detail::no_peer_certificate;
}

// A self-contained request for tests, tools and servers that are not Beast-based.
class basic_request {
public:
    struct header {
        std::string name;
        std::string value;
    };

    basic_request() = default;
    explicit basic_request(net::address peer) : peer_(peer) {}
    basic_request(net::address peer, std::vector<header> headers)
        : peer_(peer), headers_(std::move(headers)) {}

    net::address peer() const noexcept { return peer_; }
    void set_peer(net::address peer) noexcept { peer_ = peer; }

    // What the server's kernel lookup found for this request's connection, if anything.
    trustgate::local_proof local_proof() const noexcept { return proof_; }
    void set_local_proof(trustgate::local_proof proof) noexcept { proof_ = proof; }

    // The client certificate the request's TLS connection presented, if any.
    const trustgate::peer_certificate& peer_certificate() const noexcept { return certificate_; }
    void set_peer_certificate(trustgate::peer_certificate certificate) { certificate_ = std::move(certificate); }

    // Appends; a repeated name becomes a repeated header, as on the wire.
    basic_request& add(std::string name, std::string value) {
        headers_.push_back({std::move(name), std::move(value)});
        return *this;
    }

    const std::vector<header>& headers() const noexcept { return headers_; }
    std::vector<header>& headers() noexcept { return headers_; }

    template <class Visitor>
    void for_each_header(Visitor&& visit) const {
        for (const auto& h : headers_) visit(std::string_view{h.name}, std::string_view{h.value});
    }

    // A decision's asserted identity lives here, as long as the request.
    std::span<char> identity_storage() const noexcept { return identity_; }

private:
    net::address peer_{};
    trustgate::local_proof proof_{};
    trustgate::peer_certificate certificate_;
    std::vector<header> headers_;
    mutable std::array<char, max_identity_bytes> identity_{};
};

static_assert(request_view<basic_request> && carries_local_proof<basic_request> && carries_identity_storage<basic_request> &&
              carries_peer_certificate<basic_request>);

}  // namespace trustgate
