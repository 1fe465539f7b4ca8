// examples/gateway/audit_log.hpp — one JSON object per line, each written whole.
//
// Lines come from many threads; each is formatted first and written with one call under
// a lock, so lines never interleave. Callers put only what behaviour §7 allows in a line:
// never a token, a password, a cookie or a header's value other than the identity.
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace trustgate_gateway {

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

}  // namespace trustgate_gateway
