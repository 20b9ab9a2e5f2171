#!/usr/bin/env python3
"""Checks that every relative link of the documentation leads somewhere.

For each Markdown file given, every link `[text](target)` that is not a URL
must name a file or folder that exists (relative to the Markdown file), and a
`#fragment` on a Markdown target must match one of its headings, spelled as
GitHub spells heading anchors. Links inside code blocks are not links.

usage: check_links.py FILE.md...
"""
import os
import re
import sys

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks."""
    in_code = False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if FENCE.match(line):
                in_code = not in_code
                continue
            if not in_code:
                yield n, line


def anchor_of(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"`|\*|_(?=\w)|(?<=\w)_", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    found = set()
    for _, line in prose_lines(path):
        m = HEADING.match(line)
        if m:
            found.add(anchor_of(m.group(1)))
    return found


def check(path):
    problems = []
    base = os.path.dirname(path)
    for n, line in prose_lines(path):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, fragment = target.partition("#")
            dest = os.path.normpath(os.path.join(base, file_part)) if file_part else path
            if not os.path.exists(dest):
                problems.append(f"{path}:{n}: link to {target}: {dest} does not exist")
                continue
            if fragment and dest.endswith(".md") and fragment not in anchors(dest):
                problems.append(f"{path}:{n}: link to {target}: no heading '#{fragment}' in {dest}")
    return problems


def main():
    if len(sys.argv) < 2:
        print("usage: check_links.py FILE.md...", file=sys.stderr)
        return 2
    problems = []
    for path in sys.argv[1:]:
        problems += check(path)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"check_links: every relative link of {len(sys.argv) - 1} files leads somewhere")
    return 0


if __name__ == "__main__":
    sys.exit(main())
