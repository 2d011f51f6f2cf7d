#!/usr/bin/env bash
# Keeps the Chinese edition complete. Extracts the text of the English
# pages into book/po/messages.pot (one message per paragraph, heading,
# list item, table cell, ...; includes are not expanded, so the code and
# the transcripts of real runs are not messages: they stay as they are),
# merges it into a copy of book/po/zh-CN.po, and fails, naming each
# message and where it is, when one has no translation or a fuzzy one,
# or when zh-CN.po translates text that no page has any more. So an
# English page cannot change without its Chinese counterpart.
#
# Usage:   bash book/scripts/check-translation.sh           # check only
#          bash book/scripts/check-translation.sh --update  # and update
#              book/po/zh-CN.po: new messages are added untranslated (or
#              fuzzy, with the translation of a similar old one: check it,
#              then delete the `#, fuzzy` line), gone ones are dropped
# Needs:   mdbook 0.5.4, mdbook-i18n-helpers 0.4.0, gettext (msgmerge)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
me=book/scripts/check-translation.sh
po=book/po/zh-CN.po
pot=book/po/messages.pot

update=false
case "${1:-}" in
    "") ;;
    --update) update=true ;;
    *) echo "usage: bash $me [--update]" >&2; exit 2 ;;
esac

for tool in mdbook-xgettext msgmerge msgattrib msgfmt; do
    if ! command -v "$tool" >/dev/null; then
        echo "$me: no $tool; install mdbook-i18n-helpers" \
            "(\`cargo install --locked mdbook-i18n-helpers --version 0.4.0\`)" \
            "and gettext (\`apt-get install gettext\`)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Only the xgettext renderer, and no preprocessor: the pages as written.
if ! NO_COLOR=1 MDBOOK_BUILD__USE_DEFAULT_PREPROCESSORS=false \
    MDBOOK_OUTPUT='{"xgettext": {}}' \
    "${MDBOOK:-mdbook}" build book -d "$tmp/pot" >"$tmp/log" 2>&1 ||
    grep -Eq '(^|[[:space:]])(WARN|ERROR)[[:space:]]' "$tmp/log"; then
    cat "$tmp/log"
    echo "$me: extracting the messages failed (above)" >&2
    exit 1
fi
cp "$tmp/pot/messages.pot" "$pot"

if [[ ! -f $po ]]; then
    echo "$me: no $po; start it with" \
        "\`msginit -i $pot -l zh_CN --no-translator -o $po\`" >&2
    exit 1
fi
msgfmt -o /dev/null "$po"
# mdbook-gettext 0.4.0 panics on a header without any of these.
header=$(awk '/^$/ { exit } { print }' "$po")
missing=()
for field in Project-Id-Version POT-Creation-Date PO-Revision-Date \
             Language-Team MIME-Version Content-Type \
             Content-Transfer-Encoding Language Plural-Forms; do
    grep -q "^\"$field: " <<<"$header" ||
        missing+=("$field")
done
if ((${#missing[@]} > 0)); then
    echo "$me: the header of $po (its first entry) lacks ${missing[*]}:" \
        "mdbook-gettext needs them all, as \`msginit\` writes them" >&2
    exit 1
fi

if $update; then
    msgmerge --quiet --previous "$po" "$pot" -o "$tmp/merged.po"
    msgattrib --no-obsolete "$tmp/merged.po" -o "$po"
    echo "$me: updated $po from $pot"
fi

# The check: exact matches only, so that a changed English text counts
# as untranslated even if an old translation is close.
msgmerge --quiet --no-fuzzy-matching "$po" "$pot" -o "$tmp/merged.po"
# Each problem as `src/page.md:LINE: what` and the English text.
list() {
    msgattrib --no-wrap "$@" 2>/dev/null | awk -v what="$what" '
        { sub(/^#~ /, "") }
        /^#: / { where = $2 }
        /^msgid "/ { text = substr($0, 8, length($0) - 8); reading = 1; next }
        /^"/ && reading { text = text substr($0, 2, length($0) - 2); next }
        /^msgstr / && reading {
            # The header (the empty msgid) is not a message of the pages.
            if (length(text) > 100) text = substr(text, 1, 97) "..."
            if (text != "")
                printf "  %s: %s\n      %s\n",
                    where == "" ? "zh-CN.po" : where, what, text
            where = ""
            reading = 0
        }'
}
problems=$(
    what=untranslated list --untranslated --no-obsolete "$tmp/merged.po"
    what=fuzzy list --only-fuzzy --no-obsolete "$tmp/merged.po"
    what="translated, but no page has this text any more" \
        list --only-obsolete --translated "$tmp/merged.po"
)
if [[ -n $problems ]]; then
    count=$(grep -c '^  [^ ]' <<<"$problems")
    {
        echo "$me: $po is not complete: $count problem(s):"
        echo "$problems"
        echo "Run \`bash $me --update\` to bring $po up to date with" \
            "the pages, translate each message listed (and delete its" \
            "\`#, fuzzy\` line once checked), then run \`bash $me\` again."
    } >&2
    exit 1
fi
total=$(grep -c '^msgid ' "$pot")
echo "$me: $po translates all $((total - 1)) messages of the pages"
