// trustgate/runtime/audit_log.hpp — one JSON object per line, each written whole.
//
//   audit_log audit(stderr);
//   decision_line line(d.owned(), audit_peer_of(request, config->settings), config->generation);
//   line.add("route", loggable_target(target));
//   audit.write("decision", line);
//
// Lines come from many threads; each is formatted first and written with one call under
// a lock, so lines never interleave. A decision's line (one per request) is written
// without a tree (json_writer.hpp), into a buffer each thread reuses; other events, rare,
// take a log_line. Callers put only what behaviour §7 allows in a line:
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
#include "trustgate/runtime/detail/json_text.hpp"
#include "trustgate/runtime/json_writer.hpp"

namespace trustgate::runtime {

// Field order is kept as written (time and event first), for people reading the log.
using log_line = nlohmann::ordered_json;

// Appends RFC 3339 UTC with milliseconds, e.g. 2025-01-31T12:00:00.123Z. The date and
// time of day are formatted once per second and thread.
inline void append_utc_timestamp(std::string& out, std::chrono::system_clock::time_point t) {
    const auto since_epoch = t.time_since_epoch();
    const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    thread_local std::chrono::seconds formatted{-1};
    thread_local char whole_seconds[24];
    thread_local std::size_t length = 0;
    if (seconds != formatted) {
        const std::time_t whole = seconds.count();
        std::tm utc{};
        gmtime_r(&whole, &utc);
        length = std::strftime(whole_seconds, sizeof whole_seconds, "%Y-%m-%dT%H:%M:%S", &utc);
        formatted = seconds;
    }
    out.append(whole_seconds, length);
    const char fraction[] = {'.', static_cast<char>('0' + millis / 100), static_cast<char>('0' + millis / 10 % 10),
                             static_cast<char>('0' + millis % 10), 'Z'};
    out.append(fraction, sizeof fraction);
}

inline std::string utc_timestamp(std::chrono::system_clock::time_point t = std::chrono::system_clock::now()) {
    std::string text;
    append_utc_timestamp(text, t);
    return text;
}

// JSON text that survives any identity bytes: invalid UTF-8 becomes U+FFFD instead of
// an exception.
inline std::string to_text(const log_line& value) {
    return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

class decision_line;

class audit_log {
public:
    explicit audit_log(std::FILE* out) : out_(out) {}

    // Writes {"time":…,"event":event, …fields}.
    void write(std::string_view event, const log_line& fields) const {
        log_line line;
        line["time"] = utc_timestamp();
        line["event"] = std::string(event);
        for (const auto& [key, value] : fields.items()) line[key] = value;
        put(to_text(line) + "\n");
    }

    // Writes {"time":…,"event":event, …the decision's fields}.
    void write(std::string_view event, const decision_line& line) const;

private:
    void put(std::string_view text) const {
        std::lock_guard lock(mutex_);
        std::fwrite(text.data(), 1, text.size(), out_);
        std::fflush(out_);
    }

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
        // The one UTF-8 rule the JSON escaping uses too: a valid sequence's length, or
        // (negative) an invalid one, of which only this byte is escaped here.
        const auto sequence = detail::utf8_sequence(bytes.substr(i));
        const std::size_t n = sequence > 0 ? static_cast<std::size_t>(sequence) : 0;
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

// The audit line of an authentication decision (behaviour §7), formatted as it is built:
// decision, reason, peer, localUid (whenever the kernel named the peer's user, in
// localUsers or not), clientIp, via, user (the identity, or on a refusal the refused one),
// policy, detail, the configuration generation that decided it, then what the caller adds
// (route, method, status, …) in order.
class decision_line {
public:
    decision_line(const trustgate::decision::owned_decision& d, const audit_peer& peer, std::uint64_t generation,
                  const std::optional<std::string>& refused = std::nullopt)
        : allowed_(d.allowed), why_(d.why), policy_(d.policy), detail_(d.detail) {
        json_writer fields(who_, true);
        fields.key("peer").value(peer.peer);
        if (peer.proof.found()) fields.key("localUid").value(peer.proof.uid);
        char client_ip[net::address::max_text_size];
        fields.key("clientIp").value(std::string_view(client_ip, d.client_ip.format(client_ip)));
        fields.key("via").value(to_string(d.how));
        fields.key("user");
        if (d.allowed) fields.value(log_text(d.identity));
        else if (refused) fields.value(log_text(*refused));
        else fields.value(nullptr);
        json_writer(after_, true).key("generation").value(generation);
    }

    // An authenticated caller refused after authentication (scopes, origin): the line
    // reports that refusal instead.
    void refuse(trustgate::reason why, std::string_view policy, std::string_view detail = {}) {
        allowed_ = false;
        why_ = why;
        policy_ = policy;
        if (!detail.empty()) detail_ = detail;
    }

    // One more field, after all of the above (a string, an integer, a bool).
    template <class Value>
    decision_line& add(std::string_view key, const Value& value) {
        json_writer(after_, true).key(key).value(value);
        return *this;
    }

    // `scopes`: the names of a grant.
    decision_line& add_scopes(trustgate::scope_mask granted);

    // The fields as members of an object, each after a comma.
    void append_to(std::string& out) const {
        json_writer fields(out, true);
        fields.key("decision").value(allowed_ ? "allow" : "deny").key("reason").value(to_string(why_));
        out.append(who_);
        fields.key("policy").value(policy_);
        if (!detail_.empty()) fields.key("detail").value(detail_);
        out.append(after_);
    }

private:
    bool allowed_;
    trustgate::reason why_;
    std::string policy_;
    std::string detail_;
    std::string who_;    // peer .. user
    std::string after_;  // generation, then what add() appended
};

// The scopes of a grant, as a JSON array.
inline void write_scope_names(json_writer& json, trustgate::scope_mask granted) {
    json.begin_array();
    for (const auto name : trustgate::scopes<>::names_of(granted)) json.value(name);
    json.end_array();
}

inline decision_line& decision_line::add_scopes(trustgate::scope_mask granted) {
    json_writer fields(after_, true);
    fields.key("scopes");
    write_scope_names(fields, granted);
    return *this;
}

inline void audit_log::write(std::string_view event, const decision_line& line) const {
    thread_local std::string text;  // reused: a line costs no allocation once it has grown
    text.assign(R"({"time":")");
    append_utc_timestamp(text, std::chrono::system_clock::now());
    text.append(R"(","event":)");
    detail::append_json_string(text, event);
    line.append_to(text);
    text.append("}\n");
    put(text);
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
inline void mark_refused(decision_line& line, counted& outcome, trustgate::reason why, std::string_view policy,
                         std::string_view detail = {}) {
    outcome = {false, why, outcome.how};
    line.refuse(why, policy, detail);
}

inline void mark_missing_scope(decision_line& line, counted& outcome, std::string_view scope) {
    mark_refused(line, outcome, trustgate::reason::missing_scope, trustgate::scopes<>::name, scope);
}

}  // namespace trustgate::runtime
