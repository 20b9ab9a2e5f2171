#!/usr/bin/env python3
"""The bad-record catalogue: each kind of bad record, written into the .jsonl
files the golden test feeds to `badinput_app validate`.

    python3 catalogue.py            rewrite strict.jsonl, lenient.jsonl, limits.jsonl
    python3 catalogue.py APP        also print the docs/bad-inputs.md rows, with
                                    the exact errors APP (badinput_app) gives

The .jsonl files and the golden .out files are committed; this script only
regenerates them when a case is added (then review the diff of the .out files).
"""
import os
import subprocess
import sys

OK = b'"id":"k","name":"n"'


def rec(extra=b"", base=OK):
    return b"{" + base + (b"," + extra if extra else b"") + b"}"


def deep(n, open_=b"[", close=b"]"):
    return open_ * n + close * n


# (kind, line) per stream; line numbers follow list order.
STRICT = [
    # malformed JSON
    ("not JSON at all", b"not json"),
    ("an array instead of an object", b'["k","n"]'),
    ("a string instead of an object", b'"k"'),
    ("null instead of an object", b"null"),
    ("an object that never closes", b'{"id":"k","name":"n"'),
    ("a string that never closes", b'{"id":"k","name":"n'),
    ("a trailing comma", b'{"id":"k","name":"n",}'),
    ("a missing comma", b'{"id":"k" "name":"n"}'),
    ("a missing colon", b'{"id" "k","name":"n"}'),
    ("an unquoted field name", b'{id:"k","name":"n"}'),
    ("single quotes", b"{'id':'k','name':'n'}"),
    ("trailing garbage after the object", rec() + b"}"),
    ("a second object on the same line", rec() + b" " + rec()),
    ("an unknown escape", rec(b'"code":"A\\qB"')),
    ("a short \\u escape", rec(b'"code":"\\u12"')),
    ("a raw control character in a string", rec(b'"code":"A\tB"')),
    ("a leading zero", rec(b'"i32":012')),
    ("a number without digits after the point", rec(b'"i32":1.')),
    ("a lone minus sign", rec(b'"i32":-')),
    ("a leading plus sign", rec(b'"i32":+1')),
    ("NaN", rec(b'"f64":NaN')),
    ("Infinity", rec(b'"f64":Infinity')),
    ("-Infinity", rec(b'"f64":-Infinity')),
    ("a literal in capitals", rec(b'"flag":TRUE')),
    ("a byte order mark before the object", b"\xef\xbb\xbf" + rec()),
    ("an empty object", b"{}"),
    # wrong types
    ("a number for a String", rec(b'"code":123')),
    ("a string for an integer", rec(b'"i32":"5"')),
    ("a fraction for an integer", rec(b'"i32":1.5')),
    ("an exponent for an integer", rec(b'"i32":1e2')),
    ("a string for a Bool", rec(b'"flag":"true"')),
    ("a number for a Bool", rec(b'"flag":1')),
    ("a string for a Float64", rec(b'"f64":"1.5"')),
    ("a string for an array", rec(b'"tags":"a"')),
    ("an array for a nested model", rec(b'"where":[1,2]')),
    ("an object for an array", rec(b'"path":{}')),
    ("null inside an array", rec(b'"tags":["a",null]')),
    ("a number inside a String array", rec(b'"tags":["a",1]')),
    ("a wrong type in a nested model in an array", rec(b'"path":[{"x":1,"y":2},{"x":1,"y":"2"}]')),
    ("a nested model missing a field", rec(b'"where":{"x":1}')),
    ("a nested model with an unknown field", rec(b'"where":{"x":1,"y":2,"z":3}')),
    # integer widths
    ("Int8 above 127", rec(b'"i8":128')),
    ("Int8 below -128", rec(b'"i8":-129')),
    ("Int16 above 32767", rec(b'"i16":32768')),
    ("Int16 below -32768", rec(b'"i16":-32769')),
    ("Int32 above 2^31-1", rec(b'"i32":2147483648')),
    ("Int32 below -2^31", rec(b'"i32":-2147483649')),
    ("Int64 above 2^63-1", rec(b'"i64":9223372036854775808')),
    ("Int64 below -2^63", rec(b'"i64":-9223372036854775809')),
    ("an integer of 400 digits", rec(b'"i64":' + b"9" * 400)),
    ("UInt8 above 255", rec(b'"u8":256')),
    ("UInt8 negative", rec(b'"u8":-1')),
    ("UInt16 above 65535", rec(b'"u16":65536')),
    ("UInt32 above 2^32-1", rec(b'"u32":4294967296')),
    ("UInt64 above 2^64-1", rec(b'"u64":18446744073709551616')),
    ("UInt64 negative", rec(b'"u64":-1')),
    ("Float32 beyond its range", rec(b'"f32":1e39')),
    ("Float64 beyond its range", rec(b'"f64":1e400')),
    ("an exponent of many digits", rec(b'"f64":1e99999999999999999999')),
    # text
    ("bad UTF-8: a stray continuation byte", rec(b'"code":"A\x80B"')),
    ("bad UTF-8: an invalid byte 0xFF", rec(b'"code":"A\xffB"')),
    ("bad UTF-8: an overlong encoding of '/'", rec(b'"code":"A\xc0\xafB"')),
    ("bad UTF-8: a truncated sequence", rec(b'"code":"A\xe2\x82"')),
    ("bad UTF-8: a surrogate encoded in UTF-8", rec(b'"code":"A\xed\xa0\x80B"')),
    ("bad UTF-8: beyond U+10FFFF", rec(b'"code":"A\xf4\x90\x80\x80B"')),
    ("bad UTF-8 in a field name", rec(b'"c\xffde":"ABC"')),
    ("a lone high surrogate escape", rec(b'"code":"\\ud800"')),
    ("a lone low surrogate escape", rec(b'"code":"\\udc00"')),
    ("a high surrogate followed by a non-surrogate", rec(b'"code":"\\ud800\\u0041"')),
    ("an escaped NUL character", rec(b'"code":"A\\u0000B"')),
    ("a raw NUL byte", rec(b'"code":"A\x00B"')),
    # keys and required fields
    ("a missing Key", b'{"name":"n"}'),
    ("null for the Key", b'{"id":null,"name":"n"}'),
    ("a number for a String Key", b'{"id":5,"name":"n"}'),
    ("a duplicate Key field", b'{"id":"k","id":"j","name":"n"}'),
    ("a duplicate field", rec(b'"i32":1,"i32":2')),
    ("a missing required field", b'{"id":"k"}'),
    ("null for a required field", b'{"id":"k","name":null}'),
    ("an unknown field", rec(b'"extra":1')),
    # constraints and value formats
    ("a string shorter than @length", b'{"id":"k","name":""}'),
    ("a string longer than @length", b'{"id":"k","name":"seventeen chars!!"}'),
    ("@length counts characters, not bytes", b'{"id":"k","name":"' + "é".encode() * 17 + b'"}'),
    ("a long string (4 KiB) over @length", b'{"id":"k","name":"' + b"x" * 4096 + b'"}'),
    ("a value outside @range (above)", rec(b'"score":101')),
    ("a value outside @range (below)", rec(b'"score":-1')),
    ("a string not matching @pattern", rec(b'"code":"abc"')),
    ("an Enum value that is not a member", rec(b'"kind":"android"')),
    ("an Enum value in the wrong case", rec(b'"kind":"WEB"')),
    ("a number for an Enum", rec(b'"kind":1')),
    ("a DateTime without a time zone", rec(b'"at":"2024-03-20T12:00:00"')),
    ("a DateTime with a space and no seconds", rec(b'"at":"2024-03-20 12:00"')),
    ("a DateTime with month 13", rec(b'"at":"2024-13-01T00:00:00Z"')),
    ("a DateTime on 30 February", rec(b'"at":"2024-02-30T00:00:00Z"')),
    ("a DateTime at 24:00", rec(b'"at":"2024-03-20T24:00:00Z"')),
    ("a DateTime as a Unix time number", rec(b'"at":1710936000')),
    ("a Date that does not exist", rec(b'"day":"2023-02-29"')),
    ("a Date without dashes", rec(b'"day":"20240320"')),
    ("a UUID that is too short", rec(b'"uid":"123e4567-e89b-12d3-a456-42661417400"')),
    ("a UUID with a non-hex digit", rec(b'"uid":"123e4567-e89b-12d3-a456-42661417400g"')),
    ("a UUID with dashes misplaced", rec(b'"uid":"123e4567e-89b-12d3-a456-426614174000"')),
    ("a Decimal with too many digits", rec(b'"price":12345.67')),
    ("a Decimal with too many fraction digits", rec(b'"price":1.234')),
    ("a Decimal written as a string", rec(b'"price":"12.5"')),
    ("a Decimal with an exponent too large", rec(b'"price":1e10')),
    ("several constraint failures in one record", b'{"id":"k","name":"","score":500,"code":"abc"}'),
    ("several decoding errors in one record", rec(b'"i8":300,"u8":-1')),
    ("wrong values in nested records and arrays",
     rec(b'"where":{"x":"a","y":1.5},"tags":["t",2],"kind":"tv"')),
    ("a wrong value, then malformed JSON", b'{"id":"k","name":"n","i8":"x","u8":}'),
]

LENIENT = [
    ("nesting 100 levels deep in an unknown field", rec(b'"extra":' + deep(100))),
    ("nesting 10,000 levels deep", rec(b'"extra":' + deep(10000))),
    ("objects nested 100 levels deep", rec(b'"extra":' + b'{"a":' * 100 + b"1" + b"}" * 100)),
    ("an unknown field (ignored: valid)", rec(b'"extra":{"a":[1,2,{"b":null}]}')),
    ("malformed JSON inside an unknown field", rec(b'"extra":[1,2')),
]

# Run with --max-depth 3 (the record's own object is level 1).
DEPTH = [
    ("nesting 3 levels deep: within --max-depth 3", rec(b'"extra":[[1]]')),
    ("nesting 4 levels deep: beyond --max-depth 3", rec(b'"extra":[[[1]]]')),
    ("a model in an array (3 levels): within --max-depth 3", rec(b'"path":[{"x":1,"y":2}]')),
]

# Run with --max-record-bytes 1k.
LIMITS = [
    ("a line longer than --max-record-bytes", b'{"id":"k","name":"' + b"x" * 2000 + b'"}'),
    ("a valid line after it still passes", rec()),
    ("a line of 4 KiB without a newline, at the end", b'{"id":"k","name":"' + b"y" * 4096),
]


def write(path, cases):
    with open(path, "wb") as f:
        for _, line in cases:
            f.write(line + b"\n")


def run(app, stream, path, extra=()):
    out = subprocess.run([app, *extra, "validate", stream, path], capture_output=True).stdout
    rows = {}
    for l in out.decode("utf-8", "replace").splitlines():
        head, _, rest = l.partition(": ")
        if head.isdigit():
            rows.setdefault(int(head), []).append(rest)
    return rows


def table(app, stream, path, cases, extra=()):
    rows = run(app, stream, path, extra)
    for i, (kind, _) in enumerate(cases, 1):
        errs = "<br>".join("`" + e.replace("|", "\\|") + "`" for e in rows.get(i, ["(valid)"]))
        print(f"| {kind} | {path}:{i} | {errs} |")


def main():
    start = os.getcwd()
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(here)
    write("strict.jsonl", STRICT)
    write("lenient.jsonl", LENIENT)
    write("depth.jsonl", DEPTH)
    with open("limits.jsonl", "wb") as f:
        f.write(b"\n".join(line for _, line in LIMITS))
    if len(sys.argv) > 1:
        app = os.path.abspath(os.path.join(start, sys.argv[1]))
        table(app, "strict", "strict.jsonl", STRICT)
        table(app, "lenient", "lenient.jsonl", LENIENT)
        table(app, "lenient", "depth.jsonl", DEPTH, ("--max-depth", "3"))
        raised = [("nesting 100 levels deep, with --max-depth 200", LENIENT[0][1])]
        table(app, "lenient", "lenient.jsonl", raised, ("--max-depth", "200"))
        table(app, "strict", "limits.jsonl", LIMITS, ("--max-record-bytes", "1k"))


main()
