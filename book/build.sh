#!/usr/bin/env bash
# Builds the book the way CI does, in both editions: the English one
# into book/book, the Chinese one (book/po/zh-CN.po) into
# book/book/zh-CN. Uses the pinned tools, from the repository root, and
# fails when mdBook fails or prints any warning or error (mdBook only
# logs a broken {{#include}} and carries on), when a link between pages
# is broken (book/scripts/check-links.py), when the translation is
# not complete (book/scripts/check-translation.sh), when the search of
# either edition does not find the words of its pages
# (book/scripts/check-search.js), or when `zh-CN.sh serve` does not
# serve both editions linked to each other (book/scripts/check-serve.js).
#
# Usage:   bash book/build.sh
# Needs:   cargo install --locked mdbook --version 0.5.4
#          cargo install --locked mdbook-i18n-helpers --version 0.4.0
#          gettext (`apt-get install gettext`), python3 and node
#          (`apt-get install nodejs`: it runs mdBook's search and
#          book/language-link.js as a browser would)
set -euo pipefail

want=0.5.4
want_i18n=0.4.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

mdbook=${MDBOOK:-mdbook}
export MDBOOK=$mdbook
if ! version=$("$mdbook" --version 2>/dev/null); then
    echo "book/build.sh: no mdbook; install it with" \
        "\`cargo install --locked mdbook --version $want\`" >&2
    exit 1
fi
if [[ $version != "mdbook v$want" ]]; then
    echo "book/build.sh: found $version, the book is pinned to v$want:" \
        "\`cargo install --locked mdbook --version $want\`" >&2
    exit 1
fi
# The i18n tools have no --version: cargo records what it installed.
if ! cargo install --list 2>/dev/null |
    grep -qx "mdbook-i18n-helpers v$want_i18n:"; then
    echo "book/build.sh: the Chinese edition needs mdbook-i18n-helpers" \
        "v$want_i18n: \`cargo install --locked mdbook-i18n-helpers" \
        "--version $want_i18n\`" >&2
    exit 1
fi

if ! command -v node >/dev/null; then
    echo "book/build.sh: no node, which checks the search and the links" \
        "between the editions; install it with \`apt-get install nodejs\`" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=()

# Runs an mdBook build ($2...), and records a failure named $1 when it
# fails or logs a warning.
build() {
    local what=$1 status=0
    shift
    # No colours, so that the log lines are plain text to search.
    NO_COLOR=1 "$@" >"$log" 2>&1 || status=$?
    cat "$log"
    if ((status != 0)); then
        failed+=("mdbook failed on $what (exit status $status)")
    elif grep -Eq '(^|[[:space:]])(WARN|ERROR|warning|error)([[:space:]:]|$)' "$log"; then
        failed+=("mdbook printed warnings or errors on $what (above)")
    fi
}

build "the English edition" "$mdbook" build book
build "the Chinese edition" bash book/scripts/zh-CN.sh build
python3 book/scripts/check-links.py book/book ||
    failed+=("broken links between pages (above)")
bash book/scripts/check-translation.sh ||
    failed+=("the Chinese translation is not complete (above)")
node book/scripts/check-search.js book/book ||
    failed+=("the search does not find the words of the pages (above)")
node book/scripts/check-serve.js ||
    failed+=("zh-CN.sh serve does not serve both editions (above)")

if ((${#failed[@]} > 0)); then
    printf 'book/build.sh: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "book/build.sh: book/book (English) and book/book/zh-CN (Chinese)" \
    "built without warnings"
