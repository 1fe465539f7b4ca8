// trustgate/beast/fields_view.hpp — a Beast header block as a trustgate::request_view.
//
//   trustgate::beast::fields_view view(request, peer);   // request: any http::request<...>
//   auto decision = gateway.authenticate(view);
//
// The view holds a pointer to the header block and the peer address; it copies nothing,
// so the decision's strings point straight into the request's own storage. Headers are
// visited in wire order with their names as received, repeated headers once per line.
#pragma once

#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>

#include "trustgate/net/address.hpp"
#include "trustgate/request.hpp"

namespace trustgate::beast {

// The socket's remote address as trustgate sees it: an IPv4-mapped IPv6 peer (what a
// dual-stack `::` listener reports for an IPv4 client) is the same value as the IPv4
// address, so `::ffff:127.0.0.1` is loopback and matches a `127.0.0.1` entry.
inline net::address to_address(const boost::asio::ip::address& peer) noexcept {
    if (peer.is_v4()) return net::address::from_v4_bytes(peer.to_v4().to_bytes());
    return net::address::from_v6_bytes(peer.to_v6().to_bytes());
}

template <class Allocator = std::allocator<char>>
class fields_view {
public:
    using fields_type = boost::beast::http::basic_fields<Allocator>;

    // `fields` must outlive the view (and every decision made from it). An
    // http::request<...> is a fields_type, so pass the request itself.
    fields_view(const fields_type& fields, net::address peer) noexcept : fields_(&fields), peer_(peer) {}

    net::address peer() const noexcept { return peer_; }

    template <class Visitor>
    void for_each_header(Visitor&& visit) const {
        for (const auto& field : *fields_) visit(std_view(field.name_string()), std_view(field.value()));
    }

    const fields_type& fields() const noexcept { return *fields_; }

private:
    // Boost 1.74's beast::string_view is boost::string_view, which does not convert.
    static std::string_view std_view(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

    const fields_type* fields_;
    net::address peer_;
};

static_assert(trustgate::request_view<fields_view<>>);

}  // namespace trustgate::beast
