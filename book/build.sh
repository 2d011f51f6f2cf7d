#!/usr/bin/env bash
# Builds the book the way CI does: with the pinned mdBook, from the
# repository root, and fails when mdBook fails or prints any warning or
# error (mdBook only logs a broken {{#include}} and carries on).
#
# Usage:   bash book/build.sh
# Needs:   cargo install --locked mdbook --version 0.5.4
set -euo pipefail

want=0.5.4
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

mdbook=${MDBOOK:-mdbook}
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

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# No colours, so that the log lines are plain text to search.
NO_COLOR=1 "$mdbook" build book >"$log" 2>&1 || status=$?
cat "$log"

if ((status != 0)); then
    echo "book/build.sh: mdbook build failed (exit status $status)" >&2
    exit 1
fi
if grep -Eq '(^|[[:space:]])(WARN|ERROR|warning|error)([[:space:]:]|$)' "$log"; then
    echo "book/build.sh: mdbook printed warnings or errors (above)" >&2
    exit 1
fi
echo "book/build.sh: book/book built without warnings"
