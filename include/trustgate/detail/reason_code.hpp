// The grammar and the hash of a reason code (trustgate/decision.hpp).
#pragma once

#include <cstdint>
#include <string_view>

namespace trustgate::detail {

// Only called when a reason code is not snake_case: its name is the compiler's message.
void reason_code_must_be_snake_case_such_as_tenant_not_allowed();

constexpr bool is_snake_case(std::string_view code) noexcept {
    if (code.empty() || code.front() < 'a' || code.front() > 'z' || code.back() == '_') return false;
    for (char c : code)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return code.find("__") == std::string_view::npos;
}

// FNV-1a: lets reason comparisons and metrics look-ups compare integers first.
constexpr std::uint32_t reason_hash(std::string_view code) noexcept {
    std::uint32_t h = 2166136261u;
    for (char c : code) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
}

}  // namespace trustgate::detail
