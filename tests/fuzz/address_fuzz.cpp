// Fuzz target: the address, CIDR and prefix-set code (behaviour §2).
//
// Input: lines of text. Each line is parsed as an address and as a CIDR, and
// - the library and the reference model's own parsers accept exactly the same text and
//   produce the same value;
// - canonical text round-trips: parse(format(parse(x))) == parse(x), and formatting is a
//   fixed point (IPv6 also in brackets and in upper case);
// - every block the lines make goes into one prefix_set, which must answer `contains` and
//   `overlaps` exactly like a linear scan of the model's blocks, at every parsed address,
//   at each block's ends and their neighbours, and at an address taken from the raw bytes.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <trustgate/model/reference_model.hpp>
#include <trustgate/net/address.hpp>
#include <trustgate/net/cidr.hpp>
#include <trustgate/net/prefix_set.hpp>

#include "fuzz_check.hpp"

namespace {

// The set check is quadratic in blocks and probes; this many already merge and
// interleave in every way.
constexpr std::size_t max_blocks = 32;

namespace model = trustgate::model;
using trustgate::net::address;
using trustgate::net::cidr;
using trustgate_fuzz::check;
using trustgate_fuzz::quoted;

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    return s;
}

void check_address(std::string_view text, std::vector<address>& probes) {
    const auto parsed = address::parse(text);
    const auto expected = model::parse_address(text);
    check(parsed.has_value() == expected.has_value() && (!parsed || parsed->bytes() == *expected), [&] {
        return "address " + quoted(text) + ": library " + (parsed ? parsed->to_string() : "rejects") + ", model " +
               (expected ? model::to_library(*expected).to_string() : "rejects");
    });
    if (!parsed) return;
    if (probes.size() < max_blocks) probes.push_back(*parsed);

    const auto canonical = parsed->to_string();
    check(canonical.size() <= address::max_text_size, [&] { return "formatted text too long: " + canonical; });
    const auto again = address::parse(canonical);
    check(again == parsed && again->to_string() == canonical,
          [&] { return "address " + quoted(text) + " formats as " + canonical + ", which does not parse back to it"; });
    if (!parsed->is_v4()) {
        check(address::parse("[" + canonical + "]") == parsed && address::parse(upper(canonical)) == parsed,
              [&] { return "IPv6 " + canonical + " in brackets or upper case is another address"; });
    }
}

void check_block(std::string_view text, std::vector<cidr>& blocks) {
    const auto parsed = cidr::parse(text);
    const auto expected = model::parse_block(text);
    check(parsed.has_value() == expected.has_value() &&
              (!parsed || (parsed->base().bytes() == expected->base && int(parsed->normalised_length()) == expected->bits)),
          [&] {
              return "CIDR " + quoted(text) + ": library " + (parsed ? parsed->to_string() : "rejects") + ", model " +
                     (expected ? model::to_library(expected->base).to_string() + " bits " + std::to_string(expected->bits)
                               : "rejects");
          });
    if (!parsed) return;
    if (blocks.size() < max_blocks) blocks.push_back(*parsed);
    const auto again = cidr::parse(parsed->to_string());
    check(again == parsed, [&] { return "CIDR " + quoted(text) + " formats as " + parsed->to_string() + ", which parses to another block"; });
}

// `a` + 1 and `a` - 1, where they exist.
void add_neighbours(const address& a, std::vector<address>& probes) {
    for (const int delta : {1, -1}) {
        auto bytes = a.bytes();
        bool wrapped = true;
        for (int i = 15; i >= 0 && wrapped; --i) {
            auto& b = bytes[std::size_t(i)];
            wrapped = delta > 0 ? b == 0xff : b == 0x00;
            b = std::uint8_t(b + delta);
        }
        if (!wrapped) probes.push_back(address::from_v6_bytes(bytes));
    }
}

void check_prefix_set(const std::vector<cidr>& blocks, std::vector<address> probes) {
    const trustgate::net::prefix_set set(blocks);
    std::vector<model::block> model_blocks;
    for (const auto& b : blocks) {
        model_blocks.push_back({b.base().bytes(), int(b.normalised_length())});
        for (const auto& end : {b.first(), b.last()}) {
            probes.push_back(end);
            add_neighbours(end, probes);
        }
    }
    for (const auto& a : probes) {
        const bool expected = model::trusted(a.bytes(), model_blocks);
        check(set.contains(a) == expected, [&] {
            return "prefix_set of " + std::to_string(blocks.size()) + " blocks says " + a.to_string() +
                   (expected ? " is outside" : " is inside");
        });
        for (const auto& b : blocks)
            check(b.contains(a) == model::in_block(a.bytes(), {b.base().bytes(), int(b.normalised_length())}),
                  [&] { return "cidr " + b.to_string() + " disagrees with the model about " + a.to_string(); });
    }
    for (const auto& b : blocks) {
        const bool overlaps = std::any_of(blocks.begin(), blocks.end(), [&](const cidr& other) {
            return other.first() <= b.last() && b.first() <= other.last();
        });
        check(set.overlaps(b) == overlaps, [&] { return "prefix_set overlap wrong for " + b.to_string(); });
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<address> probes;
    std::vector<cidr> blocks;
    for (const auto line : model::split(input, '\n')) {
        check_address(line, probes);
        check_block(line, blocks);
    }
    if (size >= 16) {
        address::bytes_type raw{};
        std::copy_n(data, 16, raw.begin());
        probes.push_back(address::from_v6_bytes(raw));
    }
    check_prefix_set(blocks, probes);
    return 0;
}
