// trustgate/runtime/secrets.hpp — SecretRefs and the providers that resolve them.
//
//   "gateway": { "auth": { "token": { "source": "exec", "provider": "vault", "id": "gateway/token" } } },
//   "secrets": { "providers": { "vault": { "source": "exec", "command": "/usr/local/bin/resolver" } } }
//
// The shapes are OpenClaw's (docs/gateway/secrets.md):
//
//   env    the environment variable named by the id.
//   file   `path`, read whole; `mode` "json" (the default): a JSON object, the id an
//          RFC 6901 pointer into it; "singleValue": the file is the value (one trailing
//          newline dropped), the id is "value".
//   exec   `command` (absolute), `args`, run without a shell; its environment holds only
//          the `passEnv` variables. It reads {"protocolVersion":1,"provider":…,"ids":[…]}
//          on standard input and writes {"protocolVersion":1,"values":{id:…},"errors":
//          {id:{"message":…}}} on standard output, within `timeoutMs` or it is killed. With
//          `jsonOnly` false and one id, plain output is the value. The command must be a
//          regular file owned by root or by us and writable by nobody else; a symbolic link
//          only with `allowSymlinkCommand`; with `trustedDirs`, the file it resolves to must
//          lie in one of them.
//
// Resolution is eager (start-up and every reload) and all or nothing. A failure is a
// trustgate::config_error naming the field's path, the provider and the id, never a value:
// no message here quotes a file's content or a program's output. A secret file that other
// users can read resolves, with a notice the start-up audit reports.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "trustgate/runtime/detail/child_process.hpp"
#include "trustgate/config.hpp"

namespace trustgate::runtime {

enum class secret_source { env, file, exec };

inline std::string_view to_string(secret_source s) {
    switch (s) {
        case secret_source::file: return "file";
        case secret_source::exec: return "exec";
        case secret_source::env: break;
    }
    return "env";
}

// {"source": …, "provider": …, "id": …}
struct secret_ref {
    secret_source source = secret_source::env;
    std::string provider;
    std::string id;
};

struct env_provider {};

struct file_provider {
    enum class format { json, single_value };
    std::string path;  // absolute, or ~/… (the gateway's $HOME)
    format mode = format::json;
};

struct exec_provider {
    std::string command;  // absolute
    std::vector<std::string> args;
    std::vector<std::string> pass_env;
    std::chrono::milliseconds timeout{5000};
    bool json_only = true;
    std::vector<std::string> trusted_dirs;  // absolute
    bool allow_symlink_command = false;
};

// Alternatives in secret_source's order.
using secret_provider = std::variant<env_provider, file_provider, exec_provider>;

inline secret_source source_of(const secret_provider& p) { return static_cast<secret_source>(p.index()); }

// secrets.providers, by name. An env ref to "default" works without an entry.
using secret_providers = std::map<std::string, secret_provider, std::less<>>;

inline constexpr std::string_view implicit_env_provider = "default";

// A configuration field that holds a SecretRef, and its JSON path.
struct secret_field {
    std::string path;
    secret_ref ref;
};

// Something worth an operator's attention that did not stop resolution.
struct secret_notice {
    std::string path;      // the provider's JSON path
    std::string message;
};

struct resolved_secrets {
    std::vector<std::string> values;  // one per field, in order
    std::vector<secret_notice> notices;
};

namespace detail {

inline constexpr std::size_t max_secret_bytes = 1 << 20;

inline bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
inline bool is_upper_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// ^[a-z][a-z0-9_-]{0,63}$
inline bool valid_provider_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && s[0] >= 'a' && s[0] <= 'z' &&
           std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '_' || c == '-'; });
}

// ^[A-Z][A-Z0-9_]{0,127}$
inline bool valid_env_id(std::string_view s) {
    return !s.empty() && s.size() <= 128 && s[0] >= 'A' && s[0] <= 'Z' &&
           std::all_of(s.begin(), s.end(), [](char c) { return is_upper_alnum(c) || c == '_'; });
}

// ^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$ with no "." or ".." path segment.
inline bool valid_exec_id(std::string_view s) {
    const auto allowed = [](char c) {
        return is_lower_alnum(c) || is_upper_alnum(c) || c == '.' || c == '_' || c == ':' || c == '/' || c == '#' || c == '-';
    };
    if (s.empty() || s.size() > 256 || !std::all_of(s.begin(), s.end(), allowed) || !(is_lower_alnum(s[0]) || is_upper_alnum(s[0])))
        return false;
    for (std::size_t start = 0; start <= s.size();) {
        const auto end = std::min(s.find('/', start), s.size());
        const auto segment = s.substr(start, end - start);
        if (segment == "." || segment == "..") return false;
        start = end + 1;
    }
    return true;
}

// An absolute RFC 6901 pointer: "/a/b", with ~0 and ~1 the only escapes.
inline bool valid_json_pointer(std::string_view s) {
    if (s.empty() || s[0] != '/') return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == '~' && (i + 1 == s.size() || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
    return true;
}

inline std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// How a failure names what was being resolved: never the value.
inline std::string describe(const secret_ref& ref) {
    return "SecretRef " + in_quotes(ref.id) + " of provider " + in_quotes(ref.provider) + " (" +
           std::string(to_string(ref.source)) + ")";
}

inline std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

inline std::string expand_home(const std::string& path) {
    if (!path.starts_with("~/")) return path;
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] != '/') throw std::runtime_error("cannot expand ~ in the path: $HOME is not an absolute path");
    return std::string(home) + path.substr(1);
}

inline std::string errno_text(int error) { return std::generic_category().message(error); }

// A value must be a non-empty JSON string.
inline std::string string_value(const nlohmann::json& value, const std::string& what) {
    if (!value.is_string()) throw std::runtime_error(what + " is not a string");
    auto text = value.get<std::string>();
    if (text.empty()) throw std::runtime_error(what + " is empty");
    return text;
}

// One trailing "\n" or "\r\n", as `echo` and editors leave it.
inline std::string drop_trailing_newline(std::string text) {
    if (text.ends_with("\r\n")) text.resize(text.size() - 2);
    else if (text.ends_with('\n')) text.pop_back();
    return text;
}

// A message from a program, made fit for one log line.
inline std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, 200)) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
    return out;
}

inline std::string resolve_env(const secret_ref& ref) {
    const char* value = std::getenv(ref.id.c_str());
    if (value == nullptr || value[0] == '\0') throw std::runtime_error("the environment variable is not set or is empty");
    return value;
}

// The file's content; a warning when users other than its owner may read or change it.
inline std::string read_secret_file(const std::string& path, std::vector<std::string>& warnings) {
    // O_NONBLOCK: a FIFO in the secret's place must not hang start-up.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + errno_text(errno));
    const unique_fd file(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw std::runtime_error("cannot stat " + path + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) throw std::runtime_error(path + " is not a regular file");
    if (st.st_mode & S_IWOTH)
        throw std::runtime_error(path + " is writable by every user (mode " + mode_text(st.st_mode) +
                                 "): anyone could replace the secret");
    if (st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP))
        warnings.push_back(path + " is " + ((st.st_mode & S_IWGRP) ? "writable" : "readable") +
                           " by other users (mode " + mode_text(st.st_mode) + "); chmod 600 it");
    if (static_cast<std::size_t>(st.st_size) > max_secret_bytes) throw std::runtime_error(path + " is larger than 1 MiB");
    std::string content;
    char buffer[4096];
    for (;;) {
        const auto n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error("cannot read " + path + ": " + errno_text(errno));
        if (n == 0) break;
        content.append(buffer, static_cast<std::size_t>(n));
        if (content.size() > max_secret_bytes) throw std::runtime_error(path + " is larger than 1 MiB");
    }
    return content;
}

inline std::string resolve_file(const file_provider& provider, const secret_ref& ref, std::vector<std::string>& warnings) {
    const auto path = expand_home(provider.path);
    const auto content = read_secret_file(path, warnings);
    if (provider.mode == file_provider::format::single_value) {
        auto value = drop_trailing_newline(content);
        if (value.empty()) throw std::runtime_error(path + " is empty");
        return value;
    }
    // Never quote the parser's message: it shows the text around the error.
    const auto document = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
    if (!document.is_object()) throw std::runtime_error(path + " does not hold a JSON object (mode \"json\")");
    const nlohmann::json* value = nullptr;
    try {
        value = &document.at(nlohmann::json::json_pointer(ref.id));
    } catch (const nlohmann::json::exception&) {
        throw std::runtime_error(path + " has no value at " + ref.id);
    }
    return string_value(*value, "the value at " + ref.id);
}

inline bool inside(const std::string& path, const std::string& directory) {
    if (directory == "/") return true;
    return path.size() > directory.size() && path.starts_with(directory) && path[directory.size()] == '/';
}

// `path` with every symbolic link and . or .. resolved, if it exists.
inline std::optional<std::string> real_path(const std::string& path) {
    char* resolved = ::realpath(path.c_str(), nullptr);
    if (resolved == nullptr) return std::nullopt;
    std::string out(resolved);
    std::free(resolved);
    return out;
}

// The checks a command passes before it may run with our secrets' trust.
inline void check_command(const exec_provider& provider) {
    struct stat link {};
    if (::lstat(provider.command.c_str(), &link) != 0)
        throw std::runtime_error("cannot stat the command " + provider.command + ": " + errno_text(errno));
    if (S_ISLNK(link.st_mode) && !provider.allow_symlink_command)
        throw std::runtime_error("the command " + provider.command +
                                 " is a symbolic link (set allowSymlinkCommand, with trustedDirs, to allow it)");
    const auto resolved = real_path(provider.command);
    if (!resolved) throw std::runtime_error("cannot resolve the command " + provider.command + ": " + errno_text(errno));
    const auto& target = *resolved;
    struct stat st {};
    if (::stat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        throw std::runtime_error("the command " + target + " is not a regular file");
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        throw std::runtime_error("the command " + target + " belongs to another user (uid " + std::to_string(st.st_uid) + ")");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        throw std::runtime_error("the command " + target + " is writable by other users (mode " + mode_text(st.st_mode) + ")");
    if (::access(target.c_str(), X_OK) != 0) throw std::runtime_error("the command " + target + " is not executable");
    if (provider.trusted_dirs.empty()) return;
    for (const auto& dir : provider.trusted_dirs) {
        // A trusted directory that does not exist trusts nothing.
        if (const auto real_dir = real_path(dir); real_dir && inside(target, *real_dir)) return;
    }
    throw std::runtime_error("the command " + target + " is not inside any of trustedDirs");
}

inline std::vector<std::string> passed_environment(const exec_provider& provider) {
    std::vector<std::string> env;
    for (const auto& name : provider.pass_env)
        if (const char* value = std::getenv(name.c_str())) env.push_back(name + "=" + value);
    return env;
}

// Runs the resolver once for every id asked of it; returns its standard output.
inline std::string run_resolver(const std::string& name, const exec_provider& provider, const std::vector<std::string>& ids) {
    check_command(provider);
    std::vector<std::string> argv{provider.command};
    argv.insert(argv.end(), provider.args.begin(), provider.args.end());
    const auto request = nlohmann::json{{"protocolVersion", 1}, {"provider", name}, {"ids", ids}}.dump();
    child_result run;
    try {
        run = run_child(argv, passed_environment(provider), request, provider.timeout, max_secret_bytes);
    } catch (const std::system_error& e) {
        throw std::runtime_error("cannot run " + provider.command + ": " + e.code().message());
    }
    const auto& command = provider.command;
    switch (run.how) {
        case child_result::ending::timed_out:
            throw std::runtime_error(command + " did not finish within timeoutMs (" + std::to_string(provider.timeout.count()) +
                                     " ms) and was killed");
        case child_result::ending::output_too_large: throw std::runtime_error(command + " wrote more than 1 MiB and was killed");
        case child_result::ending::killed_by_signal:
            throw std::runtime_error(command + " was killed by signal " + std::to_string(run.status));
        case child_result::ending::exited: break;
    }
    if (run.status != 0) throw std::runtime_error(command + " exited with status " + std::to_string(run.status));
    return std::move(run.output);
}

// The value of each id in a resolver's answer (the protocol's, or plain output).
inline std::map<std::string, std::string> values_in(std::string output, const exec_provider& provider,
                                                    const std::vector<std::string>& ids) {
    const auto& command = provider.command;
    const auto response = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
    std::map<std::string, std::string> values;
    if (!response.is_object()) {
        if (provider.json_only || ids.size() != 1)
            throw std::runtime_error(command + " did not write a JSON object" +
                                     (provider.json_only ? "" : " (plain output answers only a single id)"));
        auto value = drop_trailing_newline(std::move(output));
        if (value.empty()) throw std::runtime_error(command + " wrote nothing");
        values.emplace(ids.front(), std::move(value));
        return values;
    }
    if (const auto version = response.find("protocolVersion"); version != response.end() && *version != 1)
        throw std::runtime_error(command + " answered with a protocolVersion other than 1");
    const auto found = response.find("values");
    if (found == response.end() || !found->is_object()) throw std::runtime_error(command + " answered without a \"values\" object");
    const auto errors = response.find("errors");
    for (const auto& id : ids) {
        if (const auto value = found->find(id); value != found->end()) {
            values.emplace(id, string_value(*value, "the value " + command + " gave for " + in_quotes(id)));
            continue;
        }
        const auto* error = errors != response.end() && errors->is_object() && errors->contains(id) ? &(*errors)[id] : nullptr;
        if (error != nullptr && error->is_object() && error->contains("message") && (*error)["message"].is_string())
            throw std::runtime_error(command + " could not resolve " + in_quotes(id) + ": " +
                                     printable((*error)["message"].get_ref<const std::string&>()));
        throw std::runtime_error(command + " gave no value for " + in_quotes(id));
    }
    return values;
}

inline std::string provider_path(std::string_view name) { return "secrets.providers." + std::string(name); }

}  // namespace detail

// Resolves every field, running each exec provider once for all the ids asked of it.
// Throws trustgate::config_error(field path, …) for the first field that fails. The
// references must have been checked against `providers` (config_json.hpp does).
inline resolved_secrets resolve_secrets(std::span<const secret_field> fields, const secret_providers& providers) {
    static const secret_provider implicit_env{env_provider{}};
    const auto provider_of = [&](const secret_ref& ref) -> const secret_provider& {
        const auto it = providers.find(ref.provider);
        return it != providers.end() ? it->second : implicit_env;
    };
    const auto failed = [](const secret_field& field, const std::exception& e) {
        return trustgate::config_error(field.path, "cannot resolve " + detail::describe(field.ref) + ": " + e.what());
    };

    resolved_secrets out;
    out.values.resize(fields.size());
    std::map<std::string, std::vector<std::size_t>, std::less<>> exec_fields;  // provider -> field indices
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& field = fields[i];
        const auto& provider = provider_of(field.ref);
        try {
            if (std::holds_alternative<exec_provider>(provider)) {
                exec_fields[field.ref.provider].push_back(i);
            } else if (const auto* file = std::get_if<file_provider>(&provider)) {
                std::vector<std::string> warnings;
                out.values[i] = detail::resolve_file(*file, field.ref, warnings);
                for (auto& w : warnings) out.notices.push_back({detail::provider_path(field.ref.provider) + ".path", std::move(w)});
            } else {
                out.values[i] = detail::resolve_env(field.ref);
            }
        } catch (const std::runtime_error& e) {
            throw failed(field, e);
        }
    }
    for (const auto& [name, indices] : exec_fields) {
        std::vector<std::string> ids;
        for (const auto i : indices)
            if (std::find(ids.begin(), ids.end(), fields[i].ref.id) == ids.end()) ids.push_back(fields[i].ref.id);
        std::map<std::string, std::string> values;
        try {
            const auto& provider = std::get<exec_provider>(provider_of(fields[indices.front()].ref));
            values = detail::values_in(detail::run_resolver(name, provider, ids), provider, ids);
        } catch (const std::runtime_error& e) {
            throw failed(fields[indices.front()], e);
        }
        for (const auto i : indices) out.values[i] = values.at(fields[i].ref.id);
    }
    return out;
}

}  // namespace trustgate::runtime
