//! Helpers for the checks in `tests/` that keep the book honest: where
//! the book is, its pages, the `{{#include}}` directives and headings in
//! them, the anchors in the chapter sources, the messages of the Chinese
//! translation (`book/po/zh-CN.po`), and the normalisation that lets a
//! transcript of one run be compared with a transcript of another.
//!
//! Only the standard library: the checks must not depend on mdBook.

use std::path::{Path, PathBuf};

pub mod commands;

/// The workspace root (the directory that holds `book/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("book-check lives inside the workspace")
        .to_path_buf()
}

/// `book/src`: the pages, `SUMMARY.md` and `generated/`.
pub fn book_src() -> PathBuf {
    repo_root().join("book/src")
}

/// The chapters whose programs share the command-line contract, in
/// order: each page shows the diff from the one before.
pub const CHAPTERS: [&str; 6] = [
    "ch01-uts",
    "ch02-ipc",
    "ch03-pid",
    "ch04-mount",
    "ch05-user",
    "ch06-net",
];

/// The text of a file of the repository; a check cannot go on without
/// it.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `path` as a message shows it: relative to the workspace root.
pub fn shown(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every Markdown file under `dir`, sorted, at any depth.
pub fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    files_ending_in(dir, "md")
}

/// Every file under `dir` whose extension is `extension`, sorted, at
/// any depth.
pub fn files_ending_in(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("cannot read a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// One `{{#include path}}` or `{{#include path:anchor}}` in a page.
#[derive(Debug, PartialEq, Eq)]
pub struct Include {
    /// 1-based line of the page the directive is on.
    pub line: usize,
    /// The path as written, relative to the page's directory.
    pub path: String,
    /// What follows the path's first `:`: an anchor name or line numbers.
    pub selector: Option<String>,
}

impl Include {
    /// The anchor this directive selects, if it selects one by name
    /// (`path:12` and `path:3:9` select lines instead).
    pub fn anchor(&self) -> Option<&str> {
        self.selector
            .as_deref()
            .filter(|s| !s.chars().all(|c| c.is_ascii_digit() || c == ':'))
    }
}

/// The include-like directives of mdBook (`include`, `rustdoc_include`,
/// `playground`) in `text`, skipping escaped ones (`\{{#include ...}}`).
pub fn includes(text: &str) -> Vec<Include> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut rest = line;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            let escaped = line[..offset + start].ends_with('\\');
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            let inner = after[..end].trim_start();
            rest = &after[end + 2..];
            offset = line.len() - rest.len();
            if escaped {
                continue;
            }
            let Some(directive) = inner.strip_prefix('#') else {
                continue;
            };
            let mut words = directive.split_whitespace();
            let kind = words.next().unwrap_or("");
            if !matches!(kind, "include" | "rustdoc_include" | "playground") {
                continue;
            }
            let Some(target) = words.next() else { continue };
            let (path, selector) = match target.split_once(':') {
                Some((path, selector)) => (path, Some(selector.to_string())),
                None => (target, None),
            };
            found.push(Include {
                line: index + 1,
                path: path.to_string(),
                selector,
            });
        }
    }
    found
}

/// The name after `marker` (`ANCHOR:` or `ANCHOR_END:`) on `line`, read
/// the way mdBook reads it: optional spaces, then `[A-Za-z0-9_-]+`.
fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let at = line.find(marker)?;
    let rest = line[at + marker.len()..].trim_start();
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name` in `source`,
/// or `None` when the anchor does not start and end there. (mdBook
/// itself silently includes nothing for a missing anchor.)
pub fn anchored_lines<'a>(source: &'a str, name: &str) -> Option<Vec<&'a str>> {
    let mut lines = source.lines();
    lines
        .by_ref()
        .find(|l| anchor_name(l, "ANCHOR:") == Some(name))?;
    let mut region = Vec::new();
    for line in lines {
        if anchor_name(line, "ANCHOR_END:") == Some(name) {
            return Some(region);
        }
        if anchor_name(line, "ANCHOR:").is_none()
            && anchor_name(line, "ANCHOR_END:").is_none()
        {
            region.push(line);
        }
    }
    None
}

/// Every anchor name that `source` opens.
pub fn anchors(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| anchor_name(line, "ANCHOR:"))
        .collect()
}

/// The fenced code blocks of a page: (1-based line of the fence, info
/// string, body lines).
pub fn code_blocks(text: &str) -> Vec<(usize, String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String, String, Vec<String>)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                let fence: String = trimmed
                    .chars()
                    .take_while(|&c| c == '`' || c == '~')
                    .collect();
                if fence.len() >= 3
                    && fence.chars().all(|c| c == fence.as_bytes()[0] as char)
                {
                    let info = trimmed[fence.len()..].trim().to_string();
                    open = Some((index + 1, fence, info, Vec::new()));
                }
            }
            Some((start, fence, info, body)) => {
                if trimmed.starts_with(fence.as_str())
                    && trimmed[fence.len()..].trim().is_empty()
                {
                    blocks.push((
                        *start,
                        std::mem::take(info),
                        std::mem::take(body),
                    ));
                    open = None;
                } else {
                    body.push(line.to_string());
                }
            }
        }
    }
    blocks
}

/// The width of the terminals that record the transcripts, in columns
/// (`columns=` in `book/scripts/gen-transcripts.sh`): a transcript
/// line wider than this is stored cut into rows of exactly this many
/// characters, as the terminal showed it. mdBook's default theme has
/// room for 86 columns of code (a 730 px column of 14 px Source Code
/// Pro); 80 is a terminal's usual width.
pub const TRANSCRIPT_COLUMNS: usize = 80;

/// The stored transcript `rows` (lines cut at `columns` characters)
/// normalised line by line, with each cut line joined again, to compare
/// with `fresh`: the normalised lines of a run that were not cut. A row
/// exactly `columns` wide is either the first part of a cut line or a
/// whole line that happens to be that wide; it is joined with the rows
/// after it only until it reads as the line `fresh` has in its place
/// (or, past the end of `fresh`, as long as it is that wide).
pub fn rejoin(
    rows: &str,
    hostname: &str,
    columns: usize,
    fresh: &[String],
) -> Vec<String> {
    let one = |line: &str| normalise(line, hostname).pop().unwrap_or_default();
    let rows: Vec<&str> = rows.lines().collect();
    let mut lines: Vec<String> = Vec::new();
    let mut next = 0;
    while next < rows.len() {
        let mut line = rows[next].to_string();
        let mut last = rows[next];
        next += 1;
        let want = fresh.get(lines.len());
        while last.chars().count() == columns
            && next < rows.len()
            && want.is_none_or(|want| one(&line) != *want)
        {
            line.push_str(rows[next]);
            last = rows[next];
            next += 1;
        }
        lines.push(one(&line));
    }
    lines
}

/// A heading of a page, outside its code blocks.
#[derive(Debug, PartialEq, Eq)]
pub struct Heading {
    /// 1-based line of the heading (of its text, for a setext heading).
    pub line: usize,
    /// The heading's text, without its `#`s and its `{#id}`.
    pub text: String,
    /// The id written after it, `## Try it {#try-it}`, if any. (Setext
    /// headings, underlined with `===` or `---`, never have one here.)
    pub id: Option<String>,
}

/// The headings of a page, in order: ATX (`## Title`) and setext.
pub fn headings(text: &str) -> Vec<Heading> {
    let lines: Vec<&str> = text.lines().collect();
    let mut in_code = vec![false; lines.len()];
    for (start, _, body) in code_blocks(text) {
        // The opening fence, the body and the closing fence.
        for flag in in_code.iter_mut().skip(start - 1).take(body.len() + 2) {
            *flag = true;
        }
    }
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if in_code[index] || line.starts_with("    ") {
            continue;
        }
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        let rest = &trimmed[hashes..];
        if (1..=6).contains(&hashes)
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
        {
            let rest = rest.trim();
            let (text, id) = match rest.strip_suffix('}').and_then(|r| {
                let (text, attrs) = r.rsplit_once('{')?;
                let id = attrs
                    .split_whitespace()
                    .find_map(|a| a.strip_prefix('#'))?;
                Some((text.trim_end(), id))
            }) {
                Some((text, id)) => (text, Some(id.to_string())),
                None => (rest, None),
            };
            found.push(Heading {
                line: index + 1,
                text: text.to_string(),
                id,
            });
            continue;
        }
        // Setext: a line of `=` or `-` under a line of text.
        let underline = trimmed.trim_end();
        let is_underline = !underline.is_empty()
            && (underline.chars().all(|c| c == '=')
                || (underline.len() >= 2
                    && underline.chars().all(|c| c == '-')));
        let above = index.checked_sub(1).map(|i| (i, lines[i].trim()));
        if let Some((above_index, above)) = above
            && is_underline
            && !in_code[above_index]
            && !above.is_empty()
            && !above.starts_with(['#', '|', '-', '*', '<'])
        {
            found.push(Heading {
                line: above_index + 1,
                text: above.to_string(),
                id: None,
            });
        }
    }
    found
}

/// The id mdBook 0.5 makes of a heading's text (its `id_from_content`,
/// applied to the Markdown: close enough for code spans and plain
/// words, which is what the book's headings are).
pub fn heading_id(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// One message of a gettext PO file: a paragraph, heading, list item
/// ... of the English pages and its translation.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// 1-based line of the message's `msgid` in the PO file.
    pub line: usize,
    /// Where the text is in the pages (`src/ch01-uts.md:5`), from `#:`.
    pub references: Vec<String>,
    pub msgid: String,
    /// The translation; empty while there is none.
    pub msgstr: String,
    /// Marked `#, fuzzy`: a guess, not a translation yet.
    pub fuzzy: bool,
    /// Commented out (`#~`): text that no page has any more.
    pub obsolete: bool,
}

/// The messages of a PO file, its header (the empty msgid) included.
pub fn po_messages(text: &str) -> Vec<Message> {
    #[derive(PartialEq)]
    enum Field {
        None,
        Id,
        Str,
        Other,
    }
    let mut messages = Vec::new();
    let mut message = Message::default();
    let mut field = Field::None;
    let mut started = false;
    for (index, line) in text.lines().chain([""]).enumerate() {
        let (obsolete, line) = match line.strip_prefix("#~") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, line.trim()),
        };
        if line.is_empty() {
            if started {
                messages.push(std::mem::take(&mut message));
            }
            started = false;
            field = Field::None;
            continue;
        }
        if let Some(references) = line.strip_prefix("#:") {
            message
                .references
                .extend(references.split_whitespace().map(str::to_string));
        } else if let Some(flags) = line.strip_prefix("#,") {
            message.fuzzy |= flags.split(',').any(|f| f.trim() == "fuzzy");
        } else if line.starts_with('#') {
            // A comment, or `#|` (the previous msgid of a fuzzy one).
        } else {
            started = true;
            message.obsolete |= obsolete;
            let (keyword, quoted) = match line.split_once(' ') {
                Some((keyword, quoted)) if !line.starts_with('"') => {
                    (keyword, quoted)
                }
                _ => ("", line),
            };
            match keyword {
                "msgid" => {
                    field = Field::Id;
                    message.line = index + 1;
                }
                "msgstr" => field = Field::Str,
                "" => {}
                _ => field = Field::Other,
            }
            let value = unquote(quoted);
            match field {
                Field::Id => message.msgid.push_str(&value),
                Field::Str => message.msgstr.push_str(&value),
                Field::None | Field::Other => {}
            }
        }
    }
    messages
}

/// A PO string's text: without its quotes, escapes resolved.
fn unquote(quoted: &str) -> String {
    let inner = quoted
        .trim()
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(quoted);
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Turns a transcript into what must stay the same from run to run: the
/// machine's hostname becomes `HOSTNAME`, large or compound numbers
/// (PIDs of the host, inode numbers, times, addresses, durations) become
/// `N`, terminal names `pts/N`, IPC keys `0xN`, a veth's peer `@ifN`, and runs of blanks one
/// space (columns widen with their values). Small numbers stay: `echo $$`
/// printing `1` is the point of a chapter, and so is `uid=0(root)`.
pub fn normalise(transcript: &str, hostname: &str) -> Vec<String> {
    transcript
        .lines()
        .map(|line| {
            let line = replace_word(line, hostname, "HOSTNAME");
            let line = replace_after(&line, "pts/", |c| c.is_ascii_digit());
            let line = replace_after(&line, "0x", |c| c.is_ascii_hexdigit());
            // A veth end names its peer's index: `eth0@if17`.
            let line = replace_after(&line, "@if", |c| c.is_ascii_digit());
            // Mount peer groups are numbered by the kernel as they come.
            let line = ["shared:", "master:", "propagate_from:"].iter().fold(
                line,
                |line, field| {
                    replace_after(&line, field, |c| c.is_ascii_digit())
                },
            );
            // IPC ids are small numbers that grow with every queue.
            let volatile = ["Message queue id", "ipcrm", "msqid", "0xN"]
                .iter()
                .any(|marker| line.contains(marker));
            let line = if volatile {
                replace_all_digits(&line)
            } else {
                replace_numbers(&line)
            };
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// `word` replaced by `with` where it stands alone (not inside a longer
/// name such as `vmstat` for the hostname `vm`).
fn replace_word(line: &str, word: &str, with: &str) -> String {
    if word.is_empty() {
        return line.to_string();
    }
    let is_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(word) {
        out.push_str(&rest[..at]);
        let before = out.chars().last();
        let after = rest[at + word.len()..].chars().next();
        if before.is_some_and(is_name) || after.is_some_and(is_name) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Replaces what follows each `prefix` while `keep(c)` holds with `N`.
fn replace_after(
    line: &str,
    prefix: &str,
    keep: impl Fn(char) -> bool,
) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at + prefix.len()]);
        rest = &rest[at + prefix.len()..];
        let len = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        if len > 0 {
            out.push('N');
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    out
}

fn replace_all_digits(line: &str) -> String {
    let mut out = String::new();
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('N') {
                out.push('N');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Numbers made of digits, `.` and `:` become `N`, unless they are one
/// or two plain digits.
fn replace_numbers(line: &str) -> String {
    let is_part = |c: char| c.is_ascii_digit() || c == '.' || c == ':';
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.chars().any(|c| c.is_ascii_digit()) {
            let core = token.trim_matches(['.', ':']);
            let small =
                core.len() <= 2 && core.chars().all(|c| c.is_ascii_digit());
            if !small {
                let lead =
                    token.len() - token.trim_start_matches(['.', ':']).len();
                let trail =
                    token.len() - token.trim_end_matches(['.', ':']).len();
                *token = format!(
                    "{}N{}",
                    &token[..lead],
                    &token[token.len() - trail..]
                );
            }
        }
        out.push_str(token);
        token.clear();
    };
    for c in line.chars() {
        if is_part(c) {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_includes_with_and_without_anchors() {
        let page = "a {{#include ../x.rs:flags}}\n\\{{#include y}}\n\
                    ```diff\n{{ #include generated/ch02.diff }}\n```";
        let found = includes(page);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].path, "../x.rs");
        assert_eq!(found[0].anchor(), Some("flags"));
        assert_eq!(found[1].line, 4);
        assert_eq!(found[1].path, "generated/ch02.diff");
        assert_eq!(found[1].anchor(), None);
    }

    #[test]
    fn line_ranges_are_not_anchors() {
        let found = includes("{{#include a.rs:3:9}}");
        assert_eq!(found[0].anchor(), None);
    }

    #[test]
    fn anchored_lines_need_a_start_and_an_end() {
        let source = "x\n// ANCHOR: a\none\n// ANCHOR: b\ntwo\n// ANCHOR_END: b\n\
                      // ANCHOR_END: a\n// ANCHOR: open\n";
        assert_eq!(anchored_lines(source, "a"), Some(vec!["one", "two"]));
        assert_eq!(anchored_lines(source, "b"), Some(vec!["two"]));
        assert_eq!(anchored_lines(source, "open"), None);
        assert_eq!(anchored_lines(source, "missing"), None);
        // `flags_x` is not `flags`.
        assert_eq!(
            anchored_lines(
                "// ANCHOR: flags_x\n// ANCHOR_END: flags_x",
                "flags"
            ),
            None
        );
        assert_eq!(anchors(source), ["a", "b", "open"]);
    }

    #[test]
    fn code_blocks_are_found_with_their_info_string() {
        let page = "text\n```rust,ignore\n{{#include a.rs:x}}\n```\n\n````text\n```\n````\n";
        let blocks = code_blocks(page);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].0, 2);
        assert_eq!(blocks[0].1, "rust,ignore");
        assert_eq!(blocks[0].2, ["{{#include a.rs:x}}"]);
        assert_eq!(blocks[1].2, ["```"]);
    }

    #[test]
    fn rejoin_joins_the_rows_of_a_cut_line_and_only_those() {
        // Stored at 10 columns: a line of 14 cut after 10, a whole line
        // of exactly 10, and a line cut in the middle of a PID.
        let stored = "host# echo\n one\n0123456789\nPID 123456\n78 up\n";
        // A run whose PID was shorter, so that nothing was cut there.
        let fresh = normalise("host# echo one\n0123456789\nPID 999 up\n", "vm");
        assert_eq!(
            rejoin(stored, "vm", 10, &fresh),
            ["host# echo one", "N", "PID N up"]
        );
        // A real difference still shows.
        let other = normalise("host# echo one\n0123456789\nPID 9 up\n", "vm");
        assert_ne!(rejoin(stored, "vm", 10, &other), other);
        // Without lines to go by, every row of 10 is joined.
        assert_eq!(rejoin("0123456789\nx\n", "vm", 10, &[]), ["Nx"]);
    }

    #[test]
    fn headings_outside_code_with_their_ids() {
        let page = "# Title {#title}\n\n```console\n# a root prompt\n```\n\
                    ## `--init`: PID 1 {#--init-pid-1}\n### Try it\n\
                    #hashtag\n    # indented code\n\nSetext\n------\n\n---\n";
        let found = headings(page);
        let ids: Vec<_> = found.iter().map(|h| h.id.as_deref()).collect();
        let texts: Vec<_> = found.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(texts, ["Title", "`--init`: PID 1", "Try it", "Setext"]);
        assert_eq!(ids, [Some("title"), Some("--init-pid-1"), None, None]);
        assert_eq!(found[2].line, 7);
        assert_eq!(found[3].line, 11);
    }

    #[test]
    fn heading_ids_as_mdbook_makes_them() {
        assert_eq!(
            heading_id("`--map-root`: root inside is you outside"),
            "--map-root-root-inside-is-you-outside"
        );
        assert_eq!(
            heading_id("Repairing a host's /proc"),
            "repairing-a-hosts-proc"
        );
        assert_eq!(
            heading_id("`tree`: asking with `ioctl_ns`"),
            "tree-asking-with-ioctl_ns"
        );
    }

    #[test]
    fn po_messages_with_flags_references_and_escapes() {
        let po = "msgid \"\"\nmsgstr \"\"\n\"Language: zh_CN\\n\"\n\n\
                  #: src/a.md:1 src/b.md:2\nmsgid \"Try it\"\nmsgstr \"动手试试\"\n\n\
                  #, fuzzy\n#| msgid \"Old\"\nmsgid \"\"\n\"Two \\\"lines\\\"\\n\"\n\"more\"\n\
                  msgstr \"两行\"\n\n#~ msgid \"Gone\"\n#~ msgstr \"\"\n";
        let found = po_messages(po);
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0].msgid, "");
        assert_eq!(found[0].msgstr, "Language: zh_CN\n");
        assert_eq!(found[1].references, ["src/a.md:1", "src/b.md:2"]);
        assert_eq!((found[1].line, found[1].msgstr.as_str()), (6, "动手试试"));
        assert!(!found[1].fuzzy && found[2].fuzzy);
        assert_eq!(found[2].msgid, "Two \"lines\"\nmore");
        assert!(found[3].obsolete && !found[2].obsolete);
        assert_eq!(
            (found[3].msgid.as_str(), found[3].msgstr.as_str()),
            ("Gone", "")
        );
    }

    #[test]
    fn normalise_keeps_small_numbers_and_hides_volatile_ones() {
        let run1 = "root@vm:~# echo $$\n1\nuts:[4026532177]\n\
                    root  1  0  0 05:53 pts/0  00:00:00 bash\n\
                    64 bytes: icmp_seq=1 ttl=64 time=0.142 ms\n\
                    Message queue id: 2\n0x4911c534 2 root 644\nvmstat uid=65534(nobody)\n\
                    host# ipcs -q | grep -w -e msqid -e 2";
        let run2 = "root@box:~# echo $$\n1\nuts:[4026532999]\n\
                    root    1    0  0 06:01 pts/12 00:00:00 bash\n\
                    64 bytes: icmp_seq=1 ttl=64 time=0.07 ms\n\
                    Message queue id: 32768\n0x1a2b3c4d 32768 root 644\nvmstat uid=65534(nobody)\n\
                    host# ipcs -q | grep -w -e msqid -e 32768";
        let a = normalise(run1, "vm");
        assert_eq!(a, normalise(run2, "box"));
        assert_eq!(a[0], "root@HOSTNAME:~# echo $$");
        assert_eq!(a[1], "1");
        assert_eq!(a[7], "vmstat uid=N(nobody)");
        // Peer group numbers are the kernel's to choose.
        assert_eq!(
            normalise("/mnt master:7 shared:12 propagate_from:3", "vm"),
            normalise("/mnt master:1 shared:9 propagate_from:41", "vm")
        );
        // A PID that changes from 1 to 7 is a difference.
        assert_ne!(normalise("1", "vm"), normalise("7", "vm"));
        assert_ne!(
            normalise("uid=0(root)", "vm"),
            normalise("uid=65534(nobody)", "vm")
        );
    }
}
