#!/usr/bin/env bash
# Runs mdBook on the Chinese edition of the book: the English pages with
# each paragraph, heading and list item replaced by its translation in
# book/po/zh-CN.po. The gettext preprocessor runs before `links`, so the
# pages are translated before their {{#include}}s expand: the code and
# the transcripts of real runs stay exactly as the English edition has
# them. It is written to book/book/zh-CN, next to the English edition in
# book/book (each page links to its counterpart: book/language-link.js).
#
# Usage:   bash book/scripts/zh-CN.sh build
#          bash book/scripts/zh-CN.sh serve [--open] [-p PORT]
# Needs:   mdbook 0.5.4 and mdbook-i18n-helpers 0.4.0 (book/build.sh says
#          how to install them)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

if [[ $# -eq 0 || ($1 != build && $1 != serve && $1 != watch) ]]; then
    echo "usage: bash book/scripts/zh-CN.sh build|serve|watch [mdbook options]" >&2
    exit 2
fi
command=$1
shift

# Without the tools, say how to get them (not bash's "not found").
if ! command -v "${MDBOOK:-mdbook}" >/dev/null; then
    echo "zh-CN.sh: no mdbook; install it with \`cargo install --locked mdbook --version 0.5.4\`" >&2
    exit 1
fi
if ! command -v mdbook-gettext >/dev/null; then
    echo "zh-CN.sh: no mdbook-gettext; install it with \`cargo install --locked mdbook-i18n-helpers --version 0.4.0\`" >&2
    exit 1
fi

# mdBook reads MDBOOK_* variables as settings of book.toml
# (MDBOOK_BOOK__LANGUAGE is book.language); these are the only ones in
# which the two editions differ. The language selects po/zh-CN.po and
# makes the pages `<html lang="zh-CN">`.
export MDBOOK_BOOK__LANGUAGE=zh-CN
export MDBOOK_BOOK__TITLE="nslab：Linux 命名空间，一次一个标志"
export MDBOOK_BOOK__DESCRIPTION="用 Rust 构建容器的隔离，每章一个命名空间。"
export MDBOOK_PREPROCESSOR__GETTEXT='{"before": ["links"]}'

# -d is relative to the working directory, not to the book.
exec "${MDBOOK:-mdbook}" "$command" book -d "$repo/book/book/zh-CN" "$@"
