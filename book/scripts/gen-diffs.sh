#!/usr/bin/env bash
# Writes book/src/generated/chNN.diff: what each chapter changes in the
# previous chapter's program, as `diff -u` sees it, code only: the `//!`
# lines (the chapter's narration, which its page already tells) are left
# out of both sides. The book includes these files; `cargo test -p
# book-check` fails when one is out of date.
#
# Usage (from anywhere):   bash book/scripts/gen-diffs.sh
set -euo pipefail

book=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=$(dirname "$book")
out=$book/src/generated
mkdir -p "$out"

chapters=(ch01-uts ch02-ipc ch03-pid ch04-mount ch05-user ch06-net)

for ((i = 1; i < ${#chapters[@]}; i++)); do
    old=${chapters[i - 1]}/src/main.rs
    new=${chapters[i]}/src/main.rs
    file=$out/${chapters[i]%%-*}.diff
    # Fixed labels instead of file times, so the output depends only on
    # the sources. diff exits 1 when the files differ: that is expected.
    # book-check's `diff_now` runs the same command.
    status=0
    (cd "$repo" && diff -u --label "$old" --label "$new" \
        <(grep -v '^//!' "$old") <(grep -v '^//!' "$new")) >"$file" ||
        status=$?
    if ((status != 1)); then
        echo "gen-diffs: diff $old $new exited $status" >&2
        exit 1
    fi
    echo "wrote ${file#"$repo"/}"
done
