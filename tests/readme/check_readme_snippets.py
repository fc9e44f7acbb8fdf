#!/usr/bin/python3
"""The C++ snippets of the documentation are excerpts of the examples, which CI
builds and runs.

    check_readme_snippets.py SOURCE_DIR

Pages checked: SOURCE_DIR/README.md, every SOURCE_DIR/docs/*.md and
SOURCE_DIR/bench/README.md (found when the test runs, so a new page is checked
without touching CMake). For every ```cpp block of a page, one file of
SOURCE_DIR/examples/ must contain all of the block's lines, in the same order
(leading and trailing spaces ignored; blank lines and lines that are only `...`
skipped). So no page can drift from code that compiles. Also fails when:
- README.md or docs/api.md (the pages that teach the API) has no ```cpp block;
- a fence spells C++ another way (```c++, ```cxx, ```cc, ```C++): such a block
  would escape the check;
- a block that is neither ```cpp nor ```cmake holds C++ (`#include`,
  `std::`, `latent::` other than the CMake targets).
Exit 0 pass, 1 fail. Standard library only.
"""
import glob
import os
import re
import sys

FENCE = re.compile(r"^[ \t]*```([^\n`]*)\n(.*?)^[ \t]*```", flags=re.S | re.M)
OTHER_CPP_TAGS = {"c++", "cxx", "cc", "hpp", "h", "c"}
# C++ code, not the CMake target names latent::latent / latent::faiss.
CPP_MARKERS = re.compile(r"#include\s*[<\"]|\bstd::\w|\blatent::(?!(?:latent|faiss)\b)\w")
PAGES_THAT_TEACH_THE_API = {"README.md", os.path.join("docs", "api.md")}


def pages(root):
    found = [os.path.join(root, "README.md")]
    found += sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    bench = os.path.join(root, "bench", "README.md")
    if os.path.exists(bench):
        found.append(bench)
    return found


def fenced_blocks(text):
    """(tag, body) of every fenced block, tag lowercased and stripped."""
    return [(tag.strip().lower(), body) for tag, body in FENCE.findall(text)]


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


def example_sources(examples_dir):
    sources = {}
    for name in sorted(os.listdir(examples_dir)):
        if name.endswith(".cpp"):
            with open(os.path.join(examples_dir, name), encoding="utf-8") as f:
                sources[name] = lines_of(f.read())
    return sources


def check_page(root, path, sources):
    """Prints one line per snippet; returns the number of failures."""
    name = os.path.relpath(path, root)
    with open(path, encoding="utf-8") as f:
        blocks = fenced_blocks(f.read())
    failures = 0
    snippets = [body for tag, body in blocks if tag == "cpp"]
    for number, snippet in enumerate(snippets, 1):
        wanted = lines_of(snippet)
        homes = [source for source, lines in sources.items() if is_excerpt(wanted, lines)]
        if homes:
            print(f"{name} snippet {number}: excerpt of examples/{homes[0]}")
        else:
            failures += 1
            print(f"{name} snippet {number}: not an excerpt of any example:\n{snippet}")
    for tag, body in blocks:
        if tag in OTHER_CPP_TAGS:
            failures += 1
            print(f"{name}: a ```{tag} block escapes the check; tag C++ as ```cpp:\n{body}")
        elif tag not in ("cpp", "cmake") and CPP_MARKERS.search(body):
            failures += 1
            print(f"{name}: C++ in a ```{tag} block (not checked); make it a ```cpp excerpt of an example:\n{body}")
    if not snippets and name in PAGES_THAT_TEACH_THE_API:
        failures += 1
        print(f"{name} has no C++ snippet")
    return failures


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    sources = example_sources(os.path.join(root, "examples"))
    failures = sum(check_page(root, path, sources) for path in pages(root))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
