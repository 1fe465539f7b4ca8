// Fuzz target: trustgate/runtime/json_writer.hpp, the tree-less JSON the audit log and the
// gateway's answers are written with, against nlohmann::json on the same values.
//
// Properties:
// - any bytes as a string value come out exactly as nlohmann's dump(-1, ' ', false,
//   error_handler_t::replace) writes them (escapes, and U+FFFD for invalid UTF-8);
// - an object built from the input (string, integer, bool and null members, nested
//   objects and arrays, any bytes in keys and strings) is the same text through the
//   writer as through an ordered_json tree;
// - that text parses back with nlohmann (it is JSON).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "trustgate/runtime/json_writer.hpp"

namespace {

using trustgate_fuzz::check;
using tree = nlohmann::ordered_json;

// A C++ literal of `bytes` (not std::quoted, which ADL would also find).
std::string show(std::string_view bytes) { return trustgate_fuzz::quoted(bytes); }

std::string dump(const tree& value) { return value.dump(-1, ' ', false, tree::error_handler_t::replace); }

// Reads the input as a small program: each step an opcode byte, then what it needs.
class reader {
public:
    explicit reader(std::string_view input) : rest_(input) {}
    bool done() const { return rest_.empty(); }
    unsigned char byte() {
        if (rest_.empty()) return 0;
        const auto b = static_cast<unsigned char>(rest_[0]);
        rest_.remove_prefix(1);
        return b;
    }
    std::string_view bytes() {
        const auto n = std::min<std::size_t>(byte() % 24, rest_.size());
        const auto taken = rest_.substr(0, n);
        rest_.remove_prefix(n);
        return taken;
    }
    std::int64_t number() {
        std::int64_t value = 0;
        const auto n = std::min<std::size_t>(sizeof value, rest_.size());
        std::memcpy(&value, rest_.data(), n);
        rest_.remove_prefix(n);
        return value;
    }

private:
    std::string_view rest_;
};

// Builds the same value twice: into `text` through the writer and as `expected`, a tree.
void build(reader& in, trustgate::runtime::json_writer& json, tree& expected, int depth) {
    for (std::size_t member = 0; !in.done(); ++member) {
        const auto op = in.byte() % 7;
        if (op == 6) return;  // this object ends
        // ordered_json keeps one value per key: every key is made distinct (no digit is a colon).
        const std::string key = std::to_string(member) + ":" + std::string(in.bytes());
        json.key(key);
        switch (op) {
            case 0: {
                const auto text = in.bytes();
                json.value(text);
                expected[key] = std::string(text);
                break;
            }
            case 1: {
                const auto number = in.number();
                json.value(number);
                expected[key] = number;
                break;
            }
            case 2: {
                const bool flag = in.byte() & 1;
                json.value(flag);
                expected[key] = flag;
                break;
            }
            case 3:
                json.value(nullptr);
                expected[key] = nullptr;
                break;
            case 4: {
                json.begin_array();
                auto& elements = expected[key] = tree::array();
                for (auto count = in.byte() % 4; count > 0; --count) {
                    const auto text = in.bytes();
                    json.value(text);
                    elements.push_back(std::string(text));
                }
                json.end_array();
                break;
            }
            case 5:
                json.begin_object();
                expected[key] = tree::object();
                if (depth < 8) build(in, json, expected[key], depth + 1);
                json.end_object();
                break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    std::string one;
    trustgate::runtime::json_writer(one).value(input);
    const auto expected_one = dump(tree(std::string(input)));
    check(one == expected_one, [&] {
        return "string " + show(input) + "\n  writer:   " + show(one) + "\n  nlohmann: " + show(expected_one);
    });

    std::string text;
    trustgate::runtime::json_writer json(text);
    tree expected = tree::object();
    reader in(input);
    json.begin_object();
    build(in, json, expected, 0);
    json.end_object();
    const auto expected_text = dump(expected);
    check(text == expected_text, [&] {
        return "object from " + show(input) + "\n  writer:   " + show(text) + "\n  nlohmann: " + show(expected_text);
    });
    check(tree::accept(text), [&] { return "not JSON: " + show(text); });
    return 0;
}
