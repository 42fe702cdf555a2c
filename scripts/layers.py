#!/usr/bin/env python3
"""Check zkchaos's layering from its imports (docs/design.md).

Reads every `crate::<module>` reference in src/ (use statements and paths, test code included;
comments and doc comments left out) and reports:
  1. the arrows between top-level modules, and every one that points back up the layer order;
  2. import loops between files of different top-level modules (a cycle in the file graph
     that crosses a module boundary).
Exit status 1 if either finds something. Usage: scripts/layers.py [--graph]
"""
import os, re, sys
from collections import defaultdict

# The layer order, bottom first (docs/design.md). A module may import only modules in lower
# layers (or its own); modules on one line are one layer and do not import each other.
LAYERS = [
    ["error"],
    ["plan"],
    ["profile"],
    ["record"],
    ["analysis"],
    ["check"],
    ["cluster", "workload"],
    ["procedure"],
    ["report"],
    ["stats"],
    ["gate"],
    ["suite", "capacity"],
    ["runner"],
    ["hunt"],
    ["commands"],
    ["lib", "main"],
]
RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
ref = re.compile(r"\bcrate::(\w+)|\bcrate::\{([^}]*)\}")


def top_of(path):
    rel = os.path.relpath(path, root)
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] if "//" in line and '"' not in line.split("//")[0] else line
                     for line in text.split("\n") if not line.lstrip().startswith("//"))


def module_files():
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith(".rs"):
                yield os.path.join(d, f)


def file_of_module(top, names):
    """The file that defines crate::top::names[0]... as deep as exists."""
    base = os.path.join(root, top)
    best = base + ".rs" if os.path.exists(base + ".rs") else os.path.join(base, "mod.rs")
    for n in names:
        cand = [os.path.join(base, n + ".rs"), os.path.join(base, n, "mod.rs")]
        hit = next((c for c in cand if os.path.exists(c)), None)
        if not hit:
            break
        best, base = hit, os.path.join(base, n)
    return best if os.path.exists(best) else None


files = list(module_files())
mod_edges = defaultdict(set)  # (from, to) -> files
file_edges = defaultdict(set)
path_ref = re.compile(r"\bcrate::((?:\w+::)*\w+)")
for f in files:
    src = top_of(f)
    text = strip_comments(open(f, encoding="utf-8").read())
    # crate::{a, b::c} groups
    for grp in re.findall(r"\bcrate::\{([^}]*)\}", text):
        for item in grp.split(","):
            parts = [p for p in re.split(r"::", item.strip()) if re.fullmatch(r"\w+", p)]
            if parts and parts[0] in RANK and parts[0] != src:
                mod_edges[(src, parts[0])].add(f)
                g = file_of_module(parts[0], parts[1:])
                if g:
                    file_edges[f].add(g)
    for p in path_ref.findall(text):
        parts = p.split("::")
        if parts[0] in RANK and parts[0] != src:
            mod_edges[(src, parts[0])].add(f)
            g = file_of_module(parts[0], parts[1:])
            if g:
                file_edges[f].add(g)

bad = 0
print("arrows between top-level modules (from -> to: files):")
for (a, b), fs in sorted(mod_edges.items(), key=lambda kv: (RANK.get(kv[0][0], 99), kv[0][1])):
    up = RANK.get(b, 99) >= RANK.get(a, 99)
    mark = "  BACK UP" if up else ""
    if up:
        bad += 1
    if up or "--graph" in sys.argv:
        print(f"  {a} -> {b}: {len(fs)}{mark}  ({', '.join(sorted(os.path.relpath(x, root) for x in fs)[:4])})")
print(f"{len(mod_edges)} arrows, {bad} pointing back up")

# Cycles in the file graph that cross a top-level boundary (Tarjan's SCC).
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in file_edges.get(v, ()):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(comp)


for f in files:
    if f not in index:
        strong(f)
loops = [c for c in sccs if len({top_of(x) for x in c}) > 1]
for c in loops:
    print("import loop across modules:", ", ".join(sorted(os.path.relpath(x, root) for x in c)))
print(f"{len(loops)} import loops between files of different top-level modules")
sys.exit(1 if bad or loops else 0)
