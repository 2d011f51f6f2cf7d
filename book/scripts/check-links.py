#!/usr/bin/env python3
"""Checks the links between the pages of a built book: every relative
link names a file that is there, and every #anchor an id in that file.
Both editions have the same pages and heading ids; a translation that
changed a link target, or a heading without its {#id}, shows up here.

Usage: python3 book/scripts/check-links.py DIR...   (e.g. book/book)
Only the standard library."""

import html.parser
import os
import sys
import urllib.parse


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href") is not None:
            self.links.append((self.getpos()[0], attrs["href"]))


def pages(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".html"):
                yield os.path.join(dirpath, name)


def parse(path, cache={}):
    if path not in cache:
        page = Page()
        with open(path, encoding="utf-8") as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def main(roots):
    problems = []
    count = 0
    for root in roots:
        for path in sorted(pages(root)):
            # 404.html is served at any depth, so its links are absolute.
            if os.path.basename(path) == "404.html":
                continue
            for line, href in parse(path).links:
                url = urllib.parse.urlsplit(href)
                if url.scheme or url.netloc or href.startswith("/"):
                    continue
                count += 1
                target = path
                if url.path:
                    target = os.path.normpath(
                        os.path.join(os.path.dirname(path),
                                     urllib.parse.unquote(url.path)))
                    if os.path.isdir(target):
                        target = os.path.join(target, "index.html")
                where = f"{path}:{line}: {href}"
                if not os.path.isfile(target):
                    problems.append(f"{where}: no such file")
                    continue
                anchor = urllib.parse.unquote(url.fragment)
                if anchor and target.endswith(".html") \
                        and anchor not in parse(target).ids:
                    problems.append(f"{where}: no id {anchor!r} there")
    if count == 0:
        problems.append(f"no links found in {' '.join(roots)}: not built?")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check-links.py: {len(problems)} broken link(s)", file=sys.stderr)
        return 1
    print(f"check-links.py: {count} links in {' '.join(roots)}, none broken")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
