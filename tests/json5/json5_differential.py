#!/usr/bin/python3
"""Differential test of trustgate's JSON5 reader (include/trustgate/config/json5.hpp)
against Debian's python3-json5, on generated documents.

    json5_differential.py --tool build/tests/json5/trustgate_json5_print [--cases 4000] [--seed 1]

Each case is a random JSON5 document using every feature (comments, trailing commas,
unquoted and quoted keys, both quotes, every escape, line continuations, hex, leading and
trailing decimal points, explicit +, Infinity and NaN, Unicode whitespace), and about
half of them are then damaged (a character deleted, inserted or replaced, a duplicated
slice, a cut). Both readers must agree on accepting each document and, when they do, on
its value. Where trustgate is stricter than JSON5 by design, the Python side is given the
same rule (parse hooks, a check for lone surrogates); where python3-json5 0.9.10 differs
from the JSON5 spec or from trustgate's documented rules, a disagreement is excused only
in those exact cases: Python accepts the text once a signed hex number, +Infinity or +NaN
is unsigned and a raw U+2028/U+2029 in a string escaped; or trustgate refuses a non-ASCII
unquoted key, which Python accepts, or a number with two signs (-+1), which Python reads. Exits 77 when python3-json5 is not installed.
"""
import argparse
import json
import math
import random
import re
import subprocess
import sys

try:
    import json5
except ImportError:
    print("SKIP: python3-json5 is not installed (apt-get install python3-json5)")
    sys.exit(77)

SPACES = [" ", " ", " ", "\t", "\n", "\r\n", "\r", "\v", "\f", "\u00a0", "\ufeff", "\u1680", "\u2000", "\u2009",
          "\u200a", "\u202f", "\u205f", "\u3000", "\u2028", "\u2029"]
COMMENTS = ["// note\n", "//\r\n", "// é 😀\u2028", "/* c */", "/**/", "/* two\nlines */", "/* * / */", "/*/ */"]
IDENTIFIER_START = "abcxyzABCXYZ$_"
IDENTIFIER_PART = IDENTIFIER_START + "0189"
WORDS = ["null", "true", "false", "Infinity", "NaN", "gateway", "trustedProxies", "__proto__", "$", "_"]
RAW_CHARACTERS = ["a", "Z", " ", "0", "9", "é", "中", "😀", "\t", "\x01", "\x1f", "\x7f", "\x00", "/", "*", "{", "]", ","]
ESCAPES = ["\\n", "\\t", "\\b", "\\f", "\\v", "\\r", "\\0", "\\\\", "\\/", "\\'", '\\"', "\\a", "\\q", "\\é", "\\😀",
           "\\x41", "\\x7F", "\\xe9", "\\u00E9", "\\u4e2d", "\\u0000", "\\uD83D\\uDE00", "\\udbff\\udfff",
           "\\\n", "\\\r\n", "\\\r", "\\\u2028", "\\\u2029"]


class Generator:
    def __init__(self, rng):
        self.r = rng

    def space(self):
        pieces = []
        while self.r.random() < 0.45:
            pieces.append(self.r.choice(COMMENTS) if self.r.random() < 0.25 else self.r.choice(SPACES))
        return "".join(pieces)

    def number(self):
        r = self.r
        kind = r.randrange(9)
        sign = r.choice(["", "", "-", "+"])
        digits = lambda n: str(r.randrange(1, 10)) + "".join(r.choice("0123456789") for _ in range(n))
        if kind == 0:
            return sign + r.choice(["0", digits(r.randrange(0, 6))])
        if kind == 1:
            return sign + digits(r.randrange(17, 30))  # beyond 64 bits: a double
        if kind == 2:
            whole = r.choice(["", "0", digits(r.randrange(0, 4))])
            fraction = "".join(r.choice("0123456789") for _ in range(r.randrange(0 if whole else 1, 5)))
            return sign + whole + "." + fraction
        if kind == 3:
            mantissa = r.choice(["1", "0", "2.5", ".5", "5.", digits(3)])
            return sign + mantissa + r.choice("eE") + r.choice(["", "+", "-"]) + str(r.randrange(0, 40))
        if kind == 4:  # unsigned: python3-json5 refuses signed hex
            return "0" + r.choice("xX") + "".join(r.choice("0123456789abcdefABCDEF") for _ in range(r.randrange(1, 17)))
        if kind == 5:
            return r.choice(["", "-"]) + "Infinity"
        if kind == 6:
            return r.choice(["", "-"]) + "NaN"
        return sign.replace("+", "") + r.choice(["0", "0.0", "0e0", "1e308", "4.9e-324", "9223372036854775807",
                                                 "9223372036854775808", "18446744073709551615", "18446744073709551616",
                                                 "1.7976931348623157e308", "2.2250738585072014e-308"])

    def string(self, short=False):
        r = self.r
        quote = r.choice("\"'")
        pieces = []
        for _ in range(r.randrange(0, 3 if short else 8)):
            roll = r.random()
            if roll < 0.45:
                pieces.append(r.choice(RAW_CHARACTERS))
            elif roll < 0.55:
                pieces.append("'" if quote == '"' else '"')
            else:
                pieces.append(r.choice(ESCAPES))
        return quote + "".join(pieces) + quote

    def key(self):
        r = self.r
        roll = r.random()
        if roll < 0.4:
            return r.choice(IDENTIFIER_START) + "".join(r.choice(IDENTIFIER_PART) for _ in range(r.randrange(0, 6)))
        if roll < 0.55:
            return r.choice(WORDS)
        return self.string(short=True)

    def value(self, depth):
        r = self.r
        roll = r.random()
        if depth < 6 and roll < 0.2:
            return self.container(depth, "{", "}", lambda: self.key() + self.space() + ":" + self.space() + self.value(depth + 1))
        if depth < 6 and roll < 0.35:
            return self.container(depth, "[", "]", lambda: self.value(depth + 1))
        if roll < 0.6:
            return self.number()
        if roll < 0.85:
            return self.string()
        return r.choice(["true", "false", "null"])

    def container(self, depth, opening, closing, element):
        items = [element() for _ in range(self.r.randrange(0, 5))]
        body = ("," + self.space()).join(item + self.space() for item in items)
        if items and self.r.random() < 0.4:
            body += "," + self.space()  # a trailing comma
        return opening + self.space() + body + closing

    def document(self):
        return self.space() + self.value(0) + self.space()

    def damaged(self, text):
        r = self.r
        if not text:
            return text
        at = r.randrange(len(text))
        roll = r.randrange(5)
        if roll == 0:
            return text[:at] + text[at + 1:]
        if roll == 1:
            return text[:at] + r.choice(",:{}[]\"'\\/*0.ex+-a \n\u2028é") + text[at:]
        if roll == 2:
            return text[:at] + r.choice(",:}]\"'\\0xN") + text[at + 1:]
        if roll == 3:
            end = min(len(text), at + r.randrange(1, 12))
            return text[:end] + text[at:end] + text[end:]
        return text[:at]


def finite_float(text):
    value = float(text)
    mantissa = text.lower().split("e")[0]
    if math.isinf(value) or (value == 0 and any(c in "123456789" for c in mantissa)):
        raise ValueError("trustgate refuses a number no double can hold")
    return value


def checked_int(text, base=10):
    value = int(text, base)
    if base == 16 and value > 2**64 - 1:
        raise ValueError("trustgate refuses a hex number beyond 64 bits")
    float(value)  # OverflowError beyond a double
    return value


def join_surrogates(value):
    """python3-json5 keeps \\uD83D\\uDE00 as two code points; a lone one stays an error."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16")  # raises on a lone surrogate
    if isinstance(value, list):
        return [join_surrogates(v) for v in value]
    if isinstance(value, dict):
        joined = {join_surrogates(k): join_surrogates(v) for k, v in value.items()}
        if len(joined) != len(value):  # "\uD83D\uDE00" and "😀" are one key
            raise ValueError("duplicate key")
        return joined
    return value


def python_reads(text):
    try:
        value = json5.loads(text, allow_duplicate_keys=False, parse_float=finite_float, parse_int=checked_int)
        return True, join_surrogates(value)
    except (ValueError, OverflowError, UnicodeError, RecursionError):
        return False, None


def python_reads_spec_spelling(text):
    """Whether python3-json5 accepts the text once what it refuses but JSON5 allows is
    rewritten: signs before hex numbers and before Infinity and NaN dropped, each raw
    U+2028 or U+2029 it stops at in a string written as an escape."""
    text = re.sub(r"[+-](0[xX])", r"\1", text)
    text = re.sub(r"\+(Infinity|NaN)", r"\1", text)
    for _ in range(20):
        try:
            json5.loads(text, allow_duplicate_keys=False, parse_float=finite_float, parse_int=checked_int)
            return True
        except (ValueError, OverflowError, RecursionError) as e:
            place = re.search(r"<string>:(\d+) Unexpected .* at column (\d+)", str(e))
            if not place:
                return False
            line, column = int(place.group(1)), int(place.group(2))
            at = sum(len(l) + 1 for l in text.split("\n")[:line - 1]) + column - 1
            if at >= len(text) or text[at] not in "\u2028\u2029":
                return False
            text = text[:at] + "\\u%04x" % ord(text[at]) + text[at + 1:]
    return False


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, float) and isinstance(b, int):
        return abs(b) >= 2**63 and a == float(b)  # an integer beyond 64 bits is a double in trustgate
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--cases", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    generator = Generator(random.Random(args.seed))
    documents = []
    for _ in range(args.cases):
        text = generator.document()
        documents.append(generator.damaged(text) if generator.r.random() < 0.5 else text)

    framed = b"".join(b"%d\n%s" % (len(d.encode()), d.encode()) for d in documents)
    output = subprocess.run([args.tool], input=framed, stdout=subprocess.PIPE, check=True).stdout.decode()
    answers = output.split("\n")[:-1]
    if len(answers) != len(documents):
        print(f"FAIL: {len(documents)} documents, {len(answers)} answers")
        return 1

    counts = {"accepted by both": 0, "refused by both": 0, "excused": 0}
    failures = []
    for text, answer in zip(documents, answers):
        ours_ok = answer.startswith("ok ")
        theirs_ok, theirs = python_reads(text)
        if ours_ok and theirs_ok:
            ours = json.loads(answer[3:])
            if not same(ours, theirs):
                failures.append((text, f"values differ: trustgate {ours!r}, python3-json5 {theirs!r}"))
            counts["accepted by both"] += 1
        elif not ours_ok and not theirs_ok:
            counts["refused by both"] += 1
        elif ours_ok and python_reads_spec_spelling(text):
            counts["excused"] += 1
        elif not ours_ok and "an unquoted key of ASCII letters" in answer and re.search(r"[^\x00-\x7f\\]", text):
            counts["excused"] += 1
        elif not ours_ok and "a number (digits" in answer and re.search(r"-\+[0-9.]", text):
            counts["excused"] += 1  # python3-json5 reads -+1 as -1; JSON5 has one sign
        else:
            failures.append((text, f"trustgate: {answer!r}; python3-json5 {'accepts' if theirs_ok else 'refuses'}"))

    for text, problem in failures[:10]:
        print(f"FAIL {problem}\n  document: {text!r}")
    print(f"seed {args.seed}, {len(documents)} documents: " + ", ".join(f"{v} {k}" for k, v in counts.items()) +
          f", {len(failures)} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
