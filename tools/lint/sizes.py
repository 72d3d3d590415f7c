"""The size limits issue 14 sets for Sources/: no file over 400 lines and no function (or initializer, closure-free
accessor, subscript) over 60 lines, generated code aside. Prints each one over, and exits 1 if there is any.

    python3 tools/lint/sizes.py [--max-file 400] [--max-function 60]

A function's length runs from its `func`/`init` line to the line of its closing brace, found by counting braces
outside strings and comments (good enough for this code base's style: one declaration per line, no braces in
#"raw"# strings that matter).
"""
import argparse
import os
import re
import sys

DECLARATION = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|private|fileprivate|internal|open|static|class|final|override|mutating|nonisolated|convenience|required)\s+)*(func\s+[^\s(<]+|init[?!]?\s*[(<]|subscript\s*[(<])")


def strip(line, state):
    """The line without string literals and comments; `state` carries an open block comment or multi-line string."""
    out, i = [], 0
    while i < len(line):
        if state["block"]:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out)
            state["block"], i = False, end + 2
        elif state["multiline"]:
            end = line.find('"""', i)
            if end < 0:
                return "".join(out)
            state["multiline"], i = False, end + 3
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            state["block"], i = True, i + 2
        elif line.startswith('"""', i):
            state["multiline"], i = True, i + 3
        elif line[i] == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            i = j + 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def functions(lines):
    state = {"block": False, "multiline": False}
    stripped = [strip(l, state) for l in lines]
    for start, line in enumerate(stripped):
        match = DECLARATION.match(line)
        if not match:
            continue
        depth, opened = 0, False
        for end in range(start, len(stripped)):
            depth += stripped[end].count("{") - stripped[end].count("}")
            opened = opened or "{" in stripped[end]
            if opened and depth <= 0:
                yield match.group(1).split("(")[0].strip(), start + 1, end - start + 1
                break
            if not opened and end > start and (DECLARATION.match(stripped[end]) or stripped[end].strip() in ("", "}")):
                break  # a requirement in a protocol: no body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-file", type=int, default=400)
    parser.add_argument("--max-function", type=int, default=60)
    args = parser.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources")
    over = []
    for folder, _, files in os.walk(root):
        if "Generated" in folder:
            continue
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(folder, name)
            lines = open(path, encoding="utf-8").read().split("\n")
            shown = os.path.relpath(path, os.path.join(root, ".."))
            if len(lines) > args.max_file:
                over.append(f"{shown}: {len(lines)} lines (at most {args.max_file})")
            for function, line, length in functions(lines):
                if length > args.max_function:
                    over.append(f"{shown}:{line}: {function} is {length} lines (at most {args.max_function})")
    for entry in over:
        print(entry)
    print(f"{len(over)} over the limits" if over else "every file and function within the limits")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
