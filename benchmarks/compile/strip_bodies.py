#!/usr/bin/env python3
"""Copy impactkit's headers with the bodies of chosen inline functions removed (declarations kept).

A measuring aid for compile_cost.sh, not a build step: compiling a TU against the copy (-c, no link)
shows what that TU would cost if those functions lived in a compiled library (libimpactkit_core)
instead of the headers; the difference to the original headers is what their bodies cost every TU.
With --template, the chosen functions get a dummy template parameter instead (`template <int = 0>`),
so their bodies are instantiated only where a TU calls them.

  strip_bodies.py SRC_INCLUDE DST_INCLUDE [--only REGEX] [--files REGEX] [--template]
    --only REGEX   function names to strip (default: every namespace-scope inline function)
    --files REGEX  header paths to touch (default: all)
Prints the stripped functions with the lines their bodies had.
"""
import argparse
import re
import shutil
from pathlib import Path

START = re.compile(r"^(\s*)((?:\[\[noreturn\]\]\s+)?inline\s+)(?!constexpr\s+const)", re.M)


def body_span(text, start):
    """(open, close) offsets of the function body whose declaration starts at `start`, or None."""
    i, paren, n = start, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if c == "(":
            paren += 1
        elif c == ")":
            paren -= 1
        elif c == ";" and paren == 0:
            return None  # a declaration or a variable
        elif c == "{" and paren == 0:
            break
        i += 1
    if i >= n:
        return None
    open_ = i
    depth = 0
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return open_, i
        i += 1
    return None


def skip_literal(text, i):
    q = text[i]
    if q == "'" and i > 0 and (text[i - 1].isalnum()):  # digit separator 1'000
        return i + 1
    j = i + 1
    while text[j] != q:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def function_name(decl):
    m = re.search(r"([A-Za-z_][A-Za-z_0-9]*)\s*\(", decl)
    return m.group(1) if m else "?"


def process(text, only, template):
    out, pos, stripped = [], 0, []
    for m in START.finditer(text):
        if m.start() < pos:
            continue
        span = body_span(text, m.start())
        if span is None:
            continue
        open_, close = span
        decl = text[m.start():open_]
        name = function_name(decl)
        if name in ("operator",) or (only and not re.search(only, name)):
            continue
        out.append(text[pos:m.start()])
        lines = text.count("\n", open_, close) + 1
        stripped.append((name, lines))
        if template:
            out.append(m.group(1) + "template <int = 0> " + text[m.start() + len(m.group(1)):close + 1])
        else:
            # a compiled library's declaration: not inline (defined in libimpactkit_core)
            out.append(decl[:len(m.group(1))] + m.group(2).replace("inline", "").lstrip() + decl[m.end() - m.start():].rstrip() + ";")
        pos = close + 1
    out.append(text[pos:])
    return "".join(out), stripped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--only")
    ap.add_argument("--files")
    ap.add_argument("--template", action="store_true")
    a = ap.parse_args()
    src, dst = Path(a.src), Path(a.dst)
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    total = 0
    for h in sorted(dst.rglob("*.hpp")):
        rel = str(h.relative_to(dst))
        if a.files and not re.search(a.files, rel):
            continue
        text, stripped = process(h.read_text(), a.only, a.template)
        h.write_text(text)
        for name, lines in stripped:
            print(f"{rel}: {name} ({lines} lines)")
            total += lines
    print(f"total: {total} body lines")


if __name__ == "__main__":
    main()
