// trustgate/runtime/audit_log.hpp — one JSON object per line, each written whole.
//
//   audit_log audit(stderr);
//   log_line line = decision_fields(d.owned(), audit_peer_of(request, config->settings), config->generation);
//   line["route"] = loggable_target(target);
//   audit.write("decision", line);
//
// Lines come from many threads; each is formatted first and written with one call under
// a lock, so lines never interleave. Callers put only what behaviour §7 allows in a line:
// never a token, a password, a cookie or a header's value other than the identity; the
// helpers below write request bytes so that no two inputs look alike (log_text) and
// drop what may carry a secret (loggable_target).
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "trustgate/beast/handler.hpp"
#include "trustgate/decision.hpp"
#include "trustgate/impl/scan.hpp"
#include "trustgate/local_proof.hpp"
#include "trustgate/policy/proxy_identity.hpp"
#include "trustgate/policy/scopes.hpp"
#include "trustgate/presets.hpp"
#include "trustgate/request.hpp"
#include "trustgate/runtime/config_json.hpp"

namespace trustgate::runtime {

// Field order is kept as written (time and event first), for people reading the log.
using log_line = nlohmann::ordered_json;

// RFC 3339 UTC with milliseconds, e.g. 2025-01-31T12:00:00.123Z.
inline std::string utc_timestamp(std::chrono::system_clock::time_point t = std::chrono::system_clock::now()) {
    const auto since_epoch = t.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t whole = seconds.count();
    std::tm utc{};
    gmtime_r(&whole, &utc);
    char text[32];
    const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
    return text;
}

// JSON text that survives any identity bytes: invalid UTF-8 becomes U+FFFD instead of
// an exception.
inline std::string to_text(const log_line& value) {
    return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

class audit_log {
public:
    explicit audit_log(std::FILE* out) : out_(out) {}

    // Writes {"time":…,"event":event, …fields}.
    void write(std::string_view event, const log_line& fields) const {
        log_line line;
        line["time"] = utc_timestamp();
        line["event"] = std::string(event);
        for (const auto& [key, value] : fields.items()) line[key] = value;
        const std::string text = to_text(line) + "\n";
        std::lock_guard lock(mutex_);
        std::fwrite(text.data(), 1, text.size(), out_);
        std::fflush(out_);
    }

private:
    std::FILE* out_;
    mutable std::mutex mutex_;
};

// Request bytes as log text that tells every input apart (README, "Audit log"): `\` is
// written `\\` and each byte that is not part of valid UTF-8 `\xHH`, so an identity
// with a stray 0xFF never looks like one with U+FFFD, nor like one spelling `\xff`.
inline std::string log_text(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        // Length of the UTF-8 sequence starting here, 0 when it is not a valid one.
        std::size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (n > 1) {
            if (i + n > bytes.size()) n = 0;
            for (std::size_t k = 1; n != 0 && k < n; ++k)
                if ((static_cast<unsigned char>(bytes[i + k]) & 0xc0) != 0x80) n = 0;
            if (n != 0) {
                const auto second = static_cast<unsigned char>(bytes[i + 1]);
                // Overlong forms, UTF-16 surrogates and code points beyond U+10FFFF.
                if ((c == 0xe0 && second < 0xa0) || (c == 0xed && second > 0x9f) || (c == 0xf0 && second < 0x90) ||
                    (c == 0xf4 && second > 0x8f))
                    n = 0;
            }
        }
        if (n == 0) {
            out.append("\\x").push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
            ++i;
        } else if (c == '\\') {
            out.append("\\\\");
            ++i;
        } else {
            out.append(bytes.substr(i, n));
            i += n;
        }
    }
    return out;
}

// The request target as the audit log shows it (`route`): without query and fragment
// (tokens travel there) and without the userinfo of an absolute-form target
// (`http://alice:secret@host/…`).
inline std::string loggable_target(std::string_view target) {
    target = target.substr(0, target.find_first_of("?#"));
    if (const auto sep = target.find("://"); sep != std::string_view::npos) {
        const auto authority = target.substr(sep + 3, target.find('/', sep + 3) - (sep + 3));
        if (const auto at = authority.rfind('@'); at != std::string_view::npos)
            return log_text(std::string(target.substr(0, sep + 3)) + std::string(target.substr(sep + 3 + at + 1)));
    }
    return log_text(target);
}

// Who is at the other end, for the audit line: the TCP peer (or `unix:PATH` for the local
// socket), and the user the kernel named when the connection was accepted.
struct audit_peer {
    std::string peer;
    trustgate::local_proof proof;
};

inline audit_peer audit_peer_of(const trustgate::beast::incoming& request, const gateway_config& settings) {
    if (request.local_socket() && settings.local_socket) return {"unix:" + *settings.local_socket, request.local_proof()};
    return {request.peer().to_string(), request.local_proof()};
}

// The identity a refused request named (behaviour §7: an operator sees that the proxy sent
// `a1b2-uuid` rather than a name): the user header as the identity policy read it.
template <class Gateway>
std::optional<std::string> refused_identity(const Gateway& gateway, const trustgate::decision& d, const trustgate::beast::incoming& request) {
    if constexpr (std::is_same_v<Gateway, trustgate::trusted_proxy_gateway>) {
        if (d.why != trustgate::reason::trusted_proxy_user_not_allowed && d.why != trustgate::reason::trusted_proxy_user_invalid)
            return std::nullopt;
        trustgate::request_facts facts;
        trustgate::detail::scan_request(request, gateway.template get<trustgate::proxy_identity>().user_header(), facts);
        return std::string(facts.user_value);
    } else {
        return std::nullopt;
    }
}

// The audit fields of an authentication decision (behaviour §7), and the configuration
// generation that decided it. `user` is the identity, or on a refusal the refused one;
// `localUid` is there whenever the kernel named the peer's user, in localUsers or not.
inline log_line decision_fields(const trustgate::decision::owned_decision& d, const audit_peer& peer,
                                std::uint64_t generation, const std::optional<std::string>& refused = std::nullopt) {
    log_line line;
    line["decision"] = d.allowed ? "allow" : "deny";
    line["reason"] = std::string(to_string(d.why));
    line["peer"] = peer.peer;
    if (peer.proof.found()) line["localUid"] = peer.proof.uid;
    line["clientIp"] = d.client_ip.to_string();
    line["via"] = std::string(to_string(d.how));
    line["user"] = d.allowed ? log_line(log_text(d.identity)) : refused ? log_line(log_text(*refused)) : log_line(nullptr);
    line["policy"] = d.policy;
    if (!d.detail.empty()) line["detail"] = d.detail;
    line["generation"] = generation;
    return line;
}

// The scopes of a grant, for the audit line and answers.
inline log_line scope_names(trustgate::scope_mask granted) {
    log_line names = log_line::array();
    for (const auto name : trustgate::scopes<>::names_of(granted)) names.push_back(std::string(name));
    return names;
}

// What an audit line counts as in trustgate_decisions_total: the authentication decision,
// or the refusal that followed it (the via of the identity it refused).
struct counted {
    bool allowed;
    trustgate::reason why;
    trustgate::via how;
};

inline counted counted_as(const trustgate::decision& d) { return {d.allowed, d.why, d.how}; }
inline counted counted_as(const trustgate::decision::owned_decision& d) { return {d.allowed, d.why, d.how}; }

// An authenticated caller refused after authentication (scopes, origin).
inline void mark_refused(log_line& line, counted& outcome, trustgate::reason why, std::string_view policy,
                         std::string_view detail = {}) {
    outcome = {false, why, outcome.how};
    line["decision"] = "deny";
    line["reason"] = std::string(to_string(why));
    line["policy"] = std::string(policy);
    if (!detail.empty()) line["detail"] = std::string(detail);
}

inline void mark_missing_scope(log_line& line, counted& outcome, std::string_view scope) {
    mark_refused(line, outcome, trustgate::reason::missing_scope, trustgate::scopes<>::name, scope);
}

}  // namespace trustgate::runtime
