#!/usr/bin/env bash
# Runs mdBook on the Chinese edition of the book: the English pages with
# each paragraph, heading and list item replaced by its translation in
# book/po/zh-CN.po. The gettext preprocessor runs before `links`, so the
# pages are translated before their {{#include}}s expand: the code and
# the transcripts of real runs stay exactly as the English edition has
# them. It is written to book/book/zh-CN, next to the English edition in
# book/book (each page links to its counterpart: book/language-link.js).
# Then book/scripts/search-cjk.py makes its search find Chinese words,
# which mdBook's own index leaves out.
#
# Usage:   bash book/scripts/zh-CN.sh build
#              the Chinese edition, into book/book/zh-CN
#          bash book/scripts/zh-CN.sh serve [--open] [-p PORT] [-n ADDRESS]
#              both editions, served on http://ADDRESS:PORT/zh-CN/ (the
#              English one at /; 127.0.0.1:3000 unless told), built
#              again when a page, zh-CN.po or a chapter's source changes
#              (reload the page to see it)
#          bash book/scripts/zh-CN.sh watch
#              the Chinese edition, built again on every change
# Needs:   mdbook 0.5.4 and mdbook-i18n-helpers 0.4.0 (book/build.sh says
#          how to install them), and python3
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
me=book/scripts/zh-CN.sh

usage() {
    echo "usage: bash $me build|serve|watch" \
        "(serve: [--open] [-p PORT] [-n ADDRESS])" >&2
    exit 2
}
if [[ $# -eq 0 || ($1 != build && $1 != serve && $1 != watch) ]]; then
    usage
fi
command=$1
shift
port=3000
address=127.0.0.1
open=false
while (($# > 0)); do
    case "$command:$1" in
        serve:--open | serve:-o) open=true ;;
        serve:-p | serve:--port) (($# > 1)) || usage; port=$2; shift ;;
        serve:-n | serve:--hostname) (($# > 1)) || usage; address=$2; shift ;;
        *) usage ;;
    esac
    shift
done

mdbook=${MDBOOK:-mdbook}

# Without the tools, say how to get them (not bash's "not found").
if ! command -v "$mdbook" >/dev/null; then
    echo "zh-CN.sh: no mdbook; install it with \`cargo install --locked mdbook --version 0.5.4\`" >&2
    exit 1
fi
if ! command -v mdbook-gettext >/dev/null; then
    echo "zh-CN.sh: no mdbook-gettext; install it with \`cargo install --locked mdbook-i18n-helpers --version 0.4.0\`" >&2
    exit 1
fi

# The Chinese edition, into book/book/zh-CN, with its search made to
# find Chinese words.
build_chinese() {
    # mdBook reads MDBOOK_* variables as settings of book.toml
    # (MDBOOK_BOOK__LANGUAGE is book.language); these are the only ones
    # in which the two editions differ. The language selects
    # po/zh-CN.po and makes the pages `<html lang="zh-CN">`.
    MDBOOK_BOOK__LANGUAGE=zh-CN \
    MDBOOK_BOOK__TITLE="nslab：Linux 命名空间，一次一个标志" \
    MDBOOK_BOOK__DESCRIPTION="用 Rust 构建容器的隔离，每章一个命名空间。" \
    MDBOOK_PREPROCESSOR__GETTEXT='{"before": ["links"]}' \
        "$mdbook" build book -d "$repo/book/book/zh-CN" &&
        python3 book/scripts/search-cjk.py book/book/zh-CN
}

# Both editions: the English one first, as mdBook empties book/book.
build_both() {
    "$mdbook" build book && build_chinese
}

# What `serve` and `watch` leave behind: nothing.
server=
temporary=()
cleanup() {
    [[ -z $server ]] || kill "$server" 2>/dev/null || true
    rm -f "${temporary[@]}"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Runs $1 again whenever a file it reads changes (polled once a second:
# no watcher to install), until interrupted.
rebuild_on_change() {
    local stamp
    stamp=$(mktemp)
    temporary+=("$stamp")
    while sleep 1; do
        if [[ -n $(find book/src book/po book/book.toml book/*.js book/*.css \
            book/scripts nslab/src ch0*/src -newer "$stamp" \
            -type f -print -quit 2>/dev/null) ]]; then
            touch "$stamp"
            echo "$me: a file changed; building again"
            "$1" || echo "$me: the build failed (above)" >&2
        fi
    done
}

case $command in
    build)
        build_chinese
        ;;
    watch)
        build_chinese
        rebuild_on_change build_chinese
        ;;
    serve)
        # `mdbook serve` would serve one edition, without the other one
        # that the menu bar links to, and without search-cjk.py: serve
        # both editions, as book/build.sh builds them, instead.
        build_both
        log=$(mktemp)
        temporary+=("$log")
        python3 -u -m http.server "$port" --bind "$address" \
            --directory book/book >"$log" 2>&1 &
        server=$!
        # Until it says it serves (another server may hold the port and
        # answer), or has given up.
        for _ in $(seq 100); do
            kill -0 "$server" 2>/dev/null || break
            ! grep -q '^Serving HTTP' "$log" || break
            sleep 0.1
        done
        if ! grep -q '^Serving HTTP' "$log"; then
            # Python's last line says why (`OSError: [Errno 98] Address
            # already in use`); the traceback before it is noise.
            echo "$me: cannot serve on $address:$port:" \
                "$(tail -n 1 "$log")" >&2
            echo "hint: another server may have the port: choose another" \
                "with -p PORT" >&2
            exit 1
        fi
        url="http://$address:$port/zh-CN/"
        echo "$me: serving the Chinese edition on $url (the English" \
            "one on http://$address:$port/); Ctrl-C to stop"
        if $open; then
            xdg-open "$url" >/dev/null 2>&1 ||
                echo "$me: open $url in a browser" >&2
        fi
        rebuild_on_change build_both
        ;;
esac
