#!/usr/bin/python3
"""Shipped text must not point outside the repository.

    check_no_outside_references.py SOURCE_DIR docs
    check_no_outside_references.py SOURCE_DIR sources

`docs` scans README.md, docs/*.md, bench/README.md, bench/python/README.md and
data/README.md;
`sources` scans every file under include/, src/, tools/, python/ and examples/
(headers, CLI help strings, the HTML report's footer, docstrings, comments).

A reader of these files has only the repository. So they must not cite files
that do not ship (the project's design notes, the reference values' own README,
a sibling folder), the project's issue numbers, or absolute paths of the machine
they were written on; a definition is stated where it is used, or in docs/.
Each hit is printed as FILE:LINE: what: text. Exit 0 when there is none, 1
otherwise. Standard library only.
"""
import glob
import os
import re
import sys

# (what, pattern); case-insensitive.
FORBIDDEN = [
    ("a sibling folder outside the repository", r"\.\./shared\b|\.\./golden\b"),
    ("the project's design notes", r"\bDESIGN\.md\b|\bSTYLE\.md\b"),
    ("the reference values' README or kit", r"\bgolden\s+(README|kit)\b|\b(project|golden)\s+kit\b|\bthe kit\b|\bkit's\b"),
    ("the reference values as an outside source", r"\bgolden\b(?![._/-])"),
    ("a numbered section of another document", r"\bREADME\s+(section\s+)?\d|\bsection\s+\d+(\.\d+)?\b"),
    ("an issue or pull request number", r"\bissue\s*#?\d+|\bPR\s*#\d+|\(#\d+\)|\bthe issue('s)?\b"),
    ("a note of the project's history", r"\bclosing note\b"),
    ("an absolute path of a machine", r"(?<![\w.~-])/(work|root|home|tmp|Users)/"),
]
PATTERNS = [(what, re.compile(pattern, re.IGNORECASE)) for what, pattern in FORBIDDEN]


def docs(root):
    files = [os.path.join(root, "README.md")]
    files += sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True))
    files += [os.path.join(root, name) for name in ("bench/README.md", "bench/python/README.md", "data/README.md")]
    return [path for path in files if os.path.isfile(path)]


def sources(root):
    files = []
    for folder in ("include", "src", "tools", "python", "examples"):
        for directory, _, names in os.walk(os.path.join(root, folder)):
            files += [os.path.join(directory, name) for name in sorted(names)]
    return sorted(files)


def hits(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            for what, pattern in PATTERNS:
                if pattern.search(line):
                    yield number, what, line.strip()


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("docs", "sources"):
        sys.exit(__doc__)
    root = sys.argv[1]
    files = docs(root) if sys.argv[2] == "docs" else sources(root)
    count = 0
    for path in files:
        for number, what, text in hits(path):
            count += 1
            print(f"{os.path.relpath(path, root)}:{number}: {what}: {text}")
    print(f"{len(files)} files scanned, {count} references outside the repository")
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main())
