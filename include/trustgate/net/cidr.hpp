// trustgate/net/cidr.hpp — an address block: a single address or `base/prefix`.
//
// An IPv4 block is stored in the mapped IPv6 space (prefix + 96), so it matches the
// mapped form of its addresses too (behaviour §1); an IPv6 block never matches an IPv4
// address, even when its range spans the mapped space (`::/80`, `::/0`). Host bits must
// be zero (behaviour §2): a block written `10.0.0.1/8` is a typo that would otherwise
// silently widen or narrow trust.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trustgate/config.hpp"
#include "trustgate/net/address.hpp"

namespace trustgate::net {

class cidr {
public:
    // A single address: /32 for IPv4, /128 for IPv6.
    constexpr explicit cidr(const address& a) noexcept : base_(a), bits_(128) {}

    // `base` with `prefix_length` counted in base's own family (0-32 or 0-128).
    static constexpr std::optional<cidr> make(const address& base, unsigned prefix_length) noexcept {
        return with_width(base, prefix_length, base.is_v4() ? 32u : 128u);
    }

    // `a.b.c.d`, `a.b.c.d/n`, `v6`, `v6/n`, `[v6]`, `[v6]/n`. No leading zeros or signs in n.
    // n counts in the family the text is written in: `::ffff:10.0.0.0/104` is 10.0.0.0/8.
    static constexpr std::optional<cidr> parse(std::string_view text) noexcept {
        const auto slash = text.find('/');
        const auto written = text.substr(0, slash);
        const auto base = address::parse(written);
        if (!base) return std::nullopt;
        if (slash == std::string_view::npos) return cidr{*base};
        const auto digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
        unsigned n = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') return std::nullopt;
            n = n * 10 + unsigned(c - '0');
        }
        return with_width(*base, n, written.find(':') == std::string_view::npos ? 32u : 128u);
    }

    constexpr const address& base() const noexcept { return base_; }

    // Prefix length in the base's own family (e.g. 8 for 10.0.0.0/8).
    constexpr unsigned prefix_length() const noexcept { return base_.is_v4() ? bits_ - 96u : bits_; }

    // Prefix length in the 128-bit normalised space.
    constexpr unsigned normalised_length() const noexcept { return bits_; }

    constexpr address first() const noexcept { return with_host_bits(false); }
    constexpr address last() const noexcept { return with_host_bits(true); }

    constexpr bool contains(const address& a) const noexcept {
        return first() <= a && a <= last() && a.is_v4() == base_.is_v4();
    }

    std::string to_string() const {
        return base_.to_string() + "/" + std::to_string(prefix_length());
    }

    friend constexpr bool operator==(const cidr&, const cidr&) noexcept = default;

private:
    constexpr cidr(const address& base, std::uint8_t bits) noexcept : base_(base), bits_(bits) {}

    // `prefix_length` counted in a space `width` bits wide, the last bits of the 128.
    static constexpr std::optional<cidr> with_width(const address& base, unsigned prefix_length, unsigned width) noexcept {
        if (prefix_length > width) return std::nullopt;
        cidr c{base, static_cast<std::uint8_t>(prefix_length + (128 - width))};
        if (c.first() != base) return std::nullopt;  // host bits set
        return c;
    }

    constexpr address with_host_bits(bool ones) const noexcept {
        auto bytes = base_.bytes();
        for (unsigned i = 0; i < 16; ++i) {
            const unsigned kept = bits_ > i * 8 ? (bits_ - i * 8 >= 8 ? 8u : bits_ - i * 8) : 0u;
            const auto host_mask = static_cast<std::uint8_t>(kept >= 8 ? 0 : (0xffu >> kept));
            bytes[i] = ones ? static_cast<std::uint8_t>(bytes[i] | host_mask)
                            : static_cast<std::uint8_t>(bytes[i] & ~host_mask);
        }
        return address::from_v6_bytes(bytes);
    }

    address base_;
    std::uint8_t bits_;
};

// A configured list of addresses and blocks (gateway.trustedProxies, metrics.allowFrom),
// parsed strictly: an entry that does not parse is a config_error naming `path[i]` and
// its text, never a block that silently matches nothing (behaviour §2). IPv6 entries never
// match IPv4 peers (behaviour §1); one written inside ::ffff:0:0/96 would be the
// exception, so it must be written as the IPv4 it means.
inline std::vector<cidr> parse_cidr_list(std::span<const std::string> entries, const std::string& path) {
    std::vector<cidr> blocks;
    blocks.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto where = path + "[" + std::to_string(i) + "]";
        const auto block = cidr::parse(entries[i]);
        if (!block)
            throw config_error(where, "expected a canonical IP address or CIDR with no host bits set, got \"" + entries[i] + "\"");
        if (block->base().is_v4() && entries[i].find(':') != std::string::npos)
            throw config_error(where, "expected the IPv4 form \"" +
                                          (block->prefix_length() == 32 ? block->base().to_string() : block->to_string()) +
                                          "\" instead of \"" + entries[i] + "\" (inside ::ffff:0:0/96, where IPv4 peers are kept)");
        blocks.push_back(*block);
    }
    return blocks;
}

}  // namespace trustgate::net
