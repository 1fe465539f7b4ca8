// trustgate/model/reference_model.hpp — behaviour §1–§6, §10 and §11 as plain, executable C++.
//
// The reference model the property tests compare the library against. It is written
// from docs/behaviour.md (and the lead's decisions where docs/behaviour.md is silent), not from the
// library: it shares only the public input and output types (auth_config, basic_request,
// net::address, reason, via) and does its own address parsing, block matching and
// header scanning. It favours being obviously right over being fast: strings are copied,
// lists are searched linearly, nothing is precompiled.
//
// Read it top to bottom: text helpers, §2 addresses, §1 request facts and local proof, §4 client IP,
// §6 failed attempts, §10 signed assertions, §11 proxy certificates, §3 authentication, §5 scopes.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include <trustgate/config.hpp>
#include <trustgate/decision.hpp>
#include <trustgate/local_proof.hpp>
#include <trustgate/net/address.hpp>
#include <trustgate/peer_certificate.hpp>
#include <trustgate/request.hpp>

namespace trustgate::model {

// ---------------------------------------------------------------------------- text

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

inline std::string lowercase(std::string_view s) {
    std::string out;
    for (char c : s) out += lower(c);
    return out;
}

// Header names, host names and scope-table keys compare ASCII case-insensitively.
inline bool same_ignoring_case(std::string_view a, std::string_view b) { return lowercase(a) == lowercase(b); }

// Values are trimmed of spaces and tabs, nothing else.
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

inline bool is_blank(std::string_view s) { return trim(s).empty(); }

inline bool has_control_character(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    return false;
}

inline bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// A port: 1-65535 written the way clients write it (no leading zero).
inline bool is_port(std::string_view s) {
    return all_digits(s) && s.size() <= 5 && s[0] != '0' && std::stoi(std::string(s)) <= 65535;
}

inline std::vector<std::string_view> split(std::string_view s, char separator) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto at = s.find(separator);
        parts.push_back(s.substr(0, at));
        if (at == std::string_view::npos) return parts;
        s.remove_prefix(at + 1);
    }
}

// ----------------------------------------------------------------------- §2 addresses

// 128 bits. behaviour §1: an IPv4 address is kept as its mapped form ::ffff:a.b.c.d, so
// `1.2.3.4` and `::ffff:1.2.3.4` are one value and an IPv4 block matches both.
using ip = std::array<std::uint8_t, 16>;

inline bool is_ipv4(const ip& a) {
    for (int i = 0; i < 10; ++i)
        if (a[i] != 0) return false;
    return a[10] == 0xff && a[11] == 0xff;
}

inline bool is_loopback(const ip& a) {
    if (is_ipv4(a)) return a[12] == 127;
    const ip v6_loopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return a == v6_loopback;
}

inline ip from_library(const net::address& a) { return a.bytes(); }
inline net::address to_library(const ip& a) { return net::address::from_v6_bytes(a); }

// Four decimal parts 0-255, no leading zeros.
inline std::optional<std::array<std::uint8_t, 4>> parse_dotted_quad(std::string_view s) {
    const auto parts = split(s, '.');
    if (parts.size() != 4) return std::nullopt;
    std::array<std::uint8_t, 4> out{};
    for (std::size_t i = 0; i < 4; ++i) {
        const auto p = parts[i];
        if (!all_digits(p) || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return std::nullopt;
        const int value = std::stoi(std::string(p));
        if (value > 255) return std::nullopt;
        out[i] = std::uint8_t(value);
    }
    return out;
}

inline std::optional<ip> parse_ipv4(std::string_view s) {
    const auto quad = parse_dotted_quad(s);
    if (!quad) return std::nullopt;
    ip a{};
    a[10] = a[11] = 0xff;
    for (int i = 0; i < 4; ++i) a[12 + i] = (*quad)[i];
    return a;
}

// Colon-separated 16-bit groups of 1-4 hex digits; the last group of the address may
// instead be a dotted quad (two groups). Empty text is zero groups.
inline std::optional<std::vector<std::uint16_t>> parse_groups(std::string_view s, bool may_end_in_quad) {
    std::vector<std::uint16_t> groups;
    if (s.empty()) return groups;
    const auto parts = split(s, ':');
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto p = parts[i];
        if (may_end_in_quad && i + 1 == parts.size() && p.find('.') != std::string_view::npos) {
            const auto quad = parse_dotted_quad(p);
            if (!quad) return std::nullopt;
            groups.push_back(std::uint16_t((*quad)[0] << 8 | (*quad)[1]));
            groups.push_back(std::uint16_t((*quad)[2] << 8 | (*quad)[3]));
            continue;
        }
        if (p.empty() || p.size() > 4) return std::nullopt;
        unsigned value = 0;
        for (char c : p) {
            const char l = lower(c);
            if (l >= '0' && l <= '9') value = value * 16 + unsigned(l - '0');
            else if (l >= 'a' && l <= 'f') value = value * 16 + unsigned(l - 'a' + 10);
            else return std::nullopt;
        }
        groups.push_back(std::uint16_t(value));
    }
    return groups;
}

// RFC 4291 text: eight groups, or fewer around a single `::`.
inline std::optional<ip> parse_ipv6(std::string_view s) {
    std::vector<std::uint16_t> all;
    const auto gap = s.find("::");
    if (gap == std::string_view::npos) {
        const auto groups = parse_groups(s, true);
        if (!groups || groups->size() != 8) return std::nullopt;
        all = *groups;
    } else {
        const auto before = parse_groups(s.substr(0, gap), false);
        const auto after = parse_groups(s.substr(gap + 2), true);
        if (!before || !after || before->size() + after->size() > 7) return std::nullopt;
        all = *before;
        all.resize(8 - after->size(), 0);
        all.insert(all.end(), after->begin(), after->end());
    }
    ip a{};
    for (std::size_t i = 0; i < 8; ++i) {
        a[2 * i] = std::uint8_t(all[i] >> 8);
        a[2 * i + 1] = std::uint8_t(all[i] & 0xff);
    }
    return a;
}

// Canonical text only: a dotted quad, or IPv6 text optionally in brackets.
inline std::optional<ip> parse_address(std::string_view s) {
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return parse_ipv6(s.substr(1, s.size() - 2));
    if (s.find(':') != std::string_view::npos) return parse_ipv6(s);
    return parse_ipv4(s);
}

// A trustedProxies entry: one address, or base/prefix with no host bits set. `bits`
// counts in the 128-bit space, so an IPv4 /8 is 104 bits.
struct block {
    ip base{};
    int bits = 128;
};

inline bool same_leading_bits(const ip& a, const ip& b, int bits) {
    for (int i = 0; i < bits; ++i) {
        const int byte = i / 8, shift = 7 - i % 8;
        if (((a[byte] >> shift) & 1) != ((b[byte] >> shift) & 1)) return false;
    }
    return true;
}

inline std::optional<block> parse_block(std::string_view entry) {
    const auto slash = entry.find('/');
    const auto base = parse_address(entry.substr(0, slash));
    if (!base) return std::nullopt;
    if (slash == std::string_view::npos) return block{*base, 128};
    const auto digits = entry.substr(slash + 1);
    if (!all_digits(digits) || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
    const int prefix = std::stoi(std::string(digits));
    // The prefix counts in the family the entry is written in.
    const bool written_as_ipv6 = entry.substr(0, slash).find(':') != std::string_view::npos;
    const int width = written_as_ipv6 ? 128 : 32;
    if (prefix > width) return std::nullopt;
    const block b{*base, prefix + (128 - width)};
    // No host bits: every bit after the prefix is zero.
    for (int i = b.bits; i < 128; ++i)
        if ((b.base[i / 8] >> (7 - i % 8)) & 1) return std::nullopt;
    return b;
}

// behaviour §1: an IPv4 block matches IPv4 addresses (in either spelling), an IPv6 block only
// IPv6 addresses, even where its bits span the mapped space (`::/80`, `::/0`).
inline bool in_block(const ip& a, const block& b) {
    return is_ipv4(a) == is_ipv4(b.base) && same_leading_bits(a, b.base, b.bits);
}

// behaviour §1: an entry written in IPv6 inside ::ffff:0:0/96 is a start-up error.
inline bool ipv6_entry_inside_mapped_space(std::string_view entry) {
    const auto b = parse_block(entry);
    return b && is_ipv4(b->base) && entry.substr(0, entry.find('/')).find(':') != std::string_view::npos;
}

inline bool trusted(const ip& a, const std::vector<block>& proxies) {
    for (const auto& b : proxies)
        if (in_block(a, b)) return true;
    return false;
}

// The configuration's trustedProxies; precondition: every entry is valid (the library
// refuses to start otherwise, which the tests check separately).
inline std::vector<block> trusted_blocks(const auth_config& config) {
    std::vector<block> blocks;
    for (const auto& entry : config.trusted_proxies)
        if (const auto b = parse_block(entry)) blocks.push_back(*b);
    return blocks;
}

// ------------------------------------------------------------------ §1 request facts

// `localhost`, `127.x.y.z` or a bracketed IPv6 loopback, each with an optional `:port`.
inline bool names_local_host(std::string_view host_and_port) {
    std::string_view host = host_and_port, port;
    if (!host_and_port.empty() && host_and_port.front() == '[') {
        const auto close = host_and_port.find(']');
        if (close == std::string_view::npos) return false;
        host = host_and_port.substr(0, close + 1);
        port = host_and_port.substr(close + 1);
    } else if (const auto colon = host_and_port.find(':'); colon != std::string_view::npos) {
        host = host_and_port.substr(0, colon);
        port = host_and_port.substr(colon);
    }
    if (!port.empty()) {
        if (port[0] != ':' || !is_port(port.substr(1))) return false;
    }
    if (lowercase(host) == "localhost") return true;
    if (!host.empty() && host.front() == '[') {
        const auto a = parse_ipv6(host.substr(1, host.size() - 2));
        return a && is_loopback(*a);
    }
    const auto a = parse_ipv4(host);
    return a && is_loopback(*a);
}

// `scheme://host[:port]`, the scheme a letter then letters, digits, `+`, `-`, `.`.
inline bool origin_names_local_host(std::string_view origin) {
    const auto separator = origin.find("://");
    if (separator == std::string_view::npos || separator == 0) return false;
    const char first = lower(origin[0]);
    if (first < 'a' || first > 'z') return false;
    for (char c : origin.substr(0, separator)) {
        const char l = lower(c);
        if (!((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || c == '+' || c == '-' || c == '.')) return false;
    }
    return names_local_host(origin.substr(separator + 3));
}

inline bool is_forwarded_evidence(std::string_view name) {
    const auto n = lowercase(name);
    return n == "forwarded" || n == "x-real-ip" || n.rfind("x-forwarded-", 0) == 0;
}

enum class bearer { none, token, several_authorization_headers };

// What behaviour §1 and §3 ask of a request's headers.
struct facts {
    unsigned user_lines = 0;        // lines of the user header, blank or not
    bool user_present = false;      // some line is not blank
    bool user_has_comma = false;
    std::string user_value;         // the first non-blank line, trimmed
    bool forwarded_evidence = false;
    bool host_local = true;         // host absent, or one line naming a local host
    bool origin_local = true;       // origin absent, or one line naming a local host
    bearer presented = bearer::none;
    std::string token;              // when presented == bearer::token
};

// `user_header` empty: the composition reads no user header (token and none modes).
inline facts look_at(const basic_request& request, std::string_view user_header) {
    facts f;
    std::vector<std::string_view> hosts, origins, authorizations;
    for (const auto& h : request.headers()) {
        const auto value = trim(h.value);
        if (is_forwarded_evidence(h.name)) f.forwarded_evidence = true;
        if (!user_header.empty() && same_ignoring_case(h.name, user_header)) {
            ++f.user_lines;
            if (value.find(',') != std::string_view::npos) f.user_has_comma = true;
            if (!value.empty() && !f.user_present) {
                f.user_present = true;
                f.user_value = std::string(value);
            }
        } else if (same_ignoring_case(h.name, "host")) {
            hosts.push_back(value);
        } else if (same_ignoring_case(h.name, "origin")) {
            origins.push_back(value);
        } else if (same_ignoring_case(h.name, "authorization")) {
            authorizations.push_back(value);
        }
    }
    f.host_local = hosts.empty() || (hosts.size() == 1 && names_local_host(hosts[0]));
    f.origin_local = origins.empty() || (origins.size() == 1 && origin_names_local_host(origins[0]));
    if (authorizations.size() > 1) {
        f.presented = bearer::several_authorization_headers;
    } else if (authorizations.size() == 1) {
        // `Bearer`, in any case, then at least one space or tab, then a token.
        const auto v = authorizations[0];
        if (v.size() > 7 && lowercase(v.substr(0, 6)) == "bearer" && (v[6] == ' ' || v[6] == '\t') &&
            !trim(v.substr(7)).empty()) {
            f.presented = bearer::token;
            f.token = std::string(trim(v.substr(7)));
        }
    }
    return f;
}

// behaviour §1 local process proof: localUsers as user ids. A digit string is an id, anything
// else a user name of this host (the library refuses unknown names at start-up); none
// listed means the user this process runs as.
inline std::vector<std::uint32_t> local_user_ids(const trusted_proxy_config& tp) {
    std::vector<std::uint32_t> ids;
    for (const auto& user : tp.local_users) {
        if (all_digits(user)) {
            ids.push_back(std::uint32_t(std::stoul(user)));
            continue;
        }
        std::vector<char> buffer(16 * 1024);
        passwd entry{};
        passwd* found = nullptr;
        if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found) ids.push_back(found->pw_uid);
    }
    if (tp.local_users.empty()) ids.push_back(std::uint32_t(geteuid()));
    return ids;
}

// The kernel named the request's user, and it is one of localUsers. A platform that
// cannot prove has no same-host proxy in the picture (the library makes sure of that).
inline bool proven_local(const trusted_proxy_config& tp, const basic_request& request) {
    if (!local_proof_available) return true;
    const auto proof = request.local_proof();
    if (proof.result != local_proof::outcome::found) return false;
    for (const auto id : local_user_ids(tp))
        if (id == proof.uid) return true;
    return false;
}

// behaviour §1: what a CLI or sub-agent on the gateway host sends, proven by the kernel.
inline bool direct_local(const ip& peer, bool peer_trusted, const facts& f, bool proven) {
    return is_loopback(peer) && peer_trusted && !f.forwarded_evidence && f.host_local && f.origin_local && proven;
}

// A named header with a non-blank value (behaviour §3 step 4.1).
inline bool has_non_blank(const basic_request& request, std::string_view name) {
    for (const auto& h : request.headers())
        if (same_ignoring_case(h.name, name) && !is_blank(h.value)) return true;
    return false;
}

// ---------------------------------------------------------------------- §4 client IP

// `a.b.c.d`, `a.b.c.d:port`, `v6`, `[v6]`, `[v6]:port`; anything else is malformed.
inline std::optional<ip> parse_forwarded_for_entry(std::string_view entry) {
    if (!entry.empty() && entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto rest = entry.substr(close + 1);
        if (!rest.empty() && (rest[0] != ':' || !is_port(rest.substr(1)))) return std::nullopt;
        return parse_ipv6(entry.substr(1, close - 1));
    }
    const auto colons = split(entry, ':').size() - 1;
    if (colons == 1) {
        const auto colon = entry.find(':');
        if (!is_port(entry.substr(colon + 1))) return std::nullopt;
        return parse_ipv4(entry.substr(0, colon));
    }
    return parse_address(entry);
}

// An x-forwarded-for or forwarded entry: an address, or malformed (nullopt).
using hop = std::optional<ip>;

// Every line's comma-separated entries, trimmed; empty ones are no entries (RFC 9110 §5.6.1).
inline std::vector<hop> forwarded_for_hops(const basic_request& request) {
    std::vector<hop> hops;
    for (const auto& h : request.headers())
        if (same_ignoring_case(h.name, "x-forwarded-for"))
            for (const auto e : split(h.value, ','))
                if (!trim(e).empty()) hops.push_back(parse_forwarded_for_entry(trim(e)));
    return hops;
}

// RFC 9110 tchar.
inline bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
            return false;
    return true;
}

// `s` cut at every `separator` that is not inside a "quoted string" (where `\` escapes
// the next character).
inline std::vector<std::string> split_outside_quotes(std::string_view s, char separator) {
    std::vector<std::string> parts(1);
    bool quoted = false, escaped = false;
    for (char c : s) {
        if (!quoted && c == separator) {
            parts.emplace_back();
            continue;
        }
        parts.back() += c;
        if (escaped) escaped = false;
        else if (quoted && c == '\\') escaped = true;
        else if (c == '"') quoted = !quoted;
    }
    return parts;
}

// The text of a quoted-string `"..."` (RFC 9110 §5.6.4), or nullopt when `value` is not
// exactly one: unterminated, a bare `"` inside, control characters other than tab.
inline std::optional<std::string> unquote(std::string_view value) {
    if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::nullopt;
    std::string text;
    const auto inner = value.substr(1, value.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
        char c = inner[i];
        if (c == '"') return std::nullopt;
        if (c == '\\') {
            if (i + 1 == inner.size()) return std::nullopt;  // it escapes the closing quote
            c = inner[++i];
        }
        if (has_control_character(std::string(1, c)) && c != '\t') return std::nullopt;
        text += c;
    }
    return text;
}

// RFC 7239 §4, one element: `;`-separated name=value pairs (empty ones allowed, spaces
// around them trimmed), names tokens, values tokens or quoted strings. The element names
// its client in exactly one `for=` (any case), whose node (§6) is IPv4 with an optional
// port or bracketed IPv6 with an optional port, at most 64 characters; `unknown` and
// `_obfuscated` nodes, like every other deviation, are malformed.
inline hop forwarded_element_hop(std::string_view element) {
    std::vector<std::string> nodes;
    for (const auto& part : split_outside_quotes(element, ';')) {
        const auto pair = trim(part);
        if (pair.empty()) continue;
        const auto equals = pair.find('=');
        if (equals == std::string_view::npos) return std::nullopt;
        const auto name = pair.substr(0, equals), value = pair.substr(equals + 1);
        if (!is_token(name)) return std::nullopt;
        std::string text;
        if (is_token(value)) text = std::string(value);
        else if (const auto unquoted = unquote(value)) text = *unquoted;
        else return std::nullopt;
        if (lowercase(name) == "for") nodes.push_back(text);
    }
    if (nodes.size() != 1 || nodes[0].size() > 64) return std::nullopt;
    const auto& node = nodes[0];
    // An IPv6 node must be bracketed: a bare one has two or more colons.
    if (!node.empty() && node.front() != '[' && split(node, ':').size() > 2) return std::nullopt;
    return parse_forwarded_for_entry(node);
}

inline std::vector<hop> forwarded_hops(const basic_request& request) {
    std::vector<hop> hops;
    for (const auto& h : request.headers())
        if (same_ignoring_case(h.name, "forwarded"))
            for (const auto& element : split_outside_quotes(h.value, ','))
                if (!trim(element).empty()) hops.push_back(forwarded_element_hop(trim(element)));
    return hops;
}

// Walk the configured header's entries from the right, skipping trusted hops: the first
// untrusted entry is the client; a malformed entry means the peer; all trusted means the
// leftmost; no entries means the peer.
inline net::address client_ip(const basic_request& request, const std::vector<block>& proxies, forwarding_header header) {
    const auto hops = header == forwarding_header::forwarded ? forwarded_hops(request) : forwarded_for_hops(request);
    if (hops.empty()) return request.peer();
    for (std::size_t i = hops.size(); i-- > 0;) {
        if (!hops[i]) return request.peer();
        if (!trusted(*hops[i], proxies)) return to_library(*hops[i]);
    }
    return to_library(*hops[0]);
}

// ------------------------------------------------------------- §6 failed attempts

// Milliseconds on some monotonic clock.
using instant = std::chrono::milliseconds;

// Failed token compares per client key: the client IP for IPv4, its first
// ipv6_prefix_length bits (the rest zero) for IPv6. A failure counts while it is younger
// than the window; the max_attempts-th counted failure locks the key for `lockout` (and
// the count starts again from zero); a successful compare forgets the key. With
// global_max_attempts, the failures of all keys are also counted together the same way,
// and reaching that number locks every key for `lockout`. Loopback clients are exempt
// (neither counted nor locked) unless exempt_loopback is false.
class failed_attempts {
public:
    explicit failed_attempts(const rate_limit_config& config) : config_(config) {}

    bool exempt(const net::address& client) const { return config_.exempt_loopback && is_loopback(from_library(client)); }

    ip key_of(const net::address& client) const {
        ip key = from_library(client);
        if (is_ipv4(key)) return key;
        for (int bit = int(config_.ipv6_prefix_length); bit < 128; ++bit) key[bit / 8] &= std::uint8_t(~(0x80 >> (bit % 8)));
        return key;
    }

    // Seconds left, rounded up, while `client` is locked out.
    std::optional<std::chrono::seconds> locked(const net::address& client, instant now) const {
        if (exempt(client)) return std::nullopt;
        std::optional<instant> until = global_locked_until_;
        const auto it = keys_.find(key_of(client));
        if (it != keys_.end() && it->second.locked_until && (!until || *it->second.locked_until > *until))
            until = it->second.locked_until;
        if (!until || now >= *until) return std::nullopt;
        const auto left = *until - now;
        return std::chrono::seconds((left.count() + 999) / 1000);
    }

    void failure(const net::address& client, instant now) {
        if (exempt(client)) return;
        auto& k = keys_[key_of(client)];
        if (count(k.failures, now, config_.max_attempts)) k.locked_until = now + config_.lockout;
        if (config_.global_max_attempts != 0 && count(global_failures_, now, config_.global_max_attempts))
            global_locked_until_ = now + config_.lockout;
    }

    void success(const net::address& client) {
        if (!exempt(client)) keys_.erase(key_of(client));
    }

private:
    // Keeps the failures younger than the window, adds `now`; true (and forgets them all)
    // when that makes `limit`.
    bool count(std::vector<instant>& failures, instant now, unsigned limit) const {
        std::vector<instant> counted;
        for (const auto t : failures)
            if (now - t < config_.window) counted.push_back(t);
        counted.push_back(now);
        failures = counted;
        if (failures.size() < limit) return false;
        failures.clear();
        return true;
    }

    struct history {
        std::vector<instant> failures;
        std::optional<instant> locked_until;
    };
    rate_limit_config config_;
    std::map<ip, history> keys_;
    std::vector<instant> global_failures_;
    std::optional<instant> global_locked_until_;
};

// ------------------------------------------------------------ §3 authentication

// Which behaviour §3 steps a gateway runs. The full trusted-proxy gateway runs them all;
// token and none modes, and custom compositions, leave some out.
struct steps {
    enum class identity_from { user_header, bearer_token, nobody };

    bool trusted_source = true;    // step 1 (and §4 client IP)
    bool loopback = true;          // steps 2, 3 and 5
    bool required_headers = true;  // step 4.1
    identity_from identity = identity_from::user_header;  // 4.2-4.4, token mode, none mode
    bool allow_users = true;       // step 4.5
    bool assertion = false;        // behaviour §10, between steps 4.1 and 4.2
    bool certificate = false;      // behaviour §11, at the start of step 4
};

struct outcome {
    bool allowed = false;
    reason why = reason::ok;
    via how = via::none;
    std::string identity;
    std::string detail;  // the missing header's name
    net::address client_ip;
    std::chrono::seconds retry_after{0};
};

// The clock and the failed-attempt record, when the gateway has a limiter.
struct limiting {
    failed_attempts* attempts = nullptr;
    instant now{0};
};

inline outcome deny(reason why, const net::address& client, std::string detail = {}) {
    outcome o;
    o.why = why;
    o.client_ip = client;
    o.detail = std::move(detail);
    return o;
}

inline outcome allow(via how, std::string identity, const net::address& client) {
    outcome o;
    o.allowed = true;
    o.how = how;
    o.identity = std::move(identity);
    o.client_ip = client;
    return o;
}

inline bool token_configured(const auth_config& config) { return config.token && !config.token->empty(); }

// Compare a presented bearer with the configured token, counting failures (behaviour §6).
// Returns the denial, or nothing when the token matched.
inline std::optional<outcome> compare_token(const auth_config& config, const facts& f, const net::address& client,
                                            limiting limit) {
    if (limit.attempts) {
        if (const auto left = limit.attempts->locked(client, limit.now)) {
            auto o = deny(reason::rate_limited, client);
            o.retry_after = *left;
            return o;
        }
    }
    const bool equal = f.presented == bearer::token && f.token == *config.token;
    if (limit.attempts) {
        if (equal) limit.attempts->success(client);
        else limit.attempts->failure(client, limit.now);
    }
    if (!equal) return deny(reason::token_mismatch, client);
    return std::nullopt;
}

// Step 5: only ever reached by a direct-local request without a user header.
inline outcome loopback_fallback(const auth_config& config, const facts& f, const net::address& client,
                                 bool from_step_2, limiting limit) {
    const auto& loopback_user = config.trusted_proxy.loopback_user;
    if (f.presented != bearer::none && token_configured(config)) {
        if (auto denied = compare_token(config, f, client, limit)) return *denied;
        return allow(via::token, loopback_user ? *loopback_user : "local", client);
    }
    if (loopback_user) return allow(via::loopback_user, *loopback_user, client);
    if (token_configured(config)) return deny(reason::token_missing, client);
    return deny(from_step_2 ? reason::trusted_proxy_loopback_source : reason::trusted_proxy_user_missing, client);
}

inline bool allowed_user(const trusted_proxy_config& tp, std::string_view user) {
    for (const auto& u : tp.allow_users)
        if (tp.allow_users_case_insensitive ? same_ignoring_case(u, user) : u == user) return true;
    return false;
}

// ------------------------------------------------------- §10 signed assertions

// A signed assertion as the test that made it knows it: what its text would show a
// verifier, not the text. The tests sign a real token for each one they send.
struct abstract_assertion {
    enum class key_named { listed, unlisted, other_type };
    bool well_formed = true;    // three base64url parts, a JSON header, at most 8 KiB
    std::string alg = "ES256";
    bool crit = false;
    key_named key = key_named::listed;  // what its kid names in the configured JWKS
    bool signature_valid = true;        // signed by that key
    bool times_numeric = true;          // exp, nbf, iat numbers when present
    std::optional<long long> exp, nbf, iat;
    std::string iss;
    std::vector<std::string> aud;
    std::optional<std::string> identity;  // the identity claim, when it is a string
};

// What the tests sent: each assertion header value and the assertion it stands for, and
// the clock. A value that is not listed is no token at all.
struct assertion_context {
    std::vector<std::pair<std::string, abstract_assertion>> tokens;
    long long now = 0;  // seconds since the Unix epoch
};

// behaviour §10's configuration after its preset.
struct assertion_settings {
    std::string header;
    std::vector<std::string> algorithms;
    std::string issuer;
    std::vector<std::string> audience;
    std::string claim;
    long long leeway = 60;
};

inline assertion_settings settings_of(const assertion_config& c) {
    assertion_settings s;
    if (c.preset == "pomerium") s = {"x-pomerium-jwt-assertion", {"ES256"}, "", {}, "email", 60};
    if (c.preset == "cloudflare-access") s = {"cf-access-jwt-assertion", {"RS256"}, "", {}, "email", 60};
    if (c.preset == "google-iap") s = {"x-goog-iap-jwt-assertion", {"ES256"}, "https://cloud.google.com/iap", {}, "email", 60};
    if (c.header) s.header = *c.header;
    if (!c.algorithms.empty()) s.algorithms = c.algorithms;
    if (c.issuer) s.issuer = *c.issuer;
    s.audience = c.audience;
    if (c.identity_claim) s.claim = *c.identity_claim;
    if (s.claim.empty()) s.claim = "email";
    s.leeway = c.leeway_seconds;
    return s;
}

// Steps 1-7: the identity the assertion vouches for, or the denial.
inline std::optional<outcome> check_assertion(const assertion_config& config, const basic_request& request,
                                              const assertion_context& context, const net::address& client,
                                              std::string& identity) {
    const auto s = settings_of(config);
    std::vector<std::string_view> lines;
    for (const auto& h : request.headers())
        if (same_ignoring_case(h.name, s.header)) lines.push_back(trim(h.value));
    std::string_view value;
    for (const auto line : lines)
        if (!line.empty()) {
            value = line;
            break;
        }
    if (value.empty()) return deny(reason::trusted_proxy_assertion_missing, client);
    if (lines.size() > 1) return deny(reason::trusted_proxy_assertion_invalid, client);
    const abstract_assertion* a = nullptr;
    for (const auto& [text, token] : context.tokens)
        if (text == value) a = &token;
    if (a == nullptr || !a->well_formed) return deny(reason::trusted_proxy_assertion_invalid, client);
    bool alg_allowed = false;
    for (const auto& alg : s.algorithms) alg_allowed = alg_allowed || alg == a->alg;
    if (!alg_allowed || a->crit || a->key == abstract_assertion::key_named::other_type)
        return deny(reason::trusted_proxy_assertion_invalid, client);
    if (a->key == abstract_assertion::key_named::unlisted) return deny(reason::trusted_proxy_assertion_unknown_key, client);
    if (!a->signature_valid) return deny(reason::trusted_proxy_assertion_invalid, client);
    if (!a->times_numeric) return deny(reason::trusted_proxy_assertion_invalid, client);
    const long long now = context.now;
    if (!a->exp || *a->exp + s.leeway <= now || (a->nbf && *a->nbf > now + s.leeway) || (a->iat && *a->iat > now + s.leeway))
        return deny(reason::trusted_proxy_assertion_expired, client);
    if (a->iss != s.issuer) return deny(reason::trusted_proxy_assertion_issuer, client);
    bool audience_ok = false;
    for (const auto& mine : s.audience)
        for (const auto& theirs : a->aud) audience_ok = audience_ok || mine == theirs;
    if (!audience_ok) return deny(reason::trusted_proxy_assertion_audience, client);
    const auto claim = a->identity ? trim(*a->identity) : std::string_view();
    if (claim.empty() || claim.size() > 256 || has_control_character(claim)) return deny(reason::trusted_proxy_assertion_invalid, client);
    identity = std::string(claim);
    return std::nullopt;
}

// ------------------------------------------------- §11 proxy client certificates

// The connection's certificate, as the TLS handshake left it: verified or not, and its
// names (DNS SANs, else the CN). A name is allowed when it equals a listed one ignoring
// ASCII case; an empty list allows every verified certificate.
inline std::optional<outcome> check_certificate(const client_certificate_config& config, const peer_certificate& presented,
                                                const net::address& client) {
    if (!presented.verified) return deny(reason::trusted_proxy_certificate_missing, client);
    if (config.allowed_names.empty()) return std::nullopt;
    for (const auto& name : presented.names)
        for (const auto& allowed : config.allowed_names)
            if (same_ignoring_case(name, allowed)) return std::nullopt;
    return deny(reason::trusted_proxy_certificate_not_allowed, client);
}

// behaviour §3: steps in order, the first deny wins.
inline outcome authenticate(const steps& s, const auth_config& config, const basic_request& request,
                            limiting limit = {}, const assertion_context* assertions = nullptr) {
    const auto& tp = config.trusted_proxy;
    const auto proxies = trusted_blocks(config);
    const ip peer = from_library(request.peer());
    net::address client = request.peer();

    // 1. Only trusted proxies may speak; only their x-forwarded-for is believed.
    const bool peer_trusted = s.trusted_source && trusted(peer, proxies);
    if (s.trusted_source) {
        if (!peer_trusted) return deny(reason::trusted_proxy_untrusted_source, client);
        client = client_ip(request, proxies, config.client_ip_header);
    }

    const bool reads_user_header = s.identity == steps::identity_from::user_header;
    const facts f = look_at(request, reads_user_header ? std::string_view(tp.user_header) : std::string_view());
    const bool local = direct_local(peer, peer_trusted, f, proven_local(tp, request));

    if (s.loopback) {
        // 2. A loopback peer is a local tool, or a same-host proxy only if allowLoopback.
        if (is_loopback(peer) && !tp.allow_loopback) {
            if (local && !f.user_present) return loopback_fallback(config, f, client, true, limit);
            return deny(reason::trusted_proxy_loopback_source, client);
        }
        // 3. A direct-local request without a user header.
        if (!f.user_present && local) return loopback_fallback(config, f, client, false, limit);
    }

    // §11: with clientCertificate, the header path needs the proxy's verified certificate.
    if (s.certificate && tp.client_certificate) {
        if (auto denied = check_certificate(*tp.client_certificate, request.peer_certificate(), client)) return *denied;
    }

    // 4.1 Headers only the proxy sets.
    if (s.required_headers)
        for (const auto& name : tp.required_headers)
            if (!has_non_blank(request, name)) return deny(reason::trusted_proxy_missing_header, client, name);

    // §10 steps 1-7: with an assertion, the identity is its claim.
    std::optional<std::string> asserted;
    if (s.assertion && tp.assertion) {
        static const assertion_context none;
        std::string claim;
        if (auto denied = check_assertion(*tp.assertion, request, assertions ? *assertions : none, client, claim))
            return *denied;
        asserted = claim;
    }

    std::string identity;
    via how = via::none;
    switch (s.identity) {
        case steps::identity_from::user_header:
            if (asserted) {
                // §10 step 8: the user header is optional, and agrees when present.
                if (f.user_present && (f.user_lines > 1 || f.user_has_comma)) return deny(reason::trusted_proxy_user_ambiguous, client);
                if (f.user_present && !(tp.allow_users_case_insensitive ? same_ignoring_case(f.user_value, *asserted)
                                                                        : f.user_value == *asserted))
                    return deny(reason::trusted_proxy_user_mismatch, client);
                identity = *asserted;
                how = via::trusted_proxy;
                break;
            }
            // 4.2-4.4 The proxy's user header: there, once, plain.
            if (!f.user_present) return deny(reason::trusted_proxy_user_missing, client);
            if (f.user_lines > 1 || f.user_has_comma) return deny(reason::trusted_proxy_user_ambiguous, client);
            if (f.user_value.size() > 256 || has_control_character(f.user_value))
                return deny(reason::trusted_proxy_user_invalid, client);
            identity = f.user_value;
            how = via::trusted_proxy;
            break;
        case steps::identity_from::bearer_token:
            // Token mode: every peer presents the token.
            if (f.presented == bearer::none) return deny(reason::token_missing, client);
            if (auto denied = compare_token(config, f, client, limit)) return *denied;
            identity = "token";
            how = via::token;
            break;
        case steps::identity_from::nobody:
            // None mode: everyone is anonymous.
            identity = "anonymous";
            break;
    }

    // 4.5 Which identities are welcome.
    if (s.allow_users && !tp.allow_users.empty() && !allowed_user(tp, identity))
        return deny(reason::trusted_proxy_user_not_allowed, client);

    // 4.6 (or the token / none mode allow).
    return allow(how, identity, client);
}

// ------------------------------------------------------------------------- §5 scopes

// admin satisfies everything; write satisfies read and talk; others only themselves.
inline bool implies(std::string_view granted, std::string_view required) {
    if (granted == required || granted == "operator.admin") return true;
    return granted == "operator.write" && (required == "operator.read" || required == "operator.talk");
}

// The configured grant, before the request's scopes header narrows it.
inline std::vector<std::string> configured_grant(const scopes_config& config, const outcome& o) {
    if (!o.allowed) return {};
    if (o.how == via::token) return config.token_scopes;
    for (const auto& [identity, scopes] : config.identity_scopes)
        if (same_ignoring_case(identity, o.identity)) return scopes;
    return config.default_scopes;
}

inline const std::vector<std::string>& scope_names() {
    static const std::vector<std::string> names = {
        "operator.admin",     "operator.read",      "operator.write", "operator.approvals",
        "operator.pairing",   "operator.questions", "operator.talk",  "operator.talk.secrets"};
    return names;
}

// The grant, narrowed by the scopes header (every line, comma-separated) if sent: each
// requested scope name that something in the grant implies.
inline std::vector<std::string> granted_scopes(const scopes_config& config, const outcome& o,
                                               const basic_request& request) {
    const auto grant = configured_grant(config, o);
    bool header_sent = false;
    std::vector<std::string> asked;
    for (const auto& h : request.headers()) {
        if (!same_ignoring_case(h.name, config.header)) continue;
        header_sent = true;
        for (const auto name : split(h.value, ',')) asked.emplace_back(trim(name));
    }
    if (!header_sent) return grant;
    std::vector<std::string> granted;
    for (const auto& a : asked) {
        bool known = false, implied = false, repeated = false;
        for (const auto& n : scope_names()) known = known || n == a;
        for (const auto& g : grant) implied = implied || implies(g, a);
        for (const auto& g : granted) repeated = repeated || g == a;
        if (known && implied && !repeated) granted.push_back(a);
    }
    return granted;
}

inline std::string required_scope(const scopes_config& config, std::string_view method) {
    for (const auto& [m, scope] : config.methods)
        if (m == method) return scope;
    static const std::vector<std::pair<std::string, std::string>> built_in = {
        {"health", "operator.read"},      {"status", "operator.read"},      {"chat.send", "operator.write"},
        {"approvals.resolve", "operator.approvals"}, {"config.get", "operator.read"}, {"config.set", "operator.admin"},
    };
    for (const auto& [m, scope] : built_in)
        if (m == method) return scope;
    return "operator.admin";
}

struct authorization {
    bool allowed = false;
    std::string required_scope;
    std::vector<std::string> granted;
};

inline authorization authorize(const scopes_config& config, const outcome& o, std::string_view method,
                               const basic_request& request) {
    authorization a;
    a.required_scope = required_scope(config, method);
    a.granted = granted_scopes(config, o, request);
    for (const auto& g : a.granted)
        if (implies(g, a.required_scope)) a.allowed = true;
    return a;
}

}  // namespace trustgate::model
