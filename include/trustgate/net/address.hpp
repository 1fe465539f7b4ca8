// trustgate/net/address.hpp — one address type for IPv4 and IPv6.
//
// An IPv4 address is stored as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so `1.2.3.4`
// and `::ffff:1.2.3.4` are the same value: every comparison in trustgate is on
// normalised addresses (behaviour §1) without anyone having to remember to normalise.
//
// The parser accepts canonical text only (behaviour §2) and never throws: a hostile peer or
// header can only ever produce `std::nullopt`.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "trustgate/detail/address_text.hpp"

namespace trustgate::net {

enum class family : std::uint8_t { v4, v6 };

class address {
public:
    using bytes_type = std::array<std::uint8_t, 16>;

    // The unspecified IPv6 address `::`.
    constexpr address() noexcept = default;

    static constexpr address from_v6_bytes(const bytes_type& bytes) noexcept {
        address a;
        a.bytes_ = bytes;
        return a;
    }

    static constexpr address from_v4_bytes(const std::array<std::uint8_t, 4>& v4) noexcept {
        address a;
        a.bytes_[10] = 0xff;
        a.bytes_[11] = 0xff;
        for (std::size_t i = 0; i < 4; ++i) a.bytes_[12 + i] = v4[i];
        return a;
    }

    // Host-order IPv4 value, e.g. 0x7f000001 for 127.0.0.1.
    static constexpr address from_v4_uint(std::uint32_t v) noexcept {
        return from_v4_bytes({static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                              static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
    }

    // Strict canonical parse: dotted-quad IPv4 or RFC 4291 IPv6, optionally in brackets
    // (IPv6 only). Rejects `127.1`, `0x7f.0.0.1`, `0177.0.0.1`, `2130706433`, zone ids and
    // embedded spaces.
    static constexpr std::optional<address> parse(std::string_view text) noexcept {
        bytes_type b{};
        if (!detail::parse_address_text(text, b)) return std::nullopt;
        return from_v6_bytes(b);
    }

    constexpr const bytes_type& bytes() const noexcept { return bytes_; }

    // Normalised family: a mapped address reports v4.
    constexpr family kind() const noexcept { return is_v4() ? family::v4 : family::v6; }

    constexpr bool is_v4() const noexcept {
        for (std::size_t i = 0; i < 10; ++i)
            if (bytes_[i] != 0) return false;
        return bytes_[10] == 0xff && bytes_[11] == 0xff;
    }

    // Host-order IPv4 value; meaningful only when is_v4().
    constexpr std::uint32_t v4_uint() const noexcept {
        return (std::uint32_t{bytes_[12]} << 24) | (std::uint32_t{bytes_[13]} << 16) |
               (std::uint32_t{bytes_[14]} << 8) | std::uint32_t{bytes_[15]};
    }

    // The 128 bits as two host-order halves, for ordered range arithmetic.
    constexpr std::uint64_t high() const noexcept { return load64(0); }
    constexpr std::uint64_t low() const noexcept { return load64(8); }

    constexpr bool is_loopback() const noexcept {
        if (is_v4()) return bytes_[12] == 127;
        return high() == 0 && low() == 1;
    }

    constexpr bool is_unspecified() const noexcept {
        if (is_v4()) return v4_uint() == 0;
        return high() == 0 && low() == 0;
    }

    // RFC 1918 and IPv6 unique-local (fc00::/7).
    constexpr bool is_private() const noexcept {
        if (is_v4()) {
            const auto v = v4_uint();
            return (v >> 24) == 10 || (v >> 20) == 0xac1 || (v >> 16) == 0xc0a8;
        }
        return (bytes_[0] & 0xfe) == 0xfc;
    }

    // 169.254.0.0/16 and fe80::/10.
    constexpr bool is_link_local() const noexcept {
        if (is_v4()) return (v4_uint() >> 16) == 0xa9fe;
        return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
    }

    // Canonical text: dotted quad for IPv4 (mapped or not), RFC 5952 for IPv6.
    // Writes at most max_text_size bytes and returns how many; never allocates.
    static constexpr std::size_t max_text_size = 39;
    constexpr std::size_t format(char* out) const noexcept {
        return detail::format_address(bytes_, is_v4(), out);
    }

    std::string to_string() const {
        char buf[max_text_size];
        return std::string(buf, format(buf));
    }

    friend constexpr bool operator==(const address&, const address&) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(const address&, const address&) noexcept = default;

private:
    constexpr std::uint64_t load64(std::size_t at) const noexcept {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (!std::is_constant_evaluated()) {
            std::uint64_t v;
            std::memcpy(&v, bytes_.data() + at, sizeof v);
            return __builtin_bswap64(v);
        }
#endif
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | bytes_[at + i];
        return v;
    }

    bytes_type bytes_{};
};

}  // namespace trustgate::net
