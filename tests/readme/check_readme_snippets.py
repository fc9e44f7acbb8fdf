#!/usr/bin/python3
"""The README's C++ snippets are excerpts of the examples, which CI builds and runs.

    check_readme_snippets.py README.md EXAMPLES_DIR

For every ```cpp block of the README, one file of EXAMPLES_DIR must contain all of
the block's lines, in the same order (leading and trailing spaces ignored; blank
lines and lines that are only `...` skipped). So the API tour cannot drift from
code that compiles. Exit 0 pass, 1 fail. Standard library only.
"""
import os
import re
import sys


def blocks(readme):
    return re.findall(r"```cpp\n(.*?)```", readme, flags=re.S)


def lines_of(text):
    return [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "..."]


def is_excerpt(snippet, source):
    position = 0
    for line in snippet:
        try:
            position = source.index(line, position) + 1
        except ValueError:
            return False
    return True


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        readme = f.read()
    sources = {}
    for name in sorted(os.listdir(sys.argv[2])):
        if name.endswith(".cpp"):
            with open(os.path.join(sys.argv[2], name), encoding="utf-8") as f:
                sources[name] = lines_of(f.read())
    snippets = blocks(readme)
    failures = 0
    for number, snippet in enumerate(snippets, 1):
        wanted = lines_of(snippet)
        homes = [name for name, source in sources.items() if is_excerpt(wanted, source)]
        if homes:
            print(f"snippet {number}: excerpt of examples/{homes[0]}")
        else:
            failures += 1
            print(f"snippet {number}: not an excerpt of any example:\n{snippet}")
    if not snippets:
        print("the README has no C++ snippet")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
