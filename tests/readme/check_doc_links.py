#!/usr/bin/python3
"""The documentation's links lead somewhere, inside the repository.

    check_doc_links.py SOURCE_DIR

Pages: README.md, docs/*.md, bench/README.md, data/README.md. Every relative
Markdown link ([text](target), anchors after '#' ignored) must name a file or
folder that exists in SOURCE_DIR, without leaving it. README.md, the front door,
must link every page of docs/, bench/README.md, data/README.md and LICENSE, so
no page is out of reach. Web links (http, https, mailto) are not fetched.
Exit 0 pass, 1 fail. Standard library only.
"""
import glob
import os
import re
import sys

LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```", flags=re.S)


def pages(root):
    files = [os.path.join(root, "README.md")]
    files += sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    files += [os.path.join(root, name) for name in ("bench/README.md", "data/README.md")]
    return [path for path in files if os.path.isfile(path)]


def relative_links(path):
    with open(path, encoding="utf-8") as f:
        text = CODE.sub("", f.read())
    for target in LINK.findall(text):
        if re.match(r"(https?|mailto):", target) or target.startswith("#"):
            continue
        yield target


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.realpath(sys.argv[1])
    failures = 0
    readme_targets = set()
    for page in pages(root):
        name = os.path.relpath(page, root)
        for target in relative_links(page):
            resolved = os.path.realpath(os.path.join(os.path.dirname(page), target.split("#")[0]))
            if name == "README.md":
                readme_targets.add(os.path.relpath(resolved, root))
            if os.path.commonpath([root, resolved]) != root:
                failures += 1
                print(f"{name}: link leaves the repository: {target}")
            elif not os.path.exists(resolved):
                failures += 1
                print(f"{name}: link to a missing file: {target}")
    wanted = [os.path.relpath(p, root) for p in sorted(glob.glob(os.path.join(root, "docs", "*.md")))]
    wanted += ["bench/README.md", "data/README.md", "LICENSE"]
    for target in wanted:
        if target not in readme_targets:
            failures += 1
            print(f"README.md does not link {target}")
    print(f"{len(pages(root))} pages, {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
