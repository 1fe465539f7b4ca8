// User names and ids of `trustedProxy.localUsers`, resolved once at start-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if __has_include(<pwd.h>)
#include <pwd.h>
#include <unistd.h>
#define TRUSTGATE_HAS_PWD 1
#else
#define TRUSTGATE_HAS_PWD 0
#endif

namespace trustgate::detail {

// A decimal user id (`"1000"`), or a user name looked up in the password database.
// Nothing for an unknown name, an id beyond 32 bits or text that is neither.
inline std::optional<std::uint32_t> resolve_user(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (text.find_first_not_of("0123456789") == std::string_view::npos) {
        if (text.size() > 10) return std::nullopt;
        const auto value = std::stoull(std::string(text));
        if (value > UINT32_MAX) return std::nullopt;
        return static_cast<std::uint32_t>(value);
    }
#if TRUSTGATE_HAS_PWD
    const std::string name(text);
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16 * 1024);
    if (getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
        return static_cast<std::uint32_t>(found->pw_uid);
#endif
    return std::nullopt;
}

// The user this process runs as: the default of localUsers.
inline std::optional<std::uint32_t> running_user() {
#if TRUSTGATE_HAS_PWD
    return static_cast<std::uint32_t>(geteuid());
#else
    return std::nullopt;
#endif
}

}  // namespace trustgate::detail
