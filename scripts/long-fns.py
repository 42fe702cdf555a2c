#!/usr/bin/env python3
"""List functions in src/ longer than N lines (default 100): `scripts/long-fns.py [N]`.
A function runs from its `fn` line to its closing brace (string and char literals and comments
are skipped when matching braces)."""
import os, re, sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 100
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
fn_re = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?(unsafe\s+)?fn\s+(\w+)")


def body_end(lines, start):
    depth, seen, i = 0, False, start
    while i < len(lines):
        line = re.sub(r'"(\\.|[^"\\])*"', '""', lines[i])
        line = re.sub(r"'(\\.|[^'\\])'", "''", line)
        line = line.split("//")[0]
        for ch in line:
            if ch == "{":
                depth += 1
                seen = True
            elif ch == "}":
                depth -= 1
                if seen and depth == 0:
                    return i
            elif ch == ";" and not seen:
                return None
        i += 1
    return None


rows = []
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith(".rs"):
            continue
        p = os.path.join(d, f)
        lines = open(p, encoding="utf-8").read().split("\n")
        for i, l in enumerate(lines):
            m = fn_re.match(l)
            if m:
                end = body_end(lines, i)
                if end is not None and end - i + 1 > limit:
                    rows.append((end - i + 1, os.path.relpath(p, root), m.group(6), i + 1))
for n, p, name, line in sorted(rows, reverse=True):
    print(f"{n:4} src/{p}:{line} {name}")
print(f"{len(rows)} functions over {limit} lines")
