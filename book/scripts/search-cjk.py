#!/usr/bin/env python3
"""Makes the search of a built Chinese edition find Chinese words.

mdBook 0.5.4 builds its search index (elasticlunr) from the words of
each section, cut at blanks: Chinese, written without blanks, gives no
words at all (what is left of a run of Chinese characters once the
trimmer has removed every character that is not a Latin letter or
digit). This adds, for every section, each Chinese character and each
pair of characters that follow each other in its title, text and
breadcrumbs, to the index that mdBook wrote; puts
book/scripts/search-cjk.js, which cuts a query the same way, at the top
of the index file; and makes a search find the sections that have every
pair of the query (`bool: "AND"`), not any one of them.

Usage: python3 book/scripts/search-cjk.py BOOK_DIR   (book/book/zh-CN)
"""

import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

# Keep in step with `han` in search-cjk.js. Only characters of the
# Basic Multilingual Plane: elasticlunr walks a token by UTF-16 units.
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
PREFIX = "window.search = Object.assign(window.search, JSON.parse('"
SUFFIX = "'));"
MARK = "// search-cjk.js"


def fail(message):
    print(f"search-cjk.py: {message}", file=sys.stderr)
    sys.exit(1)


def han_tokens(text):
    """The Chinese characters and pairs of characters of `text`."""
    tokens = []
    for run in HAN.findall(text):
        tokens.extend(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def add_token(root, token, ref, tf):
    """elasticlunr's InvertedIndex.addToken: a trie, one level a character."""
    node = root
    for char in token:
        node = node.setdefault(char, {"docs": {}, "df": 0})
    if ref not in node["docs"]:
        node["df"] += 1
    node["docs"][ref] = {"tf": tf}


def main():
    if len(sys.argv) != 2:
        fail("usage: python3 book/scripts/search-cjk.py BOOK_DIR")
    book = Path(sys.argv[1])
    files = sorted(book.glob("searchindex*.js"))
    if len(files) != 1:
        fail(f"{book}: expected one searchindex*.js, found {len(files)}")
    path = files[0]
    text = path.read_text(encoding="utf-8")
    if text.startswith(MARK):
        return  # already done
    if not (text.startswith(PREFIX) and text.rstrip().endswith(SUFFIX)):
        fail(f"{path}: not the index file mdBook 0.5.4 writes")
    # mdBook escapes `\` and `'` to put the JSON in a '…' string: every
    # backslash there starts one of these two.
    quoted = text[len(PREFIX) : text.rstrip().rindex(SUFFIX)]
    data = json.loads(re.sub(r"\\(.)", r"\1", quoted, flags=re.S))

    index = data["index"]
    store = index["documentStore"]
    for ref, doc in store["docs"].items():
        for field in index["fields"]:
            tokens = Counter(han_tokens(doc.get(field) or ""))
            for token, count in tokens.items():
                add_token(index["index"][field]["root"], token, ref, math.sqrt(count))
            info = store["docInfo"].setdefault(ref, {})
            info[field] = info.get(field, 0) + sum(tokens.values())
    index["pipeline"] = [
        "trimmer-han" if name == "trimmer" else name for name in index["pipeline"]
    ]
    data["search_options"]["bool"] = "AND"

    quoted = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    quoted = quoted.replace("\\", "\\\\").replace("'", "\\'")
    script = (Path(__file__).parent / "search-cjk.js").read_text(encoding="utf-8")
    path.write_text(f"{MARK}\n{script}{PREFIX}{quoted}{SUFFIX}", encoding="utf-8")


if __name__ == "__main__":
    main()
