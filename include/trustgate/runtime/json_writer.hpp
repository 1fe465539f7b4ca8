// trustgate/runtime/json_writer.hpp — JSON text written straight into a string.
//
//   std::string body;
//   trustgate::runtime::json_writer json(body);
//   json.begin_object().key("user").value(identity).key("scopes").begin_array();
//   for (auto name : names) json.value(name);
//   json.end_array().end_object();
//
// For what runs on every request (audit lines, answers): no tree, no allocation beyond the
// string's own growth, and strings escaped exactly as nlohmann::json's dump with
// error_handler_t::replace escapes them (invalid UTF-8 becomes U+FFFD), so the text is
// the same as a tree would give. The writer does not check the nesting: keys inside
// objects, values inside arrays, every begin with its end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "trustgate/runtime/detail/json_text.hpp"

namespace trustgate::runtime {

class json_writer {
public:
    // Appends to `out`, which must outlive the writer. `after_members`: `out` already holds
    // members of an object (or elements of an array) that this writer continues.
    explicit json_writer(std::string& out, bool after_members = false) noexcept : out_(&out), first_(!after_members) {}

    json_writer& begin_object() { return open('{'); }
    json_writer& end_object() { return close('}'); }
    json_writer& begin_array() { return open('['); }
    json_writer& end_array() { return close(']'); }

    // An object member's name; its value comes next.
    json_writer& key(std::string_view name) {
        separate();
        detail::append_json_string(*out_, name);
        out_->push_back(':');
        first_ = true;
        return *this;
    }

    json_writer& value(std::string_view text) {
        separate();
        detail::append_json_string(*out_, text);
        return *this;
    }
    json_writer& value(const char* text) { return value(std::string_view(text)); }

    template <class Integer>
        requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
    json_writer& value(Integer number) {
        separate();
        detail::append_json_number(*out_, number);
        return *this;
    }

    json_writer& value(bool flag) { return raw(flag ? "true" : "false"); }
    json_writer& value(std::nullptr_t) { return raw("null"); }

    // A value that is JSON text already.
    json_writer& raw(std::string_view json) {
        separate();
        out_->append(json);
        return *this;
    }

private:
    // A comma goes before every member or element but the first of its object or array.
    void separate() {
        if (!first_) out_->push_back(',');
        first_ = false;
    }

    json_writer& open(char bracket) {
        separate();
        out_->push_back(bracket);
        first_ = true;
        return *this;
    }

    json_writer& close(char bracket) {
        out_->push_back(bracket);
        first_ = false;
        return *this;
    }

    std::string* out_;
    bool first_;  // nothing written yet in the current object or array (or after a key)
};

}  // namespace trustgate::runtime
